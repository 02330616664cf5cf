//! Request bodies checked against the schema the API serves for their
//! operation: a body that breaks it answers 422 before the handler runs, as
//! the reference does, so the served specification is also the rule; a
//! value of the wrong JSON type answers 400, as a body the reference cannot
//! decode does. A
//! string holding a control character other than tab is refused (400
//! naming the field): written into the configuration it would become syntax.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ApiError;

/// The served document, built once.
pub(crate) fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(crate::spec::specification)
}

/// The JSON request body schema of each operation, by method and path,
/// made ready for checking (built with the document, on the first write).
struct BodySchemas {
    schemas: haplane_model::Schemas,
    by_operation: HashMap<(String, String), haplane_model::SchemaId>,
}

fn body_schemas() -> &'static BodySchemas {
    static SCHEMAS: OnceLock<BodySchemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let root = spec();
        let mut builder = haplane_model::SchemaBuilder::new(root);
        let mut by_operation = HashMap::new();
        if let Some(paths) = root["paths"].as_object() {
            for (path, methods) in paths {
                let Some(methods) = methods.as_object() else {
                    continue;
                };
                for (method, op) in methods {
                    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                    if !schema.is_null() {
                        let id = builder.add(schema);
                        by_operation.insert((method.to_uppercase(), path.clone()), id);
                    }
                }
            }
        }
        BodySchemas {
            schemas: builder.finish(),
            by_operation,
        }
    })
}

/// Checks the body of a JSON operation; other requests pass untouched.
pub(crate) async fn body(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<crate::AppState>>,
    request: Request,
    next: Next,
) -> Response {
    // Reads have no body to check: they never build the document.
    if matches!(request.method().as_str(), "GET" | "HEAD" | "OPTIONS") {
        return next.run(request).await;
    }
    let Some(path) = request.extensions().get::<MatchedPath>() else {
        return next.run(request).await;
    };
    let path = path.as_str();
    let path = path.strip_prefix("/v3").unwrap_or(path);
    let key = (request.method().as_str().to_owned(), path.to_owned());
    let checks = body_schemas();
    let Some(schema) = checks.by_operation.get(&key).copied() else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, state.body_limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {} bytes", state.body_limit),
            )
            .into_response()
        }
    };
    // A body that is not JSON is the handler's to refuse (400).
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
        let checked = checks.schemas.check(schema, &value);
        let violations = checked.violations;
        // A value of the wrong type does not decode at all: 400, as the
        // reference answers a body it cannot parse.
        if let Some(v) = violations.iter().find(|v| v.mistyped) {
            let field = if v.path.is_empty() { "body" } else { &v.path };
            let message = format!(
                "parsing body from \"\" failed, because {field} {}",
                v.message
            );
            return ApiError::bad_request(message).into_response();
        }
        if !violations.is_empty() {
            let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("validation failure list:\n{}", lines.join("\n")),
            )
            .into_response();
        }
        if let Some(violation) = checked.control {
            return ApiError::bad_request(violation.to_string()).into_response();
        }
        // The handler takes the value rather than parse the bytes again.
        parts.extensions.insert(crate::params::CheckedBody(value));
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}
