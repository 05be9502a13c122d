//! What Deploy would change, in words: the draft against the latest deployed version, webhook by
//! webhook (matched by id) and the post-call settings. Secrets and header values are compared
//! here, on the server, and only ever described ("the signing secret changed"), never shown.

use crate::states::RetryPolicy;
use crate::store::StoredWebhook;
use crate::views::{ChangeView, ProcessingSettings};

fn change(kind: &str, webhook: Option<&StoredWebhook>, description: String) -> ChangeView {
    ChangeView { kind: kind.to_owned(), webhook_id: webhook.map(|w| w.id.clone()), description }
}

/// Every difference from `deployed` (empty when nothing is deployed) to `draft`.
pub fn config_changes(
    draft: &[StoredWebhook], deployed: &[StoredWebhook], draft_processing: &ProcessingSettings,
    deployed_processing: &ProcessingSettings,
) -> Vec<ChangeView> {
    let mut changes = Vec::new();
    for old in deployed.iter().filter(|old| !draft.iter().any(|new| new.id == old.id)) {
        changes.push(change(
            "webhook_removed",
            Some(old),
            format!("Remove webhook “{}”.", old.name),
        ));
    }
    for new in draft {
        match deployed.iter().find(|old| old.id == new.id) {
            None => changes.push(change(
                "webhook_added",
                Some(new),
                format!("Add webhook “{}” ({}).", new.name, new.url),
            )),
            Some(old) => webhook_changes(old, new, &mut changes),
        }
    }
    processing_changes(deployed_processing, draft_processing, &mut changes);
    changes
}

fn webhook_changes(old: &StoredWebhook, new: &StoredWebhook, changes: &mut Vec<ChangeView>) {
    let hook = Some(new);
    let name = &new.name;
    if old.name != new.name {
        changes.push(change(
            "webhook_renamed",
            hook,
            format!("Rename webhook “{}” to “{name}”.", old.name),
        ));
    }
    if old.url != new.url {
        changes.push(change(
            "url_changed",
            hook,
            format!("Send “{name}” to {} instead of {}.", new.url, old.url),
        ));
    }
    match (&old.secret, &new.secret) {
        (None, Some(_)) => changes.push(change(
            "secret_set",
            hook,
            format!("Sign the requests of “{name}” (a signing secret is set)."),
        )),
        (Some(_), None) => changes.push(change(
            "secret_removed",
            hook,
            format!("Stop signing the requests of “{name}” (its secret is removed)."),
        )),
        (Some(a), Some(b)) if a != b => changes.push(change(
            "secret_changed",
            hook,
            format!("Sign “{name}” with a new secret."),
        )),
        _ => {}
    }
    match (old.standard_webhooks, new.standard_webhooks) {
        (false, true) => changes.push(change(
            "standard_webhooks_on",
            hook,
            format!("Also sign “{name}” the Standard Webhooks way."),
        )),
        (true, false) => changes.push(change(
            "standard_webhooks_off",
            hook,
            format!("Stop Standard Webhooks signatures for “{name}”."),
        )),
        _ => {}
    }
    if old.retry_policy != new.retry_policy {
        let what = match new.retry_policy {
            RetryPolicy::Backoff => format!("Retry failed deliveries of “{name}” with backoff."),
            RetryPolicy::None => format!("Stop retrying failed deliveries of “{name}”."),
        };
        changes.push(change("retry_policy_changed", hook, what));
    }
    let same_name = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    for h in &old.headers {
        if !new.headers.iter().any(|n| same_name(n.name.as_str(), h.name.as_str())) {
            changes.push(change(
                "header_removed",
                hook,
                format!("Stop sending header {} with “{name}”.", h.name.as_str()),
            ));
        }
    }
    for h in &new.headers {
        match old.headers.iter().find(|o| same_name(o.name.as_str(), h.name.as_str())) {
            None => changes.push(change(
                "header_added",
                hook,
                format!("Send header {} with “{name}”.", h.name.as_str()),
            )),
            Some(o) if o.value != h.value => changes.push(change(
                "header_value_changed",
                hook,
                format!("Send a new value of header {} with “{name}”.", h.name.as_str()),
            )),
            Some(_) => {}
        }
    }
}

fn processing_changes(
    old: &ProcessingSettings, new: &ProcessingSettings, changes: &mut Vec<ChangeView>,
) {
    for v in old.variables.iter().filter(|v| !new.variables.iter().any(|n| n.name == v.name)) {
        changes.push(change(
            "variable_removed",
            None,
            format!("Stop extracting the variable {}.", v.name),
        ));
    }
    for v in &new.variables {
        match old.variables.iter().find(|o| o.name == v.name) {
            None => changes.push(change(
                "variable_added",
                None,
                format!("Extract the variable {} ({}).", v.name, v.pattern),
            )),
            Some(o) if o != v => changes.push(change(
                "variable_changed",
                None,
                format!("Change how the variable {} is extracted.", v.name),
            )),
            Some(_) => {}
        }
    }
    for email in new.notification_emails.iter().filter(|e| !old.notification_emails.contains(e)) {
        changes.push(change("email_added", None, format!("E-mail {email} after each call.")));
    }
    for email in old.notification_emails.iter().filter(|e| !new.notification_emails.contains(e)) {
        changes.push(change("email_removed", None, format!("Stop e-mailing {email}.")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CustomHeader, HeaderName, HeaderValue, SigningSecret};

    fn hook(
        id: &str, name: &str, url: &str, secret: Option<&str>, headers: &[(&str, &str)],
    ) -> StoredWebhook {
        StoredWebhook {
            id: id.into(),
            name: name.into(),
            url: url.into(),
            secret: secret.map(|s| SigningSecret::parse(s).unwrap()),
            headers: headers
                .iter()
                .map(|(n, v)| CustomHeader {
                    name: HeaderName::parse(n).unwrap(),
                    value: HeaderValue::parse(v).unwrap(),
                })
                .collect(),
            standard_webhooks: false,
            retry_policy: RetryPolicy::None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn kinds(changes: &[ChangeView]) -> Vec<&str> {
        changes.iter().map(|c| c.kind.as_str()).collect()
    }

    #[test]
    fn each_kind_of_change_is_named_and_no_value_is_shown() {
        let none = ProcessingSettings::default();
        let deployed = [
            hook(
                "a",
                "CRM",
                "https://crm.example.com",
                Some("old-secret"),
                &[("X-Token", "old-token"), ("X-Gone", "x")],
            ),
            hook("b", "Old", "https://old.example.com", None, &[]),
        ];
        let draft = [
            hook(
                "a",
                "CRM v2",
                "https://crm.example.com/v2",
                Some("new-secret"),
                &[("x-token", "new-token"), ("X-New", "y")],
            ),
            hook("c", "Fresh", "https://fresh.example.com", None, &[]),
        ];
        let changes = config_changes(&draft, &deployed, &none, &none);
        assert_eq!(
            kinds(&changes),
            [
                "webhook_removed",
                "webhook_renamed",
                "url_changed",
                "secret_changed",
                "header_removed",
                "header_value_changed",
                "header_added",
                "webhook_added"
            ]
        );
        let text: String = changes.iter().map(|c| c.description.clone()).collect();
        for value in ["old-secret", "new-secret", "old-token", "new-token"] {
            assert!(!text.contains(value), "{text}");
        }
        assert!(config_changes(&draft, &draft, &none, &none).is_empty());
    }

    #[test]
    fn secrets_set_and_removed_and_processing_changes_are_named() {
        let none = ProcessingSettings::default();
        let plain = [hook("a", "CRM", "https://crm.example.com", None, &[])];
        let signed = [hook("a", "CRM", "https://crm.example.com", Some("s"), &[])];
        assert_eq!(kinds(&config_changes(&signed, &plain, &none, &none)), ["secret_set"]);
        assert_eq!(kinds(&config_changes(&plain, &signed, &none, &none)), ["secret_removed"]);
        let var = |name: &str, pattern: &str| crate::views::VariableSpec {
            name: name.into(),
            description: String::new(),
            pattern: pattern.into(),
        };
        let old = ProcessingSettings {
            variables: vec![var("a", "x"), var("b", "y")],
            notification_emails: vec!["o@example.com".into()],
        };
        let new = ProcessingSettings {
            variables: vec![var("a", "z"), var("c", "w")],
            notification_emails: vec!["n@example.com".into()],
        };
        assert_eq!(
            kinds(&config_changes(&plain, &plain, &new, &old)),
            [
                "variable_removed",
                "variable_changed",
                "variable_added",
                "email_added",
                "email_removed"
            ]
        );
    }
}
