//! The REST API against its own OpenAPI document: every documented operation is routed, the
//! document is served and rendered, and `conformance::check` catches what it should.

use crate::conformance::{check, document};
use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn every_documented_operation_is_routed_and_the_document_is_served() {
    let app = TestApp::spawn().await;
    let anonymous = app.client();
    let served = anonymous.get("/api/v1/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.json(), *document());
    let mut operations = 0;
    for (template, item) in document()["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let path = template
                .split('/')
                .map(|p| if p.starts_with('{') { "x" } else { p })
                .collect::<Vec<_>>()
                .join("/");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = anonymous
                .send(
                    method.clone(),
                    &format!("/api/v1{path}"),
                    Some(crate::helpers::RawBody::Json(json!({}))),
                )
                .await;
            // Authentication comes before any work, so a routed operation answers 401 (or, for
            // sign-up, sign-in and this document, its own answer): never the not-found fallback.
            assert!(
                !matches!(res.status.as_u16(), 404 | 405),
                "{method} /api/v1{template} is documented but not routed: {}",
                res.status
            );
            operations += 1;
        }
    }
    assert!(operations >= 25, "{operations} operations");
}

/// What client generators need and OpenAPI 3.1 requires: every operation has an id of its own
/// (two `list`s make generated clients collide) and every response a description.
#[test]
fn every_operation_has_a_unique_id_and_every_response_a_description() {
    let mut ids = std::collections::BTreeSet::new();
    for (template, item) in document()["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str();
            let id = id.unwrap_or_else(|| panic!("{method} {template} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id:?} is used twice");
            for (status, response) in operation["responses"].as_object().unwrap() {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(!description.is_empty(), "{method} {template} {status}: no description");
            }
        }
    }
}

#[test]
fn a_response_unlike_the_document_is_caught() {
    let caught = |method: Method, path: &'static str, status: u16, body: &'static str| {
        std::panic::catch_unwind(move || {
            check(&method, path, StatusCode::from_u16(status).unwrap(), body)
        })
        .is_err()
    };
    let agent = r#"{"id":"a","name":"Support","created_at":"2026-11-27T09:00:00Z"}"#;
    assert!(!caught(Method::GET, "/api/v1/agents/a", 200, agent), "a valid agent was refused");
    assert!(caught(Method::GET, "/api/v1/agents/a", 200, r#"{"id":5}"#), "a wrong agent passed");
    assert!(
        caught(Method::GET, "/api/v1/agents/a", 404, r#"{"message":"no"}"#),
        "a wrong error body passed"
    );
    assert!(
        caught(Method::GET, "/api/v1/agents/a/secret-route", 200, "{}"),
        "an undocumented route passed"
    );
    assert!(
        caught(Method::DELETE, "/api/v1/agents/a/webhooks/w", 204, "{}"),
        "a body where none is documented passed"
    );
}

#[tokio::test]
async fn the_dashboard_reference_page_lists_every_documented_operation_and_schema() {
    let app = TestApp::spawn().await;
    let page = app.client().get("/docs/api").await;
    assert_eq!(page.status, StatusCode::OK);
    for (path, item) in document()["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let label = format!("aria-label=\"{} {path}\"", method.to_uppercase());
            assert!(
                page.body.contains(&label),
                "the reference page lacks {label}: {}",
                &page.body[page.body.len().saturating_sub(3000)..]
            );
        }
    }
    for schema in document()["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            page.body.contains(&format!("id=\"schema-{schema}\"")),
            "the reference page lacks the schema {schema}"
        );
    }
    assert!(page.body.contains("id=\"verify\""));
}
