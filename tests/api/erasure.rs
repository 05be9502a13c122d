//! Erasure of a call's personal data, by the owner and by retention: afterwards it is in no API
//! answer, no page and no table row; on SQLite not in the database's files either.

use crate::helpers::{Api, TestApp, TestDb};
use crate::receiver::{Behavior, Receiver};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

/// A call whose transcript, numbers and metadata carry `marker`, to an agent whose receiver
/// answers with `marker` too (so the deliveries log keeps it), processed to the end.
async fn call_with(owner: &Api, agent: &str, marker: &str) -> String {
    let res = owner
        .post("/api/v1/calls", json!({
            "agent_id": agent, "type": "web", "from_number": format!("+1555{marker}"),
            "to_number": "+15550199", "started_at": "2026-11-27T09:00:00Z",
            "ended_at": "2026-11-27T09:01:30Z", "end_reason": "caller_hung_up",
            "transcript": [{ "role": "user", "text": format!("my account is {marker}"), "start_ms": 0 }],
            "metadata": { "crm_id": marker }
        }))
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(owner.settled(&id).await["event"]["state"], "sent");
    id
}

async fn agent_echoing(owner: &Api, marker: &str) -> (String, Receiver) {
    let receiver =
        Receiver::http(Behavior { body: format!("got {marker}"), ..Behavior::default() }).await;
    let agent = owner.create_agent("Erasure").await;
    owner.add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url })).await;
    let res = owner
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/agents/{agent}/processing"),
            Some(crate::helpers::RawBody::Json(json!({
                "variables": [{ "name": "account", "pattern": "account is (\\d+)" }]
            }))),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    (agent, receiver)
}

/// Whether `marker` is in a row: every text column of the call tables.
async fn stored_in_tables(app: &TestApp, marker: &str) -> bool {
    let like = format!("%{marker}%");
    let rows: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM calls WHERE input LIKE $1 OR body LIKE $1)
              + (SELECT COUNT(*) FROM deliveries WHERE response_body LIKE $1 OR error LIKE $1 OR request_headers LIKE $1)",
    )
    .bind(&like)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    rows > 0
}

/// On SQLite, whether `marker` is in the database file or its write-ahead log, byte for byte.
fn stored_in_files(app: &TestApp, marker: &str) -> bool {
    match app.db.url.strip_prefix("sqlite://") {
        Some(path) => [path.to_owned(), format!("{path}-wal")].iter().any(|file| {
            std::fs::read(file)
                .is_ok_and(|bytes| bytes.windows(marker.len()).any(|w| w == marker.as_bytes()))
        }),
        None => false,
    }
}

#[tokio::test]
async fn an_owner_erases_a_call_and_its_data_is_in_no_answer_page_or_table() {
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let owner = app.user().await;
    let marker = format!("{}", 900_000_000 + rand_digits());
    let (agent, _receiver) = agent_echoing(&owner, &marker).await;
    let call = call_with(&owner, &agent, &marker).await;
    let other_marker = format!("{}", 800_000_000 + rand_digits());
    let (other_agent, _other_receiver) = agent_echoing(&owner, &other_marker).await;
    let kept = call_with(&owner, &other_agent, &other_marker).await;
    assert!(owner.get(&format!("/api/v1/calls/{call}")).await.body.contains(&marker));

    // Another owner cannot; the owner can, and again (nothing changes).
    let stranger = app.user().await;
    assert_eq!(
        stranger.delete(&format!("/api/v1/calls/{call}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(owner.delete(&format!("/api/v1/calls/{call}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(owner.delete(&format!("/api/v1/calls/{call}")).await.status, StatusCode::NO_CONTENT);

    let view = owner.get(&format!("/api/v1/calls/{call}")).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(!view.body.contains(&marker), "{}", view.body);
    let view = view.json();
    assert_eq!(view["transcript"], json!([]));
    assert_eq!(view["from_number"], json!(null));
    assert_eq!(view["ended_at"], "2026-11-27T09:01:30Z", "times stay");
    let deliveries = owner.get(&format!("/api/v1/calls/{call}/deliveries")).await;
    assert!(!deliveries.body.contains(&marker));
    assert_eq!(deliveries.json()["deliveries"][0]["outcome"], "ok", "outcomes stay");
    let page = owner.get(&format!("/agents/{agent}/calls/{call}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(&marker) && page.body.contains("personal data was deleted"));
    let log = owner.get(&format!("/api/v1/agents/{agent}/deliveries")).await;
    assert!(!log.body.contains(&marker));
    assert!(!stored_in_tables(&app, &marker).await, "the marker is still in a row");
    assert!(!stored_in_files(&app, &marker), "the marker is still in the database's files");
    // Nothing is sent again, and the other call keeps its data.
    let redelivery = owner
        .post(
            &format!(
                "/api/v1/deliveries/{}/redeliver",
                deliveries.json()["deliveries"][0]["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(redelivery.status, StatusCode::CONFLICT, "{}", redelivery.body);
    assert!(
        !owner.get(&format!("/api/v1/calls/{kept}")).await.json()["transcript"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn retention_erases_calls_older_than_its_days_and_keeps_newer_ones() {
    let db = TestDb::fresh().await;
    let app = TestApp::spawn_in(db.clone(), |s| {
        s.allow_insecure_webhooks = true;
        s.retention_days = 0;
    })
    .await;
    let owner = app.user().await;
    let (old_marker, new_marker) =
        (format!("{}", 700_000_000 + rand_digits()), format!("{}", 600_000_000 + rand_digits()));
    let (agent, _receiver) = agent_echoing(&owner, &old_marker).await;
    let (new_agent, _new_receiver) = agent_echoing(&owner, &new_marker).await;
    let old = call_with(&owner, &agent, &old_marker).await;
    let new = call_with(&owner, &new_agent, &new_marker).await;
    sqlx::query("UPDATE calls SET received_at = '2026-01-01T00:00:00.000Z' WHERE id = $1")
        .bind(&old)
        .execute(&app.pool)
        .await
        .unwrap();

    // An instance that keeps 30 days runs a pass as it starts.
    let _keeper = TestApp::spawn_in(db, |s| s.retention_days = 30).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while owner.get(&format!("/api/v1/calls/{old}")).await.body.contains(&old_marker) {
        assert!(std::time::Instant::now() < deadline, "not erased by the retention pass");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!stored_in_tables(&app, &old_marker).await, "the old call's data is still stored");
    let kept = owner.get(&format!("/api/v1/calls/{new}")).await;
    assert!(kept.body.contains(&new_marker), "a newer call keeps its data");
    assert_eq!(
        owner.get(&format!("/api/v1/calls/{old}/deliveries")).await.json()["deliveries"][0]["outcome"],
        "ok"
    );
}

fn rand_digits() -> u32 {
    uuid::Uuid::new_v4().as_u128() as u32 % 100_000_000
}
