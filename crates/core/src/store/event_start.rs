//! Starting an event: the processed call's body saved, its event moved from `processing` to
//! `sending` and one delivery recorded per request about to start, all at once and only while
//! the worker's claim still holds the call, before any request is sent (so nothing is ever
//! sent twice). With group commit: the events that start together share one write.

use super::calls::CallRecord;
use super::positional::for_backend;
use super::queue::{clock_of, ms};
use super::{Backend, PendingDelivery, Store, now, placeholders};
use crate::error::AppError;
use crate::states::{DeliveryOutcome, EventState};
use sqlx::AnyConnection;
use std::collections::{HashMap, HashSet};

const PROCESSING: &str = EventState::Processing.sql();
const SENDING: &str = EventState::Sending.sql();

/// How `begin_event` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventStarted {
    /// Moved to `sending` now, with the deliveries as given: send them, except to the webhooks
    /// listed here, which the owner has paused (read in the same statement: their deliveries
    /// were recorded `paused`).
    Now { paused: Vec<String> },
    /// This same claim had moved it already: an earlier attempt whose commit landed though its
    /// reply was lost (the connection broke), so the worker tried again. Its deliveries are
    /// recorded under these ids (webhook id, delivery id): send those, once.
    Earlier(Vec<(String, String)>),
    /// Another claim holds the call (this one's lease lapsed): send nothing.
    Lost,
}

/// An event about to start sending.
pub(super) struct EventStart {
    pub(super) call_id: String,
    pub(super) agent_id: String,
    pub(super) agent_version: Option<i64>,
    pub(super) token: String,
    pub(super) body: String,
    pub(super) deliveries: Vec<StartedDelivery>,
}

#[derive(Debug, Clone)]
pub(super) struct StartedDelivery {
    pub(super) id: String,
    pub(super) webhook_id: String,
    pub(super) webhook_name: String,
    pub(super) webhook_url: String,
    pub(super) request_headers: String,
    /// For a webhook that retries, if the request is sent (not paused): when the chain is due
    /// if no result is ever recorded (the instance died mid-request), in milliseconds from now.
    pub(super) due_unless_recorded_ms: Option<i64>,
}

/// The deliveries about to start, as they are recorded.
fn started_deliveries(pending: &[PendingDelivery]) -> Result<Vec<StartedDelivery>, AppError> {
    pending
        .iter()
        .map(|p| {
            Ok(StartedDelivery {
                id: p.id.clone(),
                webhook_id: p.webhook.id.clone(),
                webhook_name: p.webhook.name.clone(),
                webhook_url: p.webhook.url.clone(),
                request_headers: serde_json::to_string(&p.request_headers)
                    .map_err(AppError::internal)?,
                due_unless_recorded_ms: p.due_unless_recorded.map(ms),
            })
        })
        .collect()
}

/// A call processed at intake, whose event starts in the write that stores it
/// (`Store::insert_call`) if `version` is still the agent's latest deployed version then.
#[derive(Debug)]
pub struct IntakeStart {
    pub(super) version: i64,
    pub(super) body: String,
    pub(super) deliveries: Vec<StartedDelivery>,
}

impl IntakeStart {
    /// The start of a call processed with `version`'s config into `body`, with these requests.
    pub fn new(version: i64, body: &str, pending: &[PendingDelivery]) -> Result<Self, AppError> {
        Ok(Self { version, body: body.to_owned(), deliveries: started_deliveries(pending)? })
    }
}

/// PostgreSQL: the `INSERT … SELECT` of started deliveries, from a row `d` (its `id`, webhook,
/// `request_headers`, `started_at` and `due`) left-joined to `webhook_pauses p`: `sending` and
/// due when the chain is, or `paused` with the note `$note` (`PAUSED`) and never due. `call`,
/// `agent` and `version` are the expressions the rest comes from.
pub(super) fn insert_started_deliveries(
    call: &str, agent: &str, version: &str, note: usize,
) -> String {
    let (sending, paused) = (DeliveryOutcome::Sending.sql(), DeliveryOutcome::Paused.sql());
    let clock = clock_of(Backend::Postgres);
    format!(
        "INSERT INTO deliveries (id, call_id, agent_id, webhook_id, webhook_name, webhook_url, config_version,
                                 started_at, outcome, request_headers, error, next_attempt_at)
         SELECT d.id, {call}, {agent}, d.webhook_id, d.webhook_name, d.webhook_url, {version},
                d.started_at, CASE WHEN p.webhook_id IS NULL THEN {sending} ELSE {paused} END, d.request_headers,
                CASE WHEN p.webhook_id IS NULL THEN NULL ELSE ${note} END,
                CASE WHEN p.webhook_id IS NULL THEN {clock} + d.due END"
    )
}

pub(super) const PAUSED: &str = "Not sent: the webhook was paused. Resume it, then use Redeliver (or Redeliver failed…) to send what it missed.";

/// Starts a batch of events (see `Store::begin_event`), the way each database does it in
/// fewest round trips.
pub(super) async fn start_events(
    writer: &mut AnyConnection, backend: Backend, events: Vec<EventStart>,
) -> Result<Vec<EventStarted>, AppError> {
    match backend {
        Backend::Postgres => start_in_one_statement(writer, events).await,
        Backend::Sqlite => start_in_a_transaction(writer, events).await,
    }
}

/// SQLite: in one transaction on the one writer (in-process statements, one commit): one
/// statement moves every call still held by its claim to `sending`, one stores the bodies, one
/// inserts the deliveries of those that moved.
async fn start_in_a_transaction(
    writer: &mut AnyConnection, events: Vec<EventStart>,
) -> Result<Vec<EventStarted>, AppError> {
    let mut tx = sqlx::Connection::begin(&mut *writer).await?;
    let started = start_within(&mut tx, &events, true).await?;
    tx.commit().await?;
    Ok(started)
}

/// SQLite's start, inside `tx`; `with_bodies: false` when the bodies were stored already (with
/// their calls, at intake).
pub(super) async fn start_within(
    tx: &mut super::Tx<'_>, events: &[EventStart], with_bodies: bool,
) -> Result<Vec<EventStarted>, AppError> {
    let clock = clock_of(Backend::Sqlite);
    // (call, claim) pairs that moved: a call claimed again after its lease lapsed may be in the
    // batch twice, once with the claim that lost it, which must not move.
    let mut moved: HashSet<(String, String)> = HashSet::new();
    let mut tokens: Vec<&str> = events.iter().map(|e| e.token.as_str()).collect();
    tokens.sort_unstable();
    tokens.dedup();
    for token in tokens {
        let group: Vec<&EventStart> = events.iter().filter(|e| e.token == token).collect();
        let sql = for_backend(
            Backend::Sqlite,
            format!(
                "UPDATE call_events SET state = {SENDING}, note = NULL
             WHERE state = {PROCESSING} AND lease_token = $1 AND call_id IN ({})
             RETURNING call_id",
                placeholders(2, group.len())
            ),
        );
        let mut update = sqlx::query_scalar(&sql).bind(token);
        for event in &group {
            update = update.bind(&event.call_id);
        }
        let ids: Vec<String> = update.fetch_all(&mut **tx).await?;
        moved.extend(ids.into_iter().map(|id| (id, token.to_owned())));
    }
    let has_moved = |e: &EventStart| moved.contains(&(e.call_id.clone(), e.token.clone()));
    let started: Vec<&EventStart> = events.iter().filter(|e| has_moved(e)).collect();
    if with_bodies {
        store_bodies(tx, &started).await?;
    }
    let paused = paused_in(tx, &started).await?;
    insert_deliveries(tx, clock, &started, &paused).await?;
    let unmoved: Vec<&EventStart> = events.iter().filter(|e| !has_moved(e)).collect();
    let earlier = started_earlier(tx, &unmoved).await?;
    Ok(outcomes(events, &moved, &paused, &earlier))
}

/// (call, webhook) pairs of the started events whose webhook the owner has paused, read in the
/// transaction that records them: a pause committed before the start holds for it.
async fn paused_in(tx: &mut super::Tx<'_>, started: &[&EventStart]) -> Result<Paused, AppError> {
    let mut agents: Vec<&str> = started.iter().map(|e| e.agent_id.as_str()).collect();
    agents.sort_unstable();
    agents.dedup();
    if agents.is_empty() {
        return Ok(Paused::new());
    }
    let sql = for_backend(
        Backend::Sqlite,
        format!(
            "SELECT agent_id, webhook_id FROM webhook_pauses WHERE agent_id IN ({})",
            placeholders(1, agents.len())
        ),
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql);
    for agent in agents {
        query = query.bind(agent);
    }
    let pauses: HashSet<(String, String)> = query.fetch_all(&mut **tx).await?.into_iter().collect();
    Ok(started
        .iter()
        .flat_map(|e| {
            e.deliveries
                .iter()
                .filter(|d| pauses.contains(&(e.agent_id.clone(), d.webhook_id.clone())))
                .map(|d| (e.call_id.clone(), d.webhook_id.clone()))
        })
        .collect())
}

/// (call id, webhook id) of the deliveries recorded `paused`.
type Paused = HashSet<(String, String)>;

type Earlier = HashMap<(String, String), Vec<(String, String)>>;

/// Each event's outcome, in order: moved now, started by this claim earlier, or lost.
fn outcomes(
    events: &[EventStart], moved: &HashSet<(String, String)>, paused: &Paused, earlier: &Earlier,
) -> Vec<EventStarted> {
    events
        .iter()
        .map(|e| {
            let key = (e.call_id.clone(), e.token.clone());
            match earlier.get(&key) {
                _ if moved.contains(&key) => EventStarted::Now {
                    paused: paused
                        .iter()
                        .filter(|(call, _)| *call == e.call_id)
                        .map(|(_, webhook)| webhook.clone())
                        .collect(),
                },
                Some(deliveries) => EventStarted::Earlier(deliveries.clone()),
                None => EventStarted::Lost,
            }
        })
        .collect()
}

/// PostgreSQL: one statement, so one round trip instead of a transaction's five (begin, three
/// statements, commit). Data-modifying `WITH` clauses move the events still held by their
/// claims, store their bodies and insert their deliveries; the bodies and deliveries are kept
/// only for the (call, claim) pairs that moved. A start retried after a lost reply finds its
/// own landed statement (`started_earlier`, only then, in a transaction of its own).
async fn start_in_one_statement(
    writer: &mut AnyConnection, events: Vec<EventStart>,
) -> Result<Vec<EventStarted>, AppError> {
    let mut next = 1;
    let mut params = |count: usize| {
        let list = placeholders(next, count);
        next += count;
        format!("({list})")
    };
    let claims: Vec<String> = events.iter().map(|_| params(2)).collect();
    let bodies: Vec<String> = events.iter().map(|_| params(3)).collect();
    let rows: Vec<(&EventStart, &StartedDelivery)> =
        events.iter().flat_map(|e| e.deliveries.iter().map(move |d| (e, d))).collect();
    let deliveries: Vec<String> = rows.iter().map(|_| params(11)).collect();
    let note = next; // the `paused` deliveries' error
    let added = if deliveries.is_empty() {
        String::new()
    } else {
        format!(
            ", added AS (
               {}
               FROM (VALUES {}) AS d(id, call_id, token, agent_id, webhook_id, webhook_name, webhook_url,
                                     config_version, started_at, request_headers, due)
               LEFT JOIN webhook_pauses p ON p.agent_id = d.agent_id AND p.webhook_id = d.webhook_id
               WHERE (d.call_id, d.token) IN (SELECT call_id, lease_token FROM moved)
               RETURNING call_id, webhook_id, outcome)",
            insert_started_deliveries("d.call_id", "d.agent_id", "d.config_version", note),
            deliveries.join(", "),
        )
    };
    let sql = format!(
        "WITH claims(call_id, token) AS (VALUES {claims}),
         moved AS (
           UPDATE call_events e SET state = {SENDING}, note = NULL FROM claims c
           WHERE e.call_id = c.call_id AND e.lease_token = c.token AND e.state = {PROCESSING}
           RETURNING e.call_id, e.lease_token),
         bodies AS (
           UPDATE calls SET body = b.body FROM (VALUES {bodies}) AS b(call_id, token, body)
           WHERE calls.id = b.call_id AND (b.call_id, b.token) IN (SELECT call_id, lease_token FROM moved)){added}
         SELECT call_id, lease_token, NULL AS webhook_id FROM moved{paused}",
        paused = if rows.is_empty() {
            ""
        } else {
            " UNION ALL SELECT call_id, NULL, webhook_id FROM added WHERE outcome = 'paused'"
        },
        claims = claims.join(", "),
        bodies = bodies.join(", "),
    );
    let mut query = sqlx::query_as::<_, (String, Option<String>, Option<String>)>(&sql);
    for e in &events {
        query = query.bind(&e.call_id).bind(&e.token);
    }
    for e in &events {
        query = query.bind(&e.call_id).bind(&e.token).bind(&e.body);
    }
    let started_at = now();
    for (e, d) in &rows {
        query = query
            .bind(&d.id)
            .bind(&e.call_id)
            .bind(&e.token)
            .bind(&e.agent_id)
            .bind(&d.webhook_id)
            .bind(&d.webhook_name)
            .bind(&d.webhook_url)
            .bind(e.agent_version)
            .bind(&started_at)
            .bind(&d.request_headers)
            .bind(d.due_unless_recorded_ms);
    }
    if !rows.is_empty() {
        query = query.bind(PAUSED);
    }
    let (mut moved, mut paused) = (HashSet::new(), Paused::new());
    for (call_id, token, webhook_id) in query.fetch_all(&mut *writer).await? {
        match (token, webhook_id) {
            (Some(token), _) => moved.insert((call_id, token)),
            (None, Some(webhook_id)) => paused.insert((call_id, webhook_id)),
            (None, None) => false,
        };
    }
    let unmoved: Vec<&EventStart> =
        events.iter().filter(|e| !moved.contains(&(e.call_id.clone(), e.token.clone()))).collect();
    let earlier = if unmoved.is_empty() {
        Earlier::new()
    } else {
        let mut tx = sqlx::Connection::begin(&mut *writer).await?;
        let earlier = started_earlier(&mut tx, &unmoved).await?;
        tx.commit().await?;
        earlier
    };
    Ok(outcomes(&events, &moved, &paused, &earlier))
}

/// Of events that did not move, those already `sending` under the same claim (a retried start
/// whose first commit landed), with their recorded deliveries. Rare: only after a failure.
async fn started_earlier(
    tx: &mut super::Tx<'_>, unmoved: &[&EventStart],
) -> Result<Earlier, AppError> {
    let mut earlier = Earlier::new();
    for event in unmoved {
        let held: Option<String> = sqlx::query_scalar(&format!(
            "SELECT call_id FROM call_events WHERE call_id = $1 AND lease_token = $2 AND state = {SENDING}"
        ))
        .bind(&event.call_id)
        .bind(&event.token)
        .fetch_optional(&mut **tx)
        .await?;
        if held.is_none() {
            continue;
        }
        let deliveries: Vec<(String, String)> = sqlx::query_as(
            "SELECT webhook_id, id FROM deliveries WHERE call_id = $1 AND kind = 'event' AND outcome <> 'paused'",
        )
        .bind(&event.call_id)
        .fetch_all(&mut **tx)
        .await?;
        earlier.insert((event.call_id.clone(), event.token.clone()), deliveries);
    }
    Ok(earlier)
}

/// The bodies of the calls that moved to `sending`, in one statement.
async fn store_bodies(tx: &mut super::Tx<'_>, bodies: &[&EventStart]) -> Result<(), AppError> {
    if !bodies.is_empty() {
        let cases = (0..bodies.len())
            .map(|i| format!("WHEN ${} THEN ${}", i * 2 + 1, i * 2 + 2))
            .collect::<Vec<_>>()
            .join(" ");
        let sql = for_backend(
            Backend::Sqlite,
            format!(
                "UPDATE calls SET body = CASE id {cases} END WHERE id IN ({})",
                placeholders(bodies.len() * 2 + 1, bodies.len())
            ),
        );
        let mut update = sqlx::query(&sql);
        for event in bodies {
            update = update.bind(&event.call_id).bind(&event.body);
        }
        for event in bodies {
            update = update.bind(&event.call_id);
        }
        update.execute(&mut **tx).await?;
    }
    Ok(())
}

/// One delivery per webhook of each call that moved to `sending`: `sending`, or `paused` (recorded,
/// not sent) for a webhook the owner paused.
async fn insert_deliveries(
    tx: &mut super::Tx<'_>, clock: &str, started: &[&EventStart], paused: &Paused,
) -> Result<(), AppError> {
    let started_at = now();
    let rows: Vec<(&EventStart, &StartedDelivery)> =
        started.iter().copied().flat_map(|e| e.deliveries.iter().map(move |d| (e, d))).collect();
    // 12 values a row; 3,600 at the most per statement, far below both backends' limits.
    for chunk in rows.chunks(300) {
        const COLUMNS: usize = 11;
        let values = (0..chunk.len())
            .map(|i| {
                let due = i * (COLUMNS + 1) + COLUMNS + 1;
                format!("({}, {clock} + ${due})", placeholders(i * (COLUMNS + 1) + 1, COLUMNS))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = for_backend(
            Backend::Sqlite,
            format!(
                "INSERT INTO deliveries (id, call_id, agent_id, webhook_id, webhook_name, webhook_url, config_version, \
             started_at, outcome, request_headers, error, next_attempt_at) VALUES {values}"
            ),
        );
        let mut insert = sqlx::query(&sql);
        for (event, d) in chunk {
            let is_paused = paused.contains(&(event.call_id.clone(), d.webhook_id.clone()));
            let outcome =
                if is_paused { DeliveryOutcome::Paused } else { DeliveryOutcome::Sending };
            insert = insert
                .bind(&d.id)
                .bind(&event.call_id)
                .bind(&event.agent_id)
                .bind(&d.webhook_id)
                .bind(&d.webhook_name)
                .bind(&d.webhook_url)
                .bind(event.agent_version)
                .bind(&started_at)
                .bind(outcome)
                .bind(&d.request_headers)
                .bind(is_paused.then_some(PAUSED))
                .bind(d.due_unless_recorded_ms.filter(|_| !is_paused));
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Saves the processed call and, at once (one statement on PostgreSQL, one transaction on
    /// SQLite), moves its event to `sending` with one delivery per request about to start:
    /// `sending`, or `paused` for a webhook the owner has paused (read by the same write). With
    /// group commit: the events that start together share the write. `Lost` (and nothing
    /// written) when the claim `token` no longer holds the call: then it must send nothing.
    /// `Earlier` when this claim had started it already (see `EventStarted`).
    pub async fn begin_event(
        &self, call: &CallRecord, token: &str, body: &str, pending: &[PendingDelivery],
    ) -> Result<EventStarted, AppError> {
        let deliveries = started_deliveries(pending)?;
        self.starts
            .write(EventStart {
                call_id: call.id.clone(),
                agent_id: call.agent_id.clone(),
                agent_version: call.agent_version,
                token: token.to_owned(),
                body: body.to_owned(),
                deliveries,
            })
            .await
    }
}
