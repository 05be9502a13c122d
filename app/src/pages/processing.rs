//! Settings → Post-call processing: the variables extracted from each transcript and the
//! addresses notified, both part of the draft config (deployed with Deploy, like webhooks).

use crate::components::{FieldError, Outcome, SaveErrors, SubmitButton};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use voicy_model::error::AppError;
use voicy_model::views::{ProcessingSettings, VariableSpec};

#[leptos::server(prefix = "/rpc", endpoint = "get_processing", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn get_processing(agent_id: String) -> Result<ProcessingSettings, AppError> {
    crate::server::page_reads::page_read!("get_processing", agent_id; {
        use crate::server::request_owner;
        use voicy_core::services::calls;
        calls::processing(&request_owner().await?, &agent_id).await
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "save_processing", input = Json, output = voicy_model::codec::Json)]
pub async fn save_processing(
    agent_id: String, settings: ProcessingSettings,
) -> Result<ProcessingSettings, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::calls;
    calls::set_processing(&request_owner().await?, &agent_id, &settings).await
}

/// Bumped whenever the draft changes outside the Webhooks section, so it re-reads its
/// "undeployed changes" state.
#[derive(Clone, Copy)]
pub struct DraftChanged(pub RwSignal<u32>);

#[derive(Clone, Copy)]
struct VariableRow {
    key: usize,
    name: RwSignal<String>,
    description: RwSignal<String>,
    pattern: RwSignal<String>,
}

#[component]
pub fn ProcessingSection(agent_id: String) -> impl IntoView {
    let agent = StoredValue::new(agent_id);
    let settings = Resource::new(move || agent.get_value(), get_processing);
    view! {
        <section class="card" aria-labelledby="processing-title">
            <h2 id="processing-title">"Post-call processing"</h2>
            <p class="muted">"Runs when a call ends, before the webhooks fire: a summary, the variables below, then e-mail notifications."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(s) => view! { <ProcessingForm agent_id=agent.get_value() initial=s/> }.into_any(),
                        Err(e) => view! { <p class="notice error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The variables being edited, each with a key of its own that stays while rows around it come
/// and go.
#[derive(Clone, Copy)]
struct VariableRows {
    rows: RwSignal<Vec<VariableRow>>,
    next: StoredValue<usize>,
}

impl VariableRows {
    fn new(variables: Vec<VariableSpec>) -> Self {
        let this = Self { rows: RwSignal::new(Vec::new()), next: StoredValue::new(0) };
        this.rows.set(variables.into_iter().map(|v| this.row(v)).collect());
        this
    }

    fn row(&self, v: VariableSpec) -> VariableRow {
        let key = self.next.get_value();
        self.next.set_value(key + 1);
        VariableRow {
            key,
            name: RwSignal::new(v.name),
            description: RwSignal::new(v.description),
            pattern: RwSignal::new(v.pattern),
        }
    }

    fn specs_untracked(&self) -> Vec<VariableSpec> {
        self.rows
            .get_untracked()
            .iter()
            .map(|r| VariableSpec {
                name: r.name.get_untracked(),
                description: r.description.get_untracked(),
                pattern: r.pattern.get_untracked(),
            })
            .collect()
    }
}

#[component]
fn ProcessingForm(agent_id: String, initial: ProcessingSettings) -> impl IntoView {
    let variables = VariableRows::new(initial.variables);
    let emails = RwSignal::new(initial.notification_emails.join("\n"));
    let agent = StoredValue::new(agent_id);
    let save =
        Action::new(move |s: &ProcessingSettings| save_processing(agent.get_value(), s.clone()));
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let draft_changed = use_context::<DraftChanged>();
    let outcome = Signal::derive(move || match save.value().get() {
        Some(Ok(_)) => Some(Ok("Saved to the draft. Deploy to use it on phone calls.".to_owned())),
        Some(Err(AppError::Validation(_))) => {
            Some(Err("Nothing was saved: fix the fields marked above.".to_owned()))
        }
        Some(Err(e)) => Some(Err(e.to_string())),
        None => None,
    });
    Effect::new(move || {
        if let (Some(Ok(_)), Some(changed)) = (save.value().get(), draft_changed) {
            changed.0.update(|n| *n += 1);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let notification_emails = emails
            .get_untracked()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        save.dispatch(ProcessingSettings {
            variables: variables.specs_untracked(),
            notification_emails,
        });
    };
    view! {
        <form on:submit=submit aria-label="Post-call processing" novalidate>
            <VariablesEditor variables errors=SaveErrors(error)/>
            <div class="field">
                <label for="notification-emails">"Notification e-mails (one per line)"</label>
                <textarea id="notification-emails" rows="3" prop:value=move || emails.get()
                    on:input=move |ev| emails.set(event_target_value(&ev)) aria-describedby="emails-error"></textarea>
                <FieldError id="emails-error" message=Signal::derive(move || {
                    error.get().and_then(|e| e.fields().and_then(|f| f.iter().find(|(k, _)| k.starts_with("notification_emails")).map(|(_, v)| v.to_owned())))
                })/>
            </div>
            <div class="form-actions">
                <SubmitButton pending=save.pending() idle="Save processing" busy="Saving…"/>
            </div>
            <Outcome message=outcome/>
        </form>
    }
    .into_any()
}

/// The variables' rows (name, description, pattern), their remove buttons and Add variable.
#[component]
fn VariablesEditor(variables: VariableRows, errors: SaveErrors) -> impl IntoView {
    let rows = variables.rows;
    let indexed = move || rows.get().into_iter().enumerate().collect::<Vec<(usize, VariableRow)>>();
    view! {
        <fieldset>
            <legend>"Variables"</legend>
            <p class="hint">"Each is the first match of its pattern (a regular expression; its first group if it has one) in the transcript."</p>
            <For each=indexed key=|(i, r)| (r.key, *i) let:((index, row))>
                <div class="variable-row">
                    <div class="field">
                        <input aria-label=format!("Variable {} name", index + 1) placeholder="callback_number" bind:value=row.name/>
                        <FieldError id=format!("var-{}-name", row.key) message=errors.field(format!("variables[{index}].name"))/>
                    </div>
                    <div class="field">
                        <input aria-label=format!("Variable {} description", index + 1) placeholder="The number to call back" bind:value=row.description/>
                    </div>
                    <div class="field">
                        <input class="mono" aria-label=format!("Variable {} pattern", index + 1) placeholder="number is ([0-9-]+)" bind:value=row.pattern/>
                        <FieldError id=format!("var-{}-pattern", row.key) message=errors.field(format!("variables[{index}].pattern"))/>
                    </div>
                    <button type="button" class="icon" aria-label=format!("Remove variable {}", index + 1)
                        on:click=move |_| rows.update(|rs| rs.retain(|r| r.key != row.key))>"×"</button>
                </div>
            </For>
            <button type="button" class="secondary" on:click=move |_| {
                let row = variables.row(VariableSpec { name: String::new(), description: String::new(), pattern: String::new() });
                rows.update(|rs| rs.push(row));
            }>"Add variable"</button>
        </fieldset>
    }
}
