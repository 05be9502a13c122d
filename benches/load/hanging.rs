//! Memory while webhook requests hang: every request to a black hole (accepts, never answers)
//! lasts its full 5 s. Ours: the real server, calls posted through the API until 10,080
//! deliveries hang at once (2,016 calls × 5 webhooks). Baseline, in the same run and in a process
//! of its own: a plain reqwest client, built like the dispatcher's, holding as many requests with
//! the same body and headers, nothing else. The black hole runs in a third process, so its
//! sockets are counted in neither.

use crate::probe::Probe;
use crate::{Env, call, env, ms};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// Deliveries hanging at once in the measure (the figure the targets are stated for).
pub const HANGING: usize = 10_080;
const WEBHOOKS: usize = 5;

/// kB, from a line of /proc/self/status (`VmRSS`, `VmHWM`).
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_default();
    line.trim_start_matches(field)
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap_or(0)
}

/// The largest anonymous (heap, stacks) and file-backed (the binary, SQLite's mapped pages)
/// resident sizes seen, sampled every 50 ms until `stop`.
fn sample_rss(
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<(u64, u64)> {
    tokio::spawn(async move {
        let (mut anon, mut file, mut threads) = (0, 0, 0);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            anon = anon.max(status_kb("RssAnon"));
            file = file.max(status_kb("RssFile"));
            threads = threads.max(status_kb("Threads"));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!("| threads at most | {threads} |");
        (anon, file)
    })
}

/// Starts `--phase <phase>` of this benchmark in a child process; the first line it prints.
async fn child(
    phase: &str, arg: Option<&str>,
) -> (
    tokio::process::Child,
    tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    String,
) {
    let mut command = tokio::process::Command::new(std::env::current_exe().unwrap());
    command
        .arg("--phase")
        .arg(phase)
        .args(arg)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap_or_default();
    (child, lines, first)
}

pub async fn black_hole_child() -> (tokio::process::Child, String) {
    let (child, _, url) = child("blackhole", None).await;
    (child, url)
}

/// Ours with the default per-webhook limit, ours without it, and the baseline, each in its own process.
pub async fn all() {
    for (phase, arg) in [("rss-ours", None), ("rss-ours", Some("100000")), ("rss-baseline", None)] {
        let (mut process, mut out, first) = child(phase, arg).await;
        println!("{first}");
        while let Some(line) = out.next_line().await.unwrap() {
            println!("{line}");
        }
        process.wait().await.unwrap();
    }
}

/// The real server: calls go in through the API, their deliveries hang; the peak RSS over the
/// idle RSS once the server is up, per hanging delivery, and the Settings page's answer meanwhile.
/// `per_webhook`: `VOICY_MAX_REQUESTS_PER_WEBHOOK` (its default when `None`).
pub async fn ours(per_webhook: Option<usize>) {
    let (_hole, hole) = black_hole_child().await;
    let env: Env = env(Probe::default(), |s| {
        s.max_calls_in_flight = HANGING / WEBHOOKS;
        if let Some(max) = per_webhook {
            s.max_requests_per_webhook = max;
        }
    })
    .await;
    println!(
        "| ours, {} requests per webhook at most: {HANGING} deliveries to 5 dead webhooks in 9 s |  |",
        per_webhook.map_or("default:".to_owned(), |m| m.to_string())
    );
    let agent = env.agent(&(0..WEBHOOKS).map(|i| format!("{hole}/{i}")).collect::<Vec<_>>()).await;
    let settings_url = format!("{}/agents/{agent}/settings", env.base);
    let idle = (status_kb("RssAnon"), status_kb("RssFile"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = sample_rss(stop.clone());
    let start = Instant::now();
    let calls = HANGING / WEBHOOKS;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let (client, base, body) = (env.client.clone(), env.base.clone(), call(&agent));
            tokio::spawn(async move {
                for _ in (i..calls).step_by(32) {
                    client.post(format!("{base}/api/v1/calls")).json(&body).send().await.unwrap();
                }
            })
        })
        .collect();
    let (mut peak, mut worst) = (0i64, Duration::ZERO);
    while start.elapsed() < Duration::from_secs(9) {
        let hanging: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE outcome = 'sending'")
                .fetch_one(&env.pool)
                .await
                .unwrap();
        peak = peak.max(hanging);
        let t = Instant::now();
        let res = env.client.get(&settings_url).send().await.unwrap();
        assert!(res.status().is_success());
        let _ = res.bytes().await;
        worst = worst.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (anon, file) = sampler.await.unwrap();
    let not_sent: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE outcome = 'in_flight_limit'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    println!(
        "| ours: peak deliveries hanging at once | {peak} (not sent, over the limit: {not_sent}) |"
    );
    println!(
        "| ours: peak RSS (server process, bench client included) | {} MiB |",
        status_kb("VmHWM") / 1024
    );
    println!("| ours: anonymous RSS idle → peak | {} → {} MiB |", idle.0 / 1024, anon / 1024);
    println!("| ours: file-backed RSS idle → peak | {} → {} MiB |", idle.1 / 1024, file / 1024);
    println!(
        "| ours: anonymous per hanging delivery | {:.1} KB |",
        (anon - idle.0) as f64 * 1.024 / peak.max(1) as f64
    );
    println!("| ours: slowest Settings page answer while they hang | {:.1} ms |", ms(worst));
}

/// The baseline: the same requests from a plain reqwest client, nothing else in the process.
pub async fn baseline() {
    let (_hole, hole) = black_hole_child().await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .build()
        .unwrap();
    let body = bytes::Bytes::from(
        serde_json::to_vec(&call("00000000-0000-0000-0000-000000000000")).unwrap(),
    );
    let idle = (status_kb("RssAnon"), status_kb("RssFile"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = sample_rss(stop.clone());
    let tasks: Vec<_> = (0..HANGING)
        .map(|i| {
            let request = http
                .post(format!("{hole}/{}", i % WEBHOOKS))
                .body(body.clone())
                .header("content-type", "application/json")
                .header("x-voicy-event", "call_ended")
                .header("x-voicy-signature", "0".repeat(64))
                .header("authorization", "Bearer 0123456789abcdef0123456789abcdef")
                .header("x-api-key", "key_0123456789")
                .header("x-tenant", "acme");
            tokio::spawn(
                async move { request.send().await.map(|_| ()).map_err(|e| e.is_timeout()) },
            )
        })
        .collect();
    let mut timeouts = 0;
    for t in tasks {
        timeouts += usize::from(t.await.unwrap() == Err(true));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (anon, file) = sampler.await.unwrap();
    println!("| baseline: plain reqwest, {HANGING} requests hanging (timed out: {timeouts}) |  |");
    println!("| baseline: peak RSS | {} MiB |", status_kb("VmHWM") / 1024);
    println!("| baseline: anonymous RSS idle → peak | {} → {} MiB |", idle.0 / 1024, anon / 1024);
    println!("| baseline: file-backed RSS idle → peak | {} → {} MiB |", idle.1 / 1024, file / 1024);
    println!(
        "| baseline: anonymous per hanging request | {:.1} KB |",
        (anon - idle.0) as f64 * 1.024 / HANGING as f64
    );
}
