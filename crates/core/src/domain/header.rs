//! Custom headers: "Names must be valid RFC 7230 tokens. Values cannot contain line breaks."
//! "Reserved headers that cannot be overridden: Content-Type, x-voicy-event,
//! x-voicy-signature, Host, Content-Length, Transfer-Encoding."

/// Names a custom header may not take, compared ignoring case.
pub const RESERVED_HEADERS: [&str; 6] = [
    "Content-Type",
    "x-voicy-event",
    "x-voicy-signature",
    "Host",
    "Content-Length",
    "Transfer-Encoding",
];

const MAX_NAME_LEN: usize = 256;
const MAX_VALUE_BYTES: usize = 4096;

/// A header name: an RFC 7230 `token` that is not reserved. Keeps the case it was typed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderName(String);

/// RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
/// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

impl HeaderName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("Enter a header name.".into());
        }
        if name.len() > MAX_NAME_LEN {
            return Err(format!("Use at most {MAX_NAME_LEN} characters for a header name."));
        }
        if let Some(bad) = name.chars().find(|c| !is_tchar(*c)) {
            return Err(format!(
                "Header names may use letters, digits and ! # $ % & ' * + - . ^ _ ` | ~ only, not {}.",
                describe(bad)
            ));
        }
        if let Some(reserved) = RESERVED_HEADERS.iter().find(|r| r.eq_ignore_ascii_case(name)) {
            return Err(format!("{reserved} is set by Voicy and cannot be overridden."));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Header names compare ignoring case (RFC 7230 §3.2).
    pub fn same_as(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other.trim())
    }
}

fn describe(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("“{c}”"),
    }
}

/// A header value: no line breaks, no other control characters, at most 4,096 bytes, not blank.
/// Stored server-side and never returned, so it never appears in `Debug` and is not `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderValue(String);

impl HeaderValue {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.contains(['\r', '\n']) {
            return Err("Header values cannot contain line breaks.".into());
        }
        if let Some(bad) = raw.chars().find(|c| c.is_control()) {
            return Err(format!("Header values cannot contain {}.", describe(bad)));
        }
        let value = raw.trim();
        if value.is_empty() {
            return Err("Enter a value for this header.".into());
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(format!("Use at most {MAX_VALUE_BYTES} bytes for a header value."));
        }
        Ok(Self(value.to_owned()))
    }
}

secret_text!(HeaderValue);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordinary_names_are_tokens() {
        for ok in ["Authorization", "X-Api-Key", "x_vendor.key", "A!#$%&'*+-.^_`|~9"] {
            assert_eq!(HeaderName::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn every_reserved_name_is_rejected_in_any_case() {
        for reserved in RESERVED_HEADERS {
            for variant in [
                reserved.to_owned(),
                reserved.to_uppercase(),
                reserved.to_lowercase(),
                alternate_case(reserved),
            ] {
                let err = HeaderName::parse(&variant).unwrap_err();
                assert!(err.contains("cannot be overridden"), "{variant}: {err}");
            }
        }
    }

    fn alternate_case(s: &str) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect()
    }

    #[test]
    fn a_name_with_any_separator_is_rejected() {
        // RFC 7230 delimiters: DQUOTE and "(),/:;<=>?@[\]{}", plus space and tab.
        for sep in "\"(),/:;<=>?@[\\]{} \t".chars() {
            assert!(
                HeaderName::parse(&format!("X{sep}Key")).is_err(),
                "separator {sep:?} accepted"
            );
        }
    }

    #[test]
    fn a_name_with_non_ascii_or_control_characters_is_rejected() {
        for bad in ["Clé", "X\u{0}Key", "X\rKey", "X\nKey", "X\u{7f}"] {
            assert!(HeaderName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn blank_names_are_rejected() {
        assert!(HeaderName::parse("  ").is_err());
    }

    #[test]
    fn values_cannot_contain_line_breaks_or_control_characters() {
        for bad in ["a\rb", "a\nb", "a\r\nb", "a\u{0}b", "a\tb", "a\u{7f}b", "a\u{1b}b"] {
            assert!(HeaderValue::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_value_of_4096_bytes_is_accepted_and_4097_is_not() {
        assert!(HeaderValue::parse(&"v".repeat(4096)).is_ok());
        assert!(HeaderValue::parse(&"v".repeat(4097)).is_err());
        // Bytes, not characters: 2,049 two-byte characters are 4,098 bytes.
        assert!(HeaderValue::parse(&"é".repeat(2049)).is_err());
    }

    #[test]
    fn a_value_is_redacted_in_debug() {
        let v = HeaderValue::parse("Bearer sk_live_123").unwrap();
        assert!(!format!("{v:?}").contains("sk_live"));
    }

    proptest! {
        #[test]
        fn any_token_that_is_not_reserved_parses(name in "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}") {
            prop_assume!(!RESERVED_HEADERS.iter().any(|r| r.eq_ignore_ascii_case(&name)));
            let parsed = HeaderName::parse(&name).unwrap();
            prop_assert_eq!(parsed.as_str(), name.as_str());
        }

        #[test]
        fn any_value_with_a_control_character_is_rejected(
            prefix in "[ -~]{0,20}", control in proptest::char::range('\u{0}', '\u{1f}'), suffix in "[ -~]{0,20}"
        ) {
            let raw = format!("{prefix}{control}{suffix}");
            prop_assert!(HeaderValue::parse(&raw).is_err());
        }

        #[test]
        fn any_printable_value_parses(value in "[!-~][ -~]{0,100}[!-~]") {
            let parsed = HeaderValue::parse(&value).unwrap();
            prop_assert_eq!(parsed.expose(), value.as_str());
        }
    }
}

/// One configured header, name and value both valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomHeader {
    pub name: HeaderName,
    pub value: HeaderValue,
}

impl CustomHeader {
    /// A header read back from our own store, which only ever holds parsed headers.
    pub(crate) fn from_trusted(name: String, value: String) -> Self {
        Self { name: HeaderName(name), value: HeaderValue(value) }
    }
}
