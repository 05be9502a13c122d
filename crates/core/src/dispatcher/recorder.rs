//! Writes delivery results with group commit: whatever has finished by the time the previous
//! write is done goes into the next transaction. At low load that is one result at a time (the
//! log stays live); under load, hundreds per commit instead of one commit each. A write that
//! fails (the database is away) is retried until it succeeds: results are never dropped, and
//! the calls they finish keep their slot and lease until then.

use super::in_flight::InFlight;
use crate::error::AppError;
use crate::store::{ChainUpdate, DeliveryResult, Store};
use std::time::Duration;
use tokio::sync::mpsc;

pub enum Record {
    /// A request's end (its delivery id), and for a webhook that retries what follows it.
    Delivery(String, DeliveryResult, Option<ChainUpdate>),
    /// Sent after all of a call's deliveries, on the same channel, so it is written with or
    /// after them; the call leaves the in-flight set once it is.
    EventDone(InFlight),
}

const MAX_BATCH: usize = 512;
/// Bounded: when writes fall behind, senders wait (and so do new claims) instead of memory growing.
const CAPACITY: usize = 4096;

/// Writes a batch: while the database is away, waits for it; when the database refuses the
/// batch itself a few times (some value it cannot keep), writes each result alone so that one
/// bad row cannot hold back the others, and records that row without the receiver's text.
async fn write(
    store: &Store, results: Vec<(String, DeliveryResult)>, chains: &[ChainUpdate],
    finished: &[(String, String)],
) {
    let mut wait = Duration::from_millis(100);
    let mut refused = 0;
    // Each failure is logged where it happens (the store).
    loop {
        match store.record_deliveries(&results, chains, finished).await {
            Ok(()) => return,
            Err(AppError::Unavailable) => {}
            Err(_) => refused += 1,
        }
        if refused >= 3 {
            break;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
    let _ = store.record_deliveries(&[], chains, finished).await;
    for (id, mut result) in results {
        if store.record_deliveries(&[(id.clone(), result.clone())], &[], &[]).await.is_err() {
            result.response_body = None;
            result.error = Some("The receiver's answer could not be stored.".to_owned());
            let _ = store.record_deliveries(&[(id, result)], &[], &[]).await;
        }
    }
}

pub fn start(store: Store) -> mpsc::Sender<Record> {
    let (tx, mut rx) = mpsc::channel::<Record>(CAPACITY);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let (mut results, mut chains, mut done) = (Vec::new(), Vec::new(), Vec::new());
            for record in batch.drain(..) {
                match record {
                    Record::Delivery(id, result, chain) => {
                        results.push((id, result));
                        chains.extend(chain);
                    }
                    Record::EventDone(call) => done.push(call),
                }
            }
            let finished: Vec<(String, String)> =
                done.iter().map(|c| (c.call_id().to_owned(), c.token().to_owned())).collect();
            write(&store, results, &chains, &finished).await;
            drop(done);
        }
    });
    tx
}
