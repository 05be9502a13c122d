//! Sign-up, login, logout and API keys.

use super::{
    ApiError, ErrorBody,
    error::{ApiResult, Created, Invalid, NotFound, Unexpected},
    extract::{ApiJson, Owner, Path},
};
use axum::{Extension, Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa_axum::{router::OpenApiRouter, routes};
use voicy_core::auth::ClientAddress;
use voicy_core::{
    AppState, auth,
    services::{accounts, api_keys},
};
use voicy_model::views::{ApiKeyView, CreatedApiKey, UserView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Credentials {
    #[schema(required = true)]
    #[serde(default)]
    email: String,
    /// At least 8 characters.
    #[schema(required = true)]
    #[serde(default)]
    password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NameBody {
    #[schema(required = true)]
    #[serde(default)]
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ApiKeyList {
    api_keys: Vec<ApiKeyView>,
}

/// Creates an account and signs it in (sets the session cookie).
#[utoipa::path(post, path = "/auth/signup", tag = "accounts", security(()), request_body = Credentials,
    responses((status = 201, description = "The signed-in account", body = UserView), (status = 409, description = "The e-mail has an account", body = ErrorBody),
        (status = 413, description = "Over 16 KB (not signed in)", body = ErrorBody),
        (status = 422, description = "Invalid e-mail or password", body = ErrorBody),
        (status = 429, description = "Too many accounts created from this address (`VOICY_SIGN_UPS_PER_HOUR`); `Retry-After` says when to try again", body = ErrorBody), Unexpected))]
async fn signup(
    State(state): State<AppState>, client: Option<Extension<ClientAddress>>, session: Session,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Created<UserView>> {
    let client = client.map(|Extension(c)| c);
    let user = accounts::sign_up(&state, client, &body.email, &body.password).await?;
    auth::start_session(&session, &user).await?;
    Ok(Created(user))
}

/// Signs in (sets the session cookie). Repeated failures are throttled (429 with `Retry-After`).
#[utoipa::path(post, path = "/auth/login", tag = "accounts", security(()), request_body = Credentials,
    responses((status = 200, description = "The signed-in account", body = UserView), (status = 401, description = "Wrong e-mail or password", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody), Unexpected))]
async fn login(
    State(state): State<AppState>, client: Option<Extension<ClientAddress>>, session: Session,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Json<UserView>> {
    let client = client.map(|Extension(c)| c);
    let user = accounts::sign_in(&state, client, &body.email, &body.password).await?;
    auth::start_session(&session, &user).await?;
    Ok(Json(user))
}

/// Ends the session.
#[utoipa::path(post, path = "/auth/logout", tag = "accounts", security(()),
    responses((status = 204, description = "Signed out"), Unexpected))]
async fn logout(session: Session) -> ApiResult<StatusCode> {
    auth::end_session(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates an API key. Its secret is in this answer only.
#[utoipa::path(post, path = "/api-keys", tag = "accounts", request_body = NameBody,
    responses((status = 201, description = "The new key, with its secret (shown this once)", body = CreatedApiKey), Invalid, Unexpected))]
async fn create_api_key(
    Owner(request): Owner, ApiJson(body): ApiJson<NameBody>,
) -> ApiResult<Created<CreatedApiKey>> {
    Ok(Created(api_keys::create(&request, &body.name).await?))
}

/// The owner's API keys (never their secrets).
#[utoipa::path(get, path = "/api-keys", tag = "accounts",
    responses((status = 200, description = "The owner's API keys", body = ApiKeyList), Unexpected))]
async fn list_api_keys(Owner(request): Owner) -> ApiResult<Json<ApiKeyList>> {
    Ok(Json(ApiKeyList { api_keys: api_keys::list(&request).await? }))
}

/// Revokes an API key: it stops working at once.
#[utoipa::path(delete, path = "/api-keys/{id}", tag = "accounts", params(("id" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"), NotFound, Unexpected))]
async fn revoke_api_key(
    Owner(request): Owner, Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    api_keys::revoke(&request, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
