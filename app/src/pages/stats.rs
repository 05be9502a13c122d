//! A webhook's charts: the server draws them (`…/stats.svg`, an image: no chart code in the
//! bundle, and they show without JavaScript), with a table of the same figures for screen readers.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use voicy_model::error::AppError;
use voicy_model::views::WebhookStats;

#[leptos::server(prefix = "/rpc", endpoint = "get_webhook_stats", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn get_webhook_stats(
    agent_id: String, webhook_id: String, window: String,
) -> Result<WebhookStats, AppError> {
    crate::server::page_reads::page_read!("get_webhook_stats", agent_id, webhook_id, window; {
        use crate::server::request_owner;
        use voicy_core::services::stats;
        let window = stats::Window::parse(Some(&window))?;
        Ok(stats::of_webhook(&request_owner().await?, &agent_id, &webhook_id, window).await?.1)
    })
}

/// The chart of `window` (`24h` or `30d`) and its table; read again when `window` or `version`
/// changes.
#[component]
pub fn StatsFigure(
    agent_id: String, webhook_id: String, name: String, #[prop(into)] window: Signal<String>,
    #[prop(optional, into)] version: Signal<u32>,
) -> impl IntoView {
    let (stats_agent, stats_webhook) = (agent_id.clone(), webhook_id.clone());
    let stats = Resource::new(
        move || (stats_agent.clone(), stats_webhook.clone(), window.get(), version.get()),
        |(agent_id, webhook_id, window, _)| get_webhook_stats(agent_id, webhook_id, window),
    );
    let src = move || {
        format!(
            "/api/v1/agents/{agent_id}/webhooks/{webhook_id}/stats.svg?window={}&v={}",
            window.get(),
            version.get()
        )
    };
    let span = move || if window.get() == "30d" { "the last 30 days" } else { "the last 24 hours" };
    view! {
        <figure class="stats">
            <img src=src width="720" height="290" loading="lazy"
                alt=move || format!("Success rate and latency of {name} over {}; the figures are in the table below.", span())/>
            <figcaption class="hint">{move || format!("UTC; {}. Grey: no deliveries.", span())}</figcaption>
            <details>
                <summary>"Figures as a table"</summary>
                <Suspense fallback=|| view! { <p class="muted">"Loading figures…"</p> }>
                    {move || Suspend::new(async move {
                        match stats.await {
                            Ok(stats) => view! { <StatsTable stats/> }.into_any(),
                            Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </details>
        </figure>
    }
}

#[component]
fn StatsTable(stats: WebhookStats) -> impl IntoView {
    let hourly = stats.window == "24h";
    let cell = |v: Option<i64>, unit: &str| v.map_or("—".to_owned(), |v| format!("{v}{unit}"));
    view! {
        <div class="table-scroll">
            <table class="stats-table">
                <thead><tr>
                    <th scope="col">{if hourly { "Hour (UTC)" } else { "Day (UTC)" }}</th>
                    <th scope="col">"Deliveries"</th><th scope="col">"Succeeded"</th>
                    <th scope="col">"Success rate"</th><th scope="col">"p50"</th><th scope="col">"p95"</th>
                </tr></thead>
                <tbody>
                    {stats.buckets.into_iter().rev().map(|b| view! {
                        <tr>
                            <th scope="row">{if hourly { b.start.get(..16).unwrap_or(&b.start).replace('T', " ") } else { b.start.get(..10).unwrap_or(&b.start).to_owned() }}</th>
                            <td>{b.deliveries}</td><td>{b.succeeded}</td>
                            <td>{cell(b.success_rate.map(i64::from), "%")}</td>
                            <td>{cell(b.p50_ms, " ms")}</td><td>{cell(b.p95_ms, " ms")}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// "Charts" on a webhook's row: opened on demand, 24 hours or 30 days.
#[component]
pub fn WebhookCharts(agent_id: String, webhook_id: String, name: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let window = RwSignal::new("24h".to_owned());
    let choice = move |value: &'static str, label: &'static str| {
        view! {
            <button type="button" class="secondary" aria-pressed=move || (window.get() == value).to_string()
                on:click=move |_| window.set(value.to_owned())>{label}</button>
        }
    };
    view! {
        <details class="charts" on:toggle=move |_| open.set(true)>
            <summary>{format!("Charts of {name}")}</summary>
            <div class="window-choice" role="group" aria-label="Window">
                {choice("24h", "24 hours")}
                {choice("30d", "30 days")}
            </div>
            <Show when=move || open.get()>
                <StatsFigure agent_id=agent_id.clone() webhook_id=webhook_id.clone() name=name.clone() window=window/>
            </Show>
        </details>
    }
}

/// The chart and its table on a page rendered on the server only (the Deliveries tab): the
/// figures are read in the render, not as a resource (see `DeliveriesBody`).
#[component]
pub fn ServerStatsFigure(agent_id: String, webhook_id: String, window: String) -> impl IntoView {
    let src = format!("/api/v1/agents/{agent_id}/webhooks/{webhook_id}/stats.svg?window={window}");
    let span = if window == "30d" { "the last 30 days" } else { "the last 24 hours" };
    view! {
        <figure class="stats">
            <img src=src width="720" height="290" loading="lazy"
                alt=format!("Success rate and latency of this webhook over {span}; the figures are in the table below.")/>
            <figcaption class="hint">{format!("UTC; {span}. Grey: no deliveries.")}</figcaption>
            <details>
                <summary>"Figures as a table"</summary>
                <Suspense fallback=|| view! { <p class="muted">"Loading figures…"</p> }>
                    {move || {
                        let (agent_id, webhook_id, window) = (agent_id.clone(), webhook_id.clone(), window.clone());
                        Suspend::new(async move {
                            match get_webhook_stats(agent_id, webhook_id, window).await {
                                Ok(stats) => view! { <StatsTable stats/> }.into_any(),
                                Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            </details>
        </figure>
    }
}
