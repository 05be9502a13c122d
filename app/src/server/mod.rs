//! Everything that runs only on the server: domain types, the store, the services that the
//! dashboard's server functions and the REST API share, and authentication.

pub mod auth;
pub mod domain;
pub mod services;
pub mod rpc;
pub mod store;
pub mod vault;

use crate::error::AppError;
use store::Store;

/// What every request handler needs; provided to server functions as Leptos context and to the
/// REST API as axum state.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub policy: WebhookPolicy,
    /// Told of every stored call, so its processing and `call_ended` event can start.
    pub events: std::sync::Arc<dyn services::calls::CallEvents>,
    /// Sends the owner's test events and redeliveries (the dispatcher's client).
    pub sender: std::sync::Arc<dyn services::deliveries::WebhookSender>,
    /// The REST API's OpenAPI document, for the dashboard's API reference page.
    pub api_document: std::sync::Arc<serde_json::Value>,
    /// Test sends and redeliveries per owner.
    pub manual_sends: std::sync::Arc<services::throttle::SendThrottle>,
    /// Sign-in attempts per account and client address.
    pub sign_ins: std::sync::Arc<services::throttle::SignInThrottle>,
}

/// Operator settings that change what a webhook may be.
#[derive(Clone, Copy, Debug, Default)]
pub struct WebhookPolicy {
    /// Allow `http://` URLs and private addresses (local development and tests only).
    pub allow_insecure: bool,
}

/// For server functions: the app state and the signed-in owner, or `Unauthenticated`.
pub async fn request_owner() -> Result<(AppState, auth::OwnerId), AppError> {
    let (state, session) = request_state().await?;
    let owner = auth::session_owner(&session).await?.ok_or(AppError::Unauthenticated)?;
    Ok((state, owner))
}

/// For server functions that work without a signed-in owner (sign-in, sign-up).
pub async fn request_state() -> Result<(AppState, tower_sessions::Session), AppError> {
    let state = leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| AppError::internal("AppState is missing from the server-function context"))?;
    let session: tower_sessions::Session = leptos_axum::extract().await.map_err(AppError::internal)?;
    Ok((state, session))
}
