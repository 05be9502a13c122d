//! Extractors: who is calling (`Owner`), and a JSON body, path parameters and a query whose
//! rejections use our error shape (axum's own answer in plain text).

use super::ApiError;
use axum::{
    extract::{FromRequest, FromRequestParts, Request, rejection::JsonRejection},
    http::{header::AUTHORIZATION, request::Parts},
};
use serde::de::DeserializeOwned;
use tower_sessions::Session;
use voicy_core::{AppState, OwnerRequest, auth, services::api_keys};
use voicy_model::error::AppError;

/// The authenticated owner: from `Authorization: Bearer <key>` if present, else the session
/// cookie. Rejects with 401 before the handler does any work. An `Authorization` header of
/// another scheme (a proxy's `Basic`, say) is not ours and is ignored. A REST request shares
/// nothing with another, so its caller starts with an empty memo.
pub struct Owner(pub OwnerRequest);

impl FromRequestParts<AppState> for Owner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(key) = bearer_key(&parts.headers) {
            let owner = api_keys::authenticate(&state.store, key).await?;
            return Ok(Self(OwnerRequest::new(state.clone(), owner)));
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, m)| AppError::internal(m))?;
        let owner = auth::session_owner(&session).await?.ok_or(AppError::Unauthenticated)?;
        Ok(Self(OwnerRequest::new(state.clone(), owner)))
    }
}

/// The caller of `POST /api/v1/calls`: as `Owner`, except that a key this instance read as
/// valid within the last minute is not read again but left for the call's insert to check
/// (`KeyToConfirm`), which the handler must confirm before any other answer.
pub struct IntakeCaller(pub OwnerRequest, pub Option<api_keys::KeyToConfirm>);

impl FromRequestParts<AppState> for IntakeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(key) = bearer_key(&parts.headers) {
            let (owner, key) = api_keys::authenticate_for_intake(&state.store, key).await?;
            return Ok(Self(OwnerRequest::new(state.clone(), owner), key));
        }
        let Owner(request) = Owner::from_request_parts(parts, state).await?;
        Ok(Self(request, None))
    }
}

/// The key of an `Authorization: Bearer <key>` header; the scheme's name in any case (RFC 9110
/// section 11.1).
pub fn bearer_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim_start();
    // `Bearer` alone (an empty key, its space trimmed on the way) is a key too: a wrong one.
    let (scheme, key) = value.split_once(' ').unwrap_or((value, ""));
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

/// `axum::Json`, but malformed JSON is our 400 and a body of the wrong shape our 422.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(AppError::Malformed(
                "Expected request with `Content-Type: application/json`".to_owned(),
            )
            .into());
        }
        let body =
            axum::body::Bytes::from_request(req, state).await.map_err(|e| match e.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
                _ => AppError::Malformed(e.body_text()),
            })?;
        // serde reads a struct from an array too, field by field in order: `["name"]` would
        // create an agent. Every body the API takes is an object with its fields named.
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(voicy_model::error::FieldErrors::single(
                "body",
                "must be a JSON object with its fields named ({\"name\": …}), not an array",
            )
            .into());
        }
        match axum::Json::<T>::from_bytes(&body) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonDataError(e)) => Err(AppError::Validation(fields_for(
                &voicy_model::error::without_quoted_input(&e.body_text()),
            ))
            .into()),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::TooLarge.into())
            }
            Err(e) => {
                Err(AppError::Malformed(voicy_model::error::without_quoted_input(&e.body_text()))
                    .into())
            }
        }
    }
}

/// `axum::extract::Path`, but a parameter that cannot be what the route takes (`abc` for a
/// version number, bytes that are not UTF-8) names nothing there: our 404.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(axum::extract::rejection::PathRejection::FailedToDeserializePathParams(_)) => {
                Err(AppError::NotFound.into())
            }
            Err(e) => Err(AppError::internal(e.body_text()).into()),
        }
    }
}

/// `axum::extract::Query`, but a query string that cannot be read is our 400.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(e) => {
                Err(AppError::Malformed(voicy_model::error::without_quoted_input(&e.body_text()))
                    .into())
            }
        }
    }
}

/// Whether the request says its body is JSON (`application/json`, or a `+json` type).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// serde says e.g. "…: name: invalid type: integer `5`, expected a string at line 1 column 9",
/// or, for a field the API does not know, "…: headers[0]: unknown field `valu`, expected …".
fn fields_for(message: &str) -> voicy_model::error::FieldErrors {
    let detail = message.split_once(": ").map_or(message, |(_, rest)| rest);
    let (path, reason) = detail.split_once(": ").unwrap_or((".", detail));
    let mut fields = voicy_model::error::FieldErrors::new();
    if let Some(name) = reason
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name)
    {
        // Rejected, not ignored: a misspelt setting must not be silently dropped.
        // The path usually ends with the unknown field already (`headers[0].valu`).
        let field = if path == "." {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path.to_owned()
        } else {
            format!("{path}.{name}")
        };
        let expected =
            reason.split_once(", expected ").map(|(_, e)| e.split(" at line").next().unwrap_or(e));
        let hint = expected.map(|e| format!(" (expected {e})")).unwrap_or_default();
        fields.add(
            field,
            format!("This field is not part of the API; remove it or check its spelling{hint}."),
        );
        return fields;
    }
    fields.add(if path == "." { "body" } else { path }, reason);
    fields
}
