//! The searchable deliveries log on 1,000,000 deliveries (`--phase log`; PostgreSQL with
//! `BENCH_POSTGRES`): one agent, two webhooks, 30 days of deliveries seeded in one statement
//! (10 % answered 503, 2 % timeouts, the rest 200), then each filtered page asked 200 times in a
//! row through the HTTP API, beside the same server's cheapest authenticated read.

use crate::probe::Probe;
use crate::stats::{latency, ms};
use std::time::Instant;

const DELIVERIES: i64 = 1_000_000;
const ASKS: usize = 200;

/// The statement that seeds `DELIVERIES` rows: one every 2.5 s back from now, alternating the
/// two webhooks; all of one call but the newest 100 (another call's, for the call filter).
fn seed_sql(postgres: bool) -> String {
    let (numbers, at) = if postgres {
        (
            "generate_series(0, $1 - 1) AS n(i)",
            "to_char(to_timestamp($2 - i * 2.5) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        )
    } else {
        ("n", "strftime('%Y-%m-%dT%H:%M:%fZ', $2 - i * 2.5, 'unixepoch')")
    };
    let with = if postgres {
        String::new()
    } else {
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1 - 1) "
            .to_owned()
    };
    format!(
        "{with}INSERT INTO deliveries (id, call_id, agent_id, webhook_id, webhook_name, webhook_url, started_at,
                                 duration_ms, outcome, status_code, request_headers, kind)
         SELECT 'seed-' || i, CASE WHEN i < 100 THEN $3 ELSE $4 END, $5,
                CASE WHEN i % 2 = 0 THEN $6 ELSE $7 END, 'Hook', 'https://example.com/hook', {at},
                i % 300,
                CASE WHEN i % 10 = 0 THEN 'http_status' WHEN i % 50 = 1 THEN 'timeout' ELSE 'ok' END,
                CASE WHEN i % 10 = 0 THEN 503 WHEN i % 50 = 1 THEN NULL ELSE 200 END, '[]', 'event'
         FROM {numbers}"
    )
}

pub async fn log_phase() {
    let env = crate::env(Probe::default(), |_| {}).await;
    let postgres = std::env::var("BENCH_POSTGRES").is_ok();
    let agent = env.agent(&env.fast_urls(2)).await;
    let (recent, older) = (env.submit(&agent).await, env.submit(&agent).await);
    let hooks = env.client.get(format!("{}/api/v1/agents/{agent}/webhooks", env.base));
    let hooks: serde_json::Value = hooks.send().await.unwrap().json().await.unwrap();
    let ids: Vec<String> = hooks["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_owned())
        .collect();
    let seeding = Instant::now();
    let now = chrono::Utc::now().timestamp() as f64;
    sqlx::query(&seed_sql(postgres))
        .bind(DELIVERIES)
        .bind(now)
        .bind(&recent)
        .bind(&older)
        .bind(&agent)
        .bind(&ids[0])
        .bind(&ids[1])
        .execute(&env.pool)
        .await
        .unwrap();
    sqlx::query("ANALYZE").execute(&env.pool).await.unwrap();
    println!(
        "seeded {DELIVERIES} deliveries on {} in {:.1} s",
        if postgres { "PostgreSQL" } else { "SQLite" },
        seeding.elapsed().as_secs_f64()
    );
    let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let week_ago = (chrono::Utc::now() - chrono::Duration::days(7)).to_rfc3339();
    let path = format!("/api/v1/agents/{agent}/deliveries");
    let cases = [
        ("baseline: GET /api/v1/agents/{id}", format!("/api/v1/agents/{agent}")),
        ("no filter (latest 50)", path.clone()),
        ("webhook_id", format!("{path}?webhook_id={}", ids[0])),
        ("outcome=timeout (2 %)", format!("{path}?outcome=timeout")),
        ("status=5xx (10 %)", format!("{path}?status=5xx")),
        (
            "webhook_id + outcome=http_status",
            format!("{path}?webhook_id={}&outcome=http_status", ids[1]),
        ),
        ("since = an hour ago", format!("{path}?since={}", urlencode(&hour_ago))),
        ("until = a week ago", format!("{path}?until={}", urlencode(&week_ago))),
        ("call_id (100 rows of 1 M)", format!("{path}?call_id={recent}")),
        ("kind=retry (none)", format!("{path}?kind=retry")),
        ("status=404 (none)", format!("{path}?status=404")),
        ("status=4xx (none)", format!("{path}?status=4xx")),
        ("outcome=tls (none)", format!("{path}?outcome=tls")),
    ];
    println!("| filter, {DELIVERIES} deliveries | p50 | p99 | max |\n|---|---|---|---|");
    for (label, url) in cases {
        let mut times = Vec::with_capacity(ASKS);
        for _ in 0..ASKS {
            let t = Instant::now();
            let res = env.client.get(format!("{}{url}", env.base)).send().await.unwrap();
            assert!(res.status().is_success(), "{url}: {}", res.status());
            let _ = res.bytes().await;
            times.push(t.elapsed());
        }
        let l = latency(times);
        println!("| {label} | {:.1} ms | {:.1} ms | {:.1} ms |", ms(l.p50), ms(l.p99), ms(l.max));
    }
    // The cursor: the page after the first, for the commonest filter.
    let first: serde_json::Value = env
        .client
        .get(format!("{}{path}?status=5xx", env.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = first["next_before"].as_str().unwrap().to_owned();
    let mut times = Vec::with_capacity(ASKS);
    for _ in 0..ASKS {
        let t = Instant::now();
        let res = env
            .client
            .get(format!("{}{path}?status=5xx&before={next}", env.base))
            .send()
            .await
            .unwrap();
        let _ = res.bytes().await;
        times.push(t.elapsed());
    }
    let l = latency(times);
    println!(
        "| status=5xx, second page (before=) | {:.1} ms | {:.1} ms | {:.1} ms |",
        ms(l.p50),
        ms(l.p99),
        ms(l.max)
    );
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
