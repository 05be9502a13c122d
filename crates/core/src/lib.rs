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
    /// Test sends and redeliveries per owner.
    pub manual_sends: Arc<services::throttle::SendThrottle>,
    /// Sign-in attempts per account and client address.
    pub sign_ins: Arc<services::throttle::SignInThrottle>,
}

/// Operator settings that change what a webhook may be.
#[derive(Clone, Copy, Debug, Default)]
pub struct WebhookPolicy {
    /// Allow `http://` URLs and private addresses (local development and tests only).
    pub allow_insecure: bool,
}

/// The signed-in owner a request acts for, with the agents this request has already found to
/// be theirs. A dashboard page runs several server functions in one server render (the agent's
/// header, the Webhooks section, the post-call section), each checking on its own that the
/// agent is the owner's: when they share one `Caller`'s memo, the database is asked once per
/// page. A REST request makes a fresh one (nothing to share).
#[derive(Clone, Debug)]
pub struct Caller {
    owner: OwnerId,
    agents: AgentMemo,
}

/// Agents read in one request, by (owner id, agent id). Cheap to clone: clones share it.
#[derive(Clone, Debug, Default)]
pub struct AgentMemo(Arc<Mutex<Vec<KnownAgent>>>);

/// (owner id, agent id) and the agent.
type KnownAgent = ((String, String), OwnedAgent);

impl Caller {
    /// A caller whose request has read nothing yet.
    pub fn new(owner: OwnerId) -> Self {
        Self::sharing(owner, AgentMemo::default())
    }

    /// A caller whose agent reads go into `agents`, shared with the rest of its request.
    pub fn sharing(owner: OwnerId, agents: AgentMemo) -> Self {
        Self { owner, agents }
    }

    pub fn id(&self) -> &OwnerId {
        &self.owner
    }

    /// The agent `agent_id` of this owner, read once in this request; `NotFound` when it is
    /// not theirs.
    pub async fn agent(&self, store: &Store, agent_id: &str) -> Result<OwnedAgent, AppError> {
        let key = (self.owner.as_str().to_owned(), agent_id.to_owned());
        let known = {
            let agents = self.agents.0.lock().expect("never poisoned: no panics while held");
            agents.iter().find(|(k, _)| *k == key).map(|(_, agent)| agent.clone())
        };
        if let Some(agent) = known {
            return Ok(agent);
        }
        let agent = store.agent_for_owner(&self.owner, agent_id).await?;
        self.agents.0.lock().expect("never poisoned").push((key, agent.clone()));
        Ok(agent)
    }
}

/// A caller is its owner wherever an owner id is asked for.
impl std::ops::Deref for Caller {
    type Target = OwnerId;

    fn deref(&self) -> &OwnerId {
        &self.owner
    }
}
