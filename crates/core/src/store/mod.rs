//! All SQL lives here, behind `Store`: services and pages never see a query. Every read of an
//! owner's data takes the owner (or an `OwnedAgent`, which only an owner-scoped query makes), so
//! no caller can forget the scope.
//!
//! One set of queries serves SQLite (the embedded default) and PostgreSQL (for several
//! instances): sqlx's `Any` driver picks the backend from the URL at start-up, the queries use
//! `$N` placeholders (which both accept) and portable SQL, and the two schemas in `migrations/`
//! have the same tables and columns (PostgreSQL's carry an identity `rowid` where SQLite has its
//! implicit one). The few statements that must differ ask `Backend`.

mod agents;
mod alerts;
mod api_keys;
mod budget_map;
mod calls;
mod database_url;
mod deliveries;
mod delivery_log;
mod deployed;
mod erasure;
mod event_start;
mod group_commit;
mod held;
mod intake;
mod operations;
mod pauses;
mod positional;
mod queue;
mod rate_counters;
mod replays;
mod retries;
mod revision_cache;
mod sealed;
mod sessions;
mod stats;
mod stored_webhook;
mod users;
mod versions;
mod wal;
mod webhooks;

pub use agents::OwnedAgent;
pub use alerts::{AlertContact, IncidentChange};
pub use calls::{CALLS_PAGE, CallRecord};
pub use database_url::DatabaseUrl;
pub use deliveries::{DeliveryResult, DeliverySample, ManualDelivery, ManualKind, PendingDelivery};
pub use delivery_log::{LogQuery, StatusFilter};
pub use deployed::CallConfig;
pub use erasure::CALL_ERASED;
pub use event_start::{EventStarted, IntakeStart};
pub use intake::{IncomingCall, IntakeClaim, OnStored, StoredCall};
pub use operations::{PoolUse, QueueDepth};
pub use rate_counters::{Counted, Window};
pub use replays::{HeldReplay, REPLAY_LIMIT, ReplayItem};
pub use retries::{ChainUpdate, DueRetry};
pub use sealed::{ResealError, header_context, secret_context};
pub use stats::{BinCount, LATENCY_BINS};
pub use stored_webhook::StoredWebhook;
pub use versions::{VersionConfig, VersionRow};
pub use webhooks::DeploymentRow;

use crate::error::AppError;
use held::HeldConnection;
use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};
use std::{str::FromStr, time::Duration};

pub type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a `VOICY_DATABASE_URL` names, if it is one we run on.
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    /// For reads. On SQLite, WAL lets them run beside the writer.
    pool: AnyPool,
    /// For writes. On SQLite one connection: SQLite has one writer at a time anyway, and queueing
    /// for this connection is cheap where several writers would spin in the busy handler. On
    /// PostgreSQL the same pool as reads.
    writer: AnyPool,
    backend: Backend,
    /// Stored calls, written with group commit.
    intake: group_commit::GroupCommit<intake::NewCallRow, bool>,
    /// Events moving to `sending` with their deliveries, written with group commit.
    starts: group_commit::GroupCommit<event_start::EventStart, event_start::EventStarted>,
    /// Seals and opens webhook secrets and header values.
    keys: crate::vault::Keyring,
    /// The opened webhooks of deployed versions, which never change once deployed.
    deployed: deployed::DeployedCache,
    /// Agents' draft webhooks (opened) and version lists, by the revision their row names.
    by_revision: revision_cache::RevisionCache,
    /// API keys read as valid within the last minute, for the intake (`recently_valid_key`).
    recent_keys: api_keys::RecentKeys,
    /// The connections the group commits write with.
    commits: GroupWriters,
}

/// The connections the group commits and the recorder write through: on SQLite the one writer,
/// given back after each write; on PostgreSQL one each, apart from the shared pool, and kept
/// from one write to the next (`held.rs`).
#[derive(Clone, Debug)]
struct GroupWriters {
    intake: HeldConnection,
    starts: HeldConnection,
    /// Delivery results: the recorder's batches (`record_deliveries`).
    results: HeldConnection,
}

/// A PostgreSQL connection idle longer than this is pinged before it is used again.
pub(super) const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

impl Store {
    /// Opens the database at `url` (`sqlite://…`, created if missing, or `postgres://…`); `keys`
    /// seal and open webhook secrets and header values.
    pub async fn connect(url: &str, keys: crate::vault::Keyring) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url).ok_or_else(|| {
            sqlx::Error::Configuration("expected a sqlite:// or postgres:// URL".into())
        })?;
        match backend {
            Backend::Sqlite => {
                // `mode=rwc` creates the file; the pragmas are set on every new connection.
                let url =
                    if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") };
                let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
                let pool_options = |temp_store: &'static str| {
                    // No ping before each acquire: an embedded database's connection cannot be
                    // dropped by a network or a server restart, and each ping was one more
                    // round trip to its worker thread per statement.
                    AnyPoolOptions::new()
                        .acquire_timeout(Duration::from_secs(10))
                        .test_before_acquire(false)
                        .after_connect(move |conn, _| {
                            Box::pin(async move {
                                conn.execute(
                                    // mmap_size 0: no memory-mapped reads. Mapping the file once
                                    // gained a tenth in throughput; now it gains nothing measurable
                                    // (BENCHMARKS.md, same run) while every page it touched stayed in
                                    // the process's resident size: 145 MiB of a 532 MiB peak.
                                    // secure_delete: deleted content (an old ciphertext, a
                                    // plaintext from before values were sealed) is overwritten.
                                    // wal_autocheckpoint 0: no commit checkpoints on its way
                                    // (`wal::checkpoints` does it beside them), and
                                    // journal_size_limit: the log's file cut back when it
                                    // starts again.
                                    format!(
                                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                     PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; \
                                     PRAGMA mmap_size = 0; PRAGMA secure_delete = ON; \
                                     PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = {temp_store}; \
                                     PRAGMA journal_size_limit = {};",
                                        wal::BUSY_TIMEOUT_MS,
                                        wal::LOG_FILE_LIMIT_BYTES
                                    )
                                    .as_str(),
                                )
                                .await
                                .map(|_| ())
                            })
                        })
                };
                // temp_store: the writer keeps its statement journals in memory. A batch's
                // multi-row INSERT inside its transaction spilled its journal to a new file past
                // 64 KiB (created, written, unlinked and closed: 152 files in 1,200 calls,
                // BENCHMARKS.md). Readers keep SQLite's default, files, so that a large sort
                // cannot grow the process; `sealed.rs` sets files again for its VACUUM.
                let writer =
                    pool_options("MEMORY").max_connections(1).connect_with(options.clone()).await?;
                let pool = pool_options("DEFAULT").max_connections(8).connect_with(options).await?;
                tokio::spawn(wal::checkpoints(pool.clone(), writer.clone()));
                // The one writer writes everything, group commits too.
                let shared = || HeldConnection::new(writer.clone(), false);
                let commits =
                    GroupWriters { intake: shared(), starts: shared(), results: shared() };
                Ok(Self::with_pools(pool, writer, commits, backend, keys))
            }
            Backend::Postgres => {
                let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
                // The pool reports a server it cannot reach only as a timeout; one connection
                // first says why (refused, unknown host, wrong password, no such database).
                match tokio::time::timeout(
                    Duration::from_secs(5),
                    sqlx::AnyConnection::connect_with(&options),
                )
                .await
                {
                    Ok(Ok(connection)) => drop(connection.close().await),
                    Ok(Err(e)) => return Err(e),
                    Err(_) => {
                        return Err(sqlx::Error::Configuration(
                            "the server did not answer within 5 seconds".into(),
                        ));
                    }
                }
                // A short acquire timeout: when the database is away, requests answer 503 within
                // seconds instead of hanging. A connection is pinged before use only when it sat
                // idle for a while (the server may have restarted since): sqlx's default pings
                // before every acquire, one more round trip per statement, a dozen per call.
                let pool_options = |max| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(Duration::from_secs(3))
                        .test_before_acquire(false)
                        .before_acquire(|conn, meta| {
                            Box::pin(async move {
                                if meta.idle_for > PING_IF_IDLE_FOR {
                                    conn.ping().await?;
                                }
                                Ok(true)
                            })
                        })
                };
                let pool = pool_options(32).connect_with(options.clone()).await?;
                // Each group commit, and the recorder (`record_deliveries`), writes one batch at
                // a time, so it gets one connection of its own: its statements are prepared once
                // per process. From the shared pool, whose idle connections take turns, a call's
                // write met each of its 32 connections unprepared in turn (issue: one-at-a-time
                // latency). So an instance opens up to 35 connections, and one to listen.
                let own = || {
                    HeldConnection::new(pool_options(1).connect_lazy_with(options.clone()), true)
                };
                let commits = GroupWriters { intake: own(), starts: own(), results: own() };
                Ok(Self::with_pools(pool.clone(), pool, commits, backend, keys))
            }
        }
    }

    fn with_pools(
        pool: AnyPool, writer: AnyPool, commits: GroupWriters, backend: Backend,
        keys: crate::vault::Keyring,
    ) -> Self {
        let deployed = deployed::DeployedCache::default();
        let seen = deployed.clone();
        let intake =
            group_commit::GroupCommit::start(commits.intake.clone(), move |writer, rows| {
                Box::pin(intake::insert_calls(writer, backend, seen.clone(), rows))
            });
        let starts =
            group_commit::GroupCommit::start(commits.starts.clone(), move |writer, events| {
                Box::pin(event_start::start_events(writer, backend, events))
            });
        Self {
            pool,
            writer,
            backend,
            intake,
            starts,
            keys,
            deployed,
            by_revision: Default::default(),
            recent_keys: Default::default(),
            commits,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => {
                // The writer keeps temporary data in memory (`connect`): a migration's sort or
                // copy of a table (a new index on a long history) goes to files instead.
                let mut writer = self.writer.acquire().await?;
                writer.execute("PRAGMA temp_store = DEFAULT").await?;
                let migrated =
                    sqlx::migrate!("../../migrations/sqlite").run_direct(&mut *writer).await;
                writer.execute("PRAGMA temp_store = MEMORY").await?;
                migrated
            }
            Backend::Postgres => {
                sqlx::migrate!("../../migrations/postgres").run(&self.writer).await
            }
        }
    }

    /// The read pool, for tests and benchmarks that look at rows directly.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.writer).await.map(|_| ())
    }
}

/// An id from a request, as a query may take it: PostgreSQL text cannot hold NUL, and such an id
/// would fail the query (a 500) where it simply names nothing (our ids never contain one).
pub(crate) fn known_id(id: &str) -> Result<&str, AppError> {
    if id.contains('\0') { Err(AppError::NotFound) } else { Ok(id) }
}

/// Timestamps are RFC 3339 UTC with milliseconds, so they sort as text.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A database-clock instant (Unix milliseconds, as leases and retries keep time) as RFC 3339.
pub(crate) fn rfc3339_of_ms(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// A new row's id: a UUID that begins with the time (version 7), so that rows stored one after
/// another sit side by side in every index on an id. Random ids put each new row on a page of
/// its own in each such index, and each commit wrote all those pages again: on SQLite, 37 % of
/// the write-ahead log's frames under a burst (BENCHMARKS.md, "SQLite's log kept short", step 10).
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|e| e.is_unique_violation())
}

/// `$first, $first+1, …` for `count` values: the placeholders of an `IN (…)` list.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `($first, …), (…), …`: `rows` rows of `width` placeholders each, numbered on from `first`, for
/// a multi-row `VALUES` list.
fn value_rows(first: usize, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|i| format!("({})", placeholders(first + i * width, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    /// Ids made one after another sort in that order as the text the indexes compare, even
    /// within one millisecond: each new row goes at the end of an index on ids.
    #[test]
    fn ids_sort_in_the_order_they_were_made() {
        let ids: Vec<String> = (0..10_000).map(|_| super::new_id()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));
    }
}
