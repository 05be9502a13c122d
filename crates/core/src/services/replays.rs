//! Bulk replay: `POST …/webhooks/{id}/replays`, `GET /replays/{id}`, `DELETE /replays/{id}`.
//! "Redeliver failed…" in the dashboard is the same service.

use crate::OwnerRequest;
use crate::error::{AppError, FieldErrors};
use crate::views::{NewReplay, ReplayView};
use chrono::{DateTime, SecondsFormat, Utc};

/// An instant as the calls' `received_at` is written, so that the two compare as text.
fn instant(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| "Give an RFC 3339 instant, e.g. 2026-12-06T09:00:00Z.".to_owned())
}

pub async fn create(
    request: &OwnerRequest, agent_id: &str, webhook_id: &str, input: &NewReplay,
) -> Result<ReplayView, AppError> {
    let agent = request.agent(agent_id).await?;
    let webhook = super::pauses::current_webhook(request, &agent, webhook_id).await?;
    let mut errors = FieldErrors::new();
    let since = errors.take("since", instant(&input.since));
    let until = errors.take("until", instant(&input.until));
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        errors.add("until", "The end of the window must come after its start.");
    }
    errors.into_result()?;
    let (Some(since), Some(until)) = (since, until) else {
        return Err(AppError::internal("a replay window failed without an error"));
    };
    let text = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let window = (text(since), text(until));
    let replay = request
        .store()
        .create_replay(request.owner(), &agent, &webhook.id, (&window.0, &window.1))
        .await?;
    tracing::info!(agent_id, webhook_id, replay = %replay.id, total = replay.total, "replay created");
    Ok(replay)
}

pub async fn get(request: &OwnerRequest, replay_id: &str) -> Result<ReplayView, AppError> {
    request.store().replay_for_owner(request.owner(), replay_id).await
}

pub async fn cancel(request: &OwnerRequest, replay_id: &str) -> Result<ReplayView, AppError> {
    request.store().cancel_replay(request.owner(), replay_id).await
}
