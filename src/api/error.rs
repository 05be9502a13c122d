//! `AppError` as a REST response: `{"error":{"code","message","fields"?}}` with its status.
//! Internal errors were logged where they happened; the response says nothing about them.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::openapi::{self, RefOr};
use voicy_model::error::AppError;

#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

/// Every error response of the API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `validation_failed`, `not_found`, `unauthenticated`, `conflict`, …
    pub code: String,
    /// For people: what went wrong and what to do next.
    pub message: String,
    /// With `validation_failed`: field (e.g. `url`, `headers[1].name`) → what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.0.code().to_owned(),
                message: self.0.to_string(),
                fields: self
                    .0
                    .fields()
                    .map(|f| f.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()),
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.0.retry_after() {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A 201 with the created thing as JSON.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, Json(self.0)).into_response()
    }
}

/// The error answers most operations share, documented once, each with the description OpenAPI
/// 3.1 requires of every response: listed in an operation's `responses(...)` after its own.
macro_rules! shared_error_response {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
                error_response($status, $description)
            }
        }
    };
}

shared_error_response!(
    /// 404: the resource does not exist, or is another owner's (the two are not told apart).
    NotFound,
    "404",
    "No such resource among the caller's"
);
shared_error_response!(
    /// 422: the input was read but is not valid.
    Invalid,
    "422",
    "Invalid input: `fields` names each invalid field and what is wrong with it"
);
shared_error_response!(
    /// Every other error (401, 403, 413, 429, 500, 503…), in the same shape.
    Unexpected,
    "default",
    "Any other error, in the same shape: `code` for programs, `message` for people"
);

fn error_response(status: &str, description: &str) -> BTreeMap<String, RefOr<openapi::Response>> {
    let body = openapi::ContentBuilder::new()
        .schema(Some(openapi::Ref::from_schema_name("ErrorBody")))
        .build();
    let response =
        openapi::ResponseBuilder::new().description(description).content("application/json", body);
    BTreeMap::from([(status.to_owned(), RefOr::T(response.build()))])
}
