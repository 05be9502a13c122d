//! Writes delivery results with group commit: whatever has finished by the time the previous
//! write is done goes into the next transaction. At low load that is one result at a time (the
//! log stays live); under load, hundreds per commit instead of one commit each.

use app::server::store::{DeliveryResult, Store};
use tokio::sync::mpsc;

pub enum Record {
    Delivery(String, DeliveryResult),
    /// Sent after all of a call's deliveries, on the same channel, so it is written with or after them.
    EventDone(String),
}

const MAX_BATCH: usize = 512;

pub fn start(store: Store) -> mpsc::UnboundedSender<Record> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Record>();
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let (mut results, mut done) = (Vec::new(), Vec::new());
            for record in batch.drain(..) {
                match record {
                    Record::Delivery(id, result) => results.push((id, result)),
                    Record::EventDone(call_id) => done.push(call_id),
                }
            }
            // A failure is logged where it happens; those rows stay `sending` and become
            // `interrupted` at the next start, never silently `ok`.
            let _ = store.record_deliveries(&results, &done).await;
        }
    });
    tx
}
