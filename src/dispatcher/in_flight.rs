//! The calls this instance is working on. A call stays here, holding one of the instance's
//! slots, from its claim until its outcome is written: its lease is renewed exactly that long.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, OwnedSemaphorePermit};

#[derive(Debug, Default)]
pub struct InFlightSet {
    ids: Mutex<HashSet<String>>,
}

impl InFlightSet {
    pub fn ids(&self) -> Vec<String> {
        self.ids.lock().expect("never poisoned: no panics while held").iter().cloned().collect()
    }
}

/// One claimed call; dropping it frees the slot and wakes the claim loop for more work.
#[derive(Debug)]
pub struct InFlight {
    set: Arc<InFlightSet>,
    wake: Arc<Notify>,
    call_id: String,
    _slot: OwnedSemaphorePermit,
}

impl InFlight {
    pub fn new(set: Arc<InFlightSet>, wake: Arc<Notify>, call_id: String, slot: OwnedSemaphorePermit) -> Self {
        set.ids.lock().expect("never poisoned").insert(call_id.clone());
        Self { set, wake, call_id, _slot: slot }
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.set.ids.lock().expect("never poisoned").remove(&self.call_id);
        self.wake.notify_one();
    }
}
