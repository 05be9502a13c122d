//! The URL and the signing secret of a webhook.

use url::Url;

const MAX_URL_LEN: usize = 2048;
const MAX_SECRET_CHARS: usize = 256;

/// "The HTTPS endpoint that will receive POST requests": absolute, `https`, with a host.
/// Plain `http` only where the operator allows insecure webhooks (local development, tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    pub fn parse(raw: &str, allow_insecure: bool) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("Enter the URL that should receive the webhook.".into());
        }
        if raw.len() > MAX_URL_LEN {
            return Err(format!("Use at most {MAX_URL_LEN} characters for the URL."));
        }
        let url = Url::parse(raw).map_err(|_| {
            "Enter a full URL that starts with https://, e.g. https://example.com/hooks/voicy."
                .to_owned()
        })?;
        match url.scheme() {
            "https" => {}
            "http" if allow_insecure => {}
            "http" => return Err("Use an https:// URL: webhooks are only sent over HTTPS.".into()),
            _ => return Err("Use an https:// URL.".into()),
        }
        // WHATWG parsing forgives `https:example.com` and `https:///host`; we ask for the
        // plain form so that what is stored is what the owner meant.
        let after_scheme = raw.split_once("://").map(|(_, rest)| rest);
        if url.host_str().is_none_or(str::is_empty)
            || after_scheme.is_none_or(|rest| rest.starts_with('/'))
        {
            return Err("The URL needs a host name, e.g. https://example.com/hooks.".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("Remove the user name and password from the URL; send credentials in a custom header instead.".into());
        }
        // A host that can only be this machine or a private network would be refused at every
        // send: say so now. (Names are checked again when sent, on the address they resolve to.)
        if !allow_insecure && let Some(host) = unreachable_host(&url) {
            return Err(format!(
                "{host} is a private or reserved address, where webhooks are never sent. Use the endpoint's public host name or address."
            ));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// The URL's host, when it is an address (or `localhost`, which always is one) off limits.
fn unreachable_host(url: &Url) -> Option<String> {
    if let Some(ip) = super::forbidden_literal(url) {
        return Some(if ip.is_ipv6() { format!("[{ip}]") } else { ip.to_string() });
    }
    let name = url.domain()?.trim_end_matches('.').to_ascii_lowercase();
    (name == "localhost" || name.ends_with(".localhost")).then_some(name)
}

/// "A secret string for HMAC-SHA256 signature verification": 1–256 characters, no control
/// characters. Never `Debug`-printed, never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl SigningSecret {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            return Err("Enter a secret, or leave the field blank.".into());
        }
        if raw.chars().count() > MAX_SECRET_CHARS {
            return Err(format!(
                "Use at most {MAX_SECRET_CHARS} characters for the signing secret."
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(
                "The signing secret cannot contain line breaks or control characters.".into()
            );
        }
        Ok(Self(raw.to_owned()))
    }

    /// A secret read back from our own store, which only ever holds parsed secrets.
    pub(crate) fn from_trusted(secret: String) -> Self {
        Self(secret)
    }

    /// A new secret in the Standard Webhooks form: `whsec_` and the base64 of 32 random bytes,
    /// which that spec's verification libraries accept as it is.
    pub fn generate() -> Self {
        use base64::Engine;
        let bytes: [u8; 32] = rand::random();
        Self(format!(
            "{STANDARD_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// The key of Standard Webhooks signatures: the bytes after `whsec_`, base64-decoded
    /// (24–64 of them, as that spec asks). `None` when the secret is not of that form.
    pub fn standard_key(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        let encoded = self.0.strip_prefix(STANDARD_PREFIX)?;
        let key = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
        (24..=64).contains(&key.len()).then_some(key)
    }
}

const STANDARD_PREFIX: &str = "whsec_";

/// Why a webhook cannot have Standard Webhooks signatures, when it cannot.
pub const STANDARD_NEEDS_SECRET: &str = "Standard Webhooks signatures need a signing secret of the form whsec_ followed by \
    the base64 of 24 to 64 random bytes. Use \"Generate secret\", or turn the option off.";

secret_text!(SigningSecret);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_are_accepted() {
        let url = WebhookUrl::parse(" https://crm.example.com/hooks?x=1 ", false).unwrap();
        assert_eq!(url.as_str(), "https://crm.example.com/hooks?x=1");
    }

    #[test]
    fn plain_http_is_rejected_unless_allowed() {
        assert!(WebhookUrl::parse("http://example.com/h", false).is_err());
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/h", true).is_ok());
    }

    #[test]
    fn relative_hostless_and_other_scheme_urls_are_rejected() {
        for bad in [
            "",
            "/hooks",
            "example.com/hooks",
            "https://",
            "ftp://example.com/",
            "https:///path",
            "https:example.com",
            "mailto:a@b.c",
        ] {
            assert!(WebhookUrl::parse(bad, true).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn hosts_that_can_only_be_private_are_rejected_unless_insecure_webhooks_are_allowed() {
        for url in [
            "https://127.0.0.1:8443/h",
            "https://10.0.0.7/h",
            "https://169.254.169.254/latest",
            "https://[::1]/h",
            "https://[::ffff:127.0.0.1]/h",
            "https://localhost/h",
            "https://LocalHost./h",
            "https://api.localhost/h",
            "https://2130706433/h",
        ] {
            let err = WebhookUrl::parse(url, false).unwrap_err();
            assert!(err.contains("private or reserved"), "{url}: {err}");
            assert!(WebhookUrl::parse(url, true).is_ok(), "{url} is fine for local development");
        }
        for url in ["https://1.1.1.1/h", "https://example.com/h", "https://localhost.example.com/h"]
        {
            assert!(WebhookUrl::parse(url, false).is_ok(), "{url}");
        }
    }

    #[test]
    fn urls_with_credentials_are_rejected() {
        assert!(WebhookUrl::parse("https://user:pw@example.com/", false).is_err());
    }

    #[test]
    fn a_url_of_2048_characters_is_accepted_and_2049_is_not() {
        let base = "https://example.com/";
        let at_limit = format!("{base}{}", "a".repeat(2048 - base.len()));
        assert!(WebhookUrl::parse(&at_limit, false).is_ok());
        assert!(WebhookUrl::parse(&format!("{at_limit}a"), false).is_err());
    }

    #[test]
    fn a_secret_of_256_characters_is_accepted_and_257_is_not() {
        assert!(SigningSecret::parse(&"s".repeat(256)).is_ok());
        assert!(SigningSecret::parse(&"s".repeat(257)).is_err());
        assert!(SigningSecret::parse("   ").is_err());
        assert!(SigningSecret::parse("a\nb").is_err());
    }

    #[test]
    fn generated_secrets_are_standard_webhooks_keys_of_32_bytes() {
        let secret = SigningSecret::generate();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.standard_key().map(|k| k.len()), Some(32));
        assert_ne!(secret.expose(), SigningSecret::generate().expose());
        // The Standard Webhooks spec's own example secret.
        assert!(
            SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                .unwrap()
                .standard_key()
                .is_some()
        );
        for not_standard in ["hunter2", "whsec_", "whsec_!!!", "whsec_c2hvcnQ="] {
            assert!(
                SigningSecret::parse(not_standard).unwrap().standard_key().is_none(),
                "{not_standard}"
            );
        }
    }

    #[test]
    fn a_secret_is_redacted_in_debug() {
        let s = SigningSecret::parse("whsec_hunter2").unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}

/// A complete, valid webhook as it is stored: what Add creates and an edit produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSpec {
    pub name: super::WebhookName,
    pub url: WebhookUrl,
    pub secret: Option<SigningSecret>,
    pub headers: Vec<super::CustomHeader>,
    /// Also sign the Standard Webhooks way; only with a secret that has a `standard_key`.
    pub standard_webhooks: bool,
    pub retry_policy: crate::states::RetryPolicy,
}

impl WebhookSpec {
    /// Whether saving this over `stored` would change nothing.
    pub fn matches(&self, stored: &crate::store::StoredWebhook) -> bool {
        self.name.as_str() == stored.name
            && self.url.as_str() == stored.url
            && self.secret == stored.secret
            && self.headers == stored.headers
            && self.standard_webhooks == stored.standard_webhooks
            && self.retry_policy == stored.retry_policy
    }
}
