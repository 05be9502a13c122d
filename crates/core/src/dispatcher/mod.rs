//! The `call_ended` dispatcher. The database is its queue (`crate::store::queue`): every
//! instance claims pending calls in batches under a lease, processes each (summary, variables,
//! notifications), serializes its Get Call JSON once and POSTs it to every webhook of its
//! config at once. Each call runs in its own task and each request in its own future, so a slow
//! or dead endpoint delays nothing else.
//!
//! Wake-ups: the instance that stored a call is told in-process (no added latency), the others
//! by PostgreSQL `LISTEN/NOTIFY`, and every instance sweeps every second, claiming anything left
//! pending and taking over expired leases: nothing waits for a restart.

pub mod address_guard;
pub mod alerts;
mod client;
mod endpoint_limit;
mod in_flight;
pub mod mail;
pub mod post_call;
mod queue;
mod recorder;
pub mod redact;
mod replays;
pub mod request;
mod retries;
pub mod retry_policy;
mod unescape;
mod worker;

pub use client::{ClientError, Sent, WebhookClient};
pub use queue::Running;

use crate::store::Store;
use std::{sync::Arc, time::Duration};
use tokio::sync::Notify;

/// How the dispatcher of one instance runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// This instance's name on its leases: unique per process.
    pub instance: String,
    pub lease: Duration,
    pub max_calls_in_flight: usize,
    /// For `LISTEN/NOTIFY` when the database is PostgreSQL (it may hold a password: `Debug`
    /// never shows it).
    pub postgres_url: Option<crate::store::DatabaseUrl>,
    /// `VOICY_RETRY_SCHEDULE_SECONDS`: the delays before each retry of a webhook whose
    /// `retry_policy` is `backoff`.
    pub retry_schedule: retry_policy::RetrySchedule,
    /// `VOICY_REPLAY_RATE_PER_SECOND`: redeliveries a bulk replay makes a second at most.
    pub replay_rate: u32,
    /// The shared quotas; the worker takes each call's notification e-mails from its agent's.
    pub throttle: crate::services::throttle::Throttle,
}

/// Processing attempts of a call before its event is `failed`.
pub const MAX_ATTEMPTS: i64 = 3;

/// What the HTTP intake tells of a stored call (it only wakes the claim loop, never waits), and
/// where every finished delivery is counted for alerts.
#[derive(Debug)]
pub struct Dispatcher {
    wake: Arc<Notify>,
    alerts: alerts::Alerts,
}

impl Dispatcher {
    /// Told of every stored call: wakes the claim loop, never waits.
    pub fn call_stored(&self, _call_id: &str) {
        self.wake.notify_one();
    }

    /// Told of a delivery that ended for good (the owner's redeliveries), for alerts.
    pub fn delivery_ended(&self, seen: alerts::Observation) {
        self.alerts.observe(seen);
    }

    pub fn new(alerts: alerts::Alerts) -> Arc<Self> {
        Arc::new(Self { wake: Arc::default(), alerts })
    }

    /// Starts claiming and sending on this instance; `Running::shutdown` stops it cleanly.
    pub fn start(
        &self, store: Store, client: WebhookClient, steps: Arc<post_call::Steps>, options: Options,
    ) -> Running {
        queue::start(self.wake.clone(), store, client, (steps, self.alerts.clone()), options)
    }
}

/// A ticker for the loops that look at the database once a second (retries, replays).
fn each_second() -> tokio::time::Interval {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every
}

/// Waits for `every`'s next tick: `false` once the instance is stopping.
async fn next_tick(
    every: &mut tokio::time::Interval, stop: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        _ = every.tick() => true,
        _ = stop.changed() => false,
    }
}

/// Runs `work` in a task of its own that holds `slot` until it ends; a failure is logged as
/// `what` (the work is taken up again: its claim lapses).
fn spawn_holding<F>(
    slot: tokio::sync::OwnedSemaphorePermit, what: &'static str, id: String, work: F,
) where
    F: std::future::Future<Output = Result<(), crate::error::AppError>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = work.await {
            tracing::warn!(%id, error = %e, "{what}");
        }
        drop(slot);
    });
}

/// A name for this process's leases: readable in the database, unique across restarts.
pub fn instance_name() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("pid{}-{}", std::process::id(), &id[..12])
}
