//! Retry chains of webhooks whose `retry_policy` is `backoff`, kept in the deliveries log itself:
//! the chain's first delivery holds `next_attempt_at` (database clock, Unix ms) while an attempt
//! is due and `chain_end` once none will be; each retry is a delivery of its own (`kind =
//! 'retry'`, `retry_of` = the first, `attempt` 2, 3, …). Durable and shared like the call queue:
//! any instance claims a due chain (`retry_token`, one claim at a time), and while an attempt is
//! under way the chain stays due a little later, so an instance that dies mid-request leaves a
//! chain that falls due again instead of being lost. An attempt is never sent twice: its row is
//! written (`sending`) before it starts, only by the claim that holds the chain, and a chain
//! claimed again first settles its open attempt as `interrupted`.

use super::calls::{CALL_COLUMNS, CALL_TABLES, CallRow};
use super::deliveries::{FollowUp, insert_follow_up};
use super::queue::ms;
use super::{Backend, CallRecord, PendingDelivery, Store, placeholders};
use crate::error::AppError;
use crate::states::DeliveryOutcome;
use std::time::Duration;

const UNDER_WAY: &str = DeliveryOutcome::Sending.sql();
const INTERRUPTED: &str = DeliveryOutcome::Interrupted.sql();
const INTERRUPTED_ATTEMPT: &str =
    "The server sending this request stopped while it was under way; the next attempt follows.";

/// What a finished attempt tells its chain's first delivery (`head`).
#[derive(Debug, Clone)]
pub struct ChainUpdate {
    pub head: String,
    /// When the next attempt is due; none when no attempt follows.
    pub next_in: Option<Duration>,
    /// Why no attempt follows, when the chain ends (`ChainEnd::as_str`).
    pub end: Option<&'static str>,
}

/// A chain whose next attempt is due, claimed by this instance.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueRetry {
    pub head: String,
    pub call_id: String,
    pub agent_id: String,
    pub webhook_id: String,
    pub config_version: Option<i64>,
    /// Earlier retries; the attempt about to be made is number `retries + 2`.
    pub retries: i64,
}

/// Writes what finished attempts tell their chains, in the recorder's transaction. A chain
/// already ended (a redelivery, the webhook's removal) stays ended.
pub(super) async fn update_chains(
    tx: &mut super::Tx<'_>, clock: &str, chains: &[ChainUpdate],
) -> Result<(), AppError> {
    for chain in chains {
        sqlx::query(&format!(
            "UPDATE deliveries SET next_attempt_at = {clock} + $1, chain_end = $2, retry_token = NULL
             WHERE id = $3 AND chain_end IS NULL"
        ))
        .bind(chain.next_in.map(ms))
        .bind(chain.end)
        .bind(&chain.head)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Claims up to `limit` chains whose next attempt is due (paused webhooks' wait), under
    /// `token`. Each stays due again `hold` from now unless `begin_retry` moves it on, and any
    /// attempt of theirs still `sending` (its instance died) is settled `interrupted`.
    pub async fn claim_due_retries(
        &self, token: &str, hold: Duration, limit: i64,
    ) -> Result<Vec<DueRetry>, AppError> {
        let clock = self.clock();
        // A read first, on the read pool: this runs every second on every instance.
        let due: Option<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM deliveries WHERE next_attempt_at <= {clock} LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let skip_locked = match self.backend {
            Backend::Postgres => "FOR UPDATE OF d SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.writer.begin().await?;
        let claimed: Vec<DueRetry> = sqlx::query_as(&format!(
            "UPDATE deliveries SET next_attempt_at = {clock} + $1, retry_token = $2
             WHERE id IN (SELECT d.id FROM deliveries d
                          WHERE d.next_attempt_at <= {clock}
                            AND NOT EXISTS (SELECT 1 FROM webhook_pauses p
                                            WHERE p.agent_id = d.agent_id AND p.webhook_id = d.webhook_id)
                          ORDER BY d.next_attempt_at LIMIT $3 {skip_locked})
               AND next_attempt_at <= {clock}
             RETURNING id AS head, call_id, agent_id, webhook_id, config_version,
                       (SELECT COUNT(*) FROM deliveries r WHERE r.retry_of = deliveries.id) AS retries"
        ))
        .bind(ms(hold))
        .bind(token)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        for chunk in claimed.chunks(200) {
            let list = placeholders(2, chunk.len());
            let sql = format!(
                "UPDATE deliveries SET outcome = {INTERRUPTED}, error = $1
                 WHERE outcome = {UNDER_WAY} AND (id IN ({list}) OR retry_of IN ({list}))"
            );
            let mut settle = sqlx::query(&sql).bind(INTERRUPTED_ATTEMPT);
            for retry in chunk {
                settle = settle.bind(&retry.head);
            }
            settle.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records attempt number `attempt` of the chain `head` as `sending`, while `token` still
    /// holds the chain; the chain stays due `hold` from now in case no result is recorded.
    /// `false` (and nothing written) when another claim took the chain: then send nothing.
    pub async fn begin_retry(
        &self, retry: &DueRetry, token: &str, attempt: i64, delivery: &PendingDelivery,
        hold: Duration,
    ) -> Result<bool, AppError> {
        let mut tx = self.writer.begin().await?;
        let held = sqlx::query(&format!(
            "UPDATE deliveries SET next_attempt_at = {} + $1 WHERE id = $2 AND retry_token = $3",
            self.clock()
        ))
        .bind(ms(hold))
        .bind(&retry.head)
        .bind(token)
        .execute(&mut *tx)
        .await?;
        if held.rows_affected() == 0 {
            return Ok(false);
        }
        insert_follow_up(&mut tx, &retry.head, delivery, FollowUp::Retry { attempt }).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends the chain `head` if an attempt of it is due or under way (no attempt follows).
    pub async fn end_chain(&self, head: &str, why: &'static str) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE deliveries SET next_attempt_at = NULL, chain_end = $1, retry_token = NULL
             WHERE id = $2 AND chain_end IS NULL AND next_attempt_at IS NOT NULL",
        )
        .bind(why)
        .bind(head)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The call a chain belongs to, for the dispatcher (not owner-scoped: it acts for the owner).
    pub async fn call_by_id(&self, call_id: &str) -> Result<CallRecord, AppError> {
        let row: Option<CallRow> =
            sqlx::query_as(&format!("SELECT {CALL_COLUMNS} FROM {CALL_TABLES} WHERE c.id = $1"))
                .bind(call_id)
                .fetch_optional(&self.pool)
                .await?;
        row.ok_or(AppError::NotFound)?.try_into()
    }
}
