//! Human labels: agent names and webhook names (1–100 characters after trimming).

const MAX_CHARS: usize = 100;

fn parse_label(raw: &str, what: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(format!("Enter a {what}."));
    }
    if trimmed.chars().count() > MAX_CHARS {
        return Err(format!("Use at most {MAX_CHARS} characters for the {what}."));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!("The {what} cannot contain line breaks or control characters."));
    }
    Ok(trimmed.to_owned())
}

macro_rules! label_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, String> {
                parse_label(raw, $what).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

label_type!(
    /// An agent's name, e.g. "Front desk".
    AgentName, "name"
);
label_type!(
    /// What an owner calls an API key, e.g. "CI" or "Telephony".
    ApiKeyName, "name"
);
label_type!(
    /// A webhook's label, e.g. "CRM", "Analytics", "Slack".
    WebhookName, "name"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_name_is_trimmed() {
        assert_eq!(WebhookName::parse("  CRM ").unwrap().as_str(), "CRM");
    }

    #[test]
    fn a_blank_name_is_rejected() {
        assert!(WebhookName::parse("").is_err());
        assert!(WebhookName::parse("   \t ").is_err());
    }

    #[test]
    fn a_name_of_100_characters_is_accepted_and_101_is_not() {
        assert!(WebhookName::parse(&"é".repeat(100)).is_ok());
        assert!(WebhookName::parse(&"é".repeat(101)).is_err());
        assert!(AgentName::parse(&format!("  {}  ", "a".repeat(100))).is_ok());
    }

    #[test]
    fn a_name_with_a_line_break_is_rejected() {
        assert!(AgentName::parse("front\ndesk").is_err());
    }

    proptest! {
        #[test]
        fn any_printable_name_up_to_100_characters_parses(s in "[a-zA-Z0-9 ]{0,99}[a-zA-Z0-9]") {
            let parsed = WebhookName::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.trim());
        }
    }
}
