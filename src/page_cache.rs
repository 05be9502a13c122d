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

use app::server::page_reads::{PageReads, Read};
use app::server::{AppState, RequestMemo};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header::CONTENT_SECURITY_POLICY, request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::prelude::{Owner, provide_context};
use leptos::reactive::computed::ScopedFuture;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// The pages kept, by owner and address, within a memory budget.
pub struct PageCache {
    state: AppState,
    /// Paths of the routes rendered whole, segment by segment.
    routes: Vec<Vec<String>>,
    budget: usize,
    shelf: Mutex<Shelf>,
}

/// (owner id, path and query).
type Key = (String, String);

#[derive(Default)]
struct Shelf {
    pages: HashMap<Key, Arc<Page>>,
    /// Oldest first; a key kept again is pushed again, and its older place is skipped when it
    /// comes up (`Page::serial`).
    order: VecDeque<(Key, u64)>,
    bytes: usize,
    serial: u64,
}

/// A rendered page, its nonce taken out so that each response gets its own.
struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    /// The Content-Security-Policy header and the body, each cut where the nonce was.
    policy: Vec<String>,
    body: Vec<Bytes>,
    reads: Vec<Read>,
    size: usize,
    serial: u64,
}

impl PageCache {
    /// A cache for the routes in `listing` that render whole; `budget` bytes at most (0: none).
    pub fn new(state: AppState, listing: &[leptos_axum::AxumRouteListing], budget: usize) -> Self {
        let routes = listing
            .iter()
            .filter(|route| matches!(route.mode(), leptos_router::SsrMode::Async))
            .map(|route| segments(route.path()).map(str::to_owned).collect())
            .collect();
        Self { state, routes, budget, shelf: Mutex::default() }
    }

    fn keeps(&self, path: &str) -> bool {
        self.budget > 0 && self.routes.iter().any(|route| matches_route(route, path))
    }

    fn shelf(&self) -> std::sync::MutexGuard<'_, Shelf> {
        self.shelf.lock().expect("never poisoned: nothing panics while it is held")
    }

    /// Runs the reads of a kept page again, as the owner of this request.
    async fn reread(&self, reads: &[Read], parts: &request::Parts) -> Vec<Option<Vec<u8>>> {
        let owner = Owner::new();
        owner.with(|| {
            provide_context(self.state.clone());
            provide_context(RequestMemo::default());
            provide_context(parts.clone());
        });
        // One after the other: the first read that checks the agent leaves it in the request's
        // memo for the others (run together, each would ask the database).
        let mut outputs = Vec::with_capacity(reads.len());
        for read in reads {
            outputs.push(owner.with(|| ScopedFuture::new((read.replay)())).await);
        }
        outputs
    }

    fn put(&self, key: Key, mut page: Page) {
        if page.size > self.budget / 8 {
            return; // one page never takes more than an eighth of the budget
        }
        let mut shelf = self.shelf();
        shelf.serial += 1;
        page.serial = shelf.serial;
        shelf.bytes += page.size;
        shelf.order.push_back((key.clone(), page.serial));
        if let Some(old) = shelf.pages.insert(key, Arc::new(page)) {
            shelf.bytes -= old.size;
        }
        while shelf.bytes > self.budget {
            let Some((key, serial)) = shelf.order.pop_front() else { break };
            if shelf.pages.get(&key).is_some_and(|page| page.serial == serial) {
                let page = shelf.pages.remove(&key).expect("just found");
                shelf.bytes -= page.size;
            }
        }
    }
}

/// The middleware: sends a kept page whose reads are unchanged, or renders and keeps it.
pub async fn serve_or_keep(State(cache): State<Arc<PageCache>>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET || !cache.keeps(request.uri().path()) {
        return next.run(request).await;
    }
    let session = request.extensions().get::<tower_sessions::Session>().cloned();
    let owner = match session {
        Some(session) => app::server::auth::session_owner(&session).await.ok().flatten(),
        None => None,
    };
    let Some(owner) = owner else { return next.run(request).await };
    let key = (owner.as_str().to_owned(), request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned());
    let (mut parts, body) = request.into_parts();

    let kept = cache.shelf().pages.get(&key).cloned();
    let mut fresh = HashMap::new();
    if let Some(page) = kept {
        let outputs = cache.reread(&page.reads, &parts).await;
        if page.reads.iter().zip(&outputs).all(|(read, output)| output.as_deref() == Some(read.output.as_slice())) {
            return page.response();
        }
        fresh = page.reads.iter().zip(outputs).filter_map(|(read, output)| Some((read.key.clone(), output?))).collect();
    }

    let reads = PageReads::with_fresh(fresh);
    parts.extensions.insert(reads.clone());
    let response = next.run(Request::from_parts(parts, body)).await;
    match reads.complete() {
        Some(reads) if response.status() == StatusCode::OK && !reads.is_empty() => keep(&cache, key, reads, response).await,
        _ => response,
    }
}

/// Keeps a rendered page and sends it on.
async fn keep(cache: &PageCache, key: Key, reads: Vec<Read>, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(err) => {
            // Logged once, by `internal`; the visitor gets a page-sized sentence.
            let _ = app::error::AppError::internal(format!("a rendered page broke off: {err}"));
            return (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be sent. Reload it to try again.").into_response();
        }
    };
    let policy = parts.headers.get(CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if let Some(nonce) = nonce_of(policy).filter(|n| n.len() >= 16) {
        let size = bytes.len() + reads.iter().map(|r| r.output.len() + r.key.len()).sum::<usize>();
        let page = Page {
            status: parts.status,
            headers: parts.headers.clone(),
            policy: policy.split(nonce).map(str::to_owned).collect(),
            body: split_bytes(&bytes, nonce.as_bytes()),
            reads,
            size,
            serial: 0,
        };
        cache.put(key, page);
    }
    Response::from_parts(parts, Body::from(bytes))
}

impl Page {
    fn response(&self) -> Response {
        let nonce = fresh_nonce();
        let mut response = Response::new(Body::from(self.body.join(nonce.as_bytes())));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        match HeaderValue::from_str(&self.policy.join(&nonce)) {
            Ok(policy) => response.headers_mut().insert(CONTENT_SECURITY_POLICY, policy),
            Err(_) => unreachable!("the policy was a header value and the nonce is URL-safe base64"),
        };
        response
    }
}

/// The nonce in a Content-Security-Policy: `'nonce-…'`.
fn nonce_of(policy: &str) -> Option<&str> {
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let len = policy[start..].find('\'')?;
    Some(&policy[start..start + len])
}

/// 122 random bits (a v4 UUID's, from the operating system's generator), as Leptos writes its
/// nonces: URL-safe base64 without padding.
fn fresh_nonce() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

fn split_bytes(bytes: &Bytes, needle: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at + needle.len() <= bytes.len() {
        if &bytes[at..at + needle.len()] == needle {
            pieces.push(bytes.slice(start..at));
            at += needle.len();
            start = at;
        } else {
            at += 1;
        }
    }
    pieces.push(bytes.slice(start..));
    pieces
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

    #[test]
    fn the_nonce_is_cut_out_wherever_it_is() {
        let policy = "default-src 'self'; script-src 'nonce-AbC_123-xyz' 'strict-dynamic'";
        assert_eq!(nonce_of(policy), Some("AbC_123-xyz"));
        let body = Bytes::from_static(b"<script nonce=\"N1\">a</script><script nonce=\"N1\">b</script>");
        let pieces = split_bytes(&body, b"N1");
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.join(&b"N2"[..]), b"<script nonce=\"N2\">a</script><script nonce=\"N2\">b</script>".to_vec());
        assert_eq!(fresh_nonce().len(), 22);
        assert_ne!(fresh_nonce(), fresh_nonce());
    }

    /// A page is kept only with every read it made; a server function that pages read with
    /// (`input = GetUrl`) and that bypassed `page_read!` would leave a kept page stale.
    #[test]
    fn every_page_read_is_recorded() {
        fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("app/src"), &mut files);
        let mut found = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (at, line) in lines.iter().enumerate() {
                if line.trim_start().starts_with("#[leptos::server(") && line.contains("input = GetUrl") {
                    found += 1;
                    let body = lines.get(at + 2).copied().unwrap_or_default();
                    assert!(body.contains("page_read!"), "{}:{}: a GetUrl server function whose body does not start with page_read!", file.display(), at + 1);
                }
            }
        }
        assert!(found >= 10, "found {found} page reads");
    }
}
