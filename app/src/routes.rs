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

/// Loads the page at the router's address from the server (see `load_again`).
#[cfg(not(feature = "ssr"))]
fn load_from_server() {
    use leptos_router::location::Url;
    let Some(url) = use_context::<ArcRwSignal<Url>>() else { return };
    let href = url.with_untracked(|url| {
        let query = if url.search().is_empty() { String::new() } else { format!("?{}", url.search()) };
        format!("{}{query}", url.path())
    });
    load_again(&href, "");
}

/// Loads `href` (then `fragment`, which keeps the reader's place) from the server, once a minute
/// at most per address: a chunk still missing after that means incomplete files on the server,
/// not a new release, and loading again would only loop. Whether it did.
#[cfg(not(feature = "ssr"))]
fn load_again(href: &str, fragment: &str) -> bool {
    let key = format!("voicy-loaded-for-missing-code {href}");
    let storage = window().session_storage().ok().flatten();
    // Whole milliseconds: parsing an integer, unlike a float, adds no tables to the bundle.
    let now = web_sys::js_sys::Date::now() as u64;
    let last = storage.as_ref().and_then(|s| s.get_item(&key).ok().flatten()).and_then(|at| at.parse::<u64>().ok());
    if last.is_some_and(|at| now.saturating_sub(at) < 60_000) {
        return false;
    }
    if let Some(storage) = storage {
        let _ = storage.set_item(&key, &now.to_string());
    }
    // To the address already shown (a first load), the browser replaces its history entry.
    window().location().assign(&format!("{href}{fragment}")).is_ok()
}

const MISSING_CODE: &str = "This page’s code could not be loaded: Voicy may have been updated since this tab opened. \
                            Reload the page; if this message comes back, try again in a few minutes.";

/// What the page's place shows when its chunk is missing (its load from the server is already
/// under way, or was tried a moment ago and failed again).
fn missing_code_notice() -> AnyView {
    view! { <p class="notice error" role="alert">{MISSING_CODE}</p> }.into_any()
}

/// Before hydrating: fetches the code of the page the server rendered, and says whether to go on.
/// When it is missing, the page is loaded from the server again (`load_again`); when that was
/// just tried, the page is left as the server rendered it, readable and its links plain links,
/// with the notice on top: hydrating it without its code would panic and leave it dead.
#[cfg(not(feature = "ssr"))]
pub async fn page_code_ready() -> bool {
    let location = window().location();
    let path = location.pathname().unwrap_or_default();
    let Some(page) = page_code_of(&path) else { return true };
    if fetch_page_code(page).await.is_ok() {
        return true;
    }
    let href = format!("{path}{}", location.search().unwrap_or_default());
    if !load_again(&href, &location.hash().unwrap_or_default()) {
        let notice = document().create_element("p").ok();
        let place = document().query_selector("main").ok().flatten().or_else(|| document().body().map(Into::into));
        if let (Some(notice), Some(place)) = (notice, place) {
            notice.set_class_name("notice error");
            let _ = notice.set_attribute("role", "alert");
            notice.set_text_content(Some(MISSING_CODE));
            let _ = place.prepend_with_node_1(&notice);
        }
    }
    false
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

/// Which page's code an address of ours needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageCode {
    SignIn,
    SignUp,
    Agents,
    AgentOverview,
    AgentSettings,
    Call,
    ApiKeys,
    ApiReference,
}

/// The page that `path` (an address on this site, without its query or fragment) shows, as the
/// routes in `lib.rs` match it; `None` for anything else.
pub fn page_code_of(path: &str) -> Option<PageCode> {
    // One trailing slash is the same address (the router agrees); an empty segment is no page.
    let path = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    if segments.contains(&"") {
        return None;
    }
    Some(match segments.as_slice() {
        [] | ["agents"] => PageCode::Agents, // "/" redirects to the agents
        ["signin"] => PageCode::SignIn,
        ["signup"] => PageCode::SignUp,
        ["agents", _] => PageCode::AgentOverview,
        ["agents", _, "settings"] => PageCode::AgentSettings,
        ["agents", _, "calls", _] => PageCode::Call,
        ["account", "api-keys"] => PageCode::ApiKeys,
        ["docs", "api"] => PageCode::ApiReference,
        _ => return None,
    })
}

/// Fetches a page's code ahead of a click: when the pointer comes over a link to one of our pages,
/// a finger touches it, or the keyboard focuses it, its chunks start loading, so that by the
/// click (a few hundred milliseconds later, usually) the page is shown without waiting for them.
/// Each page's code is asked for once; a failed fetch costs nothing (the click loads it again,
/// and from the server if it is still missing).
#[cfg(not(feature = "ssr"))]
pub fn fetch_page_code_on_intent() {
    use leptos::ev;
    use leptos::wasm_bindgen::JsCast;
    use std::cell::Cell;
    use std::rc::Rc;

    // One bit per page (a set without a hasher: smaller in the bundle).
    let asked: Rc<Cell<u16>> = Rc::default();
    let on_intent = move |target: Option<web_sys::EventTarget>| {
        let Some(element) = target.and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        // A link that downloads or opens elsewhere shows no page in this tab.
        let Ok(Some(link)) = element.closest("a[href]:not([download]):not([target]), a[href][target=_self]") else { return };
        let Some(href) = link.get_attribute("href") else { return };
        // Our own pages only: a path on this site, not another site's address.
        if !href.starts_with('/') || href.starts_with("//") {
            return;
        }
        let path = href.split(['?', '#']).next().unwrap_or_default();
        if let Some(page) = page_code_of(path)
            && asked.get() & (1 << page as u16) == 0
        {
            asked.set(asked.get() | 1 << page as u16);
            leptos::task::spawn_local(async move {
                let _ = fetch_page_code(page).await;
            });
        }
    };
    let over = on_intent.clone();
    let touch = on_intent.clone();
    // The handles are dropped, not removed: the listeners last as long as the page.
    let _ = leptos::prelude::window_event_listener(ev::pointerover, move |e| over(e.target()));
    let _ = leptos::prelude::window_event_listener(ev::touchstart, move |e| touch(e.target()));
    let _ = leptos::prelude::window_event_listener(ev::focusin, move |e| on_intent(e.target()));
}

#[cfg(not(feature = "ssr"))]
async fn fetch_page_code(page: PageCode) -> Result<(), ChunkMissing> {
    Ok(match page {
        PageCode::SignIn => preload_sign_in_page().await,
        PageCode::SignUp => preload_sign_up_page().await,
        PageCode::Agents => preload_agents_page().await,
        PageCode::AgentOverview => preload_agent_overview_page().await,
        PageCode::AgentSettings => preload_agent_settings_page().await,
        PageCode::Call => preload_call_page().await,
        PageCode::ApiKeys => preload_api_keys_page().await,
        PageCode::ApiReference => preload_api_reference_page().await,
    }?)
}

#[cfg(test)]
mod tests {
    use super::{PageCode, page_code_of};

    #[test]
    fn each_route_of_the_router_names_its_page_and_nothing_else_does() {
        let cases = [
            ("/", Some(PageCode::Agents)),
            ("/agents", Some(PageCode::Agents)),
            ("/agents/", Some(PageCode::Agents)),
            ("/signin", Some(PageCode::SignIn)),
            ("/signup", Some(PageCode::SignUp)),
            ("/agents/a1", Some(PageCode::AgentOverview)),
            ("/agents/a1/settings", Some(PageCode::AgentSettings)),
            ("/agents/a1/calls/c1", Some(PageCode::Call)),
            ("/account/api-keys", Some(PageCode::ApiKeys)),
            ("/docs/api", Some(PageCode::ApiReference)),
            ("/api/v1/agents", None),
            ("/agents/a1/calls", None),
            ("/pkg/voicy.js", None),
            ("/signout", None),
            ("/agents//", None),
            ("/agents//settings", None),
            ("/agents/a1/settings/", Some(PageCode::AgentSettings)),
        ];
        for (path, page) in cases {
            assert_eq!(page_code_of(path), page, "{path}");
        }
    }
}
