//! The `call_ended` dispatcher. A stored call is processed (summary, variables, notifications),
//! its Get Call JSON serialized once, and POSTed to every webhook of its config at once.
//! Each call runs in its own task and each request in its own future, so a slow or dead
//! endpoint delays nothing else. Durable: see `Store::begin_event` and `Store::recover`.

mod client;
pub mod guard;
pub mod mail;
mod recorder;
pub mod request;
pub mod steps;

pub use client::{ClientError, WebhookClient};

use app::server::services::calls::{CallEvents, call_view};
use app::server::store::{CallRecord, PendingDelivery, Store};
use app::views::{ProcessingNote, ProcessingSettings};
use bytes::Bytes;
use futures::future::join_all;
use std::sync::Arc;
use tokio::sync::mpsc;

const NOT_DEPLOYED: &str =
    "No version of this agent was deployed when this phone call arrived, so no webhook was sent. Deploy the agent.";
const NO_WEBHOOKS: &str = "The agent's config has no webhooks.";

/// Hands stored calls to the dispatcher's worker.
#[derive(Debug)]
pub struct Dispatcher {
    queue: mpsc::UnboundedSender<String>,
}

impl CallEvents for Dispatcher {
    fn call_stored(&self, call_id: &str) {
        // Fails only when dispatching is off; the call stays `pending` for the next start.
        let _ = self.queue.send(call_id.to_owned());
    }
}

struct Worker {
    store: Store,
    client: WebhookClient,
    steps: steps::Steps,
    recorder: mpsc::UnboundedSender<recorder::Record>,
}

impl Dispatcher {
    /// Starts the worker (when `enabled`) and returns the handle that stored calls go to.
    pub fn start(store: Store, client: WebhookClient, steps: steps::Steps, enabled: bool) -> Arc<Self> {
        let (queue, mut calls) = mpsc::unbounded_channel::<String>();
        if enabled {
            let recorder = recorder::start(store.clone());
            let worker = Arc::new(Worker { store, client, steps, recorder });
            tokio::spawn(async move {
                while let Some(call_id) = calls.recv().await {
                    let worker = worker.clone();
                    tokio::spawn(async move { worker.run(&call_id).await });
                }
            });
        }
        Arc::new(Self { queue })
    }
}

impl Worker {
    async fn run(&self, call_id: &str) {
        let call = match self.store.claim_call(call_id).await {
            Ok(Some(call)) => call,
            Ok(None) => return, // claimed already (e.g. queued twice at start-up)
            Err(_) => return,   // logged where it happened; the call stays pending for the next start
        };
        let span = tracing::info_span!("call_ended", call_id, agent_id = %call.agent_id);
        let _ = tracing::Instrument::instrument(self.process_and_send(call), span).await;
    }

    async fn process_and_send(&self, call: CallRecord) -> Result<(), app::error::AppError> {
        let not_deployed = call.kind == "phone" && call.agent_version.is_none();
        let (webhooks, settings) =
            if not_deployed { (Vec::new(), ProcessingSettings::default()) } else { self.store.call_config(&call).await? };
        let mut processed = self.steps.run(&call.input, &settings).await;
        if not_deployed {
            processed.notes.push(ProcessingNote { step: "webhooks".into(), message: NOT_DEPLOYED.into() });
        }
        // Serialized once: these bytes are both what the Get Call API answers and what is sent.
        let body = serde_json::to_string(&call_view(&call, Some(processed))).map_err(app::error::AppError::internal)?;
        if not_deployed || webhooks.is_empty() {
            let note = if not_deployed { NOT_DEPLOYED } else { NO_WEBHOOKS };
            return self.store.skip_event(&call, &body, note).await;
        }
        // The real header values stay beside the records, which are what the store keeps.
        let (records, headers): (Vec<PendingDelivery>, Vec<Vec<(String, String)>>) = webhooks
            .into_iter()
            .map(|webhook| {
                let headers = request::headers(&webhook, body.as_bytes());
                let request_headers = request::masked(&webhook, &headers);
                (PendingDelivery { id: uuid::Uuid::new_v4().to_string(), webhook, request_headers }, headers)
            })
            .unzip();
        self.store.begin_event(&call, &body, &records).await?;
        // The moment processing is done and the requests start (benchmarks measure from here).
        tracing::debug!(target: "voicy::dispatch", call_id = %call.id, "processing done");

        let body = Bytes::from(body);
        join_all(records.iter().zip(&headers).map(|(delivery, headers)| {
            let body = body.clone();
            async move {
                let mut result = self.client.send(&delivery.webhook.url, headers, body).await;
                result.response_body = result.response_body.map(|text| request::redact(&delivery.webhook, &text));
                result.error = result.error.map(|text| request::redact(&delivery.webhook, &text));
                tracing::info!(webhook = %delivery.webhook.name, outcome = result.outcome, status = ?result.status_code,
                    duration_ms = result.duration_ms, "webhook delivery");
                let _ = self.recorder.send(recorder::Record::Delivery(delivery.id.clone(), result));
            }
        }))
        .await;
        let _ = self.recorder.send(recorder::Record::EventDone(call.id.clone()));
        Ok(())
    }
}

/// At start-up: settles events interrupted by the last stop and queues the unsent ones.
pub async fn recover(store: &Store, dispatcher: &Dispatcher) -> Result<(), app::error::AppError> {
    for call_id in store.recover().await? {
        dispatcher.call_stored(&call_id);
    }
    Ok(())
}
