//! Dashboard sessions, in the same database as everything else and written through the same
//! writer (on SQLite, a second writer would contend for the file lock). The session layer's
//! store (`src/sessions.rs`) encodes the records; this only keeps them.

use super::Store;

impl Store {
    /// Stores a new session; `false` when the id is taken (the caller picks another).
    pub async fn create_session(
        &self, id: &str, data: &str, expires_at: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(data)
            .bind(expires_at)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn save_session(
        &self, id: &str, data: &str, expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The session's data, unless it has expired by `now` (Unix seconds).
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn delete_session(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await
            .map(|_| ())
    }

    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }
}
