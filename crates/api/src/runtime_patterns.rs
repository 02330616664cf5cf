//! Maps and ACLs in the running HAProxy. With `force_sync=true` a map
//! change is also written to the map file, line by line: other lines and
//! comments stay as they are.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use haplane_runtime::{PatternEntry, PatternFile, Patterns, Runtime};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::params::{self, json_object};
use crate::runtime::{client, file_name};
use crate::AppState;

type St = State<Arc<AppState>>;
type Q = Query<params::Query>;

const RUNTIME: &str = "/services/haproxy/runtime";

pub fn routes() -> crate::Routes {
    crate::Routes::default()
        .route(&format!("{RUNTIME}/maps"), get(list_maps))
        .route(
            &format!("{RUNTIME}/maps/{{name}}"),
            get(get_map).put(add_map_payload).delete(clear_map),
        )
        .route(
            &format!("{RUNTIME}/maps/{{parent_name}}/entries"),
            get(|s: St, p: Path<String>| list_entries(Patterns::Map, s, p)).post(add_map_entry),
        )
        .route(
            &format!("{RUNTIME}/maps/{{parent_name}}/entries/{{id}}"),
            get(|s: St, p: Path<(String, String)>| get_entry(Patterns::Map, s, p))
                .put(replace_map_entry)
                .delete(delete_map_entry),
        )
        .route(&format!("{RUNTIME}/acls"), get(list_acls))
        .route(&format!("{RUNTIME}/acls/{{id}}"), get(get_acl))
        .route(
            &format!("{RUNTIME}/acls/{{parent_name}}/entries"),
            get(|s: St, p: Path<String>| list_entries(Patterns::Acl, s, p))
                .post(add_acl_entry)
                .put(add_acl_payload),
        )
        .route(
            &format!("{RUNTIME}/acls/{{parent_name}}/entries/{{id}}"),
            get(|s: St, p: Path<(String, String)>| get_entry(Patterns::Acl, s, p))
                .delete(delete_acl_entry),
        )
}

/// Finds a pattern file by `#ID`, ID, path, or file name.
async fn resolve(rt: &Runtime, kind: Patterns, name: &str) -> Result<PatternFile, ApiError> {
    let files = rt.pattern_files(kind).await?;
    let id = name.strip_prefix('#').unwrap_or(name);
    files
        .iter()
        .find(|f| f.id == id && (name.starts_with('#') || kind == Patterns::Acl))
        .or_else(|| files.iter().find(|f| !f.file.is_empty() && f.file == name))
        .or_else(|| {
            files
                .iter()
                .find(|f| !f.file.is_empty() && file_name(&f.file) == name)
        })
        .cloned()
        .ok_or_else(|| {
            let what = match kind {
                Patterns::Map => "map",
                Patterns::Acl => "ACL",
            };
            ApiError::not_found(format!("no {what} '{name}' is loaded in HAProxy"))
        })
}

fn map_json(f: &PatternFile) -> Value {
    let mut out = json!({"id": f.id, "file": f.file, "description": f.description, "storage_name": file_name(&f.file)});
    if let Ok(meta) = std::fs::metadata(&f.file) {
        out["size"] = json!(meta.len());
    }
    out
}

fn map_entry_json(e: &PatternEntry) -> Value {
    json!({"id": e.id, "key": e.key, "value": e.value.clone().unwrap_or_default()})
}

fn acl_entry_json(e: &PatternEntry) -> Value {
    json!({"id": e.id, "value": e.key})
}

async fn list_maps(State(state): St, Query(q): Q) -> Result<Response, ApiError> {
    let unmanaged = params::flag(&q, "include_unmanaged")?;
    let rt = client(&state)?;
    let list: Vec<Value> = rt
        .pattern_files(Patterns::Map)
        .await?
        .iter()
        .filter(|f| unmanaged || FsPath::new(&f.file).starts_with(&state.maps_dir))
        .map(map_json)
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn get_map(State(state): St, Path(name): Path<String>) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let map = resolve(&rt, Patterns::Map, &name).await?;
    Ok(Json(map_json(&map)).into_response())
}

/// `{key, value}` pairs of a JSON array of entries.
fn entries_of(body: &[u8], kind: Patterns) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(ApiError::bad_request(
            "the body must be a JSON array of entries",
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let item = item
                .as_object()
                .ok_or_else(|| ApiError::bad_request(format!("[{i}]: an entry is an object")))?;
            entry_of(item, kind).map_err(|e| ApiError::bad_request(format!("[{i}].{}", e.message)))
        })
        .collect()
}

/// The key (maps) or value (ACLs) and the map value of one entry object.
fn entry_of(
    item: &Map<String, Value>,
    kind: Patterns,
) -> Result<(String, Option<String>), ApiError> {
    let text = |field: &str| -> Result<String, ApiError> {
        match item.get(field) {
            Some(Value::String(s)) if !s.is_empty() && !s.contains(['\n', '\r']) => Ok(s.clone()),
            Some(other) => Err(ApiError::bad_request(format!(
                "{field}: '{other}' must be a non-empty string on one line"
            ))),
            None => Err(ApiError::bad_request(format!("{field}: required"))),
        }
    };
    match kind {
        Patterns::Map => Ok((text("key")?, Some(text("value")?))),
        Patterns::Acl => Ok((text("value")?, None)),
    }
}

async fn add_map_payload(
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let entries = entries_of(&body, Patterns::Map)?;
    let sync = params::flag(&q, "force_sync")?;
    let rt = client(&state)?;
    let map = resolve(&rt, Patterns::Map, &name).await?;
    let file = match sync {
        true => Some(managed_file(&state, &map, "force_sync")?),
        false => None,
    };
    rt.add_patterns(Patterns::Map, &map.reference(), None, &entries)
        .await?;
    if let Some(path) = &file {
        sync_file(path, |lines| {
            for (k, v) in &entries {
                lines.push(format!("{k} {}", v.as_deref().unwrap_or_default()));
            }
        })?;
    }
    let list: Vec<Value> = entries
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    Ok((StatusCode::CREATED, Json(Value::Array(list))).into_response())
}

async fn clear_map(
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let sync = params::flag(&q, "force_sync")?;
    let delete = params::flag(&q, "forceDelete")?;
    let rt = client(&state)?;
    let map = resolve(&rt, Patterns::Map, &name).await?;
    let file = match (sync, delete) {
        (false, false) => None,
        (_, true) => Some(managed_file(&state, &map, "forceDelete")?),
        (true, false) => Some(managed_file(&state, &map, "force_sync")?),
    };
    rt.clear_patterns(Patterns::Map, &map.reference(), None)
        .await?;
    match file {
        Some(path) if delete => std::fs::remove_file(&path).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot delete {}: {e}", path.display()),
            )
        })?,
        Some(path) => sync_file(&path, |lines| lines.retain(|l| key_of(l).is_none()))?,
        None => {}
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn entry_json(kind: Patterns, e: &PatternEntry) -> Value {
    match kind {
        Patterns::Map => map_entry_json(e),
        Patterns::Acl => acl_entry_json(e),
    }
}

/// The entries of a map or an ACL.
async fn list_entries(
    kind: Patterns,
    State(state): St,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let file = resolve(&rt, kind, &name).await?;
    let list: Vec<Value> = rt
        .pattern_entries(kind, &file.reference())
        .await?
        .iter()
        .map(|e| entry_json(kind, e))
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

/// One entry of a map or an ACL.
async fn get_entry(
    kind: Patterns,
    State(state): St,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let file = resolve(&rt, kind, &name).await?;
    let entry = find_entry(&rt, kind, &file, &id).await?;
    Ok(Json(entry_json(kind, &entry)).into_response())
}

/// The entry named `id`: its reference (`0x...`) or its key.
async fn find_entry(
    rt: &Runtime,
    kind: Patterns,
    file: &PatternFile,
    id: &str,
) -> Result<PatternEntry, ApiError> {
    let entries = rt.pattern_entries(kind, &file.reference()).await?;
    entries
        .iter()
        .find(|e| e.id == id)
        .or_else(|| entries.iter().find(|e| e.key == id))
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no entry '{id}' in {}", file.reference())))
}

async fn add_map_entry(
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let item = json_object(&body)?;
    let (key, value) = entry_of(&item, Patterns::Map)?;
    let sync = params::flag(&q, "force_sync")?;
    let rt = client(&state)?;
    let map = resolve(&rt, Patterns::Map, &name).await?;
    let file = match sync {
        true => Some(managed_file(&state, &map, "force_sync")?),
        false => None,
    };
    let entries = rt.pattern_entries(Patterns::Map, &map.reference()).await?;
    if entries.iter().any(|e| e.key == key) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("key '{key}' is already in {}", map.reference()),
        ));
    }
    rt.add_patterns(
        Patterns::Map,
        &map.reference(),
        None,
        &[(key.clone(), value.clone())],
    )
    .await?;
    if let Some(path) = &file {
        let line = format!("{key} {}", value.as_deref().unwrap_or_default());
        sync_file(path, |lines| lines.push(line))?;
    }
    let entry = find_entry(&rt, Patterns::Map, &map, &key).await?;
    Ok((StatusCode::CREATED, Json(map_entry_json(&entry))).into_response())
}

async fn replace_map_entry(
    State(state): St,
    Path((name, id)): Path<(String, String)>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let item = json_object(&body)?;
    let value = match item.get("value") {
        Some(Value::String(v)) if !v.contains(['\n', '\r']) && !v.is_empty() => v.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "value: a non-empty string on one line is required",
            ))
        }
    };
    let sync = params::flag(&q, "force_sync")?;
    let rt = client(&state)?;
    let map = resolve(&rt, Patterns::Map, &name).await?;
    let file = match sync {
        true => Some(managed_file(&state, &map, "force_sync")?),
        false => None,
    };
    let entry = find_entry(&rt, Patterns::Map, &map, &id).await?;
    rt.set_map(&map.reference(), &entry.key, &value).await?;
    if let Some(path) = &file {
        sync_file(path, |lines| {
            for line in lines.iter_mut() {
                if key_of(line) == Some(entry.key.as_str()) {
                    *line = format!("{} {value}", entry.key);
                }
            }
        })?;
    }
    let entry = find_entry(&rt, Patterns::Map, &map, &entry.id).await?;
    Ok(Json(map_entry_json(&entry)).into_response())
}

async fn delete_map_entry(
    State(state): St,
    Path((name, id)): Path<(String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let sync = params::flag(&q, "force_sync")?;
    let rt = client(&state)?;
    let map = resolve(&rt, Patterns::Map, &name).await?;
    let file = match sync {
        true => Some(managed_file(&state, &map, "force_sync")?),
        false => None,
    };
    let entry = find_entry(&rt, Patterns::Map, &map, &id).await?;
    rt.del_pattern(Patterns::Map, &map.reference(), &entry.id)
        .await?;
    if let Some(path) = &file {
        let mut removed = false;
        sync_file(path, |lines| {
            lines.retain(|l| {
                let drop = !removed && key_of(l) == Some(entry.key.as_str());
                removed |= drop;
                !drop
            })
        })?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The key of a map file line; `None` for blank lines and comments.
fn key_of(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    trimmed.split_whitespace().next()
}

/// The file of `map` if it is one of `--maps-dir`: only those are
/// written or deleted (`what` names the parameter that asked).
fn managed_file(state: &AppState, map: &PatternFile, what: &str) -> Result<PathBuf, ApiError> {
    if map.file.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{what}: map #{} was not loaded from a file",
            map.id
        )));
    }
    let path = PathBuf::from(&map.file);
    let outside = || {
        ApiError::bad_request(format!(
            "{what}: {} is not a file of --maps-dir {}; only managed maps are written",
            path.display(),
            state.maps_dir.display()
        ))
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(outside)?;
    let same_dir = match (
        path.parent().map(FsPath::canonicalize),
        state.maps_dir.canonicalize(),
    ) {
        (Some(Ok(parent)), Ok(dir)) => parent == dir,
        _ => false,
    };
    if !same_dir {
        return Err(outside());
    }
    let store =
        haplane_dataplane::FileStore::new(&state.maps_dir, haplane_dataplane::FileKind::Map);
    store
        .path(name)
        .map_err(|e| ApiError::bad_request(format!("{what}: {e}")))
}

/// Rewrites the map file: `edit` changes its lines; the file is replaced
/// atomically.
fn sync_file(path: &FsPath, edit: impl FnOnce(&mut Vec<String>)) -> Result<(), ApiError> {
    let failed = |e: std::io::Error| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("force_sync: cannot write {}: {e}", path.display()),
        )
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(failed(e)),
    };
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    edit(&mut lines);
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    haplane_dataplane::write_atomic(path, out.as_bytes()).map_err(failed)
}

/// An ACL of the running HAProxy. One written in the configuration has
/// no file: its storage name is what `show acl` quotes after `acl`, the
/// criterion (`acl 'path_beg' file 'haproxy.cfg' line 22`).
fn acl_json(f: &PatternFile) -> Value {
    let quoted = f
        .description
        .strip_prefix("acl '")
        .and_then(|rest| rest.split_once('\''))
        .map(|(name, _)| name);
    let storage_name = match (f.file.as_str(), quoted) {
        ("", Some(name)) => name,
        (file, _) => file,
    };
    json!({"id": f.id, "storage_name": storage_name, "description": f.description})
}

async fn list_acls(State(state): St) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let list: Vec<Value> = rt
        .pattern_files(Patterns::Acl)
        .await?
        .iter()
        .map(acl_json)
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn get_acl(State(state): St, Path(id): Path<String>) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let acl = resolve(&rt, Patterns::Acl, &id).await?;
    Ok(Json(acl_json(&acl)).into_response())
}

async fn add_acl_entry(
    State(state): St,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let item = json_object(&body)?;
    let (value, _) = entry_of(&item, Patterns::Acl)?;
    let rt = client(&state)?;
    let acl = resolve(&rt, Patterns::Acl, &id).await?;
    let entries = rt.pattern_entries(Patterns::Acl, &acl.reference()).await?;
    if entries.iter().any(|e| e.key == value) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("'{value}' is already in ACL {}", acl.reference()),
        ));
    }
    rt.add_patterns(
        Patterns::Acl,
        &acl.reference(),
        None,
        &[(value.clone(), None)],
    )
    .await?;
    let entry = find_entry(&rt, Patterns::Acl, &acl, &value).await?;
    Ok((StatusCode::CREATED, Json(acl_entry_json(&entry))).into_response())
}

async fn add_acl_payload(
    State(state): St,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let entries = entries_of(&body, Patterns::Acl)?;
    let rt = client(&state)?;
    let acl = resolve(&rt, Patterns::Acl, &id).await?;
    rt.add_patterns(Patterns::Acl, &acl.reference(), None, &entries)
        .await?;
    let list: Vec<Value> = entries.iter().map(|(v, _)| json!({"value": v})).collect();
    Ok((StatusCode::CREATED, Json(Value::Array(list))).into_response())
}

async fn delete_acl_entry(
    State(state): St,
    Path((id, entry)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let acl = resolve(&rt, Patterns::Acl, &id).await?;
    let entry = find_entry(&rt, Patterns::Acl, &acl, &entry).await?;
    rt.del_pattern(Patterns::Acl, &acl.reference(), &entry.id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
