//! How a webhook's secret and header values are stored: sealed with the operator's key (see
//! `vault`), each bound to its webhook and field, with the sealing key's id in the row's `key_id`
//! column. The only place a stored value is encoded or decoded; deploying copies the sealed text
//! as it is (the webhook id, part of each value's binding, is the same in both tables).

use super::Store;
use super::stored_webhook::StoredWebhook;
use crate::domain::{CustomHeader, SigningSecret};
use crate::error::AppError;
use crate::states::RetryPolicy;
use crate::vault::Keyring;
use serde::{Deserialize, Serialize};
use sqlx::Executor;

/// One header inside the `headers` JSON column.
#[derive(Serialize, Deserialize)]
struct StoredHeader {
    name: String,
    value: String,
}

/// A webhook row as the database holds it.
#[derive(sqlx::FromRow)]
pub(super) struct RawWebhook {
    pub id: String,
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
    pub headers: String,
    /// NULL: written before values were sealed (plaintext until the next start seals it).
    pub key_id: Option<String>,
    pub standard_webhooks: i64,
    pub retry_policy: RetryPolicy,
    pub created_at: String,
    pub updated_at: String,
}

/// The sealed columns of one webhook, ready to bind.
pub(super) struct SealedValues {
    pub secret: Option<String>,
    pub headers: String,
    pub key_id: String,
}

/// What a sealed secret is bound to: its webhook and the URL it is sent to. A value copied into
/// another webhook, or a URL changed in the database by someone without the key, no longer opens
/// (so it cannot be redirected to another receiver); the dashboard's edits seal again with the
/// new URL.
pub fn secret_context(webhook_id: &str, url: &str) -> String {
    format!("{webhook_id}\n{url}\nsecret")
}

/// The same for a header value, also bound to its header's position and name.
pub fn header_context(webhook_id: &str, url: &str, position: usize, name: &str) -> String {
    format!("{webhook_id}\n{url}\nheader\n{position}\n{name}")
}

pub(super) fn seal(
    keys: &Keyring, webhook_id: &str, url: &str, secret: Option<&SigningSecret>,
    headers: &[CustomHeader],
) -> SealedValues {
    let stored: Vec<StoredHeader> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| StoredHeader {
            name: h.name.as_str().to_owned(),
            value: keys
                .seal(&header_context(webhook_id, url, i, h.name.as_str()), h.value.expose()),
        })
        .collect();
    SealedValues {
        secret: secret.map(|s| keys.seal(&secret_context(webhook_id, url), s.expose())),
        headers: serde_json::to_string(&stored).expect("a list of string pairs always serializes"),
        key_id: keys.current_id().to_owned(),
    }
}

/// Why a stored row could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum OpenRowError {
    #[error("webhook {0}: the stored headers are not valid JSON")]
    Headers(String),
    #[error("webhook {webhook}: {source}")]
    Key { webhook: String, source: crate::vault::OpenError },
}

/// The secret and headers of webhook `id` (sent to `url`) as stored, opened.
fn open_values(
    keys: &Keyring, id: &str, url: &str, key_id: Option<&str>, secret: Option<String>,
    headers: &str,
) -> Result<(Option<SigningSecret>, Vec<CustomHeader>), OpenRowError> {
    // The serde error could quote a header value: a fixed message instead.
    let headers: Vec<StoredHeader> =
        serde_json::from_str(headers).map_err(|_| OpenRowError::Headers(id.to_owned()))?;
    let open_value = |context: String, value: String| match key_id {
        None => Ok(value),
        Some(key_id) => keys
            .open(key_id, &context, &value)
            .map_err(|source| OpenRowError::Key { webhook: id.to_owned(), source }),
    };
    let secret = secret.map(|s| open_value(secret_context(id, url), s)).transpose()?;
    let headers = headers
        .into_iter()
        .enumerate()
        .map(|(i, h)| {
            let value = open_value(header_context(id, url, i, &h.name), h.value)?;
            Ok(CustomHeader::from_trusted(h.name, value))
        })
        .collect::<Result<Vec<_>, OpenRowError>>()?;
    Ok((secret.map(SigningSecret::from_trusted), headers))
}

pub(super) fn open(keys: &Keyring, raw: RawWebhook) -> Result<StoredWebhook, OpenRowError> {
    let (secret, headers) =
        open_values(keys, &raw.id, &raw.url, raw.key_id.as_deref(), raw.secret, &raw.headers)?;
    Ok(StoredWebhook {
        id: raw.id,
        name: raw.name,
        url: raw.url,
        secret,
        headers,
        standard_webhooks: raw.standard_webhooks != 0,
        retry_policy: raw.retry_policy,
        created_at: raw.created_at,
        updated_at: raw.updated_at,
    })
}

pub(super) fn open_all(
    keys: &Keyring, rows: Vec<RawWebhook>,
) -> Result<Vec<StoredWebhook>, AppError> {
    rows.into_iter().map(|raw| open(keys, raw).map_err(AppError::internal)).collect()
}

/// Start-up: stored values could not all be sealed under the current key.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error(
        "{0}. The secrets and header values of these webhooks were sealed with a key that VOICY_SECRET_KEY \
         no longer holds; add that key after the current one (VOICY_SECRET_KEY=new,old) and start again"
    )]
    Open(OpenRowError),
    #[error("cannot seal stored values: {0}")]
    Database(#[from] sqlx::Error),
}

/// A row's sealed columns as read for resealing, with the key of its table.
#[derive(sqlx::FromRow)]
struct SealedRow {
    webhook_id: String,
    agent_id: String,
    url: String,
    version: i64,
    secret: Option<String>,
    headers: String,
    key_id: Option<String>,
}

impl Store {
    /// Seals under the current key every value that is not yet: rows written before values were
    /// sealed, and rows sealed under an older key (rotation). Each row is rewritten only if it is
    /// still as it was read, so instances starting together do not undo each other or an edit.
    /// Returns how many rows it sealed; then the space the old values took is overwritten
    /// (SQLite: `secure_delete` is on and the file is vacuumed; PostgreSQL: the tables are).
    pub async fn reseal(&self) -> Result<u64, ResealError> {
        let mut sealed = 0;
        // The draft's webhooks (`version` 0 stands for "none"), then the deployed copies.
        for (select, update) in [
            (
                "SELECT id AS webhook_id, agent_id, url, CAST(0 AS BIGINT) AS version, secret, headers, key_id FROM webhooks",
                "UPDATE webhooks SET secret = $1, headers = $2, key_id = $3
                 WHERE id = $4 AND agent_id = $5 AND $6 = 0 AND key_id IS NOT DISTINCT FROM $7
                   AND url = $8 AND secret IS NOT DISTINCT FROM $9 AND headers = $10",
            ),
            (
                "SELECT webhook_id, agent_id, url, version, secret, headers, key_id FROM deployed_webhooks",
                "UPDATE deployed_webhooks SET secret = $1, headers = $2, key_id = $3
                 WHERE webhook_id = $4 AND agent_id = $5 AND version = $6 AND key_id IS NOT DISTINCT FROM $7
                   AND url = $8 AND secret IS NOT DISTINCT FROM $9 AND headers = $10",
            ),
        ] {
            let rows: Vec<SealedRow> = sqlx::query_as(&format!("{select} WHERE key_id IS NULL OR key_id <> $1"))
                .bind(self.keys.current_id())
                .fetch_all(&self.pool)
                .await?;
            for row in rows {
                let (secret, headers) =
                    open_values(&self.keys, &row.webhook_id, &row.url, row.key_id.as_deref(), row.secret.clone(), &row.headers)
                        .map_err(ResealError::Open)?;
                let values = seal(&self.keys, &row.webhook_id, &row.url, secret.as_ref(), &headers);
                sealed += sqlx::query(update)
                    .bind(values.secret)
                    .bind(values.headers)
                    .bind(values.key_id)
                    .bind(row.webhook_id)
                    .bind(row.agent_id)
                    .bind(row.version)
                    .bind(row.key_id)
                    // Rewritten only if still as read: an edit in between (by an instance
                    // still running an older version, say) is not undone.
                    .bind(row.url)
                    .bind(row.secret)
                    .bind(row.headers)
                    .execute(&self.writer)
                    .await?
                    .rows_affected();
            }
        }
        if sealed > 0 {
            // The rows' old values may linger in free pages (SQLite, WAL included) or dead tuples
            // (PostgreSQL): rewrite the files without them.
            match self.backend {
                super::Backend::Sqlite => {
                    // The writer keeps temporary data in memory (`Store::connect`): VACUUM's copy
                    // of the whole database goes to a file, and memory is set back either way.
                    let mut writer = self.writer.acquire().await?;
                    writer.execute("PRAGMA temp_store = DEFAULT").await?;
                    let vacuumed = writer.execute("VACUUM").await;
                    writer.execute("PRAGMA temp_store = MEMORY").await?;
                    vacuumed?;
                    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
                }
                super::Backend::Postgres => {
                    for statement in ["VACUUM FULL webhooks", "VACUUM FULL deployed_webhooks"] {
                        sqlx::query(statement).execute(&self.writer).await?;
                    }
                }
            }
        }
        Ok(sealed)
    }
}
