//! The REST API under `/api/v1`. Handlers are thin: extract, call the shared service, render.

mod accounts;
mod agents;
mod calls;
mod deliveries;
mod error;
mod extract;
mod webhooks;

pub use error::ApiError;

use app::server::AppState;
use axum::{Router, extract::State, http::StatusCode};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(accounts::router())
        .merge(agents::router())
        .merge(webhooks::router())
        .merge(calls::router())
        .merge(deliveries::router())
        .fallback(|| async { ApiError(app::error::AppError::NotFound) })
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
