//! Stick tables in the running HAProxy: the tables, their entries (with
//! filters and pagination), and setting an entry's data.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use haplane_model::Document;
use haplane_runtime::{StickTable, TableEntry, TableFilter};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::params::{self, json_object};
use crate::runtime::client;
use crate::AppState;

type St = State<Arc<AppState>>;

const TABLES: &str = "/services/haproxy/runtime/stick_tables";

pub fn routes() -> crate::Routes {
    crate::Routes::default()
        .route(TABLES, get(list_tables))
        .route(&format!("{TABLES}/{{name}}"), get(get_table))
        .route(
            &format!("{TABLES}/{{parent_name}}/entries"),
            get(list_entries).post(set_entry),
        )
}

/// Milliseconds of an HAProxy time (`10s`, `1m`, `500`).
fn millis(text: &str) -> Option<u64> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits.parse().ok()?;
    let factor = match &text[digits.len()..] {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    Some(n * factor)
}

/// The stored data types of the table `name`, from the `store` argument of
/// its section's `stick-table` line.
fn fields(doc: &Document, name: &str) -> Vec<Value> {
    use haplane_model::registry::{self, Place};
    let section = ["backends", "frontends"]
        .into_iter()
        .find_map(|collection| {
            let place = Place {
                resource: registry::resource(collection)?,
                parent: None,
            };
            registry::get(doc, place, name, false).ok()
        });
    let Some(store) = section
        .as_ref()
        .and_then(|s| s.get("stick_table"))
        .and_then(|t| t.get("store"))
        .and_then(Value::as_str)
    else {
        return Vec::new();
    };
    store
        .split(',')
        .filter(|f| !f.is_empty())
        .map(|f| {
            let (field, arg) = match f.split_once('(') {
                Some((n, rest)) => (n, Some(rest.trim_end_matches(')'))),
                None => (f, None),
            };
            let mut out = json!({"field": field});
            if field.ends_with("_rate") {
                out["type"] = json!("rate");
                if let Some(period) = arg.and_then(millis) {
                    out["period"] = json!(period);
                }
            } else {
                out["type"] = json!("counter");
            }
            if matches!(field, "gpc" | "gpt" | "gpc_rate") {
                if let Some(idx) = arg
                    .and_then(|a| a.split(',').next())
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    out["idx"] = json!(idx);
                }
            }
            out
        })
        .collect()
}

fn table_json(t: &StickTable, doc: &Document) -> Value {
    let mut out = json!({"name": t.name, "type": t.kind, "size": t.size, "used": t.used});
    let fields = fields(doc, &t.name);
    if !fields.is_empty() {
        out["fields"] = Value::Array(fields);
    }
    out
}

/// The reference's `stick_table_entry`.
pub fn entry_json(e: &TableEntry) -> Value {
    let mut out = json!({"id": e.id, "key": e.key, "use": e.used > 0, "exp": e.expire});
    for (name, arg, value) in &e.data {
        let number = value.parse::<i64>().ok();
        match name.as_str() {
            "gpc" | "gpt" | "gpc_rate" => {
                out[name] = json!({"idx": arg.unwrap_or(0), "value": number});
            }
            _ => out[name] = json!(number),
        }
    }
    out
}

async fn list_tables(State(state): St) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let tables = rt.tables().await?;
    let snapshot = state.dp.snapshot();
    let list: Vec<Value> = tables
        .iter()
        .map(|t| table_json(t, &snapshot.doc))
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn get_table(State(state): St, Path(name): Path<String>) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let table = rt
        .tables()
        .await?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| ApiError::not_found(format!("no stick table '{name}' in HAProxy")))?;
    Ok(Json(table_json(&table, &state.dp.snapshot().doc)).into_response())
}

/// `filter=data.gpc0 gt 3,data.conn_cnt eq 1`.
fn parse_filter(q: &params::Query) -> Result<TableFilter, ApiError> {
    let mut filter = TableFilter {
        key: q.get("key").filter(|k| !k.is_empty()).cloned(),
        data: Vec::new(),
    };
    if let Some(text) = q.get("filter").filter(|f| !f.is_empty()) {
        for part in text.split(',') {
            let words: Vec<&str> = part.split_whitespace().collect();
            let [kind, op, value] = words[..] else {
                return Err(ApiError::bad_request(format!(
                    "query parameter filter: '{part}' is not 'data.TYPE OPERATOR VALUE'"
                )));
            };
            let kind = kind.strip_prefix("data.").unwrap_or(kind);
            filter
                .data
                .push((kind.to_owned(), op.to_owned(), value.to_owned()));
        }
    }
    Ok(filter)
}

async fn list_entries(
    State(state): St,
    Path(name): Path<String>,
    Query(q): Query<params::Query>,
) -> Result<Response, ApiError> {
    let filter = parse_filter(&q)?;
    let count = params::number(&q, "count")?;
    let offset = params::number(&q, "offset")?.unwrap_or(0);
    let rt = client(&state)?;
    let (_, entries) = rt.table(&name, &filter).await?;
    let list: Vec<Value> = entries
        .iter()
        .skip(offset as usize)
        .take(count.map_or(usize::MAX, |c| c as usize))
        .map(entry_json)
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn set_entry(
    State(state): St,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let key = body
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::bad_request("key: required"))?;
    let data = body
        .get("data_type")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::bad_request("data_type: required, an object of stored data"))?;
    let mut pairs = Vec::new();
    for (field, value) in data {
        if matches!(field.as_str(), "id" | "key" | "use" | "exp") {
            continue;
        }
        let value = match value {
            Value::Number(n) => n.to_string(),
            Value::Object(o) if matches!(field.as_str(), "gpc" | "gpt" | "gpc_rate") => {
                // {idx, value} -> data.gpc(IDX)
                let idx = o.get("idx").and_then(Value::as_u64).unwrap_or(0);
                let v = o.get("value").and_then(Value::as_i64).ok_or_else(|| {
                    ApiError::bad_request(format!("data_type.{field}.value: an integer"))
                })?;
                pairs.push((format!("{field}({idx})"), v.to_string()));
                continue;
            }
            Value::Null => continue,
            other => {
                return Err(ApiError::bad_request(format!(
                    "data_type.{field}: '{other}' is not an integer"
                )))
            }
        };
        pairs.push((field.clone(), value));
    }
    let rt = client(&state)?;
    rt.set_table(&name, key, &pairs).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
