//! Sign-in attempts throttled per account and client address together, per client address, and
//! per account from everywhere (GCRA buckets from `governor`): guessing passwords costs an
//! attacker time, and the server an argon2 run per guess only up to the quota. Every attempt
//! counts (a person signs in a few times a minute at most); over a quota the answer is 429 with
//! the seconds to wait.
//!
//! The tight quota is per account *and address*: someone who knows an owner's e-mail can spend it
//! from their own address, but that does not lock the owner out of signing in from theirs. The
//! account's quota over every address is ten times looser: it only bounds guessing spread over
//! many addresses, and keeping an account locked takes that many addresses.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// Attempts per minute (and burst) on one account from one client address, from one client
/// address on any account, and on one account from all addresses together.
const PER_ACCOUNT_AND_CLIENT: u32 = 10;
const PER_CLIENT: u32 = 60;
const PER_ACCOUNT: u32 = 100;

#[derive(Debug)]
pub struct SignInThrottle {
    account_clients: DefaultKeyedRateLimiter<(String, String)>,
    clients: DefaultKeyedRateLimiter<String>,
    accounts: DefaultKeyedRateLimiter<String>,
    attempts: AtomicU64,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        let per_minute = |n| Quota::per_minute(NonZeroU32::new(n).expect("a positive quota"));
        Self {
            account_clients: RateLimiter::keyed(per_minute(PER_ACCOUNT_AND_CLIENT)),
            clients: RateLimiter::keyed(per_minute(PER_CLIENT)),
            accounts: RateLimiter::keyed(per_minute(PER_ACCOUNT)),
            attempts: AtomicU64::new(0),
        }
    }
}

impl SignInThrottle {
    /// Counts an attempt on `account` (an e-mail, any case) from `client` (its address, when
    /// known); `Err(seconds to wait)` when any of its quotas is spent.
    pub fn attempt(&self, account: &str, client: Option<&str>) -> Result<(), u64> {
        // Keys of quiet accounts are dropped now and then, so the maps stay small.
        if self.attempts.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.account_clients.retain_recent();
            self.clients.retain_recent();
            self.accounts.retain_recent();
        }
        fn check<K: std::hash::Hash + Eq + Clone>(
            limiter: &DefaultKeyedRateLimiter<K>, key: &K,
        ) -> Result<(), u64> {
            limiter
                .check_key(key)
                .map_err(|over| over.wait_time_from(DefaultClock::default().now()).as_secs().max(1))
        }
        // Keys are bounded (a body may be 2 MB; no e-mail is longer than 254 characters), and an
        // IPv6 client counts as its /64: one machine usually holds a whole /64.
        let account: String = account.trim().chars().take(254).collect::<String>().to_lowercase();
        let client = client.map(client_key).unwrap_or_default();
        if !client.is_empty() {
            check(&self.clients, &client)?;
        }
        check(&self.account_clients, &(account.clone(), client))?;
        check(&self.accounts, &account)
    }
}

/// The key a client address is counted under: an IPv4 address as it is, an IPv6 address by its
/// first 64 bits.
fn client_key(client: &str) -> String {
    match client.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default()
        }
        _ => client.chars().take(64).collect(),
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
        self.owners
            .check_key(&owner.to_owned())
            .map_err(|over| over.wait_time_from(DefaultClock::default().now()).as_secs().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_throttled_from_one_address_after_its_quota_and_others_are_not() {
        let throttle = SignInThrottle::default();
        for _ in 0..PER_ACCOUNT_AND_CLIENT {
            assert_eq!(throttle.attempt("Owner@example.com", Some("203.0.113.7")), Ok(()));
        }
        let wait = throttle.attempt("owner@example.com", Some("203.0.113.7")).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert_eq!(throttle.attempt("someone-else@example.com", Some("203.0.113.7")), Ok(()));
    }

    #[test]
    fn guesses_from_one_address_do_not_lock_the_owner_out_of_another() {
        let throttle = SignInThrottle::default();
        for _ in 0..PER_ACCOUNT_AND_CLIENT * 3 {
            let _ = throttle.attempt("owner@example.com", Some("203.0.113.7"));
        }
        assert!(throttle.attempt("owner@example.com", Some("203.0.113.7")).is_err());
        assert_eq!(throttle.attempt("owner@example.com", Some("198.51.100.1")), Ok(()));
    }

    #[test]
    fn an_ipv6_client_counts_as_its_slash_64_and_long_names_as_their_first_254_characters() {
        let throttle = SignInThrottle::default();
        for i in 0..PER_ACCOUNT_AND_CLIENT {
            assert_eq!(
                throttle.attempt("owner@example.com", Some(&format!("2001:db8:1:2::{i:x}"))),
                Ok(())
            );
        }
        assert!(
            throttle.attempt("owner@example.com", Some("2001:db8:1:2:ffff::1")).is_err(),
            "same /64"
        );
        assert_eq!(
            throttle.attempt("owner@example.com", Some("2001:db8:1:3::1")),
            Ok(()),
            "another /64"
        );
        let long = "a".repeat(300);
        for _ in 0..PER_ACCOUNT_AND_CLIENT {
            let _ = throttle.attempt(&format!("{long}x"), Some("203.0.113.9"));
        }
        assert!(
            throttle.attempt(&format!("{long}y"), Some("203.0.113.9")).is_err(),
            "keyed by its first 254 characters"
        );
    }

    #[test]
    fn guesses_spread_over_many_addresses_are_bounded_per_account() {
        let throttle = SignInThrottle::default();
        for i in 0..PER_ACCOUNT {
            let client = format!("203.0.113.{}", i / PER_ACCOUNT_AND_CLIENT);
            assert_eq!(throttle.attempt("owner@example.com", Some(&client)), Ok(()), "{i}");
        }
        assert!(throttle.attempt("owner@example.com", Some("198.51.100.1")).is_err());
        assert_eq!(throttle.attempt("someone-else@example.com", Some("198.51.100.1")), Ok(()));
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
            assert_eq!(
                throttle.attempt(&format!("user{i}@example.com"), Some("203.0.113.7")),
                Ok(())
            );
        }
        assert!(throttle.attempt("new@example.com", Some("203.0.113.7")).is_err());
        assert_eq!(throttle.attempt("new@example.com", Some("198.51.100.1")), Ok(()));
    }
}
