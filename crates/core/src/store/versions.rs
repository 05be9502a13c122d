//! An agent's deployed versions as a history, and restoring one into the draft.

use super::deployed::CallConfig;
use super::sealed::{self, RawWebhook};
use super::{OwnedAgent, Store, StoredWebhook, calls::processing_settings, webhooks::touch_draft};
use crate::error::AppError;
use std::collections::HashMap;
use std::sync::Arc;

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
    /// Shared with the cache of opened versions (they never change).
    pub config: Arc<CallConfig>,
}

impl Store {
    /// The latest `limit` deployed versions with their configs, newest first, as of the read of
    /// `agent`: no read while the list is unchanged (`by_revision`), and one for the webhooks of
    /// versions this process has not opened before (however many there are).
    pub async fn version_configs(
        &self, agent: &OwnedAgent, limit: i64,
    ) -> Result<Vec<VersionConfig>, AppError> {
        let versions = self.listed_versions(agent, limit).await?;
        let mut found: HashMap<i64, Arc<CallConfig>> = versions
            .iter()
            .filter_map(|v| {
                self.deployed.get(agent.id(), v.version).map(|config| (v.version, config))
            })
            .collect();
        let missing = versions.iter().map(|v| v.version).filter(|v| !found.contains_key(v)).min();
        if let Some(oldest) = missing {
            let rows: Vec<VersionedWebhook> = sqlx::query_as(
                "SELECT version, webhook_id AS id, name, url, secret, headers, key_id, standard_webhooks, retry_policy, created_at, updated_at
                 FROM deployed_webhooks WHERE agent_id = $1 AND version >= $2 ORDER BY version, position",
            )
            .bind(agent.id())
            .bind(oldest)
            .fetch_all(&self.pool)
            .await?;
            let mut opened: HashMap<i64, Vec<StoredWebhook>> = HashMap::new();
            for row in rows {
                opened
                    .entry(row.version)
                    .or_default()
                    .push(sealed::open(&self.keys, row.webhook).map_err(AppError::internal)?);
            }
            // A version without webhooks has no rows: it is cached (empty) all the same.
            for listed in versions.iter().filter(|v| v.version >= oldest) {
                let webhooks = opened.remove(&listed.version).unwrap_or_default();
                let config = Arc::new(CallConfig {
                    webhooks,
                    processing: processing_settings(&listed.processing)?,
                });
                self.deployed.insert(agent.id(), listed.version, config.clone());
                found.insert(listed.version, config);
            }
        }
        Ok(versions
            .iter()
            // Every version is in `found` by now: kept from before, or just opened.
            .map(|listed| VersionConfig {
                row: VersionRow {
                    version: listed.version,
                    deployed_at: listed.deployed_at.clone(),
                    deployed_by: listed.deployed_by.clone(),
                },
                config: found.remove(&listed.version).unwrap_or_default(),
            })
            .collect())
    }

    /// Makes the draft what version `version` was: its webhooks (with the same ids, so their
    /// sealed secrets and header values, bound to id and URL, are copied as they are) and its
    /// post-call settings. One transaction; `NotFound` if the agent has no such version.
    pub async fn restore_version(&self, agent: &OwnedAgent, version: i64) -> Result<(), AppError> {
        let mut tx = self.writer.begin().await?;
        touch_draft(&mut tx, agent).await?;
        let processing: Option<String> = sqlx::query_scalar(
            "SELECT processing FROM agent_versions WHERE agent_id = $1 AND version = $2",
        )
        .bind(agent.id())
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(processing) = processing else {
            return Err(AppError::NotFound); // dropping `tx` rolls the revision bump back
        };
        sqlx::query("DELETE FROM webhooks WHERE agent_id = $1")
            .bind(agent.id())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO webhooks (id, agent_id, name, url, secret, headers, key_id, standard_webhooks, retry_policy, created_at, updated_at)
             SELECT webhook_id, agent_id, name, url, secret, headers, key_id, standard_webhooks, retry_policy, created_at, updated_at
             FROM deployed_webhooks WHERE agent_id = $1 AND version = $2 ORDER BY position",
        )
        .bind(agent.id())
        .bind(version)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE agents SET processing = $1 WHERE id = $2")
            .bind(processing)
            .bind(agent.id())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
