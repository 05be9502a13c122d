//! A cap on the requests one instance has under way to one webhook URL. An endpoint that stops
//! answering holds every request to it for the full 5 s, and each held request costs about 30 KB
//! in the HTTP client (its connection's buffers and tasks: BENCHMARKS.md), so a burst of calls to
//! a dead endpoint would grow memory without bound. Over the cap a request is not sent at all:
//! its delivery is logged with the outcome `in_flight_limit` at once (nothing waits for a slot,
//! so nothing is delayed past the doc's 5 s), and the owner can redeliver it from the call's page.
//! The key is the URL, not the host: many owners' webhooks share hosts such as an automation
//! service's, and one owner's dead endpoint must not use up the others' slots.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct EndpointLimit {
    max: usize,
    under_way: Mutex<HashMap<String, usize>>,
}

/// One request under way to `url`; dropping it frees its slot.
#[derive(Debug)]
pub struct Slot {
    limit: Arc<EndpointLimit>,
    url: String,
}

impl EndpointLimit {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self { max, under_way: Mutex::default() })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A slot for one more request to `url`, or `None` when `max` are already under way.
    pub fn try_take(self: &Arc<Self>, url: &str) -> Option<Slot> {
        let mut under_way = self.under_way.lock().expect("never poisoned: no panics while held");
        let count = under_way.entry(url.to_owned()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot { limit: self.clone(), url: url.to_owned() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut under_way = self.limit.under_way.lock().expect("never poisoned");
        if let Some(count) = under_way.get_mut(&self.url) {
            *count -= 1;
            // URLs with nothing under way are forgotten, so the map holds only live endpoints.
            if *count == 0 {
                under_way.remove(&self.url);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_url_has_its_own_slots_and_a_freed_slot_can_be_taken_again() {
        let limit = EndpointLimit::new(2);
        let a1 = limit.try_take("https://a.example/hook").unwrap();
        let _a2 = limit.try_take("https://a.example/hook").unwrap();
        assert!(limit.try_take("https://a.example/hook").is_none(), "a third request to the same URL");
        let b = limit.try_take("https://a.example/other").expect("another URL on the same host has its own slots");
        drop(a1);
        assert!(limit.try_take("https://a.example/hook").is_some());
        drop(b);
        assert!(!limit.under_way.lock().unwrap().contains_key("https://a.example/other"), "an idle URL is forgotten");
    }
}
