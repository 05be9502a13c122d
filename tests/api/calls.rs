//! The calls list and the size of a call.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;

fn call_with(agent: &str, transcript: serde_json::Value) -> serde_json::Value {
    json!({ "agent_id": agent, "type": "web", "started_at": "2026-11-27T09:00:00Z", "ended_at": "2026-11-27T09:01:00Z",
        "transcript": transcript })
}

#[tokio::test]
async fn calls_are_listed_newest_first_in_pages_that_neither_skip_nor_repeat() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Busy").await;
    let mut posted = Vec::new();
    for _ in 0..45 {
        posted.push(owner.post_call(&agent, "web").await);
    }
    let (mut listed, mut before) = (Vec::new(), None::<String>);
    loop {
        let path = match &before {
            Some(id) => format!("/api/v1/agents/{agent}/calls?before={id}"),
            None => format!("/api/v1/agents/{agent}/calls"),
        };
        let page = owner.get(&path).await.json();
        listed.extend(
            page["calls"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        match page["next_before"].as_str() {
            Some(next) => before = Some(next.to_owned()),
            None => break,
        }
    }
    posted.reverse();
    assert_eq!(listed, posted);
}

#[tokio::test]
async fn a_cursor_or_filter_that_names_nothing_of_the_agent_is_refused_by_name() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Paged").await;
    let call = owner.post_call(&agent, "web").await;
    let other = owner.create_agent("Other").await;
    let elsewhere = owner.post_call(&other, "web").await;
    for before in ["garbage", "2030-01-01T00:00:00Z", elsewhere.as_str()] {
        let res = owner.get(&format!("/api/v1/agents/{agent}/calls?before={before}")).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{before}: {}", res.body);
        assert!(
            res.json()["error"]["fields"]["before"].as_str().unwrap().contains("next_before"),
            "{}",
            res.body
        );
    }
    // No cursor, and an empty one, give the newest calls.
    for path in
        [format!("/api/v1/agents/{agent}/calls"), format!("/api/v1/agents/{agent}/calls?before=")]
    {
        let page = owner.get(&path).await.json();
        assert_eq!(page["calls"][0]["id"], call.as_str(), "{path}");
    }
    let res = owner.get(&format!("/api/v1/agents/{agent}/deliveries?webhook_id=garbage")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.json()["error"]["fields"]["webhook_id"].is_string(), "{}", res.body);
    // A webhook id the agent does not (or no longer) has: its deliveries, none.
    let res = owner
        .get(&format!("/api/v1/agents/{agent}/deliveries?webhook_id={}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["deliveries"], serde_json::json!([]));
}

#[tokio::test]
async fn a_page_of_calls_reads_an_index_instead_of_sorting_every_call() {
    let app = TestApp::spawn().await;
    if !app.db.url.starts_with("sqlite") {
        return; // PostgreSQL's planner chooses by table size; its index is in its migration
    }
    let plan: Vec<(i64, i64, i64, String)> =
        sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", *voicy_core::store::CALLS_PAGE))
            .bind("agent")
            .bind(None::<String>)
            .bind(20i64)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let plan: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
    assert!(plan.iter().any(|step| step.contains("USING INDEX calls_agent")), "{plan:?}");
    // (A small B-tree counting one call's distinct webhooks is fine; sorting the agent's calls is not.)
    assert!(
        !plan.iter().any(|step| step.contains("TEMP B-TREE FOR ORDER BY")),
        "the page sorts: {plan:?}"
    );
}

#[tokio::test]
async fn a_call_larger_than_any_real_call_is_refused_by_what_is_too_big() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Sizes").await;
    let turn = |text: String| json!({ "role": "user", "text": text });

    let res =
        owner.post("/api/v1/calls", call_with(&agent, json!([turn("a".repeat(4_001))]))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json()["error"]["fields"]["transcript[0].text"].is_string(), "{}", res.body);

    // 200 turns of 3,000 characters: every turn fits, the whole is over 512 KB.
    let turns: Vec<_> = (0..200).map(|_| turn("b".repeat(3_000))).collect();
    let res = owner.post("/api/v1/calls", call_with(&agent, json!(turns))).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.json()["error"]["fields"]["transcript"].as_str().unwrap().contains("512 KB"),
        "{}",
        res.body
    );

    // A long real call fits: 2,000 turns of 200 characters (400 KB).
    let turns: Vec<_> = (0..2_000).map(|_| turn("c".repeat(200))).collect();
    let res = owner.post("/api/v1/calls", call_with(&agent, json!(turns))).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
}

#[tokio::test]
async fn the_calls_list_says_how_many_webhooks_took_each_call() {
    use crate::receiver::{Behavior, Receiver};
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let good = Receiver::http(Behavior::default()).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Counted").await;
    let refused = "http://127.0.0.1:9/refused"; // nothing listens on the discard port
    for (name, url) in [("Good", good.url.as_str()), ("Down", refused)] {
        assert_eq!(
            owner.add_webhook(&agent, json!({ "name": name, "url": url })).await.status,
            StatusCode::CREATED
        );
    }
    let call = owner.post_call(&agent, "web").await;
    owner.settled(&call).await;
    let page = owner.get(&format!("/api/v1/agents/{agent}/calls")).await.json();
    let listed = &page["calls"][0];
    assert_eq!(
        (listed["event"].as_str(), listed["sent"].as_u64(), listed["delivered"].as_u64()),
        (Some("sent"), Some(2), Some(1)),
        "{page}"
    );
}

/// A phone call's insert checks the agent itself (nothing is read before it): someone else's
/// agent, or none, is a 404 and nothing is stored, with a body valid or not, phone or web, even
/// once the instance knows the agent's deployed config (which the intake processes calls with).
#[tokio::test]
async fn a_call_for_someone_elses_agent_is_404_and_stores_nothing() {
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let receiver = crate::receiver::Receiver::http(crate::receiver::Behavior::default()).await;
    let (alice, bob) = (app.user().await, app.user().await);
    let agent = alice.create_agent("Alice's desk").await;
    alice.add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url })).await;
    alice.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    // Deployed through this instance, which knows her agent's config from then on.
    let first = alice.post_call(&agent, "phone").await;
    alice.settled(&first).await;
    for kind in ["phone", "web"] {
        for target in [agent.as_str(), "no-such-agent"] {
            let mut call = call_with(target, json!([{ "role": "user", "text": "hi" }]));
            call["type"] = json!(kind);
            let res = bob.post("/api/v1/calls", call.clone()).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{kind} {target}: {}", res.body);
            call["ended_at"] = json!("not a time");
            let res = bob.post("/api/v1/calls", call).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{kind} {target}, invalid: {}", res.body);
        }
    }
    for table in ["calls", "call_events", "deliveries"] {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(rows, 1, "{table}: Alice's first call only");
    }
    assert_eq!(receiver.hits().await.len(), 1);
    // The owner's own call with the same mistake is told what to change.
    let mut call = call_with(&agent, json!([{ "role": "user", "text": "hi" }]));
    call["ended_at"] = json!("not a time");
    assert_eq!(alice.post("/api/v1/calls", call).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // And a phone call to the deployed agent carries the version deployed.
    let id = alice.post_call(&agent, "phone").await;
    let call = alice.get(&format!("/api/v1/calls/{id}")).await.json();
    assert_eq!(call["agent_version"], json!(1), "{call}");
}
