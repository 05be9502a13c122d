//! Settings → Webhooks: the section's server functions (read, add, edit, delete, deploy, restore),
//! and the section itself: a toggle with the "N/5" badge, which opens what `webhook_list` shows
//! (the list with add, pencil and trash, the draft/deployed status with its Deploy button).

use crate::pages::webhook_form::Editing;
use crate::pages::webhook_list::{ChunkMissing, webhook_list};
use crate::pages::webhook_tools::SendOutcome;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use voicy_model::error::AppError;
use voicy_model::views::{
    DeploymentView, NewWebhook, WEBHOOK_LIMIT, WebhookPatch, WebhookView, WebhooksSection,
};

#[leptos::server(prefix = "/rpc", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn get_webhook_settings(agent_id: String) -> Result<WebhooksSection, AppError> {
    crate::server::page_reads::page_read!("get_webhook_settings", agent_id; {
        use crate::server::request_owner;
        use voicy_core::services::webhooks;
        let (state, owner) = request_owner().await?;
        let settings = webhooks::settings(&state, &owner, &agent_id).await?;
        Ok(WebhooksSection {
            count: settings.config.draft.webhooks.len(),
            settings: voicy_model::codec::Deferred::new(&settings).map_err(AppError::internal)?,
        })
    })
}

#[leptos::server(prefix = "/rpc", input = Json, output = voicy_model::codec::Json)]
pub async fn add_webhook(agent_id: String, input: NewWebhook) -> Result<WebhookView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::webhooks;
    let (state, owner) = request_owner().await?;
    webhooks::add(&state, &owner, &agent_id, &input).await
}

#[leptos::server(prefix = "/rpc", input = Json, output = voicy_model::codec::Json)]
pub async fn update_webhook(
    agent_id: String,
    webhook_id: String,
    patch: WebhookPatch,
) -> Result<WebhookView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::webhooks;
    let (state, owner) = request_owner().await?;
    webhooks::update(&state, &owner, &agent_id, &webhook_id, &patch).await
}

#[leptos::server(prefix = "/rpc", output = voicy_model::codec::Json)]
pub async fn delete_webhook(agent_id: String, webhook_id: String) -> Result<(), AppError> {
    use crate::server::request_owner;
    use voicy_core::services::webhooks;
    let (state, owner) = request_owner().await?;
    webhooks::delete(&state, &owner, &agent_id, &webhook_id).await
}

#[leptos::server(prefix = "/rpc", output = voicy_model::codec::Json)]
pub async fn deploy_agent(agent_id: String) -> Result<DeploymentView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::webhooks;
    let (state, owner) = request_owner().await?;
    webhooks::deploy(&state, &owner, &agent_id).await
}

#[leptos::server(prefix = "/rpc", output = voicy_model::codec::Json)]
pub async fn restore_version(agent_id: String, version: i64) -> Result<(), AppError> {
    use crate::server::request_owner;
    use voicy_core::services::versions;
    let (state, owner) = request_owner().await?;
    versions::restore(&state, &owner, &agent_id, version).await
}

/// Shared by the pieces of the section: what to reload and where to say how things ended.
#[derive(Clone, Copy)]
pub(crate) struct Section {
    pub agent_id: StoredValue<String>,
    pub refresh: RwSignal<u32>,
    pub outcome: RwSignal<Option<Result<String, String>>>,
    pub editing: RwSignal<Option<Editing>>,
    /// Whether the open form has changes that are not saved.
    pub dirty: RwSignal<bool>,
    /// The last test send of each webhook (by id): shown on its row across reloads.
    pub tests: RwSignal<Vec<(String, SendOutcome)>>,
    /// Where the keyboard focus goes once the list has been shown again after an action (a
    /// CSS selector), since the control that had it is gone with the old list.
    pub focus_after: StoredValue<Option<String>>,
}

impl Section {
    /// Opens a form (add, or edit a webhook). One form is open at a time: unsaved changes in the
    /// open one are not thrown away without asking.
    pub fn open(&self, editing: Editing) {
        if self.dirty.get_untracked() {
            let discard = window()
                .confirm_with_message(
                    "The webhook form that is open has unsaved changes. Discard them?",
                )
                .unwrap_or(false);
            if !discard {
                return;
            }
        }
        self.dirty.set(false);
        self.outcome.set(None);
        self.editing.set(Some(editing));
    }

    /// An action failed: why is shown, and the focus goes there.
    pub fn failed(&self, why: String) {
        self.outcome.set(Some(Err(why)));
        crate::components::focus_soon("#webhooks-outcome".to_owned());
    }

    /// Closes the open form; the focus goes back to the control that opened it.
    pub fn close(&self) {
        let opener = match self.editing.get_untracked() {
            Some(Editing::Existing(w)) => format!("#edit-{}", w.id),
            _ => "#add-webhook".to_owned(),
        };
        self.dirty.set(false);
        self.editing.set(None);
        crate::components::focus_soon(opener);
    }

    /// An action succeeded: its message is shown, the list reloads, and the focus goes to the
    /// message (a screen reader reads it; the next Tab continues from there).
    pub fn done(&self, message: String) {
        self.dirty.set(false);
        self.editing.set(None);
        self.outcome.set(Some(Ok(message)));
        self.focus_after.set_value(Some("#webhooks-outcome".to_owned()));
        self.refresh.update(|n| *n += 1);
    }
}

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
    let last_shown = RwSignal::new(None::<WebhooksSection>);
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
fn SectionBody(settings: WebhooksSection, section: Section, toggle: Toggle) -> impl IntoView {
    let WebhooksSection { count, settings } = settings;
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
