//! `AppError` as a REST response: `{"error":{"code","message","fields"?}}` with its status.
//! Internal errors were logged where they happened; the response says nothing about them.

use app::error::AppError;
use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut error = json!({ "code": self.0.code(), "message": self.0.to_string() });
        if let Some(fields) = self.0.fields() {
            error["fields"] = fields.iter().map(|(k, v)| (k.to_owned(), json!(v))).collect();
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        let retry_after = match self.0 {
            AppError::Unavailable => Some(5),
            AppError::TooManyAttempts(seconds) => Some(seconds),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
