//! Cross-site request forgery: a state-changing request that a browser sends from another site
//! carries that site in `Origin` (or, failing that, `Referer`), and the session cookie with it
//! (`SameSite=Lax` lets top-level form posts through, and login CSRF needs no cookie at all). Such
//! a request is refused with 403 before any work. Requests authenticated by a Bearer key are
//! exempt (no ambient credential), and so are requests with neither header: browsers always send
//! `Origin` on cross-site POSTs, so only non-browser clients send neither.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use voicy_model::error::AppError;

/// The site's own origin: `VOICY_PUBLIC_URL` behind a proxy, else what the request was sent to.
#[derive(Clone, Debug)]
pub struct SiteOrigin {
    pub public: Option<String>,
    pub https: bool,
}

impl SiteOrigin {
    fn of(&self, headers: &HeaderMap) -> Option<String> {
        if let Some(public) = &self.public {
            return Some(public.clone());
        }
        let host = headers.get(header::HOST)?.to_str().ok()?;
        Some(format!("{}://{host}", if self.https { "https" } else { "http" }))
    }
}

/// `scheme://host[:port]` of a URL, lower-cased, as browsers write `Origin`.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    match url.origin() {
        url::Origin::Tuple(..) => Some(url.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

pub async fn refuse_cross_site(
    State(site): State<SiteOrigin>, request: Request, next: Next,
) -> Response {
    let changes_state = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.starts_with("Bearer "));
    if changes_state && !bearer {
        let headers = request.headers();
        let sender = match headers.get(header::ORIGIN) {
            // "null": a sandboxed or privacy-sensitive context; never our own pages.
            Some(origin) => Some(origin.to_str().ok().and_then(origin_of).unwrap_or_default()),
            None => headers
                .get(header::REFERER)
                .map(|r| r.to_str().ok().and_then(origin_of).unwrap_or_default()),
        };
        if let Some(sender) = sender {
            let own = site.of(headers).and_then(|o| origin_of(&o));
            if own.as_deref() != Some(sender.as_str()) {
                tracing::warn!(%sender, "refused a cross-site state-changing request");
                return crate::api::ApiError(AppError::CrossSite).into_response();
            }
        }
    }
    next.run(request).await
}
