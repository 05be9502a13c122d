//! An agent's draft webhooks (opened) and its list of deployed versions, kept in memory under
//! the revision that the agent's row names: `draft_revision`, which every draft write counts in
//! its transaction (`touch_draft`), and the latest version, which only a deploy adds (versions
//! never change). `OwnedAgent` carries both as read, so a view of an unchanged agent reads
//! neither from the database nor opens its secrets again, and a change made anywhere (another
//! instance, another tab, the REST API) is seen by the next read of the agent.
//!
//! A kept copy is always exactly the revision it is filed under: the revision is read in the same
//! statement as the rows. What a caller gets is therefore at least as new as its read of the
//! agent, and exactly that while the copy is kept (like the agent's post-call settings): never
//! read back through an `OwnedAgent` what the same request changed.
//!
//! Opened secrets stay in memory no longer than the draft they belong to: a read that finds the
//! draft changed replaces or drops its copy (an emptied draft is dropped, not kept).

use super::budget_map::BudgetMap;
use super::deployed::webhook_bytes;
use super::sealed::{self, RawWebhook};
use super::{OwnedAgent, Store, StoredWebhook};
use crate::error::AppError;
use std::sync::Arc;

/// Bytes kept of each kind (about: their text); a draft is at most 5 webhooks of 10 headers.
const BUDGET: usize = 16 << 20;

#[derive(Clone, Debug)]
pub(super) struct RevisionCache {
    /// agent id → (draft revision, its webhooks opened, oldest first).
    drafts: BudgetMap<String, (i64, Arc<Vec<StoredWebhook>>)>,
    /// (agent id, how many asked for) → (latest version, the versions listed, newest first).
    histories: BudgetMap<(String, i64), History>,
}

/// The latest version when the history was read, and the versions listed, newest first.
type History = (i64, Arc<Vec<ListedVersion>>);

impl Default for RevisionCache {
    fn default() -> Self {
        Self { drafts: BudgetMap::new(BUDGET), histories: BudgetMap::new(BUDGET) }
    }
}

/// A draft webhook with the draft's revision, read in one statement.
#[derive(sqlx::FromRow)]
struct RevisedWebhook {
    draft_revision: i64,
    #[sqlx(flatten)]
    webhook: RawWebhook,
}

/// A deployed version as its row lists it (its webhooks are in `deployed`).
#[derive(sqlx::FromRow, Debug, Clone)]
pub(super) struct ListedVersion {
    pub version: i64,
    pub deployed_at: String,
    pub deployed_by: Option<String>,
    /// The version's post-call settings (JSON).
    pub processing: String,
}

fn listed_bytes(rows: &[ListedVersion]) -> usize {
    rows.iter()
        .map(|r| {
            r.deployed_at.len()
                + r.deployed_by.as_ref().map_or(0, String::len)
                + r.processing.len()
                + 64
        })
        .sum()
}

impl Store {
    /// The draft's webhooks, oldest first, at least as new as the read of `agent`.
    pub async fn draft_webhooks(&self, agent: &OwnedAgent) -> Result<Vec<StoredWebhook>, AppError> {
        let key = agent.id().to_owned();
        if let Some((revision, webhooks)) = self.by_revision.drafts.get(&key)
            && revision == agent.draft_revision()
        {
            return Ok(webhooks.as_ref().clone());
        }
        // The copy of an older draft goes now, whatever this read finds (an error included).
        self.by_revision.drafts.remove(&key);
        let rows: Vec<RevisedWebhook> = sqlx::query_as(&format!(
            "SELECT {}, (SELECT draft_revision FROM agents WHERE id = $1) AS draft_revision
             FROM webhooks WHERE agent_id = $1 ORDER BY rowid",
            super::webhooks::WEBHOOK_COLUMNS
        ))
        .bind(agent.id())
        .fetch_all(&self.pool)
        .await?;
        // An empty draft is not kept: without a row, the statement names no revision (and there
        // is nothing to open).
        let Some(revision) = rows.first().map(|row| row.draft_revision) else {
            return Ok(Vec::new());
        };
        let webhooks =
            sealed::open_all(&self.keys, rows.into_iter().map(|row| row.webhook).collect())?;
        let size = webhooks.iter().map(webhook_bytes).sum::<usize>() + key.len() + 64;
        self.by_revision.drafts.insert(key, (revision, Arc::new(webhooks.clone())), size);
        Ok(webhooks)
    }

    /// The latest `limit` deployed versions, newest first, at least as new as the read of `agent`.
    pub(super) async fn listed_versions(
        &self, agent: &OwnedAgent, limit: i64,
    ) -> Result<Arc<Vec<ListedVersion>>, AppError> {
        let Some(latest) = agent.latest_version() else {
            return Ok(Arc::default());
        };
        let key = (agent.id().to_owned(), limit);
        if let Some((kept, versions)) = self.by_revision.histories.get(&key)
            && kept == latest
        {
            return Ok(versions);
        }
        let versions: Vec<ListedVersion> = sqlx::query_as(
            "SELECT version, deployed_at, deployed_by, processing FROM agent_versions
             WHERE agent_id = $1 ORDER BY version DESC LIMIT $2",
        )
        .bind(agent.id())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let versions = Arc::new(versions);
        // The newest row names the revision: a deploy after the agent was read is in it.
        if let Some(newest) = versions.first() {
            let size = listed_bytes(&versions) + key.0.len() + 64;
            self.by_revision.histories.insert(key, (newest.version, versions.clone()), size);
        }
        Ok(versions)
    }
}
