//! Parse, don't validate: every rule of the doc lives in exactly one of these constructors.
//! Fields are private, so holding a value of one of these types proves it passed its rule.
//! Errors are messages written for the person at the form: what is wrong and what to do.

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
