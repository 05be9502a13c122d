use crate::helpers::{TestApp, secret, stored};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn setup() -> (TestApp, crate::helpers::Api, String) {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Support").await;
    (app, owner, agent)
}

fn crm(secret_value: Option<String>) -> Value {
    json!({
        "name": "CRM",
        "url": "https://crm.example.com/hooks/voicy",
        "secret": secret_value,
        "headers": [
            { "name": "Authorization", "value": secret("bearer-token") },
            { "name": "X-Api-Key", "value": secret("api-key") }
        ]
    })
}

#[tokio::test]
async fn a_webhook_is_created_and_listed_without_its_secret_or_header_values() {
    let (app, owner, agent) = setup().await;
    let res = owner.add_webhook(&agent, crm(Some(secret("signing")))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let hook = res.json();
    assert_eq!(hook["name"], "CRM");
    assert_eq!(hook["url"], "https://crm.example.com/hooks/voicy");
    assert_eq!(hook["has_secret"], true);
    assert_eq!(hook["headers"], json!([{ "name": "Authorization" }, { "name": "X-Api-Key" }]));
    assert!(hook["created_at"].is_string() && hook["updated_at"].is_string());

    let list = owner.get(&format!("/api/v1/agents/{agent}/webhooks")).await.json();
    assert_eq!(list["limit"], 5);
    assert_eq!(list["webhooks"][0], hook);

    let (stored_secret, headers) = stored(&app.pool, hook["id"].as_str().unwrap()).await;
    assert_eq!(stored_secret.as_deref(), Some(secret("signing").as_str()));
    assert_eq!(headers[0]["value"], secret("bearer-token"));
}

#[tokio::test]
async fn the_sixth_webhook_is_409() {
    let (_app, owner, agent) = setup().await;
    for n in 0..5 {
        let res = owner
            .add_webhook(
                &agent,
                json!({ "name": format!("Hook {n}"), "url": "https://h.example.com" }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED);
    }
    let res =
        owner.add_webhook(&agent, json!({ "name": "Six", "url": "https://h.example.com" })).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(res.error_code(), "webhook_limit_reached");
}

#[tokio::test]
async fn twenty_concurrent_adds_leave_exactly_five() {
    let (app, owner, agent) = setup().await;
    let owner = std::sync::Arc::new(owner);
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let (owner, agent) = (owner.clone(), agent.clone());
            tokio::spawn(async move {
                owner
                    .add_webhook(
                        &agent,
                        json!({ "name": format!("Hook {n}"), "url": "https://h.example.com" }),
                    )
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 15, "{statuses:?}");
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM webhooks").fetch_one(&app.pool).await.unwrap();
    assert_eq!(count, 5);
}

#[tokio::test]
async fn invalid_webhooks_are_422_with_a_message_per_field() {
    let (_app, owner, agent) = setup().await;
    let res = owner
        .add_webhook(
            &agent,
            json!({
                "name": "  ",
                "url": "http://plain.example.com",
                "secret": "x".repeat(257),
                "headers": [
                    { "name": "X-Ok", "value": "fine" },
                    { "name": "content-TYPE", "value": "text/plain" },
                    { "name": "X-Bad", "value": "line\r\nbreak" },
                    { "name": "Bad Name", "value": "v" },
                    { "name": "x-ok", "value": "dup" },
                    { "name": "X-Empty" }
                ]
            }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = res.json()["error"]["fields"].clone();
    for field in [
        "name",
        "url",
        "secret",
        "headers[1].name",
        "headers[2].value",
        "headers[3].name",
        "headers[4].name",
        "headers[5].value",
    ] {
        assert!(fields[field].is_string(), "no message for {field}: {fields}");
    }
    assert!(fields.get("headers[0].name").is_none() && fields.get("headers[0].value").is_none());
    assert!(
        owner.get(&format!("/api/v1/agents/{agent}/webhooks")).await.json()["webhooks"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn eleven_headers_are_too_many_and_ten_are_fine() {
    let (_app, owner, agent) = setup().await;
    let headers = |n: usize| {
        (0..n).map(|i| json!({ "name": format!("X-H{i}"), "value": "v" })).collect::<Vec<_>>()
    };
    let res = owner
        .add_webhook(
            &agent,
            json!({ "name": "Many", "url": "https://m.example.com", "headers": headers(11) }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json()["error"]["fields"]["headers"].is_string());
    let res = owner
        .add_webhook(
            &agent,
            json!({ "name": "Many", "url": "https://m.example.com", "headers": headers(10) }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
}

#[tokio::test]
async fn plain_http_is_allowed_only_when_insecure_webhooks_are() {
    let app = TestApp::spawn_with(|s| s.allow_insecure_webhooks = true).await;
    let owner = app.user().await;
    let agent = owner.create_agent("Dev").await;
    let res = owner
        .add_webhook(&agent, json!({ "name": "Local", "url": "http://127.0.0.1:9000/h" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_blank_absent_or_null_secret_keeps_the_stored_one_and_a_new_one_replaces_it() {
    let (app, owner, agent) = setup().await;
    let hook = owner.add_webhook(&agent, crm(Some(secret("original")))).await.json();
    let id = hook["id"].as_str().unwrap();
    let path = format!("/api/v1/agents/{agent}/webhooks/{id}");

    for patch in [
        json!({ "url": "https://crm.example.com/v2" }),
        json!({ "secret": "" }),
        json!({ "secret": null }),
    ] {
        let res = owner.patch(&path, patch.clone()).await;
        assert_eq!(res.status, StatusCode::OK, "{patch}: {}", res.body);
        assert_eq!(res.json()["has_secret"], true);
        assert_eq!(
            stored(&app.pool, id).await.0.as_deref(),
            Some(secret("original").as_str()),
            "{patch}"
        );
    }
    owner.patch(&path, json!({ "secret": secret("rotated") })).await;
    assert_eq!(stored(&app.pool, id).await.0.as_deref(), Some(secret("rotated").as_str()));

    let res = owner.patch(&path, json!({ "clear_secret": true })).await;
    assert_eq!(res.json()["has_secret"], false);
    assert_eq!(stored(&app.pool, id).await.0, None);

    let res = owner.patch(&path, json!({ "clear_secret": true, "secret": "both" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn blank_header_values_keep_the_stored_headers_and_a_removed_row_removes_one() {
    let (app, owner, agent) = setup().await;
    let hook = owner.add_webhook(&agent, crm(None)).await.json();
    let id = hook["id"].as_str().unwrap();
    let path = format!("/api/v1/agents/{agent}/webhooks/{id}");
    let before = stored(&app.pool, id).await.1;

    // Absent: all kept. All values blank: all kept, as they were.
    owner.patch(&path, json!({ "name": "CRM 2" })).await;
    assert_eq!(stored(&app.pool, id).await.1, before);
    let res = owner.patch(&path, json!({ "headers": [{ "name": "Authorization", "value": "" }, { "name": "X-Api-Key" }] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(stored(&app.pool, id).await.1, before);

    // A typed value replaces; a name left out is removed; names match ignoring case.
    let res = owner
        .patch(
            &path,
            json!({ "headers": [{ "name": "authorization", "value": secret("new-token") }] }),
        )
        .await;
    assert_eq!(res.json()["headers"], json!([{ "name": "authorization" }]));
    assert_eq!(
        stored(&app.pool, id).await.1,
        json!([{ "name": "authorization", "value": secret("new-token") }])
    );

    // A new name needs a value.
    let res = owner
        .patch(
            &path,
            json!({ "headers": [{ "name": "authorization" }, { "name": "X-New", "value": " " }] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.json()["error"]["fields"]["headers[1].value"].is_string());
    assert_eq!(
        stored(&app.pool, id).await.1,
        json!([{ "name": "authorization", "value": secret("new-token") }]),
        "a rejected edit changes nothing"
    );

    // An empty list removes them all.
    owner.patch(&path, json!({ "headers": [] })).await;
    assert_eq!(stored(&app.pool, id).await.1, json!([]));
}

#[tokio::test]
async fn patch_validates_name_and_url_like_create() {
    let (_app, owner, agent) = setup().await;
    let id = owner.add_webhook(&agent, crm(None)).await.json()["id"].as_str().unwrap().to_owned();
    let res = owner
        .patch(
            &format!("/api/v1/agents/{agent}/webhooks/{id}"),
            json!({ "name": "", "url": "ftp://x" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = res.json()["error"]["fields"].clone();
    assert!(fields["name"].is_string() && fields["url"].is_string());
    let missing = owner
        .patch(
            &format!("/api/v1/agents/{agent}/webhooks/{}", uuid::Uuid::new_v4()),
            json!({ "name": "x" }),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_is_204_then_404() {
    let (_app, owner, agent) = setup().await;
    let id = owner.add_webhook(&agent, crm(None)).await.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/agents/{agent}/webhooks/{id}");
    assert_eq!(owner.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(owner.delete(&path).await.status, StatusCode::NOT_FOUND);
    assert!(
        owner.get(&format!("/api/v1/agents/{agent}/webhooks")).await.json()["webhooks"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_settings_page_never_contains_a_secret_or_header_value() {
    let (_app, owner, agent) = setup().await;
    owner.add_webhook(&agent, crm(Some(secret("page")))).await;
    // The helper checks every body, this server-rendered page included.
    let page = owner.get(&format!("/agents/{agent}/settings")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("CRM") && page.body.contains("Authorization"));
}

#[tokio::test]
async fn fields_the_api_does_not_know_are_rejected_by_name_and_nothing_is_changed() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Typos").await;
    let hooks = format!("/api/v1/agents/{agent}/webhooks");
    let res = owner
        .post(
            &hooks,
            json!({ "name": "CRM", "url": "https://crm.example.com", "secrett": secret("typo") }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.json()["error"]["fields"]["secrett"].is_string(), "{}", res.body);
    let res = owner.post(&hooks, json!({ "name": "CRM", "url": "https://crm.example.com", "headers": [{ "name": "X-Key", "valu": "1" }] })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.json()["error"]["fields"]["headers[0].valu"].is_string(), "{}", res.body);
    assert_eq!(
        owner.get(&hooks).await.json()["webhooks"].as_array().unwrap().len(),
        0,
        "nothing was added"
    );

    let created = owner
        .add_webhook(&agent, json!({ "name": "CRM", "url": "https://crm.example.com" }))
        .await
        .json();
    let res = owner
        .patch(
            &format!("{hooks}/{}", created["id"].as_str().unwrap()),
            json!({ "clear_secrett": true }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    let res = owner
        .post(
            "/api/v1/calls",
            json!({ "agent_id": agent, "type": "web", "started_at": "2026-11-27T09:00:00Z",
        "ended_at": "2026-11-27T09:01:00Z", "transcript": [], "priority": "high" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.json()["error"]["fields"]["priority"].is_string(), "{}", res.body);
}

#[tokio::test]
async fn an_over_long_list_is_rejected_by_its_count_before_any_entry_is_parsed() {
    let (_app, owner, agent) = setup().await;
    let headers: Vec<Value> =
        (0..20_000).map(|_| json!({ "name": "X-Same", "value": "v" })).collect();
    let res = owner
        .add_webhook(
            &agent,
            json!({ "name": "CRM", "url": "https://crm.example.com", "headers": headers }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = res.json()["error"]["fields"].clone();
    assert!(fields["headers"].is_string(), "{fields}");
    assert!(fields.get("headers[1].name").is_none(), "entries were not compared: {fields}");

    let variables: Vec<Value> =
        (0..5_000).map(|_| json!({ "name": "same", "pattern": "(" })).collect();
    let res = owner
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/agents/{agent}/processing"),
            Some(crate::helpers::RawBody::Json(
                json!({ "variables": variables, "notification_emails": [] }),
            )),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = res.json()["error"]["fields"].clone();
    assert!(
        fields["variables"].is_string() && fields.get("variables[0].pattern").is_none(),
        "{fields}"
    );
}
