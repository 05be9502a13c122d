//! Counters of requests per key and time window, in the database every instance shares: a quota
//! is the same with one instance or ten, and survives a restart. Each window is fixed (a minute
//! or an hour from the Unix epoch), so a client may spend up to twice a quota across a window's
//! edge; the windows come from each instance's clock, so instances must keep time (NTP), and an
//! offset of a few seconds only moves an edge by that much.

use super::{Store, value_rows};
use crate::error::AppError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Expired windows are deleted on one count in this many (by any instance).
const SWEEP_EVERY: u64 = 256;
static COUNTS: AtomicU64 = AtomicU64::new(0);

/// One window of one key: what a count adds to, and what it tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The key, e.g. `signup:203.0.113.7`.
    pub key: String,
    pub length: Duration,
}

/// A window's count after a hit, and when the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub hits: i64,
    pub resets_in: Duration,
}

impl Store {
    /// Adds `cost` to the current window of each of `windows` (distinct keys), in one statement;
    /// the counts after it, in the same order.
    pub async fn count_hits(
        &self, windows: &[Window], cost: i64,
    ) -> Result<Vec<Counted>, AppError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let starts: Vec<u64> = windows
            .iter()
            .map(|w| now.as_secs() / w.length.as_secs().max(1) * w.length.as_secs().max(1))
            .collect();
        let rows = value_rows(1, windows.len(), 4);
        let sql = format!(
            "INSERT INTO rate_counters (key, window_start, expires_at, hits) VALUES {rows}
             ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_counters.hits + excluded.hits
             RETURNING key, hits"
        );
        let mut insert = sqlx::query_as::<_, (String, i64)>(&sql);
        for (window, start) in windows.iter().zip(&starts) {
            insert = insert
                .bind(window.key.clone())
                .bind(*start as i64)
                .bind((start + window.length.as_secs()) as i64)
                .bind(cost);
        }
        let counted = insert.fetch_all(&self.writer).await?;
        if COUNTS.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            sqlx::query("DELETE FROM rate_counters WHERE expires_at < $1")
                .bind(now.as_secs() as i64)
                .execute(&self.writer)
                .await?;
        }
        windows
            .iter()
            .zip(&starts)
            .map(|(window, start)| {
                let hits = counted
                    .iter()
                    .find(|(key, _)| key == &window.key)
                    .map(|(_, hits)| *hits)
                    .ok_or_else(|| AppError::internal("a rate counter was not returned"))?;
                let ends = Duration::from_secs(start + window.length.as_secs());
                Ok(Counted { hits, resets_in: ends.saturating_sub(now) })
            })
            .collect()
    }
}
