//! The session layer's store: dashboard sessions in our own database through `Store`, on
//! SQLite and PostgreSQL alike (the sqlx session stores are per backend, and on SQLite theirs
//! would be a second writer beside the store's one). Expired sessions are deleted every hour.

use async_trait::async_trait;
use std::time::Duration;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use tower_sessions::{SessionStore, cookie::time::OffsetDateTime};
use voicy_core::store::Store;

#[derive(Clone, Debug)]
pub struct DbSessions {
    store: Store,
}

impl DbSessions {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Deletes expired sessions now and every hour after, until the process stops.
    pub fn spawn_cleanup(&self) {
        let store = self.store.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(3600));
            loop {
                every.tick().await;
                match store
                    .delete_expired_sessions(OffsetDateTime::now_utc().unix_timestamp())
                    .await
                {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "deleted expired sessions"),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not delete expired sessions; will try again")
                    }
                }
            }
        });
    }
}

fn backend(err: sqlx::Error) -> Error {
    Error::Backend(err.to_string())
}

fn encode(record: &Record) -> Result<String> {
    serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for DbSessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        loop {
            let data = encode(record)?;
            if self
                .store
                .create_session(&record.id.to_string(), &data, record.expiry_date.unix_timestamp())
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default(); // taken: pick another
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.store
            .save_session(
                &record.id.to_string(),
                &encode(record)?,
                record.expiry_date.unix_timestamp(),
            )
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let data = self
            .store
            .load_session(&id.to_string(), OffsetDateTime::now_utc().unix_timestamp())
            .await
            .map_err(backend)?;
        data.map(|data| serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.store.delete_session(&id.to_string()).await.map_err(backend)
    }
}
