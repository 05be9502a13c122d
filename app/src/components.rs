//! Pieces every page uses: the frame with the account menu, field errors, status messages, and
//! the mark that the page's islands are hydrated.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_router::components::A;
use voicy_model::error::AppError;
use voicy_model::views::UserView;

/// The account menu's Sign out: a plain form post, answered with a redirect to sign-in.
#[leptos::server(prefix = "/rpc", endpoint = "sign_out", output = voicy_model::codec::Json)]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::request_state;
    use voicy_core::auth;
    let (_, session) = request_state().await?;
    auth::end_session(&session).await?;
    leptos_axum::redirect("/signin");
    Ok(())
}

/// The signed-in user, for the header. `None` when nobody is signed in.
#[leptos::server(prefix = "/rpc", endpoint = "current_user", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    crate::server::page_reads::page_read!("current_user"; {
        use crate::server::request_state;
        use voicy_core::auth;
        let (state, session) = request_state().await?;
        let Some(owner) = auth::session_owner(&session).await? else { return Ok(None) };
        let email = match auth::session_email(&session).await? {
            Some(email) => Some(email),
            None => state.store.user_email(owner.as_str()).await?,
        };
        Ok(email.map(|email| UserView { id: owner.as_str().to_owned(), email }))
    })
}

/// The frame of every signed-in page: a header with the product name, navigation and the
/// account menu, then the page. Rendered on the server only; the account menu is an island.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <a class="skip-link" href="#content">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/agents">"Voicy"</a>
            <nav aria-label="Main">
                <A href="/agents">"Agents"</A>
                <A href="/docs/api">"API"</A>
            </nav>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await.ok().flatten() {
                        Some(u) => view! { <AccountMenu email=u.email/> }.into_any(),
                        // Only the public API reference is seen signed out.
                        None => view! { <a href="/signin">"Sign in"</a> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main class="page" id="content" tabindex="-1">{children()}</main>
    }
}

/// The account menu: API keys, and signing out. Signing out is a plain form post (the server
/// function answers it with a redirect to the sign-in page), so the menu carries no server-function
/// client code into the main module, which every page loads; the island adds Escape and the
/// button's pending state.
#[island]
fn AccountMenu(email: String) -> impl IntoView {
    island_hydrated();
    let signing_out = RwSignal::new(false);
    let menu = NodeRef::<leptos::html::Details>::new();
    let sign_out = <SignOut as leptos::server_fn::ServerFn>::PATH;
    view! {
        <details class="account-menu" node_ref=menu on:keydown=move |e| {
            // Escape closes the open menu, with the focus back on its summary.
            if e.key() == "Escape" && let Some(menu) = menu.get_untracked() && menu.has_attribute("open") {
                let _ = menu.remove_attribute("open");
                focus_soon(".account-menu summary".to_owned());
            }
        }>
            <summary>"Account" <span class="muted email">{email}</span></summary>
            <div class="menu">
                <a href="/account/api-keys">"API keys"</a>
                <form method="post" action=sign_out on:submit=move |_| signing_out.set(true)>
                    <SubmitButton pending=signing_out idle="Sign out" busy="Signing out…" class="link-button"/>
                </form>
            </div>
        </details>
    }
}

/// Called first in every island. Once the browser has hydrated every island of the page, marks
/// `<body data-hydrated="true">`: the page answers clicks (end-to-end tests wait for the mark).
/// Effects run only in the browser, after the island's view is in place.
pub fn island_hydrated() {
    Effect::new(|| {
        use std::sync::atomic::{AtomicU32, Ordering};
        // Islands not hydrated yet; counted from the document by the first island to finish.
        static LEFT: AtomicU32 = AtomicU32::new(u32::MAX);
        let _ =
            LEFT.compare_exchange(u32::MAX, island_count(), Ordering::Relaxed, Ordering::Relaxed);
        if LEFT.fetch_sub(1, Ordering::Relaxed) <= 1 {
            mark_hydrated();
        }
    });
}

/// For the browser's entry point: a page without islands is hydrated as soon as it loads.
pub fn mark_hydrated_if_no_islands() {
    if island_count() == 0 {
        mark_hydrated();
    }
}

fn island_count() -> u32 {
    document().query_selector_all("leptos-island").map_or(0, |islands| islands.length())
}

fn mark_hydrated() {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// The message for one field, shown under its input and tied to it by `aria-describedby`.
#[component]
pub fn FieldError(
    #[prop(into)] id: String, #[prop(into)] message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="field-error" id=id.clone() role="alert">{move || message.get()}</p>
        </Show>
    }
}

/// The last save's error, as each field shows it.
#[derive(Clone, Copy)]
pub struct SaveErrors(pub Signal<Option<AppError>>);

impl SaveErrors {
    /// The message for field `f`, if the last save named it.
    pub fn field(self, f: String) -> Signal<Option<String>> {
        Signal::derive(move || self.0.get().and_then(|e: AppError| e.field(&f)))
    }

    /// For `aria-invalid`: whether the last save named field `f`.
    pub fn invalid(self, f: String) -> Option<&'static str> {
        self.0.with(|e| e.as_ref().and_then(|e| e.field(&f)).is_some()).then_some("true")
    }
}

/// A list read from the server as a page shows it: `empty` when there is nothing, each item in
/// a `<ul>` of `class`, or the error's own message.
pub fn listed<T, V: IntoView + 'static>(
    read: Result<Vec<T>, AppError>, empty: &'static str, class: &'static str,
    item: impl FnMut(T) -> V,
) -> AnyView {
    match read {
        Ok(list) if list.is_empty() => view! { <p class="empty">{empty}</p> }.into_any(),
        Ok(list) => {
            view! { <ul class=class>{list.into_iter().map(item).collect_view()}</ul> }.into_any()
        }
        Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
    }
}

/// A form's submit button that shows it is working: disabled, with `busy` for its label, while
/// the form's action is pending.
#[component]
pub fn SubmitButton(
    #[prop(into)] pending: Signal<bool>, idle: &'static str, busy: &'static str,
    #[prop(default = "primary")] class: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" class=class disabled=move || pending.get()>
            {move || if pending.get() { busy } else { idle }}
        </button>
    }
}

/// How an action ended, in words: a success message, or the error's own message.
#[component]
pub fn Outcome(#[prop(into)] message: Signal<Option<Result<String, String>>>) -> impl IntoView {
    view! {
        <div class="outcome" role="status" aria-live="polite">
            {move || match message.get() {
                Some(Ok(text)) => view! { <p class="notice ok">{text}</p> }.into_any(),
                Some(Err(text)) => view! { <p class="notice error">{text}</p> }.into_any(),
                None => ().into_any(),
            }}
        </div>
    }
}

/// Moves the keyboard focus to the first element matching `selector` once the view has caught
/// up (after the next frame): where a keyboard user goes on after an action re-renders the part
/// that had the focus. Nothing happens when no element matches. Browser only.
pub fn focus_soon(selector: String) {
    request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        let found = document().query_selector(&selector).ok().flatten();
        if let Some(element) = found.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = element.focus();
        }
    });
}

/// `2026-11-27T07:00:01.123Z` → `2026-11-27 07:00 UTC`.
pub fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// Clears `form` each time the action succeeds (the inputs are kept when it fails).
pub fn reset_on_success<T, S>(value: S, form: NodeRef<leptos::html::Form>)
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Effect::new(move || {
        if matches!(value.get(), Some(Ok(_)))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
}

/// The error of an action's last result, if it failed.
pub fn action_error<T, S>(value: S) -> Signal<Option<AppError>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::err))
}
