//! An agent's deployed versions as a history, and restoring one into the draft.

use super::sealed::{self, RawWebhook};
use super::{OwnedAgent, Store, WebhookRow, calls::processing_settings, webhooks::touch_draft};
use crate::error::AppError;
use crate::views::ProcessingSettings;

/// A deployed webhook with the version it belongs to.
#[derive(sqlx::FromRow)]
struct VersionedWebhook {
    version: i64,
    #[sqlx(flatten)]
    webhook: RawWebhook,
}

/// A deployed version as the history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub version: i64,
    pub deployed_at: String,
    pub deployed_by: Option<String>,
}

/// A deployed version with its whole config.
#[derive(Debug, Clone)]
pub struct VersionConfig {
    pub row: VersionRow,
    pub webhooks: Vec<WebhookRow>,
    pub processing: ProcessingSettings,
}

impl Store {
    /// The latest `limit` deployed versions, newest first.
    pub async fn versions(&self, agent: &OwnedAgent, limit: i64) -> Result<Vec<VersionRow>, AppError> {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT version, deployed_at, deployed_by FROM agent_versions WHERE agent_id = $1 ORDER BY version DESC LIMIT $2",
        )
        .bind(agent.id())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(version, deployed_at, deployed_by)| VersionRow { version, deployed_at, deployed_by }).collect())
    }

    /// The latest `limit` deployed versions with their configs, newest first: two reads however
    /// many versions (the history compares each with the one before).
    pub async fn version_configs(&self, agent: &OwnedAgent, limit: i64) -> Result<Vec<VersionConfig>, AppError> {
        let versions: Vec<(i64, String, Option<String>, String)> = sqlx::query_as(
            "SELECT version, deployed_at, deployed_by, processing FROM agent_versions
             WHERE agent_id = $1 ORDER BY version DESC LIMIT $2",
        )
        .bind(agent.id())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let Some(oldest) = versions.last().map(|v| v.0) else { return Ok(Vec::new()) };
        let rows: Vec<(i64, RawWebhook)> = sqlx::query_as::<_, VersionedWebhook>(
            "SELECT version, webhook_id AS id, name, url, secret, headers, key_id, standard_webhooks, created_at, updated_at
             FROM deployed_webhooks WHERE agent_id = $1 AND version >= $2 ORDER BY version, position",
        )
        .bind(agent.id())
        .bind(oldest)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|v| (v.version, v.webhook))
        .collect();
        let mut webhooks: Vec<(i64, WebhookRow)> = Vec::with_capacity(rows.len());
        for (version, raw) in rows {
            webhooks.push((version, sealed::open(&self.keys, raw).map_err(AppError::internal)?));
        }
        versions
            .into_iter()
            .map(|(version, deployed_at, deployed_by, processing)| {
                Ok(VersionConfig {
                    row: VersionRow { version, deployed_at, deployed_by },
                    webhooks: webhooks.iter().filter(|(v, _)| *v == version).map(|(_, w)| w.clone()).collect(),
                    processing: processing_settings(&processing)?,
                })
            })
            .collect()
    }

    /// Makes the draft what version `version` was: its webhooks (with the same ids, so their
    /// sealed secrets and header values, bound to id and URL, are copied as they are) and its
    /// post-call settings. One transaction; `NotFound` if the agent has no such version.
    pub async fn restore_version(&self, agent: &OwnedAgent, version: i64) -> Result<(), AppError> {
        let mut tx = self.writer.begin().await?;
        touch_draft(&mut tx, agent).await?;
        let processing: Option<String> = sqlx::query_scalar("SELECT processing FROM agent_versions WHERE agent_id = $1 AND version = $2")
            .bind(agent.id())
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(processing) = processing else {
            return Err(AppError::NotFound); // dropping `tx` rolls the revision bump back
        };
        sqlx::query("DELETE FROM webhooks WHERE agent_id = $1").bind(agent.id()).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO webhooks (id, agent_id, name, url, secret, headers, key_id, standard_webhooks, created_at, updated_at)
             SELECT webhook_id, agent_id, name, url, secret, headers, key_id, standard_webhooks, created_at, updated_at
             FROM deployed_webhooks WHERE agent_id = $1 AND version = $2 ORDER BY position",
        )
        .bind(agent.id())
        .bind(version)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE agents SET processing = $1 WHERE id = $2").bind(processing).bind(agent.id()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}
