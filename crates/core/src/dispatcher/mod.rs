//! The `call_ended` dispatcher. The database is its queue (`crate::store::queue`): every
//! instance claims pending calls in batches under a lease, processes each (summary, variables,
//! notifications), serializes its Get Call JSON once and POSTs it to every webhook of its
//! config at once. Each call runs in its own task and each request in its own future, so a slow
//! or dead endpoint delays nothing else.
//!
//! Hand-over: the instance that stores a call stores it claimed for its own worker when it has a
//! slot free, and starts that worker as soon as the call is durable (no claim statement, no
//! wake-up). Calls left pending wake the local claim loop in-process, the other instances by
//! PostgreSQL `LISTEN/NOTIFY`, and every instance sweeps every second, claiming anything left
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
pub use queue::{ReservedSlot, Running};
pub use worker::Prepared;

use crate::store::{Store, StoredCall};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

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

/// What the HTTP intake asks of this instance's dispatcher (a slot for a call it is storing) and
/// tells it (a call stored), and where every finished delivery is counted for alerts.
#[derive(Debug)]
pub struct Dispatcher {
    alerts: alerts::Alerts,
    /// This instance's queue once `start` ran (not on an instance that only serves requests).
    running: OnceLock<Arc<queue::Queue>>,
}

impl Dispatcher {
    /// A slot for a call about to be stored, if this instance dispatches and has one free: the
    /// call is then stored claimed (`ReservedSlot::claim`) and its worker starts as soon as it
    /// is stored, without a claim statement or a wake-up.
    pub fn reserve_slot(&self) -> Option<ReservedSlot> {
        self.running.get()?.reserve()
    }

    /// Told of every stored call, never waits: starts its worker if it was stored claimed with
    /// `slot`; otherwise wakes the claim loop (other instances are woken by the database).
    /// A call whose event started with its insert is sent with what `prepared` holds.
    pub fn call_stored(
        &self, stored: StoredCall, slot: Option<ReservedSlot>, prepared: Option<Prepared>,
    ) {
        match (stored.token, slot) {
            (Some(token), Some(slot)) => match (stored.started, prepared) {
                (Some(paused), Some(prepared)) => {
                    slot.start_sending(stored.call, token, prepared, paused)
                }
                _ => slot.start(stored.call, token),
            },
            _ => {
                if let Some(queue) = self.running.get() {
                    queue.call_pending();
                }
            }
        }
    }

    /// Told of a delivery that ended for good (the owner's redeliveries), for alerts.
    pub fn delivery_ended(&self, seen: alerts::Observation) {
        self.alerts.observe(seen);
    }

    pub fn new(alerts: alerts::Alerts) -> Arc<Self> {
        Arc::new(Self { alerts, running: OnceLock::new() })
    }

    /// Starts claiming and sending on this instance; `Running::shutdown` stops it cleanly.
    /// Once per instance.
    pub fn start(
        &self, store: Store, client: WebhookClient, steps: Arc<post_call::Steps>, options: Options,
    ) -> Running {
        let (running, queue) = queue::start(store, client, (steps, self.alerts.clone()), options);
        if self.running.set(queue).is_err() {
            tracing::error!(
                "a dispatcher was started twice on one instance; the second one takes no intake"
            );
        }
        running
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
