//! Failure alerts, off the delivery path: every finished delivery (a retry chain once, when it
//! ends) is counted in the store by a task of its own; when one of them opens or closes an
//! incident, the owner's account e-mail gets one message ("failing", later "recovered").

use super::mail::Mail;
use super::post_call::Steps;
use crate::states::{DeliveryOutcome, NotificationStatus};
use crate::store::{DeliveryResult, IncidentChange, Store};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Failed deliveries in a row that open an incident.
pub const ALERT_AFTER: i64 = 5;
const BATCH: usize = 256;
/// Bounded: when counting falls behind, observations are dropped (and said so in the log)
/// rather than holding deliveries back.
const CAPACITY: usize = 8192;

/// A delivery that ended for good (not one about to be retried).
#[derive(Debug, Clone)]
pub struct Observation {
    pub agent_id: String,
    pub webhook_id: String,
    pub webhook_name: String,
    /// What went wrong; none for a success.
    pub failed: Option<String>,
}

impl Observation {
    /// `None` for a delivery that says nothing of the endpoint (paused: never sent).
    pub fn of(agent_id: &str, webhook: (&str, &str), result: &DeliveryResult) -> Option<Self> {
        let failed = match result.outcome {
            DeliveryOutcome::Paused | DeliveryOutcome::Sending => return None,
            DeliveryOutcome::Ok => None,
            _ => Some(result.error.clone().unwrap_or_else(|| match result.status_code {
                Some(code) => format!("The receiver answered HTTP {code}."),
                None => format!("The delivery ended as {}.", result.outcome),
            })),
        };
        Some(Self {
            agent_id: agent_id.to_owned(),
            webhook_id: webhook.0.to_owned(),
            webhook_name: webhook.1.to_owned(),
            failed,
        })
    }
}

/// Where finished deliveries are told, for alerts: the dispatcher's, the owner's redeliveries.
#[derive(Clone, Debug)]
pub struct Alerts(mpsc::Sender<Observation>);

impl Alerts {
    pub fn observe(&self, observation: Observation) {
        if self.0.try_send(observation).is_err() {
            tracing::warn!("alert counting is behind; a delivery was not counted");
        }
    }
}

/// Starts counting (on every instance, web ones included: the owner's redeliveries count too).
/// `public_url` makes the e-mails' links.
pub fn start(store: Store, steps: Arc<Steps>, public_url: Option<String>) -> Alerts {
    let (tx, mut rx) = mpsc::channel::<Observation>(CAPACITY);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        while rx.recv_many(&mut batch, BATCH).await > 0 {
            // Failures are logged by the store; a batch it cannot read is not counted.
            let Ok(failing) = store.failing_webhooks().await else {
                batch.clear();
                continue;
            };
            for seen in batch.drain(..) {
                let key = (seen.agent_id.clone(), seen.webhook_id.clone());
                if seen.failed.is_none() && !failing.contains(&key) {
                    continue; // a success of a webhook that was not failing: nothing to count
                }
                let webhook = (seen.webhook_id.as_str(), seen.webhook_name.as_str());
                let counted = store
                    .count_for_alerts(&seen.agent_id, webhook, seen.failed.as_deref(), ALERT_AFTER)
                    .await;
                if let Ok(change) = counted
                    && change != IncidentChange::None
                {
                    mail(&store, &steps, public_url.as_deref(), &seen, change).await;
                }
            }
        }
    });
    Alerts(tx)
}

/// The one message of an incident's opening or closing, to the owner's account e-mail.
async fn mail(
    store: &Store, steps: &Steps, public_url: Option<&str>, seen: &Observation,
    change: IncidentChange,
) {
    let Ok(Some(contact)) = store.alert_contact(&seen.agent_id).await else {
        return;
    };
    let link = match public_url {
        Some(base) => format!("{}/agents/{}/settings", base.trim_end_matches('/'), seen.agent_id),
        None => "the agent's Settings tab in the dashboard".to_owned(),
    };
    let (agent, name) = (&contact.agent_name, &seen.webhook_name);
    let (incident, recovered, message) = match change {
        IncidentChange::None => return,
        IncidentChange::Opened { id, failing_since, failures } => (
            id,
            false,
            Mail {
                subject: format!("Voicy: the webhook “{name}” of {agent} is failing"),
                body: format!(
                    "Deliveries to the webhook “{name}” of the agent {agent} have failed {failures} times in a row, since {failing_since}.\n\n\
                 Last error: {}\n\n\
                 Check that the endpoint is up and answers 2xx within 5 seconds. Once it is, send what it missed with Redeliver (or pause the webhook meanwhile): {link}\n\n\
                 This is the one message of this incident; you will get one more when the webhook recovers.\n",
                    seen.failed.as_deref().unwrap_or("unknown")
                ),
            },
        ),
        IncidentChange::Closed { id, failing_since, failures } => (
            id,
            true,
            Mail {
                subject: format!("Voicy: the webhook “{name}” of {agent} recovered"),
                body: format!(
                    "A delivery to the webhook “{name}” of the agent {agent} succeeded again, after at least {failures} failures in a row since {failing_since}.\n\n\
                 Calls that failed meanwhile can be sent again with Redeliver: {link}\n",
                ),
            },
        ),
    };
    let sent = steps.notifier.notify(&message, std::slice::from_ref(&contact.email)).await;
    let status = sent.first().map_or(NotificationStatus::Failed, |n| n.status);
    tracing::info!(agent_id = %seen.agent_id, webhook_id = %seen.webhook_id, recovered, mail = %status, "webhook alert");
    let _ = store.record_alert_mail(&incident, recovered, status).await;
}
