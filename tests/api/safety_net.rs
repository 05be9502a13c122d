//! The owner's safety net against real receivers that go down: opt-in retries (the doc's single
//! request stays the default), and pausing a webhook.

use crate::dispatch::hmac_hex;
use crate::helpers::{Api, TestApp, secret};
use crate::receiver::{Behavior, Receiver};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use voicy_core::dispatcher::retry_policy::RetrySchedule;

async fn app_with_schedule(schedule: &str) -> TestApp {
    let schedule = RetrySchedule::parse(schedule).unwrap();
    TestApp::spawn_with(move |s| {
        s.allow_insecure_webhooks = true;
        s.retry_schedule = schedule;
    })
    .await
}

async fn webhook(owner: &Api, agent: &str, body: Value) -> String {
    let res = owner.add_webhook(agent, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.json()["id"].as_str().unwrap().to_owned()
}

/// The call's deliveries to the webhook `name`, first try first.
async fn deliveries_to(owner: &Api, call: &str, name: &str) -> Vec<Value> {
    let res = owner.get(&format!("/api/v1/calls/{call}/deliveries")).await.json();
    let all = res["deliveries"].as_array().cloned().unwrap_or_default();
    let mut mine: Vec<Value> = all.into_iter().filter(|d| d["webhook_name"] == name).collect();
    mine.sort_by_key(|d| d["attempt"].as_i64());
    mine
}

/// Waits (up to `limit`) until `check` holds for the call's deliveries to `name`.
async fn until(
    owner: &Api, call: &str, name: &str, limit: Duration, check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let found = deliveries_to(owner, call, name).await;
        if check(&found) || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn by_call(hits: &[crate::receiver::Hit]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for hit in hits {
        let body: Value = serde_json::from_slice(&hit.body).unwrap();
        *seen.entry(body["id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    seen
}

#[tokio::test]
async fn after_an_outage_backoff_delivers_each_call_once_and_none_stays_one_request() {
    let app = app_with_schedule("1,2").await;
    let (plain, retried) =
        (Receiver::http(Behavior::default()).await, Receiver::http(Behavior::default()).await);
    let owner = app.user().await;
    let agent = owner.create_agent("Outage").await;
    let key = secret("retry-key");
    webhook(&owner, &agent, json!({ "name": "Plain", "url": plain.url })).await;
    webhook(
        &owner,
        &agent,
        json!({ "name": "Retried", "url": retried.url, "secret": key, "retry_policy": "backoff" }),
    )
    .await;

    plain.stop();
    retried.stop();
    let mut calls = Vec::new();
    for _ in 0..3 {
        calls.push(owner.post_call(&agent, "web").await);
    }
    for call in &calls {
        let first = until(&owner, call, "Retried", Duration::from_secs(10), |d| {
            d.first().is_some_and(|d| d["outcome"] == "connect")
        })
        .await;
        assert!(first[0]["next_attempt_at"].is_string(), "{first:?}");
    }
    plain.restart().await;
    retried.restart().await;

    for call in &calls {
        let chain = until(&owner, call, "Retried", Duration::from_secs(15), |d| {
            d.iter().any(|d| d["outcome"] == "ok")
        })
        .await;
        let last = chain.last().unwrap();
        assert_eq!(last["outcome"], "ok", "{chain:#?}");
        assert_eq!(last["kind"], "retry");
        assert_eq!(last["retry_of"], chain[0]["id"]);
        assert!(last["attempt"].as_i64().unwrap() >= 2);
        assert_eq!(chain[0]["chain_end"], "succeeded");
        assert!(chain[0]["next_attempt_at"].is_null());
    }
    // Nothing more is due: each call arrived exactly once, signed over the stored body.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let hits = retried.hits().await;
    assert_eq!(by_call(&hits), calls.iter().map(|c| (c.clone(), 1)).collect());
    for hit in &hits {
        assert_eq!(hit.header("x-voicy-signature"), Some(hmac_hex(&key, &hit.body).as_str()));
        let call = serde_json::from_slice::<Value>(&hit.body).unwrap()["id"].clone();
        let stored = owner.get(&format!("/api/v1/calls/{}", call.as_str().unwrap())).await;
        assert_eq!(stored.body.as_bytes(), hit.body.as_slice(), "the same body bytes");
    }
    // The doc's default: one request per call, failed, never tried again.
    assert!(plain.hits().await.is_empty());
    for call in &calls {
        let once = deliveries_to(&owner, call, "Plain").await;
        assert_eq!(once.len(), 1, "{once:#?}");
        assert_eq!(once[0]["outcome"], "connect");
        assert!(once[0]["next_attempt_at"].is_null() && once[0]["chain_end"].is_null());
    }
}

#[tokio::test]
async fn a_503_with_retry_after_waits_that_long_and_a_400_is_not_retried() {
    let app = app_with_schedule("1,1").await;
    let busy = Receiver::http(Behavior {
        status: 503,
        retry_after: Some("3".into()),
        ..Behavior::default()
    })
    .await;
    let refusing = Receiver::http(Behavior { status: 400, ..Behavior::default() }).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Answers").await;
    for (name, url) in [("Busy", &busy.url), ("Refusing", &refusing.url)] {
        webhook(&owner, &agent, json!({ "name": name, "url": url, "retry_policy": "backoff" }))
            .await;
    }
    let call = owner.post_call(&agent, "web").await;
    busy.wait_for(1).await;
    busy.answer_with(Behavior::default());
    let hits = busy.wait_for(2).await;
    assert_eq!(hits.len(), 2);
    let waited = hits[1].at - hits[0].at;
    assert!(waited >= Duration::from_secs(3), "tried again after {waited:?}");
    let chain = until(&owner, &call, "Busy", Duration::from_secs(5), |d| {
        d.first().is_some_and(|d| d["chain_end"] == "succeeded")
    })
    .await;
    assert_eq!(chain.len(), 2, "{chain:#?}");

    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(refusing.hits().await.len(), 1, "a 400 is not tried again");
    let refused = deliveries_to(&owner, &call, "Refusing").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["chain_end"], "not_retryable");
}

#[tokio::test]
async fn a_redelivery_or_the_webhooks_removal_ends_a_chain() {
    let app = app_with_schedule("2,60").await;
    let down = Receiver::http(Behavior { status: 500, ..Behavior::default() }).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Chains").await;
    let id = webhook(
        &owner,
        &agent,
        json!({ "name": "Down", "url": down.url, "retry_policy": "backoff" }),
    )
    .await;
    let call = owner.post_call(&agent, "web").await;
    let first = until(&owner, &call, "Down", Duration::from_secs(10), |d| {
        d.first().is_some_and(|d| d["next_attempt_at"].is_string() && d["outcome"] != "sending")
    })
    .await;
    let res = owner
        .post(
            &format!("/api/v1/deliveries/{}/redeliver", first[0]["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let head = deliveries_to(&owner, &call, "Down").await.remove(0);
    assert_eq!(head["chain_end"], "redelivered");
    assert!(head["next_attempt_at"].is_null());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(down.hits().await.len(), 2, "the first try and the redelivery; no retry");

    let second = owner.post_call(&agent, "web").await;
    until(&owner, &second, "Down", Duration::from_secs(10), |d| {
        d.first().is_some_and(|d| d["next_attempt_at"].is_string())
    })
    .await;
    let res = owner.delete(&format!("/api/v1/agents/{agent}/webhooks/{id}")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let head = deliveries_to(&owner, &second, "Down").await.remove(0);
    assert_eq!(head["chain_end"], "webhook_removed");
}

#[tokio::test]
async fn a_paused_webhook_logs_paused_and_sends_nothing_until_resumed_for_draft_and_deployed() {
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let receiver = Receiver::http(Behavior::default()).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Pausing").await;
    let id = webhook(&owner, &agent, json!({ "name": "CRM", "url": receiver.url })).await;
    assert_eq!(
        owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await.status,
        StatusCode::CREATED
    );

    let paused =
        owner.post(&format!("/api/v1/agents/{agent}/webhooks/{id}/pause"), json!({})).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(paused.json()["paused"], true);
    let config = owner.get(&format!("/api/v1/agents/{agent}/config")).await.json();
    assert_eq!(config["draft"]["webhooks"][0]["paused"], true);
    assert_eq!(config["deployed"]["webhooks"][0]["paused"], true);
    assert_eq!(config["has_undeployed_changes"], false, "a pause is not a config change");

    for kind in ["web", "phone"] {
        let call = owner.post_call(&agent, kind).await;
        let settled = owner.settled(&call).await;
        assert_eq!(settled["event"]["state"], "sent");
        assert_eq!(settled["deliveries"][0]["outcome"], "paused", "{kind}: {settled:#}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.hits().await.is_empty());

    let resumed =
        owner.post(&format!("/api/v1/agents/{agent}/webhooks/{id}/resume"), json!({})).await;
    assert_eq!(resumed.json()["paused"], false);
    let call = owner.post_call(&agent, "phone").await;
    assert_eq!(owner.settled(&call).await["deliveries"][0]["outcome"], "ok");
    assert_eq!(receiver.wait_for(1).await.len(), 1);

    // Another owner cannot pause it.
    let stranger = app.user().await;
    let res =
        stranger.post(&format!("/api/v1/agents/{agent}/webhooks/{id}/pause"), json!({})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = owner.post(&format!("/api/v1/agents/{agent}/webhooks/nope/pause"), json!({})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn retry_policy_is_validated_and_shown_and_deploy_says_it_changes() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Policy").await;
    let res = owner
        .add_webhook(
            &agent,
            json!({ "name": "A", "url": "https://example.com/h", "retry_policy": "sometimes" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json()["error"]["fields"]["retry_policy"].is_string(), "{}", res.body);
    let id = webhook(&owner, &agent, json!({ "name": "A", "url": "https://example.com/h" })).await;
    let list = owner.get(&format!("/api/v1/agents/{agent}/webhooks")).await.json();
    assert_eq!(list["webhooks"][0]["retry_policy"], "none", "the doc's behaviour by default");
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    let res = owner
        .patch(
            &format!("/api/v1/agents/{agent}/webhooks/{id}"),
            json!({ "retry_policy": "backoff" }),
        )
        .await;
    assert_eq!(res.json()["retry_policy"], "backoff");
    let diff = owner.get(&format!("/api/v1/agents/{agent}/config/diff")).await.json();
    assert_eq!(diff["changes"][0]["kind"], "retry_policy_changed", "{diff:#}");
}

/// Five failures in a row on either of two instances: one incident, one e-mail to the owner (its
/// non-ASCII text intact), a banner on the agent's pages and `GET /alerts`; the first success
/// closes it with one "recovered" e-mail.
#[tokio::test]
async fn a_failing_webhook_alerts_its_owner_once_per_incident_then_once_when_it_recovers() {
    let smtp = crate::smtp::SmtpServer::start().await;
    let configure = |s: &mut voicy::config::Settings| {
        s.allow_insecure_webhooks = true;
        s.smtp_url = Some(voicy::config::SmtpUrl(smtp.url.clone()));
        s.public_url = Some("https://voicy.example.com".into());
    };
    let app = TestApp::spawn_with(configure).await;
    let _second = TestApp::spawn_in(app.db.clone(), configure).await;
    let receiver = Receiver::http(Behavior { status: 500, ..Behavior::default() }).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Zoë’s Bäckerei").await;
    webhook(&owner, &agent, json!({ "name": "Größe CRM", "url": receiver.url })).await;

    for _ in 0..8 {
        let call = owner.post_call(&agent, "web").await;
        owner.settled(&call).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while smtp.mails.lock().await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = smtp.mails.lock().await.clone();
    assert_eq!(mails.len(), 1, "one alert for the incident: {mails:#?}");
    let alert = mail_parser::MessageParser::default().parse(mails[0].data.as_bytes()).unwrap();
    assert_eq!(
        alert.subject(),
        Some("Voicy: the webhook “Größe CRM” of Zoë’s Bäckerei is failing")
    );
    let text = alert.body_text(0).unwrap();
    assert!(text.contains("failed 5 times in a row"), "{text}");
    assert!(text.contains(&format!("https://voicy.example.com/agents/{agent}/settings")), "{text}");
    assert_eq!(mails[0].to.len(), 1, "to the owner's account e-mail only");

    let alerts = owner.get("/api/v1/alerts").await.json();
    assert_eq!(alerts["alerts"].as_array().unwrap().len(), 1, "{alerts:#}");
    assert_eq!(alerts["alerts"][0]["webhook_name"], "Größe CRM");
    assert_eq!(alerts["alerts"][0]["alert_mail"], "sent");
    let page = owner.get(&format!("/agents/{agent}")).await;
    assert!(page.body.contains("is failing"), "the banner is on the agent's page");
    assert!(
        app.user().await.get("/api/v1/alerts").await.json()["alerts"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The owner's redelivery, once the endpoint answers again, is the first success.
    receiver.answer_with(Behavior::default());
    let log = owner.get(&format!("/api/v1/agents/{agent}/deliveries")).await.json();
    let failed = log["deliveries"][0]["id"].as_str().unwrap().to_owned();
    let redelivered =
        owner.post(&format!("/api/v1/deliveries/{failed}/redeliver"), json!({})).await;
    assert_eq!(redelivered.json()["outcome"], "ok", "{}", redelivered.body);
    let deadline = Instant::now() + Duration::from_secs(10);
    while smtp.mails.lock().await.len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let call = owner.post_call(&agent, "web").await;
    owner.settled(&call).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = smtp.mails.lock().await.clone();
    assert_eq!(mails.len(), 2, "one recovered message: {mails:#?}");
    let recovered = mail_parser::MessageParser::default().parse(mails[1].data.as_bytes()).unwrap();
    assert_eq!(
        recovered.subject(),
        Some("Voicy: the webhook “Größe CRM” of Zoë’s Bäckerei recovered")
    );
    assert!(owner.get("/api/v1/alerts").await.json()["alerts"].as_array().unwrap().is_empty());
    assert!(!owner.get(&format!("/agents/{agent}")).await.body.contains("is failing"));
}

async fn replay_until_ended(owner: &Api, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let replay = owner.get(&format!("/api/v1/replays/{id}")).await.json();
        if replay["state"] != "running" || Instant::now() > deadline {
            return replay;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 100 failed calls replayed: each sent exactly once, paced, counted; one replay per webhook at
/// a time; a second replay of the window sends nothing more.
#[tokio::test]
async fn a_replay_redelivers_each_failed_call_once_at_its_pace_and_again_sends_nothing() {
    let app = TestApp::spawn_with(|s| {
        s.allow_insecure_webhooks = true;
        s.replay_rate = 50;
    })
    .await;
    let receiver = Receiver::http(Behavior { status: 503, ..Behavior::default() }).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Replays").await;
    let id = webhook(&owner, &agent, json!({ "name": "Down", "url": receiver.url })).await;
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    let mut calls = Vec::new();
    for _ in 0..100 {
        calls.push(owner.post_call(&agent, "web").await);
    }
    for call in &calls {
        owner.settled(call).await;
    }
    receiver.answer_with(Behavior::default());
    let before = receiver.hits().await.len();
    assert_eq!(before, 100);
    let window = json!({ "since": since.to_rfc3339(), "until": (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339() });
    let path = format!("/api/v1/agents/{agent}/webhooks/{id}/replays");

    let started = owner.post(&path, window.clone()).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    assert_eq!(started.json()["total"], 100);
    let busy = owner.post(&path, window.clone()).await;
    assert_eq!(busy.status, StatusCode::CONFLICT, "one replay per webhook at a time");
    let replay = replay_until_ended(&owner, started.json()["id"].as_str().unwrap()).await;
    assert_eq!(replay["state"], "done", "{replay:#}");
    assert_eq!(
        (replay["sent"].as_i64(), replay["ok"].as_i64(), replay["failed"].as_i64()),
        (Some(100), Some(100), Some(0))
    );

    let hits = receiver.hits().await[before..].to_vec();
    assert_eq!(by_call(&hits), calls.iter().map(|c| (c.clone(), 1)).collect());
    let spread = hits.last().unwrap().at - hits[0].at;
    assert!(spread >= Duration::from_millis(99 * 20 * 9 / 10), "paced at 50 a second: {spread:?}");
    let logged = owner.get(&format!("/api/v1/calls/{}/deliveries", calls[0])).await.json();
    let redelivery = logged["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "redelivery")
        .cloned()
        .unwrap();
    assert_eq!(redelivery["replay_id"], replay["id"]);

    let again = owner.post(&path, window).await;
    assert_eq!(again.json()["total"], 0, "{}", again.body);
    let again = replay_until_ended(&owner, again.json()["id"].as_str().unwrap()).await;
    assert_eq!(again["state"], "done");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().await.len(), before + 100, "nothing sent twice");

    let bad = owner.post(&path, json!({ "since": "yesterday", "until": since.to_rfc3339() })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.json()["error"]["fields"]["since"].is_string());
    let stranger = app.user().await;
    assert_eq!(
        stranger.get(&format!("/api/v1/replays/{}", replay["id"].as_str().unwrap())).await.status,
        StatusCode::NOT_FOUND
    );
}

/// The deliveries log searched by webhook, outcome, status, kind, time and call, paged with a
/// cursor; a bad filter is a 422 that names it.
#[tokio::test]
async fn the_delivery_log_filters_and_pages_with_a_cursor() {
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let (up, down) = (
        Receiver::http(Behavior::default()).await,
        Receiver::http(Behavior { status: 503, ..Behavior::default() }).await,
    );
    let owner = app.user().await;
    let agent = owner.create_agent("Log").await;
    let up_id = webhook(&owner, &agent, json!({ "name": "Up", "url": up.url })).await;
    webhook(&owner, &agent, json!({ "name": "Down", "url": down.url })).await;
    let mut calls = Vec::new();
    for _ in 0..30 {
        let call = owner.post_call(&agent, "web").await;
        owner.settled(&call).await;
        calls.push(call);
    }
    let log = |query: String| {
        let (owner, agent) = (&owner, &agent);
        async move { owner.get(&format!("/api/v1/agents/{agent}/deliveries?{query}")).await }
    };
    let page = log(String::new()).await.json();
    assert_eq!(page["deliveries"].as_array().unwrap().len(), 50);
    let next = page["next_before"].as_str().unwrap().to_owned();
    let rest = log(format!("before={next}")).await.json();
    assert_eq!(rest["deliveries"].as_array().unwrap().len(), 10);
    assert!(rest["next_before"].is_null());
    let ids: std::collections::HashSet<String> = page["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["deliveries"].as_array().unwrap())
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 60, "every delivery once over the two pages");

    let count = |res: crate::helpers::Res| res.json()["deliveries"].as_array().unwrap().len();
    assert_eq!(count(log("outcome=http_status".into()).await), 30);
    assert_eq!(count(log("status=5xx".into()).await), 30);
    assert_eq!(count(log("status=503".into()).await), 30);
    assert_eq!(count(log("status=2xx&outcome=ok".into()).await), 30);
    assert_eq!(count(log(format!("webhook_id={up_id}")).await), 30);
    assert_eq!(count(log(format!("call_id={}", calls[3])).await), 2);
    assert_eq!(count(log("kind=retry".into()).await), 0);
    assert_eq!(count(log("since=2999-01-01T00:00:00Z".into()).await), 0);
    assert_eq!(count(log("until=2999-01-01T00:00:00Z&kind=event".into()).await), 50);

    for (query, field) in [
        ("outcome=exploded", "outcome"),
        ("status=6xx", "status"),
        ("kind=spam", "kind"),
        ("since=yesterday", "since"),
        ("before=not-an-id", "before"),
        ("call_id=42", "call_id"),
    ] {
        let res = log(query.into()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(res.json()["error"]["fields"][field].is_string(), "{query}: {}", res.body);
    }
    let elsewhere = log(format!("before={}", uuid::Uuid::new_v4())).await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Per-webhook stats: 24 hourly or 30 daily buckets with success rate and latency, and the same
/// drawn as an SVG image (no script in it, the webhook's name escaped).
#[tokio::test]
async fn webhook_stats_count_the_window_and_draw_it_as_svg() {
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let receiver =
        Receiver::http(Behavior { delay: Duration::from_millis(30), ..Behavior::default() }).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Charts").await;
    let id = webhook(&owner, &agent, json!({ "name": "CRM <b>&", "url": receiver.url })).await;
    for _ in 0..4 {
        let call = owner.post_call(&agent, "web").await;
        owner.settled(&call).await;
    }
    receiver.answer_with(Behavior { status: 500, ..Behavior::default() });
    let call = owner.post_call(&agent, "web").await;
    owner.settled(&call).await;

    let day =
        owner.get(&format!("/api/v1/agents/{agent}/webhooks/{id}/stats?window=24h")).await.json();
    let buckets = day["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 24);
    let sum = |key: &str| buckets.iter().map(|b| b[key].as_i64().unwrap()).sum::<i64>();
    assert_eq!((sum("deliveries"), sum("succeeded")), (5, 4));
    let busy: Vec<&Value> = buckets.iter().filter(|b| b["deliveries"] != 0).collect();
    if busy.len() == 1 {
        // (Unless the calls straddled the turn of an hour.)
        assert_eq!(busy[0]["success_rate"], 80);
        let p50 = busy[0]["p50_ms"].as_i64().unwrap();
        assert!((25..=100).contains(&p50), "about 30 ms: {p50}");
    }
    assert!(buckets[0]["deliveries"] == 0 && buckets[0]["success_rate"].is_null());
    let month =
        owner.get(&format!("/api/v1/agents/{agent}/webhooks/{id}/stats?window=30d")).await.json();
    assert_eq!(month["buckets"].as_array().unwrap().len(), 30);
    let days = month["buckets"].as_array().unwrap();
    assert_eq!(days.iter().map(|b| b["deliveries"].as_i64().unwrap()).sum::<i64>(), 5);
    let bad = owner.get(&format!("/api/v1/agents/{agent}/webhooks/{id}/stats?window=7d")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let chart = owner.get(&format!("/api/v1/agents/{agent}/webhooks/{id}/stats.svg")).await;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(chart.body.starts_with("<svg") && chart.body.ends_with("</svg>"));
    assert!(chart.body.contains("CRM &lt;b&gt;&amp;"), "the name is escaped");
    assert!(!chart.body.contains("<script"));
    let stranger = app.user().await;
    assert_eq!(
        stranger.get(&format!("/api/v1/agents/{agent}/webhooks/{id}/stats.svg")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_cancelled_replay_sends_nothing_more() {
    let app = TestApp::spawn_with(|s| {
        s.allow_insecure_webhooks = true;
        s.replay_rate = 1;
    })
    .await;
    let receiver = Receiver::http(Behavior { status: 500, ..Behavior::default() }).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Cancel").await;
    let id = webhook(&owner, &agent, json!({ "name": "Down", "url": receiver.url })).await;
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    for _ in 0..5 {
        let call = owner.post_call(&agent, "web").await;
        owner.settled(&call).await;
    }
    let window = json!({ "since": since.to_rfc3339(), "until": (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339() });
    let started =
        owner.post(&format!("/api/v1/agents/{agent}/webhooks/{id}/replays"), window).await;
    let replay = started.json()["id"].as_str().unwrap().to_owned();
    receiver.wait_for(6).await;
    let cancelled = owner.delete(&format!("/api/v1/replays/{replay}")).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.json()["state"], "cancelled");
    let sent = receiver.hits().await.len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(receiver.hits().await.len() <= sent + 1, "at most the one under way finishes");
    assert_eq!(owner.get(&format!("/api/v1/replays/{replay}")).await.json()["state"], "cancelled");
}
