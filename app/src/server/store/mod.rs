//! All SQL lives here, behind `Store`: services and pages never see a query. Every read of an
//! owner's data takes the owner (or an `OwnedAgent`, which only an owner-scoped query makes), so
//! no caller can forget the scope. Written for SQLite; a Postgres backend would re-implement
//! these methods and nothing above them.

mod agents;
mod api_keys;
mod calls;
mod users;
mod webhooks;

pub use agents::OwnedAgent;
pub use calls::{CallRecord, DeliveryResult, PendingDelivery};
pub use webhooks::{DeploymentRow, WebhookRow};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::{str::FromStr, time::Duration};

#[derive(Clone, Debug)]
pub struct Store {
    /// For reads: WAL lets them run beside the writer.
    pool: SqlitePool,
    /// For writes: one connection. SQLite has one writer at a time anyway; queueing for this
    /// connection in the pool is cheap, where several writers would spin in the busy handler.
    writer: SqlitePool,
}

impl Store {
    /// Opens (creating if missing) the database at `url`, in WAL mode with a busy timeout so
    /// concurrent writers wait their turn instead of failing.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        Ok(Self { pool, writer })
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        sqlx::migrate!("../migrations").run(&self.writer).await
    }

    /// The pool, for the session store that shares our database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.writer).await.map(|_| ())
    }
}

/// Timestamps are RFC 3339 UTC with milliseconds, so they sort as text.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|e| e.is_unique_violation())
}
