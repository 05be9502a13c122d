//! An agent's page: a header with its name and tabs (Overview, Settings).

use crate::components::Frame;
use crate::components::short_time;
use crate::pages::agents::get_agent;
use crate::pages::webhooks::WebhooksSection;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use voicy_model::error::AppError;
use voicy_model::views::{AgentView, AlertView};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Overview,
    Settings,
    Deliveries,
}

fn agent_id() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("agent_id").unwrap_or_default())
}

/// Loads the agent and renders `body` under its header, or the not-found page (HTTP 404) when
/// it does not exist or belongs to someone else.
#[component]
fn AgentFrame(tab: Tab, body: fn(String) -> AnyView) -> impl IntoView {
    let id = agent_id();
    let agent = Resource::new(move || id.get(), get_agent);
    view! {
        <Frame>
            <Suspense fallback=|| view! { <p class="muted">"Loading agent…"</p> }>
                {move || Suspend::new(async move {
                    match agent.await {
                        Ok(agent) => {
                            // The body (the page's islands) is built before the alerts are read,
                            // as it was before there were alerts: what the server numbers for
                            // the islands' hydration stays as it was. The alerts are read here,
                            // not as a resource of their own (the frame is rendered on the server only).
                            let page = body(agent.id.clone());
                            let alerts = get_agent_alerts(agent.id.clone()).await.unwrap_or_default();
                            view! {
                                <AgentHeader agent=agent.clone() tab/>
                                <AlertBanner alerts agent_id=agent.id.clone()/>
                                {page}
                            }.into_any()
                        }
                        Err(AppError::NotFound) => {
                            #[cfg(feature = "ssr")]
                            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                                response.set_status(axum::http::StatusCode::NOT_FOUND);
                            }
                            view! {
                                <Title text="Agent not found"/>
                                <h1>"Agent not found"</h1>
                                <p>"This agent does not exist, or it belongs to another account. "
                                    <a href="/agents">"Back to your agents"</a></p>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

#[component]
fn AgentHeader(agent: AgentView, tab: Tab) -> impl IntoView {
    let base = format!("/agents/{}", agent.id);
    let current = |t: Tab| if t == tab { Some("page") } else { None };
    view! {
        <Title text=match tab {
            Tab::Overview => agent.name.clone(),
            Tab::Settings => format!("Settings · {}", agent.name),
            Tab::Deliveries => format!("Deliveries · {}", agent.name),
        }/>
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/agents">"Agents"</a> " / " <a href=base.clone()>{agent.name.clone()}</a>
        </nav>
        <h1>{agent.name.clone()}</h1>
        <nav class="tabs" aria-label="Agent">
            <a href=base.clone() aria-current=current(Tab::Overview)>"Overview"</a>
            <a href=format!("{base}/settings") aria-current=current(Tab::Settings)>"Settings"</a>
            <a href=format!("{base}/deliveries") aria-current=current(Tab::Deliveries)>"Deliveries"</a>
        </nav>
    }
}

#[leptos::server(prefix = "/rpc", endpoint = "get_agent_alerts", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn get_agent_alerts(agent_id: String) -> Result<Vec<AlertView>, AppError> {
    crate::server::page_reads::page_read!("get_agent_alerts", agent_id; {
        use crate::server::request_owner;
        use voicy_core::services::alerts;
        alerts::of_agent(&request_owner().await?, &agent_id).await
    })
}

/// Shown on the agent's pages while one of its webhooks is failing (an open incident).
#[component]
fn AlertBanner(alerts: Vec<AlertView>, agent_id: String) -> impl IntoView {
    let settings = format!("/agents/{agent_id}/settings#webhooks");
    alerts
        .into_iter()
        .map(|a| {
            view! {
                <div class="notice error banner" role="alert">
                    <p><strong>{format!("The webhook “{}” is failing", a.webhook_name)}</strong>
                        {format!(": {} deliveries in a row have failed since {}.", a.failures, short_time(&a.failing_since))}</p>
                    {a.last_error.map(|e| view! { <p class="muted">"Last error: " {e}</p> })}
                    <p>"Check the endpoint; once it answers again, send what it missed with Redeliver. "
                        <a href=settings.clone()>"Open the webhook’s settings"</a></p>
                </div>
            }
        })
        .collect_view()
}

#[component]
pub fn AgentOverviewPage() -> impl IntoView {
    view! {
        <AgentFrame tab=Tab::Overview body=|agent_id| view! { <Overview agent_id/> }.into_any()/>
    }
}

#[component]
fn Overview(agent_id: String) -> impl IntoView {
    view! {
        <crate::pages::calls::TestCallPanel agent_id=agent_id.clone()/>
        <crate::pages::webhook_tools::HealthOverview agent_id=agent_id.clone()/>
        <crate::pages::calls::CallList agent_id=agent_id.clone()/>
        <section class="card">
            <h2>"Overview"</h2>
            <dl class="facts">
                <dt>"Agent ID"</dt>
                <dd><code>{agent_id.clone()}</code></dd>
            </dl>
            <p>"Configure where the data of each finished call is sent in "
                <a href=format!("/agents/{agent_id}/settings#webhooks")>"Settings → Webhooks"</a>"."</p>
        </section>
    }
}

#[component]
pub fn AgentDeliveriesPage() -> impl IntoView {
    view! {
        <AgentFrame tab=Tab::Deliveries body=|agent_id| view! {
            <crate::pages::delivery_log::DeliveriesBody agent_id/>
        }.into_any()/>
    }
}

#[component]
pub fn AgentSettingsPage() -> impl IntoView {
    view! {
        <AgentFrame tab=Tab::Settings body=|agent_id| view! { <SettingsSections agent_id/> }.into_any()/>
    }
}

/// The Settings tab's two sections, one island: they share the note that the draft changed.
#[island(lazy)]
fn SettingsSections(agent_id: String) -> impl IntoView {
    crate::components::island_hydrated();
    provide_context(crate::pages::processing::DraftChanged(RwSignal::new(0)));
    view! {
        <WebhooksSection agent_id=agent_id.clone()/>
        <crate::pages::processing::ProcessingSection agent_id/>
    }
}
