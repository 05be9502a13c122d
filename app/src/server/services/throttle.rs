//! Sign-in attempts throttled per account and per client address (GCRA buckets from `governor`):
//! guessing passwords costs an attacker time, and the server an argon2 run per guess only up to
//! the quota. Every attempt counts (a person signs in a few times a minute at most); over the
//! quota the answer is 429 with the seconds to wait.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// Attempts per minute (and burst) for one account, and for one client address.
const PER_ACCOUNT: u32 = 10;
const PER_CLIENT: u32 = 60;

#[derive(Debug)]
pub struct SignInThrottle {
    accounts: DefaultKeyedRateLimiter<String>,
    clients: DefaultKeyedRateLimiter<String>,
    attempts: AtomicU64,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        let per_minute = |n| Quota::per_minute(NonZeroU32::new(n).expect("a positive quota"));
        Self { accounts: RateLimiter::keyed(per_minute(PER_ACCOUNT)), clients: RateLimiter::keyed(per_minute(PER_CLIENT)), attempts: AtomicU64::new(0) }
    }
}

impl SignInThrottle {
    /// Counts an attempt on `account` (an e-mail, any case) from `client`; `Err(seconds to
    /// wait)` when either is over its quota.
    pub fn attempt(&self, account: &str, client: Option<&str>) -> Result<(), u64> {
        // Keys of quiet accounts are dropped now and then, so the maps stay small.
        if self.attempts.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.accounts.retain_recent();
            self.clients.retain_recent();
        }
        let check = |limiter: &DefaultKeyedRateLimiter<String>, key: String| {
            limiter.check_key(&key).map_err(|over| over.wait_time_from(DefaultClock::default().now()).as_secs().max(1))
        };
        if let Some(client) = client {
            check(&self.clients, client.to_owned())?;
        }
        check(&self.accounts, account.trim().to_lowercase())
    }
}

/// Test sends and redeliveries an owner may make a minute (and at once). Each is a real request
/// to a URL of the owner's choosing: without a bound, an API key could use Voicy to flood any
/// endpoint, and wash a failing endpoint's health with tests.
const SENDS_PER_OWNER: u32 = 20;

#[derive(Debug)]
pub struct SendThrottle {
    owners: DefaultKeyedRateLimiter<String>,
    sends: AtomicU64,
}

impl Default for SendThrottle {
    fn default() -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(SENDS_PER_OWNER).expect("a positive quota"));
        Self { owners: RateLimiter::keyed(quota), sends: AtomicU64::new(0) }
    }
}

impl SendThrottle {
    /// Counts a manual send of `owner`; `Err(seconds to wait)` over the quota.
    pub fn send(&self, owner: &str) -> Result<(), u64> {
        if self.sends.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.owners.retain_recent();
        }
        self.owners.check_key(&owner.to_owned()).map_err(|over| over.wait_time_from(DefaultClock::default().now()).as_secs().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_throttled_after_its_quota_and_others_are_not() {
        let throttle = SignInThrottle::default();
        for _ in 0..PER_ACCOUNT {
            assert_eq!(throttle.attempt("Owner@example.com", None), Ok(()));
        }
        let wait = throttle.attempt("owner@example.com", None).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(throttle.attempt("someone-else@example.com", None), Ok(()));
    }

    #[test]
    fn manual_sends_are_bounded_per_owner() {
        let throttle = SendThrottle::default();
        for _ in 0..SENDS_PER_OWNER {
            assert_eq!(throttle.send("owner-a"), Ok(()));
        }
        assert!(throttle.send("owner-a").is_err());
        assert_eq!(throttle.send("owner-b"), Ok(()));
    }

    #[test]
    fn a_client_address_is_throttled_across_accounts() {
        let throttle = SignInThrottle::default();
        for i in 0..PER_CLIENT {
            assert_eq!(throttle.attempt(&format!("user{i}@example.com"), Some("203.0.113.7")), Ok(()));
        }
        assert!(throttle.attempt("new@example.com", Some("203.0.113.7")).is_err());
        assert_eq!(throttle.attempt("new@example.com", Some("198.51.100.1")), Ok(()));
    }
}
