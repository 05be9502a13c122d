//! Real webhook receivers on loopback: a small HTTP/1.1 server over plain TCP or TLS that keeps
//! each request's raw header lines (in wire order), body and arrival time, and answers as told.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpListener,
    sync::{Mutex, Notify},
};
use tokio_rustls::{TlsAcceptor, rustls};

#[derive(Clone, Debug)]
pub struct Behavior {
    pub status: u16,
    pub delay: Duration,
    pub location: Option<String>,
    pub body: String,
    /// A `Retry-After` header's value.
    pub retry_after: Option<String>,
}

impl Default for Behavior {
    fn default() -> Self {
        Self {
            status: 200,
            delay: Duration::ZERO,
            location: None,
            body: "ok".into(),
            retry_after: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Hit {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Hit {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    notify: Arc<Notify>,
    /// How it answers the next request: `answer_with` changes it.
    behavior: Arc<std::sync::Mutex<Behavior>>,
    port: u16,
    /// The accept loop: `stop` ends it (connections are then refused), `restart` binds again.
    accepting: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

/// A private CA and a certificate for `localhost` signed by it.
pub struct TestTls {
    pub ca_file: PathBuf,
    acceptor: TlsAcceptor,
    _dir: tempfile::TempDir,
}

impl TestTls {
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
        Self { ca_file, acceptor: TlsAcceptor::from(Arc::new(config)), _dir: dir }
    }
}

impl Receiver {
    pub async fn http(behavior: Behavior) -> Self {
        Self::start(behavior, None).await
    }

    pub async fn https(behavior: Behavior, tls: &TestTls) -> Self {
        Self::start(behavior, Some(tls.acceptor.clone())).await
    }

    async fn start(behavior: Behavior, tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = match tls {
            Some(_) => format!("https://localhost:{port}/hook"),
            None => format!("http://127.0.0.1:{port}/hook"),
        };
        let receiver = Self {
            url,
            hits: Arc::default(),
            notify: Arc::default(),
            behavior: Arc::new(std::sync::Mutex::new(behavior)),
            port,
            accepting: Arc::default(),
        };
        receiver.accept(listener, tls);
        receiver
    }

    /// Answers every request from now on as `behavior` says.
    pub fn answer_with(&self, behavior: Behavior) {
        *self.behavior.lock().unwrap() = behavior;
    }

    /// Stops listening: connections to it are refused, as to a receiver that is down.
    pub fn stop(&self) {
        if let Some(task) = self.accepting.lock().unwrap().take() {
            task.abort();
        }
    }

    /// Listens again on the same port (plain HTTP).
    pub async fn restart(&self) {
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.accept(listener, None);
    }

    fn accept(&self, listener: TcpListener, tls: Option<TlsAcceptor>) {
        let r = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let behavior = r.behavior.lock().unwrap().clone();
                let (r, tls) = (r.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                r.serve(stream, &behavior).await;
                            }
                        }
                        None => r.serve(tcp, &behavior).await,
                    }
                });
            }
        });
        *self.accepting.lock().unwrap() = Some(task);
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(&self, mut stream: S, behavior: &Behavior) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|l| {
                l.split_once(':').map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            })
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = buf[head_end + 4..].to_vec();
        while body.len() < length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
        self.hits.lock().await.push(Hit { headers, body, at: Instant::now() });
        self.notify.notify_waiters();
        tokio::time::sleep(behavior.delay).await;
        let mut location =
            behavior.location.as_ref().map(|l| format!("location: {l}\r\n")).unwrap_or_default();
        if let Some(after) = &behavior.retry_after {
            location.push_str(&format!("retry-after: {after}\r\n"));
        }
        let response = format!(
            "HTTP/1.1 {} X\r\ncontent-length: {}\r\n{location}connection: close\r\n\r\n{}",
            behavior.status,
            behavior.body.len(),
            behavior.body
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    pub async fn hits(&self) -> Vec<Hit> {
        self.hits.lock().await.clone()
    }

    /// Waits (up to 10 s) until `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.notify.notified();
            let hits = self.hits().await;
            if hits.len() >= n || Instant::now() > deadline {
                return hits;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
        }
    }
}
