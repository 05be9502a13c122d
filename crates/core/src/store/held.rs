//! A connection a single writer keeps between its writes (on PostgreSQL: the intake's and the
//! starts' group commits, the recorder). sqlx pings every connection it gets back, one round
//! trip during which a one-connection pool has nothing to give, so the next batch waited for it;
//! kept, the connection goes from one write to the next. After a write that failed, a second
//! idle (the server may have restarted since) or half an hour, the writer hands it back and asks
//! the pool again: the hand-back's ping closes a connection that is gone, and the pool opens
//! another, as it does for any pool. While kept it counts as in use in the pool's metrics.

use crate::error::AppError;
use sqlx::any::Any;
use sqlx::pool::PoolConnection;
use sqlx::{AnyConnection, AnyPool};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, MutexGuard};

/// Past this idle, a kept connection is handed back and one acquired again: the idle after which
/// the pool's connections are pinged before use.
const KEEP_FOR: Duration = super::PING_IF_IDLE_FOR;

/// Past this age, a kept connection is handed back too: sqlx retires connections older than
/// its `max_lifetime` (30 minutes by default) only when they come back.
const KEEP_AT_MOST: Duration = Duration::from_secs(30 * 60);

/// The kept connection, when it was last kept, and when it was taken from the pool.
type Kept = Option<(PoolConnection<Any>, Instant, Instant)>;

#[derive(Clone, Debug)]
pub(super) struct HeldConnection {
    pool: AnyPool,
    /// False on SQLite, where the one writer is everyone's and must go back after each write.
    keep: bool,
    kept: Arc<Mutex<Kept>>,
}

impl HeldConnection {
    pub(super) fn new(pool: AnyPool, keep: bool) -> Self {
        Self { pool, keep, kept: Arc::default() }
    }

    pub(super) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The writer's connection, for one write; `Held::keep` it once the write succeeded, else
    /// it goes back to the pool when dropped.
    pub(super) async fn acquire(&self) -> Result<Held<'_>, AppError> {
        let mut kept = self.kept.lock().await;
        let recent = match kept.take() {
            Some((conn, idle_since, taken_at))
                if idle_since.elapsed() < KEEP_FOR && taken_at.elapsed() < KEEP_AT_MOST =>
            {
                Some((conn, taken_at))
            }
            // Given back before the pool is asked: it may be the pool's only connection.
            stale => {
                drop(stale);
                None
            }
        };
        let (conn, taken_at) = match recent {
            Some(recent) => recent,
            None => (self.pool.acquire().await?, Instant::now()),
        };
        Ok(Held { conn: Some(conn), taken_at, kept, keep: self.keep })
    }
}

/// A connection out of `HeldConnection` for one write.
pub(super) struct Held<'a> {
    conn: Option<PoolConnection<Any>>,
    taken_at: Instant,
    kept: MutexGuard<'a, Kept>,
    keep: bool,
}

impl Held<'_> {
    /// The write succeeded: the next one takes this connection (on PostgreSQL).
    pub(super) fn keep(mut self) {
        if self.keep {
            *self.kept = self.conn.take().map(|conn| (conn, Instant::now(), self.taken_at));
        }
    }
}

impl Deref for Held<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        self.conn.as_ref().expect("taken only by keep, which consumes it")
    }
}

impl DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn.as_mut().expect("taken only by keep, which consumes it")
    }
}

#[cfg(test)]
mod tests {
    use super::{HeldConnection, KEEP_FOR};
    use sqlx::any::AnyPoolOptions;
    use std::time::Duration;

    async fn one_connection() -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_millis(500))
            .connect("sqlite::memory:")
            .await
            .unwrap()
    }

    /// Rows in a temp table, which lives as long as its connection: it tells connections apart.
    async fn session_id(conn: &mut sqlx::AnyConnection) -> i64 {
        let sql = "CREATE TEMP TABLE IF NOT EXISTS marker (x); INSERT INTO marker VALUES (1)";
        sqlx::query(sql).execute(&mut *conn).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM marker").fetch_one(&mut *conn).await.unwrap()
    }

    /// The same connection from write to write while kept; back through the pool after a
    /// failed write, and after an idle longer than `KEEP_FOR`, without waiting on itself (the
    /// pool's only connection).
    #[tokio::test]
    async fn a_kept_connection_goes_from_write_to_write_and_back_when_stale_or_failed() {
        let held = HeldConnection::new(one_connection().await, true);
        let mut conn = held.acquire().await.unwrap();
        assert_eq!(session_id(&mut conn).await, 1);
        conn.keep();
        let mut conn = held.acquire().await.unwrap();
        assert_eq!(session_id(&mut conn).await, 2, "the kept connection");
        drop(conn); // a failed write: not kept
        let conn = held.acquire().await.expect("through the pool, not waiting on itself");
        conn.keep();
        tokio::time::sleep(KEEP_FOR + Duration::from_millis(50)).await;
        assert!(held.acquire().await.is_ok(), "stale: given back, then acquired again");
    }
}
