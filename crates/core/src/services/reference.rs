//! The API reference page's content, read from the OpenAPI document that the server generates
//! from its REST handlers (so the page and `/api/v1/openapi.json` cannot disagree).

use crate::views::{ApiField, ApiOperation, ApiReference, ApiResponse, ApiSchema, ApiTag};
use serde_json::Value;

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// A schema's type in a few characters: `string`, `integer | null`, `[Turn]`, `map of string`.
fn kind(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema[combinator].as_array() {
            return options.iter().map(kind).collect::<Vec<_>>().join(" | ");
        }
    }
    let one = |t: &str| match t {
        "array" => format!("[{}]", kind(&schema["items"])),
        "object" if schema["additionalProperties"].is_object() => {
            format!("map of {}", kind(&schema["additionalProperties"]))
        }
        other => other.to_owned(),
    };
    match &schema["type"] {
        Value::String(t) => one(t),
        Value::Array(types) => {
            types.iter().filter_map(Value::as_str).map(one).collect::<Vec<_>>().join(" | ")
        }
        _ => "any".to_owned(),
    }
}

fn fields(schema: &Value) -> Vec<ApiField> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema["properties"]
        .as_object()
        .map(|properties| {
            properties
                .iter()
                .map(|(name, property)| ApiField {
                    name: name.clone(),
                    kind: kind(property),
                    required: required.contains(&name.as_str()),
                    description: text(&property["description"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn body_schema(holder: &Value) -> Option<String> {
    holder.pointer("/content/application~1json/schema").map(kind)
}

fn operation(method: &str, path: &str, op: &Value) -> ApiOperation {
    ApiOperation {
        method: method.to_uppercase(),
        path: path.to_owned(),
        summary: text(&op["summary"]),
        description: text(&op["description"]),
        // An empty requirement (`{}`) in the list means none is needed.
        authenticated: !op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty()))),
        parameters: op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| ApiField {
                        name: format!("{} ({})", text(&p["name"]), text(&p["in"])),
                        kind: kind(&p["schema"]),
                        required: p["required"].as_bool().unwrap_or(false),
                        description: text(&p["description"]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        request: op.get("requestBody").and_then(body_schema),
        responses: op["responses"]
            .as_object()
            .map(|rs| {
                rs.iter()
                    .map(|(status, r)| ApiResponse {
                        status: status.clone(),
                        description: text(&r["description"]),
                        schema: body_schema(r),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The reference of `document` (an OpenAPI 3.1 document), operations grouped by tag.
pub fn reference(document: &Value) -> ApiReference {
    let mut tags: Vec<ApiTag> = document["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|t| ApiTag {
                    name: text(&t["name"]),
                    description: text(&t["description"]),
                    operations: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let tag = op["tags"][0].as_str().unwrap_or("other");
            if !tags.iter().any(|t| t.name == tag) {
                tags.push(ApiTag {
                    name: tag.to_owned(),
                    description: String::new(),
                    operations: Vec::new(),
                });
            }
            tags.iter_mut()
                .find(|t| t.name == tag)
                .expect("just added")
                .operations
                .push(operation(method, path, op));
        }
    }
    tags.retain(|t| !t.operations.is_empty());
    let schemas = document["components"]["schemas"]
        .as_object()
        .map(|schemas| {
            schemas
                .iter()
                .map(|(name, s)| ApiSchema {
                    name: name.clone(),
                    description: text(&s["description"]),
                    fields: fields(s),
                })
                .collect()
        })
        .unwrap_or_default();
    ApiReference {
        title: text(&document["info"]["title"]),
        version: text(&document["info"]["version"]),
        description: text(&document["info"]["description"]),
        base: document["servers"][0]["url"].as_str().unwrap_or("/").to_owned(),
        tags,
        schemas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_read_as_people_write_them() {
        assert_eq!(kind(&json!({ "type": ["integer", "null"] })), "integer | null");
        assert_eq!(
            kind(&json!({ "type": "array", "items": { "$ref": "#/components/schemas/Turn" } })),
            "[Turn]"
        );
        assert_eq!(
            kind(&json!({ "type": "object", "additionalProperties": { "type": "string" } })),
            "map of string"
        );
        assert_eq!(
            kind(&json!({ "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/X" }] })),
            "null | X"
        );
    }
}
