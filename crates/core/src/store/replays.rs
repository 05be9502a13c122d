//! Bulk replays (`replays`, `replay_items`): the calls are chosen when a replay is created; an
//! instance carries a running replay on under a lease; each item's redelivery row is written
//! (`sending`, with the item pointing at it) before its request starts, so an item is sent at
//! most once, and a replay taken over settles what its last holder left under way.

use super::deliveries::{FollowUp, insert_follow_up};
use super::queue::ms;
use super::{OwnedAgent, PendingDelivery, Store, new_id, now, placeholders};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::states::{DeliveryOutcome, ReplayState};
use crate::views::ReplayView;
use std::time::Duration;

/// Calls a replay takes at the most: a wider window is refused (narrow it, or replay in parts).
pub const REPLAY_LIMIT: usize = 10_000;

/// Outcomes a replay sends again: requests that failed or were never sent. (`blocked` is not
/// among them: the address is refused, and would be again.)
const REPLAYED: [DeliveryOutcome; 8] = [
    DeliveryOutcome::HttpStatus,
    DeliveryOutcome::Timeout,
    DeliveryOutcome::Connect,
    DeliveryOutcome::Dns,
    DeliveryOutcome::Tls,
    DeliveryOutcome::Interrupted,
    DeliveryOutcome::InFlightLimit,
    DeliveryOutcome::Paused,
];
const RUNNING: &str = ReplayState::Running.sql();

const INTERRUPTED_REPLAY: &str =
    "The server sending this redelivery stopped while it was under way; it is not sent again.";
const REPLAY_COLUMNS: &str =
    "id, agent_id, webhook_id, since, until, state, total, sent, ok, failed, created_at";

/// A replay's next call to redeliver.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplayItem {
    pub position: i64,
    pub call_id: String,
    pub original_id: String,
}

/// A running replay this instance holds.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldReplay {
    pub id: String,
    pub agent_id: String,
    pub webhook_id: String,
}

fn in_list(outcomes: &[DeliveryOutcome]) -> String {
    outcomes.iter().map(|o| o.sql()).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// Creates a replay of the agent's calls received in `[since, until)` whose deliveries to
    /// `webhook_id` failed and that no delivery took since; 409 while another replay of this
    /// webhook runs.
    pub async fn create_replay(
        &self, owner: &OwnerId, agent: &OwnedAgent, webhook_id: &str, (since, until): (&str, &str),
    ) -> Result<ReplayView, AppError> {
        let failed = in_list(&REPLAYED);
        let taken = in_list(&[DeliveryOutcome::Ok, DeliveryOutcome::Sending]);
        let items: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT c.id, (SELECT d.id FROM deliveries d WHERE d.call_id = c.id AND d.webhook_id = $2
                           ORDER BY d.started_at DESC, d.id DESC LIMIT 1)
             FROM calls c
             WHERE c.agent_id = $1 AND c.received_at >= $3 AND c.received_at < $4
               AND EXISTS (SELECT 1 FROM deliveries d WHERE d.call_id = c.id AND d.webhook_id = $2 AND d.outcome IN ({failed}))
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.call_id = c.id AND d.webhook_id = $2
                               AND (d.outcome IN ({taken}) OR d.next_attempt_at IS NOT NULL))
             ORDER BY c.received_at, c.id LIMIT $5"
        ))
        .bind(agent.id())
        .bind(webhook_id)
        .bind(since)
        .bind(until)
        .bind(REPLAY_LIMIT as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        if items.len() > REPLAY_LIMIT {
            return Err(AppError::Conflict(format!(
                "More than {REPLAY_LIMIT} calls failed in this window. Replay a shorter window at a time."
            )));
        }
        let id = new_id();
        let mut tx = self.writer.begin().await?;
        let created = sqlx::query(
            "INSERT INTO replays (id, owner_id, agent_id, webhook_id, since, until, total, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(owner.as_str())
        .bind(agent.id())
        .bind(webhook_id)
        .bind(since)
        .bind(until)
        .bind(items.len() as i64)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if created.rows_affected() == 0 {
            return Err(AppError::Conflict(
                "A replay of this webhook is already running. Wait for it to finish, or cancel it."
                    .into(),
            ));
        }
        for (chunk_at, chunk) in items.chunks(200).enumerate() {
            let rows = (0..chunk.len())
                .map(|i| format!("($1, {})", placeholders(i * 3 + 2, 3)))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO replay_items (replay_id, position, call_id, original_id) VALUES {rows}"
            );
            let mut insert = sqlx::query(&sql).bind(&id);
            for (i, (call_id, original)) in chunk.iter().enumerate() {
                insert = insert.bind((chunk_at * 200 + i) as i64).bind(call_id).bind(original);
            }
            insert.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.replay_for_owner(owner, &id).await
    }

    /// One of the owner's replays, or `NotFound`.
    pub async fn replay_for_owner(
        &self, owner: &OwnerId, id: &str,
    ) -> Result<ReplayView, AppError> {
        let id = super::known_id(id)?;
        let row: Option<ReplayRow> = sqlx::query_as(&format!(
            "SELECT {REPLAY_COLUMNS} FROM replays WHERE id = $1 AND owner_id = $2"
        ))
        .bind(id)
        .bind(owner.as_str())
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.ok_or(AppError::NotFound)?.into())
    }

    /// Cancels a running replay of the owner's: nothing more is sent (one under way finishes).
    pub async fn cancel_replay(&self, owner: &OwnerId, id: &str) -> Result<ReplayView, AppError> {
        let id = super::known_id(id)?;
        sqlx::query(&format!(
            "UPDATE replays SET state = {} WHERE id = $1 AND owner_id = $2 AND state = {RUNNING}",
            ReplayState::Cancelled.sql()
        ))
        .bind(id)
        .bind(owner.as_str())
        .execute(&self.writer)
        .await?;
        self.replay_for_owner(owner, id).await
    }

    /// Takes a running replay no instance holds (or whose holder's lease lapsed) for
    /// `instance`; what its last holder left under way is settled `interrupted` and the
    /// counts are made again from the log.
    pub async fn claim_replay(
        &self, instance: &str, lease: Duration,
    ) -> Result<Option<HeldReplay>, AppError> {
        let clock = self.clock();
        let free: Option<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM replays WHERE state = {RUNNING} AND COALESCE(lease_expires_at, 0) < {clock} LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?;
        let Some(id) = free else { return Ok(None) };
        let mut tx = self.writer.begin().await?;
        let held: Option<HeldReplay> = sqlx::query_as(&format!(
            "UPDATE replays SET lease_owner = $1, lease_expires_at = {clock} + $2
             WHERE id = $3 AND state = {RUNNING} AND COALESCE(lease_expires_at, 0) < {clock}
             RETURNING id, agent_id, webhook_id"
        ))
        .bind(instance)
        .bind(ms(lease))
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
        if held.is_some() {
            sqlx::query(&format!(
                "UPDATE deliveries SET outcome = {}, error = $1 WHERE replay_id = $2 AND outcome = {}",
                DeliveryOutcome::Interrupted.sql(),
                DeliveryOutcome::Sending.sql()
            ))
            .bind(INTERRUPTED_REPLAY)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            recount(&mut tx, &id).await?;
        }
        tx.commit().await?;
        Ok(held)
    }

    /// The replay's next call, renewing `instance`'s lease; `None` when the replay is no
    /// longer this instance's to run (cancelled, or taken over).
    pub async fn next_replay_item(
        &self, replay: &HeldReplay, instance: &str, lease: Duration,
    ) -> Result<Option<Option<ReplayItem>>, AppError> {
        let renewed = sqlx::query(&format!(
            "UPDATE replays SET lease_expires_at = {} + $1 WHERE id = $2 AND lease_owner = $3 AND state = {RUNNING}",
            self.clock()
        ))
        .bind(ms(lease))
        .bind(&replay.id)
        .bind(instance)
        .execute(&self.writer)
        .await?;
        if renewed.rows_affected() == 0 {
            return Ok(None);
        }
        let item = sqlx::query_as(
            "SELECT position, call_id, original_id FROM replay_items
             WHERE replay_id = $1 AND delivery_id IS NULL ORDER BY position LIMIT 1",
        )
        .bind(&replay.id)
        .fetch_optional(&self.writer)
        .await?;
        Ok(Some(item))
    }

    /// Starts an item: its redelivery row (`sending`) and the item's link to it, in one
    /// transaction; or, when a delivery took the call since the replay was made, drops the item
    /// (`false`: nothing to send).
    pub async fn begin_replay_item(
        &self, replay: &HeldReplay, item: &ReplayItem, delivery: Option<&PendingDelivery>,
    ) -> Result<bool, AppError> {
        let mut tx = self.writer.begin().await?;
        let taken: Option<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM deliveries WHERE call_id = $1 AND webhook_id = $2 AND outcome = {} LIMIT 1",
            DeliveryOutcome::Ok.sql()
        ))
        .bind(&item.call_id)
        .bind(&replay.webhook_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(delivery) = delivery.filter(|_| taken.is_none()) else {
            sqlx::query(
                "UPDATE replay_items SET delivery_id = '' WHERE replay_id = $1 AND position = $2",
            )
            .bind(&replay.id)
            .bind(item.position)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE replays SET total = total - 1 WHERE id = $1")
                .bind(&replay.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(false);
        };
        let replayed = FollowUp::Replayed { replay: &replay.id };
        insert_follow_up(&mut tx, &item.original_id, delivery, replayed).await?;
        sqlx::query(
            "UPDATE replay_items SET delivery_id = $1 WHERE replay_id = $2 AND position = $3",
        )
        .bind(&delivery.id)
        .bind(&replay.id)
        .bind(item.position)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE replays SET sent = sent + 1 WHERE id = $1")
            .bind(&replay.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Counts an item's redelivery once its result is recorded.
    pub async fn count_replay_result(&self, replay: &str, ok: bool) -> Result<(), AppError> {
        let column = if ok { "ok" } else { "failed" };
        sqlx::query(&format!("UPDATE replays SET {column} = {column} + 1 WHERE id = $1"))
            .bind(replay)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Gives a held replay back (this instance stops): any instance takes it at once.
    pub async fn release_replay(&self, replay: &str, instance: &str) -> Result<(), AppError> {
        sqlx::query("UPDATE replays SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2")
            .bind(replay)
            .bind(instance)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Every item is done: the replay is `done` (unless cancelled meanwhile).
    pub async fn finish_replay(&self, replay: &str) -> Result<(), AppError> {
        sqlx::query(&format!(
            "UPDATE replays SET state = {}, lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND state = {RUNNING}",
            ReplayState::Done.sql()
        ))
            .bind(replay)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

/// A replay's counts, made again from its redeliveries in the log.
async fn recount(tx: &mut super::Tx<'_>, id: &str) -> Result<(), AppError> {
    sqlx::query(&format!(
        "UPDATE replays SET
             sent = (SELECT COUNT(*) FROM deliveries WHERE replay_id = $1),
             ok = (SELECT COUNT(*) FROM deliveries WHERE replay_id = $1 AND outcome = {ok}),
             failed = (SELECT COUNT(*) FROM deliveries WHERE replay_id = $1 AND outcome NOT IN ({ok}, {sending}))
         WHERE id = $1",
        ok = DeliveryOutcome::Ok.sql(),
        sending = DeliveryOutcome::Sending.sql()
    ))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ReplayRow {
    id: String,
    agent_id: String,
    webhook_id: String,
    since: String,
    until: String,
    state: ReplayState,
    total: i64,
    sent: i64,
    ok: i64,
    failed: i64,
    created_at: String,
}

impl From<ReplayRow> for ReplayView {
    fn from(r: ReplayRow) -> Self {
        Self {
            id: r.id,
            agent_id: r.agent_id,
            webhook_id: r.webhook_id,
            since: r.since,
            until: r.until,
            state: r.state,
            total: r.total,
            sent: r.sent,
            ok: r.ok,
            failed: r.failed,
            created_at: r.created_at,
        }
    }
}
