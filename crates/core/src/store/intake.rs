//! Storing finished calls, with group commit: the calls that arrive together share one write.
//! Each call's event is written with it, in the same statement or transaction, and a call that
//! a worker of this instance takes at once is written already claimed (`processing` under this
//! instance's lease and a claim token): its way to the first request then has no claim
//! statement, no read back of the call and no wake-up (issue: one-at-a-time latency). A call
//! stored without a claim (every slot busy, a web-only instance) is `pending` for any instance.
//!
//! The insert itself checks that the agent is the owner's and, for a phone call, reads its
//! latest deployed version: a phone call's intake reads nothing before its write (the API key
//! aside), one round trip fewer on its way to the 202.

use super::calls::CallRecord;
use super::queue::{clock_of, ms};
use super::{Backend, Store, new_id, now, placeholders, value_rows};
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

/// What a batch's write answers for one call: `None` when the agent is not the owner's (nothing
/// was stored); else its claim token if it was stored claimed, and its agent version.
pub(super) type Written = Option<(Option<String>, Option<i64>)>;

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
    kind: CallKind,
    input: String,
    received_at: String,
    claim: Option<IntakeClaim>,
}

/// Writes a batch of calls and their events; answers for each call what was written (claimed
/// calls share one token).
pub(super) async fn insert_calls(
    writer: AnyPool, backend: Backend, rows: Vec<NewCallRow>,
) -> Result<Vec<Written>, AppError> {
    let token = new_id();
    let versions = match backend {
        Backend::Postgres => insert_with_events(&writer, &token, &rows).await?,
        Backend::Sqlite => insert_then_claim(&writer, &token, &rows).await?,
    };
    Ok(rows
        .iter()
        .map(|row| {
            let version = versions.get(&row.id)?;
            Some((row.claim.as_ref().map(|_| token.clone()), *version))
        })
        .collect())
}

/// Call id → agent version, of the calls stored.
type Versions = std::collections::HashMap<String, Option<i64>>;

/// The calls' `INSERT`, from six values a row: each stored only if its agent is its owner's,
/// a phone call with the agent's latest deployed version (none if it was never deployed), a
/// web call with none (it uses the draft). Answers the ids stored and their versions. Two
/// parts: the rows, a `WITH` list item named `v` (SQLite names a `VALUES` list's columns no
/// other way), and the `INSERT` that reads them.
fn insert_calls_sql(count: usize) -> (String, String) {
    let values = value_rows(1, count, 6);
    let phone = CallKind::Phone.sql();
    let rows = format!("v(id, owner_id, agent_id, type, input, received_at) AS (VALUES {values})");
    let insert = format!(
        "INSERT INTO calls (id, owner_id, agent_id, agent_version, type, input, received_at)
         SELECT v.id, v.owner_id, v.agent_id,
                CASE WHEN v.type = {phone} THEN (SELECT MAX(version) FROM agent_versions WHERE agent_id = v.agent_id) END,
                v.type, v.input, v.received_at
         FROM v, agents a
         WHERE a.id = v.agent_id AND a.owner_id = v.owner_id
         RETURNING id, agent_version"
    );
    (rows, insert)
}

fn bind_calls<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    rows: &'q [NewCallRow],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for row in rows {
        query = query
            .bind(&row.id)
            .bind(&row.owner_id)
            .bind(&row.agent_id)
            .bind(row.kind)
            .bind(&row.input)
            .bind(&row.received_at);
    }
    query
}

/// PostgreSQL: one statement, so one round trip. The calls go in through a data-modifying
/// `WITH`, their events through another, only for the calls stored (the queueing trigger, which
/// fires at the end of the statement, finds them there and yields; a statement trigger notifies
/// other instances only if an event is left pending).
async fn insert_with_events(
    writer: &AnyPool, token: &str, rows: &[NewCallRow],
) -> Result<Versions, AppError> {
    let clock = clock_of(Backend::Postgres);
    let first = rows.len() * 6 + 1;
    // Per event: call id, then lease owner, token and lease length when claimed. Typed, since
    // a `VALUES` list of NULLs alone would be text.
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
                format!("(${id}, {PENDING}, NULL::text, NULL::text, NULL::bigint, 0)")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let (calls, insert) = insert_calls_sql(rows.len());
    let sql = format!(
        "WITH {calls},
         stored AS ({insert}),
         events AS (
           INSERT INTO call_events (call_id, state, lease_owner, lease_token, lease_expires_at, attempts)
           SELECT * FROM (VALUES {events}) AS e(call_id, state, lease_owner, lease_token, lease_expires_at, attempts)
           WHERE e.call_id IN (SELECT id FROM stored))
         SELECT id, agent_version FROM stored"
    );
    let mut query = bind_calls(sqlx::query_as::<_, (String, Option<i64>)>(&sql), rows);
    for row in rows {
        query = query.bind(&row.id);
        if let Some(claim) = &row.claim {
            query = query.bind(&claim.instance).bind(token).bind(ms(claim.lease));
        }
    }
    Ok(query.fetch_all(writer).await?.into_iter().collect())
}

/// SQLite: the calls' `INSERT` (its trigger queues each event `pending`), then the claimed ones
/// moved to `processing`, in one transaction on the one writer (in-process statements, one
/// commit).
async fn insert_then_claim(
    writer: &AnyPool, token: &str, rows: &[NewCallRow],
) -> Result<Versions, AppError> {
    let (calls, insert) = insert_calls_sql(rows.len());
    let calls_sql = format!("WITH {calls} {insert}");
    let insert = || bind_calls(sqlx::query_as::<_, (String, Option<i64>)>(&calls_sql), rows);
    if rows.iter().all(|row| row.claim.is_none()) {
        return Ok(insert().fetch_all(writer).await?.into_iter().collect());
    }
    let mut tx = writer.begin().await?;
    let stored: Versions = insert().fetch_all(&mut *tx).await?.into_iter().collect();
    let claimed: Vec<&NewCallRow> =
        rows.iter().filter(|row| row.claim.is_some() && stored.contains_key(&row.id)).collect();
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
    Ok(stored)
}

impl Store {
    /// Stores a call with its event: `pending`, or claimed under `claim` for this instance's
    /// worker. Durable when this returns. `NotFound`, and nothing stored, when `agent_id` is not
    /// one of `owner`'s agents: the insert checks it. A phone call gets the agent's latest
    /// deployed version as of the insert; a web call none (it uses the draft).
    pub async fn insert_call(
        &self, owner: &OwnerId, agent_id: &str, kind: CallKind, input: NewCall,
        claim: Option<IntakeClaim>,
    ) -> Result<StoredCall, AppError> {
        let row = NewCallRow {
            id: new_id(),
            owner_id: owner.as_str().to_owned(),
            agent_id: super::known_id(agent_id)?.to_owned(),
            kind,
            input: serde_json::to_string(&input).map_err(AppError::internal)?,
            received_at: now(),
            claim,
        };
        let (id, received_at) = (row.id.clone(), row.received_at.clone());
        let (token, version) = self.intake.write(row).await?.ok_or(AppError::NotFound)?;
        let state = if token.is_some() { EventState::Processing } else { EventState::Pending };
        let call = CallRecord {
            id,
            agent_id: agent_id.to_owned(),
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
