//! Builds a webhook request: pure, no network. "Custom headers … sent before the Voicy system
//! headers": the webhook's headers in their configured order, then Content-Type,
//! x-voicy-event and, only with a signing secret, x-voicy-signature. With the webhook's
//! Standard Webhooks option, its three headers follow (https://www.standardwebhooks.com).

use crate::store::StoredWebhook;
use crate::views::SentHeader;
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

/// Standard Webhooks' `v1,` signature: base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}").
pub fn standard_signature(key: &[u8], event_id: &str, timestamp: i64, body: &[u8]) -> String {
    use base64::Engine;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(format!("{event_id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// What identifies one sending of an event: its id (the call's, so the same across
/// redeliveries; receivers use it to drop duplicates) and when it is signed (Unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub id: &'a str,
    pub timestamp: i64,
}

impl<'a> Event<'a> {
    pub fn now(id: &'a str) -> Self {
        Self { id, timestamp: chrono::Utc::now().timestamp() }
    }
}

/// The headers to send, in order, with their real values.
pub fn headers(webhook: &StoredWebhook, body: &[u8], event: Event<'_>) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = webhook
        .headers
        .iter()
        .map(|h| (h.name.as_str().to_owned(), h.value.expose().to_owned()))
        .collect();
    headers.push(("Content-Type".into(), "application/json".into()));
    headers.push(("x-voicy-event".into(), EVENT.into()));
    if let Some(secret) = &webhook.secret {
        headers.push(("x-voicy-signature".into(), signature(secret.expose().as_bytes(), body)));
        // Validation keeps the option to secrets that have such a key.
        if let Some(key) = secret.standard_key().filter(|_| webhook.standard_webhooks) {
            headers.push(("webhook-id".into(), event.id.to_owned()));
            headers.push(("webhook-timestamp".into(), event.timestamp.to_string()));
            headers.push((
                "webhook-signature".into(),
                standard_signature(&key, event.id, event.timestamp, body),
            ));
        }
    }
    headers
}

/// The same headers as the deliveries log keeps them: custom values masked.
pub fn masked(webhook: &StoredWebhook, headers: &[(String, String)]) -> Vec<SentHeader> {
    headers
        .iter()
        .enumerate()
        .map(|(i, (name, value))| SentHeader {
            name: name.clone(),
            value: if i < webhook.headers.len() { MASK.to_owned() } else { value.clone() },
        })
        .collect()
}

/// A request about to be made to `webhook` for the event `event_id`: the delivery as the log
/// keeps it (custom header values masked) and the real headers, which stay beside it.
pub fn prepare(
    webhook: crate::store::StoredWebhook, body: &[u8], event_id: &str,
) -> (crate::store::PendingDelivery, Vec<(String, String)>) {
    let headers = headers(&webhook, body, Event::now(event_id));
    let delivery = crate::store::PendingDelivery {
        id: crate::store::new_id(),
        request_headers: masked(&webhook, &headers),
        webhook,
        paused: false,
        due_unless_recorded: None,
    };
    (delivery, headers)
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

    #[test]
    fn standard_signature_matches_the_specs_example() {
        // The example of the Standard Webhooks reference implementations' tests.
        use base64::Engine;
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        assert_eq!(
            standard_signature(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
