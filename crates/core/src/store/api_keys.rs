use super::budget_map::BudgetMap;
use super::{Store, new_id, now};
use crate::auth::OwnerId;
use crate::error::AppError;
use crate::views::ApiKeyView;
use std::time::{Duration, Instant};

/// How long a key this instance found valid may be taken on its word by the intake, whose
/// write checks the key again (see `recently_valid_key`). Also how often, at most, such a key
/// is read again, which is when its last use is marked.
const RECENT: Duration = Duration::from_secs(60);

/// Bytes of recently valid keys kept: a hash, an owner id and a time, about 5,000 keys.
const RECENT_BUDGET: usize = 1 << 20;

/// Keys found valid, by their hash: the owner's id and when. Only valid keys go in, so a
/// stranger's guesses cannot fill it; past its budget it starts over.
#[derive(Clone, Debug)]
pub(super) struct RecentKeys(BudgetMap<String, (String, Instant)>);

impl Default for RecentKeys {
    fn default() -> Self {
        Self(BudgetMap::new(RECENT_BUDGET))
    }
}

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

    /// Whether a key of this owner's was deleted. This instance forgets it at once; others
    /// refuse it at their next read of it or intake write with it.
    pub async fn delete_api_key(&self, owner: &OwnerId, id: &str) -> Result<bool, AppError> {
        let id = super::known_id(id)?;
        let deleted: Option<(String,)> = sqlx::query_as(
            "DELETE FROM api_keys WHERE id = $1 AND owner_id = $2 RETURNING key_hash",
        )
        .bind(id)
        .bind(owner.as_str())
        .fetch_optional(&self.writer)
        .await?;
        if let Some((hash,)) = &deleted {
            self.recent_keys.0.remove(hash.as_str());
        }
        Ok(deleted.is_some())
    }

    /// The owner of a key this instance read as valid less than a minute ago, without reading
    /// it again. Only for the intake: a key revoked since (through any instance) still passes
    /// here, and the call's write refuses it (`IncomingCall::check_key`).
    pub fn recently_valid_key(&self, key_hash: &str) -> Option<String> {
        let (owner, read_at) = self.recent_keys.0.get(key_hash)?;
        (read_at.elapsed() < RECENT).then_some(owner)
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
            self.recent_keys.0.remove(key_hash);
            return Ok(None);
        };
        let size = key_hash.len() + owner.len() + 64;
        self.recent_keys.0.insert(key_hash.to_owned(), (owner.clone(), Instant::now()), size);
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
