//! The configuration as a whole (`version`, `raw`), transactions, reloads.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use haplane_dataplane::{
    checksum, HistoryEntry, Reload, ReloadMode, TransactionInfo, TransactionStatus,
};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::params::{self, written};
use crate::AppState;

type St = State<Arc<AppState>>;
type Q = Query<params::Query>;

pub fn routes() -> crate::Routes {
    crate::Routes::default()
        .route("/services/haproxy/configuration/version", get(version))
        .route("/services/haproxy/configuration/files", get(list_files))
        .route(
            "/services/haproxy/configuration/raw",
            get(get_raw).post(post_raw),
        )
        .route(
            "/services/haproxy/transactions",
            get(list_transactions).post(start_transaction),
        )
        .route(
            "/services/haproxy/transactions/{id}",
            get(get_transaction)
                .put(commit_transaction)
                .delete(delete_transaction),
        )
        .route(
            "/services/haproxy/transactions/{id}/diff",
            get(transaction_diff),
        )
        .route("/services/haproxy/configuration/history", get(list_history))
        .route(
            "/services/haproxy/configuration/history/{version}",
            get(history_version),
        )
        .route(
            "/services/haproxy/configuration/history/{version}/diff",
            get(history_diff),
        )
        .route(
            "/services/haproxy/configuration/history/{version}/restore",
            axum::routing::post(restore_version),
        )
        .route("/services/haproxy/reloads", get(list_reloads))
        .route("/services/haproxy/reloads/{id}", get(get_reload))
}

async fn version(State(state): St, Query(q): Q) -> Result<Response, ApiError> {
    let version = match params::transaction(&q) {
        Some(id) => state.dp.transaction(id)?.version,
        None => state.dp.snapshot().version,
    };
    Ok(Json(json!(version)).into_response())
}

async fn get_raw(State(state): St, Query(q): Q) -> Result<Response, ApiError> {
    let (bytes, version) = state.dp.raw(params::transaction(&q), params::file(&q))?;
    if let Some(asked) = params::number(&q, "version")? {
        if asked != version {
            return Err(ApiError::not_found(format!(
                "version {asked} is not available; the configuration is at version {version}"
            )));
        }
    }
    let sum = checksum(&bytes);
    Ok(configuration_text(version, &sum, bytes))
}

async fn list_files(State(state): St, Query(q): Q) -> Result<Response, ApiError> {
    let files = state.dp.config_files(params::transaction(&q))?;
    let list: Vec<Value> = files
        .iter()
        .map(|f| {
            json!({"file": f.path.display().to_string(), "sections": f.sections,
                "checksum": f.checksum, "size": f.size, "read_only": f.read_only})
        })
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

/// A configuration file as text, with its version and checksum.
fn configuration_text(version: u64, checksum: &str, bytes: Vec<u8>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("Configuration-Version", HeaderValue::from(version));
    if let Ok(sum) = HeaderValue::from_str(checksum) {
        headers.insert("Configuration-Checksum", sum);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    (StatusCode::OK, headers, bytes).into_response()
}

/// The `version` a whole-file write starts from: required unless
/// `skip_version=true` (then `None`).
fn base_version(q: &params::Query) -> Result<Option<u64>, ApiError> {
    if params::flag(q, "skip_version")? {
        return Ok(None);
    }
    params::number(q, "version")?
        .map(Some)
        .ok_or_else(|| ApiError::bad_request("give the version parameter (or skip_version=true)"))
}

async fn post_raw(State(state): St, Query(q): Q, body: Bytes) -> Result<Response, ApiError> {
    let bytes = body.to_vec();
    // A configuration is lines: one with no line break at all was mangled
    // on its way (`curl -d` drops them), as the reference tells it.
    if !bytes.is_empty() && !bytes.contains(&b'\n') {
        return Err(ApiError::bad_request(
            "invalid configuration: no newline character found",
        ));
    }
    if params::flag(&q, "only_validate")? {
        state.dp.validate_raw(bytes, params::file(&q)).await?;
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"message": "the configuration is valid"})),
        )
            .into_response());
    }
    let version = base_version(&q)?;
    let reload = params::reload_mode(&q)?;
    let file = params::file(&q);
    let applied = state.dp.replace_raw(bytes, file, version, reload).await?;
    let mut response = written(&applied, StatusCode::CREATED, None);
    if response.status().is_server_error() {
        return Ok(response);
    }
    let (text, _) = state.dp.raw(None, file)?;
    *response.body_mut() = axum::body::Body::from(text);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

pub(crate) fn transaction_json(t: &TransactionInfo) -> Value {
    json!({"_version": t.version, "id": t.id, "status": t.status.as_str()})
}

async fn list_transactions(State(state): St, Query(q): Q) -> Result<Response, ApiError> {
    let status = match q.get("status") {
        None => None,
        Some(s) => Some(TransactionStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status '{s}' is not one of failed, outdated, in_progress, success"
            ))
        })?),
    };
    let list: Vec<Value> = state
        .dp
        .transactions(status)
        .iter()
        .map(transaction_json)
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn start_transaction(State(state): St, Query(q): Q) -> Result<Response, ApiError> {
    let version = params::number(&q, "version")?
        .ok_or_else(|| ApiError::bad_request("give the version parameter"))?;
    let t = state.dp.start_transaction(version)?;
    Ok((StatusCode::CREATED, Json(transaction_json(&t))).into_response())
}

async fn get_transaction(State(state): St, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(transaction_json(&state.dp.transaction(&id)?)).into_response())
}

async fn commit_transaction(
    State(state): St,
    Path(id): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    // Checked as its commit would be; nothing changes.
    if params::flag(&q, "only_validate")? {
        state.dp.validate_transaction(&id).await?;
        return Ok(Json(transaction_json(&state.dp.transaction(&id)?)).into_response());
    }
    let reload = if params::flag(&q, "force_reload")? {
        ReloadMode::Force
    } else {
        ReloadMode::Queue
    };
    let (info, applied) = state.dp.commit_transaction(&id, reload).await?;
    Ok(written(
        &applied,
        StatusCode::OK,
        Some(transaction_json(&info)),
    ))
}

async fn delete_transaction(
    State(state): St,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.dp.delete_transaction(&id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn reload_json(r: &Reload) -> Value {
    json!({"id": r.id, "status": r.status.as_str(), "response": r.response, "reload_timestamp": r.timestamp})
}

async fn list_reloads(State(state): St) -> Result<Response, ApiError> {
    let list: Vec<Value> = state.dp.reloads().iter().map(reload_json).collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn get_reload(State(state): St, Path(id): Path<String>) -> Result<Response, ApiError> {
    let reload = state
        .dp
        .reload(&id)
        .ok_or_else(|| ApiError::not_found(format!("reload {id} not found")))?;
    Ok(Json(reload_json(&reload)).into_response())
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn transaction_diff(State(state): St, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(text(state.dp.transaction_diff(&id)?))
}

fn history_json(e: &HistoryEntry) -> Value {
    json!({
        "version": e.version,
        "time": e.time_rfc3339(),
        "user": e.user,
        "client": e.client,
        "origin": e.origin.as_str(),
        "changes": e.changes,
        "applied": e.applied.as_str(),
        "reload_id": e.reload_id,
        "reload_status": e.reload_status,
        "checksum": e.checksum,
    })
}

/// A version in a path.
fn version_param(text: &str) -> Result<u64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("version: '{text}' is not a positive integer")))
}

async fn list_history(State(state): St) -> Result<Response, ApiError> {
    let list: Vec<Value> = state.dp.history().iter().map(history_json).collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn history_version(
    State(state): St,
    Path(version): Path<String>,
) -> Result<Response, ApiError> {
    let version = version_param(&version)?;
    let entry = state.dp.history_entry(version)?;
    let bytes = state.dp.history_bytes(version)?;
    Ok(configuration_text(version, &entry.checksum, bytes))
}

async fn history_diff(
    State(state): St,
    Path(version): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let version = version_param(&version)?;
    let against = params::number(&q, "against")?;
    Ok(text(state.dp.history_diff(version, against)?))
}

async fn restore_version(
    State(state): St,
    Path(version): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let version = version_param(&version)?;
    let current = base_version(&q)?;
    let reload = params::reload_mode(&q)?;
    let applied = state.dp.restore_version(version, current, reload).await?;
    let body = match &applied {
        haplane_dataplane::Applied::Committed { version, .. } => state
            .dp
            .history_entry(*version)
            .ok()
            .map(|e| history_json(&e)),
        _ => None,
    };
    Ok(written(&applied, StatusCode::CREATED, body))
}
