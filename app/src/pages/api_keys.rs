//! API keys under the account menu: create (the key is shown once), list, revoke.

use crate::components::{
    FieldError, Frame, Outcome, SubmitButton, action_error, listed, reset_on_success, short_time,
};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use voicy_model::error::AppError;
use voicy_model::views::{ApiKeyView, CreatedApiKey};

#[leptos::server(prefix = "/rpc", endpoint = "list_api_keys", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, AppError> {
    crate::server::page_reads::page_read!("list_api_keys"; {
        use crate::server::request_owner;
        use voicy_core::services::api_keys;
        api_keys::list(&request_owner().await?).await
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "create_api_key", output = voicy_model::codec::Json)]
pub async fn create_api_key(name: String) -> Result<CreatedApiKey, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::api_keys;
    api_keys::create(&request_owner().await?, &name).await
}

#[leptos::server(prefix = "/rpc", endpoint = "revoke_api_key", output = voicy_model::codec::Json)]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    use crate::server::request_owner;
    use voicy_core::services::api_keys;
    api_keys::revoke(&request_owner().await?, &id).await
}

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    view! {
        <Title text="API keys"/>
        <Frame>
            <h1>"API keys"</h1>
            <p class="muted">"Use a key as " <code>"Authorization: Bearer <key>"</code> " with the REST API under "
                <code>"/api/v1"</code>"."</p>
            <ApiKeysBoard/>
        </Frame>
    }
}

/// Creating and revoking keys, and the list, read again after each.
#[island(lazy)]
fn ApiKeysBoard() -> impl IntoView {
    crate::components::island_hydrated();
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    // The key just created is shown once; revoking it takes it off the screen too.
    let revoked = RwSignal::new(None::<String>);
    let revoking = StoredValue::new(None::<String>);
    Effect::new(move || {
        if let Some(result) = revoke.value().get() {
            // Only a key that is really revoked leaves the screen.
            if result.is_ok() {
                revoked.set(revoking.get_value());
            }
            crate::components::focus_soon("#keys-outcome".to_owned());
        }
    });
    let revoke_outcome = Signal::derive(move || {
        revoke
            .value()
            .get()
            .map(|r| r.map(|()| "API key revoked.".to_owned()).map_err(|e| e.to_string()))
    });
    view! {
        <NewKeyCard create revoked/>
        <section class="card" aria-labelledby="keys-title">
            <h2 id="keys-title">"Your keys"</h2>
            <div id="keys-outcome" tabindex="-1"><Outcome message=revoke_outcome/></div>
            <Suspense fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    listed(keys.await, "No API keys yet.", "rows", |key| view! { <KeyItem key revoke revoking/> })
                })}
            </Suspense>
        </section>
    }
}

/// The form that creates a key, and the new key, shown once and selected for a copy.
#[component]
fn NewKeyCard(
    create: ServerAction<CreateApiKey>, revoked: RwSignal<Option<String>>,
) -> impl IntoView {
    let create_error = action_error(create.value());
    let form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(create.value(), form);
    // Shown selected: one Ctrl+C (⌘C) copies it.
    Effect::new(move || {
        if matches!(create.value().get(), Some(Ok(_))) {
            request_animation_frame(|| {
                use leptos::wasm_bindgen::JsCast;
                let input = document()
                    .get_element_by_id("new-key")
                    .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok());
                if let Some(input) = input {
                    let _ = input.focus();
                    input.select();
                }
            });
        }
    });
    view! {
        <section class="card" aria-labelledby="new-key-title">
            <h2 id="new-key-title">"New API key"</h2>
            <ActionForm action=create node_ref=form attr:class="inline-form">
                <div class="field grow">
                    <label for="key-name">"Key name"</label>
                    <input id="key-name" name="name" maxlength="100" required placeholder="e.g. Telephony"
                        aria-describedby="key-name-error"/>
                    <FieldError id="key-name-error" message=Signal::derive(move || create_error.get().and_then(|e| e.field("name")))/>
                </div>
                <SubmitButton pending=create.pending() idle="Create key" busy="Creating…"/>
            </ActionForm>
            {move || match create.value().get() {
                Some(Ok(created)) if revoked.get().as_ref() != Some(&created.id) => view! {
                    <div class="notice ok" role="status">
                        <p>"Key “" {created.name} "” created. It is selected below: copy it now (Ctrl+C or ⌘C), it will not be shown again."</p>
                        <label for="new-key">"Your new key"</label>
                        <input id="new-key" class="mono" readonly value=created.key/>
                    </div>
                }.into_any(),
                Some(Err(e)) if e.fields().is_none() => view! { <p class="notice error" role="alert">{e.to_string()}</p> }.into_any(),
                _ => ().into_any(),
            }}
        </section>
    }
}

/// One key of the list, with its Revoke button (which asks first).
#[component]
fn KeyItem(
    key: ApiKeyView, revoke: ServerAction<RevokeApiKey>, revoking: StoredValue<Option<String>>,
) -> impl IntoView {
    let id = key.id.clone();
    let label = format!("Revoke {}", key.name);
    let question = format!("Revoke “{}”? Programs that use it stop working at once.", key.name);
    view! {
        <li class="row">
            <div class="grow">
                <strong>{key.name}</strong>
                <span class="muted">" · created " {short_time(&key.created_at)} " · "
                    {key.last_used_at.map(|t| format!("last used {}", short_time(&t))).unwrap_or_else(|| "never used".into())}
                </span>
            </div>
            <button class="danger" aria-label=label disabled=move || revoke.pending().get()
                on:click=move |_| {
                    if window().confirm_with_message(&question).unwrap_or(false) {
                        revoking.set_value(Some(id.clone()));
                        revoke.dispatch(RevokeApiKey { id: id.clone() });
                    }
                }>
                "Revoke"
            </button>
        </li>
    }
}
