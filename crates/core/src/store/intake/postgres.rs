//! The intake's write on PostgreSQL: one statement.

use super::{
    CALL_VALUES, NewCallRow, PENDING, PROCESSING, Paused, SENDING, Versions, bind_calls,
    insert_calls_sql,
};
use crate::error::AppError;
use crate::store::event_start::{PAUSED, StartedDelivery, insert_started_deliveries};
use crate::store::queue::{clock_of, ms};
use crate::store::{Backend, now, placeholders};
use sqlx::AnyConnection;

/// PostgreSQL: one statement, so one round trip. The calls go in through a data-modifying
/// `WITH`, their events through another, only for the calls stored (the queueing trigger, which
/// fires at the end of the statement, finds them there and yields; a statement trigger notifies
/// other instances only if an event is left pending), and the deliveries of the events that
/// start through a third, recorded `paused` for webhooks the owner has paused.
pub(super) async fn insert_with_events(
    writer: &mut AnyConnection, token: &str, rows: &[NewCallRow],
) -> Result<(Versions, Paused), AppError> {
    let clock = clock_of(Backend::Postgres);
    let mut next = rows.len() * CALL_VALUES + 1;
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
    let deliveries: Vec<(&NewCallRow, &StartedDelivery)> = rows
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
        let added = format!(
            ", added AS (
               {}
               FROM (VALUES {}) AS d(id, call_id, webhook_id, webhook_name, webhook_url, request_headers, due, started_at)
               JOIN stored_rows s ON s.id = d.call_id AND s.started = 1
               LEFT JOIN webhook_pauses p ON p.agent_id = s.agent_id AND p.webhook_id = d.webhook_id
               RETURNING call_id, webhook_id, outcome)",
            insert_started_deliveries("s.id", "s.agent_id", "s.agent_version", note),
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
        query = query.bind(row.id());
        if let Some(claim) = &row.claim {
            query = query.bind(&claim.instance).bind(token).bind(ms(claim.lease));
        }
    }
    let started_at = now();
    for (row, d) in &deliveries {
        query = query
            .bind(&d.id)
            .bind(row.id())
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
    for (id, version, started, webhook) in query.fetch_all(&mut *writer).await? {
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
