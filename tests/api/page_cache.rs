//! Pages kept to be served again (`voicy::page_cache`): never older than the data, never another
//! owner's, never with another response's nonce.

use crate::helpers::{Api, TestApp};
use crate::receiver::{Behavior, Receiver};
use reqwest::StatusCode;
use serde_json::json;

/// The page with its nonce (different in every response) taken out, and the data it carries for
/// the browser readable as JSON: the Webhooks section starts closed and is built in the browser
/// when it is opened, so what it will show is in that data, not yet in the markup.
async fn page(owner: &Api, path: &str) -> String {
    let res = owner.get(path).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.body);
    let policy = res.headers["content-security-policy"].to_str().unwrap();
    let nonce =
        policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce");
    assert_eq!(
        res.body.matches(&format!("nonce=\"{nonce}\"")).count(),
        res.body.matches("<script").count(),
        "{path}: every script carries this response's nonce"
    );
    res.body.replace(nonce, "NONCE").replace("\\\"", "\"")
}

#[tokio::test]
async fn a_kept_page_shows_every_change_at_once() {
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let receiver = Receiver::http(Behavior::default()).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Kept").await;
    let hook = owner
        .add_webhook(&agent, json!({ "name": "First name", "url": receiver.url }))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let settings = format!("/agents/{agent}/settings");
    let overview = format!("/agents/{agent}");

    for _ in 0..3 {
        assert!(page(&owner, &settings).await.contains("First name"));
    }

    // A change through the REST API.
    let renamed = owner
        .patch(&format!("/api/v1/agents/{agent}/webhooks/{hook}"), json!({ "name": "Second name" }))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let second = page(&owner, &settings).await;
    assert!(second.contains("Second name") && !second.contains("First name"), "{second}");

    // A deploy, and the post-call settings changed.
    let deployed = owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    assert!(deployed.status.is_success(), "{}", deployed.body);
    let processing = owner
        .send_with(
            reqwest::Method::PUT,
            &format!("/api/v1/agents/{agent}/processing"),
            &[("content-type", "application/json")],
            &json!({ "variables": [], "notification_emails": ["ops@example.com"] }).to_string(),
        )
        .await;
    assert_eq!(processing.status, StatusCode::OK, "{}", processing.body);
    let third = page(&owner, &settings).await;
    assert!(
        third.contains(r#""deployed":{"version":1,"#) && third.contains("ops@example.com"),
        "{third}"
    );

    // The dispatcher's writes: a call's delivery shows in the health of the overview.
    let before = page(&owner, &overview).await;
    let call = owner.post_call(&agent, "phone").await;
    assert_eq!(owner.settled(&call).await["event"]["state"], "sent");
    let after = page(&owner, &overview).await;
    assert_ne!(before, after);
    assert!(after.contains("100%"), "{after}");
    // And on the Settings page: the webhook's health line and its latest delivery.
    let settings_now = page(&owner, &settings).await;
    assert!(
        settings_now.contains(r#""deliveries":1,"succeeded":1,"success_rate":100,"#),
        "{settings_now}"
    );
    assert!(
        settings_now.contains(r#""recent_deliveries":[{"#)
            && !third.contains(r#""recent_deliveries":[{"#),
        "{settings_now}"
    );
}

#[tokio::test]
async fn a_kept_page_is_never_sent_to_another_owner_or_to_nobody() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Private agent").await;
    let settings = format!("/agents/{agent}/settings");
    for _ in 0..2 {
        assert!(page(&owner, &settings).await.contains("Private agent"));
    }
    let other = app.user().await.get(&settings).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert!(!other.body.contains("Private agent"));
    let nobody = app.client().get(&settings).await;
    assert!(!nobody.body.contains("Private agent"), "{}", nobody.status);
    // Signed out, the same browser no longer gets it either; nor another person signing in on it.
    assert_eq!(owner.post("/api/v1/auth/logout", json!({})).await.status, StatusCode::NO_CONTENT);
    assert!(!owner.get(&settings).await.body.contains("Private agent"));
    let email = format!("next-{}@example.com", uuid::Uuid::new_v4());
    let signup = owner
        .post("/api/v1/auth/signup", json!({ "email": email, "password": "correct horse battery" }))
        .await;
    assert_eq!(signup.status, StatusCode::CREATED, "{}", signup.body);
    let next_person = owner.get(&settings).await;
    assert_eq!(next_person.status, StatusCode::NOT_FOUND);
    assert!(!next_person.body.contains("Private agent"));
}

#[tokio::test]
async fn a_change_made_through_another_instance_shows_at_once() {
    let one = TestApp::spawn().await;
    let two = TestApp::spawn_in(one.db.clone(), |_| {}).await;
    let owner = one.user().await;
    let agent = owner.create_agent("Shared").await;
    let settings = format!("/agents/{agent}/settings");
    assert!(page(&owner, &settings).await.contains("0/5"));
    let added = owner
        .against(&two)
        .add_webhook(
            &agent,
            json!({ "name": "Added elsewhere", "url": "https://example.com/hook" }),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let now = page(&owner, &settings).await;
    assert!(now.contains("Added elsewhere") && now.contains("1/5"), "{now}");
}

#[tokio::test]
async fn with_keeping_turned_off_pages_are_rendered_each_time() {
    let app = TestApp::spawn_with(|s| s.page_cache_bytes = 0).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Unkept").await;
    let settings = format!("/agents/{agent}/settings");
    assert!(page(&owner, &settings).await.contains("0/5"));
    assert_eq!(
        owner
            .add_webhook(&agent, json!({ "name": "Hook", "url": "https://example.com/h" }))
            .await
            .status,
        StatusCode::CREATED
    );
    assert!(page(&owner, &settings).await.contains("1/5"));
}
