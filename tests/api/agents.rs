use crate::helpers::{TestApp, is_uuid};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn agents_are_created_listed_newest_first_and_fetched() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let first = owner.create_agent("  Front desk  ").await;
    let second = owner.create_agent("After hours").await;
    assert!(is_uuid(&first));
    let list = owner.get("/api/v1/agents").await.json();
    let names: Vec<_> = list["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["After hours", "Front desk"]);
    let one = owner.get(&format!("/api/v1/agents/{second}")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["name"], "After hours");
    assert!(one.json()["created_at"].is_string());
    let _ = first;
}

#[tokio::test]
async fn an_agent_name_must_have_1_to_100_characters() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    for name in [json!(""), json!("   "), json!("x".repeat(101))] {
        let res = owner.post("/api/v1/agents", json!({ "name": name })).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.json()["error"]["fields"]["name"].is_string());
    }
    let res = owner.post("/api/v1/agents", json!({})).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        owner.post("/api/v1/agents", json!({ "name": "x".repeat(100) })).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn an_unknown_agent_is_404() {
    let app = TestApp::spawn().await;
    let owner = app.user().await;
    let res = owner.get(&format!("/api/v1/agents/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.error_code(), "not_found");
}
