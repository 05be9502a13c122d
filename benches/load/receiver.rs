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

#[derive(Clone, Default)]
pub struct Arrivals(pub Arc<Mutex<Vec<(Instant, String, u32)>>>);

impl Arrivals {
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
