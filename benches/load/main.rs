//! The load benchmark: the real server (its router, store, dispatcher and SQLite default) in
//! this process, against receivers on loopback. Every figure is printed beside a baseline
//! measured in the same run. `make bench` runs it; BENCHMARKS.md records the results.

mod e2e;
mod hanging;
mod history;
mod log;
mod probe;
mod receiver;
mod retention;
mod signins;
mod stats;

use probe::Probe;
use receiver::Arrivals;
use serde_json::{Value, json};
use stats::{Latency, latency, median, ms};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tracing_subscriber::layer::SubscriberExt;

fn runs() -> usize {
    std::env::var("BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3)
}
const CALLS: usize = 600;
const SUBMITTERS: usize = 16;

struct Env {
    base: String,
    client: reqwest::Client,
    receiver: String,
    arrivals: Arrivals,
    probe: Probe,
    pool: sqlx::AnyPool,
    store: voicy_core::store::Store,
    _dispatcher: Option<voicy_core::dispatcher::Running>,
    _dir: tempfile::TempDir,
}

/// The server on SQLite, or on PostgreSQL when `BENCH_POSTGRES` names a server.
async fn env(probe: Probe, configure: impl FnOnce(&mut voicy::config::Settings)) -> Env {
    let backend = if std::env::var("BENCH_POSTGRES").is_ok() { "postgres" } else { "sqlite" };
    let (url, dir) = e2e::database(backend).await;
    let mut settings = voicy::config::Settings::from_lookup(|k| {
        (k == "VOICY_SECRET_KEY").then(|| voicy::config::TEST_SECRET_KEY.to_owned())
    })
    .unwrap();
    settings.database_url = voicy::config::DatabaseUrl::new(url);
    settings.allow_insecure_webhooks = true;
    configure(&mut settings);
    let voicy::Instance { router, state, dispatcher } = voicy::build(&settings).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(voicy::serve::serve(
        listener,
        router,
        settings.connections,
        std::future::pending(),
    ));
    let client =
        reqwest::Client::builder().cookie_store(true).pool_max_idle_per_host(256).build().unwrap();
    let res = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({ "email": "bench@example.com", "password": "benchmark password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (receiver, arrivals) = receiver::fast().await;
    Env {
        base,
        client,
        receiver,
        arrivals,
        probe,
        pool: state.store.pool().clone(),
        store: state.store.clone(),
        _dispatcher: dispatcher,
        _dir: dir,
    }
}

impl Env {
    async fn post(&self, path: &str, body: Value) -> Value {
        let res =
            self.client.post(format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap_or(Value::Null)
    }

    /// A deployed agent whose webhooks go to `urls`, each with a secret and 3 custom headers.
    async fn agent(&self, urls: &[String]) -> String {
        let agent = self.post("/api/v1/agents", json!({ "name": "Bench" })).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (i, url) in urls.iter().enumerate() {
            self.post(&format!("/api/v1/agents/{agent}/webhooks"), json!({
                "name": format!("Hook {i}"), "url": url, "secret": "whsec_benchmark_secret_0123456789",
                "headers": [{ "name": "Authorization", "value": "Bearer 0123456789abcdef0123456789abcdef" },
                            { "name": "X-Api-Key", "value": "key_0123456789" }, { "name": "X-Tenant", "value": "acme" }]
            }))
            .await;
        }
        self.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
        agent
    }

    fn fast_urls(&self, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{}/{i}", self.receiver)).collect()
    }

    async fn submit(&self, agent: &str) -> String {
        self.post("/api/v1/calls", call(agent)).await["id"].as_str().unwrap().to_owned()
    }
}

/// A phone call with a realistic ~4 KB transcript.
fn call(agent: &str) -> Value {
    call_with_turns(agent, 40)
}

/// A phone call whose transcript has `turns` turns of about 100 bytes each.
fn call_with_turns(agent: &str, turns: usize) -> Value {
    let transcript: Vec<Value> = (0..turns)
        .map(|i| json!({ "role": if i % 2 == 0 { "agent" } else { "user" }, "start_ms": i * 2500,
            "text": "I'd like to move my appointment to Tuesday morning, around ten if you have it." }))
        .collect();
    json!({ "agent_id": agent, "type": "phone", "from_number": "+15550100", "to_number": "+15550199",
        "started_at": "2026-11-27T09:00:00Z", "ended_at": "2026-11-27T09:01:40Z", "transcript": transcript })
}

async fn wait_until(mut done: impl FnMut() -> bool, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Deliveries per second through the whole pipeline: POST /calls → store → processing → fan-out.
async fn pipeline_throughput(env: &Env, agent: &str, expected_per_call: usize) -> f64 {
    let before = env.arrivals.len();
    let start = Instant::now();
    let tasks: Vec<_> = (0..SUBMITTERS)
        .map(|_| {
            let (client, base, body) = (env.client.clone(), env.base.clone(), call(agent));
            tokio::spawn(async move {
                for _ in 0..CALLS / SUBMITTERS {
                    client.post(format!("{base}/api/v1/calls")).json(&body).send().await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let expected = before + (CALLS / SUBMITTERS) * SUBMITTERS * expected_per_call;
    wait_until(|| env.arrivals.len() >= expected, Duration::from_secs(120)).await;
    let delivered = env.arrivals.len() - before;
    delivered as f64 / start.elapsed().as_secs_f64()
}

/// The same number of requests with the same bytes and headers from a plain reqwest client, at
/// the concurrency the pipeline reaches (submitters × webhooks), with no store and no signing.
async fn baseline_throughput(env: &Env, body: &bytes::Bytes, webhooks: usize) -> f64 {
    let http = reqwest::Client::new();
    let total = (CALLS / SUBMITTERS) * SUBMITTERS * webhooks;
    let concurrency = SUBMITTERS * webhooks;
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|w| {
            let (http, body, url) =
                (http.clone(), body.clone(), format!("{}/{}", env.receiver, w % webhooks));
            tokio::spawn(async move {
                for _ in 0..total / concurrency {
                    http.post(&url)
                        .header("Authorization", "Bearer 0123456789abcdef0123456789abcdef")
                        .header("X-Api-Key", "key_0123456789")
                        .header("X-Tenant", "acme")
                        .header("Content-Type", "application/json")
                        .header("x-voicy-event", "call_ended")
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
    (total / concurrency * concurrency) as f64 / start.elapsed().as_secs_f64()
}

/// From "processing done" to each request's handler starting at the receiver, one call at a time.
async fn fanout_latency(env: &Env, agent: &str, answering: usize, samples: usize) -> Latency {
    let mut all = Vec::new();
    env.arrivals.take();
    for _ in 0..samples {
        let id = env.submit(agent).await;
        wait_until(
            || {
                env.arrivals.0.lock().unwrap().iter().filter(|(_, c, _)| *c == id).count()
                    >= answering
            },
            Duration::from_secs(10),
        )
        .await;
        let done = env.probe.0.lock().unwrap().get(&id).copied().expect("probe saw the call");
        for (at, call, _) in env.arrivals.take() {
            if call == id {
                all.push(at.saturating_duration_since(done));
            }
        }
    }
    latency(all)
}

async fn baseline_latency(env: &Env, body: &bytes::Bytes, samples: usize) -> Latency {
    let http = reqwest::Client::new();
    let url = format!("{}/0", env.receiver);
    let mut all = Vec::new();
    env.arrivals.take();
    for _ in 0..samples {
        let sent = Instant::now();
        http.post(&url)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (at, _, _) = env.arrivals.take()[0];
        all.push(at - sent);
    }
    latency(all)
}

fn row(name: &str, ours: f64, baseline: f64, unit: &str) {
    println!("| {name} | {ours:.2} {unit} | {baseline:.2} {unit} | {:.2} |", ours / baseline);
}

async fn main_phases() {
    let probe = Probe::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(probe.clone()))
        .unwrap();
    let env = env(probe, |_| {}).await;
    let five = env.agent(&env.fast_urls(5)).await;
    let one = env.agent(&env.fast_urls(1)).await;
    let hole = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_base = format!("http://{}", hole.local_addr().unwrap());
    tokio::spawn(receiver::black_hole(hole));
    let mut iso_urls: Vec<String> = (0..4).map(|i| format!("{hole_base}/{i}")).collect();
    iso_urls.push(format!("{}/4", env.receiver));
    let isolated = env.agent(&iso_urls).await;
    // The exact bytes the pipeline sends, for the baselines.
    let sample = env.submit(&five).await;
    wait_until(|| false, Duration::from_millis(300)).await;
    let body: bytes::Bytes = env
        .client
        .get(format!("{}/api/v1/calls/{sample}", env.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();

    let (mut ours, mut base, mut under_load) = (Vec::new(), Vec::new(), Vec::new());
    let (mut l1, mut l5, mut lb, mut liso) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs() {
        eprintln!("run {}/{}", run + 1, runs());
        ours.push(pipeline_throughput(&env, &five, 5).await);
        base.push(baseline_throughput(&env, &body, 5).await);
        lb.push(baseline_latency(&env, &body, 500).await);
        l1.push(fanout_latency(&env, &one, 1, 200).await);
        l5.push(fanout_latency(&env, &five, 5, 200).await);
        liso.push(fanout_latency(&env, &isolated, 1, 200).await);
        // Other calls' throughput while 4 of 5 endpoints of another agent hang.
        for _ in 0..CALLS / 2 {
            let (client, base_url, body) = (env.client.clone(), env.base.clone(), call(&isolated));
            tokio::spawn(async move {
                client.post(format!("{base_url}/api/v1/calls")).json(&body).send().await
            });
        }
        under_load.push(pipeline_throughput(&env, &five, 5).await);
        tokio::time::sleep(Duration::from_secs(6)).await; // let the hanging requests time out
        env.arrivals.take();
    }
    let pick = |v: &Vec<Latency>, f: fn(&Latency) -> Duration| {
        median(v.iter().map(|l| ms(f(l))).collect())
    };
    let backend = if std::env::var("BENCH_POSTGRES").is_ok() { "PostgreSQL" } else { "SQLite" };
    println!("\n## Results on {backend} (median of {} runs)\n", runs());
    println!("| measure | Voicy | baseline | ratio |\n|---|---|---|---|");
    row("throughput, deliveries/s (5 webhooks/call)", median(ours.clone()), median(base), "/s");
    for (label, v) in [("1 webhook", &l1), ("5 webhooks", &l5), ("4 of 5 dead (live one)", &liso)] {
        for (stat, f) in [
            ("p50", (|l: &Latency| l.p50) as fn(&Latency) -> Duration),
            ("p99", |l| l.p99),
            ("max", |l| l.max),
        ] {
            row(&format!("fan-out latency {label} {stat}, ms"), pick(v, f), pick(&lb, f), "ms");
        }
    }
    row(
        "throughput of other calls while 4/5 endpoints hang, deliveries/s",
        median(under_load),
        median(ours),
        "/s",
    );
}

/// Only the pipeline throughput, for profiling (`perf record … --phase throughput`).
async fn throughput_phase() {
    let env = env(Probe::default(), |_| {}).await;
    let five = env.agent(&env.fast_urls(5)).await;
    for _ in 0..runs() {
        println!(
            "pipeline throughput: {:.0} deliveries/s",
            pipeline_throughput(&env, &five, 5).await
        );
    }
}

/// Dashboard: server-rendered Settings page (5 webhooks) and POST /calls at 64 clients; the
/// Settings page again on a server that renders every page (kept pages off: what a page whose
/// data changes between two views costs).
async fn dashboard_phase() {
    let env = env(Probe::default(), |_| {}).await;
    let agent = env.agent(&env.fast_urls(5)).await;
    let quiet = env.post("/api/v1/agents", json!({ "name": "No webhooks" })).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (label, url, post) in [
        ("Settings page (SSR), requests/s", format!("{}/agents/{agent}/settings", env.base), false),
        ("POST /api/v1/calls accepted/s", format!("{}/api/v1/calls", env.base), true),
        // Baseline: a light server-rendered page (the agent list: 3 reads) on the same stack.
        ("baseline: Agents page (SSR), requests/s", format!("{}/agents", env.base), false),
    ] {
        let (rate, p99) = at_64_clients(&env.client, &url, post.then(|| call(&quiet))).await;
        println!("| {label} | {rate:.0} /s, p99 {p99:.1} ms |");
    }
    drop(env);
    settings_rendered_phase().await;
}

/// The Settings page on a server that renders every page (also alone, for profiling:
/// `perf record … --phase rendered`).
async fn settings_rendered_phase() {
    let unkept = crate::env(Probe::default(), |s| s.page_cache_bytes = 0).await;
    let agent = unkept.agent(&unkept.fast_urls(5)).await;
    let (rate, p99) =
        at_64_clients(&unkept.client, &format!("{}/agents/{agent}/settings", unkept.base), None)
            .await;
    println!(
        "| Settings page rendered every time (VOICY_PAGE_CACHE_MB=0), requests/s | {rate:.0} /s, p99 {p99:.1} ms |"
    );
}

/// Median rate and p99 (ms) of `runs()` runs of 3 s, 64 clients, GET `url` or POST `body`.
async fn at_64_clients(client: &reqwest::Client, url: &str, body: Option<Value>) -> (f64, f64) {
    let mut rates = Vec::new();
    let mut p99s = Vec::new();
    for _ in 0..runs() {
        let start = Instant::now();
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (client, url, body) = (client.clone(), url.to_owned(), body.clone());
                tokio::spawn(async move {
                    let mut times = Vec::new();
                    while start.elapsed() < Duration::from_secs(3) {
                        let t = Instant::now();
                        let res = match &body {
                            Some(body) => client.post(&url).json(body).send().await,
                            None => client.get(&url).send().await,
                        }
                        .unwrap();
                        assert!(res.status().is_success());
                        let _ = res.bytes().await;
                        times.push(t.elapsed());
                    }
                    times
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        rates.push(all.len() as f64 / start.elapsed().as_secs_f64());
        p99s.push(ms(latency(all).p99));
    }
    (median(rates), median(p99s))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let phase =
        args.iter().position(|a| a == "--phase").and_then(|i| args.get(i + 1)).map(String::as_str);
    match phase {
        Some("blackhole") => {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            println!("http://{}", listener.local_addr().unwrap());
            receiver::black_hole(listener).await;
        }
        Some("rss") => hanging::all().await,
        Some("rss-ours") => hanging::ours(args.last().and_then(|a| a.parse().ok())).await,
        Some("rss-baseline") => hanging::baseline().await,
        Some("throughput") => throughput_phase().await,
        Some("dashboard") => dashboard_phase().await,
        Some("rendered") => settings_rendered_phase().await,
        Some("e2e") => e2e::e2e_phase().await,
        Some("log") => log::log_phase().await,
        Some("retention") => retention::retention_phase().await,
        Some("history") => history::history_phase().await,
        Some("signins") => signins::both().await,
        Some("signins-uncapped") => signins::uncapped().await,
        Some("signins-capped") => signins::capped().await,
        Some("signins-burst") => signins::burst(args.last().unwrap()).await,
        Some("main") | None => main_phases().await,
        Some(other) => panic!("unknown phase {other}"),
    }
}
