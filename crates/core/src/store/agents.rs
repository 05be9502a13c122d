use super::{Store, new_id, now};
use crate::auth::OwnerId;
use crate::domain::AgentName;
use crate::error::AppError;
use crate::views::AgentView;

/// An agent fetched for its owner. Only `Store::agent_for_owner` makes one, so any function
/// that takes an `&OwnedAgent` works on an agent the caller is proven to own.
#[derive(Debug, Clone)]
pub struct OwnedAgent {
    id: String,
    name: String,
    created_at: String,
    /// The draft's post-call settings (JSON), read with the agent: a page shows them beside the
    /// webhooks, and one statement fewer per view counts (BENCHMARKS.md, kept pages).
    processing: String,
    /// The draft's revision (`touch_draft` counts every draft write) and the latest deployed
    /// version, as of this read: what the draft's and the history's kept copies are checked
    /// against (`store::revision_cache`), so a view asks the database for neither when they have
    /// not changed, whichever instance changed them.
    draft_revision: i64,
    latest_version: Option<i64>,
}

impl OwnedAgent {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn draft_revision(&self) -> i64 {
        self.draft_revision
    }

    /// The latest deployed version as of this read, if any was deployed.
    pub fn latest_version(&self) -> Option<i64> {
        self.latest_version
    }

    pub fn view(&self) -> AgentView {
        AgentView {
            id: self.id.clone(),
            name: self.name.clone(),
            created_at: self.created_at.clone(),
        }
    }

    /// The draft's post-call settings as they were when the agent was read (in this request):
    /// for reading only, never after writing them (it would give the old ones).
    pub fn draft_processing_as_read(&self) -> Result<crate::views::ProcessingSettings, AppError> {
        super::calls::processing_settings(&self.processing)
    }
}

impl Store {
    /// An agent's name, for the dispatcher's e-mails (not owner-scoped: it acts for the owner).
    pub async fn agent_name(&self, agent_id: &str) -> Result<String, AppError> {
        Ok(sqlx::query_scalar("SELECT name FROM agents WHERE id = $1")
            .bind(agent_id)
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or_default())
    }

    pub async fn insert_agent(
        &self, owner: &OwnerId, name: &AgentName,
    ) -> Result<AgentView, AppError> {
        let view = AgentView { id: new_id(), name: name.as_str().to_owned(), created_at: now() };
        sqlx::query("INSERT INTO agents (id, owner_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&view.id)
            .bind(owner.as_str())
            .bind(&view.name)
            .bind(&view.created_at)
            .execute(&self.writer)
            .await?;
        Ok(view)
    }

    pub async fn agents(&self, owner: &OwnerId) -> Result<Vec<AgentView>, AppError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, name, created_at FROM agents WHERE owner_id = $1 ORDER BY created_at DESC, rowid DESC")
                .bind(owner.as_str())
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at)| AgentView { id, name, created_at })
            .collect())
    }

    /// The agent, if it exists and belongs to `owner`; `NotFound` otherwise (the same answer for
    /// both, so nobody learns which ids exist).
    pub async fn agent_for_owner(
        &self, owner: &OwnerId, agent_id: &str,
    ) -> Result<OwnedAgent, AppError> {
        let agent_id = super::known_id(agent_id)?;
        let row: Option<(String, String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, name, created_at, processing, draft_revision,
                    (SELECT MAX(version) FROM agent_versions WHERE agent_id = agents.id)
             FROM agents WHERE id = $1 AND owner_id = $2",
        )
        .bind(agent_id)
        .bind(owner.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let (id, name, created_at, processing, draft_revision, latest_version) =
            row.ok_or(AppError::NotFound)?;
        Ok(OwnedAgent { id, name, created_at, processing, draft_revision, latest_version })
    }
}
