//! Property tests of every parser that takes owner input, through the real server: arbitrary
//! JSON bodies, and valid bodies with one field replaced by arbitrary JSON. Whatever comes in,
//! the answer is a success or a 4xx that says what is wrong (a 422 names its fields), never a
//! 500 and never a dropped connection.

use crate::helpers::{Api, RawBody, TestApp};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

/// Field names our bodies use, so arbitrary objects often hit real fields with wrong values.
const FIELDS: &[&str] = &[
    "name",
    "url",
    "secret",
    "clear_secret",
    "headers",
    "value",
    "email",
    "password",
    "agent_id",
    "type",
    "started_at",
    "ended_at",
    "transcript",
    "role",
    "text",
    "start_ms",
    "metadata",
    "from_number",
    "to_number",
    "end_reason",
    "variables",
    "pattern",
    "description",
    "notification_emails",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-z]{1,12}",
        Just("https://example.com/hook".to_owned()),
        Just("2026-11-27T09:00:00Z".to_owned()),
        "[\\x00-\\x1f\\u{7f}\\u{202e}\\u{fffd}]{1,5}",
        (0usize..3000).prop_map(|n| "x".repeat(n)),
        Just("(a+)+$".to_owned()),
        Just("agent".to_owned()),
        Just("user".to_owned()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        Just(json!(u64::MAX)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 40, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::vec(
                (prop_oneof![prop::sample::select(FIELDS).prop_map(str::to_owned), text()], inner),
                0..8
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A valid body with one of its fields (or one inside a list) replaced by arbitrary JSON.
fn mutated(valid: Value) -> impl Strategy<Value = Value> {
    let keys: Vec<String> = valid.as_object().unwrap().keys().cloned().collect();
    (prop::sample::select(keys), json_value()).prop_map(move |(key, replacement)| {
        let mut body = valid.clone();
        body[&key] = replacement;
        body
    })
}

fn any_body(valid: Value) -> impl Strategy<Value = Value> {
    prop_oneof![json_value(), mutated(valid)]
}

/// Sends `cases` bodies drawn from `strategy` and checks each answer; some must be refused, or
/// the generator never reached the parser.
async fn check(
    api: &Api, method: Method, path: &str, strategy: impl Strategy<Value = Value>, cases: u32,
) {
    let mut runner = TestRunner::new(Config { cases, ..Config::default() });
    let mut refused = 0;
    for _ in 0..cases {
        let body = strategy.new_tree(&mut runner).expect("a value").current();
        let res = api.send(method.clone(), path, Some(RawBody::Json(body.clone()))).await;
        let status = res.status.as_u16();
        if status >= 400 {
            refused += 1;
        }
        assert!(status < 500, "{method} {path} answered {status} to {body}: {}", res.body);
        if status >= 400 {
            let error = &res.json()["error"];
            assert!(
                error["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{path}: {body} → {}",
                res.body
            );
            if status == 422 {
                let fields = error["fields"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{path}: 422 without fields: {}", res.body));
                assert!(
                    !fields.is_empty() && fields.values().all(Value::is_string),
                    "{path}: {body} → {}",
                    res.body
                );
            }
        }
    }
    assert!(refused > 0, "{path}: nothing was refused; the generator does not reach the parser");
}

#[tokio::test]
async fn arbitrary_json_never_breaks_a_parser() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Fuzzed").await;
    let hook = owner
        .add_webhook(&agent, json!({ "name": "CRM", "url": "https://crm.example.com" }))
        .await
        .json();
    let hook = hook["id"].as_str().unwrap().to_owned();

    let webhook = json!({ "name": "CRM", "url": "https://crm.example.com/hook", "secret": "whsec_x",
        "headers": [{ "name": "X-Token", "value": "t" }] });
    // The valid bodies themselves are accepted (the paths are right); then the arbitrary ones.
    assert_eq!(
        owner.add_webhook(&agent, webhook.clone()).await.status,
        reqwest::StatusCode::CREATED
    );
    check(
        &owner,
        Method::POST,
        &format!("/api/v1/agents/{agent}/webhooks"),
        any_body(webhook.clone()),
        120,
    )
    .await;
    let patch = json!({ "name": "CRM", "url": "https://crm.example.com/hook", "secret": "s", "clear_secret": false,
        "headers": [{ "name": "X-Token", "value": "" }] });
    check(
        &owner,
        Method::PATCH,
        &format!("/api/v1/agents/{agent}/webhooks/{hook}"),
        any_body(patch),
        120,
    )
    .await;
    let processing = json!({ "variables": [{ "name": "phone", "description": "", "pattern": "([0-9]+)" }],
        "notification_emails": ["owner@example.com"] });
    check(
        &owner,
        Method::PUT,
        &format!("/api/v1/agents/{agent}/processing"),
        any_body(processing),
        120,
    )
    .await;
    let call = json!({ "agent_id": agent, "type": "web", "started_at": "2026-11-27T09:00:00Z", "ended_at": "2026-11-27T09:01:00Z",
        "from_number": "+15550100", "to_number": "+15550199", "end_reason": "hangup",
        "transcript": [{ "role": "user", "text": "hi", "start_ms": 0 }], "metadata": { "k": "v" } });
    assert_eq!(
        owner.post("/api/v1/calls", call.clone()).await.status,
        reqwest::StatusCode::ACCEPTED
    );
    check(&owner, Method::POST, "/api/v1/calls", any_body(call), 150).await;
    check(&owner, Method::POST, "/api/v1/agents", any_body(json!({ "name": "Agent" })), 60).await;
    check(&owner, Method::POST, "/api/v1/api-keys", any_body(json!({ "name": "CI" })), 60).await;
}

#[tokio::test]
async fn arbitrary_sign_in_and_sign_up_bodies_are_answered_with_a_4xx_at_worst() {
    let app = TestApp::spawn().await;
    let account = json!({ "email": "fuzz@example.com", "password": "correct horse battery" });
    // Each attempt may hash a password: fewer cases, and the throttle's 429 is a fine answer.
    check(&app.client(), Method::POST, "/api/v1/auth/signup", any_body(account.clone()), 30).await;
    check(&app.client(), Method::POST, "/api/v1/auth/login", any_body(account), 30).await;
}

#[tokio::test]
async fn arbitrary_api_keys_are_refused_with_401() {
    let app = TestApp::spawn().await;
    let strategy = prop_oneof![
        text().prop_map(|t| format!("Bearer {t}")),
        text().prop_map(|t| format!("Bearer vk_{t}")),
        text(),
    ];
    let mut runner = TestRunner::new(Config::default());
    let http = reqwest::Client::new();
    for _ in 0..150 {
        let header = strategy.new_tree(&mut runner).expect("a value").current();
        if reqwest::header::HeaderValue::from_str(&header).is_err() {
            continue; // not sendable as a header at all
        }
        let res = http
            .get(format!("{}/api/v1/agents", app.base))
            .header("authorization", &header)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::UNAUTHORIZED, "{header:?}");
    }
}

/// Found by the fuzzer on PostgreSQL (its text cannot hold NUL): an id with a NUL byte, in a
/// path, a query or a body, failed the query with a 500. It names nothing: 404.
#[tokio::test]
async fn an_id_with_a_nul_byte_names_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Nul").await;
    for (method, path) in [
        (Method::GET, "/api/v1/agents/a%00b".to_owned()),
        (Method::GET, "/api/v1/calls/a%00b".to_owned()),
        (Method::GET, "/api/v1/calls/a%00b/deliveries".to_owned()),
        (Method::PATCH, format!("/api/v1/agents/{agent}/webhooks/a%00b")),
        (Method::DELETE, format!("/api/v1/agents/{agent}/webhooks/a%00b")),
        (Method::POST, format!("/api/v1/agents/{agent}/webhooks/a%00b/test")),
        (Method::DELETE, "/api/v1/api-keys/a%00b".to_owned()),
        (Method::POST, "/api/v1/deliveries/a%00b/redeliver".to_owned()),
    ] {
        let res = owner.send(method.clone(), &path, Some(RawBody::Json(json!({})))).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{method} {path}: {}", res.body);
    }
    // In a filter or a cursor, such an id is refused by name.
    for (path, field) in [
        (format!("/api/v1/agents/{agent}/deliveries?webhook_id=a%00b"), "webhook_id"),
        (format!("/api/v1/agents/{agent}/calls?before=a%00b"), "before"),
    ] {
        let res = owner.get(&path).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", res.body);
        assert!(res.json()["error"]["fields"][field].is_string(), "{path}: {}", res.body);
    }
    let call = json!({ "agent_id": "a\u{0}b", "type": "web", "started_at": "2026-11-27T09:00:00Z", "ended_at": "2026-11-27T09:01:00Z",
        "transcript": [{ "role": "user", "text": "hi" }] });
    let res = owner.post("/api/v1/calls", call).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
}

#[tokio::test]
async fn a_body_given_as_an_array_instead_of_an_object_is_refused_and_nothing_is_made() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Objects only").await;
    for (path, body) in [
        ("/api/v1/agents".to_owned(), json!(["Array agent"])),
        (
            format!("/api/v1/agents/{agent}/webhooks"),
            json!(["Array hook", "https://example.com/h"]),
        ),
        ("/api/v1/api-keys".to_owned(), json!(["array key"])),
        ("/api/v1/agents".to_owned(), json!([1])),
    ] {
        let res = owner.post(&path, body).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", res.body);
        assert!(
            res.json()["error"]["fields"]["body"].as_str().unwrap().contains("JSON object"),
            "{}",
            res.body
        );
    }
    assert_eq!(owner.get("/api/v1/agents").await.json()["agents"].as_array().unwrap().len(), 1);
    assert!(
        owner.get(&format!("/api/v1/agents/{agent}/webhooks")).await.json()["webhooks"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_wrong_method_or_an_unreadable_parameter_gets_the_api_error_shape() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Shapes").await;
    let res = owner.send(Method::PUT, "/api/v1/agents", Some(RawBody::Json(json!({})))).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{}", res.body);
    assert_eq!(res.error_code(), "method_not_allowed");
    assert!(res.headers["allow"].to_str().unwrap().contains("POST"), "{:?}", res.headers);
    let res = owner.send(Method::DELETE, &format!("/api/v1/agents/{agent}"), None).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{}", res.body);
    assert_eq!(res.error_code(), "method_not_allowed");
    for path in
        [format!("/api/v1/agents/{agent}/versions/abc/restore"), "/api/v1/agents/%ff%fe".to_owned()]
    {
        let method = if path.ends_with("restore") { Method::POST } else { Method::GET };
        let res = owner.send(method, &path, Some(RawBody::Json(json!({})))).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {}", res.body);
        assert_eq!(res.error_code(), "not_found", "{path}: {}", res.body);
    }
    let res = owner.get(&format!("/api/v1/agents/{agent}/calls?before=%ff")).await;
    assert!(
        [StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY].contains(&res.status),
        "{}",
        res.body
    );
    assert!(!res.error_code().is_empty(), "{}", res.body);
}
