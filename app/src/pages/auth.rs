//! Sign-in and sign-up pages. Both forms work before the page hydrates (plain form posts) and
//! after it; a failed attempt comes back with the message beside the form.

use crate::components::{SubmitButton, action_error};
use leptos::prelude::*;
use leptos_meta::Title;
use voicy_model::error::AppError;

#[leptos::server(prefix = "/rpc", endpoint = "sign_in", output = voicy_model::codec::Json)]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::server::request_state;
    use voicy_core::{auth, services::accounts};
    let (state, session) = request_state().await?;
    let client = crate::server::client_address().await;
    let user = accounts::sign_in(&state, client, &email, &password).await?;
    auth::start_session(&session, &user).await?;
    leptos_axum::redirect("/agents");
    Ok(())
}

#[leptos::server(prefix = "/rpc", endpoint = "sign_up", output = voicy_model::codec::Json)]
pub async fn sign_up(email: String, password: String) -> Result<(), AppError> {
    use crate::server::request_state;
    use voicy_core::{auth, services::accounts};
    let (state, session) = request_state().await?;
    let client = crate::server::client_address().await;
    let user = accounts::sign_up(&state, client, &email, &password).await?;
    auth::start_session(&session, &user).await?;
    leptos_axum::redirect("/agents");
    Ok(())
}

/// The page both are: a card with the product's name, the page's heading, its form (an island),
/// and a line leading to the other page.
#[component]
fn AuthCard(title: &'static str, children: Children, other: impl IntoView) -> impl IntoView {
    view! {
        <Title text=title/>
        <main class="auth-page">
            <section class="card auth-card" aria-labelledby="auth-title">
                <p class="brand">"Voicy"</p>
                <h1 id="auth-title">{title}</h1>
                {children()}
                <p class="muted">{other}</p>
            </section>
        </main>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    view! {
        <AuthCard title="Sign in" other=view! { "New to Voicy? " <a href="/signup">"Create an account"</a> }>
            <SignInForm/>
        </AuthCard>
    }
}

#[island(lazy)]
fn SignInForm() -> impl IntoView {
    crate::components::island_hydrated();
    let action = ServerAction::<SignIn>::new();
    let error = action_error(action.value());
    let pending = action.pending();
    view! {
        <ActionForm action=action>
            <div class="field">
                <label for="email">"Email"</label>
                <input id="email" type="email" name="email" autocomplete="email" required/>
            </div>
            <div class="field">
                <label for="password">"Password"</label>
                <input id="password" type="password" name="password" autocomplete="current-password" required/>
            </div>
            {move || error.get().map(|e| view! { <p class="notice error" role="alert">{e.to_string()}</p> })}
            <SubmitButton pending idle="Sign in" busy="Signing in…" class="primary wide"/>
        </ActionForm>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    view! {
        <AuthCard title="Create an account" other=view! { "Already have an account? " <a href="/signin">"Sign in"</a> }>
            <SignUpForm/>
        </AuthCard>
    }
}

#[island(lazy)]
fn SignUpForm() -> impl IntoView {
    crate::components::island_hydrated();
    let action = ServerAction::<SignUp>::new();
    let error = action_error(action.value());
    let pending = action.pending();
    let field =
        move |name: &'static str| Signal::derive(move || error.get().and_then(|e| e.field(name)));
    let general = move || error.get().filter(|e| e.fields().is_none()).map(|e| e.to_string());
    view! {
        <ActionForm action=action>
            <div class="field">
                <label for="email">"Email"</label>
                <input id="email" type="email" name="email" autocomplete="email" required
                    aria-describedby="email-error"/>
                <crate::components::FieldError id="email-error" message=field("email")/>
            </div>
            <div class="field">
                <label for="password">"Password"</label>
                <input id="password" type="password" name="password" autocomplete="new-password"
                    required minlength="10" aria-describedby="password-hint password-error"/>
                <p class="hint" id="password-hint">"At least 10 characters."</p>
                <crate::components::FieldError id="password-error" message=field("password")/>
            </div>
            {move || general().map(|m| view! { <p class="notice error" role="alert">{m}</p> })}
            <SubmitButton pending idle="Create account" busy="Creating account…" class="primary wide"/>
        </ActionForm>
    }
}
