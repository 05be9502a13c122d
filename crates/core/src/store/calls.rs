//! Calls, their post-call processing settings, and the deliveries of their `call_ended` event.
//! The dispatcher's methods take a call id: it runs outside any request, on calls that the
//! owner-scoped `insert_call` stored.

use super::deployed::CallConfig;
use super::{OwnedAgent, Store, webhooks::touch_draft};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::states::{CallKind, DeliveryKind, DeliveryOutcome, EventState};
use crate::views::{CallSummaryView, EventView, NewCall, ProcessingSettings};
use std::sync::{Arc, LazyLock};

/// A stored call, as the dispatcher and the Get Call API read it.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub id: String,
    pub agent_id: String,
    pub agent_version: Option<i64>,
    pub kind: CallKind,
    pub input: NewCall,
    /// The Get Call JSON once processing is done.
    pub body: Option<String>,
    pub event: EventView,
    pub received_at: String,
    /// Processing attempts so far, this one included when the call is claimed.
    pub attempts: i64,
    /// When its personal data was erased (retention or the owner): nothing of it may be sent.
    pub erased_at: Option<String>,
}

/// A call with its event, as `CALL_COLUMNS` reads it.
#[derive(sqlx::FromRow)]
pub(super) struct CallRow {
    id: String,
    agent_id: String,
    agent_version: Option<i64>,
    #[sqlx(rename = "type")]
    kind: CallKind,
    input: String,
    body: Option<String>,
    state: EventState,
    note: Option<String>,
    received_at: String,
    erased_at: Option<String>,
    attempts: i64,
}

impl TryFrom<CallRow> for CallRecord {
    type Error = AppError;

    fn try_from(row: CallRow) -> Result<Self, AppError> {
        Ok(CallRecord {
            id: row.id,
            agent_id: row.agent_id,
            agent_version: row.agent_version,
            kind: row.kind,
            input: serde_json::from_str(&row.input).map_err(AppError::internal)?,
            body: row.body,
            event: EventView { state: row.state, note: row.note },
            received_at: row.received_at,
            attempts: row.attempts,
            erased_at: row.erased_at,
        })
    }
}

/// A call with its event: select `CALL_COLUMNS` from `CALL_TABLES`.
pub(super) const CALL_COLUMNS: &str = "c.id, c.agent_id, c.agent_version, c.type, c.input, c.body, e.state, e.note, c.received_at, e.attempts, c.erased_at";
pub(super) const CALL_TABLES: &str = "calls c JOIN call_events e ON e.call_id = c.id";

/// A page of an agent's calls (`$1` agent, `$2` the call before which the page starts or NULL,
/// `$3` the page size). Whether the body is there, not the body: the list shows no more.
pub static CALLS_PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT c.id, c.type, c.agent_version, c.received_at, CASE WHEN c.body IS NULL THEN 0 ELSE 1 END AS has_body,
            e.state,
            (SELECT COUNT(*) FROM deliveries d WHERE d.call_id = c.id AND d.kind = {event}) AS sent,
            (SELECT COUNT(DISTINCT d.webhook_id) FROM deliveries d WHERE d.call_id = c.id AND d.outcome = {ok}) AS delivered
     FROM calls c JOIN call_events e ON e.call_id = c.id
     WHERE c.agent_id = $1 AND ($2 IS NULL OR (c.received_at, c.rowid) <
           (SELECT received_at, rowid FROM calls WHERE id = $2 AND agent_id = $1))
     ORDER BY c.received_at DESC, c.rowid DESC LIMIT $3",
        event = DeliveryKind::Event.sql(),
        ok = DeliveryOutcome::Ok.sql(),
    )
});

/// A row of `CALLS_PAGE`.
#[derive(sqlx::FromRow)]
struct CallSummaryRow {
    id: String,
    #[sqlx(rename = "type")]
    kind: CallKind,
    agent_version: Option<i64>,
    received_at: String,
    has_body: i64,
    state: EventState,
    sent: i64,
    delivered: i64,
}

pub(super) fn processing_settings(json: &str) -> Result<ProcessingSettings, AppError> {
    serde_json::from_str(json).map_err(AppError::internal)
}

impl Store {
    async fn draft_processing_of(&self, agent_id: &str) -> Result<ProcessingSettings, AppError> {
        let json: String = sqlx::query_scalar("SELECT processing FROM agents WHERE id = $1")
            .bind(agent_id)
            .fetch_one(&self.pool)
            .await?;
        processing_settings(&json)
    }

    pub(super) async fn processing_of_version(
        &self, agent_id: &str, version: i64,
    ) -> Result<ProcessingSettings, AppError> {
        let json: String = sqlx::query_scalar(
            "SELECT processing FROM agent_versions WHERE agent_id = $1 AND version = $2",
        )
        .bind(agent_id)
        .bind(version)
        .fetch_one(&self.pool)
        .await?;
        processing_settings(&json)
    }

    pub async fn set_draft_processing(
        &self, agent: &OwnedAgent, settings: &ProcessingSettings,
    ) -> Result<(), AppError> {
        let mut tx = self.writer.begin().await?;
        touch_draft(&mut tx, agent).await?;
        let stored: String = sqlx::query_scalar("SELECT processing FROM agents WHERE id = $1")
            .bind(agent.id())
            .fetch_one(&mut *tx)
            .await?;
        if processing_settings(&stored)? == *settings {
            return Ok(()); // a save that changes nothing: dropping `tx` undoes the draft's bump
        }
        sqlx::query("UPDATE agents SET processing = $1 WHERE id = $2")
            .bind(serde_json::to_string(settings).map_err(AppError::internal)?)
            .bind(agent.id())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn call_for_owner(
        &self, owner: &OwnerId, call_id: &str,
    ) -> Result<CallRecord, AppError> {
        let call_id = super::known_id(call_id)?;
        let row: Option<CallRow> = sqlx::query_as(&format!(
            "SELECT {CALL_COLUMNS} FROM {CALL_TABLES} WHERE c.id = $1 AND c.owner_id = $2"
        ))
        .bind(call_id)
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(AppError::NotFound)?.try_into()
    }

    /// Calls of an agent, newest first; after the call `before` (an id) when given. Walks the
    /// index on `(agent_id, received_at)` backwards (SQLite's ends with the rowid, PostgreSQL's
    /// names it), so a page costs the same however many calls the agent has.
    pub async fn calls_of_agent(
        &self, agent: &OwnedAgent, before: Option<&str>, limit: i64,
    ) -> Result<Vec<CallSummaryView>, AppError> {
        let before = before.map(super::known_id).transpose()?;
        let rows: Vec<CallSummaryRow> = sqlx::query_as(&CALLS_PAGE)
            .bind(agent.id())
            .bind(before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| CallSummaryView {
                id: row.id,
                kind: row.kind,
                status: crate::views::call_status(row.has_body == 1, row.state).to_owned(),
                agent_version: row.agent_version,
                received_at: row.received_at,
                event: row.state,
                sent: row.sent as u32,
                delivered: row.delivered as u32,
            })
            .collect())
    }

    /// Whether `call_id` is one of `agent`'s calls.
    pub async fn is_call_of_agent(
        &self, agent: &OwnedAgent, call_id: &str,
    ) -> Result<bool, AppError> {
        if super::known_id(call_id).is_err() {
            return Ok(false);
        }
        let found: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM calls WHERE id = $1 AND agent_id = $2")
                .bind(call_id)
                .bind(agent.id())
                .fetch_one(&self.pool)
                .await?;
        Ok(found > 0)
    }

    /// The webhooks and processing settings a call runs with: its deployed version (read once
    /// per process), or the draft as it is now.
    pub async fn call_config(&self, call: &CallRecord) -> Result<Arc<CallConfig>, AppError> {
        match call.agent_version {
            Some(version) => self.deployed_config(&call.agent_id, version).await,
            None => Ok(Arc::new(CallConfig {
                webhooks: self.draft_webhooks_of(&call.agent_id).await?,
                processing: self.draft_processing_of(&call.agent_id).await?,
            })),
        }
    }
}
