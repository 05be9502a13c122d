//! Phone calls processed at intake, their event started by the insert that stores them: what
//! the worker's way promises holds on this one too. An instance knows a version's config once
//! it deployed it or a worker read it; a deploy made elsewhere leaves it one version behind, and
//! then the insert sends the call the worker's way (the metrics test in `processes` counts the
//! ways taken).

use crate::dispatch::hmac_hex;
use crate::helpers::{Api, TestApp, TestDb, secret};
use crate::receiver::{Behavior, Receiver};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn deploy(owner: &Api, agent: &str) {
    let res = owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    assert!(res.status.is_success(), "{}", res.body);
}

/// Posts a phone call and waits until `receiver` holds `hits` requests; the call's id.
async fn phone_call(owner: &Api, agent: &str, receiver: &Receiver, hits: usize) -> String {
    let call = owner.post_call(agent, "phone").await;
    let got = receiver.wait_for(hits).await.len();
    assert_eq!(got, hits, "the receiver got {got} of {hits}");
    call
}

#[tokio::test]
async fn calls_started_at_intake_are_sent_once_signed_with_the_version_deployed_and_its_pauses() {
    let db = TestDb::fresh().await;
    let insecure = |s: &mut voicy::config::Settings| s.allow_insecure_webhooks = true;
    let app = TestApp::spawn_in(db.clone(), insecure).await;
    // A second instance, for a deploy this one does not see.
    let other = TestApp::spawn_in(db, insecure).await;
    let (first, second) =
        (Receiver::http(Behavior::default()).await, Receiver::http(Behavior::default()).await);
    let key = secret("intake-key");
    let owner = app.user().await;
    let agent = owner.create_agent("Front desk").await;
    let res = owner
        .add_webhook(
            &agent,
            json!({ "name": "CRM", "url": first.url, "secret": key,
            "headers": [{ "name": "Authorization", "value": secret("token") }] }),
        )
        .await;
    let hook = res.json()["id"].as_str().unwrap().to_owned();
    deploy(&owner, &agent).await;

    for n in 1..=3 {
        let call = phone_call(&owner, &agent, &first, n).await;
        let hit = first.hits().await.remove(n - 1);
        assert_eq!(hit.header("x-voicy-signature"), Some(hmac_hex(&key, &hit.body).as_str()));
        assert_eq!(hit.header("authorization"), Some(secret("token").as_str()));
        let get = owner.get(&format!("/api/v1/calls/{call}")).await;
        assert_eq!(get.body.as_bytes(), hit.body.as_slice(), "the event is the Get Call bytes");
        let view: Value = serde_json::from_slice(&hit.body).unwrap();
        assert_eq!(
            (view["agent_version"].clone(), view["status"].clone()),
            (json!(1), json!("completed"))
        );
        let settled = owner.settled(&call).await;
        assert_eq!(settled["event"]["state"], "sent", "{settled:#}");
        assert_eq!(settled["deliveries"].as_array().unwrap().len(), 1, "{settled:#}");
        assert_eq!(settled["deliveries"][0]["outcome"], "ok", "{settled:#}");
    }

    // Deployed elsewhere: this instance processes the next call with version 1's config, and
    // its insert finds version 2. That call goes where version 2 says, once.
    let on_other = owner.against(&other);
    on_other
        .patch(&format!("/api/v1/agents/{agent}/webhooks/{hook}"), json!({ "url": second.url }))
        .await;
    deploy(&on_other, &agent).await;
    let call = phone_call(&owner, &agent, &second, 1).await;
    let view: Value = serde_json::from_slice(&second.hits().await[0].body).unwrap();
    assert_eq!(view["agent_version"], 2);
    assert_eq!(view["id"], call.as_str());
    // And the one after it, with version 2 known here.
    phone_call(&owner, &agent, &second, 2).await;

    // Paused: recorded, not sent, at once; resumed: sent again.
    let paused =
        on_other.post(&format!("/api/v1/agents/{agent}/webhooks/{hook}/pause"), json!({})).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    let call = owner.post_call(&agent, "phone").await;
    let settled = owner.settled(&call).await;
    assert_eq!(settled["deliveries"][0]["outcome"], "paused", "{settled:#}");
    on_other.post(&format!("/api/v1/agents/{agent}/webhooks/{hook}/resume"), json!({})).await;
    phone_call(&owner, &agent, &second, 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(first.hits().await.len(), 3, "nothing was sent twice");
    assert_eq!(second.hits().await.len(), 3, "nothing was sent twice");
}

/// A webhook that retries: a chain started by the intake's write is retried like one the worker
/// started (its first delivery is due again unless a result comes), once per failed try.
#[tokio::test]
async fn a_retrying_webhooks_chain_started_at_intake_is_retried_once_per_failure() {
    let schedule =
        voicy_core::dispatcher::retry_policy::RetrySchedule::parse("1").expect("a schedule");
    let app = TestApp::spawn_with(move |s| {
        s.allow_insecure_webhooks = true;
        s.retry_schedule = schedule;
    })
    .await;
    let down = Receiver::http(Behavior { status: 500, ..Behavior::default() }).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Retried desk").await;
    let res = owner
        .add_webhook(&agent, json!({ "name": "Down", "url": down.url, "retry_policy": "backoff" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    deploy(&owner, &agent).await;
    // Deployed here: both calls are the intake's. Each: a try and one retry.
    for n in 1..=2 {
        let call = owner.post_call(&agent, "phone").await;
        let hits = down.wait_for(2 * n).await;
        assert_eq!(hits.len(), 2 * n, "call {n}: a try and a retry");
        let ids: Vec<Value> = hits
            .iter()
            .map(|h| serde_json::from_slice::<Value>(&h.body).unwrap()["id"].clone())
            .collect();
        assert_eq!(ids[2 * n - 2..], [json!(call), json!(call)]);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(down.hits().await.len(), 4, "no more than one retry each");
}

/// Calls that arrive together share one write: the intake's own, the worker's (web calls), and
/// someone else's refused, in one statement, each as it would be alone.
#[tokio::test]
async fn calls_stored_together_each_go_their_own_way_once() {
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let receiver = Receiver::http(Behavior::default()).await;
    let (owner, stranger) = (app.user().await, app.user().await);
    let agent = owner.create_agent("Busy desk").await;
    owner.add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url })).await;
    deploy(&owner, &agent).await;
    phone_call(&owner, &agent, &receiver, 1).await;
    let posts = (0..30).map(|i| {
        let (api, kind) = match i % 3 {
            0 => (&owner, "phone"),
            1 => (&owner, "web"),
            _ => (&stranger, "phone"),
        };
        let agent = agent.clone();
        async move {
            let res = api
                .post(
                    "/api/v1/calls",
                    json!({ "agent_id": agent, "type": kind,
                    "started_at": "2026-11-27T09:00:00Z", "ended_at": "2026-11-27T09:01:00Z",
                    "transcript": [{ "role": "user", "text": format!("call {i}") }] }),
                )
                .await;
            (i, res.status, res.json()["id"].as_str().map(str::to_owned))
        }
    });
    let answers = futures::future::join_all(posts).await;
    let mut stored = Vec::new();
    for (i, status, id) in answers {
        if i % 3 == 2 {
            assert_eq!(status, StatusCode::NOT_FOUND, "call {i}");
        } else {
            assert_eq!(status, StatusCode::ACCEPTED, "call {i}");
            stored.push(id.unwrap());
        }
    }
    let hits = receiver.wait_for(21).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().await.len(), 21, "each call once");
    for id in &stored {
        let sent = hits
            .iter()
            .filter(|h| serde_json::from_slice::<Value>(&h.body).unwrap()["id"] == json!(id))
            .count();
        assert_eq!(sent, 1, "{id}");
        assert_eq!(owner.settled(id).await["event"]["state"], "sent");
    }
}
