//! `VOICY_RETENTION_DAYS`: calls older than that lose their personal data (`store::erasure`),
//! in batches of `BATCH` with a pause between them, so a pass never holds the database for
//! long: on SQLite each batch is one short write transaction that intake queues behind; on
//! PostgreSQL it locks only the rows it erases. Every instance runs passes (they are
//! idempotent: two at once erase each call once and skip what the other did).

use crate::store::Store;
use std::time::{Duration, Instant};

/// Calls erased per transaction: 50 hold SQLite's writer about 15 ms (200 held it 67 ms, and
/// intake's p99 rose to 50 ms during a pass; BENCHMARKS.md).
pub const BATCH: i64 = 50;
/// The pause between batches: intake and the dispatcher write meanwhile.
const BETWEEN_BATCHES: Duration = Duration::from_millis(20);
/// How often a pass runs (the first at start-up).
const EVERY: Duration = Duration::from_secs(600);

/// What a pass did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pass {
    pub erased: usize,
    pub batches: usize,
    /// The longest batch: the longest the pass held the database's writer (SQLite).
    pub longest_batch: Duration,
}

/// One pass: erases every call received more than `days` ago, batch by batch.
pub async fn pass(store: &Store, days: u32) -> Result<Pass, crate::error::AppError> {
    let cutoff = (chrono::Utc::now() - chrono::Duration::days(i64::from(days)))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut done = Pass::default();
    loop {
        let started = Instant::now();
        let erased = store.erase_calls_before(&cutoff, BATCH).await?;
        done.longest_batch = done.longest_batch.max(started.elapsed());
        done.batches += 1;
        done.erased += erased;
        if erased < BATCH as usize {
            break;
        }
        tokio::time::sleep(BETWEEN_BATCHES).await;
    }
    if done.erased > 0 {
        store.empty_log().await;
        metrics::counter!("voicy_retention_erased_calls_total").increment(done.erased as u64);
        tracing::info!(
            erased = done.erased,
            batches = done.batches,
            "retention: erased the personal data of calls older than {days} days"
        );
    }
    Ok(done)
}

/// Runs a pass at start-up and every ten minutes; `days` 0 keeps everything (no task).
pub fn start(store: Store, days: u32) {
    if days == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // A failure is logged by the store; the next pass goes on where this one stopped.
            let _ = pass(&store, days).await;
        }
    });
}
