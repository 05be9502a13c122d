//! Storing finished calls, with group commit: the calls that arrive together share one write.
//! Each call's event is written with it, in the same statement or transaction, and a call that
//! a worker of this instance takes at once is written already claimed (`processing` under this
//! instance's lease and a claim token): its way to the first request then has no claim
//! statement, no read back of the call and no wake-up (issue: one-at-a-time latency). A call
//! stored without a claim (every slot busy, a web-only instance) is `pending` for any instance.

use super::calls::CallRecord;
use super::queue::{clock_of, ms};
use super::{Backend, OwnedAgent, Store, new_id, now, placeholders, value_rows};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::states::{CallKind, EventState};
use crate::views::{EventView, NewCall};
use sqlx::AnyPool;
use std::time::Duration;

const PENDING: &str = EventState::Pending.sql();
const PROCESSING: &str = EventState::Processing.sql();

/// The lease a call is stored under when this instance's worker takes it at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeClaim {
    /// This instance's name on its leases.
    pub instance: String,
    pub lease: Duration,
}

/// A stored call; `token` is its claim when it was stored claimed.
#[derive(Debug)]
pub struct StoredCall {
    pub call: CallRecord,
    pub token: Option<String>,
}

/// A call about to be stored.
pub(super) struct NewCallRow {
    id: String,
    owner_id: String,
    agent_id: String,
    version: Option<i64>,
    kind: CallKind,
    input: String,
    received_at: String,
    claim: Option<IntakeClaim>,
}

/// Writes a batch of calls and their events; answers each call's claim token if it was stored
/// claimed (one token, shared by the batch's claimed calls).
pub(super) async fn insert_calls(
    writer: AnyPool, backend: Backend, rows: Vec<NewCallRow>,
) -> Result<Vec<Option<String>>, AppError> {
    let token = new_id();
    let tokens = rows.iter().map(|row| row.claim.as_ref().map(|_| token.clone())).collect();
    match backend {
        Backend::Postgres => insert_with_events(&writer, &token, rows).await?,
        Backend::Sqlite => insert_then_claim(&writer, &token, rows).await?,
    }
    Ok(tokens)
}

/// The calls' `INSERT`, seven values a row.
fn insert_calls_sql(count: usize) -> String {
    let values = value_rows(1, count, 7);
    format!(
        "INSERT INTO calls (id, owner_id, agent_id, agent_version, type, input, received_at) VALUES {values}"
    )
}

fn bind_calls<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    rows: &'q [NewCallRow],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for row in rows {
        query = query
            .bind(&row.id)
            .bind(&row.owner_id)
            .bind(&row.agent_id)
            .bind(row.version)
            .bind(row.kind)
            .bind(&row.input)
            .bind(&row.received_at);
    }
    query
}

/// PostgreSQL: one statement, so one round trip. The calls go in through a data-modifying
/// `WITH`, their events in the main `INSERT` (the queueing trigger, which fires at the end of
/// the statement, finds them there and yields; a statement trigger notifies other instances
/// only if an event is left pending).
async fn insert_with_events(
    writer: &AnyPool, token: &str, rows: Vec<NewCallRow>,
) -> Result<(), AppError> {
    let clock = clock_of(Backend::Postgres);
    let first = rows.len() * 7 + 1;
    // Per event: call id, then lease owner, token and lease length when claimed.
    let mut next = first;
    let events = rows
        .iter()
        .map(|row| {
            let id = next;
            next += 1;
            if row.claim.is_some() {
                next += 3;
                format!("(${id}, {PROCESSING}, ${}, ${}, {clock} + ${}, 1)", id + 1, id + 2, id + 3)
            } else {
                format!("(${id}, {PENDING}, NULL, NULL, NULL, 0)")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let calls = insert_calls_sql(rows.len());
    let sql = format!(
        "WITH stored AS ({calls}) INSERT INTO call_events (call_id, state, lease_owner, lease_token, lease_expires_at, attempts) VALUES {events}"
    );
    let mut query = bind_calls(sqlx::query(&sql), &rows);
    for row in &rows {
        query = query.bind(&row.id);
        if let Some(claim) = &row.claim {
            query = query.bind(&claim.instance).bind(token).bind(ms(claim.lease));
        }
    }
    query.execute(writer).await?;
    Ok(())
}

/// SQLite: the calls' `INSERT` (its trigger queues each event `pending`), then the claimed ones
/// moved to `processing`, in one transaction on the one writer (in-process statements, one
/// commit).
async fn insert_then_claim(
    writer: &AnyPool, token: &str, rows: Vec<NewCallRow>,
) -> Result<(), AppError> {
    let calls_sql = insert_calls_sql(rows.len());
    let claimed: Vec<&NewCallRow> = rows.iter().filter(|row| row.claim.is_some()).collect();
    if claimed.is_empty() {
        bind_calls(sqlx::query(&calls_sql), &rows).execute(writer).await?;
        return Ok(());
    }
    let mut tx = writer.begin().await?;
    bind_calls(sqlx::query(&calls_sql), &rows).execute(&mut *tx).await?;
    // One instance stores with one lease, so this is one statement; grouped all the same.
    let mut claims: Vec<&IntakeClaim> = Vec::new();
    for claim in claimed.iter().filter_map(|row| row.claim.as_ref()) {
        if !claims.contains(&claim) {
            claims.push(claim);
        }
    }
    for claim in claims {
        let ids: Vec<&str> = claimed
            .iter()
            .filter(|row| row.claim.as_ref() == Some(claim))
            .map(|row| row.id.as_str())
            .collect();
        let sql = format!(
            "UPDATE call_events SET state = {PROCESSING}, lease_owner = $1, lease_token = $2, lease_expires_at = {} + $3, attempts = 1
             WHERE state = {PENDING} AND call_id IN ({})",
            clock_of(Backend::Sqlite),
            placeholders(4, ids.len())
        );
        let mut update = sqlx::query(&sql).bind(&claim.instance).bind(token).bind(ms(claim.lease));
        for id in ids {
            update = update.bind(id);
        }
        update.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

impl Store {
    /// Stores a call with its event: `pending`, or claimed under `claim` for this instance's
    /// worker. Durable when this returns.
    pub async fn insert_call(
        &self, owner: &OwnerId, agent: &OwnedAgent, kind: CallKind, version: Option<i64>,
        input: NewCall, claim: Option<IntakeClaim>,
    ) -> Result<StoredCall, AppError> {
        let row = NewCallRow {
            id: new_id(),
            owner_id: owner.as_str().to_owned(),
            agent_id: agent.id().to_owned(),
            version,
            kind,
            input: serde_json::to_string(&input).map_err(AppError::internal)?,
            received_at: now(),
            claim,
        };
        let (id, received_at) = (row.id.clone(), row.received_at.clone());
        let token = self.intake.write(row).await?;
        let state = if token.is_some() { EventState::Processing } else { EventState::Pending };
        let call = CallRecord {
            id,
            agent_id: agent.id().to_owned(),
            agent_version: version,
            kind,
            input,
            body: None,
            event: EventView { state, note: None },
            received_at,
            attempts: i64::from(token.is_some()),
            erased_at: None,
        };
        Ok(StoredCall { call, token })
    }
}
