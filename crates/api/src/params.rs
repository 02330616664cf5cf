//! Query parameters shared by writes (`version`, `transaction_id`,
//! `force_reload`) and how a write's outcome becomes a response.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use haplane_dataplane::{Applied, ReloadMode, Target};
use serde_json::Value;

use crate::error::ApiError;

pub type Query = HashMap<String, String>;

pub fn flag(query: &Query, name: &str) -> Result<bool, ApiError> {
    match query.get(name).map(String::as_str) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "query parameter {name}: '{other}' is not true or false"
        ))),
    }
}

pub fn number(query: &Query, name: &str) -> Result<Option<u64>, ApiError> {
    match query.get(name) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "query parameter {name}: '{v}' is not a positive integer"
            ))
        }),
    }
}

/// The configuration file `file=` names, if any.
pub fn file(query: &Query) -> Option<&std::path::Path> {
    query
        .get("file")
        .map(String::as_str)
        .filter(|f| !f.is_empty())
        .map(std::path::Path::new)
}

pub fn transaction(query: &Query) -> Option<&str> {
    query
        .get("transaction_id")
        .map(String::as_str)
        .filter(|t| !t.is_empty())
}

/// When HAProxy loads a write: `skip_reload`, `force_reload`, else queued.
pub fn reload_mode(query: &Query) -> Result<ReloadMode, ApiError> {
    Ok(if flag(query, "skip_reload")? {
        ReloadMode::Skip
    } else if flag(query, "force_reload")? {
        ReloadMode::Force
    } else {
        ReloadMode::Queue
    })
}

/// Where a write goes, from its query parameters.
pub fn target(query: &Query) -> Result<Target, ApiError> {
    if let Some(id) = transaction(query) {
        return Ok(Target::Transaction(id.to_owned()));
    }
    let reload = if flag(query, "force_reload")? {
        ReloadMode::Force
    } else {
        ReloadMode::Queue
    };
    Ok(Target::Live {
        version: number(query, "version")?,
        reload,
    })
}

/// The response to a write: 202 in a transaction or when a reload is
/// queued (with `Reload-ID`), else `done` (201, 200 or 204).
pub fn written(applied: &Applied, done: StatusCode, body: Option<Value>) -> Response {
    let body = body.map(|b| serde_json::to_vec(&b).expect("JSON values serialize"));
    written_bytes(applied, done, body)
}

/// The error to answer when a reload done at once (`force_reload`) failed:
/// the change did not take effect, whatever was written.
pub fn reload_failed(reload: &haplane_dataplane::Reload) -> Option<ApiError> {
    (reload.status == haplane_dataplane::ReloadStatus::Failed).then(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reload {} failed: {}", reload.id, reload.response),
        )
    })
}

/// [`written`] with the JSON body already rendered.
pub fn written_bytes(applied: &Applied, done: StatusCode, body: Option<Vec<u8>>) -> Response {
    let mut headers = HeaderMap::new();
    let status = match applied {
        Applied::Transaction => StatusCode::ACCEPTED,
        Applied::Committed {
            version,
            reload,
            forced,
            ..
        } => {
            headers.insert("Configuration-Version", HeaderValue::from(*version));
            match reload {
                Some(r) if !forced => {
                    if let Ok(id) = HeaderValue::from_str(&r.id) {
                        headers.insert("Reload-ID", id);
                    }
                    StatusCode::ACCEPTED
                }
                Some(r) => match reload_failed(r) {
                    Some(error) => {
                        let mut response = error.into_response();
                        response
                            .headers_mut()
                            .insert("Configuration-Version", HeaderValue::from(*version));
                        return response;
                    }
                    None => done,
                },
                None => done,
            }
        }
    };
    match body {
        Some(body) if status != StatusCode::NO_CONTENT => {
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            (status, headers, body).into_response()
        }
        _ => (status, headers).into_response(),
    }
}

/// A JSON answer already rendered (kept in a snapshot's memo).
pub fn json_bytes(bytes: std::sync::Arc<[u8]>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Bytes::from_owner(bytes),
    )
        .into_response()
}

/// Parses a JSON request body into an object, naming what is wrong.
pub fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    object_of(parse_json(body)?)
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))
}

fn object_of(value: Value) -> Result<serde_json::Map<String, Value>, ApiError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::bad_request(format!(
            "the body must be a JSON object, got {other}"
        ))),
    }
}

/// The value of a JSON body the body check parsed, handed on with the
/// request so that it is parsed once.
#[derive(Debug, Clone)]
pub(crate) struct CheckedBody(pub(crate) Value);

/// A request's JSON body: the value the body check parsed (taken from the
/// request, not copied) with the bytes it was read from, or the bytes when
/// no check ran (parsed when asked for).
pub enum JsonBody {
    Parsed(Value, axum::body::Bytes),
    Raw(axum::body::Bytes),
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for JsonBody {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let checked = parts.extensions.remove::<CheckedBody>();
        let request = axum::extract::Request::from_parts(parts, body);
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(match checked {
            Some(CheckedBody(value)) => JsonBody::Parsed(value, bytes),
            None => JsonBody::Raw(bytes),
        })
    }
}

impl JsonBody {
    fn value(self) -> Result<Value, ApiError> {
        match self {
            JsonBody::Parsed(value, _) => Ok(value),
            JsonBody::Raw(bytes) => parse_json(&bytes),
        }
    }

    /// Whether the body is a JSON array (which is not parsed for it).
    pub fn is_array(&self) -> bool {
        match self {
            JsonBody::Parsed(value, _) => value.is_array(),
            JsonBody::Raw(bytes) => bytes.trim_ascii_start().starts_with(b"["),
        }
    }

    /// The body as a JSON object; anything else is a 400.
    pub fn object(self) -> Result<serde_json::Map<String, Value>, ApiError> {
        object_of(self.value()?)
    }

    /// The body as a JSON object, and the bytes it was read from.
    pub fn object_and_bytes(
        self,
    ) -> Result<(serde_json::Map<String, Value>, axum::body::Bytes), ApiError> {
        let bytes = match &self {
            JsonBody::Parsed(_, bytes) | JsonBody::Raw(bytes) => bytes.clone(),
        };
        Ok((self.object()?, bytes))
    }

    /// The body as a JSON array of objects, and the bytes it was read
    /// from (an answer that is that list sends them back as they came).
    pub fn list_and_bytes(
        self,
    ) -> Result<(Vec<serde_json::Map<String, Value>>, axum::body::Bytes), ApiError> {
        let bytes = match &self {
            JsonBody::Parsed(_, bytes) | JsonBody::Raw(bytes) => bytes.clone(),
        };
        Ok((self.list()?, bytes))
    }

    /// The body as a JSON array of objects; anything else is a 400.
    pub fn list(self) -> Result<Vec<serde_json::Map<String, Value>>, ApiError> {
        let Value::Array(items) = self.value()? else {
            return Err(ApiError::bad_request("the body must be a JSON array"));
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Object(o) => Ok(o),
                other => Err(ApiError::bad_request(format!(
                    "item [{i}] must be an object, got {other}"
                ))),
            })
            .collect()
    }
}
