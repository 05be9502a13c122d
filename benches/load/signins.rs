//! Memory under a burst of sign-ins. Each sign-in runs argon2id (19 MiB of memory per hash).
//! Baseline: what the server did before the hashing cap — every attempt hashed at once on
//! tokio's blocking pool (up to 512 threads). Ours: the real server, 300 concurrent sign-ins with
//! correct passwords from 100 client addresses (127.0.0.x, so the per-address throttle does not
//! simply turn them away). Each runs in its own process, so each peak RSS is its own.

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use serde_json::json;
use std::time::Instant;

const ATTEMPTS: usize = 300;

fn peak_rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        .unwrap_or_default()
}

fn current_rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .map(|l| l.trim_start_matches("VmRSS:").trim().to_owned())
        .unwrap_or_default()
}

/// The old path: one blocking task per attempt, no cap.
pub async fn uncapped() {
    let phc = argon2::Argon2::default()
        .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
    let start = Instant::now();
    let tasks: Vec<_> = (0..ATTEMPTS)
        .map(|_| {
            let phc = phc.clone();
            tokio::task::spawn_blocking(move || {
                argon2::Argon2::default()
                    .verify_password(b"correct horse battery", &PasswordHash::new(&phc).unwrap())
                    .is_ok()
            })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap());
    }
    println!(
        "| before: {ATTEMPTS} hashes at once, uncapped | peak RSS {} | all done in {:.1} s |",
        peak_rss(),
        start.elapsed().as_secs_f64()
    );
}

/// The real server under the same burst.
pub async fn capped() {
    let (url, _dir) = super::e2e::database("sqlite").await;
    let mut settings = voicy::config::Settings::from_lookup(|k| {
        (k == "VOICY_SECRET_KEY").then(|| voicy::config::TEST_SECRET_KEY.to_owned())
    })
    .unwrap();
    settings.database_url = voicy::config::DatabaseUrl::new(url);
    let instance = voicy::build(&settings).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(voicy::serve::serve(
        listener,
        instance.router,
        settings.connections,
        std::future::pending(),
    ));
    // 30 accounts × 10 attempts: within the per-account quota.
    let http = reqwest::Client::new();
    for i in 0..30 {
        let account =
            json!({ "email": format!("user{i}@example.com"), "password": "correct horse battery" });
        assert_eq!(
            http.post(format!("{base}/api/v1/auth/signup"))
                .json(&account)
                .send()
                .await
                .unwrap()
                .status(),
            201
        );
    }
    let before = current_rss();
    // The clients run in a process of their own, so the peak below is the server's alone.
    let out = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--phase", "signins-burst", &base])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    println!(
        "| after: {ATTEMPTS} sign-ins at once to the server | peak RSS {} (idle before: {before}) | {} |",
        peak_rss(),
        String::from_utf8_lossy(&out.stdout).trim()
    );
}

/// The burst of sign-ins against the server at `base`: prints how they were answered.
pub async fn burst(base: &str) {
    let clients: Vec<reqwest::Client> = (0..100u8)
        .map(|i| {
            reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, 2 + i]))
                .build()
                .unwrap()
        })
        .collect();
    let start = Instant::now();
    let tasks: Vec<_> = (0..ATTEMPTS)
        .map(|i| {
            let client = clients[i % 100].clone();
            let account = json!({ "email": format!("user{}@example.com", i % 30), "password": "correct horse battery" });
            let url = format!("{base}/api/v1/auth/login");
            tokio::spawn(async move { client.post(url).json(&account).send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    for t in tasks {
        *statuses.entry(t.await.unwrap()).or_insert(0) += 1;
    }
    let answers: Vec<String> =
        statuses.iter().map(|(status, n)| format!("{n} × {status}")).collect();
    println!("answered in {:.1} s: {}", start.elapsed().as_secs_f64(), answers.join(", "));
}

/// Runs both, each in a child process of its own.
pub async fn both() {
    for phase in ["signins-uncapped", "signins-capped"] {
        let out = tokio::process::Command::new(std::env::current_exe().unwrap())
            .arg("--phase")
            .arg(phase)
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{phase}: {}", String::from_utf8_lossy(&out.stderr));
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}
