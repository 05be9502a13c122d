//! Who is asking: the owner behind a session cookie or an API key.

use crate::error::AppError;
use tower_sessions::Session;

const SESSION_USER_KEY: &str = "user_id";
/// The signed-in user's e-mail, for the account menu on every page without a read of its own.
const SESSION_EMAIL_KEY: &str = "email";

/// The id of an authenticated user. Only this module and the API-key service make one, from a
/// session or a key, so holding one means the request is authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerId(String);

impl OwnerId {
    pub(crate) fn authenticated(user_id: String) -> Self {
        Self(user_id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The owner signed in on this session, if any.
pub async fn session_owner(session: &Session) -> Result<Option<OwnerId>, AppError> {
    let user: Option<String> = session.get(SESSION_USER_KEY).await.map_err(AppError::internal)?;
    Ok(user.map(OwnerId))
}

/// The e-mail of the user signed in on this session, if it was kept there (sessions started
/// before it was are answered from the database).
pub async fn session_email(session: &Session) -> Result<Option<String>, AppError> {
    session.get(SESSION_EMAIL_KEY).await.map_err(AppError::internal)
}

/// Signs `user` in on this session, under a fresh session id (no session fixation).
pub async fn start_session(
    session: &Session, user: &crate::views::UserView,
) -> Result<(), AppError> {
    session.cycle_id().await.map_err(AppError::internal)?;
    session.insert(SESSION_USER_KEY, &user.id).await.map_err(AppError::internal)?;
    session.insert(SESSION_EMAIL_KEY, &user.email).await.map_err(AppError::internal)
}

pub async fn end_session(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(AppError::internal)
}

/// The client's network address, as the binary determined it (behind trusted proxies, the
/// address they forward): what sign-in and sign-up throttles count per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);
