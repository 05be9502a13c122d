//! The queue's rules inside one process: failures are retried then `failed`, and work left by
//! a stopped instance is taken over without waiting for a restart.

use crate::helpers::{TestApp, TestDb};
use crate::receiver::{Behavior, Receiver};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use voicy::config::Role;
use voicy_core::dispatcher::post_call::{Steps, Summarizer};

struct BrokenSummarizer;

impl Summarizer for BrokenSummarizer {
    fn summarize(&self, _: &voicy_model::views::NewCall) -> Result<String, String> {
        Err("the model is unavailable".into())
    }
}

#[tokio::test]
async fn a_failing_step_is_retried_then_failed_with_its_reason_and_nothing_is_sent() {
    let receiver = Receiver::http(Behavior::default()).await;
    let steps = Steps { summarizer: Box::new(BrokenSummarizer), ..Steps::default() };
    let app = TestApp::spawn_with_steps(
        TestDb::fresh().await,
        |s| s.allow_insecure_webhooks = true,
        steps,
    )
    .await;
    let owner = app.user().await;
    let agent = owner.create_agent("Broken model").await;
    owner.add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url })).await;
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
    owner.add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url })).await;
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

/// A call is stored claimed for the storing instance's worker when it has a slot free, and
/// `pending` when it has none; the pending one is claimed as soon as a slot frees. Each is sent once.
#[tokio::test]
async fn a_call_takes_a_free_slot_at_intake_and_one_over_the_slots_waits_pending() {
    let receiver =
        Receiver::http(Behavior { delay: Duration::from_millis(1500), ..Behavior::default() })
            .await;
    let app = TestApp::spawn_with(|s| {
        s.allow_insecure_webhooks = true;
        s.max_calls_in_flight = 1;
    })
    .await;
    let owner = app.user().await;
    let agent = owner.create_agent("One slot").await;
    owner.add_webhook(&agent, json!({ "name": "Slow", "url": receiver.url })).await;
    let first = owner.post_call(&agent, "web").await;
    let second = owner.post_call(&agent, "web").await;
    let event = |call: String| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_as::<_, (String, Option<String>, i64)>(
                "SELECT state, lease_owner, attempts FROM call_events WHERE call_id = $1",
            )
            .bind(call)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    // The first holds the only slot while its receiver takes 1.5 s to answer.
    let (state, owner_of_lease, attempts) = event(first.clone()).await;
    assert!(state == "processing" || state == "sending", "{state}");
    assert!(owner_of_lease.is_some_and(|o| o.starts_with("pid")));
    assert_eq!(attempts, 1);
    assert_eq!(event(second.clone()).await, ("pending".to_owned(), None, 0));

    assert_eq!(owner.settled(&first).await["event"]["state"], "sent");
    assert_eq!(owner.settled(&second).await["event"]["state"], "sent");
    let hits = receiver.wait_for(2).await;
    let mut ids: Vec<String> = hits
        .iter()
        .map(|h| serde_json::from_slice::<serde_json::Value>(&h.body).unwrap()["id"].to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2, "each call once");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.hits().await.len(), 2, "nothing sent twice");
}

/// The enums and each migration tree's CHECK constraints list the same values: every value the
/// code can write is taken, and anything else is refused by the database itself.
#[tokio::test]
async fn the_database_takes_every_state_the_code_writes_and_nothing_else() {
    use voicy_model::states::{DeliveryOutcome, EventState, NotificationStatus};
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("States").await;
    let call = owner.post_call(&agent, "web").await;
    owner.settled(&call).await;
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO notifications (call_id, address, status) VALUES ($1, 'a@example.com', 'sent')",
    )
    .bind(&call)
    .execute(&mut *tx)
    .await
    .unwrap();
    let tables = [
        (
            "call_events",
            "state",
            "call_id = $2",
            EventState::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ),
        (
            "notifications",
            "status",
            "call_id = $2",
            NotificationStatus::ALL.iter().map(|s| s.as_str()).collect(),
        ),
    ];
    for (table, column, filter, values) in tables {
        for value in values.iter().chain(["bogus"].iter()) {
            let sql = format!("UPDATE {table} SET {column} = $1 WHERE {filter}");
            let mut savepoint = sqlx::Acquire::begin(&mut *tx).await.unwrap();
            let result = sqlx::query(&sql).bind(*value).bind(&call).execute(&mut *savepoint).await;
            assert_eq!(result.is_ok(), *value != "bogus", "{table}.{column} = {value}: {result:?}");
            savepoint.rollback().await.unwrap();
        }
    }
    // A delivery row of the call's (test sends have none, so one is written here).
    for outcome in DeliveryOutcome::ALL.iter().map(|o| o.as_str()).chain(["bogus"]) {
        let mut savepoint = sqlx::Acquire::begin(&mut *tx).await.unwrap();
        let result = sqlx::query(
            "INSERT INTO deliveries (id, call_id, agent_id, webhook_id, webhook_name, webhook_url, started_at, outcome)
             VALUES ($1, $2, $3, 'w', 'n', 'https://example.com', '2026-01-01T00:00:00Z', $4)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&call)
        .bind(&agent)
        .bind(outcome)
        .execute(&mut *savepoint)
        .await;
        assert_eq!(
            result.is_ok(),
            outcome != "bogus",
            "deliveries.outcome = {outcome}: {result:?}"
        );
        savepoint.rollback().await.unwrap();
    }
}
