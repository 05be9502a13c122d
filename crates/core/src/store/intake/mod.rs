//! Storing finished calls, with group commit: the calls that arrive together share one write.
//! Each call's event is written with it, in the same statement or transaction, and a call that
//! a worker of this instance takes at once is written already claimed (`processing` under this
//! instance's lease and a claim token): its way to the first request then has no claim
//! statement, no read back of the call and no wake-up (issue: one-at-a-time latency). A call
//! stored without a claim (every slot busy, a web-only instance) is `pending` for any instance.
//!
//! The insert itself checks that the agent is the owner's and, for a phone call, reads its
//! latest deployed version, and, for an API key this instance read as valid within the last
//! minute, that the key is still the owner's: a phone call's intake then reads nothing before
//! its write. A claimed phone call the intake could process already (`IntakeStart`) has its event
//! started by the same write, when the version it was processed with is still the latest: body,
//! `sending` and deliveries, so its requests go out as soon as the write is durable.

mod postgres;
mod sqlite;

use super::calls::CallRecord;
use super::deployed::DeployedCache;
use super::event_start::IntakeStart;
use super::{Backend, Store, new_id, now, value_rows};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::states::{CallKind, EventState};
use crate::views::{EventView, NewCall};
use sqlx::AnyConnection;
use std::collections::HashMap;
use std::time::Duration;

const PENDING: &str = EventState::Pending.sql();
const PROCESSING: &str = EventState::Processing.sql();
const SENDING: &str = EventState::Sending.sql();

/// The lease a call is stored under when this instance's worker takes it at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeClaim {
    /// This instance's name on its leases.
    pub instance: String,
    pub lease: Duration,
}

/// What happens to a call once it is durable, run by the write's task before the caller hears
/// of it, whether or not the caller still waits (a client that hung up cannot strand a call
/// stored claimed). Never run when nothing was stored.
pub type OnStored = Box<dyn FnOnce(StoredCall) + Send + Sync>;

#[derive(Debug)]
struct WrittenCall {
    /// The claim, when stored claimed (one token for the batch's claimed calls).
    token: Option<String>,
    version: Option<i64>,
    /// The webhooks found paused, when its event started with the write.
    started: Option<Vec<String>>,
}

/// A stored call; `token` is its claim when it was stored claimed.
#[derive(Debug)]
pub struct StoredCall {
    pub call: CallRecord,
    pub token: Option<String>,
    /// When its event started with the write (its `IntakeStart` held): the webhooks the owner
    /// has paused, whose deliveries were recorded `paused`. Send the others.
    pub started: Option<Vec<String>>,
}

/// A call about to be stored (`Store::incoming_call`): what the intake processes it from.
pub struct IncomingCall {
    row: NewCallRow,
}

impl IncomingCall {
    /// The call as it will be stored (not yet claimed; its version as assumed, if it was).
    pub fn record(&self) -> &CallRecord {
        &self.row.record
    }

    /// The call as it will be stored if its agent's latest version is `version`, to process it
    /// with that version before the insert, which keeps the work only if it is.
    pub fn assume_version(&mut self, version: i64) -> &CallRecord {
        self.row.record.agent_version = Some(version);
        &self.row.record
    }

    /// Stores the call only if the API key with this hash is still its owner's, checked by the
    /// insert itself: for a key taken on this instance's word (`Store::recently_valid_key`),
    /// revoked since perhaps through another instance.
    pub fn check_key(&mut self, key_hash: String) {
        self.row.key_hash = Some(key_hash);
    }
}

/// A call about to be stored: the record it will be, what its row adds, and what follows its
/// write.
pub(super) struct NewCallRow {
    record: CallRecord,
    owner_id: String,
    /// `record.input` as stored.
    input: String,
    /// The API key to check in the insert (`IncomingCall::check_key`).
    key_hash: Option<String>,
    claim: Option<IntakeClaim>,
    start: Option<IntakeStart>,
    on_stored: Option<OnStored>,
}

impl NewCallRow {
    fn id(&self) -> &str {
        &self.record.id
    }

    fn agent_id(&self) -> &str {
        &self.record.agent_id
    }
}

/// Call id → (agent version, stored with its event started).
type Versions = HashMap<String, (Option<i64>, bool)>;

/// Writes a batch of calls and their events, then runs each stored call's `on_stored`;
/// answers for each call whether it was stored (its agent, and the key to check if any, are
/// its owner's).
pub(super) async fn insert_calls(
    writer: &mut AnyConnection, backend: Backend, deployed: DeployedCache,
    mut rows: Vec<NewCallRow>,
) -> Result<Vec<bool>, AppError> {
    // A start goes only with a claim: its requests are this instance's to send.
    for row in &mut rows {
        if row.claim.is_none() {
            row.start = None;
        }
    }
    let token = new_id();
    let (versions, paused) = match backend {
        Backend::Postgres => postgres::insert_with_events(writer, &token, &rows).await?,
        Backend::Sqlite => sqlite::insert_then_claim(writer, &token, &rows).await?,
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let Some(&(version, started)) = versions.get(row.id()) else {
                return false;
            };
            if let Some(version) = version {
                deployed.saw_latest(&row.owner_id, row.agent_id(), version);
            }
            let written = WrittenCall {
                token: row.claim.as_ref().map(|_| token.clone()),
                version,
                started: started.then(|| paused.get(row.id()).cloned().unwrap_or_default()),
            };
            if let Some(on_stored) = row.on_stored {
                let call_id = row.record.id.clone();
                let stored = stored_call(row.record, row.start, written);
                // A panic here must not stop this task, which stores every call: the call waits
                // for its lease to lapse and is taken up again.
                let handing = std::panic::AssertUnwindSafe(|| on_stored(stored));
                if std::panic::catch_unwind(handing).is_err() {
                    tracing::error!(%call_id, "handing a stored call to its worker panicked");
                }
            }
            true
        })
        .collect())
}

/// The call as it was stored.
fn stored_call(
    mut record: CallRecord, start: Option<IntakeStart>, written: WrittenCall,
) -> StoredCall {
    record.agent_version = written.version;
    record.event.state = match (&written.token, &written.started) {
        (_, Some(_)) => EventState::Sending,
        (Some(_), None) => EventState::Processing,
        (None, None) => EventState::Pending,
    };
    record.attempts = i64::from(written.token.is_some());
    if written.started.is_some() {
        record.body = start.map(|s| s.body);
    }
    StoredCall { call: record, token: written.token, started: written.started }
}

/// Call id → its paused webhooks, of the calls whose event started with the write.
type Paused = HashMap<String, Vec<String>>;

/// Values a call's row binds in the calls' `INSERT` (`bind_calls`).
const CALL_VALUES: usize = 9;

/// The calls' `INSERT`, from `CALL_VALUES` a row: each stored only if its agent is its owner's
/// (and, with a key to check, that key still is the owner's), a phone call with the agent's
/// latest deployed version (none if it was never deployed), a web call with none (it uses the
/// draft); the body processed at intake only if it was processed with that version. Answers the ids stored, their versions and whether the body
/// went in (1 or 0). Two parts: the rows, `WITH` list items (SQLite names a `VALUES` list's
/// columns no other way), and the `INSERT` that reads them.
fn insert_calls_sql(count: usize) -> (String, String) {
    let values = value_rows(1, count, CALL_VALUES);
    let phone = CallKind::Phone.sql();
    let rows = format!(
        "v(id, owner_id, agent_id, type, input, received_at, processed_with, body, key_hash) AS (VALUES {values}),
         owned AS (
           SELECT v.*, CASE WHEN v.type = {phone} THEN (SELECT MAX(version) FROM agent_versions WHERE agent_id = v.agent_id) END AS version
           FROM v, agents a WHERE a.id = v.agent_id AND a.owner_id = v.owner_id
             AND (v.key_hash IS NULL
                  OR EXISTS (SELECT 1 FROM api_keys k WHERE k.key_hash = v.key_hash AND k.owner_id = v.owner_id)))"
    );
    let insert = "INSERT INTO calls (id, owner_id, agent_id, agent_version, type, input, received_at, body)
         SELECT id, owner_id, agent_id, version, type, input, received_at,
                CASE WHEN version = processed_with THEN body END
         FROM owned
         RETURNING id, agent_version, CAST(CASE WHEN body IS NULL THEN 0 ELSE 1 END AS BIGINT) AS started"
        .to_owned();
    (rows, insert)
}

fn bind_calls<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    rows: &'q [NewCallRow],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for row in rows {
        query = query
            .bind(row.id())
            .bind(&row.owner_id)
            .bind(row.agent_id())
            .bind(row.record.kind)
            .bind(&row.input)
            .bind(&row.record.received_at)
            .bind(row.start.as_ref().map(|s| s.version))
            .bind(row.start.as_ref().map(|s| s.body.as_str()))
            .bind(row.key_hash.as_deref());
    }
    query
}

impl Store {
    /// A call about to be stored, checked only for what needs no database: nothing is stored
    /// until `insert_call`.
    pub fn incoming_call(
        &self, owner: &OwnerId, agent_id: &str, kind: CallKind, input: NewCall,
    ) -> Result<IncomingCall, AppError> {
        let row = NewCallRow {
            owner_id: owner.as_str().to_owned(),
            input: serde_json::to_string(&input).map_err(AppError::internal)?,
            key_hash: None,
            record: CallRecord {
                id: new_id(),
                agent_id: super::known_id(agent_id)?.to_owned(),
                agent_version: None,
                kind,
                input,
                body: None,
                event: EventView { state: EventState::Pending, note: None },
                received_at: now(),
                attempts: 0,
                erased_at: None,
            },
            claim: None,
            start: None,
            on_stored: None,
        };
        Ok(IncomingCall { row })
    }

    /// Stores a call with its event: `pending`, or claimed under `claim` for this instance's
    /// worker, and with `start` (claimed calls only) already `sending` if the version it was
    /// processed with is still the agent's latest. Durable when this returns its id; `on_stored`
    /// has run by then, in the write's task (see `OnStored`). `NotFound`, and nothing stored,
    /// when the agent is not the owner's or the key to check is not: the insert checks both. A
    /// phone call gets the agent's latest deployed version as of the insert; a web call none
    /// (it uses the draft).
    pub async fn insert_call(
        &self, incoming: IncomingCall, claim: Option<IntakeClaim>, start: Option<IntakeStart>,
        on_stored: OnStored,
    ) -> Result<String, AppError> {
        let IncomingCall { mut row } = incoming;
        let id = row.id().to_owned();
        row.claim = claim;
        row.start = start;
        row.on_stored = Some(on_stored);
        if self.intake.write(row).await? { Ok(id) } else { Err(AppError::NotFound) }
    }
}
