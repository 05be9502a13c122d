//! The one error type of the product, shared by the REST API, the server functions and the
//! dashboard. Each variant maps to exactly one HTTP status and one stable `code`; the REST layer
//! renders it as `{"error":{"code","message","fields"}}` and the dashboard shows `message` (and
//! `fields` beside the inputs they name).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Field name (e.g. `"url"`, `"headers[1].name"`) → what is wrong with it and how to fix it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// Records the error of a parse, if any, and hands back the parsed value.
    pub fn take<T>(&mut self, field: impl Into<String>, parsed: Result<T, String>) -> Option<T> {
        parsed.map_err(|message| self.add(field, message)).ok()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `Ok(())` when nothing was recorded, else the 422 error carrying every field's message.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() { Ok(()) } else { Err(AppError::Validation(self)) }
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> AppError {
        let mut errors = Self::new();
        errors.add(field, message);
        AppError::Validation(errors)
    }
}

/// Everything that can go wrong in a request, as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The body is not well-formed JSON, or not the shape the route takes. HTTP 400.
    #[error("The request body is not valid: {0}")]
    Malformed(String),
    /// The body is larger than the API takes. HTTP 413.
    #[error(
        "The request body is too large (at most 2 MB). Send a shorter transcript or fewer fields."
    )]
    TooLarge,
    /// A body over 16 KB from a client that has not signed in (sign-in and sign-up take a few
    /// hundred bytes); refused before more of it is read. HTTP 413.
    #[error(
        "The request body is too large for a client that is not signed in (at most 16 KB). Sign in first, or send less."
    )]
    TooLargeUnauthenticated,
    /// No session and no API key. HTTP 401.
    #[error("Sign in to continue.")]
    Unauthenticated,
    /// An `Authorization: Bearer` key that is not one of ours, or was revoked. HTTP 401.
    #[error(
        "This API key is not valid: it was revoked, or it is mistyped. Create a new one under Account → API keys."
    )]
    InvalidApiKey,
    /// A method the address does not take (the `Allow` header lists those it does). HTTP 405.
    #[error(
        "This address does not take that method. The API reference at /docs/api lists what each address takes."
    )]
    MethodNotAllowed,
    /// Wrong email or wrong password: deliberately the same message for both. HTTP 401.
    #[error("That email and password do not match an account. Check both and try again.")]
    InvalidCredentials,
    /// Too many sign-in attempts for this account or from this address; the number is the
    /// seconds to wait. HTTP 429 with `Retry-After`.
    #[error("Too many sign-in attempts. Wait {0} seconds, then try again.")]
    TooManyAttempts(u64),
    /// A state-changing request sent from another site with this site's cookie. HTTP 403.
    #[error(
        "This request came from another site and was refused. Use Voicy's own pages, or an API key."
    )]
    CrossSite,
    /// The thing does not exist, or belongs to another owner; the two are indistinguishable. 404.
    #[error("Not found. It may have been deleted, or the link is wrong.")]
    NotFound,
    /// Sign-up with an email that already has an account. HTTP 409.
    #[error("An account with this email already exists. Sign in instead.")]
    EmailTaken,
    /// Adding a webhook to an agent that already has the maximum. HTTP 409.
    #[error("This agent already has 5 webhooks, the most allowed. Delete one to add another.")]
    WebhookLimitReached,
    /// The request cannot be done in the state things are in; the message says why and what to
    /// do. HTTP 409.
    #[error("{0}")]
    Conflict(String),
    /// Too many test sends and redeliveries in a minute. HTTP 429 with `Retry-After` (seconds).
    #[error("Too many test sends and redeliveries. Wait {0} seconds, then try again.")]
    TooManySends(u64),
    /// Too many accounts created from this client address in an hour. HTTP 429 with
    /// `Retry-After` (seconds).
    #[error("Too many accounts were created from this address. Wait {0} seconds, then try again.")]
    TooManySignUps(u64),
    /// Too many web (test) calls of this owner in a minute. HTTP 429 with `Retry-After`
    /// (seconds). Phone calls are not limited.
    #[error("Too many web calls this minute. Wait {0} seconds, then try again.")]
    TooManyWebCalls(u64),
    /// Input failed validation; each field says what to change. HTTP 422.
    #[error("Some fields need attention: {}", summary(.0))]
    Validation(FieldErrors),
    /// The database cannot be reached right now (restarting, failing over). HTTP 503 with
    /// `Retry-After`; the request changed nothing.
    #[error(
        "The service is briefly unavailable and nothing was saved. Try again in a few seconds."
    )]
    Unavailable,
    /// A fault on our side. HTTP 500; the detail is logged once where it happened, never sent.
    #[error("Something went wrong on our side. Try again in a moment.")]
    Internal,
    /// The browser could not complete a server-function call (network, decoding).
    #[error("Could not reach Voicy. Check your connection, then try again.")]
    Transport(String),
}

fn summary(fields: &FieldErrors) -> String {
    fields.iter().map(|(_, message)| message).collect::<Vec<_>>().join(" ")
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            Self::TooLarge | Self::TooLargeUnauthenticated => 413,
            Self::Unauthenticated | Self::InvalidCredentials | Self::InvalidApiKey => 401,
            Self::MethodNotAllowed => 405,
            Self::CrossSite => 403,
            Self::TooManyAttempts(_)
            | Self::TooManySends(_)
            | Self::TooManySignUps(_)
            | Self::TooManyWebCalls(_) => 429,
            Self::NotFound => 404,
            Self::EmailTaken | Self::WebhookLimitReached | Self::Conflict(_) => 409,
            Self::Validation(_) => 422,
            Self::Unavailable => 503,
            Self::Internal | Self::Transport(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_request",
            Self::TooLarge | Self::TooLargeUnauthenticated => "payload_too_large",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidApiKey => "invalid_api_key",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvalidCredentials => "invalid_credentials",
            Self::CrossSite => "cross_site_request",
            Self::TooManyAttempts(_) => "too_many_attempts",
            Self::NotFound => "not_found",
            Self::EmailTaken => "email_taken",
            Self::WebhookLimitReached => "webhook_limit_reached",
            Self::Conflict(_) => "conflict",
            Self::TooManySends(_) | Self::TooManySignUps(_) | Self::TooManyWebCalls(_) => {
                "too_many_requests"
            }
            Self::Validation(_) => "validation_failed",
            Self::Unavailable => "unavailable",
            Self::Internal | Self::Transport(_) => "internal",
        }
    }

    /// Seconds a client should wait before trying again, for the `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Unavailable => Some(5),
            Self::TooManyAttempts(seconds)
            | Self::TooManySends(seconds)
            | Self::TooManySignUps(seconds)
            | Self::TooManyWebCalls(seconds) => Some(*seconds),
            _ => None,
        }
    }

    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            Self::Validation(fields) => Some(fields),
            _ => None,
        }
    }

    /// The message for one field, if this is a validation error that names it.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields().and_then(|f| f.get(name)).map(str::to_owned)
    }

    /// Logs an unexpected fault with its detail (the one place it is logged) and returns the
    /// opaque 500.
    #[cfg(feature = "server")]
    #[track_caller]
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let at = std::panic::Location::caller();
        tracing::error!(%detail, %at, "internal error");
        Self::Internal
    }
}

#[cfg(feature = "server")]
impl From<sqlx::Error> for AppError {
    #[track_caller]
    fn from(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            tracing::warn!(%err, "the database is unavailable");
            return Self::Unavailable;
        }
        Self::internal(err)
    }
}

/// Whether `err` says the database cannot be reached (as opposed to a query that is wrong).
#[cfg(feature = "server")]
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now (starting or stopping).
        sqlx::Error::Database(e) => {
            matches!(e.code().as_deref(), Some("57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}

/// serde's name for what it expected, as a person writing JSON would say it.
fn in_plain_words(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a sequence" => "a list ([…])".to_owned(),
        "a map" => "an object ({…})".to_owned(),
        other if other.starts_with("struct ") => "an object ({…})".to_owned(),
        other => other.to_owned(),
    }
}

/// A decoding error's text without the input it quotes (serde writes e.g. `invalid type: string
/// "whsec_…", expected a boolean`, or ``unknown variant `whsec_…` ``), which could be a secret
/// the caller typed into the wrong field.
pub fn without_quoted_input(message: &str) -> String {
    if let Some(start) = message.find("unknown variant `") {
        let rest = &message[start + "unknown variant `".len()..];
        let after = rest.find("`, ").map_or("", |end| &rest[end + 3..]);
        let after = after.split(" at line").next().unwrap_or(after);
        return format!("{}unknown value, {after}", &message[..start]);
    }
    match (
        message.find("invalid type:").or_else(|| message.find("invalid value:")),
        message.rfind("expected "),
    ) {
        (Some(start), Some(expected)) if expected > start => {
            let rest = &message[expected + "expected ".len()..];
            let end = rest.find(" at line").unwrap_or(rest.len());
            format!(
                "{}wrong type or value: expected {}",
                &message[..start],
                in_plain_words(&rest[..end])
            )
        }
        _ => message.to_owned(),
    }
}

#[cfg(feature = "leptos")]
impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = crate::codec::JsonText;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // Arguments that do not decode are the caller's fault, like malformed JSON.
            E::Args(m) | E::MissingArg(m) => Self::Malformed(without_quoted_input(&m)),
            // On the server, what fails to deserialize is the caller's arguments.
            #[cfg(feature = "server")]
            E::Deserialization(m) => Self::Malformed(without_quoted_input(&m)),
            other => Self::Transport(without_quoted_input(&other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_quoted_input;

    #[test]
    fn what_was_sent_is_not_quoted_and_what_was_expected_is_in_plain_words() {
        let cases = [
            (
                "transcript[0].start_ms: invalid value: integer `-5`, expected u64 at line 1 column 9",
                "transcript[0].start_ms: wrong type or value: expected a whole number, 0 or more",
            ),
            (
                "headers: invalid type: string \"sk_live_1\", expected a sequence at line 1 column 30",
                "headers: wrong type or value: expected a list ([…])",
            ),
            (
                "input: invalid type: integer `5`, expected struct NewWebhook",
                "input: wrong type or value: expected an object ({…})",
            ),
            (
                "name: invalid type: integer `5`, expected a string",
                "name: wrong type or value: expected a string",
            ),
        ];
        for (serde, ours) in cases {
            assert_eq!(without_quoted_input(serde), ours);
            assert!(!ours.contains("sk_live"));
        }
    }
}
