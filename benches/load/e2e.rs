//! The end-to-end phase: phone calls posted through `POST /api/v1/calls` with an API key, as a
//! telephony layer would, timed from the request to each webhook request's arrival at a
//! loopback receiver. 5,000 calls at 32 concurrent clients, then 300 one at a time, with 1 and 5
//! webhooks (each signed, with one custom header), on SQLite, on PostgreSQL (`BENCH_POSTGRES`, a
//! server URL; a database is created per run) with 1 instance and with 2 sharing it. The
//! baseline, in the same run: a plain reqwest client POSTing the same bytes to the same receiver
//! at the same concurrency, with no API, store or dispatcher.

use crate::receiver::{self, Arrivals};
use crate::stats::{Latency, latency, ms};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const CALLS: usize = 5000;
const CLIENTS: usize = 32;
const ONE_AT_A_TIME: usize = 300;

struct Cluster {
    url: String,
    bases: Vec<String>,
    key: String,
    http: reqwest::Client,
    _instances: Vec<voicy::Instance>,
    _dir: tempfile::TempDir,
}

pub async fn database(backend: &str) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    if backend == "sqlite" {
        return (format!("sqlite://{}/bench.db", dir.path().display()), dir);
    }
    use sqlx::Connection;
    let server = std::env::var("BENCH_POSTGRES").unwrap();
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    (url.to_string(), dir)
}

async fn cluster(backend: &str, instances: usize) -> Cluster {
    let (url, dir) = database(backend).await;
    let mut settings = voicy::config::Settings::from_lookup(|k| {
        (k == "VOICY_SECRET_KEY").then(|| voicy::config::TEST_SECRET_KEY.to_owned())
    })
    .unwrap();
    settings.database_url = voicy::config::DatabaseUrl::new(url);
    settings.allow_insecure_webhooks = true;
    let (mut bases, mut built) = (Vec::new(), Vec::new());
    for _ in 0..instances {
        let instance = voicy::build(&settings).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        bases.push(format!("http://{}", listener.local_addr().unwrap()));
        let router = instance.router.clone();
        tokio::spawn(voicy::serve::serve(
            listener,
            router,
            settings.connections,
            std::future::pending(),
        ));
        built.push(instance);
    }
    let owner = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let signup = json!({ "email": "bench@example.com", "password": "benchmark password" });
    assert_eq!(
        owner
            .post(format!("{}/api/v1/auth/signup", bases[0]))
            .json(&signup)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let key: Value = owner
        .post(format!("{}/api/v1/api-keys", bases[0]))
        .json(&json!({ "name": "telephony" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Cluster {
        url: settings.database_url.expose().to_owned(),
        bases,
        key: key["key"].as_str().unwrap().to_owned(),
        http: reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap(),
        _instances: built,
        _dir: dir,
    }
}

impl Cluster {
    async fn post(&self, path: &str, body: &Value) -> Value {
        let res = self
            .http
            .post(format!("{}{path}", self.bases[0]))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap_or(Value::Null)
    }

    /// A deployed agent whose `n` webhooks go to the receiver, each signed, with one header.
    async fn agent(&self, receiver: &str, n: usize) -> String {
        let agent = self.post("/api/v1/agents", &json!({ "name": "E2E" })).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for i in 0..n {
            self.post(&format!("/api/v1/agents/{agent}/webhooks"), &json!({
                "name": format!("Hook {i}"), "url": format!("{receiver}/{i}"), "secret": "whsec_benchmark_secret_0123456789",
                "headers": [{ "name": "Authorization", "value": "Bearer 0123456789abcdef0123456789abcdef" }]
            }))
            .await;
        }
        self.post(&format!("/api/v1/agents/{agent}/deploy"), &json!({})).await;
        agent
    }

    /// Posts one call through instance `i % instances`; its id and when the request started.
    async fn call(&self, i: usize, body: &Value) -> (String, Instant) {
        let sent = Instant::now();
        let url = format!("{}/api/v1/calls", self.bases[i % self.bases.len()]);
        let res = self.http.post(url).bearer_auth(&self.key).json(body).send().await.unwrap();
        assert_eq!(res.status(), 202);
        let id: Value = res.json().await.unwrap();
        (id["id"].as_str().unwrap().to_owned(), sent)
    }
}

/// A phone call with a 4.6 KB transcript.
fn call_body(agent: &str) -> Value {
    crate::call_with_turns(agent, 44)
}

async fn wait_for(arrivals: &Arrivals, n: usize, limit: Duration) {
    arrivals.wait_for(n, limit).await;
    assert!(arrivals.len() >= n, "{} of {n} deliveries arrived", arrivals.len());
}

fn end_to_end(sent: &HashMap<String, Instant>, arrivals: Vec<(Instant, String, u32)>) -> Latency {
    latency(
        arrivals
            .into_iter()
            .filter_map(|(at, id, _)| sent.get(&id).map(|s| at.saturating_duration_since(*s)))
            .collect(),
    )
}

/// Deliveries/s and end-to-end latency of `CALLS` calls at `CLIENTS` concurrent clients.
async fn burst(
    cluster: &std::sync::Arc<Cluster>, agent: &str, arrivals: &Arrivals, webhooks: usize,
) -> (f64, Latency) {
    arrivals.take();
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (cluster, body) = (cluster.clone(), call_body(agent));
            tokio::spawn(async move {
                let mut sent = Vec::new();
                for i in 0..CALLS / CLIENTS {
                    sent.push(cluster.call(c + i * CLIENTS, &body).await);
                }
                sent
            })
        })
        .collect();
    let mut sent = HashMap::new();
    for t in tasks {
        sent.extend(t.await.unwrap());
    }
    wait_for(arrivals, sent.len() * webhooks, Duration::from_secs(300)).await;
    let rate = arrivals.len() as f64 / start.elapsed().as_secs_f64();
    (rate, end_to_end(&sent, arrivals.take()))
}

/// End to end, and to the 202 alone (the part before the call is durable).
async fn one_at_a_time(
    cluster: &Cluster, agent: &str, arrivals: &Arrivals, webhooks: usize,
) -> (Latency, Latency) {
    arrivals.take();
    let body = call_body(agent);
    let (mut sent, mut accepted) = (HashMap::new(), Vec::new());
    let show_slow = std::env::var("BENCH_SLOW").is_ok();
    for i in 0..ONE_AT_A_TIME {
        let (id, at) = cluster.call(i, &body).await;
        let took = at.elapsed();
        accepted.push(took);
        if show_slow && took > Duration::from_micros(2500) {
            eprintln!("SLOW {webhooks} #{i}: {took:?}");
        }
        sent.insert(id, at);
        wait_for(arrivals, (i + 1) * webhooks, Duration::from_secs(10)).await;
    }
    (end_to_end(&sent, arrivals.take()), latency(accepted))
}

/// The raw limit: the same bytes, plain reqwest, same concurrency, no API or store.
async fn baseline(receiver: &str, arrivals: &Arrivals, webhooks: usize) -> (f64, Latency) {
    let body = bytes::Bytes::from(serde_json::to_vec(&call_body("baseline")).unwrap());
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap();
    arrivals.take();
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS * webhooks)
        .map(|w| {
            let (http, body, url) =
                (http.clone(), body.clone(), format!("{receiver}/{}", w % webhooks));
            tokio::spawn(async move {
                for _ in 0..CALLS / CLIENTS {
                    http.post(&url)
                        .header("Content-Type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let rate = arrivals.len() as f64 / start.elapsed().as_secs_f64();
    arrivals.take();
    let mut one = Vec::new();
    for _ in 0..ONE_AT_A_TIME {
        let sent = Instant::now();
        http.post(format!("{receiver}/0")).body(body.clone()).send().await.unwrap();
        one.push(arrivals.take()[0].0 - sent);
    }
    (rate, latency(one))
}

/// WAL bytes, commits and rows written so far in the cluster's database (PostgreSQL only).
async fn pg_counters(url: &str) -> (f64, f64, f64) {
    use sqlx::Connection;
    // The statistics are flushed about once a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query_as(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8, xact_commit::float8, (tup_inserted + tup_updated + tup_deleted)::float8
         FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

pub async fn e2e_phase() {
    // `BENCH_LOG=warn` (a tracing filter): the servers' log on stderr, to see what a slow run did.
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let (receiver, arrivals) = receiver::fast().await;
    let mut setups = vec![("SQLite", "sqlite", 1)];
    if std::env::var("BENCH_POSTGRES").is_ok() {
        setups.push(("PostgreSQL", "postgres", 1));
        setups.push(("PostgreSQL", "postgres", 2));
    }
    println!(
        "| setup | webhooks | deliveries/s (5,000 calls, 32 clients) | e2e p50 / p99 under load | e2e p50 / p99 one at a time | its 202: p50 / p99 |"
    );
    println!("|---|---|---|---|---|---|");
    for webhooks in [1, 5] {
        let (rate, one) = baseline(&receiver, &arrivals, webhooks).await;
        println!(
            "| baseline: raw reqwest | {webhooks} | {rate:.0} | — | {:.2} / {:.2} ms | — |",
            ms(one.p50),
            ms(one.p99)
        );
    }
    let mut written = Vec::new();
    for (name, backend, instances) in setups {
        for webhooks in [1, 5] {
            let cluster = std::sync::Arc::new(cluster(backend, instances).await);
            let agent = cluster.agent(&receiver, webhooks).await;
            let (one, accepted) = one_at_a_time(&cluster, &agent, &arrivals, webhooks).await;
            let before =
                if backend == "postgres" { Some(pg_counters(&cluster.url).await) } else { None };
            let (rate, loaded) = burst(&cluster, &agent, &arrivals, webhooks).await;
            if let Some((wal, commits, rows)) = before {
                let (wal2, commits2, rows2) = pg_counters(&cluster.url).await;
                let n = CALLS as f64;
                written.push(format!(
                    "| {instances} instance(s), {webhooks} webhook(s) | {:.1} KB | {:.1} | {:.1} |",
                    (wal2 - wal) / n / 1024.0,
                    (commits2 - commits) / n,
                    (rows2 - rows) / n
                ));
            }
            println!(
                "| {name}, {instances} instance(s) | {webhooks} | {rate:.0} | {:.1} / {:.1} ms | {:.2} / {:.2} ms | {:.2} / {:.2} ms |",
                ms(loaded.p50),
                ms(loaded.p99),
                ms(one.p50),
                ms(one.p99),
                ms(accepted.p50),
                ms(accepted.p99)
            );
        }
    }
    if !written.is_empty() {
        println!(
            "\n| PostgreSQL, per call (burst phase) | WAL written | commits | rows written |\n|---|---|---|---|"
        );
        for line in written {
            println!("{line}");
        }
    }
}
