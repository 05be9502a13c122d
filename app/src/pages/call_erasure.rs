//! "Delete call data" on a call's page: erases the call's personal data for good, after an
//! inline confirmation (the same service as `DELETE /api/v1/calls/{id}`).

use leptos::prelude::*;
use voicy_model::error::AppError;

#[leptos::server(prefix = "/rpc", endpoint = "erase_call_data", output = voicy_model::codec::Json)]
pub async fn erase_call_data(call_id: String) -> Result<(), AppError> {
    use crate::server::request_owner;
    use voicy_core::services::calls;
    calls::erase(&request_owner().await?, &call_id).await
}

/// The card at the foot of a call's page: the button, then the confirmation, then the outcome.
/// `erased_at` set: says when the data was deleted instead.
#[component]
pub fn CallDataCard(
    call_id: String, erased_at: Option<String>, on_erased: Callback<()>,
) -> impl IntoView {
    if let Some(at) = erased_at {
        return view! {
            <section class="card" aria-labelledby="call-data-title">
                <h2 id="call-data-title">"Call data"</h2>
                <p class="notice" role="status">
                    "This call's personal data was deleted on " {crate::components::short_time(&at)}
                    ": its transcript, phone numbers, metadata, summary, variables and the receivers' answers. "
                    "Its times and delivery outcomes are kept."
                </p>
            </section>
        }
        .into_any();
    }
    let erase = ServerAction::<EraseCallData>::new();
    let confirming = RwSignal::new(false);
    let id = StoredValue::new(call_id);
    Effect::new(move || {
        if let Some(Ok(())) = erase.value().get() {
            confirming.set(false);
            on_erased.run(());
        }
    });
    let cancel = move || {
        confirming.set(false);
        crate::components::focus_soon("#erase-call-data".to_owned());
    };
    view! {
        <section class="card" aria-labelledby="call-data-title">
            <h2 id="call-data-title">"Call data"</h2>
            <p class="hint">"Deletes this call's transcript, phone numbers, metadata, summary, variables and the receivers' answers for good. Times and delivery outcomes stay; the call is never sent again."</p>
            <Show when=move || confirming.get() fallback=move || view! {
                <button type="button" class="danger" id="erase-call-data" on:click=move |_| {
                    confirming.set(true);
                    crate::components::focus_soon("#confirm-erase-call-data".to_owned());
                }>"Delete call data…"</button>
            }>
                <div class="confirm" role="group" aria-label="Confirm deleting the call's data"
                    on:keydown=move |e| if e.key() == "Escape" { cancel() }>
                    <p>"Delete this call's personal data? This cannot be undone."</p>
                    <button type="button" class="danger" id="confirm-erase-call-data"
                        disabled=move || erase.pending().get()
                        on:click=move |_| { erase.dispatch(EraseCallData { call_id: id.get_value() }); }>
                        {move || if erase.pending().get() { "Deleting…" } else { "Delete for good" }}
                    </button>
                    <button type="button" on:click=move |_| cancel()>"Cancel"</button>
                </div>
            </Show>
            <crate::components::Outcome message=Signal::derive(move || match erase.value().get() {
                Some(Err(e)) => Some(Err(e.to_string())),
                _ => None,
            })/>
        </section>
    }
    .into_any()
}
