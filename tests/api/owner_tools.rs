//! The owner's tools, against real receivers: a test send to one webhook, a redelivery of a past
//! delivery, Standard Webhooks signatures, and endpoint health.

use crate::dispatch::hmac_hex;
use crate::helpers::{Api, TestApp, secret};
use crate::receiver::{Behavior, Receiver};
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

async fn dev_app() -> TestApp {
    TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await
}

async fn add(owner: &Api, agent: &str, body: Value) -> String {
    let res = owner.add_webhook(agent, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.json()["id"].as_str().unwrap().to_owned()
}

/// An owner with agent `agent_name` and one draft webhook, "CRM", to `receiver`: (owner, agent id,
/// webhook id).
async fn one_webhook(
    app: &TestApp, agent_name: &str, receiver: &Receiver,
) -> (Api, String, String) {
    let owner = app.user().await;
    let agent = owner.create_agent(agent_name).await;
    let hook = add(&owner, &agent, json!({ "name": "CRM", "url": receiver.url })).await;
    (owner, agent, hook)
}

/// A Standard Webhooks secret (`whsec_` + base64 of 32 bytes) and its key.
fn standard_secret() -> (String, Vec<u8>) {
    let key: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
    (format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(&key)), key)
}

#[tokio::test]
async fn a_test_send_goes_to_that_webhook_only_with_its_stored_values_and_is_logged_as_a_test() {
    let app = dev_app().await;
    let (target, other) =
        (Receiver::http(Behavior::default()).await, Receiver::http(Behavior::default()).await);
    let owner = app.user().await;
    let agent = owner.create_agent("Tools").await;
    let key = secret("test-send");
    let hook = add(
        &owner,
        &agent,
        json!({ "name": "CRM", "url": target.url, "secret": key,
        "headers": [{ "name": "Authorization", "value": secret("bearer") }] }),
    )
    .await;
    add(&owner, &agent, json!({ "name": "Other", "url": other.url })).await;

    let res = owner.post(&format!("/api/v1/agents/{agent}/webhooks/{hook}/test"), json!({})).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let delivery = res.json();
    assert_eq!(
        (delivery["kind"].as_str(), delivery["outcome"].as_str(), delivery["status_code"].as_u64()),
        (Some("test"), Some("ok"), Some(200))
    );
    assert_eq!(delivery["call_id"], Value::Null);
    assert_eq!(delivery["response_body"], "ok");
    assert!(delivery["duration_ms"].is_i64());

    // The send is over when the answer comes: the other webhook got nothing.
    let hits = target.hits().await;
    assert_eq!(hits.len(), 1);
    assert!(other.hits().await.is_empty());
    let hit = &hits[0];
    let body: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(body["metadata"], json!({ "test": true }));
    assert_eq!(body["agent_id"], agent.as_str());
    assert_eq!(body["status"], "completed");
    assert!(!body["transcript"].as_array().unwrap().is_empty());
    assert_eq!(hit.header("x-voicy-signature"), Some(hmac_hex(&key, &hit.body).as_str()));
    assert_eq!(hit.header("authorization"), Some(secret("bearer").as_str()));
    assert_eq!(hit.header("x-voicy-event"), Some("call_ended"));

    let log =
        owner.get(&format!("/api/v1/agents/{agent}/deliveries?webhook_id={hook}")).await.json();
    assert_eq!(log["deliveries"][0]["id"], delivery["id"]);
    assert_eq!(log["deliveries"][0]["kind"], "test");
    assert_eq!(
        log["deliveries"][0]["request_headers"][0],
        json!({ "name": "Authorization", "value": "••••••" })
    );
}

#[tokio::test]
async fn a_failing_test_send_says_how_it_failed() {
    let app = dev_app().await;
    let receiver =
        Receiver::http(Behavior { status: 500, body: "boom".into(), ..Default::default() }).await;
    let (owner, agent, hook) = one_webhook(&app, "Tools", &receiver).await;
    let delivery =
        owner.post(&format!("/api/v1/agents/{agent}/webhooks/{hook}/test"), json!({})).await.json();
    assert_eq!(
        (delivery["outcome"].as_str(), delivery["status_code"].as_u64()),
        (Some("http_status"), Some(500))
    );
    assert_eq!(delivery["response_body"], "boom");
}

#[tokio::test]
async fn test_sends_and_redeliveries_of_someone_elses_webhook_are_not_found() {
    let app = dev_app().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let (owner, agent, hook) = one_webhook(&app, "Mine", &receiver).await;
    let call = owner.post_call(&agent, "web").await;
    let delivery = owner.settled(&call).await["deliveries"][0]["id"].as_str().unwrap().to_owned();

    let stranger = app.user().await;
    let res =
        stranger.post(&format!("/api/v1/agents/{agent}/webhooks/{hook}/test"), json!({})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = stranger.post(&format!("/api/v1/deliveries/{delivery}/redeliver"), json!({})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = owner.post(&format!("/api/v1/agents/{agent}/webhooks/nope/test"), json!({})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(receiver.hits().await.len(), 1, "only the call's own delivery was sent");
}

#[tokio::test]
async fn a_redelivery_sends_the_same_bytes_with_the_config_the_call_used_as_a_new_linked_delivery()
{
    let app = dev_app().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Tools").await;
    let deployed_key = secret("deployed-key");
    let hook =
        add(&owner, &agent, json!({ "name": "CRM", "url": receiver.url, "secret": deployed_key }))
            .await;
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    let call = owner.post_call(&agent, "phone").await;
    let original = owner.settled(&call).await["deliveries"][0].clone();
    let first = receiver.wait_for(1).await.remove(0);
    // The draft moves on: a redelivery still uses the version the call used.
    owner
        .patch(
            &format!("/api/v1/agents/{agent}/webhooks/{hook}"),
            json!({ "secret": secret("draft-key") }),
        )
        .await;

    let res = owner
        .post(
            &format!("/api/v1/deliveries/{}/redeliver", original["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let again = res.json();
    assert_eq!(again["kind"], "redelivery");
    assert_eq!(again["redelivery_of"], original["id"]);
    assert_eq!(again["call_id"], call.as_str());
    assert_eq!(again["config_version"], 1);
    assert_eq!(again["outcome"], "ok");
    assert_ne!(again["id"], original["id"]);

    let hits = receiver.hits().await;
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].body, first.body, "a redelivery sends the same body bytes");
    assert_eq!(
        hits[1].header("x-voicy-signature"),
        Some(hmac_hex(&deployed_key, &hits[1].body).as_str())
    );

    let log = owner.get(&format!("/api/v1/calls/{call}/deliveries")).await.json();
    let kinds: Vec<&str> =
        log["deliveries"].as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["event", "redelivery"]);
    assert_eq!(log["event"]["state"], "sent");
}

#[tokio::test]
async fn a_deleted_webhook_and_a_test_send_cannot_be_redelivered() {
    let app = dev_app().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let (owner, agent, hook) = one_webhook(&app, "Tools", &receiver).await;
    let test =
        owner.post(&format!("/api/v1/agents/{agent}/webhooks/{hook}/test"), json!({})).await.json();
    let res = owner
        .post(&format!("/api/v1/deliveries/{}/redeliver", test["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!((res.status, res.error_code()), (StatusCode::CONFLICT, "conflict".to_owned()));
    assert!(res.json()["error"]["message"].as_str().unwrap().contains("test"), "{}", res.body);

    let call = owner.post_call(&agent, "web").await;
    let delivery = owner.settled(&call).await["deliveries"][0]["id"].as_str().unwrap().to_owned();
    owner.delete(&format!("/api/v1/agents/{agent}/webhooks/{hook}")).await;
    let res = owner.post(&format!("/api/v1/deliveries/{delivery}/redeliver"), json!({})).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.json()["error"]["message"].as_str().unwrap().contains("deleted"), "{}", res.body);
    assert_eq!(receiver.hits().await.len(), 2, "the test and the call's delivery, nothing more");
}

fn standard_signature(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn standard_webhooks_headers_follow_the_system_headers_and_keep_their_id_across_redeliveries()
{
    let app = dev_app().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Tools").await;
    let (whsec, key) = standard_secret();
    let res = owner
        .add_webhook(
            &agent,
            json!({ "name": "CRM", "url": receiver.url, "secret": whsec, "standard_webhooks": true,
        "headers": [{ "name": "X-Team", "value": secret("team") }] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.json()["standard_webhooks"], true);
    assert!(!res.body.contains(&whsec));

    let call = owner.post_call(&agent, "web").await;
    let original = owner.settled(&call).await["deliveries"][0]["id"].as_str().unwrap().to_owned();
    owner.post(&format!("/api/v1/deliveries/{original}/redeliver"), json!({})).await;
    let hits = receiver.wait_for(2).await;
    for hit in &hits {
        let names: Vec<String> = hit
            .headers
            .iter()
            .map(|(n, _)| n.to_lowercase())
            .filter(|n| {
                [
                    "x-team",
                    "content-type",
                    "x-voicy-event",
                    "x-voicy-signature",
                    "webhook-id",
                    "webhook-timestamp",
                    "webhook-signature",
                ]
                .contains(&n.as_str())
            })
            .collect();
        assert_eq!(
            names,
            [
                "x-team",
                "content-type",
                "x-voicy-event",
                "x-voicy-signature",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature"
            ]
        );
        assert_eq!(
            hit.header("webhook-id"),
            Some(call.as_str()),
            "the event id is the call's, the same on a redelivery"
        );
        let timestamp = hit.header("webhook-timestamp").unwrap();
        let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
        assert!((0..120).contains(&age), "timestamp {timestamp} is not now");
        assert_eq!(
            hit.header("webhook-signature"),
            Some(standard_signature(&key, &call, timestamp, &hit.body).as_str())
        );
        // The doc's signature is unchanged: keyed with the secret string as typed.
        assert_eq!(hit.header("x-voicy-signature"), Some(hmac_hex(&whsec, &hit.body).as_str()));
    }
}

#[tokio::test]
async fn standard_webhooks_needs_a_whsec_secret_and_its_own_header_names() {
    let app = dev_app().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Tools").await;
    for body in [
        json!({ "name": "A", "url": "https://a.example.com", "standard_webhooks": true }),
        json!({ "name": "A", "url": "https://a.example.com", "standard_webhooks": true, "secret": secret("plain") }),
        json!({ "name": "A", "url": "https://a.example.com", "standard_webhooks": true, "secret": "whsec_c2hvcnQ=" }),
    ] {
        let res = owner.add_webhook(&agent, body).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        assert!(
            res.json()["error"]["fields"]["standard_webhooks"].as_str().unwrap().contains("whsec_"),
            "{}",
            res.body
        );
    }
    let (whsec, _) = standard_secret();
    let res = owner
        .add_webhook(
            &agent,
            json!({ "name": "A", "url": "https://a.example.com", "standard_webhooks": true,
        "secret": whsec, "headers": [{ "name": "Webhook-Signature", "value": "x" }] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json()["error"]["fields"]["headers[0].name"].is_string(), "{}", res.body);

    // Turned on later by PATCH, it checks the stored secret; turned on with the right one, the
    // diff says so.
    let hook = add(
        &owner,
        &agent,
        json!({ "name": "B", "url": "https://b.example.com", "secret": secret("plain") }),
    )
    .await;
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    let path = format!("/api/v1/agents/{agent}/webhooks/{hook}");
    let res = owner.patch(&path, json!({ "standard_webhooks": true })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let res = owner.patch(&path, json!({ "standard_webhooks": true, "secret": whsec })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let diff = owner.get(&format!("/api/v1/agents/{agent}/config/diff")).await.json();
    let kinds: Vec<&str> =
        diff["changes"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["secret_changed", "standard_webhooks_on"]);
}

#[tokio::test]
async fn health_sums_up_the_latest_deliveries_of_each_webhook() {
    let app = dev_app().await;
    let good = Receiver::http(Behavior::default()).await;
    let bad = Receiver::http(Behavior { status: 503, ..Default::default() }).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Tools").await;
    let good_hook = add(&owner, &agent, json!({ "name": "Good", "url": good.url })).await;
    let bad_hook = add(&owner, &agent, json!({ "name": "Bad", "url": bad.url })).await;
    add(&owner, &agent, json!({ "name": "Idle", "url": "https://idle.example.com" })).await;
    for hook in [&good_hook, &good_hook, &bad_hook] {
        owner.post(&format!("/api/v1/agents/{agent}/webhooks/{hook}/test"), json!({})).await;
    }
    let health = owner.get(&format!("/api/v1/agents/{agent}/webhooks/health")).await.json();
    let by_name = |name: &str| {
        health["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["webhook_name"] == name)
            .unwrap()
            .clone()
    };
    let good_health = by_name("Good");
    assert_eq!(
        (
            good_health["status"].as_str(),
            good_health["deliveries"].as_u64(),
            good_health["success_rate"].as_u64()
        ),
        (Some("healthy"), Some(2), Some(100))
    );
    assert!(good_health["p50_ms"].is_i64() && good_health["p95_ms"].is_i64());
    assert_eq!(good_health["last_failure"], Value::Null);
    let bad_health = by_name("Bad");
    assert_eq!(
        (bad_health["status"].as_str(), bad_health["success_rate"].as_u64()),
        (Some("failing"), Some(0))
    );
    assert_eq!(bad_health["last_failure"]["status_code"], 503);
    let idle = by_name("Idle");
    assert_eq!((idle["status"].as_str(), idle["deliveries"].as_u64()), (Some("unknown"), Some(0)));
    assert_eq!(idle["success_rate"], Value::Null);

    let stranger = app.user().await;
    assert_eq!(
        stranger.get(&format!("/api/v1/agents/{agent}/webhooks/health")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_web_call_is_not_redelivered_once_its_webhook_points_elsewhere() {
    let app = dev_app().await;
    let (first, second) =
        (Receiver::http(Behavior::default()).await, Receiver::http(Behavior::default()).await);
    let owner = app.user().await;
    let agent = owner.create_agent("Tools").await;
    let hook = add(&owner, &agent, json!({ "name": "CRM", "url": first.url })).await;
    let call = owner.post_call(&agent, "web").await;
    let delivery = owner.settled(&call).await["deliveries"][0]["id"].as_str().unwrap().to_owned();
    owner
        .patch(&format!("/api/v1/agents/{agent}/webhooks/{hook}"), json!({ "url": second.url }))
        .await;
    let res = owner.post(&format!("/api/v1/deliveries/{delivery}/redeliver"), json!({})).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(
        res.json()["error"]["message"].as_str().unwrap().contains("no longer sends to"),
        "{}",
        res.body
    );
    assert!(second.hits().await.is_empty());
    assert_eq!(first.hits().await.len(), 1);
}

#[tokio::test]
async fn manual_sends_are_limited_per_owner_with_a_retry_after() {
    crate::helpers::inside_one_quota_window().await;
    let app = dev_app().await;
    let receiver = Receiver::http(Behavior::default()).await;
    let (owner, agent, hook) = one_webhook(&app, "Tools", &receiver).await;
    let path = format!("/api/v1/agents/{agent}/webhooks/{hook}/test");
    for _ in 0..20 {
        assert_eq!(owner.post(&path, json!({})).await.status, StatusCode::CREATED);
    }
    let res = owner.post(&path, json!({})).await;
    assert_eq!(
        (res.status, res.error_code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests".to_owned())
    );
    let wait: u64 = res.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(receiver.hits().await.len(), 20, "the refused send went nowhere");
    // Another owner is not held back.
    let other = app.user().await;
    let other_agent = other.create_agent("Other").await;
    let other_hook = add(&other, &other_agent, json!({ "name": "CRM", "url": receiver.url })).await;
    assert_eq!(
        other
            .post(&format!("/api/v1/agents/{other_agent}/webhooks/{other_hook}/test"), json!({}))
            .await
            .status,
        StatusCode::CREATED
    );
}
