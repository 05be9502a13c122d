//! The deliveries log: one row per webhook request. Most are the `call_ended` event's (written
//! by the dispatcher, `queue`); the owner's manual sends (a test to one webhook, a redelivery
//! of a past delivery) are written here once they have ended. Custom header values are masked
//! before anything is stored.

use super::{CallRecord, OwnedAgent, Store, StoredWebhook};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::states::{DeliveryKind, DeliveryOutcome};
use crate::views::{DeliveryView, SentHeader};

/// A request about to be made: recorded as `sending` before it starts.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    pub id: String,
    pub webhook: StoredWebhook,
    pub request_headers: Vec<SentHeader>,
    /// Recorded as `paused`, not sent.
    pub paused: bool,
    /// For a webhook that retries: the chain falls due after this unless a result is recorded
    /// (so a request whose instance died is tried again).
    pub due_unless_recorded: Option<std::time::Duration>,
}

/// How one request ended.
#[derive(Debug, Clone)]
pub struct DeliveryResult {
    pub duration_ms: i64,
    pub outcome: DeliveryOutcome,
    pub status_code: Option<u16>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// The receiver's `Retry-After`, when it gave one (not stored: retries honour it on 429/503).
    pub retry_after: Option<std::time::Duration>,
}

/// A request the owner asked for, as it ended.
#[derive(Debug)]
pub struct ManualDelivery<'a> {
    pub webhook: &'a StoredWebhook,
    pub request_headers: Vec<SentHeader>,
    pub result: DeliveryResult,
    pub started_at: String,
}

/// What a manual delivery was: a test (no call) or the redelivery of a past one.
#[derive(Debug, Clone, Copy)]
pub enum ManualKind<'a> {
    Test,
    Redelivery(&'a DeliveryView),
}

pub(super) const DELIVERY_COLUMNS: &str = "id, call_id, webhook_id, webhook_name, webhook_url, config_version, started_at, duration_ms, \
     outcome, status_code, response_body, error, request_headers, kind, redelivery_of, attempt, retry_of, \
     next_attempt_at, retry_token, chain_end, replay_id";

#[derive(sqlx::FromRow)]
pub(super) struct DeliveryRow {
    id: String,
    call_id: Option<String>,
    webhook_id: String,
    webhook_name: String,
    webhook_url: String,
    config_version: Option<i64>,
    started_at: String,
    duration_ms: Option<i64>,
    outcome: DeliveryOutcome,
    status_code: Option<i64>,
    response_body: Option<String>,
    error: Option<String>,
    request_headers: String,
    kind: DeliveryKind,
    redelivery_of: Option<String>,
    attempt: i64,
    retry_of: Option<String>,
    next_attempt_at: Option<i64>,
    retry_token: Option<String>,
    chain_end: Option<String>,
    replay_id: Option<String>,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(row: DeliveryRow) -> Self {
        DeliveryView {
            id: row.id,
            call_id: row.call_id,
            kind: row.kind,
            redelivery_of: row.redelivery_of,
            webhook_id: row.webhook_id,
            webhook_name: row.webhook_name,
            webhook_url: row.webhook_url,
            config_version: row.config_version,
            started_at: row.started_at,
            duration_ms: row.duration_ms,
            outcome: row.outcome,
            status_code: row.status_code.and_then(|c| u16::try_from(c).ok()),
            response_body: row.response_body,
            error: row.error,
            request_headers: serde_json::from_str(&row.request_headers).unwrap_or_default(),
            attempt: row.attempt,
            retry_of: row.retry_of,
            // While an attempt is under way (the chain is claimed, or this first try has not
            // ended), `next_attempt_at` is only the hold that re-arms the chain if its instance
            // dies: not shown.
            next_attempt_at: row
                .next_attempt_at
                .filter(|_| row.retry_token.is_none() && row.outcome != DeliveryOutcome::Sending)
                .and_then(super::rfc3339_of_ms),
            chain_end: row.chain_end,
            replay_id: row.replay_id,
        }
    }
}

/// What the health of a webhook is computed from: one finished delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliverySample {
    pub started_at: String,
    pub duration_ms: Option<i64>,
    pub outcome: DeliveryOutcome,
    pub status_code: Option<i64>,
    pub error: Option<String>,
}

impl Store {
    /// A call's deliveries: by webhook, each webhook's in the order they were made.
    pub async fn deliveries_of_call(
        &self, call: &CallRecord,
    ) -> Result<Vec<DeliveryView>, AppError> {
        let rows: Vec<DeliveryRow> =
            sqlx::query_as(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE call_id = $1 ORDER BY webhook_name, rowid"))
                .bind(&call.id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(DeliveryView::from).collect())
    }

    /// An agent's most recent deliveries, newest first, optionally of one webhook.
    pub async fn deliveries_of_agent(
        &self, agent: &OwnedAgent, webhook_id: Option<&str>, limit: i64,
    ) -> Result<Vec<DeliveryView>, AppError> {
        let webhook_id = webhook_id.map(super::known_id).transpose()?;
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE agent_id = $1 AND ($2 IS NULL OR webhook_id = $2)
             ORDER BY started_at DESC, rowid DESC LIMIT $3"
        ))
        .bind(agent.id())
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(DeliveryView::from).collect())
    }

    /// One delivery of one of the owner's agents, or `NotFound`.
    pub async fn delivery_for_owner(
        &self, owner: &OwnerId, delivery_id: &str,
    ) -> Result<(OwnedAgent, DeliveryView), AppError> {
        let delivery_id = super::known_id(delivery_id)?;
        let agent_id: Option<String> =
            sqlx::query_scalar("SELECT agent_id FROM deliveries WHERE id = $1")
                .bind(delivery_id)
                .fetch_optional(&self.pool)
                .await?;
        // Proves the owner's agent first: a delivery of someone else's is as unknown as a missing one.
        let agent = self.agent_for_owner(owner, &agent_id.ok_or(AppError::NotFound)?).await?;
        let row: DeliveryRow = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1 AND agent_id = $2"
        ))
        .bind(delivery_id)
        .bind(agent.id())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(AppError::NotFound)?;
        Ok((agent, row.into()))
    }

    /// For each of `webhook_ids`, its latest `limit` finished deliveries, newest first: one
    /// statement, each webhook's part a walk back along the index on `(agent_id, webhook_id,
    /// started_at)`, however long the log is.
    pub async fn delivery_samples(
        &self, agent: &OwnedAgent, webhook_ids: &[String], limit: i64,
    ) -> Result<Vec<(String, Vec<DeliverySample>)>, AppError> {
        let rows: Vec<SampleRow> = latest_per_webhook(
            self,
            agent,
            webhook_ids,
            limit,
            "webhook_id, started_at, duration_ms, outcome, status_code, error",
            &format!("AND outcome <> {}", DeliveryOutcome::Sending.sql()),
        )
        .await?;
        Ok(group(webhook_ids, rows, |r| (r.webhook_id.clone(), r.seq, r.sample)))
    }

    /// For each of `webhook_ids`, its latest `recent` deliveries (any outcome) and, as
    /// `delivery_samples` reads them, its latest `samples` finished ones, newest first, together in
    /// one statement: the Settings page shows both, and each statement is a round trip to the
    /// database. The samples' rows leave out the two large columns that they do not need.
    pub async fn recent_and_samples(
        &self, agent: &OwnedAgent, webhook_ids: &[String], recent: i64, samples: i64,
    ) -> Result<(Vec<(String, Vec<DeliveryView>)>, Vec<(String, Vec<DeliverySample>)>), AppError>
    {
        if webhook_ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let light = DELIVERY_COLUMNS
            .replace("response_body", "NULL AS response_body")
            .replace("request_headers", "'' AS request_headers");
        let (recent_columns, sample_columns) =
            (format!("'recent' AS part, {DELIVERY_COLUMNS}"), format!("'sample' AS part, {light}"));
        let sql = (0..webhook_ids.len())
            .flat_map(|i| {
                [
                    latest_part(&format!("recent{i}"), &recent_columns, i + 4, "", "$2"),
                    latest_part(
                        &format!("sample{i}"),
                        &sample_columns,
                        i + 4,
                        // Paused deliveries were never sent: they say nothing of the endpoint.
                        &format!(
                            "AND outcome NOT IN ({}, {})",
                            DeliveryOutcome::Sending.sql(),
                            DeliveryOutcome::Paused.sql()
                        ),
                        "$3",
                    ),
                ]
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let mut query =
            sqlx::query_as::<_, PartRow>(&sql).bind(agent.id()).bind(recent).bind(samples);
        for id in webhook_ids {
            query = query.bind(id);
        }
        let (recent_rows, sample_rows): (Vec<PartRow>, Vec<PartRow>) =
            query.fetch_all(&self.pool).await?.into_iter().partition(|r| r.part == "recent");
        let recent = group(webhook_ids, recent_rows, |r| {
            (r.row.row.webhook_id.clone(), r.row.seq, DeliveryView::from(r.row.row))
        });
        let samples = group(webhook_ids, sample_rows, |r| {
            let row = r.row.row;
            let sample = DeliverySample {
                started_at: row.started_at,
                duration_ms: row.duration_ms,
                outcome: row.outcome,
                status_code: row.status_code,
                error: row.error,
            };
            (row.webhook_id, r.row.seq, sample)
        });
        Ok((recent, samples))
    }

    /// Records a manual delivery that has ended, and returns it as the log shows it.
    pub async fn record_manual_delivery(
        &self, agent: &OwnedAgent, kind: ManualKind<'_>, delivery: ManualDelivery<'_>,
    ) -> Result<DeliveryView, AppError> {
        let id = crate::store::new_id();
        let (kind, call_id, version, of) = match kind {
            ManualKind::Test => (DeliveryKind::Test, None, None, None),
            ManualKind::Redelivery(original) => (
                DeliveryKind::Redelivery,
                original.call_id.clone(),
                original.config_version,
                Some(original.id.clone()),
            ),
        };
        let headers =
            serde_json::to_string(&delivery.request_headers).map_err(AppError::internal)?;
        let storable = |text: Option<String>| text.map(|t| t.replace('\0', "\u{FFFD}"));
        let result = delivery.result;
        sqlx::query(
            "INSERT INTO deliveries (id, call_id, agent_id, webhook_id, webhook_name, webhook_url, config_version, started_at,
                                     duration_ms, outcome, status_code, response_body, error, request_headers, kind, redelivery_of)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&id)
        .bind(call_id)
        .bind(agent.id())
        .bind(&delivery.webhook.id)
        .bind(&delivery.webhook.name)
        .bind(&delivery.webhook.url)
        .bind(version)
        .bind(&delivery.started_at)
        .bind(result.duration_ms)
        .bind(result.outcome)
        .bind(result.status_code.map(i64::from))
        .bind(storable(result.response_body))
        .bind(storable(result.error))
        .bind(headers)
        .bind(kind)
        .bind(of)
        .execute(&self.writer)
        .await?;
        let row: DeliveryRow =
            sqlx::query_as(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1"))
                .bind(&id)
                .fetch_one(&self.writer)
                .await?;
        Ok(row.into())
    }
}

#[derive(sqlx::FromRow)]
struct SampleRow {
    webhook_id: String,
    seq: i64,
    #[sqlx(flatten)]
    sample: DeliverySample,
}

#[derive(sqlx::FromRow)]
struct RecentRow {
    seq: i64,
    #[sqlx(flatten)]
    row: DeliveryRow,
}

/// A row of `recent_and_samples`: which of the two it belongs to.
#[derive(sqlx::FromRow)]
struct PartRow {
    part: String,
    #[sqlx(flatten)]
    row: RecentRow,
}

/// `columns` (and `seq`) of the latest `limit` deliveries of each webhook: one `UNION ALL` of per-webhook
/// `ORDER BY … LIMIT` parts, so one round trip instead of one per webhook, and each part bounded
/// by the index.
async fn latest_per_webhook<T>(
    store: &Store, agent: &OwnedAgent, webhook_ids: &[String], limit: i64, columns: &str,
    filter: &str,
) -> Result<Vec<T>, AppError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    if webhook_ids.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<String> = (0..webhook_ids.len())
        .map(|i| latest_part(&format!("part{i}"), columns, i + 3, filter, "$2"))
        .collect();
    let sql = parts.join(" UNION ALL ");
    let mut query = sqlx::query_as::<_, T>(&sql).bind(agent.id()).bind(limit);
    for id in webhook_ids {
        query = query.bind(id);
    }
    Ok(query.fetch_all(&store.pool).await?)
}

/// One webhook's part of a `UNION ALL`: `columns` (and `rowid AS seq`) of its latest
/// deliveries that pass `filter`, at most `limit` (a parameter); the agent is `$1`, the webhook
/// parameter `$webhook`. Ordered along the index on `(agent_id, webhook_id, started_at)`.
fn latest_part(alias: &str, columns: &str, webhook: usize, filter: &str, limit: &str) -> String {
    format!(
        "SELECT * FROM (SELECT {columns}, rowid AS seq FROM deliveries WHERE agent_id = $1 AND webhook_id = ${webhook} {filter}
         ORDER BY started_at DESC, rowid DESC LIMIT {limit}) AS {alias}"
    )
}

/// Rows by webhook, in the order of `webhook_ids`, each webhook's newest first (`seq`, the
/// rowid, orders rows that share a start time).
fn group<R, T>(
    webhook_ids: &[String], rows: Vec<R>, split: impl Fn(R) -> (String, i64, T),
) -> Vec<(String, Vec<T>)>
where
    T: HasStart,
{
    let mut grouped: Vec<(String, Vec<(i64, T)>)> =
        webhook_ids.iter().map(|id| (id.clone(), Vec::new())).collect();
    for row in rows {
        let (webhook_id, seq, item) = split(row);
        if let Some((_, items)) = grouped.iter_mut().find(|(id, _)| *id == webhook_id) {
            items.push((seq, item));
        }
    }
    grouped
        .into_iter()
        .map(|(id, mut items)| {
            items.sort_by(|(a_seq, a), (b_seq, b)| {
                b.started().cmp(a.started()).then(b_seq.cmp(a_seq))
            });
            (id, items.into_iter().map(|(_, item)| item).collect())
        })
        .collect()
}

trait HasStart {
    fn started(&self) -> &str;
}

impl HasStart for DeliverySample {
    fn started(&self) -> &str {
        &self.started_at
    }
}

impl HasStart for DeliveryView {
    fn started(&self) -> &str {
        &self.started_at
    }
}

/// What a new delivery derived from an earlier one of the same call is: a retry (its attempt
/// number) or a redelivery made by a bulk replay (the replay).
pub(super) enum FollowUp<'a> {
    Retry { attempt: i64 },
    Replayed { replay: &'a str },
}

/// Writes `delivery` as `sending`, a follow-up of `earlier` (same call, agent, webhook and
/// config version), in `tx`: before its request starts, so it is never sent twice.
pub(super) async fn insert_follow_up(
    tx: &mut super::Tx<'_>, earlier: &str, delivery: &PendingDelivery, follow_up: FollowUp<'_>,
) -> Result<(), AppError> {
    let headers = serde_json::to_string(&delivery.request_headers).map_err(AppError::internal)?;
    let (kind, link, attempt, replay) = match follow_up {
        FollowUp::Retry { attempt } => (DeliveryKind::Retry, "retry_of", attempt, None),
        FollowUp::Replayed { replay } => {
            (DeliveryKind::Redelivery, "redelivery_of", 1, Some(replay))
        }
    };
    sqlx::query(&format!(
        "INSERT INTO deliveries (id, call_id, agent_id, webhook_id, webhook_name, webhook_url, config_version,
                                 started_at, outcome, request_headers, kind, attempt, replay_id, {link})
         SELECT $1, call_id, agent_id, webhook_id, $2, $3, config_version, $4, $5, $6, $7, $8, $9, id
         FROM deliveries WHERE id = $10"
    ))
    .bind(&delivery.id)
    .bind(&delivery.webhook.name)
    .bind(&delivery.webhook.url)
    .bind(super::now())
    .bind(DeliveryOutcome::Sending)
    .bind(headers)
    .bind(kind)
    .bind(attempt)
    .bind(replay)
    .bind(earlier)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
