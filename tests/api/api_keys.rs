use crate::helpers::{RawBody, TestApp};
use crate::receiver::{Behavior, Receiver};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_api_key_is_shown_once_authenticates_and_stops_working_when_revoked() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let created = owner.post("/api/v1/api-keys", json!({ "name": "Telephony" })).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let created = created.json();
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("vk_") && key.len() == 67, "{key}");

    // Only a hash is stored.
    let stored: String = sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE id = $1")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!stored.contains(&key[3..]));

    let by_key = owner.with_bearer(&key);
    let agent = by_key.create_agent("Made with a key").await;
    let listed = owner.get("/api/v1/agents").await.json();
    assert_eq!(listed["agents"][0]["id"], agent.as_str());

    let keys = owner.get("/api/v1/api-keys").await;
    assert!(!keys.body.contains(&key), "the key is never listed");
    assert_eq!(keys.json()["api_keys"][0]["name"], "Telephony");
    assert!(keys.json()["api_keys"][0]["last_used_at"].is_string());

    assert_eq!(
        owner.delete(&format!("/api/v1/api-keys/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let res = by_key.get("/api/v1/agents").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.error_code(),
        "invalid_api_key",
        "a revoked key is told apart from no key: {}",
        res.body
    );
    assert_eq!(owner.delete(&format!("/api/v1/api-keys/{id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unknown_or_malformed_key_is_401() {
    let app = TestApp::spawn().await;
    let api = app.client();
    for key in ["vk_0000", "nonsense", ""] {
        let res = api.with_bearer(key).get("/api/v1/agents").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(res.error_code(), "invalid_api_key", "{key:?}: {}", res.body);
        assert!(
            res.json()["error"]["message"].as_str().unwrap().contains("API keys"),
            "{}",
            res.body
        );
    }
}

#[tokio::test]
async fn another_owner_cannot_revoke_my_key() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.user().await, app.user().await);
    let id = alice.post("/api/v1/api-keys", json!({ "name": "CI" })).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(bob.delete(&format!("/api/v1/api-keys/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(alice.get("/api/v1/api-keys").await.json()["api_keys"].as_array().unwrap().len(), 1);
}

/// The intake takes a key it read as valid within the last minute on its word, and the call's
/// insert checks it again: a key revoked through another instance stores nothing here, sends
/// nothing, counts no quota, and is a 401 whatever else the request gets wrong.
#[tokio::test]
async fn a_key_revoked_through_another_instance_is_refused_by_the_intake_of_this_one() {
    let insecure = |s: &mut voicy::config::Settings| s.allow_insecure_webhooks = true;
    let first = TestApp::spawn_with(insecure).await;
    let second = TestApp::spawn_in(first.db.clone(), insecure).await;
    let receiver = Receiver::http(Behavior::default()).await;
    let (owner, stranger) = (first.user().await, first.user().await);
    let agent = owner.create_agent("Front desk").await;
    let hook =
        json!({ "name": "CRM", "url": receiver.url, "secret": "whsec_intake_check_0123456789" });
    assert_eq!(owner.add_webhook(&agent, hook).await.status, StatusCode::CREATED);
    let deployed = owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    assert!(deployed.status.is_success(), "{}", deployed.body);
    let strangers_agent = stranger.create_agent("Not yours").await;
    let call = |agent: &str, kind: &str| {
        json!({ "agent_id": agent, "type": kind, "started_at": "2026-11-27T09:00:00Z",
                "ended_at": "2026-11-27T09:01:30Z", "transcript": [] })
    };
    let count = |sql: &'static str| {
        let pool = first.pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    let calls = "SELECT COUNT(*) FROM calls";
    let quota_hits = "SELECT CAST(COALESCE(SUM(hits), 0) AS BIGINT) FROM rate_counters";
    let cases = [
        ("a phone call", RawBody::Json(call(&agent, "phone"))),
        ("a web call", RawBody::Json(call(&agent, "web"))),
        (
            "a call that fails validation",
            RawBody::Json(json!({ "agent_id": agent, "type": "phone" })),
        ),
        ("malformed JSON", RawBody::Text("{\"agent_id\":".to_owned())),
        ("someone else's agent", RawBody::Json(call(&strangers_agent, "phone"))),
    ];
    let mut sent = 0;
    for (case, body) in cases {
        let created = owner.post("/api/v1/api-keys", json!({ "name": case })).await.json();
        let key = created["key"].as_str().unwrap();
        let on_second = owner.against(&second).with_bearer(key);
        // Read on its first call, taken on the second instance's word on the next; both sent.
        on_second.post_call(&agent, "phone").await;
        on_second.post_call(&agent, "phone").await;
        sent += 2;
        assert_eq!(receiver.wait_for(sent).await.len(), sent, "{case}");
        let revoked =
            owner.delete(&format!("/api/v1/api-keys/{}", created["id"].as_str().unwrap())).await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT);
        let before = (count(calls).await, count(quota_hits).await);

        let res = on_second.send(reqwest::Method::POST, "/api/v1/calls", Some(body)).await;
        assert_eq!(
            (res.status, res.error_code()),
            (StatusCode::UNAUTHORIZED, "invalid_api_key".to_owned()),
            "{case}: {}",
            res.body
        );
        assert_eq!(
            (count(calls).await, count(quota_hits).await),
            before,
            "{case}: nothing stored, no quota counted"
        );
        // Forgotten: read again, and refused, on the next call.
        let res = on_second.post("/api/v1/calls", call(&agent, "phone")).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{case}: {}", res.body);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().await.len(), sent, "nothing sent for a revoked key");
}
