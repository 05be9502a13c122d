//! The REST API against its own OpenAPI document: every response the integration suite gets
//! from `/api/v1` is validated against the schema the document gives for that operation and
//! status (`Api::send` calls `check`), and every documented operation is routed.

use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(voicy::api::openapi()).unwrap())
}

/// The documented path template that `path` (relative to `/api/v1`, no query) matches for
/// `method`: the one with the most literal segments, as the router prefers them.
fn operation(method: &Method, path: &str) -> Option<(String, &'static Value)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let method = method.as_str().to_lowercase();
    document()["paths"]
        .as_object()?
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            let matches = parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(p, s)| (p.starts_with('{') && !s.is_empty()) || p == s);
            let literal = parts.iter().filter(|p| !p.starts_with('{')).count();
            (matches && item.get(&method).is_some()).then(|| (literal, template.clone(), &item[&method]))
        })
        .max_by_key(|(literal, _, _)| *literal)
        .map(|(_, template, op)| (template, op))
}

/// Panics unless `body` is what the document promises for this request and `status`.
pub fn check(method: &Method, url_path: &str, status: StatusCode, body: &str) {
    let Some(path) = url_path.strip_prefix("/api/v1") else { return };
    let path = path.split('?').next().unwrap_or(path);
    let Some((template, op)) = operation(method, path) else {
        // No such route: the API's own not-found (or axum's 405) is all it may answer.
        assert!(matches!(status.as_u16(), 404 | 405), "{method} /api/v1{path} answered {status} but is not in the OpenAPI document");
        return;
    };
    let responses = &op["responses"];
    let response = responses.get(status.as_str()).or_else(|| responses.get("default")).unwrap_or_else(|| {
        panic!("{method} /api/v1{template}: status {status} is not documented")
    });
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        if response.get("content").is_none() {
            assert!(body.is_empty(), "{method} /api/v1{template} {status}: documented without a body, got {body}");
        }
        return;
    };
    let key = format!("{method} {template} {status}");
    static VALIDATORS: OnceLock<Mutex<HashMap<String, jsonschema::Validator>>> = OnceLock::new();
    let instance: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{key}: not JSON ({e}): {body}"));
    // The schema inside a document that also holds the components its `$ref`s point to.
    let root = json!({ "$schema": "https://json-schema.org/draft/2020-12/schema", "components": document()["components"], "allOf": [schema] });
    let errors: Vec<String> = {
        // A panicking test elsewhere must not poison the cache for the others.
        let mut validators = VALIDATORS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        match validators.entry(key.clone()) {
            std::collections::hash_map::Entry::Occupied(v) => v.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => slot.insert(
                jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{key}: the documented schema does not compile: {e}")),
            ),
        }
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
    };
    assert!(errors.is_empty(), "{key}: the response does not match the OpenAPI document: {errors:?}\n{body}");
}

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
            let path = template.split('/').map(|p| if p.starts_with('{') { "x" } else { p }).collect::<Vec<_>>().join("/");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = anonymous.send(method.clone(), &format!("/api/v1{path}"), Some(crate::helpers::RawBody::Json(json!({})))).await;
            // Authentication comes before any work, so a routed operation answers 401 (or, for
            // sign-up, sign-in and this document, its own answer): never the not-found fallback.
            assert!(!matches!(res.status.as_u16(), 404 | 405), "{method} /api/v1{template} is documented but not routed: {}", res.status);
            operations += 1;
        }
    }
    assert!(operations >= 25, "{operations} operations");
}

#[test]
fn a_response_unlike_the_document_is_caught() {
    let caught = |method: Method, path: &'static str, status: u16, body: &'static str| {
        std::panic::catch_unwind(move || check(&method, path, StatusCode::from_u16(status).unwrap(), body)).is_err()
    };
    let agent = r#"{"id":"a","name":"Support","created_at":"2026-11-27T09:00:00Z"}"#;
    assert!(!caught(Method::GET, "/api/v1/agents/a", 200, agent), "a valid agent was refused");
    assert!(caught(Method::GET, "/api/v1/agents/a", 200, r#"{"id":5}"#), "a wrong agent passed");
    assert!(caught(Method::GET, "/api/v1/agents/a", 404, r#"{"message":"no"}"#), "a wrong error body passed");
    assert!(caught(Method::GET, "/api/v1/agents/a/secret-route", 200, "{}"), "an undocumented route passed");
    assert!(caught(Method::DELETE, "/api/v1/agents/a/webhooks/w", 204, "{}"), "a body where none is documented passed");
}

#[tokio::test]
async fn the_dashboard_reference_page_lists_every_documented_operation_and_schema() {
    let app = TestApp::spawn().await;
    let page = app.client().get("/docs/api").await;
    assert_eq!(page.status, StatusCode::OK);
    for (path, item) in document()["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let label = format!("aria-label=\"{} {path}\"", method.to_uppercase());
            assert!(page.body.contains(&label), "the reference page lacks {label}: {}", &page.body[page.body.len().saturating_sub(3000)..]);
        }
    }
    for schema in document()["components"]["schemas"].as_object().unwrap().keys() {
        assert!(page.body.contains(&format!("id=\"schema-{schema}\"")), "the reference page lacks the schema {schema}");
    }
    assert!(page.body.contains("id=\"verify\""));
}
