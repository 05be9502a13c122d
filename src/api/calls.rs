//! Calls (from the telephony layer), the Get Call API, deliveries, and processing settings.

use super::{
    ApiError, ErrorBody,
    error::{ApiResult, Invalid, NotFound, Unexpected},
    extract::{ApiJson, IntakeCaller, Owner, Path, Query},
};
use axum::{
    Json,
    http::{StatusCode, header::CONTENT_TYPE},
    response::IntoResponse,
};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use voicy_core::{AppState, services::api_keys, services::calls, services::delivery_log};
use voicy_model::views::{
    CallDeliveries, CallPage, CallView, DeliveryFilter, DeliveryPage, NewCall, ProcessingSettings,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_call))
        .routes(routes!(get_call, erase_call))
        .routes(routes!(list_call_deliveries))
        .routes(routes!(list_calls))
        .routes(routes!(list_agent_deliveries))
        .routes(routes!(get_processing, set_processing))
}

#[derive(Serialize, utoipa::ToSchema)]
struct CreatedCall {
    id: String,
}

/// Stores a finished call.
///
/// Answers 202 at once; processing and the `call_ended` event follow. Phone calls use the
/// deployed version, web (test) calls the draft.
#[utoipa::path(post, path = "/calls", tag = "calls", request_body = NewCall,
    responses((status = 202, description = "Stored; processing and delivery follow", body = CreatedCall), (status = 404, description = "No such agent", body = ErrorBody),
        (status = 413, description = "Over 2 MB", body = ErrorBody),
        (status = 429, description = "Too many web calls this minute (`VOICY_WEB_CALLS_PER_MINUTE`); `Retry-After` says when to try again. Phone calls are not limited", body = ErrorBody),
        Invalid, Unexpected))]
async fn create_call(
    IntakeCaller(request, key): IntakeCaller, call: Result<ApiJson<NewCall>, ApiError>,
) -> ApiResult<(StatusCode, Json<CreatedCall>)> {
    let call = match call {
        Ok(ApiJson(call)) => call,
        Err(e) => {
            // A body refused for a key revoked since is the key's 401.
            api_keys::confirm(request.store(), key).await?;
            return Err(e);
        }
    };
    let id = calls::create(&request, call, key).await?;
    Ok((StatusCode::ACCEPTED, Json(CreatedCall { id })))
}

/// The Get Call API: once processed, the stored bytes themselves, which equal the event's body exactly.
#[utoipa::path(get, path = "/calls/{call_id}", tag = "calls", params(("call_id" = String, Path)),
    responses((status = 200, description = "The call, as its webhooks receive it", body = CallView), NotFound, Unexpected))]
async fn get_call(
    Owner(request): Owner, Path(call_id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let body = calls::get_json(&request, &call_id).await?;
    Ok(([(CONTENT_TYPE, "application/json")], body))
}

/// Erases the call's personal data for good: the transcript, the numbers, the metadata, the
/// summary, the variables, and the receivers' answers in its deliveries log.
///
/// Ids, times, the end reason and the deliveries' outcomes and timings stay (health and charts
/// still add up), and the call is never sent again. Erasing an erased call changes nothing.
#[utoipa::path(delete, path = "/calls/{call_id}", tag = "calls", params(("call_id" = String, Path)),
    responses((status = 204, description = "Erased"), NotFound,
        (status = 409, description = "The call is still being processed or sent: try again in a few seconds", body = ErrorBody),
        Unexpected))]
async fn erase_call(Owner(request): Owner, Path(call_id): Path<String>) -> ApiResult<StatusCode> {
    calls::erase(&request, &call_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where the call's event stands and its deliveries (tests excluded; redeliveries included).
#[utoipa::path(get, path = "/calls/{call_id}/deliveries", tag = "deliveries", params(("call_id" = String, Path)),
    responses((status = 200, description = "The event's state and the call's deliveries", body = CallDeliveries), NotFound, Unexpected))]
async fn list_call_deliveries(
    Owner(request): Owner, Path(call_id): Path<String>,
) -> ApiResult<Json<CallDeliveries>> {
    Ok(Json(calls::deliveries(&request, &call_id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `next_before` of the page before: the calls after that one (422 when it is not one of
    /// this agent's calls).
    before: Option<String>,
}

/// The agent's calls, newest first, 20 a page.
#[utoipa::path(get, path = "/agents/{agent_id}/calls", tag = "calls", params(("agent_id" = String, Path), ListQuery),
    responses((status = 200, description = "One page of calls", body = CallPage), NotFound, Invalid, Unexpected))]
async fn list_calls(
    Owner(request): Owner, Path(agent_id): Path<String>, Query(query): Query<ListQuery>,
) -> ApiResult<Json<CallPage>> {
    Ok(Json(calls::list(&request, &agent_id, query.before.as_deref()).await?))
}

/// The deliveries log's filters: each optional, all given must hold; a bad one is a 422 naming it.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeliveriesQuery {
    /// Only this webhook's (any id the agent's webhooks had).
    webhook_id: Option<String>,
    /// One outcome: `ok`, `http_status`, `timeout`, `connect`, `dns`, `tls`, `blocked`,
    /// `in_flight_limit`, `interrupted`, `paused` or `sending`.
    outcome: Option<String>,
    /// A status code (`503`) or a class (`2xx`, `4xx`, `5xx`).
    status: Option<String>,
    /// `event`, `test`, `redelivery` or `retry`.
    kind: Option<String>,
    /// Started at or after this RFC 3339 instant.
    since: Option<String>,
    /// Started before this RFC 3339 instant.
    until: Option<String>,
    /// One call's deliveries.
    call_id: Option<String>,
    /// `next_before` of the page before: the deliveries older than that one.
    before: Option<String>,
}

/// The agent's deliveries log, newest first, 50 a page: events, retries, tests and redeliveries.
#[utoipa::path(get, path = "/agents/{agent_id}/deliveries", tag = "deliveries", params(("agent_id" = String, Path), DeliveriesQuery),
    responses((status = 200, description = "One page of deliveries, newest first", body = DeliveryPage), NotFound, Invalid, Unexpected))]
async fn list_agent_deliveries(
    Owner(request): Owner, Path(agent_id): Path<String>, Query(query): Query<DeliveriesQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    let DeliveriesQuery { webhook_id, outcome, status, kind, since, until, call_id, before } =
        query;
    let filter =
        DeliveryFilter { webhook_id, outcome, status, kind, since, until, call_id, before };
    Ok(Json(delivery_log::search(&request, &agent_id, &filter).await?))
}

/// The draft's post-call processing settings.
#[utoipa::path(get, path = "/agents/{agent_id}/processing", tag = "calls", params(("agent_id" = String, Path)),
    responses((status = 200, description = "The draft's processing settings", body = ProcessingSettings), NotFound, Unexpected))]
async fn get_processing(
    Owner(request): Owner, Path(agent_id): Path<String>,
) -> ApiResult<Json<ProcessingSettings>> {
    Ok(Json(calls::processing(&request, &agent_id).await?))
}

/// Replaces the draft's post-call processing settings (variables to extract, addresses to notify).
#[utoipa::path(put, path = "/agents/{agent_id}/processing", tag = "calls", params(("agent_id" = String, Path)), request_body = ProcessingSettings,
    responses((status = 200, description = "The draft's processing settings", body = ProcessingSettings), NotFound, Invalid, Unexpected))]
async fn set_processing(
    Owner(request): Owner, Path(agent_id): Path<String>,
    ApiJson(input): ApiJson<ProcessingSettings>,
) -> ApiResult<Json<ProcessingSettings>> {
    Ok(Json(calls::set_processing(&request, &agent_id, &input).await?))
}
