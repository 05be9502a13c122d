//! Settings, read once at start-up from `VOICY_*` environment variables and checked then: a bad
//! value stops the server with one line naming the variable. Nothing here is a secret today;
//! if one is added, keep it out of `Debug`.

use std::net::SocketAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `VOICY_DATABASE_URL`: where the SQLite database lives (created if missing).
    pub database_url: String,
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
    /// `VOICY_DISPATCH`: process calls and send their events (default true). `false` serves the
    /// dashboard and API only; stored calls wait and are sent at the next start with it on.
    pub dispatch: bool,
    /// `VOICY_SMTP_URL`: where notification e-mails go, e.g. `smtps://user:pass@smtp.example.com`
    /// or `smtp://host:587?tls=required`. Unset: notifications are recorded as skipped.
    pub smtp_url: Option<SmtpUrl>,
    /// `VOICY_MAIL_FROM`: the sender of notification e-mails.
    pub mail_from: String,
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
        let get = |var: &'static str, default: &str| lookup(var).unwrap_or_else(|| default.to_owned());
        let database_url = get("VOICY_DATABASE_URL", "sqlite://data/voicy.db");
        if !database_url.starts_with("sqlite:") {
            return Err(ConfigError { var: "VOICY_DATABASE_URL", value: database_url, reason: "expected a sqlite: URL" });
        }
        let addr = get("VOICY_LISTEN_ADDR", "127.0.0.1:3000");
        let listen_addr = addr
            .parse()
            .map_err(|_| ConfigError { var: "VOICY_LISTEN_ADDR", value: addr.clone(), reason: "expected host:port, e.g. 127.0.0.1:3000" })?;
        Ok(Self {
            database_url,
            listen_addr,
            secure_cookies: flag("VOICY_SECURE_COOKIES", lookup("VOICY_SECURE_COOKIES"))?,
            allow_insecure_webhooks: flag("VOICY_ALLOW_INSECURE_WEBHOOKS", lookup("VOICY_ALLOW_INSECURE_WEBHOOKS"))?,
            site_root: get("VOICY_SITE_ROOT", "target/site"),
            webhook_ca_file: lookup("VOICY_WEBHOOK_CA_FILE").filter(|p| !p.trim().is_empty()).map(Into::into),
            dispatch: !matches!(lookup("VOICY_DISPATCH").as_deref().map(str::trim), Some("false") | Some("0")),
            smtp_url: match lookup("VOICY_SMTP_URL").filter(|u| !u.trim().is_empty()) {
                Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => Some(SmtpUrl(url)),
                Some(_) => {
                    // The value may hold a password: it is not echoed.
                    return Err(ConfigError { var: "VOICY_SMTP_URL", value: "[redacted]".into(), reason: "expected smtp:// or smtps://" });
                }
                None => None,
            },
            mail_from: get("VOICY_MAIL_FROM", "Voicy <notifications@voicy.invalid>"),
        })
    }
}

fn flag(var: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ConfigError { var, value: other.to_owned(), reason: "expected true or false" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_serve_the_embedded_database_on_port_3000() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, "sqlite://data/voicy.db");
        assert_eq!(s.listen_addr.to_string(), "127.0.0.1:3000");
        assert!(!s.secure_cookies && !s.allow_insecure_webhooks);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = settings(&[("VOICY_SECURE_COOKIES", "yes please")]).unwrap_err().to_string();
        assert!(err.contains("VOICY_SECURE_COOKIES"), "{err}");
        let err = settings(&[("VOICY_LISTEN_ADDR", "localhost")]).unwrap_err().to_string();
        assert!(err.contains("VOICY_LISTEN_ADDR"), "{err}");
        let err = settings(&[("VOICY_DATABASE_URL", "postgres://x")]).unwrap_err().to_string();
        assert!(err.contains("VOICY_DATABASE_URL"), "{err}");
    }
}
