//! The dispatcher's queue, in the `call_events` table. A call's event moves
//! `pending → processing → sending → sent | skipped | failed`; every transition is one statement
//! that checks the state it leaves (and, for a claimed call, that its claim still holds the
//! lease: each claim batch has its own token), so two claims can never both move the same call. Instances claim in batches
//! under a lease (their id and an expiry they renew while they work); whoever sweeps after a
//! lease expired takes the work over:
//! - `processing` sent nothing yet: the call goes back to `pending` and is processed again;
//! - `sending` may have reached receivers: its requests are settled `interrupted`, never re-sent
//!   (the doc promises no retries, so a delivery is at most once). `interrupted` means "no
//!   result known": a sender that was only stalled (a VM pause, a stop signal) and reports its
//!   receiver's answer later replaces it with that answer (`record_deliveries`).

use super::calls::{CALL_COLUMNS, CALL_TABLES, CallRow};
use super::positional::for_backend;
use super::{
    Backend, CallRecord, ChainUpdate, DeliveryResult, Store, new_id, placeholders, value_rows,
};
use crate::error::AppError;
use crate::states::{DeliveryOutcome, EventState, NotificationStatus};
use crate::views::NotificationView;
use std::time::Duration;

// The states as SQL literals, written into the statements below: the queue's partial indexes
// (`WHERE state IN (…)`) serve only statements that name the values, not bound parameters.
const PENDING: &str = EventState::Pending.sql();
const PROCESSING: &str = EventState::Processing.sql();
const SENDING: &str = EventState::Sending.sql();
const SENT: &str = EventState::Sent.sql();
const SKIPPED: &str = EventState::Skipped.sql();
const FAILED: &str = EventState::Failed.sql();
const UNDER_WAY: &str = DeliveryOutcome::Sending.sql();
const INTERRUPTED: &str = DeliveryOutcome::Interrupted.sql();
const MAIL_SENDING: &str = NotificationStatus::Sending.sql();
const MAIL_FAILED: &str = NotificationStatus::Failed.sql();

const INTERRUPTED_DELIVERY: &str = "The server sending this request stopped answering while it was under way, so its result is unknown; it is not sent again (webhooks are never retried). If that server reports the receiver's answer later, the answer replaces this.";
const INTERRUPTED_EVENT: &str =
    "The server sending this event stopped answering while its requests were under way.";
const INTERRUPTED_MAIL: &str =
    "The server sending this e-mail stopped while it was under way; it is not sent again.";
const CRASHED_TOO_OFTEN: &str = "Processing was interrupted too many times (the server stopped each time); the event was not sent.";

impl Store {
    /// The database's clock in Unix milliseconds, as SQL: leases and backoff are timed by one
    /// clock for every instance, so a server whose clock runs ahead cannot take over live leases.
    pub(super) fn clock(&self) -> &'static str {
        clock_of(self.backend)
    }
}

pub(super) fn clock_of(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "(extract(epoch from clock_timestamp()) * 1000)::bigint",
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    }
}

/// A receiver's text as both databases can keep it: PostgreSQL refuses NUL in text, and one such
/// answer would fail the whole batch of results it is written with.
fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

pub(super) fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Claims up to `limit` pending calls for `instance`, oldest first, under a new claim token
    /// that every later transition of these calls checks. On PostgreSQL, rows that another
    /// instance is claiming are skipped rather than waited for.
    pub async fn claim_calls(
        &self, instance: &str, lease: Duration, limit: i64,
    ) -> Result<(String, Vec<CallRecord>), AppError> {
        let token = new_id();
        let skip_locked = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "", // the single writer serializes claims
        };
        let clock = self.clock();
        let claimed: Vec<String> = sqlx::query_scalar(&format!(
            "UPDATE call_events SET state = {PROCESSING}, lease_owner = $1, lease_token = $4, lease_expires_at = {clock} + $2,
                                    attempts = attempts + 1
             WHERE call_id IN (SELECT call_id FROM call_events WHERE state = {PENDING} AND not_before <= {clock}
                               ORDER BY rowid LIMIT $3 {skip_locked})
               AND state = {PENDING}
             RETURNING call_id"
        ))
        .bind(instance)
        .bind(ms(lease))
        .bind(limit)
        .bind(&token)
        .fetch_all(&self.writer)
        .await?;
        if claimed.is_empty() {
            return Ok((token, Vec::new()));
        }
        // Committed: the read pool sees them, and reads do not queue behind the writer.
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM {CALL_TABLES} WHERE c.id IN ({}) ORDER BY e.rowid",
            placeholders(1, claimed.len())
        );
        let mut select = sqlx::query_as(&sql);
        for id in &claimed {
            select = select.bind(id);
        }
        let rows: Vec<CallRow> = select.fetch_all(&self.pool).await?;
        Ok((token, rows.into_iter().map(CallRecord::try_from).collect::<Result<_, _>>()?))
    }

    /// Extends the leases `instance` holds on `call_ids` (the calls it is still working on: a
    /// call whose task ended without writing its outcome is left to lapse and be taken over).
    pub async fn renew_leases(
        &self, instance: &str, lease: Duration, call_ids: &[String],
    ) -> Result<u64, AppError> {
        let mut renewed = 0;
        let clock = self.clock();
        // On PostgreSQL, rows another transaction holds (an event starting or finishing) are
        // skipped, not waited for: a renewal that waited could deadlock with those multi-row
        // updates (it did under a burst), and a row skipped now is renewed at the next third of
        // the lease.
        let skip_locked = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "", // one writer: nothing to wait for
        };
        for chunk in call_ids.chunks(500) {
            let sql = format!(
                "UPDATE call_events SET lease_expires_at = {clock} + $1
                 WHERE call_id IN (SELECT call_id FROM call_events
                                   WHERE lease_owner = $2 AND state IN ({PROCESSING}, {SENDING}) AND call_id IN ({})
                                   {skip_locked})",
                placeholders(3, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(ms(lease)).bind(instance);
            for id in chunk {
                query = query.bind(id);
            }
            renewed += query.execute(&self.writer).await?.rows_affected();
        }
        Ok(renewed)
    }

    /// Takes over the work of instances whose leases expired (see the module comment). A call
    /// that has used up `max_attempts` is `failed` instead of processed yet again: a call that
    /// crashes its server every time must not crash every server in turn.
    pub async fn take_over_expired(&self, max_attempts: i64) -> Result<(), AppError> {
        let clock = self.clock();
        // A read first, on the read pool: the sweep runs every second on every instance, and on
        // SQLite a write would queue behind the intake for nothing.
        let expired: Option<String> = sqlx::query_scalar(&format!(
            "SELECT call_id FROM call_events WHERE state IN ({PROCESSING}, {SENDING}) AND COALESCE(lease_expires_at, 0) < {clock} LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?;
        if expired.is_none() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        let requeued = sqlx::query(&format!(
            "UPDATE call_events SET state = CASE WHEN attempts >= $1 THEN {FAILED} ELSE {PENDING} END,
                              note = CASE WHEN attempts >= $1 THEN $2 ELSE note END,
                              lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
             WHERE state = {PROCESSING} AND COALESCE(lease_expires_at, 0) < {clock}"
        ))
        .bind(max_attempts)
        .bind(CRASHED_TOO_OFTEN)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Settling the event first locks its row: an owner renewing its lease at this moment
        // waits, then finds the event settled and sends nothing more.
        let settled: Vec<String> = sqlx::query_scalar(&format!(
            "UPDATE call_events SET state = {SENT}, note = $1, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
             WHERE state = {SENDING} AND COALESCE(lease_expires_at, 0) < {clock} RETURNING call_id"
        ))
        .bind(INTERRUPTED_EVENT)
        .fetch_all(&mut *tx)
        .await?;
        for chunk in settled.chunks(500) {
            let sql = format!(
                "UPDATE deliveries SET outcome = {INTERRUPTED}, error = $1 WHERE outcome = {UNDER_WAY} AND call_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(INTERRUPTED_DELIVERY);
            for id in chunk {
                query = query.bind(id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        metrics::counter!("voicy_lease_takeovers_total", "state" => "processing")
            .increment(requeued);
        metrics::counter!("voicy_lease_takeovers_total", "state" => "sending")
            .increment(settled.len() as u64);
        // What was taken over is said here, once: calls in `processing` put back to `pending`
        // (or `failed`, out of attempts), calls in `sending` settled with their open requests
        // `interrupted`.
        tracing::warn!(
            requeued,
            interrupted = settled.len(),
            "took over calls whose server stopped holding them"
        );
        Ok(())
    }

    /// At shutdown: calls this instance claimed but has not started sending go back to the
    /// queue for any instance, without counting the attempt.
    pub async fn release_claims(&self, instance: &str) -> Result<u64, AppError> {
        let done = sqlx::query(
            &format!(
                "UPDATE call_events SET state = {PENDING}, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, attempts = attempts - 1
             WHERE lease_owner = $1 AND state = {PROCESSING}"
            ),
        )
        .bind(instance)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// Saves the processed call whose event will not be sent, and why.
    pub async fn skip_event(
        &self, call: &CallRecord, token: &str, body: &str, note: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.writer.begin().await?;
        let moved = sqlx::query(
            &format!(
                "UPDATE call_events SET state = {SKIPPED}, note = $1, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
             WHERE call_id = $2 AND state = {PROCESSING} AND lease_token = $3"
            ),
        )
        .bind(note)
        .bind(&call.id)
        .bind(token)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 1 {
            sqlx::query("UPDATE calls SET body = $1 WHERE id = $2")
                .bind(body)
                .bind(&call.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A processing attempt failed: back to `pending` after `backoff`, or `failed` once the call
    /// has had `max_attempts`. Returns the new state (`None` if the lease was lost meanwhile).
    pub async fn fail_attempt(
        &self, call: &CallRecord, token: &str, reason: &str, max_attempts: i64, backoff: Duration,
    ) -> Result<Option<EventState>, AppError> {
        Ok(sqlx::query_scalar(&format!(
            "UPDATE call_events SET state = CASE WHEN attempts >= $1 THEN {FAILED} ELSE {PENDING} END,
                              note = $2, not_before = {} + $3, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
             WHERE call_id = $4 AND state = {PROCESSING} AND lease_token = $5
             RETURNING state",
            self.clock()
        ))
        .bind(max_attempts)
        .bind(reason)
        .bind(ms(backoff))
        .bind(&call.id)
        .bind(token)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// One request's result, written alone through the shared writer (a replay's send, up to
    /// `REPLAY_SLOTS` at once): the recorder's own connection stays the recorder's.
    pub async fn record_delivery(
        &self, id: String, result: DeliveryResult,
    ) -> Result<(), AppError> {
        write_results(&self.writer, self.backend, &[(id, result)]).await
    }

    /// Records finished requests and finished events (call id and claim token), many in one
    /// transaction of two statements (group commit: one write instead of one per request under
    /// load). Only the claim that holds an event finishes it. A request's result comes only from
    /// the instance that sent it (its row was written by that instance's `begin_*`), so it
    /// replaces `interrupted` too: a takeover settled the request while its sender was stalled,
    /// and the receiver's real answer is truer than "unknown". Events first: a takeover locks
    /// them in the same order.
    pub async fn record_deliveries(
        &self, results: &[(String, DeliveryResult)], chains: &[ChainUpdate],
        finished: &[(String, String)],
    ) -> Result<(), AppError> {
        if results.is_empty() && finished.is_empty() && chains.is_empty() {
            return Ok(());
        }
        let mut writer = self.commits.results.acquire().await?;
        // One statement alone needs no transaction: at low load a batch is a call's results or
        // its end, and BEGIN and COMMIT would be two more round trips (PostgreSQL) or hand-offs
        // to the writer's thread (SQLite) each time.
        let one_chunk = finished.len() <= FINISHED_CHUNK && results.len() <= RESULTS_CHUNK;
        match (chains.is_empty() && one_chunk, finished.is_empty(), results.is_empty()) {
            (true, false, true) => finish_events(&mut *writer, self.backend, finished).await?,
            (true, true, false) => write_results(&mut *writer, self.backend, results).await?,
            _ => self.results_in_a_transaction(&mut writer, results, chains, finished).await?,
        }
        writer.keep();
        Ok(())
    }

    async fn results_in_a_transaction(
        &self, writer: &mut sqlx::AnyConnection, results: &[(String, DeliveryResult)],
        chains: &[ChainUpdate], finished: &[(String, String)],
    ) -> Result<(), AppError> {
        let mut tx = sqlx::Connection::begin(writer).await?;
        for chunk in finished.chunks(FINISHED_CHUNK) {
            finish_events(&mut *tx, self.backend, chunk).await?;
        }
        for chunk in results.chunks(RESULTS_CHUNK) {
            write_results(&mut *tx, self.backend, chunk).await?;
        }
        super::retries::update_chains(&mut tx, self.clock(), chains).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reserves notification e-mails before they are sent, at most once per call and address:
    /// returns the outcomes already recorded by an earlier attempt (one interrupted mid-send
    /// becomes `failed`, not sent again) and the addresses this attempt must send to now.
    pub async fn reserve_notifications(
        &self, call_id: &str, addresses: &[String],
    ) -> Result<(Vec<NotificationView>, Vec<String>), AppError> {
        if addresses.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut tx = self.writer.begin().await?;
        sqlx::query(&format!("UPDATE notifications SET status = {MAIL_FAILED}, detail = $1 WHERE call_id = $2 AND status = {MAIL_SENDING}"))
            .bind(INTERRUPTED_MAIL)
            .bind(call_id)
            .execute(&mut *tx)
            .await?;
        let earlier: Vec<(String, NotificationStatus, Option<String>)> =
            sqlx::query_as("SELECT address, status, detail FROM notifications WHERE call_id = $1")
                .bind(call_id)
                .fetch_all(&mut *tx)
                .await?;
        let mut fresh = Vec::new();
        for address in addresses {
            if earlier.iter().any(|(a, _, _)| a == address) {
                continue;
            }
            let inserted = sqlx::query(
                &format!("INSERT INTO notifications (call_id, address, status) VALUES ($1, $2, {MAIL_SENDING}) ON CONFLICT DO NOTHING"),
            )
            .bind(call_id)
            .bind(address)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                fresh.push(address.clone());
            }
        }
        tx.commit().await?;
        let earlier = earlier
            .into_iter()
            .map(|(to, status, detail)| NotificationView { to, status, detail })
            .collect();
        Ok((earlier, fresh))
    }

    pub async fn record_notifications(
        &self, call_id: &str, outcomes: &[NotificationView],
    ) -> Result<(), AppError> {
        if outcomes.is_empty() {
            return Ok(()); // most calls mail nobody: no empty transaction on their way
        }
        let mut tx = self.writer.begin().await?;
        for outcome in outcomes {
            sqlx::query("UPDATE notifications SET status = $1, detail = $2 WHERE call_id = $3 AND address = $4")
                .bind(outcome.status)
                .bind(&outcome.detail)
                .bind(call_id)
                .bind(&outcome.to)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

const FINISHED_CHUNK: usize = 500;
/// 6 values a row: 100 rows stay far below both backends' limits on bound values.
const RESULTS_CHUNK: usize = 100;

/// Moves events whose results are all written to `sent`, each only under the claim that holds it.
async fn finish_events<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>, backend: Backend,
    chunk: &[(String, String)],
) -> Result<(), AppError> {
    let rows = value_rows(1, chunk.len(), 2);
    let sql = for_backend(backend, format!(
        "UPDATE call_events SET state = {SENT}, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
         FROM (VALUES {rows}) AS v
         WHERE call_events.call_id = v.column1 AND call_events.lease_token = v.column2 AND call_events.state = {SENDING}"
    ));
    let mut update = sqlx::query(&sql);
    for (call_id, token) in chunk {
        update = update.bind(call_id).bind(token);
    }
    update.execute(executor).await?;
    Ok(())
}

/// Writes requests' results (see `Store::record_deliveries`).
async fn write_results<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>, backend: Backend,
    chunk: &[(String, DeliveryResult)],
) -> Result<(), AppError> {
    let rows = value_rows(1, chunk.len(), 6);
    let sql = for_backend(backend, format!(
        "UPDATE deliveries SET duration_ms = v.column2, outcome = v.column3, status_code = v.column4,
                               response_body = v.column5, error = v.column6
         FROM (VALUES {rows}) AS v
         WHERE deliveries.id = v.column1 AND deliveries.outcome IN ({UNDER_WAY}, {INTERRUPTED})"
    ));
    let mut update = sqlx::query(&sql);
    for (delivery_id, result) in chunk {
        update = update
            .bind(delivery_id.clone())
            .bind(result.duration_ms)
            .bind(result.outcome)
            .bind(result.status_code.map(i64::from))
            .bind(result.response_body.as_deref().map(storable))
            .bind(result.error.as_deref().map(storable));
    }
    update.execute(executor).await?;
    Ok(())
}
