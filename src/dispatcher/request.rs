//! Builds a webhook request: pure, no network. "Custom headers … sent before the Voicy system
//! headers": the webhook's headers in their configured order, then Content-Type,
//! x-voicy-event and, only with a signing secret, x-voicy-signature.

use app::server::store::WebhookRow;
use app::views::SentHeader;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const EVENT: &str = "call_ended";
pub use super::redact::MASK;

/// Lowercase hex of HMAC-SHA256(secret, body).
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The headers to send, in order, with their real values.
pub fn headers(webhook: &WebhookRow, body: &[u8]) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> =
        webhook.headers.iter().map(|h| (h.name.as_str().to_owned(), h.value.expose().to_owned())).collect();
    headers.push(("Content-Type".into(), "application/json".into()));
    headers.push(("x-voicy-event".into(), EVENT.into()));
    if let Some(secret) = &webhook.secret {
        headers.push(("x-voicy-signature".into(), signature(secret.expose().as_bytes(), body)));
    }
    headers
}

/// The same headers as the deliveries log keeps them: custom values masked.
pub fn masked(webhook: &WebhookRow, headers: &[(String, String)]) -> Vec<SentHeader> {
    headers
        .iter()
        .enumerate()
        .map(|(i, (name, value))| SentHeader {
            name: name.clone(),
            value: if i < webhook.headers.len() { MASK.to_owned() } else { value.clone() },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_rfc_4231_test_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
