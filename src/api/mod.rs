//! The REST API under `/api/v1`. Handlers are thin: extract, call the shared service, render.
//!
//! Every route is registered through `utoipa_axum::routes!`, which reads the handler's
//! `#[utoipa::path]`: the OpenAPI document (`GET /api/v1/openapi.json`) is generated from the
//! handlers and their types, and a route cannot be added without being documented (a test below
//! keeps plain axum routing out of these modules).

mod accounts;
mod agents;
mod calls;
mod deliveries;
mod error;
pub(crate) mod extract;
mod operation_ids;
mod webhooks;

pub use error::{ApiError, ErrorBody};

use axum::{Json, Router, extract::State, http::StatusCode};
use std::sync::{Arc, OnceLock};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::{router::OpenApiRouter, routes};
use voicy_core::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Voicy Webhooks API",
        description = "Agents, their webhooks (the draft and its deployed versions), calls and the deliveries of their \
                       `call_ended` event. Authenticate with an API key (`Authorization: Bearer vk_…`, created under \
                       Account → API keys) or the dashboard's session cookie. Errors are `{\"error\":{\"code\",\"message\",\"fields\"?}}`."
    ),
    servers((url = "/api/v1")),
    modifiers(&Security),
    security(("api_key" = []), ("session" = [])),
    tags(
        (name = "accounts", description = "Sign-up, sign-in and API keys"),
        (name = "agents", description = "Agents of the calling owner"),
        (name = "webhooks", description = "The draft's webhooks, deploy, versions and restore"),
        (name = "calls", description = "Calls, the Get Call API and post-call processing settings"),
        (name = "deliveries", description = "The deliveries log, test sends, redeliveries and endpoint health"),
        (name = "reference", description = "This document"),
    )
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: Account → API keys."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("voicy_session"))),
        );
    }
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<ApiDoc as utoipa::OpenApi>::openapi())
        .merge(accounts::router())
        .merge(agents::router())
        .merge(webhooks::router())
        .merge(calls::router())
        .merge(deliveries::router())
        .routes(routes!(serve_openapi))
}

/// The OpenAPI document of the whole REST API (paths relative to `/api/v1`).
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut document = routes().split_for_parts().1;
        operation_ids::name_operations(&mut document);
        document
    })
}

/// The API's routes, to be nested at `/api/v1`.
pub fn router() -> Router<AppState> {
    routes()
        .split_for_parts()
        .0
        .fallback(|| async { ApiError(voicy_model::error::AppError::NotFound) })
        .method_not_allowed_fallback(|| async {
            ApiError(voicy_model::error::AppError::MethodNotAllowed)
        })
}

/// This document, as JSON. No authentication: it describes the API, it holds no data.
#[utoipa::path(get, path = "/openapi.json", tag = "reference", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn serve_openapi() -> Json<Arc<serde_json::Value>> {
    Json(openapi_json())
}

/// The document as JSON, built once.
pub fn openapi_json() -> Arc<serde_json::Value> {
    static JSON: OnceLock<Arc<serde_json::Value>> = OnceLock::new();
    JSON.get_or_init(|| {
        Arc::new(serde_json::to_value(openapi()).expect("an OpenAPI document always serializes"))
    })
    .clone()
}

/// `GET /healthz`: 200 when the database answers.
pub async fn healthz(State(state): State<AppState>) -> StatusCode {
    match state.store.ping().await {
        Ok(()) => StatusCode::OK,
        Err(e) => {
            tracing::error!(error = %e, "health check: the database does not answer");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[cfg(test)]
mod tests {
    /// Fields the API refuses to go without are `required` in the document, though the types
    /// default them (so that validation, not JSON decoding, names what is missing).
    #[test]
    fn the_document_marks_the_fields_the_api_requires() {
        let document = serde_json::to_value(super::openapi()).unwrap();
        let required = |schema: &str| -> Vec<String> {
            let list = &document["components"]["schemas"][schema]["required"];
            serde_json::from_value(list.clone()).unwrap_or_else(|_| panic!("{schema}: {list}"))
        };
        assert_eq!(required("NewWebhook"), ["name", "url"]);
        assert_eq!(required("HeaderInput"), ["name"]);
        assert_eq!(required("NewCall"), ["agent_id", "type", "started_at", "ended_at"]);
        assert_eq!(required("Turn"), ["role", "text"]);
        assert_eq!(required("Credentials"), ["email", "password"]);
        assert_eq!(required("NewAgent"), ["name"]);
    }

    /// Routes come only from `routes!`, so each has a `#[utoipa::path]`: no module registers one
    /// with plain axum routing, which the document would not know of.
    #[test]
    fn every_route_is_registered_through_the_openapi_router() {
        for (name, source) in [
            ("accounts", include_str!("accounts.rs")),
            ("agents", include_str!("agents.rs")),
            ("webhooks", include_str!("webhooks.rs")),
            ("calls", include_str!("calls.rs")),
            ("deliveries", include_str!("deliveries.rs")),
            ("mod", include_str!("mod.rs").split("#[cfg(test)]").next().unwrap()),
        ] {
            for forbidden in [".route(", "routing::", ".nest("] {
                assert!(
                    !source.contains(forbidden),
                    "src/api/{name}.rs registers a route past the OpenAPI router ({forbidden})"
                );
            }
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_and_every_operation_has_a_success_response_and_a_tag() {
        let doc = serde_json::to_value(super::openapi()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 20, "{} paths", paths.len());
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|s| s.starts_with('2')),
                    "{method} {path} has no success response"
                );
                assert!(
                    op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                    "{method} {path} has no tag"
                );
            }
        }
    }
}
