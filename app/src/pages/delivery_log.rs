//! An agent's Deliveries tab: the log searched by webhook, outcome, status, kind, time and call.
//! The filters live in the address (a plain GET form, so a link can be shared and it works
//! without JavaScript); the results, with Redeliver on each, are an island.

use crate::components::Outcome;
use crate::pages::deliveries::DeliveryLog;
use crate::pages::webhook_tools::SendOutcome;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_router::hooks::use_query_map;
use voicy_model::error::AppError;
use voicy_model::states::{DeliveryKind, DeliveryOutcome};
use voicy_model::views::{DeliveryFilter, DeliveryPage, WebhookList, WebhookView};

#[leptos::server(prefix = "/rpc", endpoint = "search_deliveries", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn search_deliveries(
    agent_id: String, filter: DeliveryFilter,
) -> Result<DeliveryPage, AppError> {
    crate::server::page_reads::page_read!("search_deliveries", agent_id, filter; {
        use crate::server::request_owner;
        use voicy_core::services::delivery_log;
        delivery_log::search(&request_owner().await?, &agent_id, &filter).await
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "list_webhooks", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn list_webhooks(agent_id: String) -> Result<WebhookList, AppError> {
    crate::server::page_reads::page_read!("list_webhooks", agent_id; {
        use crate::server::request_owner;
        use voicy_core::services::webhooks;
        webhooks::list(&request_owner().await?, &agent_id).await
    })
}

/// The filters in the page's address.
fn filter_of_address() -> DeliveryFilter {
    let query = use_query_map();
    let get = |name: &str| query.read_untracked().get(name).filter(|v| !v.trim().is_empty());
    DeliveryFilter {
        webhook_id: get("webhook_id"),
        outcome: get("outcome"),
        status: get("status"),
        kind: get("kind"),
        since: get("since"),
        until: get("until"),
        call_id: get("call_id"),
        before: get("before"),
    }
}

/// The address of `filter`'s page, for the Older link.
fn address(agent_id: &str, filter: &DeliveryFilter) -> String {
    let fields = [
        ("webhook_id", &filter.webhook_id),
        ("outcome", &filter.outcome),
        ("status", &filter.status),
        ("kind", &filter.kind),
        ("since", &filter.since),
        ("until", &filter.until),
        ("call_id", &filter.call_id),
        ("before", &filter.before),
    ];
    let query: Vec<String> = fields
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={}", encoded(v))))
        .collect();
    format!("/agents/{agent_id}/deliveries?{}", query.join("&"))
}

/// Percent-encodes a query value (the few characters the filters' values can hold).
fn encoded(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '.' | '~' => c.to_string(),
            other => other.to_string().bytes().map(|b| format!("%{b:02X}")).collect(),
        })
        .collect()
}

#[component]
pub fn DeliveriesBody(agent_id: String) -> impl IntoView {
    let filter = filter_of_address();
    let window = use_query_map().read_untracked().get("window").filter(|w| w == "30d");
    let (form_agent, form_filter) = (agent_id.clone(), filter.clone());
    view! {
        <section class="card" aria-labelledby="log-title">
            <h2 id="log-title">"Deliveries"</h2>
            // Read in the render, not as a resource: this part is rendered on the server only, and
            // a resource outside the page's island would be numbered among the island's own.
            <Suspense>
                {
                    move || {
                        let (agent_id, filter) = (form_agent.clone(), form_filter.clone());
                        Suspend::new(async move {
                            let webhooks = list_webhooks(agent_id.clone()).await.map(|l| l.webhooks).unwrap_or_default();
                            view! { <FilterForm agent_id filter webhooks/> }
                        })
                    }
                }
            </Suspense>
        </section>
        {filter.webhook_id.clone().map(|webhook_id| view! {
            <WebhookStatsCard agent_id=agent_id.clone() webhook_id window=window.unwrap_or_else(|| "24h".to_owned())/>
        })}
        <DeliveriesResults agent_id filter/>
    }
}

/// With a webhook chosen: its charts, drawn on the server (no JavaScript needed).
#[component]
fn WebhookStatsCard(agent_id: String, webhook_id: String, window: String) -> impl IntoView {
    let other = if window == "30d" { ("24h", "Last 24 hours") } else { ("30d", "Last 30 days") };
    let link = format!("/agents/{agent_id}/deliveries?webhook_id={webhook_id}&window={}", other.0);
    view! {
        <section class="card" aria-labelledby="stats-title">
            <h2 id="stats-title">"Success rate and latency"</h2>
            <p><a href=link>{other.1}</a></p>
            <crate::pages::stats::ServerStatsFigure agent_id webhook_id window/>
        </section>
    }
}

/// A plain GET form: applying it loads the page at the filtered address.
#[component]
fn FilterForm(
    agent_id: String, filter: DeliveryFilter, webhooks: Vec<WebhookView>,
) -> impl IntoView {
    let chosen = filter.webhook_id.clone().unwrap_or_default();
    let option = |value: &'static str, label: &'static str, current: &Option<String>| {
        let selected = current.as_deref() == Some(value);
        view! { <option value=value selected=selected>{label}</option> }
    };
    let (outcome, kind) = (filter.outcome.clone(), filter.kind.clone());
    // A `datetime-local` field shows minutes: an instant from a shared link, cut to them.
    let local = |v: &Option<String>| {
        v.as_deref().map(|v| v.chars().take(16).collect::<String>()).unwrap_or_default()
    };
    view! {
        <form class="log-filters" method="get" action=format!("/agents/{agent_id}/deliveries") aria-label="Filter deliveries">
            <div class="field">
                <label for="log-webhook">"Webhook"</label>
                <select id="log-webhook" name="webhook_id">
                    <option value="">"Any"</option>
                    {webhooks.into_iter().map(|w| {
                        let selected = w.id == chosen;
                        view! { <option value=w.id.clone() selected=selected>{w.name.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="log-outcome">"Outcome"</label>
                <select id="log-outcome" name="outcome">
                    <option value="">"Any"</option>
                    {DeliveryOutcome::ALL.iter().map(|o| {
                        let value = o.as_str();
                        view! { <option value=value selected=outcome.as_deref() == Some(value)>{value.replace('_', " ")}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="log-status">"Status"</label>
                <input id="log-status" name="status" placeholder="503 or 5xx" value=filter.status.clone().unwrap_or_default()
                    inputmode="text" autocomplete="off"/>
            </div>
            <div class="field">
                <label for="log-kind">"Kind"</label>
                <select id="log-kind" name="kind">
                    {option("", "Any", &kind)}
                    {DeliveryKind::ALL.iter().map(|k| {
                        let value = k.as_str();
                        view! { <option value=value selected=kind.as_deref() == Some(value)>{value}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="log-since">"From (UTC)"</label>
                <input id="log-since" name="since" type="datetime-local" value=local(&filter.since)/>
            </div>
            <div class="field">
                <label for="log-until">"To (UTC)"</label>
                <input id="log-until" name="until" type="datetime-local" value=local(&filter.until)/>
            </div>
            <div class="field">
                <label for="log-call">"Call ID"</label>
                <input id="log-call" name="call_id" autocomplete="off" value=filter.call_id.clone().unwrap_or_default()/>
            </div>
            <div class="form-actions">
                <button type="submit" class="primary">"Apply filters"</button>
                <a href=format!("/agents/{agent_id}/deliveries")>"Clear"</a>
            </div>
        </form>
    }
}

/// The matching deliveries, with Redeliver on each, and a link to the older ones.
#[island(lazy)]
fn DeliveriesResults(agent_id: String, filter: DeliveryFilter) -> impl IntoView {
    crate::components::island_hydrated();
    let refresh = RwSignal::new(0u32);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let on_redelivery = Callback::new(move |result: SendOutcome| {
        outcome.set(Some(crate::pages::webhook_tools::redelivery_message(result)));
        refresh.update(|n| *n += 1);
    });
    let (page_agent, page_filter) = (agent_id.clone(), filter.clone());
    let page = Resource::new(
        move || (page_agent.clone(), page_filter.clone(), refresh.get()),
        |(agent_id, filter, _)| search_deliveries(agent_id, filter),
    );
    view! {
        <section class="card" aria-labelledby="results-title">
            <h2 id="results-title" class="visually-hidden">"Matching deliveries"</h2>
            <Outcome message=outcome/>
            <Transition fallback=|| view! { <p class="muted">"Loading deliveries…"</p> }>
                {move || {
                    let (agent_id, filter) = (agent_id.clone(), filter.clone());
                    Suspend::new(async move {
                        match page.await {
                            Ok(found) => {
                                let older = found.next_before.map(|before| {
                                    address(&agent_id, &DeliveryFilter { before: Some(before), ..filter.clone() })
                                });
                                let empty = found.deliveries.is_empty();
                                // One element, not a fragment of optional parts: hydration
                                // then meets exactly what the server rendered.
                                view! {
                                    <div class="log-results">
                                        {if empty {
                                            view! { <p class="empty">"No deliveries match these filters."</p> }.into_any()
                                        } else {
                                            view! { <DeliveryLog deliveries=found.deliveries show_webhook=true redeliver=on_redelivery/> }.into_any()
                                        }}
                                        {older.map(|href| view! { <p><a href=href>"Older deliveries →"</a></p> })}
                                    </div>
                                }.into_any()
                            }
                            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}
