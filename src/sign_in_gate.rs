//! Pages need a signed-in owner (the API reference aside): an anonymous visitor is sent to
//! sign-in before any page work.
//! The REST API and server functions check on their own (with a 401 rather than a redirect).

use axum::{
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

fn is_public(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path.starts_with("/rpc/")
        || path == "/healthz"
        || path == "/metrics" // a 404 here: served on VOICY_METRICS_ADDR only
        || path == "/docs/api" // the API reference describes the API and holds no data
        || path.rsplit('/').next().is_some_and(|last| last.contains('.')) // public/ files
}

fn is_auth_page(path: &str) -> bool {
    matches!(path, "/signin" | "/signup")
}

/// How long a session lasts without use. tower-sessions writes a session (and its expiry) only
/// when its data changes, so the expiry would stay where sign-in put it; noting the day of the
/// last page view changes the data once a day, which moves the expiry forward: one write a day
/// per session, not one per request.
pub const INACTIVITY: tower_sessions::cookie::time::Duration =
    tower_sessions::cookie::time::Duration::days(14);
const SEEN_DAY: &str = "seen_day";

async fn keep_alive(session: &Session) {
    let today = tower_sessions::cookie::time::OffsetDateTime::now_utc().unix_timestamp() / 86_400;
    let seen: Option<i64> = session.get(SEEN_DAY).await.ok().flatten();
    if seen != Some(today) {
        // A failure only means the session expires on its old date; logged by the store.
        let _ = session.insert(SEEN_DAY, today).await;
    }
}

pub async fn require_sign_in(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if is_public(path) || request.method() != axum::http::Method::GET {
        return next.run(request).await;
    }
    let signed_in = match voicy_core::auth::session_owner(&session).await {
        Ok(owner) => owner.is_some(),
        Err(e) => return crate::api::ApiError(e).into_response(),
    };
    if signed_in {
        keep_alive(&session).await;
    }
    match (signed_in, is_auth_page(path)) {
        (false, false) => Redirect::to("/signin").into_response(),
        (true, true) => Redirect::to("/agents").into_response(),
        _ => next.run(request).await,
    }
}
