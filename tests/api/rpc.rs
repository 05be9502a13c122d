//! The dashboard's server functions (`/rpc/…`) follow the REST API's rules: errors with their own
//! status, unknown arguments refused by name, bounded bodies, no input echoed back.

use crate::helpers::{Api, TestApp, secret};
use app::pages::{
    agents::CreateAgent, agents::ListAgents, auth::SignIn, processing::SaveProcessing,
    webhook_actions::AddWebhook,
};
use leptos::server_fn::ServerFn;
use reqwest::{Method, StatusCode};
use serde_json::json;

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("content-type", "application/json");

async fn agents(owner: &Api) -> usize {
    owner.get("/api/v1/agents").await.json()["agents"].as_array().unwrap().len()
}

#[tokio::test]
async fn typed_errors_keep_their_status_and_shape() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    // A validation error: 422 with the fields, as the dashboard shows them.
    let res = owner.send_raw(Method::POST, CreateAgent::PATH, &[FORM], "name=").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.json()["Validation"]["name"].is_string(), "{}", res.body);
    // Not signed in: 401. Wrong password: 401.
    let stranger = app.client();
    let res = stranger.send_raw(Method::GET, ListAgents::PATH, &[], "").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.body);
    let res = stranger
        .send_raw(
            Method::POST,
            SignIn::PATH,
            &[FORM],
            "email=nobody%40example.com&password=wrong-password",
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.body);
    assert_eq!(res.json(), json!("InvalidCredentials"));
}

#[tokio::test]
async fn arguments_a_function_does_not_take_are_refused_by_name_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let res =
        owner.send_raw(Method::POST, CreateAgent::PATH, &[FORM], "name=Support&colour=blue").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(
        res.json()["Validation"]["colour"].as_str().unwrap().contains("not an argument"),
        "{}",
        res.body
    );
    // The same form under a JSON Content-Type (the form decoder reads it all the same).
    let res =
        owner.send_raw(Method::POST, CreateAgent::PATH, &[JSON], "name=Support&colour=blue").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.json()["Validation"]["colour"].is_string(), "{}", res.body);
    // A body that is neither: refused without being quoted back.
    let res = owner
        .send_raw(
            Method::POST,
            CreateAgent::PATH,
            &[("content-type", "text/plain")],
            &secret("pasted body"),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.json()["Validation"]["body"].is_string(), "{}", res.body);
    assert_eq!(agents(&owner).await, 0);

    // JSON arguments: the misspelt top-level name, and a misspelt field inside one.
    let agent = owner.create_agent("Support").await;
    let body =
        json!({ "agent_id": agent, "inptu": { "name": "CRM", "url": "https://crm.example.com" } });
    let res = owner.send_raw(Method::POST, AddWebhook::PATH, &[JSON], &body.to_string()).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert!(res.json()["Validation"]["inptu"].is_string(), "{}", res.body);
    let body = json!({ "agent_id": agent, "input": { "name": "CRM", "url": "https://crm.example.com", "secrett": secret("typo") } });
    let res = owner.send_raw(Method::POST, AddWebhook::PATH, &[JSON], &body.to_string()).await;
    assert!(res.status.is_client_error(), "{}: {}", res.status, res.body);
    assert!(res.body.contains("secrett"), "{}", res.body);
    let config = owner.get(&format!("/api/v1/agents/{agent}/config")).await.json();
    assert_eq!(config["draft"]["webhooks"], json!([]));
}

#[tokio::test]
async fn a_decoding_error_never_quotes_what_was_sent() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let agent = owner.create_agent("Support").await;
    // A secret pasted where a list goes, and where a choice goes.
    for settings in [
        json!({ "variables": secret("pasted"), "notification_emails": [] }),
        json!(secret("pasted")),
    ] {
        let body = json!({ "agent_id": agent, "settings": settings });
        let res =
            owner.send_raw(Method::POST, SaveProcessing::PATH, &[JSON], &body.to_string()).await;
        assert!(res.status.is_client_error(), "{}: {}", res.status, res.body);
    }
}

#[tokio::test]
async fn a_form_that_is_not_utf8_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    for body in ["name=%ff%fe", "na%c3me=Support", "name=Sup%e9rieur"] {
        let res = owner.send_raw(Method::POST, CreateAgent::PATH, &[FORM], body).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{body}: {}", res.body);
        assert!(res.body.contains("UTF-8"), "{}", res.body);
    }
    assert_eq!(agents(&owner).await, 0);
    // Encoded UTF-8 is fine.
    let res = owner.send_raw(Method::POST, CreateAgent::PATH, &[FORM], "name=Sup%C3%A9rieur").await;
    assert!(res.status.is_success(), "{}: {}", res.status, res.body);
    assert_eq!(owner.get("/api/v1/agents").await.json()["agents"][0]["name"], "Supérieur");
}

#[tokio::test]
async fn bodies_over_two_megabytes_are_413() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let huge = format!("name={}", "a".repeat(3 * 1024 * 1024));
    let res = owner.send_raw(Method::POST, CreateAgent::PATH, &[FORM], &huge).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.json(), json!("TooLarge"));
}

#[tokio::test]
async fn forms_without_javascript_still_get_their_redirect_back() {
    let app = TestApp::spawn().await;
    let browser =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let visitor = Api::with_client(&app.base, browser);
    let referer = format!("{}/signin", app.base);
    let headers = [FORM, ("accept", "text/html"), ("referer", referer.as_str())];
    let res = visitor
        .send_raw(
            Method::POST,
            SignIn::PATH,
            &headers,
            "email=nobody%40example.com&password=wrong-password",
        )
        .await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert!(res.headers["location"].to_str().unwrap().starts_with(&referer));
}
