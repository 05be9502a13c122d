//! Sends one webhook request with the one shared client: 5-second timeout for the whole
//! request, no redirects followed, no retries, TLS verified, the SSRF guard on unless insecure
//! webhooks are allowed. Every ending is classified for the deliveries log.

use super::address_guard::{self, GuardedResolver};
use super::endpoint_limit::EndpointLimit;
use super::redact::{self, READ_BYTES};
use super::request;
use crate::states::DeliveryOutcome;
use crate::store::{DeliveryResult, StoredWebhook};
use crate::views::SentHeader;
use bytes::Bytes;
use std::{
    error::Error,
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A deadline noticed this late was not watched: the process was not running when it passed
/// (stopped, a VM pause, starved). The answer may have come in time and be waiting in the socket.
const NOTICED_LATE: Duration = Duration::from_millis(500);
/// How long such an answer gets to be read before it counts as a timeout.
const LATE_GRACE: Duration = Duration::from_millis(500);

/// `work` if it ends by `deadline`. A deadline noticed late (see `NOTICED_LATE`) gives `work` a
/// short grace first: a receiver that answered within 5 seconds while this process was stalled
/// did answer, and its answer is the truth the log should keep (not `timeout`).
async fn within<F: std::future::Future>(
    deadline: tokio::time::Instant, work: F,
) -> Option<F::Output> {
    tokio::pin!(work);
    tokio::select! {
        biased;
        done = &mut work => return Some(done),
        _ = tokio::time::sleep_until(deadline) => {}
    }
    if deadline.elapsed() < NOTICED_LATE {
        return None;
    }
    tokio::time::timeout(LATE_GRACE, work).await.ok()
}

#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    guard: bool,
    /// Requests under way per webhook (`VOICY_MAX_REQUESTS_PER_WEBHOOK`).
    limit: Arc<EndpointLimit>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read VOICY_WEBHOOK_CA_FILE {0}: {1}")]
    CaFile(String, std::io::Error),
    #[error("VOICY_WEBHOOK_CA_FILE {0} is not a PEM certificate: {1}")]
    CaPem(String, String),
    #[error("cannot build the webhook HTTP client: {0}")]
    Build(reqwest::Error),
}

impl WebhookClient {
    /// `guard`: refuse private and reserved addresses (and plain http). `max_per_webhook`:
    /// requests under way to one webhook at most (see `endpoint_limit`).
    pub fn new(
        guard: bool, ca_file: Option<&Path>, max_per_webhook: usize,
    ) -> Result<Self, ClientError> {
        // The 5-second timeout is `within`'s, around each request: it knows a stalled process.
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names itself, past the SSRF guard's resolver.
            .no_proxy()
            .user_agent(concat!("Voicy-Webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true);
        if guard {
            builder = builder.dns_resolver(Arc::new(GuardedResolver)).https_only(true);
        }
        let ca_name = ca_file.map(|path| path.display().to_string());
        if let (Some(path), Some(name)) = (ca_file, &ca_name) {
            let pem = std::fs::read(path).map_err(|e| ClientError::CaFile(name.clone(), e))?;
            // A file without a certificate block would otherwise be taken as trusting nothing more.
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| ClientError::CaPem(name.clone(), e.to_string()))?;
            if certs.is_empty() {
                return Err(ClientError::CaPem(
                    name.clone(),
                    "it holds no -----BEGIN CERTIFICATE----- block".to_owned(),
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        // With a CA file, a failure here is a certificate that does not parse: name the file.
        let http = builder.build().map_err(|e| match &ca_name {
            Some(name) => ClientError::CaPem(
                name.clone(),
                format!("a certificate in it does not parse ({e})"),
            ),
            None => ClientError::Build(e),
        })?;
        Ok(Self { http, guard, limit: EndpointLimit::new(max_per_webhook) })
    }

    /// `send` to `webhook`, the receiver's answer and the error redacted of its secret and
    /// header values (they may be echoed back), as the deliveries log keeps them.
    /// Over `VOICY_MAX_REQUESTS_PER_WEBHOOK` requests under way to `webhook`, nothing is sent.
    pub async fn deliver(
        &self, webhook: &StoredWebhook, headers: &[(String, String)], body: Bytes,
    ) -> DeliveryResult {
        let result = self.deliver_within_limit(webhook, headers, body).await;
        metrics::counter!("voicy_deliveries_total", "outcome" => result.outcome.as_str())
            .increment(1);
        metrics::histogram!("voicy_delivery_duration_seconds")
            .record(result.duration_ms as f64 / 1000.0);
        result
    }

    async fn deliver_within_limit(
        &self, webhook: &StoredWebhook, headers: &[(String, String)], body: Bytes,
    ) -> DeliveryResult {
        let Some(_slot) = self.limit.try_take(&webhook.id) else {
            let earlier = match self.limit.max() {
                1 => "1 earlier request to this webhook was".to_owned(),
                max => format!("{max} earlier requests to this webhook were"),
            };
            return DeliveryResult {
                duration_ms: 0,
                outcome: DeliveryOutcome::InFlightLimit,
                status_code: None,
                response_body: None,
                error: Some(format!(
                    "Not sent: {earlier} still waiting for its answer. \
                     Check that the endpoint answers quickly; an event can then be sent again with Redeliver on its call's page."
                )),
                retry_after: None,
            };
        };
        let mut result = self.send(&webhook.url, headers, body).await;
        result.response_body = result.response_body.map(|text| redact::redact(webhook, &text));
        result.error = result.error.map(|text| redact::redact(webhook, &text));
        result
    }

    /// One `call_ended` request to one webhook, as the owner's test events and redeliveries go
    /// out: `body` as it is, `event_id` as the event's id (Standard Webhooks' `webhook-id`).
    pub async fn send_manual(&self, webhook: &StoredWebhook, body: String, event_id: &str) -> Sent {
        let headers = request::headers(webhook, body.as_bytes(), request::Event::now(event_id));
        let request_headers = request::masked(webhook, &headers);
        let result = self.deliver(webhook, &headers, Bytes::from(body)).await;
        Sent { request_headers, result }
    }

    /// The request itself, unredacted and outside the per-webhook limit: only `deliver` calls it,
    /// so nothing leaves this module without both.
    async fn send(&self, url: &str, headers: &[(String, String)], body: Bytes) -> DeliveryResult {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        let ended = |outcome: DeliveryOutcome,
                     status: Option<u16>,
                     response: Option<String>,
                     error: Option<String>| DeliveryResult {
            duration_ms: started.elapsed().as_millis() as i64,
            outcome,
            status_code: status,
            response_body: response,
            error,
            retry_after: None,
        };
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return ended(
                DeliveryOutcome::Connect,
                None,
                None,
                Some("The URL cannot be parsed.".into()),
            );
        };
        if self.guard
            && let Some(ip) = address_guard::forbidden_literal(&parsed)
        {
            return ended(
                DeliveryOutcome::Blocked,
                None,
                None,
                Some(format!("{ip} is a private or reserved address.")),
            );
        }
        let mut request = self.http.post(parsed).body(body);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let Some(sent) = within(deadline, request.send()).await else {
            return ended(DeliveryOutcome::Timeout, None, None, Some(TIMED_OUT.to_owned()));
        };
        match sent {
            Ok(mut response) => {
                let status = response.status();
                let retry_after = retry_after(response.headers());
                let mut kept = Vec::new();
                let mut timed_out = false;
                // Read a little past what the log keeps (see `redact`); the rest is not read.
                while kept.len() < READ_BYTES {
                    match within(deadline, response.chunk()).await {
                        Some(Ok(Some(chunk))) => kept
                            .extend_from_slice(&chunk[..chunk.len().min(READ_BYTES - kept.len())]),
                        Some(Ok(None) | Err(_)) => break,
                        None => {
                            timed_out = true;
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&kept).into_owned();
                let outcome = match (timed_out, status.is_success()) {
                    (true, _) => DeliveryOutcome::Timeout,
                    (false, true) => DeliveryOutcome::Ok,
                    (false, false) => DeliveryOutcome::HttpStatus,
                };
                let mut result = ended(
                    outcome,
                    Some(status.as_u16()),
                    Some(text),
                    timed_out.then(|| "The answer did not complete within 5 seconds.".to_owned()),
                );
                result.retry_after = retry_after;
                result
            }
            Err(e) => {
                let (outcome, message) = classify(&e);
                ended(outcome, None, None, Some(message))
            }
        }
    }
}

const TIMED_OUT: &str = "No complete answer within 5 seconds.";

/// A `Retry-After` header: whole seconds, or an HTTP date (RFC 9110 section 10.2.3).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// A request as it was made: the headers as the log keeps them (custom values masked) and how it
/// ended (the receiver's answer redacted).
#[derive(Debug)]
pub struct Sent {
    pub request_headers: Vec<SentHeader>,
    pub result: DeliveryResult,
}

/// The deliveries-log outcome of a failed request, and a message for the owner: what happened and
/// what to check, without the client's internal chain of errors (it names resolvers, addresses
/// and internal types, which say nothing to an owner and too much to an attacker).
fn classify(error: &reqwest::Error) -> (DeliveryOutcome, String) {
    let mut chain = Vec::new();
    let mut io_kind = None;
    let mut source: Option<&dyn Error> = Some(error);
    while let Some(e) = source {
        if let Some(blocked) = e.downcast_ref::<address_guard::Blocked>() {
            return (DeliveryOutcome::Blocked, blocked.to_string());
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        chain.push(e.to_string().to_lowercase());
        source = e.source();
    }
    let text = chain.join(": ");
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if error.is_timeout() {
        return (DeliveryOutcome::Timeout, TIMED_OUT.to_owned());
    }
    if has(&["dns", "lookup", "resolve"]) {
        return (
            DeliveryOutcome::Dns,
            "The host name could not be resolved. Check the host name in the URL.".to_owned(),
        );
    }
    if has(&["certificate", "tls", "handshake", "ssl"]) {
        let why = if has(&["unknownissuer", "unknown issuer"]) {
            "its certificate is not signed by a trusted authority"
        } else if has(&["notvalidforname", "not valid for name"]) {
            "its certificate is not valid for this host name"
        } else if has(&["expired"]) {
            "its certificate has expired"
        } else {
            "its certificate or TLS setup was not accepted"
        };
        return (DeliveryOutcome::Tls, format!("The secure connection failed: {why}."));
    }
    let message = match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => {
            "The connection was refused: nothing accepts connections at that host and port."
        }
        Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted) => {
            "The receiver reset the connection."
        }
        Some(std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable) => {
            "The receiver's host cannot be reached."
        }
        _ if has(&["connection closed before message completed", "incomplete"]) => {
            "The receiver closed the connection without answering."
        }
        _ if has(&["invalid http", "parse"]) => "The receiver's answer is not valid HTTP.",
        _ => "Could not connect to the receiver.",
    };
    (DeliveryOutcome::Connect, message.to_owned())
}
