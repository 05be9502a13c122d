//! The Webhooks section of an agent's Settings: add, edit, delete, deploy, and what is shown.
//! Every function first proves the agent belongs to the owner; validation comes after that.

use super::pauses::views;
use crate::AppState;
use crate::OwnerRequest;
use crate::domain::{
    CustomHeader, HeaderName, HeaderValue, STANDARD_NEEDS_SECRET, SigningSecret, WebhookName,
    WebhookSpec, WebhookUrl,
};
use crate::error::{AppError, FieldErrors};
use crate::states::RetryPolicy;
use crate::store::{OwnedAgent, StoredWebhook, VersionConfig};
use crate::views::{
    ConfigDiffView, ConfigView, DeployedConfigView, DeploymentView, DraftConfigView, HEADER_LIMIT,
    HeaderInput, NewWebhook, ProcessingSettings, WEBHOOK_LIMIT, WebhookList, WebhookPatch,
    WebhookSettings, WebhookView,
};

fn is_blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// Parses a header list. A blank value keeps the stored value of the header with that name
/// (names compare ignoring case); a blank value for a name not stored is an error.
fn parse_headers(
    inputs: &[HeaderInput], stored: &[CustomHeader], errors: &mut FieldErrors,
) -> Vec<CustomHeader> {
    if inputs.len() > HEADER_LIMIT {
        // Before any entry is looked at: an over-long list costs nothing more to reject.
        errors.add(
            "headers",
            format!(
                "Use at most {HEADER_LIMIT} custom headers; remove {}.",
                inputs.len() - HEADER_LIMIT
            ),
        );
        return Vec::new();
    }
    let mut headers: Vec<CustomHeader> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let Some(name) = errors.take(format!("headers[{i}].name"), HeaderName::parse(&input.name))
        else {
            continue;
        };
        if headers.iter().any(|h| name.same_as(h.name.as_str())) {
            errors.add(
                format!("headers[{i}].name"),
                format!("{} is already in the list; each header may appear once.", name.as_str()),
            );
            continue;
        }
        let value = if is_blank(&input.value) {
            match stored.iter().find(|h| name.same_as(h.name.as_str())) {
                Some(kept) => Some(kept.value.clone()),
                None => {
                    errors.add(format!("headers[{i}].value"), "Enter a value for this new header.");
                    None
                }
            }
        } else {
            errors.take(
                format!("headers[{i}].value"),
                HeaderValue::parse(input.value.as_deref().unwrap_or_default()),
            )
        };
        if let Some(value) = value {
            headers.push(CustomHeader { name, value });
        }
    }
    headers
}

fn parse_new(input: &NewWebhook, state: &AppState) -> Result<WebhookSpec, AppError> {
    let mut errors = FieldErrors::new();
    let name = errors.take("name", WebhookName::parse(&input.name));
    let url = errors.take("url", WebhookUrl::parse(&input.url, state.policy.allow_insecure));
    let secret = match &input.secret {
        Some(raw) if !raw.is_empty() => errors.take("secret", SigningSecret::parse(raw)),
        _ => None,
    };
    let headers = parse_headers(&input.headers, &[], &mut errors);
    let retry_policy = retry_policy(input.retry_policy.as_deref(), RetryPolicy::None, &mut errors);
    spec_of(errors, (name, url, secret), headers, (input.standard_webhooks, retry_policy))
}

/// `none` or `backoff`; absent (or blank, as an unset form field sends it) keeps `current`.
fn retry_policy(raw: Option<&str>, current: RetryPolicy, errors: &mut FieldErrors) -> RetryPolicy {
    match raw.map(str::trim).filter(|raw| !raw.is_empty()) {
        None => current,
        Some(raw) => RetryPolicy::parse(raw).unwrap_or_else(|| {
            errors.add("retry_policy", "Choose none (one request, no retries) or backoff (failed deliveries are tried again).");
            current
        }),
    }
}

/// The spec from its parsed fields, once none has an error (Standard Webhooks' rule, which
/// looks at the secret and headers together, is checked last).
fn spec_of(
    mut errors: FieldErrors,
    (name, url, secret): (Option<WebhookName>, Option<WebhookUrl>, Option<SigningSecret>),
    headers: Vec<CustomHeader>, (standard_webhooks, retry_policy): (bool, RetryPolicy),
) -> Result<WebhookSpec, AppError> {
    check_standard(standard_webhooks, secret.as_ref(), &headers, &mut errors);
    errors.into_result()?;
    let (Some(name), Some(url)) = (name, url) else {
        return Err(AppError::internal("a webhook field failed without an error"));
    };
    Ok(WebhookSpec { name, url, secret, headers, standard_webhooks, retry_policy })
}

/// The headers that Standard Webhooks signatures add after Voicy's own.
pub const STANDARD_HEADERS: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];

/// Standard Webhooks signatures need a `whsec_` secret, and its headers cannot also be custom ones.
fn check_standard(
    on: bool, secret: Option<&SigningSecret>, headers: &[CustomHeader], errors: &mut FieldErrors,
) {
    if !on {
        return;
    }
    if secret.and_then(SigningSecret::standard_key).is_none() {
        errors.add("standard_webhooks", STANDARD_NEEDS_SECRET);
    }
    for (i, header) in headers.iter().enumerate() {
        if STANDARD_HEADERS.iter().any(|name| header.name.same_as(name)) {
            errors.add(
                format!("headers[{i}].name"),
                format!("{} is set by Standard Webhooks signatures; rename this header or turn the option off.", header.name.as_str()),
            );
        }
    }
}

/// Applies a PATCH to the stored webhook: absent fields, a blank secret and blank header values
/// keep what is stored.
fn apply_patch(
    patch: &WebhookPatch, current: &StoredWebhook, state: &AppState,
) -> Result<WebhookSpec, AppError> {
    let mut errors = FieldErrors::new();
    let name =
        errors.take("name", WebhookName::parse(patch.name.as_deref().unwrap_or(&current.name)));
    let url = errors.take(
        "url",
        WebhookUrl::parse(
            patch.url.as_deref().unwrap_or(&current.url),
            state.policy.allow_insecure,
        ),
    );
    let secret = match (&patch.secret, patch.clear_secret) {
        (new, true) if !is_blank(new) => {
            errors.add("secret", "Either type a new secret or remove the secret, not both.");
            None
        }
        (_, true) => None,
        (new, false) if is_blank(new) => current.secret.clone(),
        (new, false) => {
            errors.take("secret", SigningSecret::parse(new.as_deref().unwrap_or_default()))
        }
    };
    let headers = match &patch.headers {
        None => current.headers.clone(),
        Some(inputs) => parse_headers(inputs, &current.headers, &mut errors),
    };
    let standard_webhooks = patch.standard_webhooks.unwrap_or(current.standard_webhooks);
    let retry_policy =
        retry_policy(patch.retry_policy.as_deref(), current.retry_policy, &mut errors);
    spec_of(errors, (name, url, secret), headers, (standard_webhooks, retry_policy))
}

pub async fn list(request: &OwnerRequest, agent_id: &str) -> Result<WebhookList, AppError> {
    let agent = request.agent(agent_id).await?;
    let paused = request.store().paused_webhooks(agent.id()).await?;
    Ok(WebhookList {
        limit: WEBHOOK_LIMIT,
        webhooks: views(&request.store().draft_webhooks(&agent).await?, &paused),
    })
}

pub async fn add(
    request: &OwnerRequest, agent_id: &str, input: &NewWebhook,
) -> Result<WebhookView, AppError> {
    let agent = request.agent(agent_id).await?;
    let spec = parse_new(input, &request.state)?;
    Ok(request.store().insert_webhook(&agent, &spec).await?.view())
}

pub async fn update(
    request: &OwnerRequest, agent_id: &str, webhook_id: &str, patch: &WebhookPatch,
) -> Result<WebhookView, AppError> {
    let agent = request.agent(agent_id).await?;
    let row = request
        .state
        .store
        .update_webhook(&agent, webhook_id, |current| apply_patch(patch, current, &request.state))
        .await?;
    let paused = request.store().paused_webhooks(agent.id()).await?;
    Ok(WebhookView { paused: paused.contains(&row.id), ..row.view() })
}

pub async fn delete(
    request: &OwnerRequest, agent_id: &str, webhook_id: &str,
) -> Result<(), AppError> {
    let agent = request.agent(agent_id).await?;
    request.store().delete_webhook(&agent, webhook_id).await
}

pub async fn deploy(request: &OwnerRequest, agent_id: &str) -> Result<DeploymentView, AppError> {
    let agent = request.agent(agent_id).await?;
    let by = request.store().user_email(request.owner().as_str()).await?;
    let row = request.store().deploy(&agent, by.as_deref()).await?;
    tracing::info!(agent_id, version = row.version, "agent deployed");
    request.store().prime_deployed(request.owner(), agent.id(), row.version).await;
    Ok(DeploymentView { version: row.version, deployed_at: row.deployed_at })
}

pub async fn config(request: &OwnerRequest, agent_id: &str) -> Result<ConfigView, AppError> {
    let agent = request.agent(agent_id).await?;
    let latest = request.store().version_configs(&agent, 1).await?;
    Ok(config_of(&request.state, &agent, latest.first()).await?.0)
}

/// The Webhooks section: the config, what Deploy would change, the deploy history and the
/// latest deliveries.
pub async fn settings(request: &OwnerRequest, agent_id: &str) -> Result<WebhookSettings, AppError> {
    let agent = request.agent(agent_id).await?;
    // The history's versions, newest first: the first is also what the draft is compared with.
    let versions = request.store().version_configs(&agent, super::versions::HISTORY + 1).await?;
    let (config, diff) = config_of(&request.state, &agent, versions.first()).await?;
    let changes = diff.changes;
    let history = super::versions::history_of(&versions);
    let webhooks: Vec<(String, String)> =
        config.draft.webhooks.iter().map(|w| (w.id.clone(), w.name.clone())).collect();
    let ids: Vec<String> = webhooks.iter().map(|(id, _)| id.clone()).collect();
    let (recent, samples) = request
        .store()
        .recent_and_samples(&agent, &ids, 5, crate::views::HEALTH_WINDOW as i64)
        .await?;
    let recent_deliveries = recent.into_iter().flat_map(|(_, d)| d).collect();
    let health = super::health::of_samples(&webhooks, samples);
    Ok(WebhookSettings { config, changes, history, recent_deliveries, health })
}

/// What Deploy would change.
pub async fn diff(request: &OwnerRequest, agent_id: &str) -> Result<ConfigDiffView, AppError> {
    let agent = request.agent(agent_id).await?;
    let latest = request.store().version_configs(&agent, 1).await?;
    Ok(config_of(&request.state, &agent, latest.first()).await?.1)
}

/// The draft, the deployed version (`latest`), whether they differ, and what Deploy would change.
/// "Differ" is by content: an edit undone, or a restored version equal to the deployed one, is no
/// change.
async fn config_of(
    state: &AppState, agent: &OwnedAgent, latest: Option<&VersionConfig>,
) -> Result<(ConfigView, ConfigDiffView), AppError> {
    let draft = state.store.draft_webhooks(agent).await?;
    let paused = state.store.paused_webhooks(agent.id()).await?;
    let draft_processing = agent.draft_processing_as_read()?;
    let empty = (Vec::new(), ProcessingSettings::default());
    let (deployed, deployed_processing) = latest.map_or((empty.0.as_slice(), &empty.1), |l| {
        (l.config.webhooks.as_slice(), &l.config.processing)
    });
    let changes =
        super::diff::config_changes(&draft, deployed, &draft_processing, deployed_processing);
    let config = ConfigView {
        draft: DraftConfigView { webhooks: views(&draft, &paused) },
        deployed: latest.map(|latest| DeployedConfigView {
            version: latest.row.version,
            deployed_at: latest.row.deployed_at.clone(),
            webhooks: views(deployed, &paused),
        }),
        has_undeployed_changes: !changes.is_empty(),
    };
    Ok((config, ConfigDiffView { deployed_version: latest.map(|l| l.row.version), changes }))
}
