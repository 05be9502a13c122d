//! The draft webhooks of an agent and its deployed versions.

use super::sealed::{self, RawWebhook};
use super::stored_webhook::StoredWebhook;
use super::{OwnedAgent, Store, new_id, now};
use crate::dispatcher::retry_policy::ChainEnd;
use crate::domain::WebhookSpec;
use crate::error::AppError;
use crate::views::WEBHOOK_LIMIT;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRow {
    pub version: i64,
    pub deployed_at: String,
}

pub(super) const WEBHOOK_COLUMNS: &str = "id, name, url, secret, headers, key_id, standard_webhooks, retry_policy, created_at, updated_at";

/// Counts a draft write. Being a write, it is the first statement of every draft transaction,
/// and it serializes them per agent (whether the draft differs from the deployed version is
/// judged by content, `services::diff`): SQLite then holds its write lock for the rest
/// of the transaction, PostgreSQL a lock on the agent's row, which a concurrent draft edit waits
/// for; the count read after it (a new snapshot under READ COMMITTED) cannot be stale. This is
/// what makes the 5-webhook limit hold under concurrent adds on both.
pub(super) async fn touch_draft(
    tx: &mut super::Tx<'_>, agent: &OwnedAgent,
) -> Result<(), AppError> {
    sqlx::query("UPDATE agents SET draft_revision = draft_revision + 1 WHERE id = $1")
        .bind(agent.id())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn fetch_webhook(
    store: &Store, tx: &mut super::Tx<'_>, agent: &OwnedAgent, id: &str,
) -> Result<StoredWebhook, AppError> {
    let raw: Option<RawWebhook> = sqlx::query_as(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1 AND agent_id = $2"
    ))
    .bind(id)
    .bind(agent.id())
    .fetch_optional(&mut **tx)
    .await?;
    sealed::open(&store.keys, raw.ok_or(AppError::NotFound)?).map_err(AppError::internal)
}

impl Store {
    /// The draft's webhooks, oldest first, read now (`draft_webhooks` answers as of an agent's
    /// read, from memory while the draft is unchanged).
    pub(super) async fn draft_webhooks_of(
        &self, agent_id: &str,
    ) -> Result<Vec<StoredWebhook>, AppError> {
        let rows = sqlx::query_as(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE agent_id = $1 ORDER BY rowid"
        ))
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await?;
        sealed::open_all(&self.keys, rows)
    }

    /// Adds a webhook to the draft, unless the agent already has `WEBHOOK_LIMIT`.
    pub async fn insert_webhook(
        &self, agent: &OwnedAgent, spec: &WebhookSpec,
    ) -> Result<StoredWebhook, AppError> {
        let mut tx = self.writer.begin().await?;
        touch_draft(&mut tx, agent).await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE agent_id = $1")
            .bind(agent.id())
            .fetch_one(&mut *tx)
            .await?;
        if count >= WEBHOOK_LIMIT as i64 {
            return Err(AppError::WebhookLimitReached);
        }
        let at = now();
        let id = new_id();
        let values =
            sealed::seal(&self.keys, &id, spec.url.as_str(), spec.secret.as_ref(), &spec.headers);
        sqlx::query(
            "INSERT INTO webhooks (id, agent_id, name, url, secret, headers, key_id, standard_webhooks, retry_policy, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(agent.id())
        .bind(spec.name.as_str())
        .bind(spec.url.as_str())
        .bind(values.secret)
        .bind(values.headers)
        .bind(values.key_id)
        .bind(i64::from(spec.standard_webhooks))
        .bind(spec.retry_policy)
        .bind(&at)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        let row = fetch_webhook(self, &mut tx, agent, &id).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Replaces a draft webhook with what `edit` makes of the stored one. The read and the write
    /// happen in one transaction, so two concurrent edits cannot lose each other's stored values.
    pub async fn update_webhook(
        &self, agent: &OwnedAgent, id: &str,
        edit: impl FnOnce(&StoredWebhook) -> Result<WebhookSpec, AppError>,
    ) -> Result<StoredWebhook, AppError> {
        let id = super::known_id(id)?;
        let mut tx = self.writer.begin().await?;
        touch_draft(&mut tx, agent).await?;
        let current = fetch_webhook(self, &mut tx, agent, id).await?;
        let spec = edit(&current)?;
        if spec.matches(&current) {
            return Ok(current); // a save that changes nothing: dropping `tx` undoes the draft's bump
        }
        let values =
            sealed::seal(&self.keys, id, spec.url.as_str(), spec.secret.as_ref(), &spec.headers);
        sqlx::query(
            "UPDATE webhooks SET name = $1, url = $2, secret = $3, headers = $4, key_id = $5, updated_at = $6,
                                 standard_webhooks = $7, retry_policy = $8
             WHERE id = $9 AND agent_id = $10",
        )
        .bind(spec.name.as_str())
        .bind(spec.url.as_str())
        .bind(values.secret)
        .bind(values.headers)
        .bind(values.key_id)
        .bind(now())
        .bind(i64::from(spec.standard_webhooks))
        .bind(spec.retry_policy)
        .bind(id)
        .bind(agent.id())
        .execute(&mut *tx)
        .await?;
        let row = fetch_webhook(self, &mut tx, agent, id).await?;
        tx.commit().await?;
        Ok(row)
    }

    pub async fn delete_webhook(&self, agent: &OwnedAgent, id: &str) -> Result<(), AppError> {
        let id = super::known_id(id)?;
        let mut tx = self.writer.begin().await?;
        touch_draft(&mut tx, agent).await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND agent_id = $2")
            .bind(id)
            .bind(agent.id())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(AppError::NotFound); // dropping `tx` rolls the revision bump back
        }
        // Its retry chains end with it, phone calls' included (their deployed version keeps it).
        sqlx::query(
            "UPDATE deliveries SET next_attempt_at = NULL, chain_end = $1, retry_token = NULL
             WHERE agent_id = $2 AND webhook_id = $3 AND next_attempt_at IS NOT NULL",
        )
        .bind(ChainEnd::WebhookRemoved.as_str())
        .bind(agent.id())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Publishes the draft as the next version: the version row and a full copy of the draft's
    /// webhooks, in one transaction.
    pub async fn deploy(
        &self, agent: &OwnedAgent, by: Option<&str>,
    ) -> Result<DeploymentRow, AppError> {
        let mut tx = self.writer.begin().await?;
        // Locks the agent's row first (see `touch_draft`): two concurrent deploys then number
        // their versions one after the other instead of colliding on the same number.
        sqlx::query("UPDATE agents SET draft_revision = draft_revision WHERE id = $1")
            .bind(agent.id())
            .execute(&mut *tx)
            .await?;
        let (version, deployed_at): (i64, String) = sqlx::query_as(
            "INSERT INTO agent_versions (agent_id, version, draft_revision, deployed_at, processing, deployed_by)
             SELECT $1, COALESCE((SELECT MAX(version) FROM agent_versions WHERE agent_id = $1), 0) + 1,
                    draft_revision, $2, processing, $3
             FROM agents WHERE id = $1
             RETURNING version, deployed_at",
        )
        .bind(agent.id())
        .bind(now())
        .bind(by)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO deployed_webhooks
                 (agent_id, version, webhook_id, position, name, url, secret, headers, key_id, standard_webhooks,
                  retry_policy, created_at, updated_at)
             SELECT agent_id, $1, id, rowid, name, url, secret, headers, key_id, standard_webhooks, retry_policy, created_at, updated_at
             FROM webhooks WHERE agent_id = $2",
        )
        .bind(version)
        .bind(agent.id())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(DeploymentRow { version, deployed_at })
    }

    pub(super) async fn webhooks_of_version(
        &self, agent_id: &str, version: i64,
    ) -> Result<Vec<StoredWebhook>, AppError> {
        let rows = sqlx::query_as(
            "SELECT webhook_id AS id, name, url, secret, headers, key_id, standard_webhooks, retry_policy, created_at, updated_at
             FROM deployed_webhooks WHERE agent_id = $1 AND version = $2 ORDER BY position",
        )
        .bind(agent_id)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        sealed::open_all(&self.keys, rows)
    }
}
