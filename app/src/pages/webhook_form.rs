//! The add/edit form of a webhook. Validation happens on the server; its messages appear beside
//! the fields they name. Editing never shows a stored secret or header value: blank keeps them.

use super::webhook_actions::{Editing, add_webhook, update_webhook};
use super::webhook_tools::GenerateSecret;
use crate::components::FieldError;
use leptos::prelude::*;
use voicy_model::error::AppError;
use voicy_model::views::{HEADER_LIMIT, HeaderInput, NewWebhook, WebhookPatch};

/// One row of the header editor. `stored` rows came from the server, with their value hidden.
#[derive(Clone, Copy)]
struct HeaderRow {
    key: usize,
    name: RwSignal<String>,
    value: RwSignal<String>,
    stored: bool,
}

#[derive(Clone)]
enum Request {
    Add(String, NewWebhook),
    Update(String, String, WebhookPatch),
}

#[component]
pub fn WebhookForm(
    agent_id: String,
    editing: Editing,
    on_done: Callback<String>,
    on_cancel: Callback<()>,
    /// Kept up to date with whether the form differs from what is stored.
    #[prop(optional)]
    dirty: Option<RwSignal<bool>>,
) -> impl IntoView {
    let existing = match &editing {
        Editing::Existing(w) => Some(w.clone()),
        Editing::New => None,
    };
    let prefix = existing.as_ref().map_or_else(|| "new".to_owned(), |w| w.id.clone());
    let has_secret = existing.as_ref().is_some_and(|w| w.has_secret);
    let name = RwSignal::new(existing.as_ref().map(|w| w.name.clone()).unwrap_or_default());
    let url = RwSignal::new(existing.as_ref().map(|w| w.url.clone()).unwrap_or_default());
    let secret = RwSignal::new(String::new());
    let clear_secret = RwSignal::new(false);
    let initial_standard = existing.as_ref().is_some_and(|w| w.standard_webhooks);
    let standard = RwSignal::new(initial_standard);
    // A generated secret is shown (the owner copies it now: it is never shown again).
    let generate = ServerAction::<GenerateSecret>::new();
    let revealed = RwSignal::new(false);
    let secret_field = NodeRef::<leptos::html::Input>::new();
    Effect::new(move || {
        if let Some(Ok(generated)) = generate.value().get() {
            secret.set(generated);
            clear_secret.set(false);
            standard.set(true); // what such a secret is for
            revealed.set(true);
            // Selected, once the field shows it, for a copy with one keystroke.
            request_animation_frame(move || {
                if let Some(input) = secret_field.get_untracked() {
                    let _ = input.focus();
                    input.select();
                }
            });
        }
    });
    let next_key = StoredValue::new(0usize);
    let new_row = move |name: String, stored: bool| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        HeaderRow { key, name: RwSignal::new(name), value: RwSignal::new(String::new()), stored }
    };
    let rows = RwSignal::new(
        existing
            .as_ref()
            .map(|w| w.headers.iter().map(|h| new_row(h.name.clone(), true)).collect())
            .unwrap_or_else(Vec::new),
    );

    if let Some(dirty) = dirty {
        let (initial_name, initial_url) = (name.get_untracked(), url.get_untracked());
        let initial_headers: Vec<String> =
            rows.with_untracked(|rs| rs.iter().map(|r| r.name.get_untracked()).collect());
        Effect::new(move || {
            let headers_changed = rows.with(|rs| {
                rs.len() != initial_headers.len()
                    || rs
                        .iter()
                        .zip(&initial_headers)
                        .any(|(r, initial)| r.name.get() != *initial || !r.value.get().is_empty())
            });
            let changed = name.get() != initial_name
                || url.get() != initial_url
                || !secret.get().is_empty()
                || clear_secret.get()
                || standard.get() != initial_standard
                || headers_changed;
            dirty.set(changed);
        });
    }

    // Opening the form moves the focus to its first field, where a keyboard user continues.
    let first_field = NodeRef::<leptos::html::Input>::new();
    Effect::new(move || {
        if let Some(input) = first_field.get() {
            let _ = input.focus();
        }
    });

    let save = Action::new(move |request: &Request| {
        let request = request.clone();
        async move {
            match request {
                Request::Add(agent_id, input) => add_webhook(agent_id, input).await,
                Request::Update(agent_id, webhook_id, patch) => {
                    update_webhook(agent_id, webhook_id, patch).await
                }
            }
        }
    });
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let field =
        move |f: String| Signal::derive(move || error.get().and_then(|e: AppError| e.field(&f)));
    // For `aria-invalid`: whether the last save named this field.
    let invalid = move |f: String| {
        error.with(|e| e.as_ref().and_then(|e| e.field(&f)).is_some()).then_some("true")
    };
    let is_new = existing.is_none();
    Effect::new(move || {
        if let Some(Ok(saved)) = save.value().get() {
            let verb = if is_new { "added" } else { "saved" };
            on_done.run(format!(
                "Webhook “{}” {verb}. Deploy to use it on phone calls; test calls use it now.",
                saved.name
            ));
        }
    });

    let webhook_id = existing.as_ref().map(|w| w.id.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let headers: Vec<HeaderInput> = rows
            .get_untracked()
            .iter()
            .map(|r| HeaderInput {
                name: r.name.get_untracked(),
                value: Some(r.value.get_untracked()),
            })
            .collect();
        let secret_value = secret.get_untracked();
        let request = match &webhook_id {
            None => Request::Add(
                agent_id.clone(),
                NewWebhook {
                    name: name.get_untracked(),
                    url: url.get_untracked(),
                    secret: Some(secret_value),
                    headers,
                    standard_webhooks: standard.get_untracked(),
                },
            ),
            Some(id) => Request::Update(
                agent_id.clone(),
                id.clone(),
                WebhookPatch {
                    name: Some(name.get_untracked()),
                    url: Some(url.get_untracked()),
                    // Removing the secret wins over a value typed before ticking the box.
                    secret: (!clear_secret.get_untracked()).then_some(secret_value),
                    clear_secret: clear_secret.get_untracked(),
                    headers: Some(headers),
                    standard_webhooks: Some(standard.get_untracked()),
                },
            ),
        };
        save.dispatch(request);
    };

    // Kept values go wherever the URL points: say so when the host changes under them (the doc
    // lets blank keep them on any edit, URL included; the owner may not think of it).
    let stored_host = existing.as_ref().map(|w| host_of(&w.url));
    let kept_values_move = Signal::derive(move || {
        let Some(stored_host) = &stored_host else {
            return None;
        };
        let new_host = url.with(|u| host_of(u));
        let keeps_secret = has_secret && secret.with(String::is_empty) && !clear_secret.get();
        let keeps_headers =
            rows.with(|rs| rs.iter().any(|r| r.stored && r.value.with(String::is_empty)));
        (!new_host.is_empty() && new_host != *stored_host && (keeps_secret || keeps_headers)).then(|| {
            let what = match (keeps_secret, keeps_headers) {
                (true, true) => "stored signing secret and header values",
                (true, false) => "stored signing secret",
                _ => "stored header values",
            };
            format!("The {what} will be sent to {new_host}, a different host. Type new ones, or remove them, if it should not have them.")
        })
    });
    let indexed_rows =
        move || rows.get().into_iter().enumerate().collect::<Vec<(usize, HeaderRow)>>();
    let id = move |suffix: &str| format!("wh-{prefix}-{suffix}");
    let (name_id, url_id, secret_id, standard_id) =
        (id("name"), id("url"), id("secret"), id("standard"));
    let form_id = StoredValue::new(id("form"));
    // Escape is easy to press by accident: changes are not thrown away without asking.
    let discard_ok = move || {
        !dirty.is_some_and(|d| d.get_untracked())
            || window().confirm_with_message("Discard the changes in this form?").unwrap_or(false)
    };
    let general_error = move || error.get().filter(|e| e.fields().is_none()).map(|e| e.to_string());
    view! {
        <form class="webhook-form" id=id("form") on:submit=submit novalidate
            on:keydown=move |e| if e.key() == "Escape" && discard_ok() { e.prevent_default(); on_cancel.run(()) }
            aria-label=if is_new { "Add webhook".to_owned() } else { format!("Edit {}", name.get_untracked()) }>
            <h3>{if is_new { "Add webhook" } else { "Edit webhook" }}</h3>
            <div class="field">
                <label for=name_id.clone()>"Name"</label>
                <input id=name_id.clone() node_ref=first_field required maxlength="100" placeholder="e.g. CRM" autocomplete="off"
                    bind:value=name aria-describedby=format!("{name_id}-error")
                    aria-invalid=move || invalid("name".into())/>
                <FieldError id=format!("{name_id}-error") message=field("name".into())/>
            </div>
            <div class="field">
                <label for=url_id.clone()>"URL"</label>
                <input id=url_id.clone() type="url" required placeholder="https://example.com/hooks/voicy"
                    autocomplete="off" bind:value=url aria-describedby=format!("{url_id}-error {url_id}-host")
                    aria-invalid=move || invalid("url".into())/>
                <FieldError id=format!("{url_id}-error") message=field("url".into())/>
                <p id=format!("{url_id}-host") class="notice warn" role="status" hidden=move || kept_values_move.with(Option::is_none)>
                    {move || kept_values_move.get()}
                </p>
            </div>
            <div class="field">
                <label for=secret_id.clone()>{if has_secret { "Signing Secret (a secret is set)" } else { "Signing Secret" }}</label>
                <div class="input-row">
                <input id=secret_id.clone() node_ref=secret_field type=move || if revealed.get() { "text" } else { "password" }
                    autocomplete="new-password" maxlength="256" spellcheck="false"
                    bind:value=secret disabled=move || clear_secret.get()
                    placeholder=if has_secret { "Leave blank to keep the existing secret" } else { "Optional" }
                    aria-describedby=format!("{secret_id}-hint {secret_id}-error")/>
                <button type="button" class="secondary" disabled=move || generate.pending().get() || clear_secret.get()
                    on:click=move |_| { generate.dispatch(GenerateSecret {}); }>
                    {move || if generate.pending().get() { "Generating…" } else { "Generate secret" }}
                </button>
                </div>
                {move || revealed.get().then(|| view! {
                    <p class="notice ok" role="status">
                        "A new secret is in the field, selected, and Standard Webhooks signatures are on. Copy it now (Ctrl+C or ⌘C) into your receiver: once saved, it is never shown again."
                        {has_secret.then_some(" Saving replaces the current secret.")}
                    </p>
                })}
                {move || generate.value().get().and_then(Result::err).map(|e| view! { <p class="notice error" role="alert">{e.to_string()}</p> })}
                <p class="hint" id=format!("{secret_id}-hint")>
                    {if has_secret {
                        "Leave the secret field blank to keep the existing secret, or type a new one to replace it."
                    } else {
                        "Optional. With a secret, each request carries x-voicy-signature: the HMAC-SHA256 of the raw body."
                    }}
                </p>
                {has_secret.then(|| view! {
                    <label class="check">
                        <input type="checkbox" bind:checked=clear_secret/>
                        "Remove the secret (requests will no longer be signed)"
                    </label>
                })}
                <FieldError id=format!("{secret_id}-error") message=field("secret".into())/>
            </div>
            <div class="field">
                <label class="check">
                    <input type="checkbox" bind:checked=standard aria-describedby=format!("{standard_id}-hint {standard_id}-error")/>
                    "Standard Webhooks signatures"
                </label>
                <p class="hint" id=format!("{standard_id}-hint")>
                    "Also sends webhook-id, webhook-timestamp and webhook-signature, which the Standard Webhooks libraries verify "
                    "(with replay protection). Needs a whsec_ secret: use Generate secret."
                </p>
                <FieldError id=format!("{standard_id}-error") message=field("standard_webhooks".into())/>
            </div>
            <fieldset class="headers">
                <legend>"Custom Headers"</legend>
                <p class="hint">
                    "Added to every request, before Voicy's own headers. Values are stored server-side and never shown again. "
                    {(!is_new).then_some("When editing, leave all value fields blank to preserve the existing headers.")}
                </p>
                <FieldError id=id("headers-error") message=field("headers".into())/>
                <For each=indexed_rows key=|(i, row)| (row.key, *i) let:((index, row))>
                    <div class="header-row">
                        <div class="field">
                            <input aria-label=format!("Header {} name", index + 1) placeholder="Authorization"
                                autocomplete="off" bind:value=row.name aria-describedby=format!("wh-h{}-name-error", row.key)
                                aria-invalid=move || invalid(format!("headers[{index}].name"))/>
                            <FieldError id=format!("wh-h{}-name-error", row.key) message=field(format!("headers[{index}].name"))/>
                        </div>
                        <div class="field">
                            <input aria-label=format!("Header {} value", index + 1) autocomplete="off"
                                placeholder=if row.stored { "Stored — leave blank to keep" } else { "Value" }
                                bind:value=row.value aria-describedby=format!("wh-h{}-value-error", row.key)
                                aria-invalid=move || invalid(format!("headers[{index}].value"))/>
                            <FieldError id=format!("wh-h{}-value-error", row.key) message=field(format!("headers[{index}].value"))/>
                        </div>
                        <button type="button" class="icon" aria-label=format!("Remove header {}", index + 1) title="Remove header"
                            on:click=move |_| rows.update(|rs| rs.retain(|r| r.key != row.key))>
                            "×"
                        </button>
                    </div>
                </For>
                <button type="button" class="secondary" disabled=move || rows.with(|r| r.len() >= HEADER_LIMIT)
                    on:click=move |_| {
                        let row = new_row(String::new(), false);
                        rows.update(|rs| rs.push(row));
                        // Straight on to the new header's name.
                        crate::components::focus_soon(format!("#{} .header-row:last-of-type input", form_id.get_value()));
                    }>
                    {move || if rows.with(|r| r.len() >= HEADER_LIMIT) { "10 headers: the most allowed" } else { "Add header" }}
                </button>
            </fieldset>
            {move || general_error().map(|m| view! { <p class="notice error" role="alert">{m}</p> })}
            {move || error.get().filter(|e| e.fields().is_some()).map(|_| view! {
                <p class="notice error" role="alert">"Nothing was saved: fix the fields marked above and try again."</p>
            })}
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    {move || match (save.pending().get(), is_new) {
                        (true, _) => "Saving…",
                        (false, true) => "Add",
                        (false, false) => "Save",
                    }}
                </button>
                <button type="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
        </form>
    }
    .into_any()
}

/// The host of a URL as typed (lower-cased, without user, port or path); empty if there is none.
/// Enough to tell "another host" in the form; the server parses the URL for real.
fn host_of(url: &str) -> String {
    let rest = url.trim().split_once("://").map_or("", |(_, rest)| rest);
    // `\` ends the host too, as it does for the server's URL parser with https.
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn the_host_is_read_as_the_server_would_compare_it() {
        assert_eq!(host_of("https://CRM.example.com:8443/hooks?x=1"), "crm.example.com");
        assert_eq!(host_of("https://user@crm.example.com./h"), "crm.example.com");
        assert_eq!(host_of("https://[2001:db8::1]:443/h"), "[2001:db8::1]");
        assert_eq!(host_of("not a url"), "");
        assert_eq!(host_of("https://evil.example\\@crm.example.com/"), "evil.example");
    }
}
