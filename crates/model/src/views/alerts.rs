//! Failure alerts and bulk replays, as the API and the dashboard show them.

use crate::states::ReplayState;
use serde::{Deserialize, Serialize};

/// An open incident: one of the owner's webhooks whose deliveries failed 5 times in a row (a
/// retry chain counts once, when it ends). It closes at the webhook's first success.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AlertView {
    pub id: String,
    pub agent_id: String,
    pub agent_name: String,
    pub webhook_id: String,
    pub webhook_name: String,
    /// When the run of failures began (RFC 3339).
    pub failing_since: String,
    /// Failed deliveries in a row when the incident opened.
    pub failures: i64,
    /// The error of the delivery that opened it.
    pub last_error: Option<String>,
    pub opened_at: String,
    /// How the alert e-mail to the owner went: `sent`, `skipped` (no mail server), `failed`.
    pub alert_mail: Option<String>,
}

/// `GET /api/v1/alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AlertList {
    pub alerts: Vec<AlertView>,
}

/// `POST …/webhooks/{id}/replays`: the window of calls (by when each was received) whose failed
/// deliveries to the webhook are sent again. RFC 3339 instants; `until` is excluded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewReplay {
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default)]
    pub since: String,
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default)]
    pub until: String,
}

/// A bulk replay and how far it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReplayView {
    pub id: String,
    pub agent_id: String,
    pub webhook_id: String,
    pub since: String,
    pub until: String,
    /// `running`, `done` or `cancelled`.
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub state: ReplayState,
    /// Calls to redeliver (one delivered meanwhile by other means is dropped from it).
    pub total: i64,
    /// Redeliveries made so far; `ok` of them answered 2xx, `failed` did not.
    pub sent: i64,
    pub ok: i64,
    pub failed: i64,
    pub created_at: String,
}
