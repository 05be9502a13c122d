//! The queue's rules inside one process: failures are retried then `failed`, and work left by
//! a stopped instance is taken over without waiting for a restart.

use crate::helpers::{TestApp, TestDb};
use crate::receiver::{Behavior, Receiver};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use voicy::config::Role;
use voicy_core::dispatcher::steps::{Steps, Summarizer};

struct BrokenSummarizer;

impl Summarizer for BrokenSummarizer {
    fn summarize(&self, _: &voicy_model::views::NewCall) -> Result<String, String> {
        Err("the model is unavailable".into())
    }
}

#[tokio::test]
async fn a_failing_step_is_retried_then_failed_with_its_reason_and_nothing_is_sent() {
    let receiver = Receiver::http(Behavior::default()).await;
    let steps = Steps {
        summarizer: Box::new(BrokenSummarizer),
        ..Steps::default()
    };
    let app = TestApp::spawn_with_steps(
        TestDb::fresh().await,
        |s| s.allow_insecure_webhooks = true,
        steps,
    )
    .await;
    let owner = app.user().await;
    let agent = owner.create_agent("Broken model").await;
    owner
        .add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url }))
        .await;
    let call = owner.post_call(&agent, "web").await;

    let settled = owner.settled(&call).await;
    assert_eq!(settled["event"]["state"], "failed", "{settled}");
    let note = settled["event"]["note"].as_str().unwrap();
    assert!(
        note.contains("attempt 3 of 3") && note.contains("summary: the model is unavailable"),
        "{note}"
    );
    let view = owner.get(&format!("/api/v1/calls/{call}")).await;
    assert_eq!(view.status, StatusCode::OK);
    assert_eq!(view.json()["status"], "failed");
    assert!(receiver.hits().await.is_empty());
}

#[tokio::test]
async fn a_call_left_processing_by_a_stopped_instance_is_processed_by_another_without_a_restart() {
    let receiver = Receiver::http(Behavior::default()).await;
    let web = TestApp::spawn_with(|s| {
        s.allow_insecure_webhooks = true;
        s.role = Role::Web;
    })
    .await;
    let owner = web.user().await;
    let agent = owner.create_agent("Taken over").await;
    owner
        .add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url }))
        .await;
    let call = owner.post_call(&agent, "web").await;
    // What an instance that died mid-processing leaves: claimed, its lease already expired.
    sqlx::query("UPDATE call_events SET state = 'processing', lease_owner = 'gone', lease_expires_at = 1, attempts = 1 WHERE call_id = $1")
        .bind(&call)
        .execute(&web.pool)
        .await
        .unwrap();

    let _worker = TestApp::spawn_in(web.db.clone(), |s| s.allow_insecure_webhooks = true).await;
    assert_eq!(receiver.wait_for(1).await.len(), 1);
    assert_eq!(owner.settled(&call).await["event"]["state"], "sent");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.hits().await.len(), 1, "sent once");
}
