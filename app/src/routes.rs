//! Each page as a lazily loaded route: in the browser a page's code (its components, the
//! deserializers of its data) is a wasm chunk of its own, fetched when the page is first shown,
//! so a visitor downloads the shared framework and the page in front of them, not every page.
//! The server renders these routes like any other and preloads the page's chunks in its head.
//!
//! Not `#[lazy_route]`: that panics when a chunk cannot be fetched, which kills the whole app —
//! and that is what happens to every open tab after a new release replaces the bundle's files
//! (their names carry a content hash). Here a missing chunk loads the page afresh instead, from
//! the server, with the new release's bundle.

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

/// Shown for the moment between a failed chunk fetch and the full page load that replaces it;
/// the load starts once the router has moved to the page's address.
fn reload_into_new_release() -> AnyView {
    Effect::new(|| {
        set_timeout(|| { let _ = window().location().reload(); }, std::time::Duration::ZERO);
    });
    view! { <p class="notice" role="status">"Voicy has been updated since this tab opened. Loading the new version…"</p> }.into_any()
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
                match $chunk().await {
                    Ok(view) => view,
                    Err(ChunkMissing) => reload_into_new_release(),
                }
            }

            // The router fetches the chunk before it hydrates or shows the page; a failure here
            // is met again, and handled, in `view`.
            async fn preload() {
                #[cfg(not(feature = "ssr"))]
                let _ = $preload().await;
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
