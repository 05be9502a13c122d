//! The queue's claim on a long history, and what time partitions would change (`--phase history`,
//! PostgreSQL only, `BENCH_POSTGRES`): 10,000,000 settled calls over 100 days (100,000 a day) in
//! today's schema, the same events copied into a table partitioned by day (what a partitioned
//! schema would hold), and 2,000 calls pending in both and, as the baseline, in a table of
//! today's schema with no history. Then, by turns on the two tables, the
//! claim statement as `Store::claim_calls` runs it (batches of 64 and single calls, each batch
//! put back between samples), and the cost of letting the oldest day go: a `DELETE` of its
//! 100,000 rows against dropping its partition.

use crate::stats::{latency, ms};
use sqlx::{Executor, PgPool};
use std::time::{Duration, Instant};

const HISTORY: i64 = 10_000_000;
const DAYS: i64 = 100;
const PENDING: i64 = 2_000;
const SAMPLES: usize = 200;
const CLOCK: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// `Store::claim_calls`' statement against a table of today's schema.
fn claim_plain(table: &str) -> String {
    format!(
        "UPDATE {table} SET state = 'processing', lease_owner = 'bench', lease_token = $2,
                lease_expires_at = {CLOCK} + 20000, attempts = attempts + 1
         WHERE call_id IN (SELECT call_id FROM {table} WHERE state = 'pending' AND not_before <= {CLOCK}
                           ORDER BY rowid LIMIT $1 FOR UPDATE SKIP LOCKED)
           AND state = 'pending'
         RETURNING call_id"
    )
}

/// The same against the partitioned table: the partition key travels with each id, so the
/// update finds each row in its own partition.
fn claim_partitioned() -> String {
    format!(
        "UPDATE events_by_day SET state = 'processing', lease_owner = 'bench', lease_token = $2,
                lease_expires_at = {CLOCK} + 20000, attempts = attempts + 1
         WHERE (day, call_id) IN (SELECT day, call_id FROM events_by_day WHERE state = 'pending' AND not_before <= {CLOCK}
                                  ORDER BY rowid LIMIT $1 FOR UPDATE SKIP LOCKED)
           AND state = 'pending'
         RETURNING call_id"
    )
}

/// One seeding statement, which must succeed.
async fn run(conn: &mut sqlx::PgConnection, sql: impl AsRef<str>) {
    conn.execute(sql.as_ref()).await.unwrap();
}

async fn seed(pool: &PgPool) {
    let started = Instant::now();
    let mut conn = pool.acquire().await.unwrap();
    // Seeding only: no triggers, no foreign-key checks (they are triggers too).
    run(&mut conn, "SET session_replication_role = replica").await;
    let day_of = |i: &str| format!("(current_date - {DAYS} + ({i} - 1) / {})", HISTORY / DAYS);
    run(
        &mut conn,
        format!(
            "INSERT INTO calls (id, owner_id, agent_id, agent_version, type, input, received_at)
             SELECT 'h' || i, 'owner', 'agent', 1, 'phone', '{{}}', to_char({}, 'YYYY-MM-DD\"T\"00:00:00.000\"Z\"')
             FROM generate_series(1, {HISTORY}) AS i",
            day_of("i")
        ),
    )
    .await;
    run(
        &mut conn,
        format!(
            "INSERT INTO call_events (call_id, state, attempts) SELECT 'h' || i, 'sent', 1 FROM generate_series(1, {HISTORY}) AS i"
        ),
    )
    .await;
    // Today's schema with a day column, partitioned by it, one partition a day.
    run(&mut conn, "CREATE TABLE events_by_day (
             rowid BIGSERIAL, call_id TEXT NOT NULL, day DATE NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
             note TEXT, lease_owner TEXT, lease_token TEXT, lease_expires_at BIGINT,
             attempts BIGINT NOT NULL DEFAULT 0, not_before BIGINT NOT NULL DEFAULT 0,
             PRIMARY KEY (day, call_id)
         ) PARTITION BY RANGE (day)").await;
    for d in 0..=DAYS {
        run(
            &mut conn,
            format!(
                "CREATE TABLE events_day_{d} PARTITION OF events_by_day
                 FOR VALUES FROM (current_date - {DAYS} + {d}) TO (current_date - {DAYS} + {d} + 1)"
            ),
        )
        .await;
    }
    run(&mut conn, "CREATE INDEX events_by_day_queue ON events_by_day(state, not_before) WHERE state IN ('pending', 'processing', 'sending')").await;
    run(
        &mut conn,
        format!(
            "INSERT INTO events_by_day (call_id, day, state, attempts)
             SELECT 'h' || i, {}, 'sent', 1 FROM generate_series(1, {HISTORY}) AS i",
            day_of("i")
        ),
    )
    .await;
    // The calls waiting now, in both.
    run(
        &mut conn,
        format!(
            "INSERT INTO calls (id, owner_id, agent_id, agent_version, type, input, received_at)
             SELECT 'p' || i, 'owner', 'agent', 1, 'phone', '{{}}', to_char(now(), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
             FROM generate_series(1, {PENDING}) AS i"
        ),
    )
    .await;
    run(
        &mut conn,
        format!(
            "INSERT INTO call_events (call_id) SELECT 'p' || i FROM generate_series(1, {PENDING}) AS i"
        ),
    )
    .await;
    run(
        &mut conn,
        format!(
            "INSERT INTO events_by_day (call_id, day) SELECT 'p' || i, current_date FROM generate_series(1, {PENDING}) AS i"
        ),
    )
    .await;
    // The baseline: the same pending calls with no history at all.
    run(&mut conn, "CREATE TABLE events_recent (LIKE call_events INCLUDING ALL)").await;
    run(
        &mut conn,
        format!(
            "INSERT INTO events_recent (call_id) SELECT 'p' || i FROM generate_series(1, {PENDING}) AS i"
        ),
    )
    .await;
    run(&mut conn, "RESET session_replication_role").await;
    run(&mut conn, "VACUUM ANALYZE").await;
    eprintln!("seeded in {:.0} s", started.elapsed().as_secs_f64());
}

/// One claim of `batch` calls, timed; the claimed calls are put back (untimed).
async fn claim_once(pool: &PgPool, sql: &str, table: &str, batch: i64) -> Duration {
    let token = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let claimed: Vec<String> =
        sqlx::query_scalar(sql).bind(batch).bind(&token).fetch_all(pool).await.unwrap();
    let took = started.elapsed();
    assert_eq!(claimed.len() as i64, batch, "the pending calls are there to claim");
    // By id (the pending calls are all of today, so the partitioned table is told the day).
    sqlx::query(&format!(
        "UPDATE {table} SET state = 'pending', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
         WHERE call_id = ANY($1){}",
        if table == "events_by_day" { " AND day = current_date" } else { "" }
    ))
    .bind(&claimed)
    .execute(pool)
    .await
    .unwrap();
    took
}

pub async fn history_phase() {
    let server = std::env::var("BENCH_POSTGRES").expect("--phase history runs on PostgreSQL");
    let (url, _dir) = crate::e2e::database("postgres").await;
    // The schema, migrated by the server itself; no dispatcher (it would claim the calls).
    let mut settings = voicy::config::Settings::from_lookup(|k| {
        (k == "VOICY_SECRET_KEY").then(|| voicy::config::TEST_SECRET_KEY.to_owned())
    })
    .unwrap();
    settings.database_url = voicy::config::DatabaseUrl::new(url.clone());
    settings.role = voicy::config::Role::Web;
    settings.retention_days = 0;
    let _instance = voicy::build(&settings).await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    eprintln!("seeding {HISTORY} calls over {DAYS} days on {server}…");
    seed(&pool).await;

    println!("| claim statement, {HISTORY} settled calls, {PENDING} pending | p50 | p99 | max |");
    println!("|---|---|---|---|");
    for batch in [64, 1] {
        let (mut recent, mut plain, mut partitioned) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..SAMPLES {
            let (sql, table) = (claim_plain("events_recent"), "events_recent");
            recent.push(claim_once(&pool, &sql, table, batch).await);
            let (sql, table) = (claim_plain("call_events"), "call_events");
            plain.push(claim_once(&pool, &sql, table, batch).await);
            let (sql, table) = (claim_partitioned(), "events_by_day");
            partitioned.push(claim_once(&pool, &sql, table, batch).await);
        }
        for (name, samples) in [
            ("baseline: no history, today's schema", recent),
            ("today's table", plain),
            ("partitioned by day (101)", partitioned),
        ] {
            let l = latency(samples);
            println!(
                "| {name}, {batch} call(s) a claim | {:.2} ms | {:.2} ms | {:.2} ms |",
                ms(l.p50),
                ms(l.p99),
                ms(l.max)
            );
        }
    }

    // Letting the oldest day go: its 100,000 events.
    let day = format!("current_date - {DAYS}");
    let started = Instant::now();
    let deleted = sqlx::query(&format!(
        "DELETE FROM call_events WHERE call_id IN (SELECT id FROM calls WHERE received_at < to_char({day} + 1, 'YYYY-MM-DD'))"
    ))
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected();
    let delete = started.elapsed();
    let started = Instant::now();
    sqlx::query("ALTER TABLE events_by_day DETACH PARTITION events_day_0")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DROP TABLE events_day_0").execute(&pool).await.unwrap();
    let drop = started.elapsed();
    println!(
        "\n| the oldest day's {deleted} events | today's table: `DELETE` | partitioned: detach and drop |\n|---|---|---|\n| time | {:.0} ms | {:.1} ms |",
        ms(delete),
        ms(drop)
    );
}
