//! Settings → Webhooks: a toggle with the "N/5" badge, which opens what `webhook_list` shows
//! (the list with add, pencil and trash, the draft/deployed status with its Deploy button). The
//! section's server functions and shared state are in `webhook_actions`.

use crate::pages::webhook_actions::{Section, get_webhook_settings};
use crate::pages::webhook_list::{ChunkMissing, webhook_list};
use leptos::prelude::*;
use voicy_model::error::AppError;
use voicy_model::views::{WEBHOOK_LIMIT, WebhooksSectionView};

#[component]
pub fn WebhooksSection(agent_id: String) -> impl IntoView {
    let section = Section {
        agent_id: StoredValue::new(agent_id),
        refresh: RwSignal::new(0),
        outcome: RwSignal::new(None),
        editing: RwSignal::new(None),
        dirty: RwSignal::new(false),
        tests: RwSignal::new(Vec::new()),
        focus_after: StoredValue::new(None),
    };
    let toggle = Toggle { expanded: RwSignal::new(false), opened: RwSignal::new(false) };
    // A link to …/settings#webhooks opens the section (effects run in the browser only).
    Effect::new(move || {
        if window().location().hash().is_ok_and(|hash| hash == "#webhooks") {
            toggle.expanded.set(true);
            toggle.opened.set(true);
        }
    });
    let draft_changed = use_context::<crate::pages::processing::DraftChanged>();
    let settings = Resource::new(
        move || {
            (section.agent_id.get_value(), section.refresh.get(), draft_changed.map(|d| d.0.get()))
        },
        |(agent_id, _, _)| get_webhook_settings(agent_id),
    );
    // What was last shown stays when a reload of it fails (a connection lost for a moment):
    // the failure is said above it, with a way to try again.
    let last_shown = RwSignal::new(None::<WebhooksSectionView>);
    let try_again = move |_| section.refresh.update(|n| *n += 1);
    view! {
        <section class="card webhooks" id="webhooks" aria-labelledby="webhooks-heading">
            <Transition fallback=|| view! { <p class="muted">"Loading webhooks…"</p> }>
                {move || Suspend::new(async move {
                    let failed = |e: AppError| view! {
                        <div class="notice error" role="alert">
                            <p>{format!("The webhooks could not be loaded. {e}")}</p>
                            <button type="button" on:click=try_again>"Try again"</button>
                        </div>
                    };
                    match settings.await {
                        Ok(settings) => {
                            last_shown.set(Some(settings.clone()));
                            view! { <SectionBody settings section toggle/> }.into_any()
                        }
                        Err(e) => match last_shown.get_untracked() {
                            Some(settings) => view! { {failed(e)} <SectionBody settings section toggle/> }.into_any(),
                            None => view! { <h2 id="webhooks-heading">"Webhooks"</h2> {failed(e)} }.into_any(),
                        },
                    }
                })}
            </Transition>
        </section>
    }
}

/// The section's disclosure: whether it is open now, and whether it has ever been (its content,
/// once built, stays, so that closing and opening it again keeps a form being filled in).
#[derive(Clone, Copy)]
struct Toggle {
    expanded: RwSignal<bool>,
    opened: RwSignal<bool>,
}

#[component]
fn SectionBody(settings: WebhooksSectionView, section: Section, toggle: Toggle) -> impl IntoView {
    let WebhooksSectionView { count, settings } = settings;
    let full = count >= WEBHOOK_LIMIT;
    let Toggle { expanded, opened } = toggle;
    let content = move || {
        opened.get().then(|| {
            let settings = settings.clone();
            view! {
                <Suspense fallback=|| view! { <p class="muted">"Loading webhooks…"</p> }>
                    {Suspend::new(async move { webhook_list(settings, section).await.unwrap_or_else(|ChunkMissing| list_code_missing()) })}
                </Suspense>
            }
        })
    };
    view! {
        <h2 id="webhooks-heading" class="section-heading">
            <button type="button" class="disclosure" aria-expanded=move || expanded.get().to_string()
                aria-controls="webhooks-body"
                on:click=move |_| {
                    expanded.update(|e| *e = !*e);
                    opened.set(true);
                }
                on:pointerover=move |_| fetch_list_code_ahead() on:focus=move |_| fetch_list_code_ahead()>
                <span class="chevron" aria-hidden="true"></span>
                "Webhooks"
                <span class="badge" class:full=full>{format!("{count}/{WEBHOOK_LIMIT}")}</span>
            </button>
        </h2>
        <div id="webhooks-body" class="section-body" hidden=move || !expanded.get()>{content}</div>
    }
}

/// What the opened section shows when its code cannot be fetched: most likely a release replaced
/// the files this page was built with, which only loading the page again mends.
fn list_code_missing() -> AnyView {
    view! {
        <div class="notice error" role="alert">
            <p>"The webhooks could not be shown: Voicy may have been updated since this page opened."</p>
            <button type="button" on:click=|_| { let _ = window().location().reload(); }>"Reload the page"</button>
        </div>
    }
    .into_any()
}

/// Starts loading the opened section's code when someone is about to open it, once per page
/// load (the pointer crossing the toggle's parts asks again and again); a failed fetch costs
/// nothing (opening the section tries again, and says so if the code is still missing).
fn fetch_list_code_ahead() {
    #[cfg(not(feature = "ssr"))]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        static ASKED: AtomicBool = AtomicBool::new(false);
        if !ASKED.swap(true, Ordering::Relaxed) {
            leptos::task::spawn_local(async {
                let _ = crate::pages::webhook_list::fetch_webhook_list_code().await;
            });
        }
    }
}
