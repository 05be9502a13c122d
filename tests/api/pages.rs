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

#[tokio::test]
async fn pages_and_the_api_forbid_framing_and_sniffing() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    for path in ["/agents", "/api/v1/agents", "/signin"] {
        let res = owner.get(path).await;
        assert_eq!(res.headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(res.headers["x-content-type-options"], "nosniff", "{path}");
        assert!(res.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
        assert!(res.headers.contains_key("referrer-policy"), "{path}");
        assert!(!res.headers.contains_key("strict-transport-security"), "no HSTS over plain HTTP: {path}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_not_400() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Big").await;
    let text = "x".repeat(3 * 1024 * 1024);
    let body = format!(r#"{{"agent_id":"{agent}","type":"web","started_at":"2026-11-27T09:00:00Z","ended_at":"2026-11-27T09:01:00Z","transcript":[{{"role":"user","text":"{text}"}}]}}"#);
    let res = owner.send(reqwest::Method::POST, "/api/v1/calls", Some(crate::helpers::RawBody::Text(body))).await;
    assert_eq!(res.status, reqwest::StatusCode::PAYLOAD_TOO_LARGE, "{}", res.body);
    assert_eq!(res.error_code(), "payload_too_large");
}
