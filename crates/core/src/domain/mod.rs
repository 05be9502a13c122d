//! Parse, don't validate: every rule of the doc lives in exactly one of these constructors.
//! Fields are private, so holding a value of one of these types proves it passed its rule.
//! Errors are messages written for the person at the form: what is wrong and what to do.

/// For a newtype over a secret `String`: `expose()`, the one way to read it (named so that each
/// use stands out in review), and a `Debug` that names the type and never shows the value.
macro_rules! secret_text {
    ($ty:ident) => {
        impl $ty {
            /// The secret itself: for sealing, signing, hashing or sending, never for a log.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($ty), "([redacted])"))
            }
        }
    };
}

mod account;
mod address;
pub mod call;
mod header;
mod label;
mod webhook;

pub use account::{Email, Password};
pub use address::{forbidden_literal, is_forbidden};
pub use header::{CustomHeader, HeaderName, HeaderValue, RESERVED_HEADERS};
pub use label::{AgentName, ApiKeyName, WebhookName};
pub use webhook::{STANDARD_NEEDS_SECRET, SigningSecret, WebhookSpec, WebhookUrl};
