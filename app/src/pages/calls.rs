//! Calls on the agent's Overview tab: a test (web) call panel, the calls list, and each call's
//! page with its deliveries.

use crate::components::{Frame, Outcome, listed, short_time};
use crate::pages::deliveries::DeliveryLog;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use voicy_model::error::AppError;
use voicy_model::states::{CallKind, DeliveryKind, DeliveryOutcome, EventState};
use voicy_model::views::{CallDetail, CallPage, Turn};

#[leptos::server(prefix = "/rpc", endpoint = "start_test_call", input = Json, output = voicy_model::codec::Json)]
pub async fn start_test_call(agent_id: String, transcript: Vec<Turn>) -> Result<String, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::calls;
    let request = request_owner().await?;
    let ended = chrono::Utc::now();
    let started = ended - chrono::Duration::seconds(5 * transcript.len().max(1) as i64);
    let stamp =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let call = voicy_model::views::NewCall {
        agent_id,
        kind: CallKind::Web.as_str().into(),
        started_at: stamp(started),
        ended_at: stamp(ended),
        end_reason: Some("test_call_ended".into()),
        transcript,
        ..Default::default()
    };
    calls::create(&request, call, None).await
}

#[leptos::server(prefix = "/rpc", endpoint = "list_calls", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn list_calls(agent_id: String) -> Result<CallPage, AppError> {
    crate::server::page_reads::page_read!("list_calls", agent_id; {
        use crate::server::request_owner;
        use voicy_core::services::calls;
        calls::list(&request_owner().await?, &agent_id, None).await
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "get_call_detail", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn get_call_detail(call_id: String) -> Result<CallDetail, AppError> {
    crate::server::page_reads::page_read!("get_call_detail", call_id; {
        use crate::server::request_owner;
        use voicy_core::services::calls;
        calls::detail(&request_owner().await?, &call_id).await
    })
}

#[derive(Clone, Copy)]
struct TurnRow {
    key: usize,
    role: RwSignal<String>,
    text: RwSignal<String>,
}

/// Starts a web (test) call: it runs with the draft config, so webhooks fire at once. The new
/// call's page is then loaded.
#[island(lazy)]
pub fn TestCallPanel(agent_id: String) -> impl IntoView {
    crate::components::island_hydrated();
    let next = StoredValue::new(0usize);
    let row = move |role: &str, text: &str| {
        let key = next.get_value();
        next.set_value(key + 1);
        TurnRow { key, role: RwSignal::new(role.to_owned()), text: RwSignal::new(text.to_owned()) }
    };
    let rows = RwSignal::new(vec![
        row("agent", "Hello, thanks for calling. How can I help?"),
        row("user", ""),
    ]);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let agent = StoredValue::new(agent_id);
    let call =
        Action::new(move |turns: &Vec<Turn>| start_test_call(agent.get_value(), turns.clone()));
    Effect::new(move || match call.value().get() {
        Some(Ok(id)) => {
            let _ =
                window().location().set_href(&format!("/agents/{}/calls/{id}", agent.get_value()));
        }
        Some(Err(e)) => outcome.set(Some(Err(refused(e, rows)))),
        None => {}
    });
    let indexed = move || rows.get().into_iter().enumerate().collect::<Vec<(usize, TurnRow)>>();
    let end_call = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        outcome.set(None);
        let turns = rows
            .get_untracked()
            .iter()
            .map(|r| Turn {
                role: r.role.get_untracked(),
                text: r.text.get_untracked(),
                start_ms: None,
            })
            .collect();
        call.dispatch(turns);
    };
    view! {
        <section class="card" aria-labelledby="test-call-title">
            <h2 id="test-call-title">"Test call"</h2>
            <p class="muted">"Write a short conversation and end the call. Test calls use the draft config, so your webhooks receive it at once."</p>
            <form class="test-call" on:submit=end_call aria-label="Test call">
                <For each=indexed key=|(i, r)| (r.key, *i) let:((index, turn))>
                    <TurnItem index turn rows/>
                </For>
                <div class="form-actions">
                    <button type="button" class="secondary" on:click=move |_| {
                        let role = if rows.with(|r| r.last().is_some_and(|t| t.role.get_untracked() == "agent")) { "user" } else { "agent" };
                        let new = row(role, "");
                        rows.update(|rs| rs.push(new));
                        let count = rows.with_untracked(Vec::len);
                        crate::components::focus_soon(format!(".test-call .turn-row:nth-of-type({count}) input"));
                    }>"Add turn"</button>
                    <button type="submit" class="primary" disabled=move || call.pending().get() || rows.with(Vec::is_empty)>
                        {move || if call.pending().get() { "Ending call…" } else { "End call" }}
                    </button>
                </div>
            </form>
            <div id="test-call-outcome" tabindex="-1"><Outcome message=outcome/></div>
        </section>
    }
    .into_any()
}

/// Why the test call was refused, for the owner; the focus goes to the first turn without text,
/// where the fix is typed (or to the message, if every turn has some).
fn refused(e: AppError, rows: RwSignal<Vec<TurnRow>>) -> String {
    let empty = rows.with_untracked(|rs| {
        rs.iter().position(|r| r.text.with_untracked(|t| t.trim().is_empty()))
    });
    crate::components::focus_soon(match empty {
        Some(i) => format!(".test-call .turn-row:nth-of-type({}) input", i + 1),
        None => "#test-call-outcome".to_owned(),
    });
    match e {
        AppError::Validation(_) => {
            "Every turn needs some text. Fill in or remove the empty turns.".to_owned()
        }
        other => other.to_string(),
    }
}

/// One turn of the test call: its speaker, its text, and its remove button.
#[component]
fn TurnItem(index: usize, turn: TurnRow, rows: RwSignal<Vec<TurnRow>>) -> impl IntoView {
    view! {
        <div class="turn-row">
            <select aria-label=format!("Turn {} speaker", index + 1) prop:value=move || turn.role.get()
                on:change=move |ev| turn.role.set(event_target_value(&ev))>
                <option value="agent">"Agent"</option>
                <option value="user">"Caller"</option>
            </select>
            <input aria-label=format!("Turn {} text", index + 1) bind:value=turn.text placeholder="What was said"/>
            <button type="button" class="icon" aria-label=format!("Remove turn {}", index + 1)
                on:click=move |_| rows.update(|rs| rs.retain(|r| r.key != turn.key))>"×"</button>
        </div>
    }
}

#[component]
pub fn CallList(agent_id: String) -> impl IntoView {
    let agent = StoredValue::new(agent_id);
    let calls = Resource::new(move || agent.get_value(), list_calls);
    view! {
        <section class="card" aria-labelledby="calls-title">
            <h2 id="calls-title">"Calls"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading calls…"</p> }>
                {move || Suspend::new(async move {
                    let calls = calls.await.map(|page| page.calls);
                    listed(calls, "No calls yet. Start a test call above.", "rows", move |c| view! {
                        <li class="row">
                            <a href=format!("/agents/{}/calls/{}", agent.get_value(), c.id)>
                                {if c.kind == CallKind::Web { "Test call" } else { "Phone call" }} " · " {short_time(&c.received_at)}
                            </a>
                            <span class="muted">
                                {c.agent_version.map(|v| format!("version {v}")).unwrap_or_else(|| "draft".into())}
                                " · " {match (c.event, c.sent) {
                                    (EventState::Sent, 0) => "no webhook".to_owned(),
                                    (EventState::Sent, n) => format!("{} of {n} delivered", c.delivered),
                                    (state, _) => format!("webhooks {state}"),
                                }}
                            </span>
                        </li>
                    })
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn CallPageView() -> impl IntoView {
    let params = use_params_map();
    let call_id = params.read_untracked().get("call_id").unwrap_or_default();
    let agent_id = params.read_untracked().get("agent_id").unwrap_or_default();
    let agent = Resource::new(
        {
            let agent_id = agent_id.clone();
            move || agent_id.clone()
        },
        crate::pages::agents::get_agent,
    );
    view! {
        <Title text="Call"/>
        <Frame>
            <nav class="crumbs" aria-label="Breadcrumb">
                <a href="/agents">"Agents"</a> " / "
                <a href=format!("/agents/{agent_id}")>
                    <Suspense fallback=|| "Agent">
                        {move || Suspend::new(async move { agent.await.map(|a| a.name).unwrap_or_else(|_| "Agent".to_owned()) })}
                    </Suspense>
                </a>
                " / Call"
            </nav>
            <h1>"Call"</h1>
            <CallPanel call_id/>
        </Frame>
    }
}

/// A call, its deliveries with their Redeliver buttons, and its transcript; read again after a
/// redelivery, and every 700 ms until the call's event is settled.
#[island(lazy)]
fn CallPanel(call_id: String) -> impl IntoView {
    crate::components::island_hydrated();
    let refresh = RwSignal::new(0u32);
    // How the last redelivery ended: kept here, above the part that reloads.
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let on_redelivery = Callback::new(move |result: crate::pages::webhook_tools::SendOutcome| {
        outcome.set(Some(crate::pages::webhook_tools::redelivery_message(result)));
        refresh.update(|n| *n += 1);
    });
    let detail =
        Resource::new(move || (call_id.clone(), refresh.get()), |(id, _)| get_call_detail(id));
    // Until the event is settled, look again shortly (effects run only in the browser).
    Effect::new(move || {
        if let Some(Ok(d)) = detail.get()
            && !d.deliveries.event.state.is_settled()
        {
            set_timeout(move || refresh.update(|n| *n += 1), std::time::Duration::from_millis(700));
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading call…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        let on_erased = Callback::new(move |()| refresh.update(|n| *n += 1));
                        view! { <CallBody detail=d outcome on_redelivery on_erased/> }.into_any()
                    }
                    Err(AppError::NotFound) => {
                        #[cfg(feature = "ssr")]
                        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                            response.set_status(axum::http::StatusCode::NOT_FOUND);
                        }
                        view! { <p>"This call does not exist, or it belongs to another account."</p> }.into_any()
                    }
                    Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CallBody(
    detail: CallDetail, outcome: RwSignal<Option<Result<String, String>>>,
    on_redelivery: Callback<crate::pages::webhook_tools::SendOutcome>, on_erased: Callback<()>,
) -> impl IntoView {
    let CallDetail { call, deliveries, erased_at } = detail;
    let erased = erased_at.is_some();
    let note = deliveries.event.note.clone();
    let event = match deliveries.event.state {
        EventState::Pending | EventState::Processing => match note {
            Some(note) => format!("Processing the call again shortly. {note}"),
            None => "Processing the call…".to_owned(),
        },
        EventState::Sending => "Sending to webhooks…".to_owned(),
        EventState::Sent => {
            let sent = deliveries
                .deliveries
                .iter()
                .filter(|d| d.kind == DeliveryKind::Event)
                .collect::<Vec<_>>();
            // A webhook took it by the event or by a redelivery since.
            let took = |webhook: &str| {
                deliveries
                    .deliveries
                    .iter()
                    .any(|d| d.webhook_id == webhook && d.outcome == DeliveryOutcome::Ok)
            };
            let delivered = sent.iter().filter(|d| took(&d.webhook_id)).count();
            let to = match sent.len() {
                1 => "1 webhook".to_owned(),
                n => format!("{n} webhooks"),
            };
            format!(
                "Sent to {to}: {delivered} of {} delivered. {}",
                sent.len(),
                note.unwrap_or_default()
            )
        }
        EventState::Failed => format!("No webhook was sent. {}", note.unwrap_or_default()),
        EventState::Skipped => note.unwrap_or_else(|| "No webhook was sent.".into()),
    };
    view! {
        <section class="card">
            <dl class="facts">
                <dt>"Type"</dt><dd>{if call.kind == CallKind::Web { "Test (web) call — draft config" } else { "Phone call" }}</dd>
                <dt>"Config"</dt><dd>{call.agent_version.map(|v| format!("version {v}")).unwrap_or_else(|| "draft".into())}</dd>
                <dt>"Status"</dt><dd>{call.status.clone()}</dd>
                <dt>"Duration"</dt><dd>{format!("{} s", call.duration_seconds)}</dd>
                <dt>"Summary"</dt><dd>{call.summary.clone().unwrap_or_else(|| "—".into())}</dd>
                {(!call.variables.is_empty()).then(|| view! {
                    <dt>"Variables"</dt>
                    <dd>{call.variables.iter().map(|(k, v)| format!("{k}: {}", v.clone().unwrap_or_else(|| "—".into()))).collect::<Vec<_>>().join(", ")}</dd>
                })}
                {(!call.notifications.is_empty()).then(|| view! {
                    <dt>"E-mails"</dt>
                    <dd>{call.notifications.iter().map(|n| match &n.detail {
                        Some(detail) => format!("{}: {} ({detail})", n.to, n.status),
                        None => format!("{}: {}", n.to, n.status),
                    }).collect::<Vec<_>>().join("; ")}</dd>
                })}
                <dt>"Call ID"</dt><dd><code>{call.id.clone()}</code></dd>
            </dl>
            {call.processing_notes.iter().map(|n| view! { <p class="notice error">{format!("{}: {}", n.step, n.message)}</p> }).collect_view()}
        </section>
        <section class="card" aria-labelledby="deliveries-title">
            <h2 id="deliveries-title">"Deliveries"</h2>
            <p class="muted" role="status">{event}</p>
            <crate::components::Outcome message=outcome/>
            <DeliveryLog deliveries=deliveries.deliveries show_webhook=true redeliver=on_redelivery/>
        </section>
        <section class="card" aria-labelledby="transcript-title">
            <h2 id="transcript-title">"Transcript"</h2>
            {erased.then(|| view! { <p class="muted">"Deleted with the call's data."</p> })}
            <ol class="transcript">
                {call.transcript.into_iter().map(|t| view! {
                    <li class=format!("turn {}", t.role)><strong>{if t.role == "agent" { "Agent" } else { "Caller" }}</strong> " " {t.text}</li>
                }).collect_view()}
            </ol>
        </section>
        <crate::pages::call_erasure::CallDataCard call_id=call.id.clone() erased_at on_erased/>
    }
    .into_any()
}
