//! One claimed call, from processing to the last request: what a worker task does.

use super::in_flight::InFlight;
use super::retries::Retrier;
use super::{MAX_ATTEMPTS, post_call::Steps, recorder::Record, request};
use crate::error::AppError;
use crate::services::calls::call_view;
use crate::services::throttle::Throttle;
use crate::states::{CallKind, NotificationStatus};
use crate::store::{CallConfig, CallRecord, EventStarted, PendingDelivery, Store, StoredWebhook};
use crate::views::{NotificationView, ProcessingNote};
use bytes::Bytes;
use futures::future::join_all;
use std::sync::Arc;
use std::time::Duration;

const NOT_DEPLOYED: &str = "No version of this agent was deployed when this phone call arrived, so no webhook was sent. Deploy the agent.";
const NO_WEBHOOKS: &str = "The agent's config has no webhooks.";

/// The most transcript text the intake processes itself (`Worker::prepare`), on a thread that
/// serves requests: a usual call's few KB take microseconds. Longer ones are processed by the
/// worker, off those threads.
const PREPARED_TRANSCRIPT_BYTES: usize = 16 * 1024;

/// A call processed at intake: its body and its requests (with their real header values),
/// ready to start in the write that stores it (`IntakeStart`).
pub struct Prepared {
    pub body: String,
    pub records: Vec<PendingDelivery>,
    headers: Vec<Vec<(String, String)>>,
}

pub struct Worker {
    store: Store,
    steps: Arc<Steps>,
    sender: Arc<Retrier>,
    /// For each agent's hourly quota of notification e-mails.
    throttle: Throttle,
}

enum Dispatched {
    Requests,
    Nothing,
}

/// Why a processing attempt failed, as the owner reads it on the call.
enum Failure {
    /// The database could not be reached: not the call's fault, so it costs no attempt; the
    /// worker tries again, holding the lease, until `UNAVAILABLE_FOR` has passed.
    Unavailable,
    Step(String),
}

/// How long a worker keeps trying while the database cannot be reached before it counts an attempt.
const UNAVAILABLE_FOR: Duration = Duration::from_secs(60);

impl From<AppError> for Failure {
    fn from(err: AppError) -> Self {
        // The detail of an internal error was logged where it happened; the owner gets its kind.
        match err {
            AppError::Unavailable => Self::Unavailable,
            _ => Self::Step("An internal error occurred.".to_owned()),
        }
    }
}

impl Worker {
    pub fn new(store: Store, steps: Arc<Steps>, sender: Arc<Retrier>, throttle: Throttle) -> Self {
        Self { store, steps, sender, throttle }
    }

    pub async fn run(&self, call: CallRecord, in_flight: InFlight) {
        let span = tracing::info_span!("call_ended", call_id = %call.id, agent_id = %call.agent_id);
        let token = in_flight.token().to_owned();
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(250);
        let outcome = loop {
            match tracing::Instrument::instrument(
                self.process_and_send(&call, &token),
                span.clone(),
            )
            .await
            {
                Err(Failure::Unavailable) if started.elapsed() < UNAVAILABLE_FOR => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                outcome => break outcome,
            }
        };
        match outcome {
            // The recorder writes the event's end after its results, then frees the slot.
            Ok(Dispatched::Requests) => {
                let _ = self.sender.recorder.send(Record::EventDone(in_flight)).await;
            }
            Ok(Dispatched::Nothing) => {}
            Err(failure) => {
                let (kind, reason) = match failure {
                    Failure::Unavailable => {
                        ("database", "The database could not be reached.".to_owned())
                    }
                    Failure::Step(reason) => ("step", reason),
                };
                metrics::counter!("voicy_processing_failures_total", "cause" => kind).increment(1);
                let backoff = Duration::from_millis(500 << call.attempts.clamp(1, 6));
                let note = format!(
                    "Processing failed (attempt {} of {MAX_ATTEMPTS}): {reason}",
                    call.attempts
                );
                // Otherwise the lease was lost, or the store is away: the lease lapses and a sweep
                // takes over.
                if let Ok(Some(state)) =
                    self.store.fail_attempt(&call, &token, &note, MAX_ATTEMPTS, backoff).await
                {
                    tracing::warn!(parent: &span, %state, %reason, attempt = call.attempts, "processing failed")
                }
            }
        }
    }

    async fn process_and_send(
        &self, call: &CallRecord, token: &str,
    ) -> Result<Dispatched, Failure> {
        let not_deployed = call.kind == CallKind::Phone && call.agent_version.is_none();
        // Deployed versions are read once per process (`Store::call_config`), not once per call.
        let config = if not_deployed {
            Arc::new(CallConfig::default())
        } else {
            self.store.call_config(call).await?
        };
        let (webhooks, settings) = (&config.webhooks, &config.processing);
        // Summary and owner patterns over up to 512 KB of transcript: CPU work, kept off the
        // threads that serve requests and send webhooks.
        let (steps, input, run_config) = (self.steps.clone(), call.input.clone(), config.clone());
        let mut processed =
            tokio::task::spawn_blocking(move || steps.run(&input, &run_config.processing))
                .await
                .map_err(|e| {
                    Failure::Step(
                        AppError::internal(format!("processing stopped: {e}")).to_string(),
                    )
                })?
                .map_err(Failure::Step)?;
        processed.notifications =
            self.notify(call, processed.summary.as_deref(), &settings.notification_emails).await?;
        if not_deployed {
            processed
                .notes
                .push(ProcessingNote { step: "webhooks".into(), message: NOT_DEPLOYED.into() });
        }
        // Serialized once: these bytes are both what the Get Call API answers and what is sent.
        let body =
            serde_json::to_string(&call_view(call, Some(processed))).map_err(AppError::internal)?;
        if not_deployed || webhooks.is_empty() {
            let note = if not_deployed { NOT_DEPLOYED } else { NO_WEBHOOKS };
            self.store.skip_event(call, token, &body, note).await?;
            return Ok(Dispatched::Nothing);
        }
        let (records, headers) = self.requests(&config.webhooks, &body, &call.id);
        // Pauses are read by the start itself, for every call, never cached: a pause holds at
        // once on every instance.
        let (records, headers) = match self.store.begin_event(call, token, &body, &records).await? {
            EventStarted::Now { paused } => {
                metrics::counter!("voicy_events_started_total", "at" => "worker").increment(1);
                (mark_paused(records, &paused), headers)
            }
            EventStarted::Earlier(recorded) => {
                tracing::warn!(
                    "this claim had started the call already (its commit's reply was lost); sending the recorded requests"
                );
                as_recorded(records, headers, &recorded)
            }
            EventStarted::Lost => {
                tracing::warn!(
                    "this claim lost the call's lease (another claim took it over); sending nothing"
                );
                return Ok(Dispatched::Nothing);
            }
        };
        self.send(call, &records, &headers, body).await;
        Ok(Dispatched::Requests)
    }

    /// Processes a phone call at intake, before it is stored, on the caller's thread: only when
    /// nothing in its processing waits on the outside world (no e-mails), it has webhooks to
    /// send to, and its transcript is small enough to process in well under a millisecond.
    /// Anything else, or a step that fails, is left to the worker, which records why.
    pub fn prepare(&self, call: &CallRecord, config: &CallConfig) -> Option<Prepared> {
        let transcript: usize = call.input.transcript.iter().map(|turn| turn.text.len()).sum();
        if config.webhooks.is_empty()
            || !config.processing.notification_emails.is_empty()
            || transcript > PREPARED_TRANSCRIPT_BYTES
        {
            return None;
        }
        // A step that panics must not take the intake with it: the worker runs it again.
        let steps =
            std::panic::AssertUnwindSafe(|| self.steps.run(&call.input, &config.processing));
        let processed = std::panic::catch_unwind(steps).ok()?.ok()?;
        let body = serde_json::to_string(&call_view(call, Some(processed))).ok()?;
        let (records, headers) = self.requests(&config.webhooks, &body, &call.id);
        Some(Prepared { body, records, headers })
    }

    /// Sends a call whose event started with its insert, then has its end written.
    pub async fn run_started(
        &self, call: CallRecord, in_flight: InFlight, prepared: Prepared, paused: Vec<String>,
    ) {
        let span = tracing::info_span!("call_ended", call_id = %call.id, agent_id = %call.agent_id);
        metrics::counter!("voicy_events_started_total", "at" => "intake").increment(1);
        let records = mark_paused(prepared.records, &paused);
        let sending = self.send(&call, &records, &prepared.headers, prepared.body);
        tracing::Instrument::instrument(sending, span).await;
        let _ = self.sender.recorder.send(Record::EventDone(in_flight)).await;
    }

    /// One request per webhook; the real header values stay beside the records, which are what
    /// the store keeps.
    fn requests(
        &self, webhooks: &[StoredWebhook], body: &str, call_id: &str,
    ) -> (Vec<PendingDelivery>, Vec<Vec<(String, String)>>) {
        webhooks
            .iter()
            .cloned()
            .map(|webhook| {
                let (mut delivery, headers) = request::prepare(webhook, body.as_bytes(), call_id);
                delivery.due_unless_recorded = self.sender.hold_for(&delivery);
                (delivery, headers)
            })
            .unzip()
    }

    /// Sends the requests of a started event at once (not those recorded `paused`) and records
    /// each result.
    async fn send(
        &self, call: &CallRecord, records: &[PendingDelivery], headers: &[Vec<(String, String)>],
        body: String,
    ) {
        // The moment processing is done and the requests start (benchmarks measure from here).
        tracing::debug!(target: "voicy::dispatch", call_id = %call.id, "processing done");
        let body = Bytes::from(body);
        let sends = records.iter().zip(headers).filter(|(delivery, _)| !delivery.paused);
        join_all(sends.map(|(delivery, headers)| {
            // A webhook that retries starts a chain headed by this delivery.
            let chain = delivery.due_unless_recorded.map(|_| (delivery.id.as_str(), 1));
            self.sender.deliver_and_record(&call.agent_id, delivery, headers, body.clone(), chain)
        }))
        .await;
    }

    /// Notification e-mails, at most once per call and address: reserved in the store before
    /// they are sent, so a call processed again after a crash does not mail anyone twice.
    async fn notify(
        &self, call: &CallRecord, summary: Option<&str>, to: &[String],
    ) -> Result<Vec<NotificationView>, Failure> {
        let (earlier, mut fresh) = self.store.reserve_notifications(&call.id, to).await?;
        let mut sent = Vec::new();
        if !fresh.is_empty() {
            // Over the agent's hourly quota: the rest are recorded, not sent.
            let allowed = self.throttle.mails(&call.agent_id, fresh.len()).await?;
            let limit = self.throttle.limits().mails_per_agent_per_hour;
            sent.extend(fresh.split_off(allowed).into_iter().map(|to| NotificationView {
                to,
                status: NotificationStatus::Skipped,
                detail: Some(format!(
                    "Not sent: this agent's notification e-mails reached their limit of {limit} an hour (VOICY_MAILS_PER_AGENT_PER_HOUR)."
                )),
            }));
        }
        if !fresh.is_empty() {
            let agent = self.store.agent_name(&call.agent_id).await?;
            let mail = super::mail::call_ended(&agent, &call.input, summary);
            sent.extend(self.steps.notifier.notify(&mail, &fresh).await);
        }
        self.store.record_notifications(&call.id, &sent).await?;
        // In the order the settings list them.
        Ok(to
            .iter()
            .filter_map(|address| earlier.iter().chain(&sent).find(|n| &n.to == address).cloned())
            .collect())
    }
}

/// The deliveries to webhooks the owner has paused are recorded, not sent, and start no chain.
fn mark_paused(mut records: Vec<PendingDelivery>, paused: &[String]) -> Vec<PendingDelivery> {
    for delivery in &mut records {
        if paused.contains(&delivery.webhook.id) {
            delivery.paused = true;
            delivery.due_unless_recorded = None;
        }
    }
    records
}

/// The requests of a start whose first commit landed unseen, under the ids it recorded (by
/// webhook); one that was not recorded then is not sent.
fn as_recorded(
    records: Vec<PendingDelivery>, headers: Vec<Vec<(String, String)>>,
    recorded: &[(String, String)],
) -> (Vec<PendingDelivery>, Vec<Vec<(String, String)>>) {
    records
        .into_iter()
        .zip(headers)
        .filter_map(|(mut delivery, headers)| {
            let (_, id) = recorded.iter().find(|(webhook, _)| *webhook == delivery.webhook.id)?;
            delivery.id = id.clone();
            Some((delivery, headers))
        })
        .unzip()
}
