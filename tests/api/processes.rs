//! Several real server processes on one database (the suite's backend: SQLite file or
//! PostgreSQL), killed and stopped as an operator or a crash would: the queue keeps every
//! promise of the doc (each webhook gets each call at most once, nothing waits for a restart).

use crate::helpers::{Api, TestDb};
use crate::receiver::{Behavior, Receiver};
use crate::smtp::SmtpServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::AnyPool;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `voicy serve` process on a free port.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(db: &TestDb, env: &[(&str, &str)]) -> Self {
        Self::start_role(db, "serve", env).await
    }

    async fn start_role(db: &TestDb, role: &str, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_voicy"));
        command
            .arg(role)
            .env("VOICY_DATABASE_URL", &db.url)
            .env("VOICY_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("VOICY_ALLOW_INSECURE_WEBHOOKS", "true")
            .env("VOICY_SECRET_KEY", voicy::config::TEST_SECRET_KEY)
            .env("VOICY_LOG", "warn")
            .env("VOICY_SIGN_UPS_PER_HOUR", "1000000")
            .env("VOICY_WEB_CALLS_PER_MINUTE", "1000000")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("the server binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(res) = reqwest::get(format!("{base}/healthz")).await
                && res.status() == StatusCode::OK
            {
                break;
            }
            assert!(Instant::now() < deadline, "the {role} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, base }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit; its exit status and how long it took.
    async fn exit_within(&mut self, limit: Duration) -> (std::process::ExitStatus, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, start.elapsed());
            }
            assert!(start.elapsed() < limit, "the server did not exit within {limit:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn api(base: &str, http: &reqwest::Client) -> Api {
    Api::with_client(base, http.clone())
}

async fn pool(db: &TestDb) -> AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(&db.url)
        .await
        .expect("the test database opens")
}

async fn count(pool: &AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Waits until `sql` counts `n` (up to `limit`).
async fn until_count(pool: &AnyPool, sql: &str, n: i64, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let now = count(pool, sql).await;
        if now == n {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {now}, expected {n} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn call_ids(hits: &[crate::receiver::Hit]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for hit in hits {
        let body: Value = serde_json::from_slice(&hit.body).unwrap();
        *counts.entry(body["id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    counts
}

async fn signed_up(base: &str) -> (reqwest::Client, Api) {
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let owner = api(base, &http);
    let email = format!("ops-{}@example.com", uuid::Uuid::new_v4());
    let res = owner
        .post("/api/v1/auth/signup", json!({ "email": email, "password": "correct horse battery" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    (http, owner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_queue_and_send_every_call_exactly_once() {
    let db = TestDb::fresh().await;
    let (first, second) = (Server::start(&db, &[]).await, Server::start(&db, &[]).await);
    let (crm, billing) =
        (Receiver::http(Behavior::default()).await, Receiver::http(Behavior::default()).await);
    let (http, owner) = signed_up(&first.base).await;
    let agent = owner.create_agent("Shared queue").await;
    for (name, receiver) in [("CRM", &crm), ("Billing", &billing)] {
        assert_eq!(
            owner.add_webhook(&agent, json!({ "name": name, "url": receiver.url })).await.status,
            StatusCode::CREATED
        );
    }
    // 500 calls, alternately to each instance (the session lives in the shared database), 32 at a time.
    let (to_first, to_second) = (api(&first.base, &http), api(&second.base, &http));
    let mut posted = Vec::new();
    for chunk in (0..500).collect::<Vec<_>>().chunks(32) {
        let calls = chunk.iter().map(|i| {
            if i % 2 == 0 {
                to_first.post_call(&agent, "web")
            } else {
                to_second.post_call(&agent, "web")
            }
        });
        posted.extend(futures::future::join_all(calls).await);
    }
    let pool = pool(&db).await;
    until_count(
        &pool,
        "SELECT COUNT(*) FROM call_events WHERE state = 'sent'",
        500,
        Duration::from_secs(60),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for receiver in [&crm, &billing] {
        let counts = call_ids(&receiver.hits().await);
        assert_eq!(counts.len(), 500, "every call reached every webhook");
        assert!(counts.values().all(|&n| n == 1), "each call exactly once per webhook");
        assert!(posted.iter().all(|id| counts.contains_key(id)));
    }
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM deliveries WHERE outcome <> 'ok'").await,
        0,
        "no interrupted delivery"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_is_taken_over_within_its_lease_and_nothing_is_sent_twice() {
    let db = TestDb::fresh().await;
    // The first instance's mail server never answers: its calls with a notification stay in
    // processing. Its slow receiver keeps the others sending. Then it dies.
    let hanging_smtp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_url = format!("smtp://127.0.0.1:{}", hanging_smtp.local_addr().unwrap().port());
    let smtp = SmtpServer::start().await;
    let lease = [("VOICY_LEASE_SECONDS", "2")];
    let mut first = Server::start(&db, &[lease[0], ("VOICY_SMTP_URL", &hanging_url)]).await;
    let (fast, slow) = (
        Receiver::http(Behavior::default()).await,
        Receiver::http(Behavior { delay: Duration::from_secs(4), ..Behavior::default() }).await,
    );
    let (_http, owner) = signed_up(&first.base).await;
    let mailing = owner.create_agent("Mailing").await;
    owner.add_webhook(&mailing, json!({ "name": "Fast", "url": fast.url })).await;
    let res = owner
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/agents/{mailing}/processing"),
            Some(crate::helpers::RawBody::Json(
                json!({ "variables": [], "notification_emails": ["ops@example.com"] }),
            )),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let slowpoke = owner.create_agent("Slow receiver").await;
    owner.add_webhook(&slowpoke, json!({ "name": "Slow", "url": slow.url })).await;
    for _ in 0..5 {
        owner.post_call(&mailing, "web").await;
        owner.post_call(&slowpoke, "web").await;
    }
    let pool = pool(&db).await;
    until_count(
        &pool,
        "SELECT COUNT(*) FROM call_events WHERE state = 'processing'",
        5,
        Duration::from_secs(10),
    )
    .await;
    until_count(
        &pool,
        "SELECT COUNT(*) FROM deliveries WHERE outcome = 'sending'",
        5,
        Duration::from_secs(10),
    )
    .await;

    let _second = Server::start(&db, &[lease[0], ("VOICY_SMTP_URL", &smtp.url)]).await;
    first.signal("KILL");
    first.exit_within(Duration::from_secs(5)).await;
    let killed_at = Instant::now();
    until_count(
        &pool,
        "SELECT COUNT(*) FROM call_events WHERE state IN ('pending', 'processing', 'sending')",
        0,
        Duration::from_secs(10),
    )
    .await;
    assert!(
        killed_at.elapsed() < Duration::from_secs(2 + 1 + 3),
        "settled within the lease and a sweep: {:?}",
        killed_at.elapsed()
    );

    // Claimed but not sending: processed by the other instance and sent once; their e-mails were
    // recorded as under way before the crash, so they are not sent again.
    let sent = call_ids(&fast.wait_for(5).await);
    assert_eq!(sent.len(), 5);
    assert!(sent.values().all(|&n| n == 1));
    assert!(smtp.mails.lock().await.is_empty(), "no notification e-mail sent twice");
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM notifications WHERE status = 'failed'").await, 5);
    // Sending when it died: interrupted, never re-sent.
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM deliveries WHERE outcome = 'interrupted'").await,
        5
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(slow.hits().await.len() <= 5, "no request re-sent");
}

/// A sender stopped (`SIGSTOP`: a VM pause, a long stall) past its lease while its requests are
/// under way: the other instance takes the calls over and settles the requests `interrupted`
/// (result unknown), sends nothing again, and when the stalled sender resumes, the receivers' real
/// answers replace `interrupted`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sender_resumed_after_a_takeover_records_the_receivers_real_answers() {
    let db = TestDb::fresh().await;
    let lease = ("VOICY_LEASE_SECONDS", "2");
    let stalled = Server::start(&db, &[lease]).await;
    let slow = Behavior { delay: Duration::from_secs(4), ..Behavior::default() };
    let (crm, billing) = (Receiver::http(slow.clone()).await, Receiver::http(slow).await);
    let (_http, owner) = signed_up(&stalled.base).await;
    let agent = owner.create_agent("Stalled sender").await;
    for (name, receiver) in [("CRM", &crm), ("Billing", &billing)] {
        owner.add_webhook(&agent, json!({ "name": name, "url": receiver.url })).await;
    }
    let mut posted = Vec::new();
    for _ in 0..5 {
        posted.push(owner.post_call(&agent, "web").await);
    }
    crm.wait_for(5).await;
    billing.wait_for(5).await;
    let _other = Server::start(&db, &[lease]).await;
    stalled.signal("STOP");
    let stopped_at = Instant::now();
    let pool = pool(&db).await;
    until_count(
        &pool,
        "SELECT COUNT(*) FROM deliveries WHERE outcome = 'interrupted'",
        10,
        Duration::from_secs(6),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(7).saturating_sub(stopped_at.elapsed())).await;
    stalled.signal("CONT");
    until_count(
        &pool,
        "SELECT COUNT(*) FROM deliveries WHERE outcome = 'ok' AND status_code = 200",
        10,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM call_events WHERE state = 'sent'").await, 5);
    tokio::time::sleep(Duration::from_millis(500)).await;
    for receiver in [&crm, &billing] {
        let counts = call_ids(&receiver.hits().await);
        assert_eq!(counts.len(), 5);
        assert!(counts.values().all(|&n| n == 1), "each call once: {counts:?}");
        assert!(posted.iter().all(|id| counts.contains_key(id)));
    }
    for call in &posted {
        let deliveries = owner.get(&format!("/api/v1/calls/{call}/deliveries")).await.json();
        let outcomes: Vec<&str> = deliveries["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["ok", "ok"], "{deliveries:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_dispatch_lets_requests_finish_and_writes_every_result() {
    let db = TestDb::fresh().await;
    let mut server = Server::start(&db, &[]).await;
    let receiver =
        Receiver::http(Behavior { delay: Duration::from_secs(2), ..Behavior::default() }).await;
    let (_http, owner) = signed_up(&server.base).await;
    let agent = owner.create_agent("Rolling restart").await;
    owner.add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url })).await;
    for _ in 0..20 {
        owner.post_call(&agent, "web").await;
    }
    let pool = pool(&db).await;
    until_count(
        &pool,
        "SELECT COUNT(*) FROM deliveries WHERE outcome = 'sending'",
        20,
        Duration::from_secs(10),
    )
    .await;

    server.signal("TERM");
    let (status, took) = server.exit_within(Duration::from_secs(8)).await;
    assert!(status.success(), "exits 0: {status}");
    assert!(took < Duration::from_secs(6), "exits within ~6 s: {took:?}");
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM deliveries WHERE outcome = 'ok'").await,
        20,
        "every result written"
    );
    assert_eq!(count(&pool, "SELECT COUNT(*) FROM call_events WHERE state = 'sent'").await, 20);
    assert_eq!(receiver.hits().await.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_instance_stores_calls_and_a_worker_sends_them() {
    let db = TestDb::fresh().await;
    let web = Server::start(&db, &[]).await;
    let receiver = Receiver::http(Behavior::default()).await;
    let (_http, owner) = signed_up(&web.base).await;
    let agent = owner.create_agent("Split roles").await;
    owner.add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url })).await;
    drop(web);

    let mut command_web = Server::start_role(&db, "web", &[]).await;
    let call = api(&command_web.base, &_http).post_call(&agent, "web").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.hits().await.is_empty(), "web does not dispatch");
    let worker = Server::start_role(&db, "worker", &[]).await;
    assert_eq!(
        reqwest::get(format!("{}/api/v1/agents", worker.base)).await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "a worker serves no API"
    );
    let hits = receiver.wait_for(1).await;
    assert_eq!(call_ids(&hits).get(&call), Some(&1));
    command_web.signal("TERM");
    assert!(command_web.exit_within(Duration::from_secs(6)).await.0.success());
}

/// Opt-in retries on two instances, one killed mid-chain: every chain goes on at the other, and
/// no attempt is lost or made twice (each receiver hit is one logged attempt, numbered in order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_chains_survive_a_killed_instance_and_no_attempt_is_sent_twice() {
    let db = TestDb::fresh().await;
    let env = [("VOICY_LEASE_SECONDS", "2"), ("VOICY_RETRY_SCHEDULE_SECONDS", "1,1,1,1,1,1,1,1")];
    let mut first = Server::start(&db, &env).await;
    let second = Server::start(&db, &env).await;
    let failing =
        Behavior { status: 503, delay: Duration::from_millis(300), ..Behavior::default() };
    let receiver = Receiver::http(failing).await;
    let (http, owner) = signed_up(&first.base).await;
    let agent = owner.create_agent("Chains").await;
    let res = owner
        .add_webhook(
            &agent,
            json!({ "name": "Flaky", "url": receiver.url, "retry_policy": "backoff" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let mut calls = Vec::new();
    for _ in 0..4 {
        calls.push(owner.post_call(&agent, "web").await);
    }
    let pool = pool(&db).await;
    // Chains under way on both instances: retries logged, more due.
    let deadline = Instant::now() + Duration::from_secs(15);
    while count(&pool, "SELECT COUNT(*) FROM deliveries WHERE kind = 'retry'").await < 6 {
        assert!(Instant::now() < deadline, "no retries were made");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.signal("KILL");
    first.exit_within(Duration::from_secs(5)).await;
    receiver.answer_with(Behavior::default());

    let survivor = api(&second.base, &http);
    let deadline = Instant::now() + Duration::from_secs(30);
    for call in &calls {
        loop {
            let res = survivor.get(&format!("/api/v1/calls/{call}/deliveries")).await.json();
            let attempts = res["deliveries"].as_array().cloned().unwrap_or_default();
            if attempts.iter().any(|d| d["outcome"] == "ok") {
                let mut numbers: Vec<i64> =
                    attempts.iter().map(|d| d["attempt"].as_i64().unwrap()).collect();
                numbers.sort_unstable();
                let expected: Vec<i64> = (1..=attempts.len() as i64).collect();
                assert_eq!(numbers, expected, "each attempt once, in order: {attempts:#?}");
                let ok = attempts.iter().filter(|d| d["outcome"] == "ok").count();
                assert_eq!(ok, 1, "{attempts:#?}");
                break;
            }
            assert!(Instant::now() < deadline, "{call} was not delivered after the kill: {res:#}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let hits = call_ids(&receiver.hits().await);
    for call in &calls {
        let logged = count(
            &pool,
            &format!("SELECT COUNT(*) FROM deliveries WHERE call_id = '{call}' AND outcome <> 'interrupted'"),
        )
        .await;
        let all =
            count(&pool, &format!("SELECT COUNT(*) FROM deliveries WHERE call_id = '{call}'"))
                .await;
        let got = hits.get(call).copied().unwrap_or(0) as i64;
        assert!(
            (logged..=all).contains(&got),
            "{call}: {got} requests arrived for {logged} attempts logged ({all} with interrupted ones)"
        );
    }
}

/// A bulk replay on two instances, the one running it killed: the other carries it on to done,
/// and no call is redelivered twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_carried_on_by_another_instance_after_a_kill() {
    let db = TestDb::fresh().await;
    let env = [("VOICY_LEASE_SECONDS", "2"), ("VOICY_REPLAY_RATE_PER_SECOND", "2")];
    let mut first = Server::start(&db, &env).await;
    let receiver = Receiver::http(Behavior { status: 503, ..Behavior::default() }).await;
    let (http, owner) = signed_up(&first.base).await;
    let agent = owner.create_agent("Replayed").await;
    let res = owner.add_webhook(&agent, json!({ "name": "Down", "url": receiver.url })).await;
    let webhook = res.json()["id"].as_str().unwrap().to_owned();
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    let mut calls = Vec::new();
    for _ in 0..6 {
        let call = owner.post_call(&agent, "web").await;
        owner.settled(&call).await;
        calls.push(call);
    }
    receiver.answer_with(Behavior::default());
    let window = json!({ "since": since.to_rfc3339(), "until": (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339() });
    let started =
        owner.post(&format!("/api/v1/agents/{agent}/webhooks/{webhook}/replays"), window).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let replay = started.json()["id"].as_str().unwrap().to_owned();
    receiver.wait_for(6 + 2).await;
    let second = Server::start(&db, &env).await;
    first.signal("KILL");
    first.exit_within(Duration::from_secs(5)).await;

    let survivor = api(&second.base, &http);
    let deadline = Instant::now() + Duration::from_secs(40);
    let done = loop {
        let state = survivor.get(&format!("/api/v1/replays/{replay}")).await.json();
        if state["state"] != "running" {
            break state;
        }
        assert!(Instant::now() < deadline, "the replay was not carried on: {state:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(done["state"], "done", "{done:#}");
    assert_eq!(done["sent"], 6, "{done:#}");
    let hits = receiver.hits().await;
    let replayed = call_ids(&hits[6..]);
    assert!(replayed.values().all(|&n| n == 1), "no call redelivered twice: {replayed:?}");
    // Each call once, but for one whose request was under way at the kill (then `interrupted`).
    let interrupted = done["failed"].as_i64().unwrap() as usize;
    assert!(replayed.len() + interrupted >= 6, "{replayed:?} {done:#}");
}

/// `/metrics` on its own address, read by a Prometheus text-format parser: deliveries, latency,
/// HTTP requests by route and status, the queue and the pools, and they move with real traffic.
/// The public port does not serve it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_address_and_move_with_traffic() {
    let db = TestDb::fresh().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let server = Server::start(&db, &[("VOICY_METRICS_ADDR", &metrics_addr)]).await;
    let scrape = || async {
        let res = reqwest::get(format!("http://{metrics_addr}/metrics")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.unwrap();
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        prometheus_parse::Scrape::parse(lines).expect("the Prometheus text format")
    };
    let value = |scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]| {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                prometheus_parse::Value::Histogram(ref buckets) => {
                    buckets.last().map_or(0.0, |b| b.count)
                }
                _ => 0.0,
            })
            .sum::<f64>()
    };
    let before = scrape().await;
    assert_eq!(value(&before, "voicy_deliveries_total", &[("outcome", "ok")]), 0.0);

    let receiver = Receiver::http(Behavior::default()).await;
    let (_http, owner) = signed_up(&server.base).await;
    let agent = owner.create_agent("Metered").await;
    owner.add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url })).await;
    for _ in 0..3 {
        owner.post_call(&agent, "web").await;
    }
    receiver.wait_for(3).await;
    // Phone calls, one at a time: deployed through this instance, which then knows the
    // version's config and processes each of them at intake.
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    for i in 0..3 {
        owner.post_call(&agent, "phone").await;
        receiver.wait_for(4 + i).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let after = scrape().await;
    assert_eq!(value(&after, "voicy_deliveries_total", &[("outcome", "ok")]), 6.0);
    assert_eq!(value(&after, "voicy_delivery_duration_seconds_count", &[]), 6.0);
    let calls = [("route", "/api/v1/calls"), ("method", "POST"), ("status", "202")];
    assert_eq!(value(&after, "voicy_http_requests_total", &calls), 6.0);
    // An idle instance with free slots stores each call claimed for its own worker.
    assert_eq!(value(&after, "voicy_calls_claimed_total", &[("by", "intake")]), 6.0);
    assert_eq!(value(&after, "voicy_calls_claimed_total", &[("by", "queue")]), 0.0);
    assert_eq!(value(&after, "voicy_events_started_total", &[("at", "worker")]), 3.0);
    assert_eq!(value(&after, "voicy_events_started_total", &[("at", "intake")]), 3.0);
    for state in ["pending", "processing", "sending"] {
        assert!(
            after
                .samples
                .iter()
                .any(|s| s.metric == "voicy_queue_events" && s.labels.get("state") == Some(state))
        );
    }
    assert!(after.samples.iter().any(|s| s.metric == "voicy_queue_oldest_pending_seconds"));
    assert!(value(&after, "voicy_db_pool_connections", &[("state", "max")]) >= 1.0);
    assert!(
        reqwest::get(format!("{}/metrics", server.base)).await.unwrap().status()
            == StatusCode::NOT_FOUND,
        "the public port does not serve metrics"
    );
}
