//! The searchable deliveries log of an agent: filters, newest first, a cursor for older pages.
//! The WHERE clause holds only the filters given, so each query can use the index that fits it
//! (`deliveries_agent`, `deliveries_webhook`, `deliveries_call`, and the partial indexes of
//! failures, kinds and statuses, whose conditions a query repeats to be allowed to use them).

use super::deliveries::{DELIVERY_COLUMNS, DeliveryRow};
use super::{OwnedAgent, Store};
use crate::error::AppError;
use crate::states::{DeliveryKind, DeliveryOutcome};
use crate::views::DeliveryView;

/// A status filter: one code, or a class (`4` for 4xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Code(u16),
    Class(u16),
}

/// The log's filters, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    pub webhook_id: Option<String>,
    pub outcome: Option<DeliveryOutcome>,
    pub status: Option<StatusFilter>,
    pub kind: Option<DeliveryKind>,
    /// RFC 3339 UTC with milliseconds, as `started_at` is stored (so they compare as text).
    pub since: Option<String>,
    pub until: Option<String>,
    pub call_id: Option<String>,
    /// A delivery id: only deliveries older than it.
    pub before: Option<String>,
}

/// The condition of the partial indexes of failures (see the migration), repeated in a query so
/// that the database may use them.
static FAILURES_ONLY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("outcome NOT IN ({}, {})", DeliveryOutcome::Ok.sql(), DeliveryOutcome::Sending.sql())
});

enum Bound {
    Text(String),
    Int(i64),
}

impl Store {
    /// One page of the agent's deliveries that match `query`, newest first, and the cursor of
    /// the next page. A `before` that is not one of the agent's deliveries is `NotFound`.
    pub async fn delivery_log(
        &self, agent: &OwnedAgent, query: &LogQuery, limit: i64,
    ) -> Result<(Vec<DeliveryView>, Option<String>), AppError> {
        let mut clauses = vec!["agent_id = $1".to_owned()];
        let mut binds = vec![Bound::Text(agent.id().to_owned())];
        let mut add = |clause: &str, values: Vec<Bound>| {
            let mut clause = clause.to_owned();
            for (i, value) in values.into_iter().enumerate() {
                binds.push(value);
                clause = clause.replace(&format!("?{i}"), &format!("${}", binds.len()));
            }
            clauses.push(clause);
        };
        if let Some(webhook) = &query.webhook_id {
            add("webhook_id = ?0", vec![Bound::Text(webhook.clone())]);
        }
        if let Some(outcome) = query.outcome {
            add("outcome = ?0", vec![Bound::Text(outcome.as_str().to_owned())]);
            if !matches!(outcome, DeliveryOutcome::Ok | DeliveryOutcome::Sending) {
                add(&FAILURES_ONLY, Vec::new());
            }
        }
        // From 300, through the partial index of statuses by class: its expression and its
        // condition written as the index has them (the class is a parsed number, not text).
        match query.status {
            Some(StatusFilter::Code(code)) if code >= 300 => {
                add(
                    &format!("status_code / 100 = {} AND status_code >= 300", code / 100),
                    Vec::new(),
                );
                add("status_code = ?0", vec![Bound::Int(code.into())]);
            }
            Some(StatusFilter::Class(class)) if class >= 3 => {
                add(&format!("status_code / 100 = {class} AND status_code >= 300"), Vec::new());
            }
            Some(StatusFilter::Code(code)) => {
                add("status_code = ?0", vec![Bound::Int(code.into())])
            }
            Some(StatusFilter::Class(class)) => {
                let (from, to) = (i64::from(class) * 100, i64::from(class) * 100 + 100);
                add(
                    "status_code >= ?0 AND status_code < ?1",
                    vec![Bound::Int(from), Bound::Int(to)],
                );
            }
            None => {}
        }
        if let Some(kind) = query.kind {
            add("kind = ?0", vec![Bound::Text(kind.as_str().to_owned())]);
            if kind != DeliveryKind::Event {
                add(&format!("kind <> {}", DeliveryKind::Event.sql()), Vec::new());
            }
        }
        if let Some(since) = &query.since {
            add("started_at >= ?0", vec![Bound::Text(since.clone())]);
        }
        if let Some(until) = &query.until {
            add("started_at < ?0", vec![Bound::Text(until.clone())]);
        }
        if let Some(call) = &query.call_id {
            add("call_id = ?0", vec![Bound::Text(call.clone())]);
        }
        if let Some(before) = &query.before {
            let (at, rowid) = self.log_position(agent, before).await?;
            add(
                "(started_at < ?0 OR (started_at = ?0 AND rowid < ?1))",
                vec![Bound::Text(at), Bound::Int(rowid)],
            );
        }
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE {} ORDER BY started_at DESC, rowid DESC LIMIT {}",
            clauses.join(" AND "),
            limit + 1
        );
        let mut select = sqlx::query_as::<_, DeliveryRow>(&sql);
        for bound in binds {
            select = match bound {
                Bound::Text(text) => select.bind(text),
                Bound::Int(n) => select.bind(n),
            };
        }
        let mut rows: Vec<DeliveryView> =
            select.fetch_all(&self.pool).await?.into_iter().map(DeliveryView::from).collect();
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = more.then(|| rows.last().map(|d| d.id.clone())).flatten();
        Ok((rows, next))
    }

    /// Where a delivery stands in the log's order.
    async fn log_position(
        &self, agent: &OwnedAgent, delivery_id: &str,
    ) -> Result<(String, i64), AppError> {
        let found: Option<(String, i64)> = sqlx::query_as(
            "SELECT started_at, rowid FROM deliveries WHERE id = $1 AND agent_id = $2",
        )
        .bind(super::known_id(delivery_id)?)
        .bind(agent.id())
        .fetch_optional(&self.pool)
        .await?;
        found.ok_or(AppError::NotFound)
    }
}
