//! The document's `operationId`s, which generated clients turn into function names: the
//! handler's name in lowerCamelCase (`list_calls` → `listCalls`), and for the few handlers whose
//! name alone does not say what they act on, a fuller one (`deploy` → `deployAgent`).

use utoipa::openapi::OpenApi;

/// Handler names that are not whole operation names by themselves.
const FULLER: [(&str, &str); 9] = [
    ("deploy", "deploy_agent"),
    ("redeliver", "redeliver_delivery"),
    ("login", "sign_in"),
    ("logout", "sign_out"),
    ("signup", "sign_up"),
    ("serve_openapi", "get_openapi_document"),
    ("webhook_stats", "get_webhook_stats"),
    ("webhook_stats_chart", "get_webhook_stats_chart"),
    ("send_test", "send_test_event"),
];

pub fn name_operations(document: &mut OpenApi) {
    for item in document.paths.paths.values_mut() {
        let operations =
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            if let Some(id) = operation.operation_id.as_deref() {
                let id = FULLER.iter().find(|(short, _)| *short == id).map_or(id, |(_, full)| full);
                operation.operation_id = Some(lower_camel(id));
            }
        }
    }
}

fn lower_camel(snake: &str) -> String {
    let mut parts = snake.split('_');
    let first = parts.next().unwrap_or_default().to_owned();
    parts.fold(first, |mut name, part| {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            name.extend(c.to_uppercase());
            name.push_str(chars.as_str());
        }
        name
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn handler_names_become_lower_camel_case_operation_names() {
        assert_eq!(super::lower_camel("list_calls"), "listCalls");
        assert_eq!(super::lower_camel("get_openapi_document"), "getOpenapiDocument");
        assert_eq!(super::lower_camel("deploy"), "deploy");
    }
}
