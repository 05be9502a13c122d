//! User B gets the same 404 for every route of user A's agent as for an agent that does not
//! exist, and A's agent is unchanged afterwards.

use crate::helpers::{TestApp, secret};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn another_owner_gets_404_on_every_agent_route_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.user().await, app.user().await);
    let agent = alice.create_agent("Alice's agent").await;
    let hook = alice
        .add_webhook(
            &agent,
            json!({ "name": "CRM", "url": "https://crm.example.com/h", "secret": secret("alice") }),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = bob.post("/api/v1/api-keys", json!({ "name": "bob" })).await.json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob_by_key = bob.with_bearer(&key);
    let missing = uuid::Uuid::new_v4().to_string();

    for target in [agent.as_str(), missing.as_str()] {
        let routes: Vec<(Method, String, Option<serde_json::Value>)> = vec![
            (Method::GET, format!("/api/v1/agents/{target}"), None),
            (Method::GET, format!("/api/v1/agents/{target}/webhooks"), None),
            (
                Method::POST,
                format!("/api/v1/agents/{target}/webhooks"),
                Some(json!({ "name": "x", "url": "https://x.example.com" })),
            ),
            (
                Method::PATCH,
                format!("/api/v1/agents/{target}/webhooks/{hook}"),
                Some(json!({ "name": "stolen" })),
            ),
            (Method::DELETE, format!("/api/v1/agents/{target}/webhooks/{hook}"), None),
            (Method::POST, format!("/api/v1/agents/{target}/deploy"), Some(json!({}))),
            (Method::GET, format!("/api/v1/agents/{target}/config"), None),
        ];
        for (method, path, body) in routes {
            for client in [&bob, &bob_by_key] {
                let res = client
                    .send(method.clone(), &path, body.clone().map(crate::helpers::RawBody::Json))
                    .await;
                assert_eq!(res.status, StatusCode::NOT_FOUND, "{method} {path}: {}", res.body);
                assert_eq!(res.error_code(), "not_found");
            }
        }
        for page in [format!("/agents/{target}"), format!("/agents/{target}/settings")] {
            let res = bob.get(&page).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{page}");
            assert!(
                !res.body.contains("Alice&#x27;s agent") && !res.body.contains("Alice's agent"),
                "{page} shows the agent"
            );
        }
    }

    let list = alice.get(&format!("/api/v1/agents/{agent}/webhooks")).await.json();
    assert_eq!(list["webhooks"][0]["name"], "CRM");
    let config = alice.get(&format!("/api/v1/agents/{agent}/config")).await.json();
    assert!(config["deployed"].is_null(), "bob's deploy did nothing");
    assert!(bob.get("/api/v1/agents").await.json()["agents"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_call_page_of_another_owner_or_of_no_call_is_not_found() {
    let app = TestApp::spawn().await;
    let alice = app.user().await;
    let agent = alice.create_agent("Alice's line").await;
    let call = alice.post_call(&agent, "web").await;
    let page = format!("/agents/{agent}/calls/{call}");
    assert_eq!(alice.get(&page).await.status, StatusCode::OK);
    let bob = app.user().await;
    let res = bob.get(&page).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!res.body.contains("Alice"), "{}", res.body);
    assert_eq!(
        alice.get(&format!("/agents/{agent}/calls/no-such-call")).await.status,
        StatusCode::NOT_FOUND
    );
}
