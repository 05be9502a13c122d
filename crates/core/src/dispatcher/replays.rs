//! Bulk replays, run by every instance: each second it takes a running replay no instance holds
//! (`Store::claim_replay`) and redelivers its calls one after the other, at most
//! `VOICY_REPLAY_RATE_PER_SECOND` a second (one replay per webhook at a time, so that is the
//! webhook's rate too), each with the config the call used, the same body bytes and a fresh
//! signature, as the owner's Redeliver does.

use super::alerts::Observation;
use super::request;
use super::retries::Retrier;
use crate::error::AppError;
use crate::store::{HeldReplay, ReplayItem};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};

/// Replays one instance runs at once.
pub(super) const REPLAY_SLOTS: usize = 16;

pub(super) struct Replayer {
    pub sender: Arc<Retrier>,
    pub instance: String,
    /// How long a held replay stays this instance's without progress: longer than one request.
    pub lease: Duration,
    pub per_second: u32,
    pub slots: Arc<Semaphore>,
}

impl Replayer {
    pub fn new(sender: Arc<Retrier>, instance: String, lease: Duration, per_second: u32) -> Self {
        let slots = Arc::new(Semaphore::new(REPLAY_SLOTS));
        Self { sender, instance, lease, per_second: per_second.max(1), slots }
    }

    /// Runs a held replay until it is done, cancelled, no longer this instance's, or the
    /// instance stops (then its lease is released for another instance to carry it on).
    async fn run(&self, replay: HeldReplay, stop: &watch::Receiver<bool>) -> Result<(), AppError> {
        let store = &self.sender.store;
        let pace = Duration::from_secs(1) / self.per_second;
        let mut next = tokio::time::Instant::now();
        loop {
            let Some(item) = store.next_replay_item(&replay, &self.instance, self.lease).await?
            else {
                return Ok(()); // cancelled, or taken over
            };
            let Some(item) = item else {
                return store.finish_replay(&replay.id).await;
            };
            if *stop.borrow() {
                return store.release_replay(&replay.id, &self.instance).await;
            }
            tokio::time::sleep_until(next).await;
            next = tokio::time::Instant::now() + pace;
            self.redeliver(&replay, &item).await?;
        }
    }

    async fn redeliver(&self, replay: &HeldReplay, item: &ReplayItem) -> Result<(), AppError> {
        let store = &self.sender.store;
        let call = store.call_by_id(&item.call_id).await?;
        let config = store.call_config(&call).await?;
        let webhook = config.webhooks.iter().find(|w| w.id == replay.webhook_id).cloned();
        let body = call.body.clone().filter(|_| call.erased_at.is_none());
        let (Some(webhook), Some(body)) = (webhook, body) else {
            // No longer in the config the call used (a web call's draft moved on), or the call's
            // data was erased since: dropped.
            store.begin_replay_item(replay, item, None).await?;
            return Ok(());
        };
        let (delivery, headers) = request::prepare(webhook, body.as_bytes(), &call.id);
        if !store.begin_replay_item(replay, item, Some(&delivery)).await? {
            return Ok(()); // a delivery took the call meanwhile
        }
        let result =
            self.sender.client.deliver(&delivery.webhook, &headers, Bytes::from(body)).await;
        let ok = result.outcome == crate::states::DeliveryOutcome::Ok;
        let webhook = (delivery.webhook.id.as_str(), delivery.webhook.name.as_str());
        if let Some(seen) = Observation::of(&replay.agent_id, webhook, &result) {
            self.sender.alerts.observe(seen);
        }
        tracing::info!(replay = %replay.id, call_id = %call.id, outcome = result.outcome.as_str(), "replayed");
        // Written at once (not through the recorder), so the counts follow the log exactly.
        store.record_delivery(delivery.id.clone(), result).await?;
        store.count_replay_result(&replay.id, ok).await
    }
}

pub(super) async fn replay_loop(replayer: Arc<Replayer>, mut stop: watch::Receiver<bool>) {
    let mut every = super::each_second();
    while super::next_tick(&mut every, &mut stop).await {
        while let Ok(slot) = replayer.slots.clone().try_acquire_owned() {
            // Failures are logged by the store; the next check tries again.
            let Ok(Some(replay)) =
                replayer.sender.store.claim_replay(&replayer.instance, replayer.lease).await
            else {
                break;
            };
            let (replayer, stop, id) = (replayer.clone(), stop.clone(), replay.id.clone());
            let what = "a replay stopped; its lease lapses and any instance carries it on";
            super::spawn_holding(slot, what, id, async move { replayer.run(replay, &stop).await });
        }
    }
}
