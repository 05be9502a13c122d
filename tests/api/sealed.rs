//! Signing secrets and header values are encrypted at rest, under keys the operator can rotate.

use crate::dispatch::hmac_hex;
use crate::helpers::{SECRET_MARK, TestApp, TestDb, secret, test_keys};
use crate::receiver::{Behavior, Receiver};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::AnyPool;
use voicy::config::{Role, TEST_SECRET_KEY};
use voicy_core::vault::Keyring;

/// `(webhook id, secret, headers, key id)` of every stored webhook row, draft and deployed.
async fn sealed_rows(pool: &AnyPool) -> Vec<(String, Option<String>, String, Option<String>)> {
    sqlx::query_as(
        "SELECT id, secret, headers, key_id FROM webhooks
         UNION ALL SELECT webhook_id, secret, headers, key_id FROM deployed_webhooks",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn values_are_sealed_at_rest_and_deploy_copies_the_sealed_text() {
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let receiver = Receiver::http(Behavior::default()).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Sealed").await;
    let key = secret("sealed-key");
    let res = owner
        .add_webhook(
            &agent,
            json!({ "name": "CRM", "url": receiver.url, "secret": key,
            "headers": [{ "name": "Authorization", "value": secret("sealed-token") }] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;

    let rows = sealed_rows(&app.pool).await;
    assert_eq!(rows.len(), 2);
    for (_, secret, headers, key_id) in &rows {
        assert!(
            !secret.as_deref().unwrap().contains(SECRET_MARK) && !headers.contains(SECRET_MARK),
            "plaintext at rest"
        );
        assert_eq!(key_id.as_deref(), Some(test_keys().current_id()));
    }
    assert_eq!(rows[0].1, rows[1].1, "the deployed version holds a copy of the sealed secret");

    // Someone who can write to the database but has no key cannot redirect the values: a row whose
    // URL was changed no longer opens (the draft's list answers 500, nothing is sent there).
    // (Checked on the draft; the deployed copy is immutable anyway.)
    let tampered: (String,) =
        sqlx::query_as("SELECT id FROM webhooks").fetch_one(&app.pool).await.unwrap();
    let keys = test_keys();
    let (url, sealed_secret): (String, String) =
        sqlx::query_as("SELECT url, secret FROM webhooks WHERE id = $1")
            .bind(&tampered.0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let context = voicy_core::store::secret_context(&tampered.0, &url);
    assert_eq!(keys.open(keys.current_id(), &context, &sealed_secret).unwrap(), key);
    let elsewhere =
        voicy_core::store::secret_context(&tampered.0, "https://attacker.example/collect");
    assert!(keys.open(keys.current_id(), &elsewhere, &sealed_secret).is_err());

    // The phone call runs with the deployed version: opened, signed, sent.
    owner.post_call(&agent, "phone").await;
    let hit = receiver.wait_for(1).await.remove(0);
    assert_eq!(hit.header("x-voicy-signature"), Some(hmac_hex(&key, &hit.body).as_str()));
    assert_eq!(hit.header("authorization"), Some(secret("sealed-token").as_str()));
}

#[tokio::test]
async fn a_new_key_reseals_every_value_at_start_and_a_missing_key_stops_the_start() {
    let db = TestDb::fresh().await;
    // The first instance serves the API only, so it never sends with the key it is about to lose.
    let first = TestApp::spawn_in(db.clone(), |s| {
        s.allow_insecure_webhooks = true;
        s.role = Role::Web;
    })
    .await;
    let receiver = Receiver::http(Behavior::default()).await;
    let owner = first.user().await;
    let agent = owner.create_agent("Rotated").await;
    let key = secret("rotated-key");
    let hook = |name: &str, value: String| json!({ "name": name, "url": receiver.url, "secret": key, "headers": [{ "name": "X-Token", "value": value }] });
    owner.add_webhook(&agent, hook("Deployed", secret("deployed-token"))).await;
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    // A row as an older version wrote it: plaintext, no key id.
    let legacy = owner.add_webhook(&agent, hook("Legacy", secret("replaced"))).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain_headers = json!([{ "name": "x-token", "value": secret("legacy-token") }]).to_string();
    sqlx::query("UPDATE webhooks SET secret = $1, headers = $2, key_id = NULL WHERE id = $3")
        .bind(secret("legacy-secret"))
        .bind(plain_headers)
        .bind(&legacy)
        .execute(&first.pool)
        .await
        .unwrap();

    let new_key = Keyring::generate_key();
    let rotated = Keyring::parse(&format!("{new_key},{TEST_SECRET_KEY}")).unwrap();
    let second = TestApp::spawn_in(db.clone(), |s| {
        s.allow_insecure_webhooks = true;
        s.secret_keys = rotated.clone();
    })
    .await;
    let rows = sealed_rows(&second.pool).await;
    assert_eq!(rows.len(), 3);
    for (id, secret_text, headers, key_id) in &rows {
        assert_eq!(key_id.as_deref(), Some(rotated.current_id()), "{id} sealed under the new key");
        assert!(!headers.contains(SECRET_MARK), "{id}");
        let context = voicy_core::store::secret_context(id, &receiver.url);
        let opened =
            rotated.open(rotated.current_id(), &context, secret_text.as_deref().unwrap()).unwrap();
        let expected = if *id == legacy { secret("legacy-secret") } else { key.clone() };
        assert_eq!(opened, expected);
    }

    // A phone call still goes out signed with the owner's secret (the deployed copy, resealed).
    let caller = owner.against(&second);
    caller.post_call(&agent, "phone").await;
    let hit = receiver.wait_for(1).await.remove(0);
    assert_eq!(hit.header("x-voicy-signature"), Some(hmac_hex(&key, &hit.body).as_str()));
    assert_eq!(hit.header("x-token"), Some(secret("deployed-token").as_str()));

    // Without the key the values were sealed with, the server does not start.
    let mut settings = voicy::config::Settings::from_lookup(|k| {
        (k == "VOICY_SECRET_KEY").then(Keyring::generate_key)
    })
    .unwrap();
    settings.database_url = voicy::config::DatabaseUrl::new(db.url.clone());
    let err = voicy::build(&settings).await.err().expect("refuses to start").to_string();
    assert!(err.contains(rotated.current_id()) && err.contains("VOICY_SECRET_KEY"), "{err}");
}
