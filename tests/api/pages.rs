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
        assert!(
            !page.body.contains("<script>alert(1)</script>"),
            "{path} renders the name as markup"
        );
        assert_eq!(page.body.matches("<title>").count(), 1, "{path}: one title");
    }
    let overview = owner.get(&format!("/agents/{agent}")).await.body;
    assert!(
        overview
            .contains("<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; · Voicy</title>"),
        "{overview}"
    );
}

#[tokio::test]
async fn pages_and_the_api_forbid_framing_and_sniffing() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    for path in ["/agents", "/api/v1/agents", "/signin"] {
        let res = owner.get(path).await;
        assert_eq!(res.headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(res.headers["x-content-type-options"], "nosniff", "{path}");
        assert!(
            res.headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(res.headers.contains_key("referrer-policy"), "{path}");
        assert!(
            !res.headers.contains_key("strict-transport-security"),
            "no HSTS over plain HTTP: {path}"
        );
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_not_400() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Big").await;
    let text = "x".repeat(3 * 1024 * 1024);
    let body = format!(
        r#"{{"agent_id":"{agent}","type":"web","started_at":"2026-11-27T09:00:00Z","ended_at":"2026-11-27T09:01:00Z","transcript":[{{"role":"user","text":"{text}"}}]}}"#
    );
    let res = owner
        .send(reqwest::Method::POST, "/api/v1/calls", Some(crate::helpers::RawBody::Text(body)))
        .await;
    assert_eq!(res.status, reqwest::StatusCode::PAYLOAD_TOO_LARGE, "{}", res.body);
    assert_eq!(res.error_code(), "payload_too_large");
}

#[tokio::test]
async fn state_changing_requests_from_another_site_are_refused_before_any_work() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let http = reqwest::Client::new();
    let evil = |req: reqwest::RequestBuilder| {
        req.header("Origin", "https://evil.example").header("content-type", "application/json")
    };
    // A forged sign-in (login CSRF needs no cookie), a cookie-authenticated REST POST and a
    // server-function form post: all 403, nothing created.
    let signin = evil(http.post(format!("{}/api/v1/auth/login", app.base)))
        .body(r#"{"email":"a@example.com","password":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(signin.status(), reqwest::StatusCode::FORBIDDEN);
    let res = owner
        .send_with(
            reqwest::Method::POST,
            "/api/v1/agents",
            &[("Origin", "https://evil.example")],
            r#"{"name":"Forged"}"#,
        )
        .await;
    assert_eq!(res.status, reqwest::StatusCode::FORBIDDEN, "{}", res.body);
    assert_eq!(res.error_code(), "cross_site_request");
    let res = owner
        .send_with(
            reqwest::Method::POST,
            "/api/v1/agents",
            &[("Referer", "https://evil.example/page")],
            r#"{"name":"Forged"}"#,
        )
        .await;
    assert_eq!(res.status, reqwest::StatusCode::FORBIDDEN);
    assert_eq!(
        owner.get("/api/v1/agents").await.json()["agents"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );

    // The site's own pages, and API keys from anywhere, still work.
    let own = app.base.clone();
    let res = owner
        .send_with(
            reqwest::Method::POST,
            "/api/v1/agents",
            &[("Origin", own.as_str())],
            r#"{"name":"Mine"}"#,
        )
        .await;
    assert_eq!(res.status, reqwest::StatusCode::CREATED, "{}", res.body);
    let key =
        owner.post("/api/v1/api-keys", serde_json::json!({ "name": "k" })).await.json()["key"]
            .as_str()
            .unwrap()
            .to_owned();
    let keyed = evil(http.post(format!("{}/api/v1/agents", app.base)))
        .bearer_auth(key)
        .body(r#"{"name":"By key"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(keyed.status(), reqwest::StatusCode::CREATED);
}

#[tokio::test]
async fn a_receivers_answer_with_markup_is_shown_as_text_on_the_call_page() {
    use crate::receiver::{Behavior, Receiver};
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let hostile = "</script><script>alert(2)</script><img src=x onerror=alert(3)>";
    let receiver =
        Receiver::http(Behavior { status: 500, body: hostile.into(), ..Behavior::default() }).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Echo").await;
    owner.add_webhook(&agent, serde_json::json!({ "name": "Echo", "url": receiver.url })).await;
    let call = owner.post_call(&agent, "web").await;
    owner.settled(&call).await;
    let page = owner.get(&format!("/agents/{agent}/calls/{call}")).await.body;
    assert!(page.contains("alert(2)"), "the answer is on the page");
    assert!(
        !page.contains("<script>alert(2)") && !page.contains("<img src=x"),
        "rendered as markup"
    );
    assert_eq!(
        page.matches("</script>").count(),
        page.matches("<script").count(),
        "a script element was closed early"
    );
}

#[tokio::test]
async fn a_page_runs_only_the_scripts_carrying_its_own_nonce() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let first = owner.get("/agents").await;
    let policy = first.headers["content-security-policy"].to_str().unwrap().to_owned();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a script nonce")
        .to_owned();
    let script_src =
        policy.split(';').find(|d| d.trim().starts_with("script-src")).expect("script-src");
    assert!(!script_src.contains("unsafe-inline"), "{policy}");
    // Every script element of the page carries it; the next page gets another.
    let scripts = first.body.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        first.body.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "{}",
        first.body
    );
    let second = owner.get("/agents").await;
    assert!(!second.headers["content-security-policy"].to_str().unwrap().contains(&nonce));
    // The not-found page is a page too.
    let missing = owner.get("/no/such/page").await;
    assert_eq!(missing.status, reqwest::StatusCode::NOT_FOUND);
    assert!(missing.headers["content-security-policy"].to_str().unwrap().contains("'nonce-"));
    // The API keeps the base policy.
    let api = owner.get("/api/v1/agents").await;
    assert!(!api.headers["content-security-policy"].to_str().unwrap().contains("nonce"));
}

/// Starting an instance generates Leptos' route list, which stops every resource in the process
/// from loading while it runs (a process-wide switch in Leptos): a page rendered at that moment
/// used to wait forever. Instances started beside pages being served must not stall them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_instances_start_in_the_same_process() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Steady").await;
    let db = app.db.clone();
    let restarts = tokio::spawn(async move {
        for _ in 0..40 {
            drop(TestApp::spawn_in(db.clone(), |_| {}).await);
        }
    });
    let path = format!("/agents/{agent}/settings");
    let pages = futures::future::join_all((0..400).map(|_| owner.get(&path))).await;
    restarts.await.unwrap();
    for page in pages {
        assert!(page.status.is_success(), "{path}: {}", page.status);
    }
}
