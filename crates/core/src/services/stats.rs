//! A webhook's success rate and latency over the last 24 hours (hourly) or 30 days (daily):
//! `GET …/webhooks/{id}/stats` and, drawn, `…/stats.svg` (`stats_chart`).

use crate::OwnerRequest;
use crate::error::{AppError, FieldErrors};
use crate::store::{BinCount, LATENCY_BINS};
use crate::views::{StatsBucket, WebhookStats};
use chrono::{DateTime, Duration, DurationRound, SecondsFormat, Utc};

/// The two windows: hourly buckets over a day, daily over a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Day,
    Month,
}

impl Window {
    pub fn parse(raw: Option<&str>) -> Result<Self, AppError> {
        match raw.map(str::trim).unwrap_or("24h") {
            "24h" | "" => Ok(Self::Day),
            "30d" => Ok(Self::Month),
            _ => Err(FieldErrors::single("window", "give 24h (hourly) or 30d (daily)")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "24h",
            Self::Month => "30d",
        }
    }

    /// The buckets' length, how many, and how many characters of `started_at` name one.
    fn shape(self) -> (Duration, i64, i64) {
        match self {
            Self::Day => (Duration::hours(1), 24, 13),
            Self::Month => (Duration::days(1), 30, 10),
        }
    }
}

pub async fn of_webhook(
    request: &OwnerRequest, agent_id: &str, webhook_id: &str, window: Window,
) -> Result<(String, WebhookStats), AppError> {
    let agent = request.agent(agent_id).await?;
    let webhook = super::pauses::current_webhook(request, &agent, webhook_id).await?;
    let (step, count, key_len) = window.shape();
    let current = Utc::now().duration_trunc(step).map_err(AppError::internal)?;
    let first = current - step * (count as i32 - 1);
    let since = first.to_rfc3339_opts(SecondsFormat::Millis, true);
    let counts = request.store().delivery_counts(&agent, &webhook.id, &since, key_len).await?;
    let buckets =
        (0..count).map(|i| bucket(first + step * i as i32, key_len as usize, &counts)).collect();
    let stats = WebhookStats {
        webhook_id: webhook.id.clone(),
        window: window.as_str().to_owned(),
        buckets,
    };
    Ok((webhook.name, stats))
}

fn bucket(start: DateTime<Utc>, key_len: usize, counts: &[BinCount]) -> StatsBucket {
    let text = start.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mine: Vec<&BinCount> = counts.iter().filter(|c| text[..key_len] == c.bucket).collect();
    let deliveries: i64 = mine.iter().map(|c| c.deliveries).sum();
    let succeeded: i64 = mine.iter().map(|c| c.succeeded).sum();
    let mut bins = [0i64; LATENCY_BINS.len() + 1];
    for c in &mine {
        if let Some(bin) = c.bin.and_then(|b| usize::try_from(b).ok()).filter(|b| *b < bins.len()) {
            bins[bin] += c.deliveries;
        }
    }
    StatsBucket {
        start: text,
        deliveries,
        succeeded,
        success_rate: (deliveries > 0).then(|| (succeeded * 100 / deliveries) as u8),
        p50_ms: percentile(&bins, 0.5),
        p95_ms: percentile(&bins, 0.95),
    }
}

/// The `q` quantile of a latency histogram, interpolated within its bin.
fn percentile(bins: &[i64], q: f64) -> Option<i64> {
    let total: i64 = bins.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0);
    let mut below = 0i64;
    for (i, &n) in bins.iter().enumerate() {
        if n > 0 && (below + n) as f64 >= rank {
            let lower = if i == 0 { 0 } else { LATENCY_BINS[i - 1] };
            let upper = LATENCY_BINS.get(i).copied().unwrap_or(lower);
            let within = (rank - below as f64) / n as f64;
            return Some(lower + ((upper - lower) as f64 * within).round() as i64);
        }
        below += n;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_bins_interpolated() {
        // 10 under 5 ms, 10 between 100 and 250 ms.
        let mut bins = [0i64; LATENCY_BINS.len() + 1];
        bins[0] = 10;
        bins[5] = 10;
        assert_eq!(percentile(&bins, 0.5), Some(5));
        assert_eq!(percentile(&bins, 0.95), Some(100 + 150 * 9 / 10));
        assert_eq!(percentile(&[0; 11], 0.5), None);
        let mut slow = [0i64; LATENCY_BINS.len() + 1];
        slow[LATENCY_BINS.len()] = 3;
        assert_eq!(percentile(&slow, 0.95), Some(5000));
    }

    #[test]
    fn a_window_is_24h_or_30d() {
        assert_eq!(Window::parse(None).unwrap(), Window::Day);
        assert_eq!(Window::parse(Some("30d")).unwrap(), Window::Month);
        assert!(Window::parse(Some("7d")).is_err());
    }
}
