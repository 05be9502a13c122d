//! Each page as a lazily loaded route: in the browser a page's code (its components, the
//! deserializers of its data) is a wasm chunk of its own, fetched when the page is first shown,
//! so a visitor downloads the shared framework and the page in front of them, not every page.
//! The server renders these routes like any other and preloads the page's chunks in its head.
//!
//! Not `#[lazy_route]`: that panics when a chunk cannot be fetched, which kills the whole app —
//! and that is what happens to every open tab after a new release replaces the bundle's files
//! (their names carry a content hash). Here the router's fetch of a page's chunk, which comes
//! before the page is shown or hydrated, loads that page afresh from the server when it fails,
//! with the new release's bundle.

use crate::pages::{
    AgentOverviewPage, AgentSettingsPage, AgentsPage, ApiKeysPage, ApiReferencePage, CallPageView, SignInPage, SignUpPage,
};
use leptos::prelude::*;
use leptos_router::LazyRoute;

/// A page's chunk could not be fetched.
pub struct ChunkMissing;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkMissing {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Self
    }
}

/// Loads the page at the router's address from the server, once a minute at most per address:
/// a chunk still missing after that means incomplete files on the server, not a new release,
/// and loading again would only loop.
#[cfg(not(feature = "ssr"))]
fn load_from_server() {
    use leptos_router::location::Url;
    let Some(url) = use_context::<ArcRwSignal<Url>>() else { return };
    let href = url.with_untracked(|url| {
        let query = if url.search().is_empty() { String::new() } else { format!("?{}", url.search()) };
        format!("{}{query}", url.path())
    });
    let key = format!("voicy-loaded-for-missing-code {href}");
    let storage = window().session_storage().ok().flatten();
    // Whole milliseconds: parsing an integer, unlike a float, adds no tables to the bundle.
    let now = web_sys::js_sys::Date::now() as u64;
    let last = storage.as_ref().and_then(|s| s.get_item(&key).ok().flatten()).and_then(|at| at.parse::<u64>().ok());
    if last.is_some_and(|at| now.saturating_sub(at) < 60_000) {
        return;
    }
    if let Some(storage) = storage {
        let _ = storage.set_item(&key, &now.to_string());
    }
    let _ = window().location().assign(&href);
}

/// What the page's place shows when its chunk is missing (its load from the server is already
/// under way, or was tried a moment ago and failed again).
fn missing_code_notice() -> AnyView {
    view! {
        <p class="notice error" role="alert">
            "This page’s code could not be loaded: Voicy may have been updated since this tab opened. "
            "Reload the page; if this message comes back, try again in a few minutes."
        </p>
    }
    .into_any()
}

/// `$route` shows `$page` from the chunk `$chunk` (the name the split manifest knows it by),
/// fetched ahead by `$preload`.
macro_rules! lazy_page {
    ($route:ident, $chunk:ident, $preload:ident, $page:ident) => {
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                $chunk().await.unwrap_or_else(|ChunkMissing| missing_code_notice())
            }

            // The router fetches the chunk here before it hydrates or shows the page, with the
            // page's address in context.
            async fn preload() {
                #[cfg(not(feature = "ssr"))]
                if $preload().await.is_err() {
                    load_from_server();
                }
            }
        }

        #[cfg(not(feature = "ssr"))]
        #[leptos::wasm_split::wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible, preload($preload))]
        fn $chunk() -> Result<AnyView, ChunkMissing> {
            Ok(view! { <$page/> }.into_any())
        }

        #[cfg(feature = "ssr")]
        async fn $chunk() -> Result<AnyView, ChunkMissing> {
            // The server names the chunks of the page it renders, to preload them.
            leptos::prefetch_lazy_fn_on_server(stringify!($chunk));
            Ok(view! { <$page/> }.into_any())
        }
    };
}

lazy_page!(SignInRoute, sign_in_page, preload_sign_in_page, SignInPage);
lazy_page!(SignUpRoute, sign_up_page, preload_sign_up_page, SignUpPage);
lazy_page!(AgentsRoute, agents_page, preload_agents_page, AgentsPage);
lazy_page!(AgentOverviewRoute, agent_overview_page, preload_agent_overview_page, AgentOverviewPage);
lazy_page!(AgentSettingsRoute, agent_settings_page, preload_agent_settings_page, AgentSettingsPage);
lazy_page!(CallRoute, call_page, preload_call_page, CallPageView);
lazy_page!(ApiKeysRoute, api_keys_page, preload_api_keys_page, ApiKeysPage);
lazy_page!(ApiReferenceRoute, api_reference_page, preload_api_reference_page, ApiReferencePage);
