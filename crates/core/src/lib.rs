//! The server's core: everything that runs only on the server and knows nothing of Leptos or
//! HTTP routing. The REST API (`voicy::api`) and the dashboard's server functions (`app`) are
//! thin callers of `services`; the dispatcher drives the queue that `store` keeps.

pub mod auth;
pub mod dispatcher;
pub mod domain;
pub mod services;
pub mod store;
pub mod vault;

pub use voicy_model::{error, states, views};

use auth::OwnerId;
use error::AppError;
use std::sync::{Arc, Mutex};
use store::{OwnedAgent, Store};

/// What every request handler needs; the server gives it to server functions as Leptos
/// context and to the REST API as axum state.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub policy: WebhookPolicy,
    /// Told of every stored call, so its processing and `call_ended` event can start.
    pub events: Arc<dispatcher::Dispatcher>,
    /// Sends the owner's test events and redeliveries.
    pub sender: dispatcher::WebhookClient,
    /// The REST API's OpenAPI document, for the dashboard's API reference page.
    pub api_document: Arc<serde_json::Value>,
    /// The quotas every instance shares: sign-in, sign-up, web calls, test sends, e-mails.
    pub throttle: services::throttle::Throttle,
}

/// Operator settings that change what a webhook may be.
#[derive(Clone, Copy, Debug, Default)]
pub struct WebhookPolicy {
    /// Allow `http://` URLs and private addresses (local development and tests only).
    pub allow_insecure: bool,
}

/// A request made by a signed-in owner, as the services take it: the instance's state, who the
/// owner is, and, for a dashboard page, the agents its render has already found to be theirs. A
/// page runs several server functions in one server render (the agent's header, the Webhooks
/// section, the post-call section), each checking on its own that the agent is the owner's: when
/// they share one memo, the database is asked once per page. A REST request has none: a handler
/// that writes and then reads (restore, then the config) must read the agent as it now is.
#[derive(Clone, Debug)]
pub struct OwnerRequest {
    pub state: AppState,
    owner: OwnerId,
    agents: Option<AgentMemo>,
}

/// Agents read in one request, by (owner id, agent id). Cheap to clone: clones share it.
#[derive(Clone, Debug, Default)]
pub struct AgentMemo(Arc<Mutex<Vec<KnownAgent>>>);

/// (owner id, agent id) and the agent.
type KnownAgent = ((String, String), OwnedAgent);

impl OwnerRequest {
    /// A request that reads each agent from the database every time it asks.
    pub fn new(state: AppState, owner: OwnerId) -> Self {
        Self { state, owner, agents: None }
    }

    /// A request whose agent reads go into `agents`, shared with the rest of the page's render.
    pub fn sharing(state: AppState, owner: OwnerId, agents: AgentMemo) -> Self {
        Self { state, owner, agents: Some(agents) }
    }

    pub fn owner(&self) -> &OwnerId {
        &self.owner
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The agent `agent_id` of this owner, read once in this request; `NotFound` when it is
    /// not theirs.
    pub async fn agent(&self, agent_id: &str) -> Result<OwnedAgent, AppError> {
        let Some(memo) = &self.agents else {
            return self.state.store.agent_for_owner(&self.owner, agent_id).await;
        };
        let key = (self.owner.as_str().to_owned(), agent_id.to_owned());
        let known = {
            let agents = memo.0.lock().expect("never poisoned: no panics while held");
            agents.iter().find(|(k, _)| *k == key).map(|(_, agent)| agent.clone())
        };
        if let Some(agent) = known {
            return Ok(agent);
        }
        let agent = self.state.store.agent_for_owner(&self.owner, agent_id).await?;
        memo.0.lock().expect("never poisoned").push((key, agent.clone()));
        Ok(agent)
    }
}
