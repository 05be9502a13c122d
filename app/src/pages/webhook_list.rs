//! What the Webhooks section shows once it is opened: the Deploy bar, the webhooks with their
//! tools, the add control and the version history. The section starts closed, so this is a wasm
//! chunk of its own, fetched when the section is first opened (or ahead, when the pointer, a
//! finger or the keyboard comes to its toggle), not with the page: a first visit to Settings
//! downloads only what it shows.

use crate::components::{Outcome, short_time};
use crate::pages::deliveries::DeliveryLog;
use crate::pages::replay::ReplayPanel;
use crate::pages::stats::WebhookCharts;
use crate::pages::webhook_actions::{
    DeleteWebhook, DeployAgent, Editing, RestoreVersion, Section, SetWebhookPaused,
};
use crate::pages::webhook_form::WebhookForm;
use crate::pages::webhook_tools::{HealthLine, SendOutcome, SendTest};
use leptos::prelude::*;
use voicy_model::codec::Deferred;
use voicy_model::states::RetryPolicy;
use voicy_model::views::{
    DeliveryView, VersionView, WEBHOOK_LIMIT, WebhookHealth, WebhookSettings, WebhookView,
};

/// The section's chunk could not be fetched.
pub struct ChunkMissing;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkMissing {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self
    }
}

/// The opened section's content, built by the code of its chunk.
#[cfg(not(feature = "ssr"))]
#[leptos::wasm_split::wasm_split(webhook_list, wasm_split_path = ::leptos::wasm_split, fallible, preload(fetch_webhook_list_code))]
pub(crate) fn webhook_list(
    settings: Deferred<WebhookSettings>, section: Section,
) -> Result<AnyView, ChunkMissing> {
    Ok(opened(settings, section))
}

/// The server never renders the section open (it starts closed), but the page compiles there too.
#[cfg(feature = "ssr")]
pub(crate) async fn webhook_list(
    settings: Deferred<WebhookSettings>, section: Section,
) -> Result<AnyView, ChunkMissing> {
    Ok(opened(settings, section))
}

/// The list, from the settings the section was sent (decoded here, in this chunk: see `Deferred`).
fn opened(settings: Deferred<WebhookSettings>, section: Section) -> AnyView {
    match settings.open() {
        Ok(settings) => view! { <WebhookEditor settings section/> }.into_any(),
        Err(_) => view! {
            <p class="notice error" role="alert">"The webhooks could not be read. Reload the page to try again."</p>
        }
        .into_any(),
    }
}

#[component]
fn WebhookEditor(settings: WebhookSettings, section: Section) -> impl IntoView {
    let webhooks = settings.config.draft.webhooks.clone();
    let full = webhooks.len() >= WEBHOOK_LIMIT;
    // Shown again after an action: the focus goes where the action said (see `Section::done`).
    Effect::new(move || {
        if let Some(selector) = section.focus_after.try_update_value(Option::take).flatten() {
            crate::components::focus_soon(selector);
        }
    });
    view! {
        <p class="muted">"When a call ends, Voicy POSTs the full call data to every webhook below, all in parallel."</p>
        <DeployBar settings=settings.clone() section/>
        <div id="webhooks-outcome" tabindex="-1"><Outcome message=section.outcome/></div>
        {if webhooks.is_empty() {
            // Not while the add form is open below it.
            view! {
                <p class="empty" hidden=move || matches!(section.editing.get(), Some(Editing::New))>
                    "No webhooks yet. Add one with the + button."
                </p>
            }.into_any()
        } else {
            view! {
                <ul class="webhook-list">
                    {webhooks.into_iter().map(|webhook| {
                        let recent: Vec<DeliveryView> = settings.recent_deliveries.iter()
                            .filter(|d| d.webhook_id == webhook.id).cloned().collect();
                        let health = settings.health.iter().find(|h| h.webhook_id == webhook.id).cloned();
                        view! { <WebhookItem webhook recent health section/> }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <AddControl full section/>
        <History history=settings.history section/>
    }
}

#[component]
fn AddControl(full: bool, section: Section) -> impl IntoView {
    let adding = move || matches!(section.editing.get(), Some(Editing::New));
    view! {
        <Show when=adding fallback=move || view! {
            <div class="add-row">
                <button type="button" class="add" id="add-webhook" aria-label="Add webhook" disabled=full
                    aria-describedby=full.then_some("limit-note")
                    on:click=move |_| section.open(Editing::New)>
                    <span aria-hidden="true">"+"</span>
                </button>
                {if full {
                    view! { <p id="limit-note" class="muted">"Limit reached: 5 of 5 webhooks. Delete one to add another."</p> }.into_any()
                } else {
                    view! { <p class="muted">"Add webhook"</p> }.into_any()
                }}
            </div>
        }>
            <WebhookForm agent_id=section.agent_id.get_value() editing=Editing::New
                on_done=Callback::new(move |m| section.done(m)) on_cancel=Callback::new(move |()| section.close()) dirty=section.dirty/>
        </Show>
    }
}

#[component]
fn WebhookItem(
    webhook: WebhookView, recent: Vec<DeliveryView>, health: Option<WebhookHealth>,
    section: Section,
) -> impl IntoView {
    let id = webhook.id.clone();
    let is_editing = {
        let id = id.clone();
        move || matches!(section.editing.get(), Some(Editing::Existing(ref w)) if w.id == id)
    };
    let confirming = RwSignal::new(false);
    // Here, not in the confirmation: a Cancel pressed while the delete is under way closes the
    // confirmation, and its outcome must still be shown.
    let delete = ServerAction::<DeleteWebhook>::new();
    let name = webhook.name.clone();
    Effect::new(move || match delete.value().get() {
        Some(Ok(())) => section
            .done(format!("Webhook “{name}” deleted. Deploy to stop phone calls from using it.")),
        Some(Err(e)) => section.failed(e.to_string()),
        None => {}
    });
    let stored = StoredValue::new(webhook);
    let last_test = {
        let id = id.clone();
        Signal::derive(move || {
            section.tests.with(|t| t.iter().find(|(w, _)| *w == id).map(|(_, r)| r.clone()))
        })
    };
    let on_test = keep_test_result(section, id);
    view! {
        <li class="webhook">
            <Show when=is_editing.clone() fallback=move || {
                let w = stored.get_value();
                view! {
                    <WebhookSummary webhook=w.clone() health=health.clone() section confirming/>
                    <SendTest agent_id=section.agent_id.get_value() webhook_id=w.id.clone() name=w.name.clone()
                        last=last_test on_result=on_test/>
                    <ReplayPanel agent_id=section.agent_id.get_value() webhook_id=w.id.clone() name=w.name.clone()/>
                    <WebhookCharts agent_id=section.agent_id.get_value() webhook_id=w.id.clone() name=w.name.clone()/>
                    <details class="recent">
                        <summary>{format!("Recent deliveries ({})", recent.len())}</summary>
                        <DeliveryLog deliveries=recent.clone()/>
                        <p><a href=format!("/agents/{}/deliveries?webhook_id={}", section.agent_id.get_value(), w.id)>
                            {format!("Search every delivery to {}", w.name)}</a></p>
                    </details>
                    <Show when=move || confirming.get()>
                        <DeleteConfirm webhook=stored.get_value() delete section confirming/>
                    </Show>
                }
            }>
                <WebhookForm agent_id=section.agent_id.get_value() editing=Editing::Existing(stored.get_value())
                    on_done=Callback::new(move |m| section.done(m)) on_cancel=Callback::new(move |()| section.close()) dirty=section.dirty/>
            </Show>
        </li>
    }
    .into_any()
}

/// Keeps a test send's result on its webhook's row across the reload it causes.
fn keep_test_result(section: Section, id: String) -> Callback<SendOutcome> {
    Callback::new(move |result: SendOutcome| {
        section.tests.update(|t| {
            t.retain(|(w, _)| *w != id);
            t.push((id.clone(), result));
        });
        // The list is shown again (with the test among the recent deliveries): the focus
        // comes back to this row's Send test.
        section.focus_after.set_value(Some(format!("#send-test-{id}")));
        section.refresh.update(|n| *n += 1);
    })
}

/// A webhook's name, URL, what it sends with, its health, and its pencil and trash.
#[component]
fn WebhookSummary(
    webhook: WebhookView, health: Option<WebhookHealth>, section: Section,
    confirming: RwSignal<bool>,
) -> impl IntoView {
    let w = webhook;
    let (edit_label, delete_label) = (format!("Edit {}", w.name), format!("Delete {}", w.name));
    let stored = StoredValue::new(w.clone());
    view! {
        <div class="webhook-summary">
            <div class="grow">
                <strong class="webhook-name">{w.name.clone()}</strong>
                <code class="url">{w.url.clone()}</code>
                <p class="meta">
                    {if w.has_secret {
                        view! { <span class="pill ok">"Secret set"</span> }.into_any()
                    } else {
                        view! { <span class="pill">"No secret"</span> }.into_any()
                    }}
                    {w.standard_webhooks.then(|| view! { <span class="pill ok">"Standard Webhooks"</span> })}
                    {(w.retry_policy == RetryPolicy::Backoff).then(|| view! { <span class="pill ok">"Retries"</span> })}
                    {w.paused.then(|| view! { <span class="pill warn">"Paused"</span> })}
                    {w.headers.iter().map(|h| view! { <span class="pill mono">{h.name.clone()}</span> }).collect_view()}
                </p>
                {health.map(|health| view! { <HealthLine health/> })}
            </div>
            <div class="actions">
                <PauseToggle webhook=w.clone() section/>
                <button type="button" class="icon" id=format!("edit-{}", w.id) aria-label=edit_label title="Edit"
                    on:click=move |_| section.open(Editing::Existing(stored.get_value()))>
                    <Icon path=PENCIL/>
                </button>
                <button type="button" class="icon danger" id=format!("delete-{}", w.id) aria-label=delete_label title="Delete"
                    on:click=move |_| {
                        confirming.set(true);
                        crate::components::focus_soon(format!("#confirm-delete-{}", stored.get_value().id));
                    }>
                    <Icon path=TRASH/>
                </button>
            </div>
        </div>
    }
}

/// Pause or Resume: operational, at once for test and phone calls alike (no deploy).
#[component]
fn PauseToggle(webhook: WebhookView, section: Section) -> impl IntoView {
    let toggle = ServerAction::<SetWebhookPaused>::new();
    let (id, name, paused) = (webhook.id.clone(), webhook.name.clone(), webhook.paused);
    let focus = format!("#pause-{id}");
    Effect::new(move || match toggle.value().get() {
        Some(Ok(w)) => {
            let message = if w.paused {
                format!("“{}” is paused: calls are logged as paused and not sent to it.", w.name)
            } else {
                format!(
                    "“{}” is sending again. Redeliver what it missed from its deliveries.",
                    w.name
                )
            };
            section.done(message);
            section.focus_after.set_value(Some(focus.clone()));
        }
        Some(Err(e)) => section.failed(e.to_string()),
        None => {}
    });
    let (idle, busy, verb) =
        if paused { ("Resume", "Resuming…", "Resume") } else { ("Pause", "Pausing…", "Pause") };
    view! {
        <button type="button" class="secondary" id=format!("pause-{id}") aria-label=format!("{verb} {name}")
            disabled=move || toggle.pending().get()
            on:click=move |_| {
                toggle.dispatch(SetWebhookPaused {
                    agent_id: section.agent_id.get_value(),
                    webhook_id: id.clone(),
                    paused: !paused,
                });
            }>
            {move || if toggle.pending().get() { busy } else { idle }}
        </button>
    }
}

/// "Delete …?" with its two buttons; Escape or Cancel puts the focus back on the trash.
#[component]
fn DeleteConfirm(
    webhook: WebhookView, delete: ServerAction<DeleteWebhook>, section: Section,
    confirming: RwSignal<bool>,
) -> impl IntoView {
    let id = StoredValue::new(webhook.id.clone());
    let cancel_delete = move || {
        confirming.set(false);
        crate::components::focus_soon(format!("#delete-{}", id.get_value()));
    };
    view! {
        <div class="confirm" role="group" aria-label="Confirm delete"
            on:keydown=move |e| if e.key() == "Escape" { cancel_delete() }>
            <p>"Delete “" {webhook.name.clone()} "”? It is removed from the draft at once."</p>
            <button type="button" class="danger" id=format!("confirm-delete-{}", webhook.id)
                disabled=move || delete.pending().get()
                on:click=move |_| {
                    delete.dispatch(DeleteWebhook { agent_id: section.agent_id.get_value(), webhook_id: id.get_value() });
                }>
                {move || if delete.pending().get() { "Deleting…" } else { "Delete webhook" }}
            </button>
            <button type="button" on:click=move |_| cancel_delete()>"Cancel"</button>
        </div>
    }
}

#[component]
fn DeployBar(settings: WebhookSettings, section: Section) -> impl IntoView {
    let deploy = ServerAction::<DeployAgent>::new();
    Effect::new(move || match deploy.value().get() {
        Some(Ok(d)) => {
            section.done(format!("Deployed version {}. Phone calls now use it.", d.version))
        }
        Some(Err(e)) => section.failed(e.to_string()),
        None => {}
    });
    let changed = settings.config.has_undeployed_changes;
    let deployed = settings.config.deployed.is_some();
    let changes = settings.changes.clone();
    let status = match &settings.config.deployed {
        Some(d) => format!("Deployed: version {} · {}", d.version, short_time(&d.deployed_at)),
        None => "Not deployed yet".to_owned(),
    };
    view! {
        <div class="deploy-bar" class:changed=changed>
            <div class="grow">
                <p class="deploy-status">
                    <strong>{status}</strong>
                    {changed.then(|| view! { <span class="pill warn">"Undeployed changes"</span> })}
                </p>
                <p class="hint">"Changes take effect immediately for web (test) calls, but phone calls use the deployed version."</p>
                {(!changed).then(|| view! {
                    <p class="hint" id="deploy-hint">{if deployed { "Nothing to deploy: the draft is the deployed version." } else { "Nothing to deploy yet: add a webhook first." }}</p>
                })}
                {(!changes.is_empty()).then(|| view! {
                    <div class="changes">
                        <p id="changes-title"><strong>"Deploy will:"</strong></p>
                        <ul aria-labelledby="changes-title">
                            {changes.iter().map(|c| view! { <li>{c.description.clone()}</li> }).collect_view()}
                        </ul>
                    </div>
                })}
            </div>
            <button type="button" class="primary" disabled=move || !changed || deploy.pending().get()
                aria-describedby=(!changed).then_some("deploy-hint")
                on:click=move |_| { deploy.dispatch(DeployAgent { agent_id: section.agent_id.get_value() }); }>
                {move || if deploy.pending().get() { "Deploying…" } else { "Deploy" }}
            </button>
        </div>
    }
}

#[component]
fn History(history: Vec<VersionView>, section: Section) -> impl IntoView {
    (!history.is_empty()).then(|| {
        view! {
            <div class="history">
                <h3 id="history-title">"Version history"</h3>
                <ol class="history-list" aria-labelledby="history-title">
                    {history.into_iter().map(|v| view! { <VersionItem version=v section/> }).collect_view()}
                </ol>
            </div>
        }
    })
}

#[component]
fn VersionItem(version: VersionView, section: Section) -> impl IntoView {
    let restore = ServerAction::<RestoreVersion>::new();
    let confirming = RwSignal::new(false);
    let number = version.version;
    Effect::new(move || match restore.value().get() {
        Some(Ok(())) => section.done(format!(
            "Version {number} restored to the draft. Review what Deploy will change, then deploy."
        )),
        Some(Err(e)) => section.failed(e.to_string()),
        None => {}
    });
    let by = version.deployed_by.clone().map(|by| format!(" · by {by}")).unwrap_or_default();
    let summary = if version.changes.is_empty() {
        view! { <p class="hint">"No changes from the version before."</p> }.into_any()
    } else {
        // One change a line: a version that changed several things stays readable.
        view! { <ul class="hint changes-list">{version.changes.iter().map(|c| view! { <li>{c.description.clone()}</li> }).collect_view()}</ul> }.into_any()
    };
    view! {
        <li class="version">
            <p>
                <span class="mono">"v" {number}</span> " · " {short_time(&version.deployed_at)} {by}
                <button type="button" class="link" aria-label=format!("Restore version {number} to the draft")
                    on:click=move |_| confirming.set(true)>"Restore to draft"</button>
            </p>
            {summary}
            <Show when=move || confirming.get()>
                <div class="confirm" role="group" aria-label=format!("Confirm restoring version {number}")>
                    <p>"Replace the draft's webhooks and post-call settings with version " {number} "? Nothing is deployed until you deploy."</p>
                    <button type="button" class="primary" disabled=move || restore.pending().get()
                        on:click=move |_| { restore.dispatch(RestoreVersion { agent_id: section.agent_id.get_value(), version: number }); }>
                        {move || if restore.pending().get() { "Restoring…" } else { "Restore" }}
                    </button>
                    <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </div>
            </Show>
        </li>
    }
}

/// An 18 px icon of one path, hidden from assistive technology (its button carries the name).
#[component]
fn Icon(path: &'static str) -> impl IntoView {
    view! {
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
            <path fill="currentColor" d=path/>
        </svg>
    }
}

const PENCIL: &str = "M3 17.25V21h3.75L17.8 9.94l-3.75-3.75L3 17.25zm17.7-10.2a1 1 0 0 0 0-1.41l-2.34-2.34a1 1 0 0 0-1.41 0l-1.83 1.83 3.75 3.75 1.83-1.83z";
const TRASH: &str = "M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z";
