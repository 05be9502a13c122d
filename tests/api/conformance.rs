//! Every response the integration suite gets from `/api/v1` is validated against the schema
//! that the API's own OpenAPI document gives for that operation and status (`Api::send` calls
//! `check`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

pub fn document() -> &'static Value {
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
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| (p.starts_with('{') && !s.is_empty()) || p == s);
            let literal = parts.iter().filter(|p| !p.starts_with('{')).count();
            (matches && item.get(&method).is_some())
                .then(|| (literal, template.clone(), &item[&method]))
        })
        .max_by_key(|(literal, _, _)| *literal)
        .map(|(_, template, op)| (template, op))
}

/// Panics unless `body` is what the document promises for this request and `status`.
pub fn check(method: &Method, url_path: &str, status: StatusCode, body: &str) {
    let Some(path) = url_path.strip_prefix("/api/v1") else {
        return;
    };
    let path = path.split('?').next().unwrap_or(path);
    let Some((template, op)) = operation(method, path) else {
        // No such route: the API's own not-found (or axum's 405) is all it may answer.
        assert!(
            matches!(status.as_u16(), 404 | 405),
            "{method} /api/v1{path} answered {status} but is not in the OpenAPI document"
        );
        return;
    };
    let responses = &op["responses"];
    let response = responses
        .get(status.as_str())
        .or_else(|| responses.get("default"))
        .unwrap_or_else(|| panic!("{method} /api/v1{template}: status {status} is not documented"));
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        if response.get("content").is_none() {
            assert!(
                body.is_empty(),
                "{method} /api/v1{template} {status}: documented without a body, got {body}"
            );
        }
        return;
    };
    let key = format!("{method} {template} {status}");
    static VALIDATORS: OnceLock<Mutex<HashMap<String, jsonschema::Validator>>> = OnceLock::new();
    let instance: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{key}: not JSON ({e}): {body}"));
    // The schema inside a document that also holds the components its `$ref`s point to.
    let root = json!({ "$schema": "https://json-schema.org/draft/2020-12/schema", "components": document()["components"], "allOf": [schema] });
    let errors: Vec<String> = {
        // A panicking test elsewhere must not poison the cache for the others.
        let mut validators =
            VALIDATORS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        match validators.entry(key.clone()) {
            std::collections::hash_map::Entry::Occupied(v) => v.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(jsonschema::validator_for(&root).unwrap_or_else(|e| {
                    panic!("{key}: the documented schema does not compile: {e}")
                }))
            }
        }
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
    };
    assert!(
        errors.is_empty(),
        "{key}: the response does not match the OpenAPI document: {errors:?}\n{body}"
    );
}
