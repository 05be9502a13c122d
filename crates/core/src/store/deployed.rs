//! Deployed versions' configs, opened once per process. A deployed version never changes
//! (triggers forbid it; a re-seal changes only how values are sealed), so the dispatcher, the
//! Settings page and the history read and decrypt each once instead of on every call or view.

use super::budget_map::BudgetMap;
use super::{Store, StoredWebhook};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::views::ProcessingSettings;
use std::sync::Arc;

/// The webhooks (opened) and post-call settings a call runs with.
#[derive(Debug, Default)]
pub struct CallConfig {
    pub webhooks: Vec<StoredWebhook>,
    pub processing: ProcessingSettings,
}

/// Bytes of configs kept in memory (about: their text); past this, the cache starts over. A
/// config holds at most 5 webhooks of 10 headers, so about 200 KB: at least 80 of the largest
/// fit, thousands of usual ones.
const CACHE_BUDGET: usize = 16 << 20;

/// Opened configs of deployed versions by (agent id, version), under `CACHE_BUDGET`; and each
/// agent's latest version as this instance last saw it (stored with a call, or deployed here),
/// which is only a guess (another instance may have deployed since): the intake processes a
/// phone call with it, and the insert keeps that work only if the guess still holds.
#[derive(Clone, Debug)]
pub struct DeployedCache {
    configs: BudgetMap<(String, i64), Arc<CallConfig>>,
    /// By (owner id, agent id): a call for someone else's agent is never processed with it.
    latest: BudgetMap<(String, String), i64>,
}

/// Bytes of latest-version guesses kept: about 7,000 agents.
const LATEST_BUDGET: usize = 1 << 20;

impl Default for DeployedCache {
    fn default() -> Self {
        Self { configs: BudgetMap::new(CACHE_BUDGET), latest: BudgetMap::new(LATEST_BUDGET) }
    }
}

/// About how much memory `webhook` holds: its text, plus a little per item.
pub(super) fn webhook_bytes(w: &StoredWebhook) -> usize {
    let secret = w.secret.as_ref().map_or(0, |s| s.expose().len());
    let headers: usize =
        w.headers.iter().map(|h| h.name.as_str().len() + h.value.expose().len() + 64).sum();
    w.id.len()
        + w.name.len()
        + w.url.len()
        + w.created_at.len()
        + w.updated_at.len()
        + secret
        + headers
        + 256
}

/// About how much memory `config` holds.
fn approx_bytes(config: &CallConfig) -> usize {
    let webhooks: usize = config.webhooks.iter().map(webhook_bytes).sum();
    let processing = &config.processing;
    let variables: usize = processing
        .variables
        .iter()
        .map(|v| v.name.len() + v.description.len() + v.pattern.len() + 96)
        .sum();
    let emails: usize = processing.notification_emails.iter().map(|e| e.len() + 24).sum();
    webhooks + variables + emails + 128
}

impl DeployedCache {
    pub(super) fn get(&self, agent_id: &str, version: i64) -> Option<Arc<CallConfig>> {
        self.configs.get(&(agent_id.to_owned(), version))
    }

    pub(super) fn insert(&self, agent_id: &str, version: i64, config: Arc<CallConfig>) {
        let size = approx_bytes(&config);
        self.configs.insert((agent_id.to_owned(), version), config, size);
    }

    /// `version` was the latest of `owner_id`'s agent `agent_id` when a call was stored.
    pub(super) fn saw_latest(&self, owner_id: &str, agent_id: &str, version: i64) {
        let key = (owner_id.to_owned(), agent_id.to_owned());
        if self.latest.get(&key) != Some(version) {
            let size = owner_id.len() + agent_id.len() + 64;
            self.latest.insert(key, version, size);
        }
    }
}

impl Store {
    /// The latest deployed version of `owner`'s agent `agent_id` as this instance last saw it,
    /// with its config, if both are in memory: a guess, which the insert of a call processed
    /// with it checks.
    pub fn latest_config_guess(
        &self, owner: &OwnerId, agent_id: &str,
    ) -> Option<(i64, Arc<CallConfig>)> {
        let key = (owner.as_str().to_owned(), agent_id.to_owned());
        let version = self.deployed.latest.get(&key)?;
        Some((version, self.deployed.get(agent_id, version)?))
    }

    /// After a deploy on this instance: the version's config read and opened now, and noted as
    /// the latest of `owner`'s agent, so the next phone call is processed at intake. A failure
    /// (logged where it happened) only means that call takes the worker's way.
    pub async fn prime_deployed(&self, owner: &OwnerId, agent_id: &str, version: i64) {
        if self.deployed_config(agent_id, version).await.is_ok() {
            self.deployed.saw_latest(owner.as_str(), agent_id, version);
        }
    }

    /// The config of version `version` of agent `agent_id`, read and opened once per process.
    pub(super) async fn deployed_config(
        &self, agent_id: &str, version: i64,
    ) -> Result<Arc<CallConfig>, AppError> {
        if let Some(config) = self.deployed.get(agent_id, version) {
            return Ok(config);
        }
        let webhooks = self.webhooks_of_version(agent_id, version).await?;
        let processing = self.processing_of_version(agent_id, version).await?;
        let config = Arc::new(CallConfig { webhooks, processing });
        self.deployed.insert(agent_id, version, config.clone());
        Ok(config)
    }
}
