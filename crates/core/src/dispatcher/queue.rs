//! The claim loop of one instance, its lease renewal, its PostgreSQL listener, and its clean
//! shutdown.

use super::in_flight::{InFlight, InFlightSet};
use super::replays::{REPLAY_SLOTS, Replayer, replay_loop};
use super::retries::{RETRY_SLOTS, Retrier, hold_for_lease, retry_loop};
use super::worker::{Prepared, Worker};
use super::{MAX_ATTEMPTS, Options, WebhookClient, alerts, post_call::Steps, recorder};
use crate::auth::OwnerId;
use crate::states::CallKind;
use crate::store::{CallRecord, IncomingCall, IntakeClaim, IntakeStart, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, TryAcquireError, watch};
use tokio::task::JoinHandle;

/// Claims per statement: large enough to absorb a burst in few round trips.
const CLAIM_BATCH: usize = 64;
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How long a shutdown waits for calls under way (their requests have at most 5 s) and for
/// their results to be written.
const DRAIN_FOR: Duration = Duration::from_secs(15);

pub(super) struct Queue {
    store: Store,
    worker: Arc<Worker>,
    retrier: Arc<Retrier>,
    replayer: Arc<Replayer>,
    wake: Arc<Notify>,
    slots: Arc<Semaphore>,
    in_flight: Arc<InFlightSet>,
    options: Options,
    stopped: watch::Receiver<bool>,
    /// Whether the queue may hold calls this instance could claim: set by what can leave one
    /// pending (a call stored without a slot, another instance's `NOTIFY`, the sweep), taken by
    /// the claim loop. A call that finishes wakes the loop, which claims only if this is set, so
    /// the calls that intake claimed for itself cost no claim statement when they end.
    maybe_pending: AtomicBool,
}

/// A slot of this instance's dispatcher, taken for a call about to be stored: the call is
/// stored claimed under `claim()` and its worker starts at once (`Dispatcher::call_stored`).
/// Dropped unused (the call was not stored), the slot is free again.
#[derive(Debug)]
pub struct ReservedSlot {
    queue: Arc<Queue>,
    /// Taken by `start` or `start_sending`; still here when dropped unused.
    slot: Option<OwnedSemaphorePermit>,
}

impl ReservedSlot {
    /// The lease to store the call under.
    pub fn claim(&self) -> IntakeClaim {
        IntakeClaim {
            instance: self.queue.options.instance.clone(),
            lease: self.queue.options.lease,
        }
    }

    /// Processes a phone call before it is stored, with the config of its agent's latest
    /// deployed version as this instance last saw it (`Store::latest_config_guess`); its event
    /// then starts with the insert if that version is still the latest. `None` (the worker
    /// processes it once stored) when this instance knows no config for the agent yet or the
    /// call is not one to process here (`Worker::prepare`).
    pub fn prepare(
        &self, owner: &OwnerId, incoming: &mut IncomingCall,
    ) -> Option<(IntakeStart, Prepared)> {
        if incoming.record().kind != CallKind::Phone {
            return None;
        }
        let agent_id = &incoming.record().agent_id;
        let (version, config) = self.queue.store.latest_config_guess(owner, agent_id)?;
        let prepared = self.queue.worker.prepare(incoming.assume_version(version), &config)?;
        let start = IntakeStart::new(version, &prepared.body, &prepared.records).ok()?;
        Some((start, prepared))
    }

    /// Starts the worker of `call`, stored claimed under `token`.
    pub(super) fn start(self, call: CallRecord, token: String) {
        let (in_flight, worker) = self.in_flight(&call, token);
        tokio::spawn(async move { worker.run(call, in_flight).await });
    }

    /// Sends `call`, whose event started with its insert: `prepared`'s requests, but those to
    /// the `paused` webhooks.
    pub(super) fn start_sending(
        self, call: CallRecord, token: String, prepared: Prepared, paused: Vec<String>,
    ) {
        let (in_flight, worker) = self.in_flight(&call, token);
        tokio::spawn(async move { worker.run_started(call, in_flight, prepared, paused).await });
    }

    fn in_flight(mut self, call: &CallRecord, token: String) -> (InFlight, Arc<Worker>) {
        let slot = self.slot.take().expect("a reserved slot starts one call");
        metrics::counter!("voicy_calls_claimed_total", "by" => "intake").increment(1);
        let in_flight = InFlight::new(
            self.queue.in_flight.clone(),
            self.queue.wake.clone(),
            call.id.clone(),
            token,
            slot,
        );
        (in_flight, self.queue.worker.clone())
    }
}

impl Drop for ReservedSlot {
    /// Unused (the call was not stored): the slot is free again, for a call that may be waiting.
    fn drop(&mut self) {
        if self.slot.take().is_some() {
            self.queue.wake.notify_one();
        }
    }
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("instance", &self.options.instance).finish_non_exhaustive()
    }
}

/// The dispatcher running on this instance.
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    queue: Arc<Queue>,
}

pub(super) fn start(
    store: Store, client: WebhookClient, (steps, alerts): (Arc<Steps>, alerts::Alerts),
    options: Options,
) -> (Running, Arc<Queue>) {
    let recorder = recorder::start(store.clone());
    let retrier = Arc::new(Retrier {
        store: store.clone(),
        client,
        recorder,
        schedule: options.retry_schedule.clone(),
        hold: hold_for_lease(options.lease),
        slots: Arc::new(Semaphore::new(RETRY_SLOTS)),
        alerts,
    });
    let worker =
        Arc::new(Worker::new(store.clone(), steps, retrier.clone(), options.throttle.clone()));
    let (stop, stopped) = watch::channel(false);
    let queue = Arc::new(Queue {
        stopped: stopped.clone(),
        maybe_pending: AtomicBool::new(true),
        store,
        worker,
        replayer: Arc::new(Replayer::new(
            retrier.clone(),
            options.instance.clone(),
            hold_for_lease(options.lease),
            options.replay_rate,
        )),
        retrier: retrier.clone(),
        wake: Arc::default(),
        slots: Arc::new(Semaphore::new(options.max_calls_in_flight)),
        in_flight: Arc::default(),
        options,
    });
    let mut tasks = vec![
        tokio::spawn(claim_loop(queue.clone(), stopped.clone())),
        tokio::spawn(renew_loop(queue.clone())),
        tokio::spawn(retry_loop(retrier.clone(), stopped.clone())),
        tokio::spawn(replay_loop(queue.replayer.clone(), stopped.clone())),
    ];
    if let Some(url) = queue.options.postgres_url.clone() {
        tasks.push(tokio::spawn(listen_loop(url, queue.clone(), stopped)));
    }
    tracing::info!(instance = %queue.options.instance, lease_s = queue.options.lease.as_secs(),
        max_calls_in_flight = queue.options.max_calls_in_flight, "dispatcher started");
    (Running { stop, tasks, queue: queue.clone() }, queue)
}

impl Running {
    /// Stops claiming, lets the calls under way finish and their results be written, then
    /// returns what was claimed but not started to the queue.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let queue = self.queue;
        let all = u32::try_from(queue.options.max_calls_in_flight).unwrap_or(u32::MAX);
        let drained = async {
            let calls = queue.slots.acquire_many(all).await;
            // Retries under way too (one that does not finish falls due again elsewhere).
            let retries = queue.retrier.slots.acquire_many(RETRY_SLOTS as u32).await;
            // Replays stop after their current call and give their lease back.
            let replays = queue.replayer.slots.acquire_many(REPLAY_SLOTS as u32).await;
            (calls, retries, replays)
        };
        match tokio::time::timeout(DRAIN_FOR, drained).await {
            Ok(_) => {
                tracing::info!("dispatcher stopped: every call under way finished and was recorded")
            }
            Err(_) => tracing::warn!(
                left = queue.in_flight.ids().len(),
                "dispatcher stopped with calls still under way; their leases will lapse and another instance takes them over"
            ),
        }
        for task in self.tasks {
            task.abort();
        }
        if let Ok(released) = queue.store.release_claims(&queue.options.instance).await
            && released > 0
        {
            tracing::info!(released, "returned unstarted calls to the queue");
        }
    }
}

async fn claim_loop(queue: Arc<Queue>, mut stop: watch::Receiver<bool>) {
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = queue.wake.notified() => {}
            _ = sweep.tick() => {
                // Failures are logged by the store; the next sweep tries again.
                let _ = queue.store.take_over_expired(MAX_ATTEMPTS).await;
                // Whatever else may have left a call pending (a failed attempt's backoff, another
                // instance's shutdown, a second process on one SQLite file) is found here.
                queue.maybe_pending.store(true, Ordering::SeqCst);
            }
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        queue.claim_while_free().await;
    }
}

impl Queue {
    /// A free slot for a call about to be stored, unless the instance is stopping or busy.
    pub(super) fn reserve(self: &Arc<Self>) -> Option<ReservedSlot> {
        let slot = self.slots.clone().try_acquire_owned().ok()?;
        // Checked after the slot is taken: a shutdown says stop before it waits for every slot,
        // so a slot taken after that is seen here, and a call is never stored claimed by an
        // instance whose drain has already passed.
        if *self.stopped.borrow() {
            return None;
        }
        Some(ReservedSlot { queue: self.clone(), slot: Some(slot) })
    }

    /// Told that a call may be pending (stored without a slot here, or elsewhere): the claim
    /// loop looks at the queue on its next turn.
    pub(super) fn call_pending(&self) {
        self.maybe_pending.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Claims batches while this instance has free slots and the queue may have calls. The slots
    /// are taken before the claim, so intake, which takes slots too, cannot leave a claimed call
    /// without one.
    async fn claim_while_free(&self) {
        while self.maybe_pending.swap(false, Ordering::SeqCst) {
            let free = self.slots.available_permits().min(CLAIM_BATCH);
            if free == 0 {
                // A call that finishes wakes the loop, which looks again.
                self.maybe_pending.store(true, Ordering::SeqCst);
                return;
            }
            let mut slots = match self.slots.clone().try_acquire_many_owned(free as u32) {
                Ok(slots) => slots,
                Err(TryAcquireError::NoPermits) => {
                    // Intake took some meanwhile: count again.
                    self.maybe_pending.store(true, Ordering::SeqCst);
                    continue;
                }
                Err(TryAcquireError::Closed) => return,
            };
            let Ok((token, calls)) = self
                .store
                .claim_calls(&self.options.instance, self.options.lease, free as i64)
                .await
            else {
                // Logged by the store; the next sweep tries again.
                self.maybe_pending.store(true, Ordering::SeqCst);
                return;
            };
            let claimed = calls.len();
            metrics::counter!("voicy_calls_claimed_total", "by" => "queue")
                .increment(claimed as u64);
            for call in calls {
                let slot = slots.split(1).expect("one slot taken per call claimed");
                let in_flight = InFlight::new(
                    self.in_flight.clone(),
                    self.wake.clone(),
                    call.id.clone(),
                    token.clone(),
                    slot,
                );
                let worker = self.worker.clone();
                tokio::spawn(async move { worker.run(call, in_flight).await });
            }
            if claimed == free {
                // A full batch: there may be more.
                self.maybe_pending.store(true, Ordering::SeqCst);
            }
            // The unused slots are freed as `slots` drops.
        }
    }
}

/// Renews the leases of the calls under way, three times per lease; also during a shutdown's
/// drain, until the shutdown aborts it.
async fn renew_loop(queue: Arc<Queue>) {
    let mut every = tokio::time::interval(queue.options.lease / 3);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let ids = queue.in_flight.ids();
        if !ids.is_empty() {
            let _ =
                queue.store.renew_leases(&queue.options.instance, queue.options.lease, &ids).await;
        }
    }
}

/// Wakes the claim loop on every `NOTIFY voicy_calls` (sent by a trigger when a call is stored
/// pending: one that intake claimed for its own worker needs nobody).
async fn listen_loop(
    url: crate::store::DatabaseUrl, queue: Arc<Queue>, stop: watch::Receiver<bool>,
) {
    use sqlx::postgres::PgListener;
    while !*stop.borrow() {
        match PgListener::connect(url.expose()).await {
            Ok(mut listener) => match listener.listen("voicy_calls").await {
                Ok(()) => loop {
                    match listener.recv().await {
                        Ok(_) => queue.call_pending(),
                        Err(e) => {
                            tracing::warn!(error = %e, "lost the database's call notifications; reconnecting (the sweep covers the gap)");
                            break;
                        }
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for call notifications; retrying")
                }
            },
            Err(e) => tracing::warn!(error = %e, "cannot connect for call notifications; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
