//! E-mails over SMTP (`VOICY_SMTP_URL`): call notifications and webhook alerts, one message per
//! address, each one's outcome recorded. Every message is well-formed MIME (`MIME-Version`,
//! `Content-Type: text/plain; charset=utf-8`, a transfer encoding, `Date`, `Message-ID`), so
//! non-ASCII text arrives intact in any client that follows the standard.

use super::post_call::Notifier;
use crate::states::NotificationStatus;
use crate::views::{NewCall, NotificationView};
use futures::future::{BoxFuture, FutureExt};
use lettre::message::{Mailbox, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// One plain-text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

/// The notification of a finished call to `agent`.
pub fn call_ended(agent: &str, call: &NewCall, summary: Option<&str>) -> Mail {
    let transcript: String = call
        .transcript
        .iter()
        .map(|t| format!("{}: {}\n", if t.role == "agent" { "Agent" } else { "Caller" }, t.text))
        .collect();
    Mail {
        subject: format!("Voicy: a call to {agent} ended"),
        body: format!(
            "A call to {agent} ended ({} → {}).\n\nSummary: {}\n\nTranscript:\n{transcript}",
            call.started_at,
            call.ended_at,
            summary.unwrap_or("none")
        ),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid VOICY_SMTP_URL: {0}")]
    Url(String),
    #[error("invalid VOICY_MAIL_FROM: {0}")]
    From(String),
}

pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpNotifier {
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        // lettre's error text never includes the URL itself, so the password stays out of logs.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .build();
        let from = from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        Ok(Self { transport, from })
    }

    fn message(&self, to: &str, mail: &Mail) -> Result<Message, String> {
        Message::builder()
            .from(self.from.clone())
            .to(to.parse().map_err(|e: lettre::address::AddressError| e.to_string())?)
            .subject(&mail.subject)
            .message_id(None)
            .singlepart(SinglePart::plain(mail.body.clone()))
            .map_err(|e| e.to_string())
    }
}

impl Notifier for SmtpNotifier {
    fn notify<'a>(
        &'a self, mail: &'a Mail, to: &'a [String],
    ) -> BoxFuture<'a, Vec<NotificationView>> {
        async move {
            let mut results = Vec::with_capacity(to.len());
            for address in to {
                let sent = match self.message(address, mail) {
                    Ok(message) => {
                        self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e),
                };
                results.push(match sent {
                    Ok(()) => NotificationView {
                        to: address.clone(),
                        status: NotificationStatus::Sent,
                        detail: None,
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "notification e-mail failed");
                        NotificationView {
                            to: address.clone(),
                            status: NotificationStatus::Failed,
                            detail: Some(e),
                        }
                    }
                });
            }
            results
        }
        .boxed()
    }
}
