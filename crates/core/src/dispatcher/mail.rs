//! Notification e-mails over SMTP (`VOICY_SMTP_URL`): one message per address, each one's
//! outcome recorded on the call.

use super::post_call::Notifier;
use crate::states::NotificationStatus;
use crate::views::{NewCall, NotificationView};
use futures::future::{BoxFuture, FutureExt};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor, message::Mailbox};

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

    fn message(&self, to: &str, call: &NewCall, summary: Option<&str>) -> Result<Message, String> {
        let transcript: String = call
            .transcript
            .iter()
            .map(|t| {
                format!("{}: {}\n", if t.role == "agent" { "Agent" } else { "Caller" }, t.text)
            })
            .collect();
        let body = format!(
            "A call ended ({} → {}).\n\nSummary: {}\n\nTranscript:\n{transcript}",
            call.started_at,
            call.ended_at,
            summary.unwrap_or("none")
        );
        Message::builder()
            .from(self.from.clone())
            .to(to.parse().map_err(|e: lettre::address::AddressError| e.to_string())?)
            .subject("Voicy: a call ended")
            .body(body)
            .map_err(|e| e.to_string())
    }
}

impl Notifier for SmtpNotifier {
    fn notify<'a>(
        &'a self, call: &'a NewCall, summary: Option<&'a str>, to: &'a [String],
    ) -> BoxFuture<'a, Vec<NotificationView>> {
        async move {
            let mut results = Vec::with_capacity(to.len());
            for address in to {
                let sent = match self.message(address, call, summary) {
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
