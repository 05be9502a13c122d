//! Sign-up, login, logout and API keys.

use super::{ApiError, error::ApiResult, extract::{ApiJson, Owner}};
use app::server::{AppState, auth, services::{accounts, api_keys}};
use app::views::{ApiKeyView, CreatedApiKey, UserView};
use axum::{Json, Router, extract::{Path, State}, http::StatusCode, routing::{delete, post}};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(signup))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/api-keys", post(create_key).get(list_keys))
        .route("/api-keys/{id}", delete(revoke_key))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameBody {
    #[serde(default)]
    name: String,
}

async fn signup(State(state): State<AppState>, session: Session, ApiJson(body): ApiJson<Credentials>) -> ApiResult<(StatusCode, Json<UserView>)> {
    let user = accounts::sign_up(&state.store, &body.email, &body.password).await?;
    auth::start_session(&session, &user.id).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn login(
    State(state): State<AppState>,
    client: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    session: Session,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Json<UserView>> {
    let client = client.map(|c| c.0.0.ip().to_string());
    let user = accounts::sign_in(&state.store, &state.sign_ins, client.as_deref(), &body.email, &body.password).await?;
    auth::start_session(&session, &user.id).await?;
    Ok(Json(user))
}

async fn logout(session: Session) -> ApiResult<StatusCode> {
    auth::end_session(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_key(State(state): State<AppState>, Owner(owner): Owner, ApiJson(body): ApiJson<NameBody>) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    Ok((StatusCode::CREATED, Json(api_keys::create(&state.store, &owner, &body.name).await?)))
}

async fn list_keys(State(state): State<AppState>, Owner(owner): Owner) -> ApiResult<Json<Value>> {
    let keys: Vec<ApiKeyView> = api_keys::list(&state.store, &owner).await?;
    Ok(Json(json!({ "api_keys": keys })))
}

async fn revoke_key(State(state): State<AppState>, Owner(owner): Owner, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    api_keys::revoke(&state.store, &owner, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
