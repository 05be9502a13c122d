use super::{Store, new_id, now};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::views::ApiKeyView;

type ApiKeyTuple = (String, String, String, Option<String>);

fn view((id, name, created_at, last_used_at): ApiKeyTuple) -> ApiKeyView {
    ApiKeyView { id, name, created_at, last_used_at }
}

impl Store {
    pub async fn insert_api_key(
        &self, owner: &OwnerId, name: &str, key_hash: &str,
    ) -> Result<ApiKeyView, AppError> {
        let view = ApiKeyView {
            id: new_id(),
            name: name.to_owned(),
            created_at: now(),
            last_used_at: None,
        };
        sqlx::query("INSERT INTO api_keys (id, owner_id, name, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&view.id)
            .bind(owner.as_str())
            .bind(&view.name)
            .bind(key_hash)
            .bind(&view.created_at)
            .execute(&self.writer)
            .await?;
        Ok(view)
    }

    pub async fn api_keys(&self, owner: &OwnerId) -> Result<Vec<ApiKeyView>, AppError> {
        let rows: Vec<ApiKeyTuple> = sqlx::query_as(
            "SELECT id, name, created_at, last_used_at FROM api_keys WHERE owner_id = $1 ORDER BY created_at, rowid",
        )
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Whether a key of this owner's was deleted.
    pub async fn delete_api_key(&self, owner: &OwnerId, id: &str) -> Result<bool, AppError> {
        let id = super::known_id(id)?;
        let done = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND owner_id = $2")
            .bind(id)
            .bind(owner.as_str())
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The owner of the key with this hash, marking the key as used now. The mark is written at
    /// most once a minute per key: every API request reads the key, and a write per request
    /// would queue the intake behind the database's writer for a timestamp nobody needs to the
    /// second.
    pub async fn use_api_key(&self, key_hash: &str) -> Result<Option<String>, AppError> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT owner_id, last_used_at FROM api_keys WHERE key_hash = $1")
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?;
        let Some((owner, last_used_at)) = row else {
            return Ok(None);
        };
        let a_minute_ago = (chrono::Utc::now() - chrono::Duration::minutes(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if last_used_at.is_none_or(|at| at < a_minute_ago) {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2")
                .bind(now())
                .bind(key_hash)
                .execute(&self.writer)
                .await?;
        }
        Ok(Some(owner))
    }
}
