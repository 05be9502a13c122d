//! A webhook's deliveries counted per hour or day and per latency bin, in the database: the
//! answer is a few hundred rows however many deliveries the window holds.

use super::{OwnedAgent, Store};
use crate::error::AppError;
use crate::states::DeliveryOutcome;

/// Upper bounds (ms) of the latency bins; the last bin is everything above.
pub const LATENCY_BINS: [i64; 10] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/// The deliveries of one time bucket in one latency bin (`None`: not sent, so no latency).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BinCount {
    /// The bucket, as the start of `started_at` (`2026-12-06T23` or `2026-12-06`).
    pub bucket: String,
    pub bin: Option<i64>,
    pub deliveries: i64,
    pub succeeded: i64,
}

impl Store {
    /// Counts of the webhook's deliveries started at or after `since`, per bucket (the first
    /// `key_len` characters of `started_at`) and latency bin.
    pub async fn delivery_counts(
        &self, agent: &OwnedAgent, webhook_id: &str, since: &str, key_len: i64,
    ) -> Result<Vec<BinCount>, AppError> {
        let bins: String = LATENCY_BINS
            .iter()
            .enumerate()
            .map(|(i, upper)| format!("WHEN duration_ms < {upper} THEN {i} "))
            .collect();
        let last = LATENCY_BINS.len();
        let unsent =
            [DeliveryOutcome::Blocked, DeliveryOutcome::InFlightLimit].map(|o| o.sql()).join(", ");
        let sql = format!(
            "SELECT substr(started_at, 1, CAST($4 AS INTEGER)) AS bucket,
                    CASE WHEN outcome IN ({unsent}) OR duration_ms IS NULL THEN NULL {bins}ELSE {last} END AS bin,
                    COUNT(*) AS deliveries,
                    SUM(CASE WHEN outcome = {ok} THEN 1 ELSE 0 END) AS succeeded
             FROM deliveries
             WHERE agent_id = $1 AND webhook_id = $2 AND started_at >= $3 AND outcome NOT IN ({sending}, {paused})
             GROUP BY 1, 2",
            ok = DeliveryOutcome::Ok.sql(),
            sending = DeliveryOutcome::Sending.sql(),
            paused = DeliveryOutcome::Paused.sql(),
        );
        Ok(sqlx::query_as(&sql)
            .bind(agent.id())
            .bind(webhook_id)
            .bind(since)
            .bind(key_len)
            .fetch_all(&self.pool)
            .await?)
    }
}
