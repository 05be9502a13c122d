//! Quotas that protect the service and everyone it sends to, counted in the database so that
//! every instance shares them (`store::rate_counters`): a quota is the same with one instance or
//! ten, and a restart does not reset it. Over a quota the answer is 429 with the seconds to wait,
//! before any costly work (an argon2 hash, a request to a URL of the caller's choosing, an e-mail).
//!
//! - Sign-in: per account *and* client address (tight), per client address, and per account from
//!   everywhere (ten times looser). Someone who knows an owner's e-mail can spend the first from
//!   their own address, but that does not lock the owner out of signing in from theirs.
//! - Sign-up: per client address (each costs a hash, and mass accounts multiply every other quota).
//! - An owner's web calls, and test sends with redeliveries: each fans out to URLs and e-mail
//!   addresses of the caller's choosing. Phone calls (the telephony layer's) are not limited here.
//! - An agent's notification e-mails per hour: the ones over it are recorded as not sent.
//!
//! Client addresses are the ones `VOICY_TRUSTED_PROXIES` lets through (see the binary's
//! `client_address`); an IPv6 client counts as its /64, since one machine usually holds a whole one.

use crate::error::AppError;
use crate::store::{Store, Window};
use std::time::Duration;

/// Sign-in attempts a minute on one account from one client address, from one client address on
/// any account, and on one account from all addresses together.
const SIGN_INS_PER_ACCOUNT_AND_CLIENT: i64 = 10;
const SIGN_INS_PER_CLIENT: i64 = 60;
const SIGN_INS_PER_ACCOUNT: i64 = 100;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// The operator's quotas (`VOICY_*` settings, see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `VOICY_SIGN_UPS_PER_HOUR`: accounts created from one client address in an hour.
    pub sign_ups_per_hour: u32,
    /// `VOICY_WEB_CALLS_PER_MINUTE`: web (test) calls one owner makes in a minute.
    pub web_calls_per_minute: u32,
    /// `VOICY_TEST_SENDS_PER_MINUTE`: test sends and redeliveries one owner makes in a minute.
    pub test_sends_per_minute: u32,
    /// `VOICY_MAILS_PER_AGENT_PER_HOUR`: notification e-mails one agent sends in an hour.
    pub mails_per_agent_per_hour: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sign_ups_per_hour: 10,
            web_calls_per_minute: 60,
            test_sends_per_minute: 20,
            mails_per_agent_per_hour: 100,
        }
    }
}

/// The quotas, counted in `store`.
#[derive(Debug, Clone)]
pub struct Throttle {
    store: Store,
    limits: Limits,
}

impl Throttle {
    pub fn new(store: Store, limits: Limits) -> Self {
        Self { store, limits }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Counts a sign-in attempt on `account` (an e-mail, any case) from `client`;
    /// `TooManyAttempts` when any of its quotas is spent. Every attempt counts: a person signs in
    /// a few times a minute at most.
    pub async fn sign_in(&self, account: &str, client: Option<&str>) -> Result<(), AppError> {
        // Keys are bounded: no e-mail is longer than 254 characters.
        let account: String = account.trim().chars().take(254).collect::<String>().to_lowercase();
        let client = client.map(client_key).unwrap_or_default();
        let mut windows = vec![
            (window(format!("signin:account:{account}"), MINUTE), SIGN_INS_PER_ACCOUNT),
            (
                window(format!("signin:pair:{client}|{account}"), MINUTE),
                SIGN_INS_PER_ACCOUNT_AND_CLIENT,
            ),
        ];
        if !client.is_empty() {
            windows.push((window(format!("signin:client:{client}"), MINUTE), SIGN_INS_PER_CLIENT));
        }
        self.take("sign_in", &windows, AppError::TooManyAttempts).await
    }

    /// Counts an account created from `client`.
    pub async fn sign_up(&self, client: Option<&str>) -> Result<(), AppError> {
        let Some(client) = client.map(client_key) else { return Ok(()) };
        let quota = i64::from(self.limits.sign_ups_per_hour);
        let windows = [(window(format!("signup:{client}"), HOUR), quota)];
        self.take("sign_up", &windows, AppError::TooManySignUps).await
    }

    /// Counts a web call of `owner`.
    pub async fn web_call(&self, owner: &str) -> Result<(), AppError> {
        let quota = i64::from(self.limits.web_calls_per_minute);
        let windows = [(window(format!("webcall:{owner}"), MINUTE), quota)];
        self.take("web_call", &windows, AppError::TooManyWebCalls).await
    }

    /// Counts a test send or redelivery of `owner`.
    pub async fn manual_send(&self, owner: &str) -> Result<(), AppError> {
        let quota = i64::from(self.limits.test_sends_per_minute);
        let windows = [(window(format!("send:{owner}"), MINUTE), quota)];
        self.take("test_send", &windows, AppError::TooManySends).await
    }

    /// Takes up to `wanted` e-mails from `agent`'s hourly quota: how many may be sent.
    pub async fn mails(&self, agent: &str, wanted: usize) -> Result<usize, AppError> {
        let quota = i64::from(self.limits.mails_per_agent_per_hour);
        let counted =
            self.store.count_hits(&[window(format!("mail:{agent}"), HOUR)], wanted as i64).await?;
        let before = counted[0].hits - wanted as i64;
        let allowed = (quota - before).clamp(0, wanted as i64) as usize;
        if allowed < wanted {
            metrics::counter!("voicy_throttled_total", "limit" => "mail")
                .increment((wanted - allowed) as u64);
        }
        Ok(allowed)
    }

    /// Counts one hit in each window; `over(seconds to wait)` when one is over its quota.
    async fn take(
        &self, limit: &'static str, windows: &[(Window, i64)], over: fn(u64) -> AppError,
    ) -> Result<(), AppError> {
        let keys: Vec<Window> = windows.iter().map(|(w, _)| w.clone()).collect();
        let counted = self.store.count_hits(&keys, 1).await?;
        let wait = windows
            .iter()
            .zip(&counted)
            .filter(|((_, quota), counted)| counted.hits > *quota)
            .map(|(_, counted)| counted.resets_in.as_secs().max(1))
            .max();
        match wait {
            None => Ok(()),
            Some(seconds) => {
                metrics::counter!("voicy_throttled_total", "limit" => limit).increment(1);
                Err(over(seconds))
            }
        }
    }
}

fn window(key: String, length: Duration) -> Window {
    Window { key, length }
}

/// The key a client address is counted under: an IPv4 address as it is, an IPv6 address by its
/// first 64 bits.
fn client_key(client: &str) -> String {
    match client.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
        _ => client.chars().take(64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::client_key;

    #[test]
    fn an_ipv6_client_counts_as_its_slash_64_and_a_mapped_ipv4_as_itself() {
        assert_eq!(client_key("2001:db8:1:2::7"), "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");
        assert_eq!(client_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(client_key("203.0.113.7"), "203.0.113.7");
    }
}
