//! Pages need a signed-in owner: an anonymous visitor is sent to sign-in before any page work.
//! The REST API and server functions check on their own (with a 401 rather than a redirect).

use axum::{extract::Request, middleware::Next, response::{IntoResponse, Redirect, Response}};
use tower_sessions::Session;

fn is_public(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path.starts_with("/rpc/")
        || path == "/healthz"
        || path.rsplit('/').next().is_some_and(|last| last.contains('.')) // public/ files
}

fn is_auth_page(path: &str) -> bool {
    matches!(path, "/signin" | "/signup")
}

pub async fn require_sign_in(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if is_public(path) || request.method() != axum::http::Method::GET {
        return next.run(request).await;
    }
    let signed_in = match app::server::auth::session_owner(&session).await {
        Ok(owner) => owner.is_some(),
        Err(e) => return crate::api::ApiError(e).into_response(),
    };
    match (signed_in, is_auth_page(path)) {
        (false, false) => Redirect::to("/signin").into_response(),
        (true, true) => Redirect::to("/agents").into_response(),
        _ => next.run(request).await,
    }
}
