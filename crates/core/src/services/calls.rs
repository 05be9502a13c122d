//! Calls: receive a finished call, the Get Call API, the calls list, deliveries, and the
//! agent's post-call processing settings.

use crate::AppState;
use crate::OwnerRequest;
use crate::dispatcher::ReservedSlot;
use crate::domain::call::{CallInput, CallKind, parse_processing};
use crate::error::{AppError, FieldErrors};
use crate::services::api_keys::{self, KeyToConfirm};
use crate::store::CallRecord;
use crate::views::{
    CallDeliveries, CallPage, CallView, NewCall, NotificationView, ProcessingNote,
    ProcessingSettings,
};
use std::collections::BTreeMap;

const PAGE_SIZE: i64 = 20;

/// What post-call processing produced.
#[derive(Debug, Clone, Default)]
pub struct Processed {
    pub summary: Option<String>,
    pub variables: BTreeMap<String, Option<String>>,
    pub notifications: Vec<NotificationView>,
    pub notes: Vec<ProcessingNote>,
}

/// The Get Call JSON of a call: `completed` with what processing produced, or `processing`.
pub fn call_view(call: &CallRecord, processed: Option<Processed>) -> CallView {
    let input = &call.input;
    let duration = match (
        chrono::DateTime::parse_from_rfc3339(&input.started_at),
        chrono::DateTime::parse_from_rfc3339(&input.ended_at),
    ) {
        (Ok(start), Ok(end)) => (end - start).num_seconds(),
        _ => 0,
    };
    let status = crate::views::call_status(processed.is_some(), call.event.state);
    let processed = processed.unwrap_or_default();
    CallView {
        id: call.id.clone(),
        agent_id: call.agent_id.clone(),
        agent_version: call.agent_version,
        kind: call.kind,
        status: status.to_owned(),
        from_number: input.from_number.clone(),
        to_number: input.to_number.clone(),
        started_at: input.started_at.clone(),
        ended_at: input.ended_at.clone(),
        duration_seconds: duration,
        end_reason: input.end_reason.clone(),
        transcript: input.transcript.clone(),
        summary: processed.summary,
        variables: processed.variables,
        notifications: processed.notifications,
        processing_notes: processed.notes,
        metadata: input.metadata.clone(),
    }
}

/// Stores a finished call (durable before answering) and hands it to the dispatcher: claimed
/// for this instance's worker when it has a slot free, which then starts at once. A phone call
/// reads nothing first: the insert checks the agent is the owner's (and `key`, a key taken on
/// this instance's word, is still theirs) and reads its deployed version. A web call reads the
/// agent first, so that someone else's agent is a 404 before the owner's web-call quota is
/// counted; its key, and the key of any call answered other than 202, is confirmed first.
pub async fn create(
    request: &OwnerRequest, input: NewCall, key: Option<KeyToConfirm>,
) -> Result<String, AppError> {
    let agent_id = input.agent_id.clone();
    let parsed = CallInput::parse(input);
    let key = match (&parsed, key) {
        (Ok(call), Some(key)) if call.kind == CallKind::Phone => Some(key),
        (_, key) => {
            api_keys::confirm(request.store(), key).await?;
            None
        }
    };
    let call = match parsed {
        Ok(call) => call,
        Err(e) => {
            // Someone else's agent is a 404 whatever the call holds.
            request.agent(&agent_id).await?;
            return Err(e);
        }
    };
    if call.kind == CallKind::Web {
        request.agent(&agent_id).await?;
        request.state.throttle.web_call(request.owner().as_str()).await?;
    }
    let check_key = key.as_ref().map(|key| key.hash().to_owned());
    let stored = store(request, &agent_id, call, check_key).await;
    if stored.is_err() {
        // Refused by the insert for its key, or for its agent: the key tells which.
        api_keys::confirm(request.store(), key).await?;
    }
    stored
}

/// The write of `create`, with the key the insert checks if one is left to check.
async fn store(
    request: &OwnerRequest, agent_id: &str, call: CallInput, check_key: Option<String>,
) -> Result<String, AppError> {
    let (store, events) = (request.store(), request.state.events.clone());
    let mut incoming = store.incoming_call(request.owner(), agent_id, call.kind, call.raw)?;
    if let Some(hash) = check_key {
        incoming.check_key(hash);
    }
    let slot = events.reserve_slot();
    let claim = slot.as_ref().map(ReservedSlot::claim);
    // Processed now if it can be, to start its event with the insert.
    let (start, prepared) =
        slot.as_ref().and_then(|slot| slot.prepare(request.owner(), &mut incoming)).unzip();
    // Handed to its worker by the write's task, even if this request is gone by then.
    let on_stored = Box::new(move |stored| events.call_stored(stored, slot, prepared));
    store.insert_call(incoming, claim, start, on_stored).await
}

/// The Get Call JSON, exactly the bytes the `call_ended` event carried once processing is done.
pub async fn get_json(request: &OwnerRequest, call_id: &str) -> Result<String, AppError> {
    let call = request.store().call_for_owner(request.owner(), call_id).await?;
    match call.body {
        Some(body) => Ok(body),
        None => serde_json::to_string(&call_view(&call, None)).map_err(AppError::internal),
    }
}

/// A page of the agent's calls, newest first: the newest, or those older than `before` (the
/// `next_before` of the page before; an empty value is no cursor). A cursor that is not one of
/// this agent's calls is refused by name rather than answered with an empty page.
pub async fn list(
    request: &OwnerRequest, agent_id: &str, before: Option<&str>,
) -> Result<CallPage, AppError> {
    let agent = request.agent(agent_id).await?;
    let before = before.filter(|b| !b.is_empty());
    if let Some(before) = before
        && !request.store().is_call_of_agent(&agent, before).await?
    {
        return Err(FieldErrors::single(
            "before",
            "is not a call of this agent: pass the next_before of the page before, or leave it out for the newest calls",
        ));
    }
    let calls = request.store().calls_of_agent(&agent, before, PAGE_SIZE).await?;
    let next_before =
        (calls.len() as i64 == PAGE_SIZE).then(|| calls.last().map(|c| c.id.clone())).flatten();
    Ok(CallPage { calls, next_before })
}

/// The call and its deliveries, for the call's page.
pub async fn detail(
    request: &OwnerRequest, call_id: &str,
) -> Result<crate::views::CallDetail, AppError> {
    let call = request.store().call_for_owner(request.owner(), call_id).await?;
    let view = match &call.body {
        Some(body) => serde_json::from_str(body).map_err(AppError::internal)?,
        None => call_view(&call, None),
    };
    let erased_at = call.erased_at.clone();
    Ok(crate::views::CallDetail {
        call: view,
        deliveries: deliveries_of(&request.state, call).await?,
        erased_at,
    })
}

/// Erases the call's personal data now (see `store::erasure`): the transcript, numbers,
/// metadata, summary, variables and the receivers' answers. Once its event is done.
pub async fn erase(request: &OwnerRequest, call_id: &str) -> Result<(), AppError> {
    request.store().erase_call(request.owner(), call_id).await
}

pub async fn deliveries(request: &OwnerRequest, call_id: &str) -> Result<CallDeliveries, AppError> {
    deliveries_of(&request.state, request.store().call_for_owner(request.owner(), call_id).await?)
        .await
}

async fn deliveries_of(state: &AppState, call: CallRecord) -> Result<CallDeliveries, AppError> {
    let deliveries = state.store.deliveries_of_call(&call).await?;
    Ok(CallDeliveries { event: call.event, deliveries })
}

pub async fn processing(
    request: &OwnerRequest, agent_id: &str,
) -> Result<ProcessingSettings, AppError> {
    let agent = request.agent(agent_id).await?;
    agent.draft_processing_as_read()
}

pub async fn set_processing(
    request: &OwnerRequest, agent_id: &str, input: &ProcessingSettings,
) -> Result<ProcessingSettings, AppError> {
    let agent = request.agent(agent_id).await?;
    let settings = parse_processing(input)?;
    request.store().set_draft_processing(&agent, &settings).await?;
    Ok(settings)
}
