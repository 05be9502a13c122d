//! Everything that runs only on the server: domain types, the store, the services that the
//! dashboard's server functions and the REST API share, and authentication.

pub mod auth;
pub mod domain;
pub mod page_reads;
pub mod rpc;
pub mod services;
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

/// Agents already found for their owner in this request. A page's server functions run in one
/// server render (the agent's header, the Webhooks section, the post-call section), and each
/// checks on its own that the agent is the signed-in owner's: with this, the database is asked
/// once per page. The server provides one per request; the REST API has none (no reuse there).
#[derive(Clone, Debug, Default)]
pub struct RequestMemo {
    /// ((owner id, agent id), agent).
    agents: std::sync::Arc<std::sync::Mutex<Vec<((String, String), store::OwnedAgent)>>>,
}

impl RequestMemo {
    /// The agent `agent_id` of `owner`, read once in this request.
    pub async fn owned_agent(
        store: &Store,
        owner: &auth::OwnerId,
        agent_id: &str,
    ) -> Result<store::OwnedAgent, AppError> {
        let memo = leptos::prelude::use_context::<RequestMemo>();
        let key = |agent: &str| (owner.as_str().to_owned(), agent.to_owned());
        if let Some(memo) = &memo {
            let agents = memo
                .agents
                .lock()
                .expect("never poisoned: no panics while held");
            if let Some((_, agent)) = agents.iter().find(|(k, _)| *k == key(agent_id)) {
                return Ok(agent.clone());
            }
        }
        let agent = store.agent_for_owner(owner, agent_id).await?;
        if let Some(memo) = memo {
            memo.agents
                .lock()
                .expect("never poisoned")
                .push((key(agent_id), agent.clone()));
        }
        Ok(agent)
    }
}

/// What every server-function call gets in its context, per request: the app state and a fresh
/// `RequestMemo`. The server's page and server-function handlers and the page cache's re-reads
/// (`voicy::page_cache`) all start from this.
pub fn provide_request_context(state: &AppState) {
    leptos::prelude::provide_context(state.clone());
    leptos::prelude::provide_context(RequestMemo::default());
}

/// For server functions: the app state and the signed-in owner, or `Unauthenticated`.
pub async fn request_owner() -> Result<(AppState, auth::OwnerId), AppError> {
    let (state, session) = request_state().await?;
    let owner = auth::session_owner(&session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    Ok((state, owner))
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
