//! The intake's write on SQLite: one transaction on the one writer.

use super::{
    IntakeClaim, NewCallRow, PENDING, PROCESSING, Paused, Versions, bind_calls, insert_calls_sql,
};
use crate::error::AppError;
use crate::store::event_start::{self, EventStart};
use crate::store::positional::for_backend;
use crate::store::queue::{clock_of, ms};
use crate::store::{Backend, placeholders};
use sqlx::AnyConnection;

/// SQLite: the calls' `INSERT` (its trigger queues each event `pending`), then the claimed ones
/// moved to `processing`, and those whose start held on to `sending` with their deliveries, in
/// one transaction on the one writer (in-process statements, one commit).
pub(super) async fn insert_then_claim(
    writer: &mut AnyConnection, token: &str, rows: &[NewCallRow],
) -> Result<(Versions, Paused), AppError> {
    let (calls, insert) = insert_calls_sql(rows.len());
    let calls_sql = for_backend(Backend::Sqlite, format!("WITH {calls} {insert}"));
    let insert = || bind_calls(sqlx::query_as::<_, (String, Option<i64>, i64)>(&calls_sql), rows);
    let versions = |stored: Vec<(String, Option<i64>, i64)>| -> Versions {
        stored.into_iter().map(|(id, version, started)| (id, (version, started == 1))).collect()
    };
    if rows.iter().all(|row| row.claim.is_none()) {
        return Ok((versions(insert().fetch_all(&mut *writer).await?), Paused::new()));
    }
    let mut tx = sqlx::Connection::begin(writer).await?;
    let stored = versions(insert().fetch_all(&mut *tx).await?);
    let claimed: Vec<&NewCallRow> =
        rows.iter().filter(|row| row.claim.is_some() && stored.contains_key(row.id())).collect();
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
            .map(|row| row.id())
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
        .filter(|row| stored.get(row.id()).is_some_and(|(_, started)| *started))
        .filter_map(|row| {
            let start = row.start.as_ref()?;
            Some(EventStart {
                call_id: row.id().to_owned(),
                agent_id: row.agent_id().to_owned(),
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
