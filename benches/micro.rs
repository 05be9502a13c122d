//! Micro-benchmarks of the two per-delivery CPU costs: signing and payload serialization.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use voicy_core::services::calls::{Processed, call_view};
use voicy_core::store::CallRecord;
use voicy_model::states::{CallKind, EventState};
use voicy_model::views::{EventView, NewCall, Turn};

/// A call with a realistic ~4 KB transcript.
fn call() -> CallRecord {
    let transcript = (0..40)
        .map(|i| Turn {
            role: if i % 2 == 0 { "agent".into() } else { "user".into() },
            text: "I'd like to move my appointment to Tuesday morning, around ten if you have it. "
                .into(),
            start_ms: Some(i * 2500),
        })
        .collect();
    CallRecord {
        id: "0b7e2c1e-5d0a-4bb5-9b1e-4f7a3c9d2e11".into(),
        agent_id: "6a1f0f0e-2f3c-4f8e-9a57-7d2b6c1e9a10".into(),
        agent_version: Some(3),
        kind: CallKind::Phone,
        input: NewCall {
            agent_id: String::new(),
            kind: "phone".into(),
            from_number: Some("+15550100".into()),
            to_number: Some("+15550199".into()),
            started_at: "2026-11-27T09:00:00Z".into(),
            ended_at: "2026-11-27T09:01:40Z".into(),
            end_reason: Some("caller_hung_up".into()),
            transcript,
            metadata: Some(serde_json::json!({ "crm_id": "42" })),
        },
        body: None,
        erased_at: None,
        event: EventView { state: EventState::Pending, note: None },
        received_at: "2026-11-27T09:01:40.100Z".into(),
        attempts: 1,
    }
}

fn benches(c: &mut Criterion) {
    let call = call();
    let processed = Processed { summary: Some("40 turns.".into()), ..Processed::default() };
    let body = serde_json::to_string(&call_view(&call, Some(processed.clone()))).unwrap();

    let mut group = c.benchmark_group("payload");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("serialize_call_view", |b| {
        b.iter(|| {
            serde_json::to_string(&call_view(black_box(&call), Some(processed.clone()))).unwrap()
        })
    });
    group.bench_function("hmac_sha256_signature", |b| {
        b.iter(|| {
            voicy_core::dispatcher::request::signature(
                black_box(b"whsec_0123456789abcdef"),
                black_box(body.as_bytes()),
            )
        })
    });
    group.finish();
}

criterion_group!(micro, benches);
criterion_main!(micro);
