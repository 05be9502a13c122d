//! Server-rendered pages carry owner text (an agent's name) into places Leptos does not escape by
//! itself, such as the `<title>`: none of it may come out as markup.

use crate::helpers::TestApp;

const HOSTILE: &str = "</title><script>alert(1)</script>";

#[tokio::test]
async fn an_agent_named_with_markup_is_escaped_on_every_page_that_shows_it() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent(HOSTILE).await;
    let call = owner.post_call(&agent, "web").await;
    for path in [
        "/agents".to_owned(),
        format!("/agents/{agent}"),
        format!("/agents/{agent}/settings"),
        format!("/agents/{agent}/calls/{call}"),
    ] {
        let page = owner.get(&path).await;
        assert!(page.status.is_success(), "{path}: {}", page.status);
        assert!(!page.body.contains("<script>alert(1)</script>"), "{path} renders the name as markup");
        assert_eq!(page.body.matches("<title>").count(), 1, "{path}: one title");
    }
    let overview = owner.get(&format!("/agents/{agent}")).await.body;
    assert!(overview.contains("<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; · Voicy</title>"), "{overview}");
}
