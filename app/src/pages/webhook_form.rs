//! The add/edit form of a webhook. Validation happens on the server; its messages appear beside
//! the fields they name. Editing never shows a stored secret or header value: blank keeps them.

use super::webhook_actions::{Editing, add_webhook, update_webhook};
use super::webhook_headers::{HeaderEditor, HeaderRow, HeaderRows};
use super::webhook_tools::GenerateSecret;
use crate::components::{FieldError, SaveErrors, SubmitButton};
use leptos::prelude::*;
use voicy_model::error::AppError;
use voicy_model::states::RetryPolicy;
use voicy_model::views::{NewWebhook, WebhookPatch, WebhookView};

#[derive(Clone)]
enum Request {
    Add(String, NewWebhook),
    Update(String, String, WebhookPatch),
}

/// What the owner has typed, one signal a field.
#[derive(Clone, Copy)]
struct Fields {
    name: RwSignal<String>,
    url: RwSignal<String>,
    secret: RwSignal<String>,
    clear_secret: RwSignal<bool>,
    standard: RwSignal<bool>,
    /// `none` or `backoff`.
    retry: RwSignal<String>,
    headers: HeaderRows,
}

impl Fields {
    fn of(existing: Option<&WebhookView>) -> Self {
        let headers = HeaderRows::default();
        if let Some(w) = existing {
            headers.rows.set(w.headers.iter().map(|h| headers.row(h.name.clone(), true)).collect());
        }
        Self {
            name: RwSignal::new(existing.map(|w| w.name.clone()).unwrap_or_default()),
            url: RwSignal::new(existing.map(|w| w.url.clone()).unwrap_or_default()),
            secret: RwSignal::new(String::new()),
            clear_secret: RwSignal::new(false),
            standard: RwSignal::new(existing.is_some_and(|w| w.standard_webhooks)),
            retry: RwSignal::new(
                existing.map_or(RetryPolicy::None, |w| w.retry_policy).as_str().to_owned(),
            ),
            headers,
        }
    }

    /// The request that saves them: an add, or a patch of the webhook `webhook_id`.
    fn request(&self, agent_id: &str, webhook_id: Option<&String>) -> Request {
        let headers = self.headers.rows.get_untracked().iter().map(HeaderRow::input).collect();
        let secret = self.secret.get_untracked();
        let (name, url) = (self.name.get_untracked(), self.url.get_untracked());
        let standard_webhooks = self.standard.get_untracked();
        let retry_policy = Some(self.retry.get_untracked());
        match webhook_id {
            None => Request::Add(
                agent_id.to_owned(),
                NewWebhook {
                    name,
                    url,
                    secret: Some(secret),
                    headers,
                    standard_webhooks,
                    retry_policy,
                },
            ),
            Some(id) => {
                let clear_secret = self.clear_secret.get_untracked();
                let patch = WebhookPatch {
                    name: Some(name),
                    url: Some(url),
                    // Removing the secret wins over a value typed before ticking the box.
                    secret: (!clear_secret).then_some(secret),
                    clear_secret,
                    headers: Some(headers),
                    standard_webhooks: Some(standard_webhooks),
                    retry_policy,
                };
                Request::Update(agent_id.to_owned(), id.clone(), patch)
            }
        }
    }

    /// Keeps `dirty` saying whether the fields differ from what they started as.
    fn track_changes(self, dirty: RwSignal<bool>) {
        let (initial_name, initial_url) = (self.name.get_untracked(), self.url.get_untracked());
        let initial_standard = self.standard.get_untracked();
        let initial_retry = self.retry.get_untracked();
        let initial_headers = self.headers.names_untracked();
        Effect::new(move || {
            let changed = self.name.get() != initial_name
                || self.url.get() != initial_url
                || !self.secret.get().is_empty()
                || self.clear_secret.get()
                || self.standard.get() != initial_standard
                || self.retry.get() != initial_retry
                || self.headers.changed_from(&initial_headers);
            dirty.set(changed);
        });
    }

    /// Kept values go wherever the URL points: a note when the host changes under them (the doc
    /// lets blank keep them on any edit, URL included; the owner may not think of it).
    fn kept_values_move(self, existing: Option<&WebhookView>) -> Signal<Option<String>> {
        let stored_host = existing.map(|w| host_of(&w.url));
        let has_secret = existing.is_some_and(|w| w.has_secret);
        Signal::derive(move || {
            let stored_host = stored_host.as_ref()?;
            let new_host = self.url.with(|u| host_of(u));
            let keeps_secret =
                has_secret && self.secret.with(String::is_empty) && !self.clear_secret.get();
            let keeps_headers = self.headers.keeps_stored_values();
            if new_host.is_empty() || new_host == *stored_host || !(keeps_secret || keeps_headers) {
                return None;
            }
            let what = match (keeps_secret, keeps_headers) {
                (true, true) => "stored signing secret and header values",
                (true, false) => "stored signing secret",
                _ => "stored header values",
            };
            Some(format!(
                "The {what} will be sent to {new_host}, a different host. Type new ones, or remove them, if it should not have them."
            ))
        })
    }
}

#[component]
pub fn WebhookForm(
    agent_id: String, editing: Editing, on_done: Callback<String>, on_cancel: Callback<()>,
    /// Kept up to date with whether the form differs from what is stored.
    #[prop(optional)]
    dirty: Option<RwSignal<bool>>,
) -> impl IntoView {
    let existing = match &editing {
        Editing::Existing(w) => Some(w.clone()),
        Editing::New => None,
    };
    let is_new = existing.is_none();
    let prefix = existing.as_ref().map_or_else(|| "new".to_owned(), |w| w.id.clone());
    let fields = Fields::of(existing.as_ref());
    if let Some(dirty) = dirty {
        fields.track_changes(dirty);
    }
    let kept_values_move = fields.kept_values_move(existing.as_ref());
    // Opening the form moves the focus to its first field, where a keyboard user continues.
    let first_field = NodeRef::<leptos::html::Input>::new();
    Effect::new(move || {
        if let Some(input) = first_field.get() {
            let _ = input.focus();
        }
    });
    let save = save_action(is_new, on_done);
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let errors = SaveErrors(error);
    let webhook_id = existing.as_ref().map(|w| w.id.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(fields.request(&agent_id, webhook_id.as_ref()));
    };
    let id = move |suffix: &str| format!("wh-{prefix}-{suffix}");
    let (name_id, url_id) = (id("name"), id("url"));
    // Escape is easy to press by accident: changes are not thrown away without asking.
    let discard_ok = move || {
        !dirty.is_some_and(|d| d.get_untracked())
            || window().confirm_with_message("Discard the changes in this form?").unwrap_or(false)
    };
    view! {
        <form class="webhook-form" id=id("form") on:submit=submit novalidate
            on:keydown=move |e| if e.key() == "Escape" && discard_ok() { e.prevent_default(); on_cancel.run(()) }
            aria-label=if is_new { "Add webhook".to_owned() } else { format!("Edit {}", fields.name.get_untracked()) }>
            <h3>{if is_new { "Add webhook" } else { "Edit webhook" }}</h3>
            <div class="field">
                <label for=name_id.clone()>"Name"</label>
                <input id=name_id.clone() node_ref=first_field required maxlength="100" placeholder="e.g. CRM" autocomplete="off"
                    bind:value=fields.name aria-describedby=format!("{name_id}-error")
                    aria-invalid=move || errors.invalid("name".into())/>
                <FieldError id=format!("{name_id}-error") message=errors.field("name".into())/>
            </div>
            <div class="field">
                <label for=url_id.clone()>"URL"</label>
                <input id=url_id.clone() type="url" required placeholder="https://example.com/hooks/voicy"
                    autocomplete="off" bind:value=fields.url aria-describedby=format!("{url_id}-error {url_id}-host")
                    aria-invalid=move || errors.invalid("url".into())/>
                <FieldError id=format!("{url_id}-error") message=errors.field("url".into())/>
                <p id=format!("{url_id}-host") class="notice warn" role="status" hidden=move || kept_values_move.with(Option::is_none)>
                    {move || kept_values_move.get()}
                </p>
            </div>
            <SecretField fields errors id=id("secret") has_secret=existing.as_ref().is_some_and(|w| w.has_secret)/>
            <StandardField standard=fields.standard errors id=id("standard")/>
            <RetryField retry=fields.retry errors id=id("retry")/>
            <HeaderEditor headers=fields.headers errors is_new form_id=id("form") error_id=id("headers-error")/>
            <FormEnd error pending=save.pending() is_new on_cancel/>
        </form>
    }
    .into_any()
}

/// Saves the form; once saved, `on_done` gets the message to show.
fn save_action(
    is_new: bool, on_done: Callback<String>,
) -> Action<Request, Result<WebhookView, AppError>> {
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
    Effect::new(move || {
        if let Some(Ok(saved)) = save.value().get() {
            let verb = if is_new { "added" } else { "saved" };
            on_done.run(format!(
                "Webhook “{}” {verb}. Deploy to use it on phone calls; test calls use it now.",
                saved.name
            ));
        }
    });
    save
}

/// What went wrong with the last save, and the form's two buttons (Add or Save, and Cancel).
#[component]
fn FormEnd(
    error: Signal<Option<AppError>>, pending: Memo<bool>, is_new: bool, on_cancel: Callback<()>,
) -> impl IntoView {
    let general_error = move || error.get().filter(|e| e.fields().is_none()).map(|e| e.to_string());
    view! {
        {move || general_error().map(|m| view! { <p class="notice error" role="alert">{m}</p> })}
        {move || error.get().filter(|e| e.fields().is_some()).map(|_| view! {
            <p class="notice error" role="alert">"Nothing was saved: fix the fields marked above and try again."</p>
        })}
        <div class="form-actions">
            <SubmitButton pending idle=if is_new { "Add" } else { "Save" } busy="Saving…"/>
            <button type="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
        </div>
    }
}

/// The Standard Webhooks option.
#[component]
fn StandardField(standard: RwSignal<bool>, errors: SaveErrors, id: String) -> impl IntoView {
    view! {
        <div class="field">
            <label class="check">
                <input type="checkbox" bind:checked=standard aria-describedby=format!("{id}-hint {id}-error")/>
                "Standard Webhooks signatures"
            </label>
            <p class="hint" id=format!("{id}-hint")>
                "Also sends webhook-id, webhook-timestamp and webhook-signature, which the Standard Webhooks libraries verify "
                "(with replay protection). Needs a whsec_ secret: use Generate secret."
            </p>
            <FieldError id=format!("{id}-error") message=errors.field("standard_webhooks".into())/>
        </div>
    }
}

/// What happens after a failed delivery: nothing (the default, as the doc says) or retries.
#[component]
fn RetryField(retry: RwSignal<String>, errors: SaveErrors, id: String) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id.clone()>"Retries"</label>
            <select id=id.clone() bind:value=retry aria-describedby=format!("{id}-hint {id}-error")
                aria-invalid=move || errors.invalid("retry_policy".into())>
                <option value="none">"None: one request per call"</option>
                <option value="backoff">"Retry with backoff"</option>
            </select>
            <p class="hint" id=format!("{id}-hint")>
                "With backoff, a delivery that fails to connect, times out, or gets a 5xx, 408 or 429 is sent again "
                "after 30 s, 2 min, 10 min, 1 h and 4 h (the same body and webhook-id; your endpoint should ignore repeats)."
            </p>
            <FieldError id=format!("{id}-error") message=errors.field("retry_policy".into())/>
        </div>
    }
}

/// The signing secret: typed, generated (then shown, for a copy), or removed.
#[component]
fn SecretField(fields: Fields, errors: SaveErrors, id: String, has_secret: bool) -> impl IntoView {
    let Fields { secret, clear_secret, standard, .. } = fields;
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
    view! {
        <div class="field">
            <label for=id.clone()>{if has_secret { "Signing Secret (a secret is set)" } else { "Signing Secret" }}</label>
            <div class="input-row">
            <input id=id.clone() node_ref=secret_field type=move || if revealed.get() { "text" } else { "password" }
                autocomplete="new-password" maxlength="256" spellcheck="false"
                bind:value=secret disabled=move || clear_secret.get()
                placeholder=if has_secret { "Leave blank to keep the existing secret" } else { "Optional" }
                aria-describedby=format!("{id}-hint {id}-error")/>
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
            <p class="hint" id=format!("{id}-hint")>
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
            <FieldError id=format!("{id}-error") message=errors.field("secret".into())/>
        </div>
    }
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
