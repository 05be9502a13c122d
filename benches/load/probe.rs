//! Captures the dispatcher's "processing done" event: the instant each call's requests start.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};
use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{Layer, layer::Context};

#[derive(Clone, Default)]
pub struct Probe(pub Arc<Mutex<HashMap<String, Instant>>>);

struct CallId(Option<String>);

impl Visit for CallId {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "call_id" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S: Subscriber> Layer<S> for Probe {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "voicy::dispatch" {
            let at = Instant::now();
            let mut id = CallId(None);
            event.record(&mut id);
            if let Some(id) = id.0 {
                self.0.lock().unwrap().insert(id, at);
            }
        }
    }
}
