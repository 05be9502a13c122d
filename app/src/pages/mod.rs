//! One module per page (or section), each with the server functions it calls.

pub mod agent;
pub mod agents;
pub mod api_keys;
pub mod auth;
pub mod call_erasure;
pub mod calls;
pub mod deliveries;
pub mod delivery_log;
pub mod processing;
pub mod reference;
pub mod replay;
pub mod stats;
pub mod webhook_actions;
pub mod webhook_form;
pub mod webhook_headers;
pub mod webhook_list;
pub mod webhook_tools;
pub mod webhooks;

pub use agent::{AgentDeliveriesPage, AgentOverviewPage, AgentSettingsPage};
pub use agents::AgentsPage;
pub use api_keys::ApiKeysPage;
pub use auth::{SignInPage, SignUpPage};
pub use calls::CallPageView;
pub use reference::ApiReferencePage;

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="page narrow">
            <h1>"Page not found"</h1>
            <p>"The page does not exist, or it belongs to another account."</p>
            <p><a href="/agents">"Go to your agents"</a></p>
        </main>
    }
}
