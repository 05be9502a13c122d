//! The deliveries log as the dashboard shows it: a status dot, the code, the latency and the
//! time; expanded, the request headers (custom values masked) and the response.

use crate::components::short_time;
use crate::pages::webhook_tools::{RedeliverButton, SendOutcome};
use leptos::prelude::*;
use voicy_model::states::{DeliveryKind, DeliveryOutcome};
use voicy_model::views::DeliveryView;

fn tone(outcome: DeliveryOutcome) -> &'static str {
    match outcome {
        DeliveryOutcome::Ok => "ok",
        DeliveryOutcome::Sending => "pending",
        DeliveryOutcome::Interrupted | DeliveryOutcome::Paused => "muted",
        _ => "bad",
    }
}

fn label(d: &DeliveryView) -> String {
    match (d.outcome, d.status_code) {
        (DeliveryOutcome::Ok | DeliveryOutcome::HttpStatus, Some(code)) => code.to_string(),
        (DeliveryOutcome::Sending, _) => "sending…".to_owned(),
        (DeliveryOutcome::InFlightLimit, _) => "not sent (limit)".to_owned(),
        (DeliveryOutcome::Paused, _) => "paused".to_owned(),
        (outcome, _) => outcome.as_str().replace('_', " "),
    }
}

/// On a chain's first delivery: when the next attempt is due, or why there will be none.
fn chain_note(d: &DeliveryView) -> Option<String> {
    if let Some(at) = &d.next_attempt_at {
        return Some(format!("Next attempt at {}.", short_time(at)));
    }
    let why = match d.chain_end.as_deref()? {
        "succeeded" => "A retry succeeded.",
        "not_retryable" => "Not retried: the answer is not one a retry could change.",
        "gave_up" => "Every retry failed; no more attempts.",
        "redelivered" => "Retries stopped: redelivered by hand.",
        "webhook_removed" => "Retries stopped: the webhook was removed.",
        "call_erased" => "Retries stopped: the call's data was deleted.",
        _ => return None,
    };
    Some(why.to_owned())
}

#[component]
pub fn DeliveryLog(
    deliveries: Vec<DeliveryView>, #[prop(optional)] show_webhook: bool,
    /// Offers "Redeliver" on each delivery of a call, reporting how it ended here.
    #[prop(optional)]
    redeliver: Option<Callback<SendOutcome>>,
) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p class="empty">"No deliveries yet."</p> }.into_any();
    }
    view! {
        <ul class="deliveries">
            {deliveries.into_iter().map(|d| {
                let summary = format!(
                    "{}{} · {} · {}",
                    if show_webhook { format!("{} · ", d.webhook_name) } else { String::new() },
                    label(&d),
                    d.duration_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into()),
                    short_time(&d.started_at),
                );
                let kind = match d.kind {
                    DeliveryKind::Test | DeliveryKind::Redelivery => Some(d.kind.as_str().to_owned()),
                    DeliveryKind::Retry => Some(format!("retry {}", d.attempt)),
                    DeliveryKind::Event => None,
                };
                let chain = chain_note(&d);
                let can_redeliver = redeliver
                    .filter(|_| d.kind != DeliveryKind::Test && d.outcome != DeliveryOutcome::Sending);
                view! {
                    <li class="delivery">
                        <div class="delivery-line">
                        <details>
                            <summary>
                                <span class=format!("dot {}", tone(d.outcome)) aria-hidden="true"></span>
                                <span>{summary}</span>
                                {kind.map(|k| view! { <span class="pill delivery-kind">{k}</span> })}
                                {chain.map(|note| view! { <span class="muted chain-note">{note}</span> })}
                            </summary>
                            <div class="delivery-detail">
                                <p class="muted">"POST " <code>{d.webhook_url.clone()}</code>
                                    {d.config_version.map(|v| format!(" · version {v}")).unwrap_or_else(|| " · draft".into())}</p>
                                <h4>"Request headers"</h4>
                                <table class="headers-table">
                                    <tbody>
                                        {d.request_headers.iter().map(|h| view! {
                                            <tr><th scope="row">{h.name.clone()}</th><td class="mono">{h.value.clone()}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                {d.error.clone().map(|e| view! { <p class="notice error">{e}</p> })}
                                {d.response_body.clone().map(|body| view! {
                                    <h4>"Response (first 2 KB)"</h4>
                                    <pre class="response">{body}</pre>
                                })}
                            </div>
                        </details>
                        {can_redeliver.map(|on_result| view! {
                            <RedeliverButton delivery_id=d.id.clone() webhook_name=d.webhook_name.clone() started_at=d.started_at.clone() on_result/>
                        })}
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
