//! Server functions (`/rpc/…`) held to the REST API's rules, which the `#[server]` macro cannot
//! express: a body over 2 MB is 413, an argument the function does not take is 422 naming it
//! (never dropped silently), and a typed error travels with its own status (422, 401, 429…)
//! instead of the 500 Leptos gives every error. A plain HTML form post (no JavaScript) is left
//! to Leptos, which answers it with a redirect back to the form.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use voicy_model::error::{AppError, FieldErrors};

/// The largest server-function body, as for the REST API.
const MAX_BODY: usize = 2 * 1024 * 1024;
/// The whole body must arrive within this (a body timeout per frame alone lets a client send a
/// byte every so often for ever).
const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);
/// Error bodies are a few hundred bytes; anything bigger is not one of ours.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn hold_to_api_rules(request: Request, next: Next) -> Response {
    let Some(names) = app::server_fn_arguments::argument_names().get(request.uri().path()).copied()
    else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(BODY_DEADLINE, to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(err)) if is_too_large(&err) => return error(AppError::TooLarge),
        Ok(Err(_)) | Err(_) => {
            return error(AppError::Malformed("The request body did not arrive in full.".into()));
        }
    };
    // Whatever the Content-Type says: the decoders of form-encoded functions read a form from any
    // body, so the check reads the arguments the same way they will be read.
    let form = |bytes: &[u8]| {
        // The form decoder puts U+FFFD in place of bytes that are not UTF-8, and that would be stored.
        if form_is_utf8(bytes) {
            Ok(form_keys(bytes))
        } else {
            Err(AppError::Malformed("The form is not UTF-8 text.".into()))
        }
    };
    let keys = if parts.method == Method::GET {
        form(parts.uri.query().unwrap_or_default().as_bytes())
    } else {
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes) {
            Ok(object) => Ok(object.keys().cloned().collect()),
            Err(_) => form(&bytes),
        }
    };
    let keys: Vec<String> = match keys {
        Ok(keys) => keys,
        Err(e) => return error(e),
    };
    let mut unknown = FieldErrors::new();
    for key in keys.iter().filter(|k| !names.contains(&k.as_str())) {
        // A name that is not an identifier may be anything the caller sent (a secret pasted as
        // a body of the wrong kind): it is not echoed.
        if is_identifier(key) {
            unknown.add(
                key.clone(),
                "This field is not an argument of this action; remove it or check its spelling.",
            );
        } else {
            unknown
                .add("body", "The body is not a form or JSON object of this action's arguments.");
        }
    }
    if !unknown.is_empty() {
        return error(AppError::Validation(unknown));
    }
    let plain_form = accepts_html(&parts.headers);
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if plain_form || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    with_status_of_its_error(response).await
}

/// A server function's error response with the status its `AppError` maps to.
async fn with_status_of_its_error(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(seconds) = err.retry_after() {
            parts.headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// An error as server functions encode theirs (JSON of `AppError`), with its status.
fn error(err: AppError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(&err).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Top-level names of a URL-encoded form or query; `input[name]` counts as `input`.
fn form_keys(bytes: &[u8]) -> Vec<String> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, _)| k.split('[').next().unwrap_or_default().to_owned())
        .collect()
}

/// Whether every name and value of an `application/x-www-form-urlencoded` text decodes to UTF-8.
fn form_is_utf8(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'&' || b == b'=')
        .all(|part| percent_encoding::percent_decode(part).decode_utf8().is_ok())
}

fn is_identifier(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether reading a body failed because it was over the limit given (rather than broken off).
pub(crate) fn is_too_large(err: &axum::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

fn accepts_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}
