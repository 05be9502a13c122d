//! Endpoint health at a glance: each webhook's latest deliveries (`HEALTH_WINDOW`, read along an
//! index, never the whole log) summed up as success rate, latency percentiles and last failure.

use crate::AppState;
use crate::OwnerRequest;
use crate::error::AppError;
use crate::states::DeliveryOutcome;
use crate::store::{DeliverySample, OwnedAgent};
use crate::views::{HEALTH_WINDOW, LastFailure, WebhookHealth};

/// `GET /api/v1/agents/{id}/webhooks/health`: every draft webhook's health, in the draft's order.
pub async fn of_agent(
    request: &OwnerRequest, agent_id: &str,
) -> Result<Vec<WebhookHealth>, AppError> {
    let agent = request.agent(agent_id).await?;
    let webhooks: Vec<(String, String)> =
        request.store().draft_webhooks(&agent).await?.into_iter().map(|w| (w.id, w.name)).collect();
    health(&request.state, &agent, &webhooks).await
}

/// The health of `webhooks` (id, name) of `agent`, in that order.
async fn health(
    state: &AppState, agent: &OwnedAgent, webhooks: &[(String, String)],
) -> Result<Vec<WebhookHealth>, AppError> {
    let ids: Vec<String> = webhooks.iter().map(|(id, _)| id.clone()).collect();
    let samples = state.store.delivery_samples(agent, &ids, HEALTH_WINDOW as i64).await?;
    Ok(of_samples(webhooks, samples))
}

/// The health of `webhooks` (id, name) from their samples (`Store::delivery_samples`, in the same
/// order).
pub(crate) fn of_samples(
    webhooks: &[(String, String)], samples: Vec<(String, Vec<DeliverySample>)>,
) -> Vec<WebhookHealth> {
    webhooks
        .iter()
        .zip(samples)
        .map(|((id, name), (_, samples))| summarize(id.clone(), name.clone(), &samples))
        .collect()
}

/// `samples` newest first.
pub fn summarize(
    webhook_id: String, webhook_name: String, samples: &[DeliverySample],
) -> WebhookHealth {
    let ok = |s: &DeliverySample| s.outcome == DeliveryOutcome::Ok;
    let succeeded = samples.iter().filter(|s| ok(s)).count();
    // Latency is the endpoint's: deliveries never sent to it (refused by the SSRF guard, or over
    // the limit of requests under way) took no time there and would flatter a dead endpoint.
    let mut latencies: Vec<i64> =
        samples.iter().filter(|s| s.outcome.was_sent()).filter_map(|s| s.duration_ms).collect();
    latencies.sort_unstable();
    let status = match samples.first() {
        None => "unknown",
        Some(_) if succeeded == samples.len() => "healthy",
        Some(latest) if ok(latest) => "degraded",
        Some(_) => "failing",
    };
    WebhookHealth {
        webhook_id,
        webhook_name,
        status: status.to_owned(),
        deliveries: samples.len(),
        succeeded,
        success_rate: (!samples.is_empty())
            .then(|| ((succeeded * 100 + samples.len() / 2) / samples.len()) as u8),
        p50_ms: percentile(&latencies, 50),
        p95_ms: percentile(&latencies, 95),
        last_failure: samples.iter().find(|s| !ok(s)).map(|s| LastFailure {
            at: s.started_at.clone(),
            outcome: s.outcome,
            status_code: s.status_code.and_then(|c| u16::try_from(c).ok()),
            error: s.error.clone(),
        }),
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(outcome: &str, ms: i64) -> DeliverySample {
        DeliverySample {
            started_at: format!("t{ms}"),
            duration_ms: Some(ms),
            outcome: DeliveryOutcome::parse(outcome).expect("an outcome"),
            status_code: None,
            error: None,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), Some(50));
        assert_eq!(percentile(&values, 95), Some(95));
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn status_follows_the_latest_delivery_and_the_rate() {
        let health = |s: &[DeliverySample]| summarize("w".into(), "n".into(), s);
        assert_eq!(health(&[]).status, "unknown");
        assert_eq!(health(&[sample("ok", 1), sample("ok", 2)]).status, "healthy");
        let degraded = health(&[sample("ok", 1), sample("timeout", 5000), sample("ok", 3)]);
        assert_eq!((degraded.status.as_str(), degraded.success_rate), ("degraded", Some(67)));
        assert_eq!(degraded.last_failure.map(|f| f.outcome), Some(DeliveryOutcome::Timeout));
        assert_eq!(health(&[sample("http_status", 1), sample("ok", 2)]).status, "failing");
    }

    #[test]
    fn deliveries_never_sent_count_as_failures_but_not_in_the_latency() {
        let dead = summarize(
            "w".into(),
            "n".into(),
            &[sample("in_flight_limit", 0), sample("in_flight_limit", 0), sample("timeout", 5000)],
        );
        assert_eq!((dead.status.as_str(), dead.success_rate), ("failing", Some(0)));
        assert_eq!((dead.p50_ms, dead.p95_ms), (Some(5000), Some(5000)));
        assert_eq!(summarize("w".into(), "n".into(), &[sample("blocked", 0)]).p50_ms, None);
    }
}
