//! Erasing a call's personal data, for the owner (`DELETE /calls/{id}`) and for retention
//! (`VOICY_RETENTION_DAYS`). What goes: the transcript, the caller's and callee's numbers, the
//! metadata, the summary and variables (in the input and in the Get Call JSON), and the
//! receivers' answers in its deliveries log. What stays: ids, times, the end reason, outcomes,
//! status codes and timings, so health, charts and history still add up. An erased call is never
//! sent again: its open retry chains end (`call_erased`), and redeliveries and replays skip it.
//!
//! On SQLite the erased bytes are overwritten, not only unlinked (`secure_delete`), and the
//! write-ahead log is checkpointed and truncated afterwards, so neither file keeps them.

use super::{Backend, Store, now, placeholders, value_rows};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::states::EventState;
use crate::views::NewCall;

const SENT: &str = EventState::Sent.sql();
const SKIPPED: &str = EventState::Skipped.sql();
const FAILED: &str = EventState::Failed.sql();
/// `chain_end` of a retry chain whose call was erased.
pub const CALL_ERASED: &str = "call_erased";

/// A stored call, read to be erased.
#[derive(sqlx::FromRow)]
struct Stored {
    id: String,
    input: String,
    body: Option<String>,
}

impl Store {
    /// Erases the owner's call `call_id` now. A call still being processed or sent is a conflict
    /// (its data is in use); erasing it again changes nothing.
    pub async fn erase_call(&self, owner: &OwnerId, call_id: &str) -> Result<(), AppError> {
        let call = self.call_for_owner(owner, call_id).await?;
        if call.erased_at.is_some() {
            return Ok(());
        }
        if !call.event.state.is_settled() {
            return Err(AppError::Conflict(
                "This call is still being processed or sent. Delete its data in a few seconds, once it is done."
                    .into(),
            ));
        }
        let stored: Vec<Stored> = sqlx::query_as("SELECT id, input, body FROM calls WHERE id = $1")
            .bind(&call.id)
            .fetch_all(&self.writer)
            .await?;
        self.erase(&stored).await?;
        self.empty_log().await;
        Ok(())
    }

    /// One retention batch: erases up to `limit` calls received before `cutoff` (RFC 3339) whose
    /// events are finished; how many it erased (fewer than `limit`: the pass is done).
    pub async fn erase_calls_before(&self, cutoff: &str, limit: i64) -> Result<usize, AppError> {
        let stored: Vec<Stored> = sqlx::query_as(&format!(
            "SELECT c.id, c.input, c.body FROM calls c JOIN call_events e ON e.call_id = c.id
             WHERE c.erased_at IS NULL AND c.received_at < $1 AND e.state IN ({SENT}, {SKIPPED}, {FAILED})
             ORDER BY c.received_at LIMIT $2"
        ))
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        self.erase(&stored).await?;
        Ok(stored.len())
    }

    /// After an erasure (an owner's, or a retention pass), on SQLite: the write-ahead log is
    /// copied into the database file (where `secure_delete` zeroed what was freed) and emptied
    /// (`wal::empty`). Truncating holds writers while it waits for readers, so each try waits a
    /// few milliseconds at most (the connection's busy timeout is otherwise 10 s; an earlier
    /// try at truncating after a retention pass stalled intake for 927 ms, BENCHMARKS.md), and
    /// a reader that outlasts ten tries leaves it to a later erasure.
    pub async fn empty_log(&self) {
        if self.backend != Backend::Sqlite {
            return;
        }
        match super::wal::empty(&self.pool, &self.writer).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                "readers kept the write-ahead log from being emptied after an erasure; a later erasure empties it"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not empty the write-ahead log after an erasure")
            }
        }
    }

    async fn erase(&self, stored: &[Stored]) -> Result<(), AppError> {
        if stored.is_empty() {
            return Ok(());
        }
        let at = now();
        let mut tx = self.writer.begin().await?;
        for chunk in stored.chunks(100) {
            let rows = value_rows(2, chunk.len(), 3);
            let sql = format!(
                "UPDATE calls SET input = v.column2, body = v.column3, erased_at = $1
                 FROM (VALUES {rows}) AS v WHERE calls.id = v.column1 AND calls.erased_at IS NULL"
            );
            let mut update = sqlx::query(&sql).bind(&at);
            for call in chunk {
                update = update
                    .bind(call.id.clone())
                    .bind(erased_input(&call.input)?)
                    .bind(call.body.as_deref().map(erased_body).transpose()?);
            }
            update.execute(&mut *tx).await?;
            let sql = format!(
                "UPDATE deliveries SET response_body = NULL, retry_token = NULL,
                        chain_end = CASE WHEN next_attempt_at IS NOT NULL AND chain_end IS NULL THEN '{CALL_ERASED}' ELSE chain_end END,
                        next_attempt_at = NULL
                 WHERE call_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut clear = sqlx::query(&sql);
            for call in chunk {
                clear = clear.bind(call.id.clone());
            }
            clear.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The call as received, without its personal data: agent, kind, times and end reason stay.
fn erased_input(input: &str) -> Result<String, AppError> {
    let mut call: NewCall = serde_json::from_str(input).map_err(AppError::internal)?;
    call.from_number = None;
    call.to_number = None;
    call.transcript.clear();
    call.metadata = None;
    serde_json::to_string(&call).map_err(AppError::internal)
}

/// The Get Call JSON without its personal data, in the same shape.
fn erased_body(body: &str) -> Result<String, AppError> {
    let mut view: serde_json::Value = serde_json::from_str(body).map_err(AppError::internal)?;
    if let Some(fields) = view.as_object_mut() {
        for (name, empty) in [
            ("from_number", serde_json::Value::Null),
            ("to_number", serde_json::Value::Null),
            ("transcript", serde_json::json!([])),
            ("summary", serde_json::Value::Null),
            ("variables", serde_json::json!({})),
            ("metadata", serde_json::Value::Null),
        ] {
            if fields.contains_key(name) {
                fields.insert(name.to_owned(), empty);
            }
        }
    }
    serde_json::to_string(&view).map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_erased_forms_keep_times_and_shape_and_lose_the_personal_data() {
        let input = r#"{"agent_id":"a","type":"phone","from_number":"+15550100","to_number":"+15550199",
            "started_at":"2026-11-27T09:00:00Z","ended_at":"2026-11-27T09:01:00Z","end_reason":"caller_hung_up",
            "transcript":[{"role":"user","text":"my card is 4111","start_ms":0}],"metadata":{"crm":"42"}}"#;
        let erased = erased_input(input).unwrap();
        assert!(!erased.contains("4111") && !erased.contains("+1555") && !erased.contains("crm"));
        assert!(erased.contains("2026-11-27T09:01:00Z") && erased.contains("caller_hung_up"));
        let body = r#"{"id":"c","transcript":[{"text":"4111"}],"summary":"card 4111","variables":{"card":"4111"},
            "metadata":{"crm":"42"},"from_number":"+15550100","to_number":null,"duration_seconds":60}"#;
        let erased = erased_body(body).unwrap();
        assert!(!erased.contains("4111") && !erased.contains("+1555") && !erased.contains("crm"));
        assert!(
            erased.contains(r#""duration_seconds":60"#) && erased.contains(r#""variables":{}"#)
        );
    }
}
