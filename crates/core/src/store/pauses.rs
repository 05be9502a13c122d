//! Paused webhooks. A pause is operational, not config: it is kept apart from the draft and
//! the deployed versions (which are immutable) and applies to whichever config a call uses.
//! Never cached: every instance reads it for each call, so a pause holds at once everywhere.

use super::{OwnedAgent, Store, now};
use crate::error::AppError;
use std::collections::HashSet;

impl Store {
    /// The ids of the agent's paused webhooks.
    pub async fn paused_webhooks(&self, agent_id: &str) -> Result<HashSet<String>, AppError> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT webhook_id FROM webhook_pauses WHERE agent_id = $1")
                .bind(agent_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(ids.into_iter().collect())
    }

    /// Pauses (or, with `paused` false, resumes) one of the agent's webhooks; idempotent.
    pub async fn set_paused(
        &self, agent: &OwnedAgent, webhook_id: &str, paused: bool,
    ) -> Result<(), AppError> {
        let query = if paused {
            sqlx::query(
                "INSERT INTO webhook_pauses (agent_id, webhook_id, paused_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(agent.id())
            .bind(webhook_id)
            .bind(now())
        } else {
            sqlx::query("DELETE FROM webhook_pauses WHERE agent_id = $1 AND webhook_id = $2")
                .bind(agent.id())
                .bind(webhook_id)
        };
        query.execute(&self.writer).await?;
        Ok(())
    }
}
