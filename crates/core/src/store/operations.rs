//! What an operator watches: the queue's depth by state and how long the oldest pending call has
//! waited, and the connection pools' use. Read when `/metrics` is scraped, never on a request's way.

use super::Store;
use crate::error::AppError;
use crate::states::EventState;

const PENDING: &str = EventState::Pending.sql();
const PROCESSING: &str = EventState::Processing.sql();
const SENDING: &str = EventState::Sending.sql();

/// The queue as it stands.
#[derive(Debug, Clone, Default)]
pub struct QueueDepth {
    /// Events per unfinished state (`pending`, `processing`, `sending`), all three named.
    pub by_state: Vec<(EventState, i64)>,
    /// When the oldest pending call was stored (RFC 3339), if any is pending.
    pub oldest_pending: Option<String>,
}

/// One pool's connections: open, and of those idle.
#[derive(Debug, Clone, Copy)]
pub struct PoolUse {
    pub name: &'static str,
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

impl Store {
    /// The unfinished events by state, through the queue's partial index.
    pub async fn queue_depth(&self) -> Result<QueueDepth, AppError> {
        let counts: Vec<(EventState, i64)> = sqlx::query_as(&format!(
            "SELECT state, COUNT(*) FROM call_events WHERE state IN ({PENDING}, {PROCESSING}, {SENDING}) GROUP BY state"
        ))
        .fetch_all(&self.pool)
        .await?;
        let by_state = [EventState::Pending, EventState::Processing, EventState::Sending]
            .into_iter()
            .map(|state| (state, counts.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n)))
            .collect();
        let oldest_pending: Option<String> = sqlx::query_scalar(&format!(
            "SELECT MIN(c.received_at) FROM call_events e JOIN calls c ON c.id = e.call_id WHERE e.state = {PENDING}"
        ))
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueDepth { by_state, oldest_pending })
    }

    /// On SQLite the read pool and the one-connection writer; on PostgreSQL the shared pool and
    /// the group commits' own connections.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        let of = |name, pool: &sqlx::AnyPool| PoolUse {
            name,
            open: pool.size(),
            idle: pool.num_idle() as u32,
            max: pool.options().get_max_connections(),
        };
        match self.backend {
            super::Backend::Postgres => vec![
                of("shared", &self.pool),
                of("intake", self.commits.intake.pool()),
                of("starts", self.commits.starts.pool()),
                of("results", self.commits.results.pool()),
            ],
            super::Backend::Sqlite => vec![of("read", &self.pool), of("write", &self.writer)],
        }
    }
}
