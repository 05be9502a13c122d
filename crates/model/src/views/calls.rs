//! Calls, their processing settings, and webhook deliveries as they leave the server.

use crate::states::{CallKind, DeliveryKind, DeliveryOutcome, EventState, NotificationStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One turn of a transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Turn {
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default)]
    pub role: String,
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
}

/// `POST /api/v1/calls`: a finished call from the telephony layer (or the dashboard's test call).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default)]
    pub agent_id: String,
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub from_number: Option<String>,
    #[serde(default)]
    pub to_number: Option<String>,
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default)]
    pub started_at: String,
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default)]
    pub ended_at: String,
    #[serde(default)]
    pub end_reason: Option<String>,
    #[serde(default)]
    pub transcript: Vec<Turn>,
    #[serde(default)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub to: String,
    /// `sent`, `skipped` or `failed`.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub status: NotificationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ProcessingNote {
    pub step: String,
    pub message: String,
}

/// The Get Call API response, and — byte for byte — the body of the `call_ended` event.
/// Field order is the order of this struct; maps are sorted; so serializing is deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CallView {
    pub id: String,
    pub agent_id: String,
    pub agent_version: Option<i64>,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub kind: CallKind,
    pub status: String,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub started_at: String,
    pub ended_at: String,
    pub duration_seconds: i64,
    pub end_reason: Option<String>,
    pub transcript: Vec<Turn>,
    pub summary: Option<String>,
    pub variables: BTreeMap<String, Option<String>>,
    pub notifications: Vec<NotificationView>,
    /// Steps that failed or were skipped, and why (e.g. no deployed version for a phone call).
    pub processing_notes: Vec<ProcessingNote>,
    pub metadata: Option<Value>,
}

/// A call's `status` in the Get Call JSON and the calls list: `completed` once processing has
/// produced its body, `failed` when its event failed before that, else `processing`.
pub fn call_status(processed: bool, event_state: EventState) -> &'static str {
    match (processed, event_state) {
        (true, _) => "completed",
        (false, EventState::Failed) => "failed",
        (false, _) => "processing",
    }
}

/// A call in the list of an agent's calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CallSummaryView {
    pub id: String,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub kind: CallKind,
    pub status: String,
    pub agent_version: Option<i64>,
    pub received_at: String,
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub event: EventState,
    /// Webhooks the call's event was sent to (redeliveries not counted).
    pub sent: u32,
    /// Of those, how many took it (answered 2xx), by its event or by a later redelivery.
    pub delivered: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CallPage {
    pub calls: Vec<CallSummaryView>,
    /// The id to pass as `?before=` for the next (older) page; absent on the last page.
    pub next_before: Option<String>,
}

/// A header as it was sent, custom header values masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SentHeader {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: String,
    /// None for a test send (its body is a sample call).
    pub call_id: Option<String>,
    /// `event` (the call's `call_ended` event), `test`, `redelivery` or `retry`.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub kind: DeliveryKind,
    /// For a redelivery: the delivery it sent again.
    pub redelivery_of: Option<String>,
    pub webhook_id: String,
    pub webhook_name: String,
    pub webhook_url: String,
    pub config_version: Option<i64>,
    pub started_at: String,
    pub duration_ms: Option<i64>,
    /// `sending` (under way), `ok` (2xx), `http_status` (any other status), `timeout` (no
    /// complete answer within 5 s), `connect`, `dns`, `tls`, `blocked` (a private or reserved
    /// address), `interrupted` (the instance stopped while it was under way), or
    /// `in_flight_limit` (not sent: too many requests to this webhook were already waiting for an
    /// answer; see `VOICY_MAX_REQUESTS_PER_WEBHOOK`), or `paused` (not sent: the owner had paused
    /// the webhook). `error` says more for all but `ok`.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub outcome: DeliveryOutcome,
    pub status_code: Option<u16>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub request_headers: Vec<SentHeader>,
    /// 1 for a first try; 2, 3, … for its retries (`kind: retry`).
    pub attempt: i64,
    /// For a retry: the chain's first delivery.
    pub retry_of: Option<String>,
    /// On a chain's first delivery, while another attempt is due (RFC 3339).
    pub next_attempt_at: Option<String>,
    /// On a chain's first delivery, once it will not be tried again although it failed or was
    /// retried: `succeeded`, `not_retryable`, `gave_up`, `redelivered`, `webhook_removed`,
    /// `call_erased`.
    pub chain_end: Option<String>,
    /// For a redelivery made by a bulk replay: the replay.
    pub replay_id: Option<String>,
}

/// Where a call's `call_ended` event stands: `pending`, `processing`, `sending`, `sent` or `skipped`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EventView {
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub state: EventState,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CallDeliveries {
    pub event: EventView,
    pub deliveries: Vec<DeliveryView>,
}

/// A variable the agent extracts from each transcript: the first match of `pattern` (its first
/// capture group if it has one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VariableSpec {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub pattern: String,
}

/// `PUT /api/v1/agents/{id}/processing`: post-call processing settings of the draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProcessingSettings {
    #[serde(default)]
    pub variables: Vec<VariableSpec>,
    #[serde(default)]
    pub notification_emails: Vec<String>,
}

/// A call's page: the call and its event's deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CallDetail {
    pub call: CallView,
    pub deliveries: CallDeliveries,
    /// When the call's personal data was deleted (retention, or the owner), if it was.
    pub erased_at: Option<String>,
}

/// How a webhook's endpoint has been doing over its latest deliveries (at most
/// `HEALTH_WINDOW`): `status` is `healthy` (all succeeded), `degraded` (the latest succeeded,
/// some did not), `failing` (the latest failed) or `unknown` (no deliveries yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WebhookHealth {
    pub webhook_id: String,
    pub webhook_name: String,
    pub status: String,
    /// How many deliveries the figures are over.
    pub deliveries: usize,
    pub succeeded: usize,
    /// Whole percent of `deliveries` that succeeded; none without deliveries.
    pub success_rate: Option<u8>,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    pub last_failure: Option<LastFailure>,
}

/// The most recent failed delivery of a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LastFailure {
    pub at: String,
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub outcome: DeliveryOutcome,
    pub status_code: Option<u16>,
    pub error: Option<String>,
}

/// How many of a webhook's latest deliveries its health is computed over.
pub const HEALTH_WINDOW: usize = 50;

/// The deliveries log's filters, as `GET /api/v1/agents/{id}/deliveries` and the Deliveries page
/// take them from the address; each is optional, all given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// A status code (`404`) or a class (`2xx`, `4xx`, `5xx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// `next_before` of the page before: the deliveries older than that one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
}

/// One page of the deliveries log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    /// The id to pass as `?before=` for the next (older) page; absent on the last page.
    pub next_before: Option<String>,
}

/// One bucket (an hour, or a day) of a webhook's deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct StatsBucket {
    /// Where the bucket starts (RFC 3339, UTC).
    pub start: String,
    /// Deliveries that ended in it (paused ones, never sent, are not counted).
    pub deliveries: i64,
    pub succeeded: i64,
    /// Whole percent of `deliveries` that succeeded; none without deliveries.
    pub success_rate: Option<u8>,
    /// Latency of the requests that were sent, estimated from a histogram (log-spaced bins,
    /// interpolated within the bin); none without any.
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
}

/// `GET …/webhooks/{id}/stats?window=24h|30d`: hourly buckets over 24 hours, or daily over 30 days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WebhookStats {
    pub webhook_id: String,
    pub window: String,
    pub buckets: Vec<StatsBucket>,
}
