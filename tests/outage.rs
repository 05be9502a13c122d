//! PostgreSQL stopped for 10 s under load: the intake answers a clear 503 and stores nothing
//! half-way, the dispatcher waits, and everything accepted is sent once when the database is
//! back. Stops the whole cluster, so it runs apart from the main suite, on the throwaway
//! PostgreSQL that `make test` starts (`scripts/with-postgres`).

#[path = "api/conformance.rs"]
mod conformance;
#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "api/receiver.rs"]
mod receiver;

use helpers::{TestApp, TestDb};
use receiver::{Behavior, Receiver};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn pg_ctl(action: &str) {
    let command = std::env::var("VOICY_TEST_PG_CTL").expect("set by scripts/with-postgres");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} {action}"))
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl {action}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load_gives_clear_503s_and_loses_nothing() {
    if std::env::var("VOICY_TEST_PG_CTL").is_err() {
        eprintln!("skipped: needs the throwaway PostgreSQL of `make test` (scripts/with-postgres)");
        return;
    }
    let app = TestApp::spawn_with_steps(
        TestDb::fresh().await,
        |s| s.allow_insecure_webhooks = true,
        Default::default(),
    )
    .await;
    let receiver = Receiver::http(Behavior::default()).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Outage").await;
    owner.add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url })).await;
    // The telephony layer authenticates with an API key.
    let key = owner.post("/api/v1/api-keys", json!({ "name": "telephony" })).await.json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let telephony = app.client().with_bearer(&key);

    let load = tokio::spawn(async move {
        let (mut accepted, mut unavailable) = (Vec::new(), 0);
        let end = Instant::now() + Duration::from_secs(16);
        while Instant::now() < end {
            let res = telephony
                .post("/api/v1/calls", json!({ "agent_id": agent, "type": "web", "started_at": "2026-11-27T09:00:00Z",
                    "ended_at": "2026-11-27T09:01:00Z", "transcript": [{ "role": "user", "text": "Hello" }] }))
                .await;
            match res.status {
                StatusCode::ACCEPTED => {
                    accepted.push(res.json()["id"].as_str().unwrap().to_owned())
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert_eq!(res.error_code(), "unavailable", "{}", res.body);
                    assert!(res.headers.contains_key("retry-after"));
                    unavailable += 1;
                }
                other => panic!("the intake answered {other}: {}", res.body),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (accepted, unavailable)
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    pg_ctl("-m fast stop");
    tokio::time::sleep(Duration::from_secs(10)).await;
    pg_ctl("start");
    let (accepted, unavailable) = load.await.unwrap();
    assert!(unavailable > 0, "the outage was seen");
    assert!(accepted.len() > 50, "calls were taken before and after: {}", accepted.len());

    let deadline = Instant::now() + Duration::from_secs(30);
    let hits = loop {
        let hits = receiver.hits().await;
        if hits.len() >= accepted.len() || Instant::now() > deadline {
            break hits;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut counts: HashMap<String, usize> = HashMap::new();
    for hit in &hits {
        let body: Value = serde_json::from_slice(&hit.body).unwrap();
        *counts.entry(body["id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert!(
        accepted.iter().all(|id| counts.get(id) == Some(&1)),
        "every accepted call sent exactly once"
    );
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM calls").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored as usize, accepted.len(), "a call answered 503 was not stored");
}
