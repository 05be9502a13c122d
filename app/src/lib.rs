#![recursion_limit = "256"]
//! The Voicy dashboard: Leptos pages and components and the server functions beside them, each
//! a thin call into the core's services (`voicy_core`, with `ssr` only).

pub mod components;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod server_fn_arguments;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Redirect, Route, Router, Routes},
    path,
};
use pages::{
    AgentDeliveriesPage, AgentOverviewPage, AgentSettingsPage, AgentsPage, ApiKeysPage,
    ApiReferencePage, CallPageView, NotFoundPage, SignInPage, SignUpPage,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    restrict_scripts_to_this_page();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // The bundle's file names carry a content hash when the build made them (see
                // the server's `/pkg` route: such files are cached for a year).
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Content-Security-Policy of a server-rendered page: only scripts carrying this response's nonce
/// (Leptos puts it on its hydration and resource scripts), what they load, and the wasm they
/// instantiate may run, so injected markup cannot run a script even if it got past escaping.
/// Responses without a nonce keep the base policy that `security_headers` sends.
#[cfg(feature = "ssr")]
fn restrict_scripts_to_this_page() {
    let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The tab title of a page. Every `<Title>` goes through this formatter, so it is the one place
/// that makes owner text (an agent's name) safe there: leptos_meta writes the title into the
/// server-rendered `<head>` without escaping it, while in the browser `document.title` takes
/// plain text, so only the server's copy is escaped and the tab still reads the real name.
fn page_title(page: String) -> String {
    let title = if page.is_empty() { "Voicy".to_owned() } else { format!("{page} · Voicy") };
    #[cfg(feature = "ssr")]
    let title = escape_html(&title);
    title
}

/// HTML-escapes text for a place Leptos does not escape.
#[cfg(feature = "ssr")]
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The dashboard's pages. Every page is rendered on the server; in the browser only its islands
/// (the `#[island]` components: forms, tools, anything that answers a click) are hydrated, each
/// from a wasm chunk of its own, so a page downloads the code of what it lets you do, not the
/// whole dashboard. Links between pages are plain page loads.
///
/// Every route waits for all its data before it answers (`SsrMode::Async`): an island must be
/// in the document, whole, when the browser looks for islands to hydrate.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=page_title/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/signin") view=SignInPage ssr=SsrMode::Async/>
                <Route path=path!("/signup") view=SignUpPage ssr=SsrMode::Async/>
                <Route path=path!("/") view=|| view! { <Redirect path="/agents"/> }/>
                <Route path=path!("/agents") view=AgentsPage ssr=SsrMode::Async/>
                <Route path=path!("/agents/:agent_id") view=AgentOverviewPage ssr=SsrMode::Async/>
                <Route path=path!("/agents/:agent_id/settings") view=AgentSettingsPage ssr=SsrMode::Async/>
                <Route path=path!("/agents/:agent_id/deliveries") view=AgentDeliveriesPage ssr=SsrMode::Async/>
                <Route path=path!("/agents/:agent_id/calls/:call_id") view=CallPageView ssr=SsrMode::Async/>
                <Route path=path!("/account/api-keys") view=ApiKeysPage ssr=SsrMode::Async/>
                <Route path=path!("/docs/api") view=ApiReferencePage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
