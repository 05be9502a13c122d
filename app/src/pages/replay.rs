//! "Redeliver failed…" on a webhook's row: a time range (the last 24 hours to begin with), then
//! a live progress bar of the bulk replay until it is done, with Cancel.

use leptos::prelude::*;
use voicy_model::error::AppError;
use voicy_model::states::ReplayState;
use voicy_model::views::{NewReplay, ReplayView};

#[leptos::server(prefix = "/rpc", endpoint = "start_replay", output = voicy_model::codec::Json)]
pub async fn start_replay(
    agent_id: String, webhook_id: String, input: NewReplay,
) -> Result<ReplayView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::replays;
    replays::create(&request_owner().await?, &agent_id, &webhook_id, &input).await
}

#[leptos::server(prefix = "/rpc", endpoint = "get_replay", output = voicy_model::codec::Json)]
pub async fn get_replay(replay_id: String) -> Result<ReplayView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::replays;
    replays::get(&request_owner().await?, &replay_id).await
}

#[leptos::server(prefix = "/rpc", endpoint = "cancel_replay", output = voicy_model::codec::Json)]
pub async fn cancel_replay(replay_id: String) -> Result<ReplayView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::replays;
    replays::cancel(&request_owner().await?, &replay_id).await
}

/// A `datetime-local` value (the browser's local time) as an RFC 3339 instant, by the browser's
/// own calendar (daylight saving included); as typed when it cannot be read, for the server to
/// explain.
fn instant_of_local(local: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&local.into());
        if !date.get_time().is_nan() {
            return date.to_iso_string().into();
        }
    }
    local.to_owned()
}

/// `hours_ago` hours before now, as a `datetime-local` value in the browser's local time.
fn local_now_minus(hours_ago: f64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let at = js_sys::Date::new(&(js_sys::Date::now() - hours_ago * 3_600_000.0).into());
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            at.get_full_year(),
            at.get_month() + 1,
            at.get_date(),
            at.get_hours(),
            at.get_minutes()
        );
    }
    #[allow(unreachable_code)]
    {
        let _ = hours_ago;
        String::new()
    }
}

#[component]
pub fn ReplayPanel(agent_id: String, webhook_id: String, name: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let (since, until) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    // Filled in the browser, which knows the owner's time zone.
    Effect::new(move || {
        if open.get() && since.get_untracked().is_empty() {
            since.set(local_now_minus(24.0));
            until.set(local_now_minus(-1.0 / 60.0));
        }
    });
    let start = ServerAction::<StartReplay>::new();
    let replay = RwSignal::new(None::<ReplayView>);
    Effect::new(move || {
        if let Some(Ok(started)) = start.value().get() {
            replay.set(Some(started));
        }
    });
    let error = Signal::derive(move || start.value().get().and_then(Result::err));
    let errors = crate::components::SaveErrors(error);
    let id = format!("replay-{webhook_id}");
    let submit = {
        let (agent_id, webhook_id) = (agent_id.clone(), webhook_id.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let input = NewReplay {
                since: instant_of_local(&since.get_untracked()),
                until: instant_of_local(&until.get_untracked()),
            };
            start.dispatch(StartReplay {
                agent_id: agent_id.clone(),
                webhook_id: webhook_id.clone(),
                input,
            });
        }
    };
    view! {
        <div class="replay">
            <button type="button" class="secondary" aria-expanded=move || open.get().to_string()
                aria-controls=id.clone() on:click=move |_| open.update(|o| *o = !*o)>
                "Redeliver failed…" <span class="visually-hidden">{format!(" of {name}")}</span>
            </button>
            <div id=id.clone() hidden=move || !open.get()>
                <form class="replay-form" on:submit=submit aria-label=format!("Redeliver failed calls of {name}") novalidate>
                    <p class="hint">"Every call of this range whose delivery to this webhook failed (and that nothing delivered since) is sent once more, at a steady pace."</p>
                    <div class="field-row">
                        <div class="field">
                            <label for=format!("{id}-since")>"From"</label>
                            <input id=format!("{id}-since") type="datetime-local" bind:value=since
                                aria-describedby=format!("{id}-since-error")/>
                            <crate::components::FieldError id=format!("{id}-since-error") message=errors.field("since".into())/>
                        </div>
                        <div class="field">
                            <label for=format!("{id}-until")>"To"</label>
                            <input id=format!("{id}-until") type="datetime-local" bind:value=until
                                aria-describedby=format!("{id}-until-error")/>
                            <crate::components::FieldError id=format!("{id}-until-error") message=errors.field("until".into())/>
                        </div>
                    </div>
                    {move || error.get().filter(|e| e.fields().is_none()).map(|e| view! { <p class="notice error" role="alert">{e.to_string()}</p> })}
                    <crate::components::SubmitButton pending=start.pending() idle="Redeliver failed calls" busy="Starting…"/>
                </form>
                {move || replay.get().map(|r| view! { <ReplayProgress replay=r/> })}
            </div>
        </div>
    }
}

/// The replay's progress, read again every second while it runs.
#[component]
fn ReplayProgress(replay: ReplayView) -> impl IntoView {
    let current = RwSignal::new(replay);
    let cancel = ServerAction::<CancelReplay>::new();
    Effect::new(move || {
        if let Some(Ok(cancelled)) = cancel.value().get() {
            current.set(cancelled);
        }
    });
    Effect::new(move || {
        let r = current.get();
        if r.state == ReplayState::Running {
            set_timeout(
                move || {
                    leptos::task::spawn_local(async move {
                        if let Ok(fresh) = get_replay(r.id.clone()).await {
                            current.set(fresh);
                        }
                    })
                },
                std::time::Duration::from_millis(1000),
            );
        }
    });
    view! {
        {move || {
            let r = current.get();
            let summary = match r.state {
                ReplayState::Running => format!("Sent {} of {} · {} delivered · {} failed", r.sent, r.total, r.ok, r.failed),
                ReplayState::Done if r.total == 0 => "Nothing to redeliver: no failed calls in this range.".to_owned(),
                ReplayState::Done => format!("Done: {} of {} delivered, {} failed.", r.ok, r.total, r.failed),
                ReplayState::Cancelled => format!("Cancelled after {} of {} ({} delivered).", r.sent, r.total, r.ok),
            };
            let id = r.id.clone();
            view! {
                <div class="replay-progress" role="status">
                    <progress max=r.total.max(1) value=r.sent aria-label="Redelivered so far"></progress>
                    <p>{summary}</p>
                    {(r.state == ReplayState::Running).then(|| view! {
                        <button type="button" class="secondary" disabled=move || cancel.pending().get()
                            on:click=move |_| { cancel.dispatch(CancelReplay { replay_id: id.clone() }); }>
                            {move || if cancel.pending().get() { "Cancelling…" } else { "Cancel replay" }}
                        </button>
                    })}
                </div>
            }
        }}
    }
}
