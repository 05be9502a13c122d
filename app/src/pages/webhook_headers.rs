//! The custom-header editor of the webhook form: up to 10 name/value rows. A stored header's
//! value is never shown: its row starts blank, and blank keeps it.

use crate::components::{FieldError, SaveErrors};
use leptos::prelude::*;
use voicy_model::views::{HEADER_LIMIT, HeaderInput};

/// One row of the header editor. `stored` rows came from the server, with their value hidden.
#[derive(Clone, Copy)]
pub struct HeaderRow {
    key: usize,
    name: RwSignal<String>,
    value: RwSignal<String>,
    stored: bool,
}

impl HeaderRow {
    /// The row as the save request sends it (a blank value keeps a stored one).
    pub(super) fn input(&self) -> HeaderInput {
        HeaderInput { name: self.name.get_untracked(), value: Some(self.value.get_untracked()) }
    }
}

/// The rows, each with a key of its own that stays while rows around it come and go.
#[derive(Clone, Copy)]
pub struct HeaderRows {
    pub(super) rows: RwSignal<Vec<HeaderRow>>,
    next_key: StoredValue<usize>,
}

impl Default for HeaderRows {
    fn default() -> Self {
        Self { rows: RwSignal::new(Vec::new()), next_key: StoredValue::new(0) }
    }
}

impl HeaderRows {
    /// A new row (not yet in the list) with `name` and a blank value.
    pub(super) fn row(&self, name: String, stored: bool) -> HeaderRow {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        HeaderRow { key, name: RwSignal::new(name), value: RwSignal::new(String::new()), stored }
    }

    pub(super) fn names_untracked(&self) -> Vec<String> {
        self.rows.with_untracked(|rs| rs.iter().map(|r| r.name.get_untracked()).collect())
    }

    /// Whether the rows differ from `initial` (names in order): a row added, removed or renamed,
    /// or a value typed.
    pub(super) fn changed_from(&self, initial: &[String]) -> bool {
        self.rows.with(|rs| {
            rs.len() != initial.len()
                || rs
                    .iter()
                    .zip(initial)
                    .any(|(r, initial)| r.name.get() != *initial || !r.value.get().is_empty())
        })
    }

    /// Whether a stored header keeps its value (its value field is blank).
    pub(super) fn keeps_stored_values(&self) -> bool {
        self.rows.with(|rs| rs.iter().any(|r| r.stored && r.value.with(String::is_empty)))
    }
}

#[component]
pub fn HeaderEditor(
    headers: HeaderRows, errors: SaveErrors, is_new: bool, form_id: String, error_id: String,
) -> impl IntoView {
    let rows = headers.rows;
    let indexed_rows =
        move || rows.get().into_iter().enumerate().collect::<Vec<(usize, HeaderRow)>>();
    let full = move || rows.with(|r| r.len() >= HEADER_LIMIT);
    view! {
        <fieldset class="headers">
            <legend>"Custom Headers"</legend>
            <p class="hint">
                "Added to every request, before Voicy's own headers. Values are stored server-side and never shown again. "
                {(!is_new).then_some("When editing, leave all value fields blank to preserve the existing headers.")}
            </p>
            <FieldError id=error_id message=errors.field("headers".into())/>
            <For each=indexed_rows key=|(i, row)| (row.key, *i) let:((index, row))>
                <HeaderPair index row rows errors/>
            </For>
            <button type="button" class="secondary" disabled=full
                on:click=move |_| {
                    let row = headers.row(String::new(), false);
                    rows.update(|rs| rs.push(row));
                    // Straight on to the new header's name.
                    crate::components::focus_soon(format!("#{form_id} .header-row:last-of-type input"));
                }>
                {move || if full() { "10 headers: the most allowed" } else { "Add header" }}
            </button>
        </fieldset>
    }
}

/// One header's name and value, and its remove button.
#[component]
fn HeaderPair(
    index: usize, row: HeaderRow, rows: RwSignal<Vec<HeaderRow>>, errors: SaveErrors,
) -> impl IntoView {
    let name_field = format!("headers[{index}].name");
    let value_field = format!("headers[{index}].value");
    let (name_invalid, value_invalid) = (name_field.clone(), value_field.clone());
    view! {
        <div class="header-row">
            <div class="field">
                <input aria-label=format!("Header {} name", index + 1) placeholder="Authorization"
                    autocomplete="off" bind:value=row.name aria-describedby=format!("wh-h{}-name-error", row.key)
                    aria-invalid=move || errors.invalid(name_invalid.clone())/>
                <FieldError id=format!("wh-h{}-name-error", row.key) message=errors.field(name_field)/>
            </div>
            <div class="field">
                <input aria-label=format!("Header {} value", index + 1) autocomplete="off"
                    placeholder=if row.stored { "Stored — leave blank to keep" } else { "Value" }
                    bind:value=row.value aria-describedby=format!("wh-h{}-value-error", row.key)
                    aria-invalid=move || errors.invalid(value_invalid.clone())/>
                <FieldError id=format!("wh-h{}-value-error", row.key) message=errors.field(value_field)/>
            </div>
            <button type="button" class="icon" aria-label=format!("Remove header {}", index + 1) title="Remove header"
                on:click=move |_| rows.update(|rs| rs.retain(|r| r.key != row.key))>
                "×"
            </button>
        </div>
    }
}
