//! The owner's tools on a webhook: send a test event, redeliver a past delivery, generate a
//! Standard Webhooks secret, and the endpoint's health at a glance.

use crate::components::short_time;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use voicy_model::error::AppError;
use voicy_model::states::DeliveryOutcome;
use voicy_model::views::{DeliveryView, WebhookHealth};

#[leptos::server(prefix = "/rpc", endpoint = "send_test_event", output = voicy_model::codec::Json)]
pub async fn send_test_event(
    agent_id: String, webhook_id: String,
) -> Result<DeliveryView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::deliveries;
    deliveries::send_test(&request_owner().await?, &agent_id, &webhook_id).await
}

#[leptos::server(prefix = "/rpc", endpoint = "redeliver", output = voicy_model::codec::Json)]
pub async fn redeliver(delivery_id: String) -> Result<DeliveryView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::deliveries;
    deliveries::redeliver(&request_owner().await?, &delivery_id).await
}

/// A new `whsec_` secret. Nothing is stored until the form is saved; signed-in owners only.
#[leptos::server(prefix = "/rpc", endpoint = "generate_secret", output = voicy_model::codec::Json)]
pub async fn generate_secret() -> Result<String, AppError> {
    crate::server::request_owner().await?;
    Ok(voicy_core::domain::SigningSecret::generate().expose().to_owned())
}

#[leptos::server(prefix = "/rpc", endpoint = "get_webhook_health", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn get_webhook_health(agent_id: String) -> Result<Vec<WebhookHealth>, AppError> {
    crate::server::page_reads::page_read!("get_webhook_health", agent_id; {
        use crate::server::request_owner;
        use voicy_core::services::health;
        health::of_agent(&request_owner().await?, &agent_id).await
    })
}

/// How a delivery ended, in one line: "Delivered: 200 in 84 ms" or what went wrong.
pub fn delivery_result(d: &DeliveryView) -> String {
    let took = d.duration_ms.map(|ms| format!(" in {ms} ms")).unwrap_or_default();
    match (d.outcome, d.status_code) {
        (DeliveryOutcome::Ok, Some(code)) => format!("Delivered: {code}{took}."),
        (DeliveryOutcome::HttpStatus, Some(code)) => {
            format!("The receiver answered {code}{took}: not a success (2xx).")
        }
        (_, _) => format!(
            "Not delivered ({}){took}. {}",
            d.outcome.as_str().replace('_', " "),
            d.error.clone().unwrap_or_default()
        ),
    }
}

/// The start of the receiver's answer, as the result line shows it.
fn answer_start(d: &DeliveryView) -> Option<String> {
    let body = d.response_body.as_deref()?.trim();
    (!body.is_empty()).then(|| {
        let start: String = body.chars().take(200).collect();
        if start.len() < body.len() { format!("{start}…") } else { start }
    })
}

/// The inline result of a manual send.
#[component]
pub fn SendResult(result: Signal<Option<Result<DeliveryView, AppError>>>) -> impl IntoView {
    move || {
        result.get().map(|r| match r {
            Ok(d) => {
                let class =
                    if d.outcome == DeliveryOutcome::Ok { "notice ok" } else { "notice error" };
                view! {
                    <div class=class role="status">
                        <p>{delivery_result(&d)}</p>
                        {answer_start(&d).map(|a| view! { <pre class="response">{a}</pre> })}
                    </div>
                }
                .into_any()
            }
            Err(e) => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    }
}

/// What a manual send ended with, kept by the page: the section it sits in is rebuilt when the
/// page reloads its data (to list the new delivery), and the result must outlive that.
pub type SendOutcome = Result<DeliveryView, AppError>;

/// How a redelivery ended, as the page that offered it says it.
pub fn redelivery_message(result: SendOutcome) -> Result<String, String> {
    match result {
        Ok(d) if d.outcome == DeliveryOutcome::Ok => {
            Ok(format!("Redelivered to “{}”. {}", d.webhook_name, delivery_result(&d)))
        }
        Ok(d) => {
            Err(format!("The redelivery to “{}” failed. {}", d.webhook_name, delivery_result(&d)))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// "Send test" on a webhook's row: one sample `call_ended` request to this webhook only.
#[component]
pub fn SendTest(
    agent_id: String, webhook_id: String, name: String,
    /// The last result of this webhook's test, as the page keeps it.
    last: Signal<Option<SendOutcome>>,
    on_result: Callback<SendOutcome>,
) -> impl IntoView {
    let send = ServerAction::<SendTestEvent>::new();
    Effect::new(move || {
        if let Some(result) = send.value().get() {
            on_result.run(result);
        }
    });
    let result = Signal::derive(move || send.value().get().or_else(|| last.get()));
    let button_id = format!("send-test-{webhook_id}");
    view! {
        <div class="send-test">
            <button type="button" class="secondary" id=button_id disabled=move || send.pending().get()
                on:click=move |_| { send.dispatch(SendTestEvent { agent_id: agent_id.clone(), webhook_id: webhook_id.clone() }); }>
                {move || if send.pending().get() { "Sending test…" } else { "Send test" }}
                <span class="visually-hidden">{format!(" to {name}")}</span>
            </button>
            <SendResult result/>
        </div>
    }
}

/// "Redeliver" on a past delivery of a call.
#[component]
pub fn RedeliverButton(
    delivery_id: String, webhook_name: String, started_at: String, on_result: Callback<SendOutcome>,
) -> impl IntoView {
    let send = ServerAction::<Redeliver>::new();
    Effect::new(move || {
        if let Some(result) = send.value().get() {
            on_result.run(result);
        }
    });
    view! {
        <button type="button" class="secondary" disabled=move || send.pending().get()
            on:click=move |_| { send.dispatch(Redeliver { delivery_id: delivery_id.clone() }); }>
            {move || if send.pending().get() { "Redelivering…" } else { "Redeliver" }}
            <span class="visually-hidden">{format!(" the delivery to {webhook_name} of {}", short_time(&started_at))}</span>
        </button>
    }
}

fn health_tone(status: &str) -> &'static str {
    match status {
        "healthy" => "ok",
        "degraded" => "warn",
        "failing" => "bad",
        _ => "muted",
    }
}

/// A webhook's health in one line: a status dot, success rate, p50/p95 and the last failure.
#[component]
pub fn HealthLine(health: WebhookHealth, #[prop(optional)] show_name: bool) -> impl IntoView {
    let status = match health.status.as_str() {
        "healthy" => "Healthy",
        "degraded" => "Some failures",
        "failing" => "Failing",
        _ => "No deliveries yet",
    };
    // Each figure kept whole on a narrow screen (its separator is drawn by the stylesheet).
    let figures = health.success_rate.map(|rate| {
        let ms = |v: Option<i64>| v.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into());
        view! {
            <span class="figure">{format!("{rate}% of the last {} succeeded", health.deliveries)}</span>
            <span class="figure">{format!("p50 {}", ms(health.p50_ms))}</span>
            <span class="figure">{format!("p95 {}", ms(health.p95_ms))}</span>
        }
    });
    let last_failure = health.last_failure.map(|f| {
        let what = match f.status_code {
            Some(code) => code.to_string(),
            None => f.outcome.as_str().replace('_', " "),
        };
        format!(
            "Last failure: {what}, {}{}",
            short_time(&f.at),
            f.error.map(|e| format!(" — {e}")).unwrap_or_default()
        )
    });
    view! {
        <div class="health" role="group" aria-label=format!("Health of {}", health.webhook_name)>
            <p>
                <span class=format!("dot {}", health_tone(&health.status)) aria-hidden="true"></span>
                {show_name.then(|| view! { <strong>{health.webhook_name.clone()}</strong> " · " })}
                <span>{status}</span>
                {figures}
            </p>
            {last_failure.map(|f| view! { <p class="hint">{f}</p> })}
        </div>
    }
}

/// The agent's Overview: every webhook's health.
#[component]
pub fn HealthOverview(agent_id: String) -> impl IntoView {
    let settings_link = format!("/agents/{agent_id}/settings#webhooks");
    let health = Resource::new(move || agent_id.clone(), get_webhook_health);
    view! {
        <section class="card" aria-labelledby="health-title">
            <h2 id="health-title">"Webhook health"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let settings_link = settings_link.clone();
                    Suspend::new(async move {
                    match health.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No webhooks yet. Add one in " <a href=settings_link>"Settings → Webhooks"</a>"."</p>
                        }.into_any(),
                        Ok(list) => list.into_iter().map(|h| view! { <HealthLine health=h show_name=true/> }).collect_view().into_any(),
                        Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
                    }
                })}}
            </Suspense>
        </section>
    }
}
