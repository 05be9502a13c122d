//! What a retention pass costs (`--phase retention`; PostgreSQL with `BENCH_POSTGRES`):
//! 100,000 calls (a realistic ~4 KB transcript and its Get Call JSON each) over 58 days with
//! 1,000,000 deliveries, seeded in two statements; then one pass at 30 days (erasing about half),
//! with phone calls posted one at a time throughout, beside the same calls on the idle server
//! before it; then a second pass, which finds nothing left to erase.

use crate::probe::Probe;
use crate::stats::{latency, ms};
use std::time::{Duration, Instant};

const CALLS: i64 = 100_000;
const DELIVERIES_PER_CALL: i64 = 10;
/// Seconds between seeded calls: 100,000 of them span 58 days.
const SPACING: i64 = 50;

fn seed_calls_sql(postgres: bool) -> String {
    let (with, numbers, at) = if postgres {
        (
            "",
            "generate_series(0, $1 - 1) AS n(i)",
            "to_char(to_timestamp($2 - i * $3) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        )
    } else {
        (
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $1 - 1) ",
            "n",
            "strftime('%Y-%m-%dT%H:%M:%fZ', $2 - i * $3, 'unixepoch')",
        )
    };
    format!(
        "{with}INSERT INTO calls (id, owner_id, agent_id, agent_version, type, input, body, received_at)
         SELECT 'seed-' || i, t.owner_id, t.agent_id, t.agent_version, t.type, t.input, t.body, {at}
         FROM {numbers}, calls t WHERE t.id = $4"
    )
}

fn seed_deliveries_sql(postgres: bool) -> String {
    let ks = (0..DELIVERIES_PER_CALL)
        .map(|k| format!("SELECT {k} AS k"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let id = if postgres { "c.id || '-' || k.k::text" } else { "c.id || '-' || k.k" };
    format!(
        "INSERT INTO deliveries (id, call_id, agent_id, webhook_id, webhook_name, webhook_url, started_at,
                                 duration_ms, outcome, status_code, response_body, request_headers, kind)
         SELECT {id}, c.id, c.agent_id, 'hook-' || k.k, 'Hook', 'https://example.com/hook', c.received_at,
                12, 'ok', 200, '{{\"received\":true,\"echo\":\"I would like to move my appointment to Tuesday\"}}', '[]', 'event'
         FROM calls c, ({ks}) AS k WHERE c.id LIKE 'seed-%'"
    )
}

pub async fn retention_phase() {
    let env = crate::env(Probe::default(), |s| s.retention_days = 0).await;
    let postgres = std::env::var("BENCH_POSTGRES").is_ok();
    let agent = env.agent(&env.fast_urls(2)).await;
    let template = env.submit(&agent).await;
    crate::wait_until(|| env.arrivals.len() >= 2, Duration::from_secs(10)).await;
    let seeding = Instant::now();
    let mut tx = env.pool.begin().await.unwrap();
    let now = chrono::Utc::now().timestamp();
    sqlx::query(&seed_calls_sql(postgres))
        .bind(CALLS)
        .bind(now)
        .bind(SPACING)
        .bind(&template)
        .execute(&mut *tx)
        .await
        .unwrap();
    // The trigger queued each seeded call: they were sent long ago.
    sqlx::query("UPDATE call_events SET state = 'sent' WHERE call_id LIKE 'seed-%'")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(&seed_deliveries_sql(postgres)).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&env.pool).await.unwrap();
    let old: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM calls WHERE received_at < $1")
        .bind(
            (chrono::Utc::now() - chrono::Duration::days(30))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
        .fetch_one(&env.pool)
        .await
        .unwrap();
    println!(
        "seeded {CALLS} calls and {} deliveries on {} in {:.1} s; {old} calls are older than 30 days",
        CALLS * DELIVERIES_PER_CALL,
        if postgres { "PostgreSQL" } else { "SQLite" },
        seeding.elapsed().as_secs_f64()
    );

    // POST /calls one at a time: 300 on the idle server, then for as long as the pass runs.
    let mut idle = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        env.submit(&agent).await;
        idle.push(t.elapsed());
    }
    let store = env.store.clone();
    let started = Instant::now();
    let pass = tokio::spawn(async move { voicy_core::services::retention::pass(&store, 30).await });
    let mut during = Vec::new();
    while !pass.is_finished() {
        let t = Instant::now();
        env.submit(&agent).await;
        during.push(t.elapsed());
    }
    let took = started.elapsed();
    let done = pass.await.unwrap().unwrap();
    let second = Instant::now();
    let again = voicy_core::services::retention::pass(&env.store, 30).await.unwrap();
    let second = second.elapsed();
    let posted = during.len();
    let (idle, during) = (latency(idle), latency(during));
    println!("| retention pass, {CALLS} calls / {} deliveries | |", CALLS * DELIVERIES_PER_CALL);
    println!("|---|---|");
    println!("| calls erased | {} in {} batches |", done.erased, done.batches);
    println!(
        "| the pass | {:.1} s ({:.0} calls/s) |",
        took.as_secs_f64(),
        done.erased as f64 / took.as_secs_f64()
    );
    println!("| longest batch (writer held, SQLite) | {:.1} ms |", ms(done.longest_batch));
    println!("| a second pass (nothing left) | {:.1} ms, {} erased |", ms(second), again.erased);
    println!(
        "| POST /calls one at a time, idle before: p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        ms(idle.p50),
        ms(idle.p99),
        ms(idle.max)
    );
    println!(
        "| POST /calls one at a time during the pass ({posted} calls): p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        ms(during.p50),
        ms(during.p99),
        ms(during.max)
    );
}
