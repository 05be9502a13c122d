//! The "Agents" page: the owner's agents and a form to create one.

use crate::components::{
    FieldError, Frame, SubmitButton, action_error, listed, reset_on_success, short_time,
};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use voicy_model::error::AppError;
use voicy_model::views::AgentView;

#[leptos::server(prefix = "/rpc", endpoint = "list_agents", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn list_agents() -> Result<Vec<AgentView>, AppError> {
    crate::server::page_reads::page_read!("list_agents"; {
        use crate::server::request_owner;
        use voicy_core::services::agents;
        agents::list(&request_owner().await?).await
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "get_agent", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn get_agent(agent_id: String) -> Result<AgentView, AppError> {
    crate::server::page_reads::page_read!("get_agent", agent_id; {
        use crate::server::request_owner;
        use voicy_core::services::agents;
        agents::get(&request_owner().await?, &agent_id).await
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "create_agent", output = voicy_model::codec::Json)]
pub async fn create_agent(name: String) -> Result<AgentView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::agents;
    agents::create(&request_owner().await?, &name).await
}

#[component]
pub fn AgentsPage() -> impl IntoView {
    view! {
        <Title text="Agents"/>
        <Frame>
            <h1>"Agents"</h1>
            <AgentsBoard/>
        </Frame>
    }
}

/// The agents and the form that creates one: the list is read again after each creation.
#[island(lazy)]
fn AgentsBoard() -> impl IntoView {
    crate::components::island_hydrated();
    let create = ServerAction::<CreateAgent>::new();
    let agents = Resource::new(move || create.version().get(), |_| list_agents());
    let error = action_error(create.value());
    let pending = create.pending();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(create.value(), form);
    view! {
        <section class="card" aria-labelledby="agents-title">
            <h2 id="agents-title" class="visually-hidden">"Your agents"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading agents…"</p> }>
                {move || Suspend::new(async move {
                    listed(agents.await, "No agents yet. Create your first agent below.", "agent-list", |agent| view! {
                        <li>
                            <a href=format!("/agents/{}", agent.id)>{agent.name}</a>
                            <span class="muted">"Created " {short_time(&agent.created_at)}</span>
                        </li>
                    })
                })}
            </Suspense>
        </section>
        <section class="card" aria-labelledby="new-agent-title">
            <h2 id="new-agent-title">"New agent"</h2>
            <ActionForm action=create node_ref=form attr:class="inline-form">
                <div class="field grow">
                    <label for="agent-name">"Agent name"</label>
                    <input id="agent-name" name="name" maxlength="100" required aria-describedby="agent-name-error"
                        placeholder="e.g. Front desk"/>
                    <FieldError id="agent-name-error" message=Signal::derive(move || error.get().and_then(|e| e.field("name")))/>
                </div>
                <SubmitButton pending idle="Create agent" busy="Creating…"/>
            </ActionForm>
            {move || error.get().filter(|e| e.fields().is_none()).map(|e| view! { <p class="notice error" role="alert">{e.to_string()}</p> })}
            {move || matches!(create.value().get(), Some(Ok(_))).then(|| view! { <p class="notice ok" role="status">"Agent created."</p> })}
        </section>
    }
}
