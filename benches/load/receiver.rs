//! Receivers for the benchmark: a fast one (answers 200 at once, recording when each request's
//! handler started and for which call) and a black hole (accepts, never answers).

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    routing::post,
};
use std::{
    sync::{Arc, Mutex},
    time::Instant,
};
use tokio::net::TcpListener;

/// The requests received, and a wake-up for whoever waits for the next one.
#[derive(Clone, Default)]
pub struct Arrivals(pub Arc<Mutex<Vec<(Instant, String, u32)>>>, Arc<tokio::sync::Notify>);

impl Arrivals {
    /// Until at least `n` requests have arrived, or `limit` has passed. Woken by arrivals, not
    /// by polling: a timer in the same runtime as the servers would take turns with them.
    pub async fn wait_for(&self, n: usize, limit: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let arrived = self.1.notified();
            if self.len() >= n {
                return;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn take(&self) -> Vec<(Instant, String, u32)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The call id is the first field of the Get Call JSON: `{"id":"…"`.
fn call_id(body: &[u8]) -> String {
    body.get(7..43).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
}

async fn receive(
    State(arrivals): State<Arrivals>, Path(n): Path<u32>, body: Bytes,
) -> &'static str {
    let at = Instant::now();
    arrivals.0.lock().unwrap().push((at, call_id(&body), n));
    arrivals.1.notify_waiters();
    "ok"
}

/// Starts the fast receiver; webhook `n` is at `{base}/{n}`.
pub async fn fast() -> (String, Arrivals) {
    let arrivals = Arrivals::default();
    let app = Router::new().route("/{n}", post(receive)).with_state(arrivals.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, arrivals)
}

/// Accepts connections and holds them without reading or answering.
pub async fn black_hole(listener: TcpListener) {
    let mut held = Vec::new();
    while let Ok((socket, _)) = listener.accept().await {
        held.push(socket);
    }
}
