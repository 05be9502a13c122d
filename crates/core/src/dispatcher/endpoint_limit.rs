//! A cap on the requests one instance has under way to one webhook. An endpoint that stops
//! answering holds every request to it for the full 5 s, and each held request costs about 40 KB
//! (its connection's buffers and tasks in the HTTP client, the call it belongs to: BENCHMARKS.md),
//! so a burst of calls to a dead endpoint would grow memory with the burst. Over the cap a request
//! is not sent at all: its delivery is logged with the outcome `in_flight_limit` at once (nothing
//! waits for a slot, so nothing is delayed past the doc's 5 s), and the owner can redeliver it
//! from the call's page. The key is the webhook (one owner's), not its URL or host: owners whose
//! webhooks share a URL (a shared ingestion endpoint told apart by a header) must not use up each
//! other's slots, and a URL spelled another way must not get around the cap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct EndpointLimit {
    max: usize,
    under_way: Mutex<HashMap<String, usize>>,
}

/// One request under way to a webhook; dropping it frees its slot.
#[derive(Debug)]
pub struct Slot {
    limit: Arc<EndpointLimit>,
    key: String,
}

impl EndpointLimit {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self { max, under_way: Mutex::default() })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A slot for one more request to webhook `key`, or `None` when `max` are already under way.
    pub fn try_take(self: &Arc<Self>, key: &str) -> Option<Slot> {
        let mut under_way = self.under_way.lock().expect("never poisoned: no panics while held");
        match under_way.get_mut(key) {
            Some(count) if *count >= self.max => return None,
            Some(count) => *count += 1,
            None if self.max == 0 => return None,
            None => {
                under_way.insert(key.to_owned(), 1);
            }
        }
        Some(Slot { limit: self.clone(), key: key.to_owned() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut under_way = self.limit.under_way.lock().expect("never poisoned");
        if let Some(count) = under_way.get_mut(&self.key) {
            *count -= 1;
            // Webhooks with nothing under way are forgotten: the map holds only live ones.
            if *count == 0 {
                under_way.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_webhook_has_its_own_slots_and_a_freed_slot_can_be_taken_again() {
        let limit = EndpointLimit::new(2);
        let a1 = limit.try_take("webhook-a").unwrap();
        let _a2 = limit.try_take("webhook-a").unwrap();
        assert!(limit.try_take("webhook-a").is_none(), "a third request to the same webhook");
        let b = limit.try_take("webhook-b").expect("another webhook has its own slots");
        drop(a1);
        assert!(limit.try_take("webhook-a").is_some());
        drop(b);
        assert!(
            !limit.under_way.lock().unwrap().contains_key("webhook-b"),
            "an idle webhook is forgotten"
        );
    }

    #[test]
    fn a_refused_request_leaves_nothing_behind() {
        let limit = EndpointLimit::new(0);
        assert!(limit.try_take("webhook-a").is_none());
        assert!(limit.under_way.lock().unwrap().is_empty());
    }
}
