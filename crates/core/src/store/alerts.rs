//! Failure alerts: each webhook's run of failures (`webhook_streaks`) and its incidents
//! (`alert_incidents`). Counting is one atomic statement and an incident opens through a unique
//! index of open incidents, so however many instances record deliveries at once, one run of
//! failures opens one incident and mails once; the first success closes it, once.

use super::{Store, new_id, now};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::states::NotificationStatus;
use crate::views::AlertView;
use std::collections::HashSet;

/// The owner's address and the agent's name, for an alert e-mail.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertContact {
    pub email: String,
    pub agent_name: String,
}

/// How a delivery that ended changed its webhook's incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentChange {
    None,
    /// The run of failures reached the threshold: this caller opened the incident (and mails).
    Opened {
        id: String,
        failing_since: String,
        failures: i64,
    },
    /// A success closed an open incident (this caller mails "recovered").
    Closed {
        id: String,
        failing_since: String,
        failures: i64,
    },
}

#[derive(sqlx::FromRow)]
struct Streak {
    failures: i64,
    failing_since: Option<String>,
}

const ALERT_COLUMNS: &str = "i.id, i.agent_id, a.name AS agent_name, i.webhook_id, i.webhook_name, i.failing_since, \
     i.failures, i.last_error, i.opened_at, i.alert_mail";

impl Store {
    /// The webhooks whose latest deliveries failed (a run under way): only their successes need
    /// counting, so a batch of results costs this one read, not one per delivery.
    pub async fn failing_webhooks(&self) -> Result<HashSet<(String, String)>, AppError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT agent_id, webhook_id FROM webhook_streaks WHERE failures > 0")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// Counts one finished delivery (a chain's end, for a webhook that retries) of a webhook:
    /// a failure extends its run, a success ends it. At `threshold` failures in a row an
    /// incident opens; a success closes the open one.
    pub async fn count_for_alerts(
        &self, agent_id: &str, webhook: (&str, &str), failed: Option<&str>, threshold: i64,
    ) -> Result<IncidentChange, AppError> {
        let (webhook_id, webhook_name) = webhook;
        let Some(error) = failed else {
            sqlx::query(
                "UPDATE webhook_streaks SET failures = 0, failing_since = NULL, last_error = NULL
                 WHERE agent_id = $1 AND webhook_id = $2 AND failures > 0",
            )
            .bind(agent_id)
            .bind(webhook_id)
            .execute(&self.writer)
            .await?;
            let closed: Option<(String, String, i64)> = sqlx::query_as(
                "UPDATE alert_incidents SET closed_at = $1, recovered_mail = $2
                 WHERE agent_id = $3 AND webhook_id = $4 AND closed_at IS NULL
                 RETURNING id, failing_since, failures",
            )
            .bind(now())
            .bind(NotificationStatus::Sending)
            .bind(agent_id)
            .bind(webhook_id)
            .fetch_optional(&self.writer)
            .await?;
            return Ok(closed.map_or(IncidentChange::None, |(id, failing_since, failures)| {
                IncidentChange::Closed { id, failing_since, failures }
            }));
        };
        let streak: Streak = sqlx::query_as(
            "INSERT INTO webhook_streaks (agent_id, webhook_id, failures, failing_since, last_error)
             VALUES ($1, $2, 1, $3, $4)
             ON CONFLICT (agent_id, webhook_id) DO UPDATE
                 SET failures = webhook_streaks.failures + 1,
                     failing_since = COALESCE(webhook_streaks.failing_since, excluded.failing_since),
                     last_error = excluded.last_error
             RETURNING failures, failing_since",
        )
        .bind(agent_id)
        .bind(webhook_id)
        .bind(now())
        .bind(error)
        .fetch_one(&self.writer)
        .await?;
        if streak.failures < threshold {
            return Ok(IncidentChange::None);
        }
        let id = new_id();
        let failing_since = streak.failing_since.unwrap_or_else(now);
        let opened = sqlx::query(
            "INSERT INTO alert_incidents (id, agent_id, webhook_id, webhook_name, failing_since, failures, last_error,
                                          opened_at, alert_mail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(agent_id)
        .bind(webhook_id)
        .bind(webhook_name)
        .bind(&failing_since)
        .bind(streak.failures)
        .bind(error)
        .bind(now())
        .bind(NotificationStatus::Sending)
        .execute(&self.writer)
        .await?;
        Ok(if opened.rows_affected() == 1 {
            IncidentChange::Opened { id, failing_since, failures: streak.failures }
        } else {
            IncidentChange::None
        })
    }

    /// Records how an incident's alert (`recovered` false) or recovery e-mail went.
    pub async fn record_alert_mail(
        &self, incident: &str, recovered: bool, status: NotificationStatus,
    ) -> Result<(), AppError> {
        let column = if recovered { "recovered_mail" } else { "alert_mail" };
        sqlx::query(&format!("UPDATE alert_incidents SET {column} = $1 WHERE id = $2"))
            .bind(status)
            .bind(incident)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Who an alert about `agent_id` goes to (not owner-scoped: the dispatcher acts for the owner).
    pub async fn alert_contact(&self, agent_id: &str) -> Result<Option<AlertContact>, AppError> {
        Ok(sqlx::query_as(
            "SELECT u.email, a.name AS agent_name FROM agents a JOIN users u ON u.id = a.owner_id WHERE a.id = $1",
        )
        .bind(agent_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The owner's open incidents, newest first; of one agent only with `agent_id`.
    pub async fn open_alerts(
        &self, owner: &OwnerId, agent_id: Option<&str>,
    ) -> Result<Vec<AlertView>, AppError> {
        Ok(sqlx::query_as::<_, AlertRow>(&format!(
            "SELECT {ALERT_COLUMNS} FROM alert_incidents i JOIN agents a ON a.id = i.agent_id
             WHERE a.owner_id = $1 AND i.closed_at IS NULL AND ($2 IS NULL OR i.agent_id = $2)
             ORDER BY i.opened_at DESC"
        ))
        .bind(owner.as_str())
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(AlertView::from)
        .collect())
    }
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: String,
    agent_id: String,
    agent_name: String,
    webhook_id: String,
    webhook_name: String,
    failing_since: String,
    failures: i64,
    last_error: Option<String>,
    opened_at: String,
    alert_mail: Option<String>,
}

impl From<AlertRow> for AlertView {
    fn from(row: AlertRow) -> Self {
        Self {
            id: row.id,
            agent_id: row.agent_id,
            agent_name: row.agent_name,
            webhook_id: row.webhook_id,
            webhook_name: row.webhook_name,
            failing_since: row.failing_since,
            failures: row.failures,
            last_error: row.last_error,
            opened_at: row.opened_at,
            alert_mail: row.alert_mail,
        }
    }
}
