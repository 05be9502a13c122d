use super::{Store, is_unique_violation, new_id, now};
use crate::domain::Email;
use crate::error::AppError;

impl Store {
    /// Creates a user; an email already taken is `EmailTaken`.
    pub async fn insert_user(
        &self, email: &Email, password_hash: &str,
    ) -> Result<String, AppError> {
        let id = new_id();
        let result = sqlx::query(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(email.as_str())
        .bind(password_hash)
        .bind(now())
        .execute(&self.writer)
        .await;
        match result {
            Ok(_) => Ok(id),
            Err(e) if is_unique_violation(&e) => Err(AppError::EmailTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// `(user id, password hash)` of the account with this email.
    pub async fn credentials(&self, email: &Email) -> Result<Option<(String, String)>, AppError> {
        Ok(sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn user_email(&self, user_id: &str) -> Result<Option<String>, AppError> {
        Ok(sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?)
    }
}
