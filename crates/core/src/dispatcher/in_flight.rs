//! The calls this instance is working on. A call stays here, holding one of the instance's
//! slots, from its claim until its outcome is written: its lease is renewed exactly that long.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, OwnedSemaphorePermit};

/// Call id → the claim token this instance holds it under.
#[derive(Debug, Default)]
pub struct InFlightSet {
    calls: Mutex<HashMap<String, String>>,
}

impl InFlightSet {
    pub fn ids(&self) -> Vec<String> {
        self.calls.lock().expect("never poisoned: no panics while held").keys().cloned().collect()
    }
}

/// One claimed call; dropping it frees the slot and wakes the claim loop for more work.
#[derive(Debug)]
pub struct InFlight {
    set: Arc<InFlightSet>,
    wake: Arc<Notify>,
    call_id: String,
    token: String,
    /// Freed before the claim loop is woken, so that it finds the slot free.
    slot: Option<OwnedSemaphorePermit>,
}

impl InFlight {
    pub fn new(
        set: Arc<InFlightSet>, wake: Arc<Notify>, call_id: String, token: String,
        slot: OwnedSemaphorePermit,
    ) -> Self {
        // A call claimed again after its lease lapsed replaces the claim that lost it.
        set.calls.lock().expect("never poisoned").insert(call_id.clone(), token.clone());
        Self { set, wake, call_id, token, slot: Some(slot) }
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The claim this call is held under: every transition the worker makes checks it.
    pub fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut calls = self.set.calls.lock().expect("never poisoned");
        if calls.get(&self.call_id) == Some(&self.token) {
            calls.remove(&self.call_id);
        }
        drop(calls);
        drop(self.slot.take());
        self.wake.notify_one();
    }
}
