//! What a receiver answered, made fit for the deliveries log: a receiver that echoes its request
//! (many do, on errors) must not put the webhook's signing secret or header values there, neither
//! as sent nor in the encodings an echo typically uses (JSON strings, URL encoding, HTML), nor in
//! part where the log cuts the answer off. So the answer is read past the part that is kept,
//! redacted whole, then cut, and a trailing piece of a value at the cut is masked too.

use super::unescape;
use crate::store::StoredWebhook;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What stands in for a secret or header value in the deliveries log.
pub const MASK: &str = "••••••";
/// The part of an answer the deliveries log keeps.
pub const KEPT_BYTES: usize = 2048;
/// How much of an answer is read: the kept part plus the longest encoded form of the longest
/// value (4 KB percent-encoded is 12 KB), so a value straddling the cut is seen whole.
pub const READ_BYTES: usize = KEPT_BYTES + 3 * 4096 + 2048;
/// A trailing piece of a value shorter than this is not masked (it would mask ordinary text).
const MIN_PIECE: usize = 3;

/// `encodeURIComponent` leaves these as they are.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// `text` (at most `READ_BYTES` of an answer, or an error message) with every form of the
/// webhook's secret and header values masked, cut to `KEPT_BYTES`.
pub fn redact(webhook: &StoredWebhook, text: &str) -> String {
    // A Standard Webhooks secret is also used without its `whsec_` prefix (the libraries strip it).
    let bare = webhook
        .secret
        .as_ref()
        .filter(|s| s.standard_key().is_some())
        .and_then(|s| s.expose().strip_prefix("whsec_"));
    let values: Vec<&str> = webhook
        .headers
        .iter()
        .map(|h| h.value.expose())
        .chain(webhook.secret.as_ref().map(|s| s.expose()))
        .chain(bare)
        .filter(|v| !v.is_empty())
        .collect();
    // Every escape style, in any mix, first (`unescape`); then the whole encoded forms, which
    // also find a form that straddles the cut.
    let mut unescaped = String::with_capacity(text.len());
    let mut kept_up_to = 0;
    for span in unescape::spans(text, &values) {
        unescaped.push_str(&text[kept_up_to..span.start]);
        unescaped.push_str(MASK);
        kept_up_to = span.end;
    }
    unescaped.push_str(&text[kept_up_to..]);
    let text = unescaped.as_str();
    let mut forms: Vec<String> = values.iter().copied().flat_map(encodings).collect();
    // Longest first, so a value is masked whole before a shorter one inside it.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    let masked = forms.iter().fold(text.to_owned(), |text, form| text.replace(form.as_str(), MASK));
    if masked.len() <= KEPT_BYTES {
        return masked;
    }
    let mut cut = masked[..floor_char_boundary(&masked, KEPT_BYTES)].to_owned();
    if let Some(piece) = forms.iter().filter_map(|form| trailing_piece(&cut, form)).max() {
        cut.truncate(cut.len() - piece);
        cut.push_str(MASK);
    }
    cut
}

/// The length of the longest start of `form` that `text` ends with, if long enough to matter.
fn trailing_piece(text: &str, form: &str) -> Option<usize> {
    (MIN_PIECE.min(form.len())..form.len())
        .rev()
        .find(|&len| form.is_char_boundary(len) && text.ends_with(&form[..len]))
}

/// The forms a value takes when a receiver echoes it back.
fn encodings(value: &str) -> Vec<String> {
    let json = serde_json::to_string(value).expect("a string serializes");
    let json = json[1..json.len() - 1].to_owned();
    let percent = [
        utf8_percent_encode(value, NON_ALPHANUMERIC).to_string(),
        utf8_percent_encode(value, URI_COMPONENT).to_string(),
        url::form_urlencoded::byte_serialize(value.as_bytes()).collect(),
    ];
    let mut forms = vec![
        value.to_owned(),
        json_ascii(&json.replace('/', "\\/")), // PHP's json_encode
        json.replace('/', "\\/"),
        json_ascii(&json), // Python's json.dumps
        json,
        html_escape(value),
    ];
    forms.extend(percent.iter().map(|p| lower_hex(p)));
    forms.extend(percent);
    forms
}

/// Percent-encoding with lower-case hex digits (`%2f`), as some encoders write it.
fn lower_hex(percent: &str) -> String {
    let mut out = String::with_capacity(percent.len());
    let mut hex_digits = 0;
    for c in percent.chars() {
        if c == '%' {
            hex_digits = 2;
            out.push(c);
        } else if hex_digits > 0 {
            hex_digits -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A JSON string body with every non-ASCII character as `\uXXXX` escapes.
fn json_ascii(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn html_escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CustomHeader, SigningSecret};

    fn webhook(secret: &str, header: &str) -> StoredWebhook {
        StoredWebhook {
            id: "w".into(),
            name: "n".into(),
            url: "https://example.com".into(),
            secret: Some(SigningSecret::parse(secret).unwrap()),
            headers: vec![CustomHeader {
                name: crate::domain::HeaderName::parse("X-Token").unwrap(),
                value: crate::domain::HeaderValue::parse(header).unwrap(),
            }],
            standard_webhooks: false,
            retry_policy: crate::states::RetryPolicy::None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_standard_webhooks_secret_is_masked_without_its_prefix_too() {
        let hook = webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "token-value");
        let text = redact(&hook, "key=MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert!(!text.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "{text}");
    }

    #[test]
    fn every_echoed_form_is_masked() {
        let hook = webhook("whsec_a/b+c d&é\"", "Bearer tok/en ü");
        for echo in [
            r#"{"secret":"whsec_a\/b+c d&é\""}"#,
            r#"{"secret":"whsec_a/b+c d&\u00e9\""}"#,
            "?s=whsec_a%2Fb%2Bc%20d%26%C3%A9%22",
            "?s=whsec_a%2fb%2bc%20d%26%c3%a9%22",
            "s=whsec_a%2Fb%2Bc+d%26%C3%A9%22",
            "<p>whsec_a/b+c d&amp;é&quot;</p>",
            "auth: Bearer tok/en ü",
            r#"{"auth":"Bearer tok\/en \u00fc"}"#,
        ] {
            let out = redact(&hook, echo);
            assert!(
                out.contains(MASK)
                    && !out.contains("whsec_a")
                    && !out.contains("tok/en")
                    && !out.contains("tok\\/en"),
                "{echo} → {out}"
            );
        }
    }

    #[test]
    fn a_value_straddling_the_cut_is_masked_whole_and_a_piece_at_the_cut_too() {
        let secret = "whsec_0123456789abcdef";
        let hook = webhook(secret, "header-value");
        // Whole in what was read, across the kept boundary.
        let text = format!("{}{secret} and more", "x".repeat(KEPT_BYTES - 5));
        let out = redact(&hook, &text);
        assert!(!out.contains("whsec"), "{}", &out[out.len() - 20..]);
        assert!(out.len() <= KEPT_BYTES + MASK.len());
        // Only the start of it was read at all (the answer was cut before us).
        let text = format!("{}{}", "x".repeat(KEPT_BYTES - 5), &secret[..10]);
        let text = format!("{text}{}", "y".repeat(READ_BYTES));
        let out = redact(&hook, &text[..KEPT_BYTES + 3]);
        assert!(out.ends_with(MASK) && !out.contains("whs"), "{}", &out[out.len() - 20..]);
    }

    #[test]
    fn go_dotnet_and_html_echoes_of_a_value_with_plus_ampersand_and_brackets_are_masked() {
        let hook = webhook("whsec_zzzzzzzz", "k+y&<v>'1");
        for echo in [
            r#"{"x-token":"k+y\u0026\u003cv\u003e'1"}"#,
            r#"{"x-token":"k\u002By\u0026\u003Cv\u003E\u00271"}"#,
            "<td>k+y&amp;&lt;v&gt;&#39;1</td>",
            "<td>k&#43;y&#38;&#x3c;v&#x3E;&#x27;1</td>",
        ] {
            let out = redact(&hook, echo);
            assert!(
                out.contains(MASK) && !out.contains("k+y") && !out.contains("y\\u0026"),
                "{echo} → {out}"
            );
        }
    }

    #[test]
    fn ordinary_text_is_kept() {
        let hook = webhook("whsec_zzz", "token");
        assert_eq!(redact(&hook, "ok"), "ok");
        let long = "a".repeat(5000);
        assert_eq!(redact(&hook, &long), "a".repeat(KEPT_BYTES));
    }
}
