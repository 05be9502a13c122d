//! Settings, read once at start-up from `VOICY_*` environment variables and checked then: a bad
//! value stops the server with one line naming the variable. Values that can hold a password
//! (database and SMTP URLs) never show it in `Debug` or in the log.

pub use crate::client_address::TrustedProxies;
use std::net::SocketAddr;
use std::time::Duration;
use voicy_core::dispatcher::retry_policy::RetrySchedule;
pub use voicy_core::services::throttle::Limits;
pub use voicy_core::store::DatabaseUrl;
use voicy_core::vault::Keyring;

/// A fixed key for tests and benchmarks (`VOICY_SECRET_KEY`); never for a real deployment.
pub const TEST_SECRET_KEY: &str = "dGVzdHMgb25seTogbm90IGEgcmVhbCBrZXkgIDAwMDA=";

/// What this process does; the first command-line argument (`voicy serve|web|worker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Dashboard, REST API and dispatcher: the default, and what `make run` starts.
    Serve,
    /// Dashboard and REST API only; stored calls wait in the queue for a worker.
    Web,
    /// The dispatcher only, with `GET /healthz` on the listen address.
    Worker,
}

impl Role {
    pub fn parse(arg: Option<&str>) -> Result<Self, String> {
        match arg {
            None | Some("serve") => Ok(Self::Serve),
            Some("web") => Ok(Self::Web),
            Some("worker") => Ok(Self::Worker),
            Some(other) => Err(format!(
                "unknown command {other:?}: expected serve (the default), web or worker"
            )),
        }
    }

    pub fn dispatches(self) -> bool {
        self != Self::Web
    }

    pub fn serves_dashboard(self) -> bool {
        self != Self::Worker
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `VOICY_DATABASE_URL`: the SQLite database (created if missing) or PostgreSQL database.
    pub database_url: DatabaseUrl,
    /// The command-line role (not an environment variable).
    pub role: Role,
    /// `VOICY_LEASE_SECONDS`: how long a claimed call stays this instance's without a renewal
    /// (renewed every third of it); after that another instance takes the work over.
    pub lease: Duration,
    /// `VOICY_MAX_CALLS_IN_FLIGHT`: calls this instance processes and sends at once; the rest
    /// wait in the queue.
    pub max_calls_in_flight: usize,
    /// `VOICY_MAX_REQUESTS_PER_WEBHOOK`: requests this instance has under way to one webhook at
    /// most; over it a delivery is not sent and is logged as `in_flight_limit`.
    pub max_requests_per_webhook: usize,
    /// `VOICY_RETRY_SCHEDULE_SECONDS`: for webhooks whose `retry_policy` is `backoff`, the
    /// delays before each retry, whole seconds separated by commas (default
    /// `30,120,600,3600,14400`: five retries over about five hours).
    pub retry_schedule: RetrySchedule,
    /// `VOICY_REPLAY_RATE_PER_SECOND`: redeliveries a bulk replay makes a second at most (one
    /// replay per webhook runs at a time, so per webhook too).
    pub replay_rate: u32,
    /// `VOICY_PAGE_CACHE_MB`: memory for dashboard pages kept to be served again while their
    /// data is unchanged (`page_cache`); 0 turns keeping off.
    pub page_cache_bytes: usize,
    /// `VOICY_SIGN_UPS_PER_HOUR`, `VOICY_WEB_CALLS_PER_MINUTE`, `VOICY_TEST_SENDS_PER_MINUTE`,
    /// `VOICY_MAILS_PER_AGENT_PER_HOUR`: the quotas every instance shares (`Throttle`).
    pub limits: Limits,
    /// `VOICY_TRUSTED_PROXIES`: the proxies (CIDRs) whose `X-Forwarded-For`/`Forwarded` name the
    /// client; from any other address the connection's own address is the client.
    pub trusted_proxies: TrustedProxies,
    /// `VOICY_METRICS_ADDR`: where `GET /metrics` (Prometheus text format) listens; unset, off.
    pub metrics_addr: Option<SocketAddr>,
    /// `VOICY_RETENTION_DAYS`: how long call transcripts and bodies and delivery bodies are kept
    /// (default 30; 0 keeps them for ever).
    pub retention_days: u32,
    /// `VOICY_MAX_CONNECTIONS` and `VOICY_HEADER_READ_TIMEOUT_SECONDS`: bounds on HTTP clients.
    pub connections: crate::serve::Limits,
    /// `VOICY_LISTEN_ADDR`: the address the server listens on.
    pub listen_addr: SocketAddr,
    /// `VOICY_SECURE_COOKIES`: mark the session cookie `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// `VOICY_ALLOW_INSECURE_WEBHOOKS`: allow `http://` webhook URLs (local development, tests).
    pub allow_insecure_webhooks: bool,
    /// `VOICY_SITE_ROOT`: the built site (wasm, CSS, public files) to serve.
    pub site_root: String,
    /// `VOICY_WEBHOOK_CA_FILE`: a PEM certificate to trust for webhook TLS besides the public
    /// roots (a private PKI).
    pub webhook_ca_file: Option<std::path::PathBuf>,
    /// `VOICY_SMTP_URL`: where notification e-mails go, e.g. `smtps://user:pass@smtp.example.com`
    /// or `smtp://host:587?tls=required`. Unset: notifications are recorded as skipped.
    pub smtp_url: Option<SmtpUrl>,
    /// `VOICY_PUBLIC_URL`: the address people open the dashboard at, e.g.
    /// `https://voicy.example.com`, when a proxy sits in front; cross-site requests are judged
    /// against it. Unset: the address each request was sent to.
    pub public_url: Option<String>,
    /// `VOICY_MAIL_FROM`: the sender of notification e-mails.
    pub mail_from: String,
    /// `VOICY_SECRET_KEY` (or a file named by `VOICY_SECRET_KEY_FILE`): the keys that encrypt
    /// webhook secrets and header values at rest. Required: without them the server could only
    /// send unsigned requests.
    pub secret_keys: Keyring,
}

const KEY_REASON_MISSING: &str = "required: base64 of 32 random bytes (`head -c 32 /dev/urandom | base64`), or \
    VOICY_SECRET_KEY_FILE naming a file that holds it; it encrypts webhook secrets and header values \
    at rest (`make run` creates data/secret.key)";
const KEY_REASON_INVALID: &str =
    "expected base64 of exactly 32 bytes, several separated by commas (the first encrypts)";

/// The keyring from `VOICY_SECRET_KEY`, else from the file `VOICY_SECRET_KEY_FILE` names.
fn secret_keys(lookup: &impl Fn(&str) -> Option<String>) -> Result<Keyring, ConfigError> {
    let redacted =
        |var| ConfigError { var, value: "[redacted]".into(), reason: KEY_REASON_INVALID };
    let set = |var| lookup(var).is_some_and(|v| !v.trim().is_empty());
    if set("VOICY_SECRET_KEY") && set("VOICY_SECRET_KEY_FILE") {
        // Which one wins would be a guess, and the wrong key cannot open what the other sealed.
        return Err(ConfigError {
            var: "VOICY_SECRET_KEY_FILE",
            value: "[set]".into(),
            reason: "VOICY_SECRET_KEY is set too: set one of the two",
        });
    }
    if let Some(keys) = lookup("VOICY_SECRET_KEY").filter(|k| !k.trim().is_empty()) {
        return Keyring::parse(&keys).map_err(|_| redacted("VOICY_SECRET_KEY"));
    }
    match lookup("VOICY_SECRET_KEY_FILE").filter(|p| !p.trim().is_empty()) {
        Some(path) => {
            let keys = std::fs::read_to_string(path.trim()).map_err(|_| ConfigError {
                var: "VOICY_SECRET_KEY_FILE",
                value: path.clone(),
                reason: "cannot read the file",
            })?;
            Keyring::parse(&keys).map_err(|_| redacted("VOICY_SECRET_KEY_FILE"))
        }
        None => Err(ConfigError {
            var: "VOICY_SECRET_KEY",
            value: String::new(),
            reason: KEY_REASON_MISSING,
        }),
    }
}

/// The SMTP URL, which may hold a password: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl(pub String);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpUrl([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid {var}={value:?}: {reason}")]
pub struct ConfigError {
    var: &'static str,
    value: String,
    reason: &'static str,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get =
            |var: &'static str, default: &str| lookup(var).unwrap_or_else(|| default.to_owned());
        let database_url = database_url(get("VOICY_DATABASE_URL", "sqlite://data/voicy.db"))?;
        let addr = get("VOICY_LISTEN_ADDR", "127.0.0.1:3000");
        let listen_addr = addr.parse().map_err(|_| ConfigError {
            var: "VOICY_LISTEN_ADDR",
            value: addr.clone(),
            reason: "expected host:port, e.g. 127.0.0.1:3000",
        })?;
        Ok(Self {
            database_url,
            role: Role::Serve,
            lease: Duration::from_secs(number(
                &lookup,
                "VOICY_LEASE_SECONDS",
                20,
                1..=30,
                "expected whole seconds from 1 to 30",
            )?),
            max_calls_in_flight: number(
                &lookup,
                "VOICY_MAX_CALLS_IN_FLIGHT",
                1024,
                1..=100_000,
                "expected a number from 1 to 100000",
            )? as usize,
            max_requests_per_webhook: number(
                &lookup,
                "VOICY_MAX_REQUESTS_PER_WEBHOOK",
                500,
                1..=100_000,
                "expected a number from 1 to 100000",
            )? as usize,
            retry_schedule: match lookup("VOICY_RETRY_SCHEDULE_SECONDS") {
                Some(value) if !value.trim().is_empty() => {
                    RetrySchedule::parse(&value).map_err(|reason| ConfigError {
                        var: "VOICY_RETRY_SCHEDULE_SECONDS",
                        value,
                        reason,
                    })?
                }
                _ => RetrySchedule::default(),
            },
            replay_rate: number(
                &lookup,
                "VOICY_REPLAY_RATE_PER_SECOND",
                10,
                1..=1000,
                "expected a number from 1 to 1000",
            )? as u32,
            page_cache_bytes: number(
                &lookup,
                "VOICY_PAGE_CACHE_MB",
                32,
                0..=4096,
                "expected megabytes from 0 to 4096",
            )? as usize
                * 1024
                * 1024,
            limits: limits(&lookup)?,
            trusted_proxies: match lookup("VOICY_TRUSTED_PROXIES") {
                Some(value) => TrustedProxies::parse(&value).map_err(|reason| ConfigError {
                    var: "VOICY_TRUSTED_PROXIES",
                    value,
                    reason,
                })?,
                None => TrustedProxies::default(),
            },
            metrics_addr: match lookup("VOICY_METRICS_ADDR").filter(|v| !v.trim().is_empty()) {
                Some(value) => Some(value.trim().parse().map_err(|_| ConfigError {
                    var: "VOICY_METRICS_ADDR",
                    value,
                    reason: "expected host:port, e.g. 127.0.0.1:9090",
                })?),
                None => None,
            },
            retention_days: number(
                &lookup,
                "VOICY_RETENTION_DAYS",
                30,
                0..=36_500,
                "expected whole days from 0 (keep for ever) to 36500",
            )? as u32,
            connections: connection_limits(&lookup)?,
            listen_addr,
            secure_cookies: flag("VOICY_SECURE_COOKIES", lookup("VOICY_SECURE_COOKIES"))?,
            allow_insecure_webhooks: flag(
                "VOICY_ALLOW_INSECURE_WEBHOOKS",
                lookup("VOICY_ALLOW_INSECURE_WEBHOOKS"),
            )?,
            site_root: get("VOICY_SITE_ROOT", "target/site"),
            webhook_ca_file: lookup("VOICY_WEBHOOK_CA_FILE")
                .filter(|p| !p.trim().is_empty())
                .map(Into::into),
            smtp_url: smtp_url(lookup("VOICY_SMTP_URL"))?,
            public_url: public_url(lookup("VOICY_PUBLIC_URL"))?,
            mail_from: get("VOICY_MAIL_FROM", "Voicy <notifications@voicy.invalid>"),
            secret_keys: secret_keys(&lookup)?,
        })
    }
}

/// `VOICY_DATABASE_URL`: a backend this build knows. A bad value is shown without its password.
fn database_url(url: String) -> Result<DatabaseUrl, ConfigError> {
    let url = DatabaseUrl::new(url);
    if voicy_core::store::Backend::of_url(url.expose()).is_none() {
        return Err(ConfigError {
            var: "VOICY_DATABASE_URL",
            value: url.redacted(),
            reason: "expected sqlite://path or postgres://user@host/database",
        });
    }
    Ok(url)
}

/// The shared quotas; each 1 to 1,000,000 (tests and load runs raise them).
fn limits(lookup: &impl Fn(&str) -> Option<String>) -> Result<Limits, ConfigError> {
    let defaults = Limits::default();
    let quota = |var, default: u32| {
        number(lookup, var, default.into(), 1..=1_000_000, "expected a number from 1 to 1000000")
            .map(|n| n as u32)
    };
    Ok(Limits {
        sign_ups_per_hour: quota("VOICY_SIGN_UPS_PER_HOUR", defaults.sign_ups_per_hour)?,
        web_calls_per_minute: quota("VOICY_WEB_CALLS_PER_MINUTE", defaults.web_calls_per_minute)?,
        test_sends_per_minute: quota(
            "VOICY_TEST_SENDS_PER_MINUTE",
            defaults.test_sends_per_minute,
        )?,
        mails_per_agent_per_hour: quota(
            "VOICY_MAILS_PER_AGENT_PER_HOUR",
            defaults.mails_per_agent_per_hour,
        )?,
    })
}

/// `VOICY_MAX_CONNECTIONS` and `VOICY_HEADER_READ_TIMEOUT_SECONDS`: what the listener allows.
fn connection_limits(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<crate::serve::Limits, ConfigError> {
    Ok(crate::serve::Limits {
        max_connections: number(
            lookup,
            "VOICY_MAX_CONNECTIONS",
            4096,
            1..=1_000_000,
            "expected a number from 1 to 1000000",
        )? as usize,
        header_read_timeout: Duration::from_secs(number(
            lookup,
            "VOICY_HEADER_READ_TIMEOUT_SECONDS",
            15,
            1..=300,
            "expected whole seconds from 1 to 300",
        )?),
    })
}

/// `VOICY_SMTP_URL`: where notifications are sent, if anywhere.
fn smtp_url(url: Option<String>) -> Result<Option<SmtpUrl>, ConfigError> {
    match url.filter(|u| !u.trim().is_empty()) {
        Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
            Ok(Some(SmtpUrl(url)))
        }
        // The value may hold a password: it is not echoed.
        Some(_) => Err(ConfigError {
            var: "VOICY_SMTP_URL",
            value: "[redacted]".into(),
            reason: "expected smtp:// or smtps://",
        }),
        None => Ok(None),
    }
}

/// `VOICY_PUBLIC_URL`: the site's own origin, for the cross-site check behind a proxy.
fn public_url(url: Option<String>) -> Result<Option<String>, ConfigError> {
    let refused = |value: String| ConfigError {
        var: "VOICY_PUBLIC_URL",
        value,
        reason: "expected http(s)://host[:port]",
    };
    match url.filter(|u| !u.trim().is_empty()) {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
            crate::csrf::origin_of(url.trim()).map(Some).ok_or_else(|| refused(url.clone()))
        }
        Some(url) => Err(refused(url)),
        None => Ok(None),
    }
}

fn number(
    lookup: &impl Fn(&str) -> Option<String>, var: &'static str, default: u64,
    range: std::ops::RangeInclusive<u64>, reason: &'static str,
) -> Result<u64, ConfigError> {
    match lookup(var).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(value) => match value.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ConfigError { var, value, reason }),
        },
    }
}

fn flag(var: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => {
            Err(ConfigError { var, value: other.to_owned(), reason: "expected true or false" })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        vars.entry("VOICY_SECRET_KEY".into()).or_insert_with(|| TEST_SECRET_KEY.into());
        Settings::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn the_secret_key_is_required_and_never_shown() {
        let err = Settings::from_lookup(|_| None).unwrap_err().to_string();
        assert!(err.contains("VOICY_SECRET_KEY") && err.contains("head -c 32"), "{err}");
        let err = settings(&[("VOICY_SECRET_KEY", "aHVudGVyMg==")]).unwrap_err().to_string();
        assert!(err.contains("VOICY_SECRET_KEY") && !err.contains("aHVudGVyMg"), "{err}");
        let s = settings(&[]).unwrap();
        assert!(!format!("{s:?}").contains(TEST_SECRET_KEY));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret.key");
        std::fs::write(&file, format!("{}\n", Keyring::generate_key())).unwrap();
        let from_file = Settings::from_lookup(|k| {
            (k == "VOICY_SECRET_KEY_FILE").then(|| file.display().to_string())
        })
        .unwrap();
        assert_ne!(from_file.secret_keys, s.secret_keys);
        // Both at once: refused rather than one picked.
        let path = file.display().to_string();
        let both = Settings::from_lookup(|k| match k {
            "VOICY_SECRET_KEY" => Some(TEST_SECRET_KEY.to_owned()),
            "VOICY_SECRET_KEY_FILE" => Some(path.clone()),
            _ => None,
        });
        let err = both.unwrap_err().to_string();
        assert!(
            err.contains("VOICY_SECRET_KEY_FILE")
                && err.contains("one of the two")
                && !err.contains(TEST_SECRET_KEY),
            "{err}"
        );
    }

    #[test]
    fn defaults_serve_the_embedded_database_on_port_3000() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url.expose(), "sqlite://data/voicy.db");
        assert_eq!(s.role, Role::Serve);
        assert!(s.lease <= Duration::from_secs(30));
        assert_eq!(s.listen_addr.to_string(), "127.0.0.1:3000");
        assert!(!s.secure_cookies && !s.allow_insecure_webhooks);
    }

    #[test]
    fn kept_pages_have_a_budget_in_megabytes_and_zero_turns_them_off() {
        assert_eq!(settings(&[]).unwrap().page_cache_bytes, 32 * 1024 * 1024);
        assert_eq!(settings(&[("VOICY_PAGE_CACHE_MB", "0")]).unwrap().page_cache_bytes, 0);
        let err = settings(&[("VOICY_PAGE_CACHE_MB", "lots")]).unwrap_err().to_string();
        assert!(err.contains("VOICY_PAGE_CACHE_MB") && err.contains("megabytes"), "{err}");
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = settings(&[("VOICY_SECURE_COOKIES", "yes please")]).unwrap_err().to_string();
        assert!(err.contains("VOICY_SECURE_COOKIES"), "{err}");
        let err = settings(&[("VOICY_LISTEN_ADDR", "localhost")]).unwrap_err().to_string();
        assert!(err.contains("VOICY_LISTEN_ADDR"), "{err}");
        let err = settings(&[("VOICY_DATABASE_URL", "mysql://x")]).unwrap_err().to_string();
        assert!(err.contains("VOICY_DATABASE_URL"), "{err}");
        let err = settings(&[("VOICY_LEASE_SECONDS", "90")]).unwrap_err().to_string();
        assert!(err.contains("VOICY_LEASE_SECONDS"), "{err}");
    }

    #[test]
    fn postgres_urls_are_accepted_and_their_password_never_shown() {
        let s = settings(&[("VOICY_DATABASE_URL", "postgres://voicy:hunter2@db.internal/voicy")])
            .unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!s.database_url.redacted().contains("hunter2"));
        let err = settings(&[("VOICY_DATABASE_URL", "pg://voicy:hunter2@db/voicy")])
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
