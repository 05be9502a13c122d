//! Bodies from clients that have not signed in are capped at 16 KB before more is read: sign-in
//! and sign-up take a few hundred bytes, and without a cap anyone could have 2 MB per connection
//! held in memory (4,096 connections of that is 8 GiB). Signed-in sessions keep the 2 MB limit;
//! so do REST requests with an API key, whose key the `Owner` extractor checks before the body
//! is read.

use crate::api::{ApiError, extract::bearer_key};
use crate::server_fn_rules::is_too_large;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, header::CONTENT_LENGTH};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;
use voicy_model::error::AppError;

/// The most an unauthenticated request may carry.
pub const MAX_ANONYMOUS_BODY: usize = 16 * 1024;

pub async fn cap(session: Session, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let path = request.uri().path();
    let with_key = path.starts_with("/api/")
        && !path.contains("/auth/")
        && bearer_key(request.headers()).is_some();
    if with_key {
        return next.run(request).await;
    }
    match voicy_core::auth::session_owner(&session).await {
        Ok(Some(_)) => return next.run(request).await,
        Ok(None) => {}
        Err(e) => return ApiError(e).into_response(),
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_ANONYMOUS_BODY as u64) {
        return refuse();
    }
    let (parts, body) = request.into_parts();
    match to_bytes(body, MAX_ANONYMOUS_BODY).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(e) if is_too_large(&e) => refuse(),
        Err(_) => ApiError(AppError::Malformed("The request body did not arrive in full.".into()))
            .into_response(),
    }
}

/// 413, closing the connection: what is left of the body is never read.
fn refuse() -> Response {
    let mut response = ApiError(AppError::TooLargeUnauthenticated).into_response();
    response
        .headers_mut()
        .insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    response
}
