//! Sign-up credentials.

/// An email address, trimmed and lower-cased so that one person has one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(email.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                    && !domain.ends_with('.') && !domain.contains('@'));
        if valid {
            Ok(Self(email))
        } else {
            Err("Enter an email address like name@example.com.".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed at sign-up: 10 to 1,024 characters (the upper bound keeps hashing cheap).
/// Its value never appears in `Debug`.
#[derive(Clone)]
pub struct Password(String);

pub const MIN_PASSWORD_CHARS: usize = 10;

impl Password {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!("Use at least {MIN_PASSWORD_CHARS} characters for the password."));
        }
        if chars > 1024 {
            return Err("Use at most 1,024 characters for the password.".into());
        }
        Ok(Self(raw.to_owned()))
    }
}

secret_text!(Password);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(Email::parse(" Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in
            ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "a@b@c.com"]
        {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn passwords_need_ten_characters() {
        assert!(Password::parse("123456789").is_err());
        assert!(Password::parse("1234567890").is_ok());
    }

    #[test]
    fn a_password_is_redacted_in_debug() {
        let p = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
