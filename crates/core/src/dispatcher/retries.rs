//! Opt-in retries, run by every instance: each second it claims the chains whose next attempt is
//! due (`Store::claim_due_retries`) and makes each attempt with the config the call used (a phone
//! call's deployed version, a web call's draft), the same body bytes, a fresh signature and, for
//! Standard Webhooks, the same `webhook-id` (the call's id). Results go through the recorder with
//! the event's, and tell the chain what follows (`retry_policy::RetrySchedule::after`).

use super::alerts::{Alerts, Observation};
use super::recorder::Record;
use super::retry_policy::{ChainEnd, NextStep, RetrySchedule};
use super::{WebhookClient, client::TIMEOUT, request};
use crate::error::AppError;
use crate::states::RetryPolicy;
use crate::store::{ChainUpdate, DueRetry, PendingDelivery, Store};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};

/// Attempts under way at once on one instance; the rest stay due for the next check.
pub(super) const RETRY_SLOTS: usize = 256;

/// What every send of a webhook that retries needs: the schedule, the recorder, and how long a
/// chain is held while its attempt is under way.
pub(super) struct Retrier {
    pub store: Store,
    pub client: WebhookClient,
    pub recorder: mpsc::Sender<Record>,
    pub schedule: RetrySchedule,
    /// How long a chain stays claimed without a result: the lease, the request's 5 s and the
    /// recorder's own delay. Past it, the chain falls due again (its instance died).
    pub hold: Duration,
    pub slots: Arc<Semaphore>,
    pub alerts: Alerts,
}

impl Retrier {
    /// Sends one request, and records its end with what follows for its chain: `head` is the
    /// chain's first delivery (the delivery itself for attempt 1).
    pub async fn deliver_and_record(
        &self, agent_id: &str, delivery: &PendingDelivery, headers: &[(String, String)],
        body: Bytes, chain: Option<(&str, i64)>,
    ) {
        let result = self.client.deliver(&delivery.webhook, headers, body).await;
        tracing::info!(webhook = %delivery.webhook.name, outcome = result.outcome.as_str(), status = ?result.status_code,
            duration_ms = result.duration_ms, attempt = chain.map_or(1, |(_, n)| n), "webhook delivery");
        let update = chain.map(|(head, attempt)| {
            let (next_in, end) = match self.schedule.after(attempt, &result) {
                NextStep::Done => (None, None),
                NextStep::RetryIn(delay) => (Some(delay), None),
                NextStep::End(end) => (None, Some(end.as_str())),
            };
            ChainUpdate { head: head.to_owned(), next_in, end }
        });
        // A chain counts for alerts once, when it ends.
        if update.as_ref().is_none_or(|u| u.next_in.is_none()) {
            let webhook = (delivery.webhook.id.as_str(), delivery.webhook.name.as_str());
            if let Some(seen) = Observation::of(agent_id, webhook, &result) {
                self.alerts.observe(seen);
            }
        }
        let _ = self.recorder.send(Record::Delivery(delivery.id.clone(), result, update)).await;
    }

    /// For a delivery about to start: whether its webhook retries, and so when its chain falls
    /// due if no result is ever recorded.
    pub fn hold_for(&self, delivery: &PendingDelivery) -> Option<Duration> {
        (delivery.webhook.retry_policy == RetryPolicy::Backoff && !delivery.paused)
            .then_some(self.hold)
    }

    /// One due attempt, from the claim to its recorded end.
    async fn attempt(&self, due: DueRetry, token: &str) -> Result<(), AppError> {
        let attempt = due.retries + 2;
        if attempt > self.schedule.max_attempts() {
            // Its last attempt's instance died before recording it: nothing more is due.
            return self.store.end_chain(&due.head, ChainEnd::GaveUp.as_str()).await;
        }
        let call = self.store.call_by_id(&due.call_id).await?;
        if call.erased_at.is_some() {
            return self.store.end_chain(&due.head, ChainEnd::CallErased.as_str()).await;
        }
        let config = self.store.call_config(&call).await?;
        let (Some(webhook), Some(body)) =
            (config.webhooks.iter().find(|w| w.id == due.webhook_id).cloned(), call.body.clone())
        else {
            return self.store.end_chain(&due.head, ChainEnd::WebhookRemoved.as_str()).await;
        };
        if webhook.retry_policy != RetryPolicy::Backoff {
            // A web call's draft may have turned retries off since.
            return self.store.end_chain(&due.head, ChainEnd::GaveUp.as_str()).await;
        }
        let (mut delivery, headers) = request::prepare(webhook, body.as_bytes(), &call.id);
        delivery.due_unless_recorded = Some(self.hold);
        if !self.store.begin_retry(&due, token, attempt, &delivery, self.hold).await? {
            return Ok(()); // another claim holds the chain now
        }
        metrics::counter!("voicy_retry_attempts_total").increment(1);
        let chain = Some((due.head.as_str(), attempt));
        self.deliver_and_record(&due.agent_id, &delivery, &headers, Bytes::from(body), chain).await;
        Ok(())
    }
}

/// How long a chain is held: see `Retrier::hold`.
pub(super) fn hold_for_lease(lease: Duration) -> Duration {
    lease + TIMEOUT + Duration::from_secs(5)
}

pub(super) async fn retry_loop(retrier: Arc<Retrier>, mut stop: watch::Receiver<bool>) {
    let mut every = super::each_second();
    while super::next_tick(&mut every, &mut stop).await {
        let free = retrier.slots.available_permits();
        if free == 0 {
            continue;
        }
        let token = uuid::Uuid::new_v4().to_string();
        // Failures are logged by the store; the next check tries again.
        let Ok(due) = retrier.store.claim_due_retries(&token, retrier.hold, free as i64).await
        else {
            continue;
        };
        for retry in due {
            let Ok(slot) = retrier.slots.clone().try_acquire_owned() else { break };
            let (retrier, token, head) = (retrier.clone(), token.clone(), retry.head.clone());
            let what = "a retry could not start; its chain stays held, then falls due again";
            super::spawn_holding(
                slot,
                what,
                head,
                async move { retrier.attempt(retry, &token).await },
            );
        }
    }
}
