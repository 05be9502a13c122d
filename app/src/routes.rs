//! Each page as a lazily loaded route: in the browser a page's code (its components, the
//! deserializers of its data) is a chunk of its own, fetched when the page is first shown, so a
//! visitor downloads the shared framework and the page in front of them, not every page. The
//! server renders a lazy route like any other and preloads its chunk in the page's head.
//!
//! Written out one by one: `#[lazy_route]` names each chunk after the place it is written.

use crate::pages::{
    AgentOverviewPage, AgentSettingsPage, AgentsPage, ApiKeysPage, ApiReferencePage, CallPageView, SignInPage, SignUpPage,
};
use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

pub struct SignInRoute;

#[lazy_route]
impl LazyRoute for SignInRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <SignInPage/> }.into_any()
    }
}

pub struct SignUpRoute;

#[lazy_route]
impl LazyRoute for SignUpRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <SignUpPage/> }.into_any()
    }
}

pub struct AgentsRoute;

#[lazy_route]
impl LazyRoute for AgentsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <AgentsPage/> }.into_any()
    }
}

pub struct AgentOverviewRoute;

#[lazy_route]
impl LazyRoute for AgentOverviewRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <AgentOverviewPage/> }.into_any()
    }
}

pub struct AgentSettingsRoute;

#[lazy_route]
impl LazyRoute for AgentSettingsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <AgentSettingsPage/> }.into_any()
    }
}

pub struct CallRoute;

#[lazy_route]
impl LazyRoute for CallRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <CallPageView/> }.into_any()
    }
}

pub struct ApiKeysRoute;

#[lazy_route]
impl LazyRoute for ApiKeysRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ApiKeysPage/> }.into_any()
    }
}

pub struct ApiReferenceRoute;

#[lazy_route]
impl LazyRoute for ApiReferenceRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ApiReferencePage/> }.into_any()
    }
}
