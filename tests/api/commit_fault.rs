//! A lost reply to the commit that starts a call's event, injected by a proxy between the server
//! and PostgreSQL: the statement that starts events (one statement, committed on its own) lands,
//! the connection breaks before the server hears so, and the dispatcher, seeing an I/O error,
//! tries again. The calls are sent, exactly once. (PostgreSQL only: SQLite has no connection to
//! lose.)

use crate::helpers::TestApp;
use crate::receiver::{Behavior, Receiver};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the statement that starts an event says (`store::event_start`).
const STARTS_EVENTS: &str = "SET state = 'sending', note = NULL";

/// A TCP proxy in front of PostgreSQL that, once armed, lets the next commit of `STARTS_EVENTS`
/// reach the server (the `Sync` that ends the statement, outside a transaction, or a `COMMIT`),
/// swallows the server's answer and cuts the client off.
struct CommitFault {
    addr: std::net::SocketAddr,
    armed: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
}

impl CommitFault {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (armed, dropped) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let (a, d) = (armed.clone(), dropped.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { continue };
                tokio::spawn(relay(client, server, a.clone(), d.clone()));
            }
        });
        Self { addr, armed, dropped }
    }
}

/// One protocol message: its type byte (none for the startup message) and its body.
async fn read_message(
    from: &mut (impl AsyncRead + Unpin), typed: bool,
) -> std::io::Result<(Option<u8>, Vec<u8>)> {
    let kind = if typed { Some(from.read_u8().await?) } else { None };
    let len = from.read_u32().await? as usize;
    let mut body = vec![0; len.saturating_sub(4)];
    from.read_exact(&mut body).await?;
    Ok((kind, body))
}

async fn write_message(
    to: &mut (impl AsyncWrite + Unpin), kind: Option<u8>, body: &[u8],
) -> std::io::Result<()> {
    if let Some(kind) = kind {
        to.write_u8(kind).await?;
    }
    to.write_u32(body.len() as u32 + 4).await?;
    to.write_all(body).await
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

async fn relay(
    client: TcpStream, server: TcpStream, armed: Arc<AtomicBool>, dropped: Arc<AtomicUsize>,
) {
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let to_server = {
        let cut = cut.clone();
        async move {
            // Prepared statements by name (sqlx parses each once per connection, then binds it;
            // the parse has a `Sync` of its own, which must not be taken for the statement's end).
            let mut statements: HashMap<String, String> = HashMap::new();
            // Bound, then executed: only then has the server run the statement that starts events.
            let (mut bound, mut executed) = (false, false);
            let mut in_transaction = false;
            let mut typed = false;
            loop {
                let (kind, body) = read_message(&mut client_in, typed).await?;
                typed = true;
                match kind {
                    Some(b'P') => {
                        let name = c_string(&body);
                        let query = c_string(&body[name.len() + 1..]);
                        statements.insert(name, query);
                    }
                    Some(b'B') => {
                        let portal = c_string(&body);
                        let statement = c_string(&body[portal.len() + 1..]);
                        bound =
                            statements.get(&statement).is_some_and(|q| q.contains(STARTS_EVENTS));
                    }
                    Some(b'E') => executed |= bound,
                    Some(b'Q') => {
                        let query = c_string(&body).to_uppercase();
                        in_transaction |= query.starts_with("BEGIN");
                        let ends = query.starts_with("COMMIT") || query.starts_with("ROLLBACK");
                        if query.starts_with("COMMIT")
                            && executed
                            && armed.swap(false, Ordering::SeqCst)
                        {
                            cut.store(true, Ordering::SeqCst);
                        }
                        if ends {
                            (bound, executed, in_transaction) = (false, false, false);
                        }
                    }
                    // The end of a statement sent alone: it commits on its own.
                    Some(b'S') if !in_transaction => {
                        if executed && armed.swap(false, Ordering::SeqCst) {
                            cut.store(true, Ordering::SeqCst);
                        }
                        (bound, executed) = (false, false);
                    }
                    _ => {}
                }
                write_message(&mut server_out, kind, &body).await?;
            }
            #[allow(unreachable_code)]
            Ok::<(), std::io::Error>(())
        }
    };
    let to_client = async move {
        loop {
            let (kind, body) = read_message(&mut server_in, true).await?;
            if cut.load(Ordering::SeqCst) {
                // The server has answered the COMMIT: it landed. Its answer never arrives.
                if kind == Some(b'Z') {
                    dropped.fetch_add(1, Ordering::SeqCst);
                    return Ok::<(), std::io::Error>(());
                }
                continue;
            }
            write_message(&mut client_out, kind, &body).await?;
        }
    };
    // Either side ending ends both: the client sees its connection break mid-COMMIT.
    tokio::select! {
        _ = to_server => {}
        _ = to_client => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_commit_reply_while_starting_events_still_sends_each_call_exactly_once() {
    let db = crate::helpers::TestDb::fresh().await;
    if !db.url.starts_with("postgres") {
        eprintln!("PostgreSQL only: skipped on SQLite");
        return;
    }
    let mut url = url::Url::parse(&db.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let fault = CommitFault::start(upstream).await;
    url.set_port(Some(fault.addr.port())).unwrap();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.query_pairs_mut().append_pair("sslmode", "disable");
    let proxied = url.to_string();
    let app = TestApp::spawn_in(db.clone(), |s| {
        s.allow_insecure_webhooks = true;
        s.database_url = voicy::config::DatabaseUrl::new(proxied);
    })
    .await;
    let receiver = Receiver::http(Behavior::default()).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Lost commit").await;
    owner.add_webhook(&agent, json!({ "name": "CRM", "url": receiver.url })).await;

    fault.armed.store(true, Ordering::SeqCst);
    let mut calls = Vec::new();
    for _ in 0..3 {
        calls.push(owner.post_call(&agent, "web").await);
    }
    for call in &calls {
        let settled = owner.settled(call).await;
        assert_eq!(settled["event"]["state"], "sent", "{settled:#}");
        assert_eq!(settled["deliveries"][0]["outcome"], "ok", "{settled:#}");
        assert_eq!(settled["deliveries"].as_array().unwrap().len(), 1, "{settled:#}");
    }
    // Cut only after the server executed the start and answered: it landed, unseen, so the
    // retried start must find it (`EventStarted::Earlier`) or the call would not be sent at all.
    assert_eq!(fault.dropped.load(Ordering::SeqCst), 1, "the fault was injected once");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for hit in receiver.hits().await {
        let body: Value = serde_json::from_slice(&hit.body).unwrap();
        *counts.entry(body["id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(counts.values().all(|&n| n == 1), "each call exactly once: {counts:?}");
}
