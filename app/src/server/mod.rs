//! Where the dashboard's server functions meet the core: the request's state and caller, taken
//! from the Leptos context the server provides, and the page-cache and form helpers that only
//! the server-function side knows.

pub mod page_reads;

use voicy_core::auth;
use voicy_core::{AgentMemo, AppState, OwnerRequest};
use voicy_model::error::AppError;

/// What every server-function call gets in its context, per request: the app state and a fresh
/// memo of the agents it reads. The server's page and server-function handlers and the page
/// cache's re-reads (`voicy::page_cache`) all start from this.
pub fn provide_request_context(state: &AppState) {
    leptos::prelude::provide_context(state.clone());
    leptos::prelude::provide_context(AgentMemo::default());
}

/// For server functions: the signed-in owner's request, or `Unauthenticated`.
pub async fn request_owner() -> Result<OwnerRequest, AppError> {
    let (state, session) = request_state().await?;
    let owner = auth::session_owner(&session).await?.ok_or(AppError::Unauthenticated)?;
    // Every server function of one render shares the request's memo (one agent read a page).
    let agents = leptos::prelude::use_context::<AgentMemo>().unwrap_or_default();
    Ok(OwnerRequest::sharing(state, owner, agents))
}

/// The client's address (behind trusted proxies, the one they forward), for the throttles.
pub async fn client_address() -> Option<voicy_core::auth::ClientAddress> {
    leptos_axum::extract::<axum::Extension<voicy_core::auth::ClientAddress>>()
        .await
        .ok()
        .map(|axum::Extension(client)| client)
}

/// For server functions that work without a signed-in owner (sign-in, sign-up).
pub async fn request_state() -> Result<(AppState, tower_sessions::Session), AppError> {
    page_reads::reaching_for_state();
    let state = leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        AppError::internal("AppState is missing from the server-function context")
    })?;
    let session: tower_sessions::Session =
        leptos_axum::extract().await.map_err(AppError::internal)?;
    Ok((state, session))
}
