//! The states and kinds that the database stores as TEXT and the API sends as strings, as enums.
//! This is the one place where each is turned into text and back: in JSON (serde), in the
//! database (sqlx, `server` only) and in SQL text (`sql()`, for statements whose partial indexes
//! need the value written out). Each migration tree checks the same values (`CHECK … IN`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An enum whose variants are stored and sent as fixed lower-case strings.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[doc = concat!("`", $text, "`")] #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in the order they are listed.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The text that is stored and sent.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The value as an SQL string literal (`'pending'`), for statements built in code.
            pub const fn sql(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!("'", $text, "'"),)+
                }
            }

            /// The value whose text this is, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "server")]
        impl sqlx::Type<sqlx::Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <str as sqlx::Type<sqlx::Any>>::type_info()
            }

            fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
                <str as sqlx::Type<sqlx::Any>>::compatible(ty)
            }
        }

        #[cfg(feature = "server")]
        impl<'q> sqlx::Encode<'q, sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, sqlx::Any>>::encode(self.as_str(), buf)
            }
        }

        #[cfg(feature = "server")]
        impl<'r> sqlx::Decode<'r, sqlx::Any> for $name {
            fn decode(
                value: <sqlx::Any as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <String as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
                Self::parse(&text).ok_or_else(|| {
                    format!(concat!("not a ", stringify!($name), ": {:?}"), text).into()
                })
            }
        }
    };
}

text_enum! {
    /// Where a call's `call_ended` event is: `pending` (stored, waiting to be claimed, or claimed
    /// again after a lapsed lease) → `processing` (claimed: post-call processing is running) →
    /// `sending` (its requests are under way) → `sent` (each webhook was tried once; each
    /// delivery says how it went) | `skipped` (nothing to send, e.g. a phone call to an agent
    /// never deployed) | `failed` (processing failed too many times; nothing was sent).
    EventState {
        Pending = "pending", Processing = "processing", Sending = "sending",
        Sent = "sent", Skipped = "skipped", Failed = "failed",
    }
}

impl EventState {
    /// Whether the event will not move again.
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Sent | Self::Skipped | Self::Failed)
    }
}

text_enum! {
    /// How one request to one webhook ended, as the deliveries log shows it: `sending` (under
    /// way), `ok` (a 2xx answer), `http_status` (any other status), `timeout` (no complete answer
    /// within 5 seconds), `connect`, `dns`, `tls` (the connection, the host name or the secure
    /// connection failed), `blocked` (refused before sending: a private, loopback or reserved
    /// address), `in_flight_limit` (not sent: too many requests to this webhook were already
    /// under way), `interrupted` (the instance sending it stopped answering while it was under way:
    /// the result is unknown, and replaced by the real one if that instance reports it later),
    /// `paused` (not sent: the owner had paused the webhook).
    DeliveryOutcome {
        Sending = "sending", Ok = "ok", HttpStatus = "http_status", Timeout = "timeout",
        Connect = "connect", Dns = "dns", Tls = "tls", Blocked = "blocked",
        InFlightLimit = "in_flight_limit", Interrupted = "interrupted", Paused = "paused",
    }
}

impl DeliveryOutcome {
    /// Outcomes of requests that never left this server: they say nothing of the endpoint.
    pub fn was_sent(self) -> bool {
        !matches!(self, Self::Blocked | Self::InFlightLimit | Self::Paused)
    }
}

text_enum! {
    /// Why a request was made: a call's `call_ended` event, the owner's test send with a sample
    /// call, the owner's redelivery of a past delivery, or a retry of a failed one (webhooks
    /// whose `retry_policy` is `backoff` only).
    DeliveryKind { Event = "event", Test = "test", Redelivery = "redelivery", Retry = "retry" }
}

text_enum! {
    /// What a webhook does after a failed delivery: `none`, nothing (the doc's behaviour: one
    /// request, no retries); `backoff`, tries again after a connection failure, a timeout, a
    /// 5xx, a 408 or a 429, on the operator's schedule (`VOICY_RETRY_SCHEDULE_SECONDS`).
    RetryPolicy { None = "none", Backoff = "backoff" }
}

text_enum! {
    /// Where a bulk replay is: `running` (an instance sends its calls, paced), `done` (each was
    /// sent once, or dropped because a delivery took it meanwhile), `cancelled` by the owner.
    ReplayState { Running = "running", Done = "done", Cancelled = "cancelled" }
}

text_enum! {
    /// Which config a call runs with: a phone call, the deployed version current when it
    /// arrives; a web (test) call, the draft as it is when the call is processed.
    CallKind { Phone = "phone", Web = "web" }
}

text_enum! {
    /// How one post-call e-mail notification went: under way, accepted by the mail server, not
    /// sent (no mail server is configured), or refused by the mail server or unreachable.
    NotificationStatus { Sending = "sending", Sent = "sent", Skipped = "skipped", Failed = "failed" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_reads_back_from_its_text_in_json_and_in_sql() {
        for state in EventState::ALL {
            let json = serde_json::to_string(state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(serde_json::from_str::<EventState>(&json).unwrap(), *state);
            assert_eq!(EventState::parse(state.as_str()), Some(*state));
            assert_eq!(state.sql(), format!("'{state}'"));
        }
        for outcome in DeliveryOutcome::ALL {
            assert_eq!(DeliveryOutcome::parse(outcome.as_str()), Some(*outcome));
        }
        assert_eq!(CallKind::parse("phone"), Some(CallKind::Phone));
        assert_eq!(DeliveryKind::parse("retry"), Some(DeliveryKind::Retry));
        assert_eq!(RetryPolicy::parse("backoff"), Some(RetryPolicy::Backoff));
        assert_eq!(RetryPolicy::parse("sometimes"), None);
    }
}
