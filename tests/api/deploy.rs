use crate::helpers::{TestApp, secret};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn deploy_publishes_numbered_versions_and_config_shows_draft_and_deployed() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Support").await;
    let config = |agent: String| {
        let owner = &owner;
        async move { owner.get(&format!("/api/v1/agents/{agent}/config")).await.json() }
    };
    let fresh = config(agent.clone()).await;
    assert_eq!(
        fresh,
        json!({ "draft": { "webhooks": [] }, "deployed": null, "has_undeployed_changes": false })
    );

    let hook = owner
        .add_webhook(
            &agent,
            json!({ "name": "CRM", "url": "https://crm.example.com", "secret": secret("v1") }),
        )
        .await
        .json();
    assert_eq!(config(agent.clone()).await["has_undeployed_changes"], true);

    let res = owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.json()["version"], 1);
    assert!(res.json()["deployed_at"].is_string());
    let after = config(agent.clone()).await;
    assert_eq!(after["has_undeployed_changes"], false);
    assert_eq!(after["deployed"]["version"], 1);
    assert_eq!(after["deployed"]["webhooks"][0], hook);

    let id = hook["id"].as_str().unwrap();
    owner
        .patch(&format!("/api/v1/agents/{agent}/webhooks/{id}"), json!({ "name": "CRM v2" }))
        .await;
    assert_eq!(config(agent.clone()).await["has_undeployed_changes"], true);
    let second = owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await.json();
    assert_eq!(second["version"], 2);
}

#[tokio::test]
async fn later_edits_to_the_draft_never_change_a_deployed_version() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Support").await;
    let hook = owner
        .add_webhook(
            &agent,
            json!({
                "name": "CRM", "url": "https://crm.example.com", "secret": secret("deployed"),
                "headers": [{ "name": "Authorization", "value": secret("deployed-token") }]
            }),
        )
        .await
        .json();
    let id = hook["id"].as_str().unwrap().to_owned();
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;

    owner
        .patch(
            &format!("/api/v1/agents/{agent}/webhooks/{id}"),
            json!({
                "name": "Changed", "url": "https://changed.example.com", "secret": secret("draft"),
                "headers": [{ "name": "X-Other", "value": secret("draft-header") }]
            }),
        )
        .await;
    owner
        .add_webhook(&agent, json!({ "name": "Second", "url": "https://second.example.com" }))
        .await;

    let config = owner.get(&format!("/api/v1/agents/{agent}/config")).await.json();
    assert_eq!(config["deployed"]["webhooks"].as_array().unwrap().len(), 1);
    assert_eq!(config["deployed"]["webhooks"][0], hook);
    assert_eq!(config["draft"]["webhooks"].as_array().unwrap().len(), 2);

    let (secret_v1, headers_v1) = crate::helpers::stored_deployed(&app.pool, &id, 1).await;
    assert_eq!(secret_v1.as_deref(), Some(secret("deployed").as_str()));
    assert_eq!(headers_v1[0]["value"], secret("deployed-token"));

    // Deleting from the draft leaves the deployed version whole too.
    owner.delete(&format!("/api/v1/agents/{agent}/webhooks/{id}")).await;
    let config = owner.get(&format!("/api/v1/agents/{agent}/config")).await.json();
    assert_eq!(config["deployed"]["webhooks"][0], hook);

    // And the database itself refuses to change a deployed version.
    let tamper = sqlx::query("UPDATE deployed_webhooks SET url = 'https://evil.example.com'")
        .execute(&app.pool)
        .await;
    assert!(tamper.is_err());
    // Sealing again under another key is the one change it allows, and only of the sealed values.
    let tamper = sqlx::query(
        "UPDATE deployed_webhooks SET key_id = 'other', url = 'https://evil.example.com'",
    )
    .execute(&app.pool)
    .await;
    assert!(tamper.is_err());
}

#[tokio::test]
async fn a_save_that_changes_nothing_leaves_the_draft_as_deployed() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Steady").await;
    let hook = owner
        .add_webhook(
            &agent,
            json!({ "name": "CRM", "url": "https://crm.example.com", "secret": secret("steady"),
            "headers": [{ "name": "Authorization", "value": secret("steady-token") }] }),
        )
        .await
        .json();
    let processing = json!({ "variables": [{ "name": "day", "description": "", "pattern": "(Monday|Tuesday)" }], "notification_emails": [] });
    owner
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/agents/{agent}/processing"),
            Some(crate::helpers::RawBody::Json(processing.clone())),
        )
        .await;
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    let changed = || async {
        owner.get(&format!("/api/v1/agents/{agent}/config")).await.json()["has_undeployed_changes"]
            .clone()
    };
    assert_eq!(changed().await, false);

    // The pencil's Save with nothing changed (blank secret and header values keep what is stored).
    let id = hook["id"].as_str().unwrap();
    let res = owner
        .patch(
            &format!("/api/v1/agents/{agent}/webhooks/{id}"),
            json!({ "name": "CRM", "url": "https://crm.example.com",
            "secret": "", "headers": [{ "name": "Authorization", "value": "" }] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    owner
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/agents/{agent}/processing"),
            Some(crate::helpers::RawBody::Json(processing)),
        )
        .await;
    assert_eq!(changed().await, false, "nothing changed, so nothing is waiting to be deployed");

    // A real change still counts.
    owner.patch(&format!("/api/v1/agents/{agent}/webhooks/{id}"), json!({ "name": "CRM 2" })).await;
    assert_eq!(changed().await, true);
}

#[tokio::test]
async fn the_diff_says_what_deploy_would_change_without_any_value() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Diffed").await;
    let diff = || async { owner.get(&format!("/api/v1/agents/{agent}/config/diff")).await.json() };
    assert_eq!(diff().await, json!({ "deployed_version": null, "changes": [] }));

    let hook = owner
        .add_webhook(
            &agent,
            json!({ "name": "CRM", "url": "https://crm.example.com", "secret": secret("diff-a"),
            "headers": [{ "name": "Authorization", "value": secret("diff-token") }] }),
        )
        .await
        .json();
    let first = diff().await;
    assert_eq!(first["changes"][0]["kind"], "webhook_added");
    assert_eq!(first["changes"][0]["webhook_id"], hook["id"]);
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    assert_eq!(diff().await, json!({ "deployed_version": 1, "changes": [] }));

    let id = hook["id"].as_str().unwrap();
    owner
        .patch(
            &format!("/api/v1/agents/{agent}/webhooks/{id}"),
            json!({ "name": "CRM 2", "secret": secret("diff-b"),
            "headers": [{ "name": "Authorization", "value": secret("diff-token-2") }] }),
        )
        .await;
    let after = diff().await;
    let kinds: Vec<&str> =
        after["changes"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["webhook_renamed", "secret_changed", "header_value_changed"], "{after}");
    assert!(after["changes"][0]["description"].as_str().unwrap().contains("“CRM” to “CRM 2”"));

    // Another owner's agent: 404, as everywhere.
    let stranger = app.user().await;
    assert_eq!(
        stranger.get(&format!("/api/v1/agents/{agent}/config/diff")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn versions_list_who_deployed_what_and_one_can_be_restored_into_the_draft() {
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let receiver = crate::receiver::Receiver::http(crate::receiver::Behavior::default()).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Versioned").await;
    let key = secret("v1-key");
    let first = owner
        .add_webhook(
            &agent,
            json!({ "name": "CRM", "url": receiver.url, "secret": key,
            "headers": [{ "name": "X-Token", "value": secret("v1-token") }] }),
        )
        .await
        .json();
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    let id = first["id"].as_str().unwrap();
    owner.delete(&format!("/api/v1/agents/{agent}/webhooks/{id}")).await;
    owner.add_webhook(&agent, json!({ "name": "Other", "url": "https://other.example.com" })).await;
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;

    let versions =
        owner.get(&format!("/api/v1/agents/{agent}/versions")).await.json()["versions"].clone();
    assert_eq!(versions[0]["version"], 2);
    assert!(versions[0]["deployed_by"].as_str().unwrap().ends_with("@example.com"));
    let kinds = |v: &serde_json::Value| {
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds(&versions[0]), ["webhook_removed", "webhook_added"]);
    assert_eq!(kinds(&versions[1]), ["webhook_added"]);

    // Restore version 1: the draft is version 1 again, stored values included; deploy and send.
    // The draft is read first, so this instance keeps it: the answer must be the draft restored.
    owner.get(&format!("/api/v1/agents/{agent}/config")).await;
    let res = owner.post(&format!("/api/v1/agents/{agent}/versions/1/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let config = res.json();
    assert_eq!(config, owner.get(&format!("/api/v1/agents/{agent}/config")).await.json());
    assert_eq!(config["draft"]["webhooks"].as_array().unwrap().len(), 1);
    assert_eq!(config["draft"]["webhooks"][0]["id"], first["id"]);
    assert_eq!(config["has_undeployed_changes"], true);
    let diff = owner.get(&format!("/api/v1/agents/{agent}/config/diff")).await.json();
    assert_eq!(diff["changes"].as_array().unwrap().len(), 2, "{diff}");
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    owner.post_call(&agent, "phone").await;
    let hit = receiver.wait_for(1).await.remove(0);
    assert_eq!(
        hit.header("x-voicy-signature"),
        Some(crate::dispatch::hmac_hex(&key, &hit.body).as_str())
    );
    assert_eq!(hit.header("x-token"), Some(secret("v1-token").as_str()));

    // A version that does not exist, or another owner's: 404, and the draft is untouched.
    assert_eq!(
        owner.post(&format!("/api/v1/agents/{agent}/versions/9/restore"), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    let stranger = app.user().await;
    assert_eq!(
        stranger
            .post(&format!("/api/v1/agents/{agent}/versions/1/restore"), json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        owner.get(&format!("/api/v1/agents/{agent}/config")).await.json()["has_undeployed_changes"],
        false
    );
}

/// Deployed versions are read once per process and kept: a history read after each deploy (some
/// versions kept, the newest not yet) and one by a fresh instance (none kept) say the same.
#[tokio::test]
async fn the_history_is_the_same_whether_versions_were_read_before_or_not() {
    let app = TestApp::spawn().await;
    let credentials = json!({ "email": "kept@example.com", "password": "correct horse battery" });
    let owner = app.client();
    assert_eq!(
        owner.post("/api/v1/auth/signup", credentials.clone()).await.status,
        StatusCode::CREATED
    );
    let agent = owner.create_agent("Kept").await;
    let hook = owner
        .add_webhook(&agent, json!({ "name": "CRM", "url": "https://crm.example.com/a" }))
        .await
        .json();
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    assert_eq!(version_kinds(&owner, &agent).await, [["webhook_added"]]);
    let id = hook["id"].as_str().unwrap();
    owner.patch(&format!("/api/v1/agents/{agent}/webhooks/{id}"), json!({ "name": "CRM 2" })).await;
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    owner
        .patch(
            &format!("/api/v1/agents/{agent}/webhooks/{id}"),
            json!({ "url": "https://crm.example.com/b" }),
        )
        .await;
    owner.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    let expected = [vec!["url_changed"], vec!["webhook_renamed"], vec!["webhook_added"]];
    assert_eq!(version_kinds(&owner, &agent).await, expected);
    let diff = owner.get(&format!("/api/v1/agents/{agent}/config/diff")).await.json();
    assert_eq!(
        (diff["deployed_version"].as_i64(), diff["changes"].as_array().unwrap().len()),
        (Some(3), 0),
        "{diff}"
    );

    let fresh = TestApp::spawn_in(app.db.clone(), |_| {}).await;
    let same_owner = fresh.client();
    assert_eq!(same_owner.post("/api/v1/auth/login", credentials).await.status, StatusCode::OK);
    assert_eq!(version_kinds(&same_owner, &agent).await, expected);
}

/// The kinds of change of each version in the agent's history, newest first.
async fn version_kinds(api: &crate::helpers::Api, agent: &str) -> Vec<Vec<String>> {
    let versions =
        api.get(&format!("/api/v1/agents/{agent}/versions")).await.json()["versions"].clone();
    let kinds = |v: &serde_json::Value| {
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    versions.as_array().unwrap().iter().map(kinds).collect()
}

/// Each instance keeps an agent's opened draft and its version list while the agent's row says
/// they are unchanged: whatever another instance changes must show on this one's next read.
#[tokio::test]
async fn the_draft_and_history_read_through_one_instance_follow_every_change_made_through_another()
{
    let one = TestApp::spawn().await;
    let two = TestApp::spawn_in(one.db.clone(), |_| {}).await;
    let owner = one.user().await;
    let elsewhere = owner.against(&two);
    let agent = owner.create_agent("Shared").await;
    let draft_names = || async {
        let list = owner.get(&format!("/api/v1/agents/{agent}/webhooks")).await.json();
        list["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let diff_kinds = || async {
        let diff = owner.get(&format!("/api/v1/agents/{agent}/config/diff")).await.json();
        let kinds = diff["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["kind"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        (diff["deployed_version"].as_i64(), kinds)
    };

    let hook = owner
        .add_webhook(
            &agent,
            json!({ "name": "CRM", "url": "https://crm.example.com", "secret": secret("one") }),
        )
        .await
        .json();
    let id = hook["id"].as_str().unwrap();
    assert_eq!(draft_names().await, ["CRM"]);
    assert_eq!(diff_kinds().await, (None, vec!["webhook_added".to_owned()]));

    elsewhere.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    assert_eq!(diff_kinds().await, (Some(1), vec![]), "a deploy through the other instance");
    assert_eq!(version_kinds(&owner, &agent).await, [["webhook_added"]]);

    let patched = elsewhere
        .patch(&format!("/api/v1/agents/{agent}/webhooks/{id}"), json!({ "secret": secret("two") }))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        diff_kinds().await,
        (Some(1), vec!["secret_changed".to_owned()]),
        "a new secret, compared opened"
    );
    elsewhere
        .patch(&format!("/api/v1/agents/{agent}/webhooks/{id}"), json!({ "secret": secret("one") }))
        .await;
    assert_eq!(diff_kinds().await, (Some(1), vec![]), "the secret put back");

    elsewhere
        .add_webhook(&agent, json!({ "name": "Billing", "url": "https://billing.example.com" }))
        .await;
    assert_eq!(draft_names().await, ["CRM", "Billing"]);
    assert_eq!(
        elsewhere.delete(&format!("/api/v1/agents/{agent}/webhooks/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(draft_names().await, ["Billing"]);
    elsewhere.post(&format!("/api/v1/agents/{agent}/deploy"), json!({})).await;
    let expected = [vec!["webhook_removed", "webhook_added"], vec!["webhook_added"]];
    assert_eq!(
        version_kinds(&owner, &agent).await,
        expected,
        "the second deploy, through the other instance"
    );

    let restored =
        elsewhere.post(&format!("/api/v1/agents/{agent}/versions/1/restore"), json!({})).await;
    assert!(restored.status.is_success(), "{}", restored.body);
    assert_eq!(draft_names().await, ["CRM"], "a version restored through the other instance");
    assert_eq!(diff_kinds().await.1.len(), 2, "against version 2: CRM back, Billing gone");
}
