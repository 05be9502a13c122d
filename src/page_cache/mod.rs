//! Dashboard pages served again while their data is unchanged.
//!
//! Rendering is most of what a dashboard page costs (BENCHMARKS.md: the Settings page with five
//! webhooks renders about three times slower than its reads take). A page rendered whole
//! (`SsrMode::Async`) for a signed-in owner is kept with the reads that made it
//! (`app::server::page_reads`). The next request for the same address by the same owner runs
//! those reads again, against the database, and gets the kept page — with a fresh script nonce —
//! only when every read returns the same bytes. When anything differs the page is rendered
//! anew from the reads just made (the database is not asked twice) and replaces the kept one.
//! So a kept page is never served without asking the database: a change made anywhere (another
//! tab, the REST API, the dispatcher, another instance) shows on the next request.

mod nonce;
mod shelf;

use app::server::page_reads::{PageReads, Read};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{
    HeaderMap, HeaderValue, Method, StatusCode, header::CONTENT_SECURITY_POLICY, request,
};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::prelude::{Owner, provide_context};
use leptos::reactive::computed::ScopedFuture;
use shelf::{Key, Shelf};
use std::collections::HashMap;
use std::sync::Mutex;
use voicy_core::AppState;

/// The pages kept, by owner and address, within a memory budget.
pub struct PageCache {
    state: AppState,
    /// Paths of the routes rendered whole, segment by segment.
    routes: Vec<Vec<String>>,
    shelf: Option<Mutex<Shelf>>,
}

/// A rendered page (always a 200), its nonce taken out so that each response gets its own.
pub struct Page {
    headers: HeaderMap,
    /// The Content-Security-Policy header and the body, each cut where the nonce was.
    policy: Vec<String>,
    body: Vec<Bytes>,
    reads: Vec<Read>,
    /// What keeping it costs, in bytes (set by the shelf).
    size: usize,
}

impl PageCache {
    /// A cache for the routes in `listing` that render whole; `budget` bytes at most (0: none).
    pub fn new(state: AppState, listing: &[leptos_axum::AxumRouteListing], budget: usize) -> Self {
        let routes = listing
            .iter()
            .filter(|route| matches!(route.mode(), leptos_router::SsrMode::Async))
            .map(|route| segments(route.path()).map(str::to_owned).collect())
            .collect();
        Self { state, routes, shelf: (budget > 0).then(|| Mutex::new(Shelf::new(budget))) }
    }

    /// Only plain addresses are kept: a query string can change what a page shows (Leptos puts a
    /// failed form's error there), and one address per page bounds what an owner can fill.
    fn keeps(&self, uri: &axum::http::Uri) -> bool {
        self.shelf.is_some()
            && uri.query().is_none()
            && self.routes.iter().any(|route| matches_route(route, uri.path()))
    }

    fn shelf(&self) -> std::sync::MutexGuard<'_, Shelf> {
        self.shelf
            .as_ref()
            .expect("only called when keeping")
            .lock()
            .expect("never poisoned: nothing panics while it is held")
    }

    /// Runs the reads of a kept page again, as the owner of this request, one after the other:
    /// the first read that checks the agent leaves it in the request's memo for the others.
    async fn reread(&self, reads: &[Read], parts: &request::Parts) -> Vec<Option<Vec<u8>>> {
        let owner = Owner::new();
        owner.with(|| {
            app::server::provide_request_context(&self.state);
            provide_context(parts.clone());
        });
        let mut outputs = Vec::with_capacity(reads.len());
        for read in reads {
            outputs.push(owner.with(|| ScopedFuture::new((read.replay)())).await);
        }
        outputs
    }
}

/// The middleware: sends a kept page whose reads are unchanged, or renders and keeps it.
pub async fn serve_or_keep(
    State(cache): State<std::sync::Arc<PageCache>>, request: Request, next: Next,
) -> Response {
    if request.method() != Method::GET || !cache.keeps(request.uri()) {
        return next.run(request).await;
    }
    let owner = match request.extensions().get::<tower_sessions::Session>() {
        Some(session) => voicy_core::auth::session_owner(session).await.ok().flatten(),
        None => None,
    };
    let Some(owner) = owner else {
        return next.run(request).await;
    };
    let key: Key = (owner.as_str().to_owned(), request.uri().path().to_owned());
    let (mut parts, body) = request.into_parts();

    let kept = cache.shelf().get(&key);
    let mut fresh = HashMap::new();
    if let Some(page) = kept {
        let outputs = cache.reread(&page.reads, &parts).await;
        if page
            .reads
            .iter()
            .zip(&outputs)
            .all(|(read, output)| output.as_deref() == Some(read.output.as_slice()))
        {
            return page.response();
        }
        fresh = page
            .reads
            .iter()
            .zip(outputs)
            .filter_map(|(read, output)| Some((read.key.clone(), output?)))
            .collect();
    }

    let reads = PageReads::with_fresh(fresh);
    parts.extensions.insert(reads.clone());
    let response = next.run(Request::from_parts(parts, body)).await;
    if response.status() != StatusCode::OK {
        cache.shelf().remove(&key);
        return response;
    }
    keep(&cache, key, &reads, response).await
}

/// Keeps a rendered page, if it can be kept, and sends it on.
async fn keep(cache: &PageCache, key: Key, reads: &PageReads, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(err) => {
            // Logged once, by `internal`; the visitor gets a page-sized sentence.
            let _ =
                voicy_model::error::AppError::internal(format!("a rendered page broke off: {err}"));
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be sent. Reload it to try again.",
            )
                .into_response();
        }
    };
    // Read after the whole body: every read of the render has been recorded by then.
    let policy = parts
        .headers
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match (reads.complete(), nonce::nonce_of(policy).filter(|n| n.len() >= 16)) {
        (Some(reads), Some(nonce)) if !reads.is_empty() => {
            let size =
                bytes.len() + reads.iter().map(|r| r.output.len() + r.key.len()).sum::<usize>();
            let page = Page {
                headers: parts.headers.clone(),
                policy: policy.split(nonce).map(str::to_owned).collect(),
                body: nonce::split_bytes(&bytes, nonce.as_bytes()),
                reads,
                size,
            };
            cache.shelf().put(key, page);
        }
        _ => cache.shelf().remove(&key),
    }
    Response::from_parts(parts, Body::from(bytes))
}

impl Page {
    fn response(&self) -> Response {
        let nonce = nonce::fresh_nonce();
        let mut response = Response::new(Body::from(self.body.join(nonce.as_bytes())));
        *response.headers_mut() = self.headers.clone();
        let policy = HeaderValue::from_str(&self.policy.join(&nonce))
            .expect("the policy was a header value, and a nonce is URL-safe base64");
        response.headers_mut().insert(CONTENT_SECURITY_POLICY, policy);
        response
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Whether `path` is an address of `route` (`/agents/:agent_id/settings` or `{agent_id}`).
fn matches_route(route: &[String], path: &str) -> bool {
    let mut parts = segments(path);
    let fits = route.iter().all(|segment| match parts.next() {
        Some(part) => segment.starts_with(':') || segment.starts_with('{') || segment == part,
        None => false,
    });
    fits && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Vec<String> {
        segments(path).map(str::to_owned).collect()
    }

    #[test]
    fn addresses_match_their_route_only() {
        let settings = route("/agents/:agent_id/settings");
        assert!(matches_route(&settings, "/agents/a1/settings"));
        assert!(matches_route(&route("/agents/{agent_id}/settings"), "/agents/a1/settings"));
        assert!(!matches_route(&settings, "/agents/a1"));
        assert!(!matches_route(&settings, "/agents/a1/settings/more"));
        assert!(!matches_route(&settings, "/agents/a1/calls"));
        assert!(matches_route(&route("/docs/api"), "/docs/api"));
    }
}
