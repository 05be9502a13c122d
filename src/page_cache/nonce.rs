//! Each response's own script nonce in a kept page: the page is kept cut where its nonce was,
//! and joined with a fresh one for every response.

use axum::body::Bytes;

/// The nonce in a Content-Security-Policy: `'nonce-…'`.
pub fn nonce_of(policy: &str) -> Option<&str> {
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let len = policy[start..].find('\'')?;
    Some(&policy[start..start + len])
}

/// A nonce as Leptos makes one for each rendered page (128 random bits, URL-safe base64).
pub fn fresh_nonce() -> String {
    leptos::nonce::Nonce::new().to_string()
}

/// `bytes` cut at each occurrence of `needle`.
pub fn split_bytes(bytes: &Bytes, needle: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let (mut start, mut at) = (0, 0);
    while at + needle.len() <= bytes.len() {
        if &bytes[at..at + needle.len()] == needle {
            pieces.push(bytes.slice(start..at));
            at += needle.len();
            start = at;
        } else {
            at += 1;
        }
    }
    pieces.push(bytes.slice(start..));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_is_cut_out_wherever_it_is() {
        let policy = "default-src 'self'; script-src 'nonce-AbC_123-xyz' 'strict-dynamic'";
        assert_eq!(nonce_of(policy), Some("AbC_123-xyz"));
        assert_eq!(nonce_of("default-src 'self'"), None);
        let body =
            Bytes::from_static(b"<script nonce=\"N1\">a</script><script nonce=\"N1\">b</script>");
        let pieces = split_bytes(&body, b"N1");
        assert_eq!(pieces.len(), 3);
        assert_eq!(
            pieces.join(&b"N2"[..]),
            b"<script nonce=\"N2\">a</script><script nonce=\"N2\">b</script>".to_vec()
        );
        assert_eq!(fresh_nonce().len(), 22);
        assert_ne!(fresh_nonce(), fresh_nonce());
    }
}
