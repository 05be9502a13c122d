//! Storing finished calls, with group commit: the calls that arrive together share one write.
//! Each call's event is written with it, in the same statement or transaction, and a call that
//! a worker of this instance takes at once is written already claimed (`processing` under this
//! instance's lease and a claim token): its way to the first request then has no claim
//! statement, no read back of the call and no wake-up (issue: one-at-a-time latency). A call
//! stored without a claim (every slot busy, a web-only instance) is `pending` for any instance.
//!
//! The insert itself checks that the agent is the owner's and, for a phone call, reads its
//! latest deployed version: a phone call's intake reads nothing before its write (the API key
//! aside). A claimed phone call the intake could process already (`IntakeStart`) has its event
//! started by the same write, when the version it was processed with is still the latest: body,
//! `sending` and deliveries, so its requests go out as soon as the write is durable.

use super::calls::CallRecord;
use super::deployed::DeployedCache;
use super::event_start::{self, EventStart, IntakeStart, PAUSED};
use super::positional::for_backend;
use super::queue::{clock_of, ms};
use super::{Backend, Store, new_id, now, placeholders, value_rows};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::states::{CallKind, DeliveryOutcome, EventState};
use crate::views::{EventView, NewCall};
use sqlx::AnyPool;
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
}

/// A call about to be stored: its row, the record it will be, and what follows its write.
pub(super) struct NewCallRow {
    id: String,
    owner_id: String,
    agent_id: String,
    kind: CallKind,
    input: String,
    received_at: String,
    claim: Option<IntakeClaim>,
    start: Option<IntakeStart>,
    record: CallRecord,
    on_stored: Option<OnStored>,
}

/// Call id → (agent version, stored with its event started).
type Versions = HashMap<String, (Option<i64>, bool)>;

/// Writes a batch of calls and their events, then runs each stored call's `on_stored`;
/// answers for each call whether it was stored (its agent is its owner's).
pub(super) async fn insert_calls(
    writer: AnyPool, backend: Backend, deployed: DeployedCache, mut rows: Vec<NewCallRow>,
) -> Result<Vec<bool>, AppError> {
    // A start goes only with a claim: its requests are this instance's to send.
    for row in &mut rows {
        if row.claim.is_none() {
            row.start = None;
        }
    }
    let token = new_id();
    let (versions, paused) = match backend {
        Backend::Postgres => insert_with_events(&writer, &token, &rows).await?,
        Backend::Sqlite => insert_then_claim(&writer, &token, &rows).await?,
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let Some(&(version, started)) = versions.get(&row.id) else {
                return false;
            };
            if let Some(version) = version {
                deployed.saw_latest(&row.owner_id, &row.agent_id, version);
            }
            let written = WrittenCall {
                token: row.claim.as_ref().map(|_| token.clone()),
                version,
                started: started.then(|| paused.get(&row.id).cloned().unwrap_or_default()),
            };
            if let Some(on_stored) = row.on_stored {
                let stored = stored_call(row.record, row.start, written);
                // A panic here must not stop this task, which stores every call: the call waits
                // for its lease to lapse and is taken up again.
                let handing = std::panic::AssertUnwindSafe(|| on_stored(stored));
                if std::panic::catch_unwind(handing).is_err() {
                    tracing::error!(call_id = %row.id, "handing a stored call to its worker panicked");
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

/// The calls' `INSERT`, from eight values a row: each stored only if its agent is its owner's,
/// a phone call with the agent's latest deployed version (none if it was never deployed), a
/// web call with none (it uses the draft); the body processed at intake only if it was
/// processed with that version. Answers the ids stored, their versions and whether the body
/// went in (1 or 0). Two parts: the rows, `WITH` list items (SQLite names a `VALUES` list's
/// columns no other way), and the `INSERT` that reads them.
fn insert_calls_sql(count: usize) -> (String, String) {
    let values = value_rows(1, count, 8);
    let phone = CallKind::Phone.sql();
    let rows = format!(
        "v(id, owner_id, agent_id, type, input, received_at, processed_with, body) AS (VALUES {values}),
         owned AS (
           SELECT v.*, CASE WHEN v.type = {phone} THEN (SELECT MAX(version) FROM agent_versions WHERE agent_id = v.agent_id) END AS version
           FROM v, agents a WHERE a.id = v.agent_id AND a.owner_id = v.owner_id)"
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
            .bind(&row.id)
            .bind(&row.owner_id)
            .bind(&row.agent_id)
            .bind(row.kind)
            .bind(&row.input)
            .bind(&row.received_at)
            .bind(row.start.as_ref().map(|s| s.version))
            .bind(row.start.as_ref().map(|s| s.body.as_str()));
    }
    query
}

/// PostgreSQL: one statement, so one round trip. The calls go in through a data-modifying
/// `WITH`, their events through another, only for the calls stored (the queueing trigger, which
/// fires at the end of the statement, finds them there and yields; a statement trigger notifies
/// other instances only if an event is left pending), and the deliveries of the events that
/// start through a third, recorded `paused` for webhooks the owner has paused.
async fn insert_with_events(
    writer: &AnyPool, token: &str, rows: &[NewCallRow],
) -> Result<(Versions, Paused), AppError> {
    let clock = clock_of(Backend::Postgres);
    let mut next = rows.len() * 8 + 1;
    // Per event: call id, then lease owner, token and lease length when claimed. Typed, since
    // a `VALUES` list of NULLs alone would be text.
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
    let deliveries: Vec<(&NewCallRow, &event_start::StartedDelivery)> = rows
        .iter()
        .flat_map(|row| {
            row.start.iter().flat_map(move |s| s.deliveries.iter().map(move |d| (row, d)))
        })
        .collect();
    let values = deliveries
        .iter()
        .map(|_| {
            let list = placeholders(next, 8);
            next += 8;
            format!("({list})")
        })
        .collect::<Vec<_>>();
    let note = next;
    let (added, paused) = if deliveries.is_empty() {
        (String::new(), "")
    } else {
        let (sending, paused) = (DeliveryOutcome::Sending.sql(), DeliveryOutcome::Paused.sql());
        let added = format!(
            ", added AS (
               INSERT INTO deliveries (id, call_id, agent_id, webhook_id, webhook_name, webhook_url, config_version,
                                       started_at, outcome, request_headers, error, next_attempt_at)
               SELECT d.id, s.id, s.agent_id, d.webhook_id, d.webhook_name, d.webhook_url, s.agent_version,
                      d.started_at, CASE WHEN p.webhook_id IS NULL THEN {sending} ELSE {paused} END, d.request_headers,
                      CASE WHEN p.webhook_id IS NULL THEN NULL ELSE ${note} END,
                      CASE WHEN p.webhook_id IS NULL THEN {clock} + d.due END
               FROM (VALUES {}) AS d(id, call_id, webhook_id, webhook_name, webhook_url, request_headers, due, started_at)
               JOIN stored_rows s ON s.id = d.call_id AND s.started = 1
               LEFT JOIN webhook_pauses p ON p.agent_id = s.agent_id AND p.webhook_id = d.webhook_id
               RETURNING call_id, webhook_id, outcome)",
            values.join(", "),
        );
        (
            added,
            " UNION ALL SELECT call_id, NULL, NULL, webhook_id FROM added WHERE outcome = 'paused'",
        )
    };
    let (calls, insert) = insert_calls_sql(rows.len());
    let sql = format!(
        "WITH {calls},
         stored AS ({insert}),
         stored_rows AS (
           SELECT s.id, s.agent_version, s.started, o.agent_id FROM stored s JOIN owned o ON o.id = s.id),
         events AS (
           INSERT INTO call_events (call_id, state, lease_owner, lease_token, lease_expires_at, attempts)
           SELECT e.call_id, CASE WHEN s.started = 1 THEN {SENDING} ELSE e.state END, e.lease_owner, e.lease_token,
                  e.lease_expires_at, e.attempts
           FROM (VALUES {events}) AS e(call_id, state, lease_owner, lease_token, lease_expires_at, attempts)
           JOIN stored s ON s.id = e.call_id){added}
         SELECT id, agent_version, started, NULL AS webhook_id FROM stored{paused}"
    );
    let mut query = bind_calls(
        sqlx::query_as::<_, (String, Option<i64>, Option<i64>, Option<String>)>(&sql),
        rows,
    );
    for row in rows {
        query = query.bind(&row.id);
        if let Some(claim) = &row.claim {
            query = query.bind(&claim.instance).bind(token).bind(ms(claim.lease));
        }
    }
    let started_at = now();
    for (row, d) in &deliveries {
        query = query
            .bind(&d.id)
            .bind(&row.id)
            .bind(&d.webhook_id)
            .bind(&d.webhook_name)
            .bind(&d.webhook_url)
            .bind(&d.request_headers)
            .bind(d.due_unless_recorded_ms)
            .bind(&started_at);
    }
    if !deliveries.is_empty() {
        query = query.bind(PAUSED);
    }
    let (mut versions, mut paused) = (Versions::new(), Paused::new());
    for (id, version, started, webhook) in query.fetch_all(writer).await? {
        match (started, webhook) {
            (Some(started), _) => {
                versions.insert(id, (version, started == 1));
            }
            (None, Some(webhook)) => paused.entry(id).or_default().push(webhook),
            (None, None) => {}
        }
    }
    Ok((versions, paused))
}

/// SQLite: the calls' `INSERT` (its trigger queues each event `pending`), then the claimed ones
/// moved to `processing`, and those whose start held on to `sending` with their deliveries, in
/// one transaction on the one writer (in-process statements, one commit).
async fn insert_then_claim(
    writer: &AnyPool, token: &str, rows: &[NewCallRow],
) -> Result<(Versions, Paused), AppError> {
    let (calls, insert) = insert_calls_sql(rows.len());
    let calls_sql = for_backend(Backend::Sqlite, format!("WITH {calls} {insert}"));
    let insert = || bind_calls(sqlx::query_as::<_, (String, Option<i64>, i64)>(&calls_sql), rows);
    let versions = |stored: Vec<(String, Option<i64>, i64)>| -> Versions {
        stored.into_iter().map(|(id, version, started)| (id, (version, started == 1))).collect()
    };
    if rows.iter().all(|row| row.claim.is_none()) {
        return Ok((versions(insert().fetch_all(writer).await?), Paused::new()));
    }
    let mut tx = writer.begin().await?;
    let stored = versions(insert().fetch_all(&mut *tx).await?);
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
        let sql = for_backend(Backend::Sqlite, format!(
            "UPDATE call_events SET state = {PROCESSING}, lease_owner = $1, lease_token = $2, lease_expires_at = {} + $3, attempts = 1
             WHERE state = {PENDING} AND call_id IN ({})",
            clock_of(Backend::Sqlite),
            placeholders(4, ids.len())
        ));
        let mut update = sqlx::query(&sql).bind(&claim.instance).bind(token).bind(ms(claim.lease));
        for id in ids {
            update = update.bind(id);
        }
        update.execute(&mut *tx).await?;
    }
    // The starts that held, as the worker's start would make them (their bodies are in).
    let starts: Vec<EventStart> = claimed
        .iter()
        .filter(|row| stored.get(&row.id).is_some_and(|(_, started)| *started))
        .filter_map(|row| {
            let start = row.start.as_ref()?;
            Some(EventStart {
                call_id: row.id.clone(),
                agent_id: row.agent_id.clone(),
                agent_version: Some(start.version),
                token: token.to_owned(),
                body: String::new(),
                deliveries: start.deliveries.clone(),
            })
        })
        .collect();
    let (mut stored, mut paused) = (stored, Paused::new());
    if !starts.is_empty() {
        let outcomes = event_start::start_within(&mut tx, &starts, false).await?;
        for (start, outcome) in starts.iter().zip(outcomes) {
            match outcome {
                event_start::EventStarted::Now { paused: webhooks } => {
                    paused.insert(start.call_id.clone(), webhooks);
                }
                // Not moved (it cannot be: claimed just now, in this transaction): its worker
                // processes it, and nothing is sent from here.
                _ => {
                    if let Some((_, started)) = stored.get_mut(&start.call_id) {
                        *started = false;
                    }
                }
            }
        }
    }
    tx.commit().await?;
    Ok((stored, paused))
}

impl Store {
    /// A call about to be stored, checked only for what needs no database: nothing is stored
    /// until `insert_call`.
    pub fn incoming_call(
        &self, owner: &OwnerId, agent_id: &str, kind: CallKind, input: NewCall,
    ) -> Result<IncomingCall, AppError> {
        let (id, received_at) = (new_id(), now());
        let agent_id = super::known_id(agent_id)?.to_owned();
        let record = CallRecord {
            id: id.clone(),
            agent_id: agent_id.clone(),
            agent_version: None,
            kind,
            input: NewCall::default(),
            body: None,
            event: EventView { state: EventState::Pending, note: None },
            received_at: received_at.clone(),
            attempts: 0,
            erased_at: None,
        };
        let row = NewCallRow {
            id,
            owner_id: owner.as_str().to_owned(),
            agent_id,
            kind,
            input: serde_json::to_string(&input).map_err(AppError::internal)?,
            received_at,
            claim: None,
            start: None,
            record: CallRecord { input, ..record },
            on_stored: None,
        };
        Ok(IncomingCall { row })
    }

    /// Stores a call with its event: `pending`, or claimed under `claim` for this instance's
    /// worker, and with `start` (claimed calls only) already `sending` if the version it was
    /// processed with is still the agent's latest. Durable when this returns its id; `on_stored`
    /// has run by then, in the write's task (see `OnStored`). `NotFound`, and nothing stored,
    /// when the agent is not the owner's: the insert checks it. A phone call gets the agent's
    /// latest deployed version as of the insert; a web call none (it uses the draft).
    pub async fn insert_call(
        &self, incoming: IncomingCall, claim: Option<IntakeClaim>, start: Option<IntakeStart>,
        on_stored: OnStored,
    ) -> Result<String, AppError> {
        let IncomingCall { mut row } = incoming;
        let id = row.id.clone();
        row.claim = claim;
        row.start = start;
        row.on_stored = Some(on_stored);
        if self.intake.write(row).await? { Ok(id) } else { Err(AppError::NotFound) }
    }
}
