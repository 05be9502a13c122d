//! The HTTP listener. `axum::serve` sets no header-read timeout and takes every connection
//! offered, so a few thousand clients sending their headers one byte a minute (slowloris) hold
//! the server's memory and file descriptors. Here each connection must send a request's headers
//! within a time limit (idle keep-alive connections included), at most so many are open at once
//! (more wait in the kernel's backlog until one closes), and shutdown lets requests under way
//! finish.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `VOICY_MAX_CONNECTIONS`: connections open at once.
    pub max_connections: usize,
    /// `VOICY_HEADER_READ_TIMEOUT_SECONDS`: time a client has to send a request's headers,
    /// counted from when the server is ready to read them (for a kept-alive connection, from the
    /// end of the previous response).
    pub header_read_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` completes, then waits for requests under way.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, shutdown: impl Future<Output = ()>) {
    let Limits { max_connections, header_read_timeout } = limits;
    let slots = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut warned_full = false;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if !warned_full {
                    tracing::warn!(max_connections, "connection limit reached: new connections wait (VOICY_MAX_CONNECTIONS)");
                    warned_full = true;
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        // The address of the connection, for the sign-in throttle (as axum's `ConnectInfo`).
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            router.clone().oneshot(request)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await; // a client that goes away or times out is not our fault
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
