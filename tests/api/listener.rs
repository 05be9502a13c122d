//! The listener holds against slow clients: headers must arrive in time, and open connections
//! are capped, so a handful of clients that never finish their request cannot hold the server.

use crate::helpers::TestApp;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A client that starts a request and never finishes its headers.
async fn slowloris(base: &str) -> TcpStream {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ").await.unwrap();
    stream
}

#[tokio::test]
async fn clients_that_never_finish_their_headers_are_cut_off_and_cannot_lock_others_out() {
    let app = TestApp::spawn_with(|s| {
        s.connections.max_connections = 2;
        s.connections.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let mut slow = vec![slowloris(&app.base).await, slowloris(&app.base).await];

    // Both slots are taken; a real request waits for one, and gets it once the slow ones are cut.
    let res = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert!(res.status().is_success());

    // The server closed each slow connection (EOF or reset), after at most a 408 answer.
    for stream in &mut slow {
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
            .await
            .expect("closed by the server");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}
