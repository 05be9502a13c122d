//! What follows a delivery to a webhook whose `retry_policy` is `backoff`: another attempt after
//! a delay, or the end of its chain. The doc's behaviour (`none`: one request, no retries) never
//! comes here. The schedule is the operator's (`VOICY_RETRY_SCHEDULE_SECONDS`).

use crate::states::DeliveryOutcome;
use crate::store::DeliveryResult;
use rand::Rng;
use std::time::Duration;

/// The delays before each retry, in order: attempt 2 waits the first, attempt 3 the second, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

/// Why a chain will not be tried again, as the first delivery's `chain_end` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainEnd {
    /// A retry was answered 2xx.
    Succeeded,
    /// The answer (2xx aside) is not one a retry could change: another 4xx, a 3xx, a blocked
    /// address.
    NotRetryable,
    /// Every attempt of the schedule failed.
    GaveUp,
    /// The owner redelivered a delivery of the chain.
    Redelivered,
    /// The webhook was deleted from the draft, or is no longer in the config the call used.
    WebhookRemoved,
    /// The call's personal data was erased (retention, or the owner): nothing left to send.
    CallErased,
}

impl ChainEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::NotRetryable => "not_retryable",
            Self::GaveUp => "gave_up",
            Self::Redelivered => "redelivered",
            Self::WebhookRemoved => "webhook_removed",
            Self::CallErased => crate::store::CALL_ERASED,
        }
    }
}

/// What the first delivery of a chain is told after one of its attempts ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// The first attempt succeeded: no chain, nothing due.
    Done,
    RetryIn(Duration),
    End(ChainEnd),
}

/// Bounds on a receiver's `Retry-After`: sooner than a second is hammering, later than four
/// hours is past the schedule's own longest wait.
const RETRY_AFTER_MIN: Duration = Duration::from_secs(1);
const RETRY_AFTER_MAX: Duration = Duration::from_secs(4 * 3600);

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::parse("30,120,600,3600,14400").expect("the default schedule parses")
    }
}

impl RetrySchedule {
    /// Whole seconds separated by commas, e.g. `30,120,600`: 1 to 10 delays of 1 s to 24 h.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        const REASON: &str =
            "expected 1 to 10 whole seconds from 1 to 86400, separated by commas, e.g. 30,120,600";
        let delays = text
            .split(',')
            .map(|part| match part.trim().parse::<u64>() {
                Ok(seconds @ 1..=86_400) => Ok(Duration::from_secs(seconds)),
                _ => Err(REASON),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if delays.is_empty() || delays.len() > 10 {
            return Err(REASON);
        }
        Ok(Self(delays))
    }

    /// Attempts of one chain at the most: the first try and one per delay.
    pub fn max_attempts(&self) -> i64 {
        self.0.len() as i64 + 1
    }

    /// What follows attempt number `attempt` (1 is the first try) that ended with `result`.
    pub fn after(&self, attempt: i64, result: &DeliveryResult) -> NextStep {
        if result.outcome == DeliveryOutcome::Ok {
            return if attempt == 1 { NextStep::Done } else { NextStep::End(ChainEnd::Succeeded) };
        }
        if !retryable(result) {
            return NextStep::End(ChainEnd::NotRetryable);
        }
        let Some(delay) = usize::try_from(attempt - 1).ok().and_then(|i| self.0.get(i)) else {
            return NextStep::End(ChainEnd::GaveUp);
        };
        let honoured = matches!(result.status_code, Some(429 | 503))
            .then_some(result.retry_after)
            .flatten()
            .map(|asked| asked.clamp(RETRY_AFTER_MIN, RETRY_AFTER_MAX));
        NextStep::RetryIn(honoured.unwrap_or_else(|| jittered(*delay)))
    }
}

/// Failures a later attempt may not meet: the receiver or the way to it was down or
/// overloaded, or the request may not have arrived.
fn retryable(result: &DeliveryResult) -> bool {
    match result.outcome {
        DeliveryOutcome::Connect
        | DeliveryOutcome::Dns
        | DeliveryOutcome::Timeout
        | DeliveryOutcome::Interrupted
        | DeliveryOutcome::InFlightLimit => true,
        DeliveryOutcome::HttpStatus => {
            matches!(result.status_code, Some(408 | 429 | 500..=599))
        }
        _ => false,
    }
}

/// ±10 %, so that the calls of one outage do not all come back in the same second.
fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(rand::thread_rng().gen_range(0.9..=1.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(outcome: DeliveryOutcome, status: Option<u16>) -> DeliveryResult {
        DeliveryResult {
            duration_ms: 5,
            outcome,
            status_code: status,
            response_body: None,
            error: None,
            retry_after: None,
        }
    }

    #[test]
    fn failures_that_may_pass_are_retried_on_the_schedule_with_jitter() {
        let schedule = RetrySchedule::parse("30,120").unwrap();
        for (outcome, status) in [
            (DeliveryOutcome::Connect, None),
            (DeliveryOutcome::Timeout, None),
            (DeliveryOutcome::HttpStatus, Some(500)),
            (DeliveryOutcome::HttpStatus, Some(408)),
            (DeliveryOutcome::HttpStatus, Some(429)),
        ] {
            let NextStep::RetryIn(delay) = schedule.after(1, &ended(outcome, status)) else {
                panic!("{outcome:?} {status:?} is retried");
            };
            assert!((27..=33).contains(&delay.as_secs()), "{delay:?}");
        }
        let third = schedule.after(2, &ended(DeliveryOutcome::Connect, None));
        assert!(matches!(third, NextStep::RetryIn(d) if d.as_secs() >= 108));
        assert_eq!(
            schedule.after(3, &ended(DeliveryOutcome::Connect, None)),
            NextStep::End(ChainEnd::GaveUp)
        );
    }

    #[test]
    fn other_answers_end_the_chain() {
        let schedule = RetrySchedule::default();
        for status in [400, 401, 404, 410, 301] {
            let result = ended(DeliveryOutcome::HttpStatus, Some(status));
            assert_eq!(schedule.after(1, &result), NextStep::End(ChainEnd::NotRetryable));
        }
        let blocked = ended(DeliveryOutcome::Blocked, None);
        assert_eq!(schedule.after(1, &blocked), NextStep::End(ChainEnd::NotRetryable));
        let ok = ended(DeliveryOutcome::Ok, Some(200));
        assert_eq!(schedule.after(1, &ok), NextStep::Done);
        assert_eq!(schedule.after(3, &ok), NextStep::End(ChainEnd::Succeeded));
    }

    #[test]
    fn retry_after_is_honoured_within_bounds_on_429_and_503_only() {
        let schedule = RetrySchedule::default();
        let asked = |status, seconds| DeliveryResult {
            retry_after: Some(Duration::from_secs(seconds)),
            ..ended(DeliveryOutcome::HttpStatus, Some(status))
        };
        assert_eq!(schedule.after(1, &asked(503, 3)), NextStep::RetryIn(Duration::from_secs(3)));
        assert_eq!(schedule.after(1, &asked(429, 0)), NextStep::RetryIn(RETRY_AFTER_MIN));
        assert_eq!(schedule.after(1, &asked(429, 99_999)), NextStep::RetryIn(RETRY_AFTER_MAX));
        assert!(
            matches!(schedule.after(1, &asked(500, 3)), NextStep::RetryIn(d) if d.as_secs() >= 27)
        );
    }

    #[test]
    fn a_schedule_is_whole_seconds_separated_by_commas() {
        assert_eq!(RetrySchedule::parse("1,2").unwrap().max_attempts(), 3);
        assert_eq!(RetrySchedule::default().max_attempts(), 6);
        for bad in ["", "0", "1,,2", "abc", "90000", "1,2,3,4,5,6,7,8,9,10,11"] {
            assert!(RetrySchedule::parse(bad).is_err(), "{bad:?}");
        }
    }
}
