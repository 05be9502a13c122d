//! What the owner sends by hand: a test event to one draft webhook, and the redelivery of one
//! past delivery. Both go out at once (the owner waits for the answer, at most the doc's 5
//! seconds), through the dispatcher's client, and are recorded in the deliveries log marked as
//! what they are. A redelivery is the owner's action, not a retry: the dispatcher never retries.

use crate::AppState;
use crate::OwnerRequest;
use crate::dispatcher::alerts::Observation;
use crate::dispatcher::retry_policy::ChainEnd;
use crate::error::AppError;
use crate::states::{CallKind, DeliveryOutcome};
use crate::store::{ManualDelivery, ManualKind, OwnedAgent, StoredWebhook, now};
use crate::views::{CallView, DeliveryView, ProcessingNote, Turn};
use std::collections::BTreeMap;

/// `POST /api/v1/agents/{id}/webhooks/{webhook_id}/test`: a sample call to one draft webhook,
/// with its stored secret and header values.
pub async fn send_test(
    request: &OwnerRequest, agent_id: &str, webhook_id: &str,
) -> Result<DeliveryView, AppError> {
    let agent = request.agent(agent_id).await?;
    let webhook = request
        .state
        .store
        .draft_webhooks(&agent)
        .await?
        .into_iter()
        .find(|w| w.id == webhook_id)
        .ok_or(AppError::NotFound)?;
    request.state.throttle.manual_send(request.owner().as_str()).await?;
    let sample = sample_call(&agent);
    let body = serde_json::to_string(&sample).map_err(AppError::internal)?;
    send_and_record(&request.state, agent, webhook, body, sample.id, None).await
}

/// `POST /api/v1/deliveries/{id}/redeliver`: the same body bytes to the same webhook as it was
/// in the config the call used, signed afresh, recorded as a new delivery linked to `id`.
pub async fn redeliver(
    request: &OwnerRequest, delivery_id: &str,
) -> Result<DeliveryView, AppError> {
    let (agent, original) =
        request.store().delivery_for_owner(request.owner(), delivery_id).await?;
    let Some(call_id) = original.call_id.clone() else {
        return Err(AppError::Conflict(
            "A test delivery cannot be redelivered. Send a new test from the webhook's row.".into(),
        ));
    };
    if original.outcome == DeliveryOutcome::Sending {
        return Err(AppError::Conflict(
            "This delivery is still under way. Redeliver it once it has ended.".into(),
        ));
    }
    let call = request.store().call_for_owner(request.owner(), &call_id).await?;
    if call.erased_at.is_some() {
        return Err(AppError::Conflict(
            "This call's data was deleted, so there is nothing to redeliver.".into(),
        ));
    }
    let Some(body) = call.body.clone() else {
        return Err(AppError::Conflict("This call has not been processed yet, so there is nothing to redeliver. Try again when its event is sent.".into()));
    };
    if !request.store().draft_webhooks(&agent).await?.iter().any(|w| w.id == original.webhook_id) {
        return Err(AppError::Conflict(format!(
            "The webhook “{}” has been deleted from this agent since, so it cannot be redelivered to.",
            original.webhook_name
        )));
    }
    // As it was in the config the call used: its deployed version, immutable; for a web call
    // the draft, which may have moved on: then only if it still points where the call went.
    let config = request.store().call_config(&call).await?;
    let webhook = config.webhooks.iter().find(|w| w.id == original.webhook_id && w.url == original.webhook_url).cloned().ok_or_else(|| {
        AppError::Conflict(format!(
            "The webhook “{}” no longer sends to {}, where this call went, so it cannot be redelivered. Make a new test call instead.",
            original.webhook_name, original.webhook_url
        ))
    })?;
    request.state.throttle.manual_send(request.owner().as_str()).await?;
    // The owner's redelivery ends the original's retry chain: no attempt follows it.
    let head = original.retry_of.as_deref().unwrap_or(&original.id);
    request.store().end_chain(head, ChainEnd::Redelivered.as_str()).await?;
    send_and_record(&request.state, agent, webhook, body, call.id, Some(original)).await
}

/// Sends and records in a task of its own: a client that hangs up (the request's future is
/// dropped) does not stop a request already on its way from being logged.
async fn send_and_record(
    state: &AppState, agent: OwnedAgent, webhook: StoredWebhook, body: String, event_id: String,
    original: Option<DeliveryView>,
) -> Result<DeliveryView, AppError> {
    let state = state.clone();
    tokio::spawn(async move {
        let started_at = now();
        let sent = state.sender.send_manual(&webhook, body, &event_id).await;
        tracing::info!(agent_id = agent.id(), webhook_id = %webhook.id, redelivery_of = ?original.as_ref().map(|o| &o.id),
            outcome = sent.result.outcome.as_str(), "manual delivery");
        if original.is_some() {
            // A redelivery counts for the webhook's alerts (a success ends an incident).
            let hook = (webhook.id.as_str(), webhook.name.as_str());
            if let Some(seen) = Observation::of(agent.id(), hook, &sent.result) {
                state.events.delivery_ended(seen);
            }
        }
        let kind = original.as_ref().map_or(ManualKind::Test, ManualKind::Redelivery);
        let delivery = ManualDelivery { webhook: &webhook, request_headers: sent.request_headers, result: sent.result, started_at };
        state.store.record_manual_delivery(&agent, kind, delivery).await
    })
    .await
    .map_err(|e| AppError::internal(format!("a manual delivery stopped: {e}")))?
}

/// A realistic finished call of `agent`, marked as a test in its metadata.
fn sample_call(agent: &OwnedAgent) -> CallView {
    let ended = chrono::Utc::now();
    let started = ended - chrono::Duration::seconds(94);
    let turn = |role: &str, text: &str, start_ms: u64| Turn {
        role: role.into(),
        text: text.into(),
        start_ms: Some(start_ms),
    };
    let transcript = vec![
        turn("agent", "Hello, thanks for calling Voicy Dental. How can I help you today?", 0),
        turn("user", "Hi, I'd like to book a cleaning next Tuesday morning.", 4200),
        turn("agent", "Tuesday at 9:30 is free. May I have your name and a phone number?", 9800),
        turn("user", "Sam Lee, 555-0142.", 15100),
        turn("agent", "You're booked for Tuesday at 9:30, Sam. Anything else?", 19700),
        turn("user", "No, that's all. Thanks!", 25400),
    ];
    CallView {
        id: format!("test_{}", uuid::Uuid::new_v4().simple()),
        agent_id: agent.id().to_owned(),
        agent_version: None,
        kind: CallKind::Web,
        status: "completed".into(),
        from_number: Some("+15555550142".into()),
        to_number: Some("+15555550100".into()),
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ended_at: ended.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        duration_seconds: 94,
        end_reason: Some("user_hangup".into()),
        transcript,
        summary: Some(
            "The caller booked a cleaning for Tuesday at 9:30 under the name Sam Lee.".into(),
        ),
        variables: BTreeMap::from([("customer_name".to_owned(), Some("Sam Lee".to_owned()))]),
        notifications: Vec::new(),
        processing_notes: vec![ProcessingNote {
            step: "test".into(),
            message: "A test event sent from the dashboard; no call took place.".into(),
        }],
        metadata: Some(serde_json::json!({ "test": true })),
    }
}
