//! Managed files under `/services/haproxy/storage`: maps, certificates,
//! crt-lists (with their entries) and general use files. Each kind is one
//! row of [`KINDS`]; its routes and its operations in the specification
//! come from that row.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use haplane_dataplane::{
    certs, crt_list_entries, CrtListLine, FileApplied, FileKind, FileStore, ReloadMode, StoredFile,
};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::params::{self, Query as Params};
use crate::spec::Op;
use crate::AppState;

type St = State<Arc<AppState>>;
type Q = Query<Params>;

const BASE: &str = "/services/haproxy/storage";

/// One kind of managed file, as the API shows it.
#[derive(Debug)]
pub(crate) struct Kind {
    /// The path segment under `/storage`.
    segment: &'static str,
    file: FileKind,
    /// The schema of one file in answers.
    schema: &'static str,
    /// Operation ids: list, create, get one, replace, delete.
    ids: [&'static str; 5],
    /// GET of one file answers its details as JSON (certificates) rather
    /// than its bytes.
    details: bool,
    /// PUT takes a `file_upload` form (general files) rather than the
    /// file itself as the body.
    replace_form: bool,
    /// Creating or deleting one reloads HAProxy (202 while queued); the
    /// others reload only when the configuration names the file.
    reloads: bool,
    /// A done PUT answers the file's JSON (200) rather than 204.
    replace_json: bool,
    create_params: &'static [&'static str],
    delete_params: &'static [&'static str],
}

const RELOAD: &[&str] = &["skip_reload", "force_reload"];

pub(crate) const KINDS: &[Kind] = &[
    Kind {
        segment: "maps",
        file: FileKind::Map,
        schema: "map",
        ids: [
            "getAllStorageMapFiles",
            "createStorageMapFile",
            "getOneStorageMap",
            "replaceStorageMapFile",
            "deleteStorageMap",
        ],
        details: false,
        replace_form: false,
        reloads: false,
        replace_json: false,
        create_params: &[],
        delete_params: &[],
    },
    Kind {
        segment: "ssl_certificates",
        file: FileKind::Certificate,
        schema: "ssl_certificate",
        ids: [
            "getAllStorageSSLCertificates",
            "createStorageSSLCertificate",
            "getOneStorageSSLCertificate",
            "replaceStorageSSLCertificate",
            "deleteStorageSSLCertificate",
        ],
        details: true,
        replace_form: false,
        reloads: true,
        replace_json: true,
        create_params: RELOAD,
        delete_params: RELOAD,
    },
    Kind {
        segment: "ssl_crt_lists",
        file: FileKind::CrtList,
        schema: "ssl_crt_list_file",
        ids: [
            "getAllStorageSSLCrtListFiles",
            "createStorageSSLCrtListFile",
            "getOneStorageSSLCrtListFile",
            "replaceStorageSSLCrtListFile",
            "deleteStorageSSLCrtListFile",
        ],
        details: false,
        replace_form: false,
        reloads: true,
        replace_json: true,
        create_params: &["force_reload"],
        delete_params: RELOAD,
    },
    Kind {
        segment: "general",
        file: FileKind::General,
        schema: "general_file",
        ids: [
            "getAllStorageGeneralFiles",
            "createStorageGeneralFile",
            "getOneStorageGeneralFile",
            "replaceStorageGeneralFile",
            "deleteStorageGeneralFile",
        ],
        details: false,
        replace_form: true,
        reloads: false,
        replace_json: false,
        create_params: &[],
        delete_params: &[],
    },
];

fn crt_lists() -> &'static Kind {
    &KINDS[2]
}

impl Kind {
    fn store(&self, state: &AppState) -> FileStore {
        let dir = match self.file {
            FileKind::Map => &state.maps_dir,
            FileKind::Certificate | FileKind::CrtList => &state.ssl_certs_dir,
            FileKind::General => &state.general_storage_dir,
            FileKind::Spoe => &state.spoe_dir,
        };
        FileStore::new(dir, self.file)
    }

    /// One file in answers; certificates with what they hold.
    fn json(&self, file: &StoredFile, bytes: Option<&[u8]>) -> Value {
        let mut out = Map::new();
        out.insert("file".into(), json!(file.path.display().to_string()));
        out.insert("storage_name".into(), json!(file.name));
        out.insert("size".into(), json!(file.size));
        if let (true, Some(bytes)) = (self.details, bytes) {
            out.extend(certs::details(bytes));
        }
        Value::Object(out)
    }

    /// How a write that the operation does not let the client time loads:
    /// at once when the configuration names the file, else not at all.
    fn mode(
        &self,
        state: &AppState,
        name: &str,
        q: &Params,
        reloads: bool,
    ) -> Result<ReloadMode, ApiError> {
        if reloads {
            return params::reload_mode(q);
        }
        let store = self.store(state);
        let named = store
            .path(name)
            .ok()
            .and_then(|p| state.dp.file_user(&p))
            .is_some();
        Ok(if named {
            ReloadMode::Force
        } else {
            ReloadMode::Skip
        })
    }
}

pub fn routes() -> crate::Routes {
    let mut routes = crate::Routes::default();
    for kind in KINDS {
        routes = routes
            .route(
                &format!("{BASE}/{}", kind.segment),
                get(move |s: St| list(kind, s))
                    .post(move |s: St, q: Q, m: Multipart| create(kind, s, q, m)),
            )
            .route(
                &format!("{BASE}/{}/{{name}}", kind.segment),
                get(move |s: St, p: Path<String>| show(kind, s, p))
                    .put(
                        move |s: St, p: Path<String>, q: Q, r: axum::extract::Request| {
                            replace(kind, s, p, q, r)
                        },
                    )
                    .delete(move |s: St, p: Path<String>, q: Q| delete(kind, s, p, q)),
            );
    }
    routes.route(
        &format!("{BASE}/ssl_crt_lists/{{name}}/entries"),
        get(list_entries).post(add_entry).delete(delete_entry),
    )
}

/// The name and bytes of the form's `file_upload` field. A field past
/// the body limit is 413, as a body is.
pub(crate) async fn file_upload(mut form: Multipart) -> Result<(String, Bytes), ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, format!("file_upload: {e}"))
        } else {
            ApiError::bad_request(format!("the body is not a valid multipart form: {e}"))
        }
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        if field.name() != Some("file_upload") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(bad)?;
        return Ok((name, bytes));
    }
    Err(ApiError::bad_request("file_upload: required"))
}

/// The answer to a write: 202 with `Reload-ID` while the reload is
/// queued, else `done`.
fn answered(applied: &FileApplied, done: StatusCode, body: Option<Value>) -> Response {
    let (status, reload) = match applied {
        FileApplied::Reload {
            reload,
            forced: false,
        } => (StatusCode::ACCEPTED, Some(reload.id.clone())),
        FileApplied::Reload {
            reload,
            forced: true,
        } => match params::reload_failed(reload) {
            Some(error) => return error.into_response(),
            None => (done, None),
        },
        _ => (done, None),
    };
    let mut response = match body {
        Some(body) if status != StatusCode::NO_CONTENT => (status, Json(body)).into_response(),
        _ => status.into_response(),
    };
    if let Some(id) = reload.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert("Reload-ID", id);
    }
    response
}

async fn list(kind: &'static Kind, State(state): St) -> Result<Response, ApiError> {
    let store = kind.store(&state);
    let mut out = Vec::new();
    for file in store.list()? {
        let bytes = match kind.details {
            true => std::fs::read(&file.path).ok(),
            false => None,
        };
        out.push(kind.json(&file, bytes.as_deref()));
    }
    Ok(Json(Value::Array(out)).into_response())
}

async fn create(
    kind: &'static Kind,
    State(state): St,
    Query(q): Q,
    form: Multipart,
) -> Result<Response, ApiError> {
    let (name, bytes) = file_upload(form).await?;
    let mode = kind.mode(&state, &name, &q, kind.reloads)?;
    let store = kind.store(&state);
    let (file, applied) = state.dp.create_file(&store, &name, &bytes, mode).await?;
    Ok(answered(
        &applied,
        StatusCode::CREATED,
        Some(kind.json(&file, Some(&bytes))),
    ))
}

async fn show(
    kind: &'static Kind,
    State(state): St,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let (file, bytes) = kind.store(&state).get(&name)?;
    if kind.details {
        return Ok(Json(kind.json(&file, Some(&bytes))).into_response());
    }
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

async fn replace(
    kind: &'static Kind,
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    use axum::extract::FromRequest;
    let bytes = if kind.replace_form {
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::bad_request(format!("the body is not a multipart form: {e}")))?;
        file_upload(form).await?.1
    } else {
        Bytes::from_request(request, &state)
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?
    };
    let mode = params::reload_mode(&q)?;
    let store = kind.store(&state);
    let (file, applied) = state.dp.replace_file(&store, &name, &bytes, mode).await?;
    let (done, body) = match kind.replace_json {
        true => (StatusCode::OK, Some(kind.json(&file, Some(&bytes)))),
        false => (StatusCode::NO_CONTENT, None),
    };
    Ok(answered(&applied, done, body))
}

async fn delete(
    kind: &'static Kind,
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let mode = match kind.reloads {
        true => params::reload_mode(&q)?,
        false => ReloadMode::Skip,
    };
    let applied = state
        .dp
        .delete_file(&kind.store(&state), &name, mode)
        .await?;
    Ok(answered(&applied, StatusCode::NO_CONTENT, None))
}

fn entry_json(e: &CrtListLine) -> Value {
    let mut out =
        json!({"file": e.file, "line_number": e.line_number, "ssl_bind_config": e.ssl_bind_config});
    if !e.sni_filter.is_empty() {
        out["sni_filter"] = json!(e.sni_filter);
    }
    out
}

async fn list_entries(State(state): St, Path(name): Path<String>) -> Result<Response, ApiError> {
    let (_, bytes) = crt_lists().store(&state).get(&name)?;
    let entries = crt_list_entries(&bytes).map_err(ApiError::bad_request)?;
    Ok(Json(Value::Array(entries.iter().map(entry_json).collect())).into_response())
}

/// A crt-list entry from its JSON: a certificate, options, filters.
fn entry_of(body: &[u8]) -> Result<CrtListLine, ApiError> {
    let map = params::json_object(body)?;
    let text = |key: &str| -> Result<String, ApiError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(ApiError::bad_request(format!(
                "{key}: expected a string, got {other}"
            ))),
        }
    };
    let file = text("file")?;
    let options = text("ssl_bind_config")?;
    let filters: Vec<String> = match map.get("sni_filter") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::bad_request("sni_filter: expected a list of strings"))?,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "sni_filter: expected a list, got {other}"
            )))
        }
    };
    // One word each: a crt-list has no quoting.
    let word = |what: &str, w: &str| {
        if w.is_empty()
            || w.chars()
                .any(|c| c.is_whitespace() || c == '#' || c == '[' || c == ']')
        {
            Err(ApiError::bad_request(format!(
                "{what}: '{w}' must be one word without '#', '[' or ']'"
            )))
        } else {
            Ok(())
        }
    };
    word("file", &file)?;
    for f in &filters {
        word("sni_filter", f)?;
    }
    if options.contains(['[', ']', '\n', '#']) {
        return Err(ApiError::bad_request(
            "ssl_bind_config: must not hold '[', ']', '#' or a line break",
        ));
    }
    Ok(CrtListLine {
        line_number: 0,
        file,
        ssl_bind_config: options.trim().to_owned(),
        sni_filter: filters,
    })
}

/// Writes a crt-list's new bytes; `force_reload` alone says when it loads.
async fn write_crt_list(
    state: &AppState,
    name: &str,
    q: &Params,
    bytes: Vec<u8>,
) -> Result<FileApplied, ApiError> {
    let mode = match params::flag(q, "force_reload")? {
        true => ReloadMode::Force,
        false => ReloadMode::Queue,
    };
    let store = crt_lists().store(state);
    Ok(state.dp.replace_file(&store, name, &bytes, mode).await?.1)
}

async fn add_entry(
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut entry = entry_of(&body)?;
    let (_, mut bytes) = crt_lists().store(&state).get(&name)?;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    entry.line_number = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    bytes.extend_from_slice(entry.render().as_bytes());
    bytes.push(b'\n');
    let applied = write_crt_list(&state, &name, &q, bytes).await?;
    Ok(answered(
        &applied,
        StatusCode::CREATED,
        Some(entry_json(&entry)),
    ))
}

async fn delete_entry(
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let certificate = q
        .get("certificate")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("query parameter certificate: required"))?;
    let line = params::number(&q, "line_number")?
        .ok_or_else(|| ApiError::bad_request("query parameter line_number: required"))?;
    let (_, bytes) = crt_lists().store(&state).get(&name)?;
    let entries = crt_list_entries(&bytes).map_err(ApiError::bad_request)?;
    if !entries
        .iter()
        .any(|e| e.line_number as u64 == line && &e.file == certificate)
    {
        return Err(ApiError::not_found(format!(
            "crt-list '{name}' has no entry for {certificate} at line {line}"
        )));
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut kept: String = text
        .split_inclusive('\n')
        .enumerate()
        .filter(|(i, _)| *i as u64 + 1 != line)
        .map(|(_, l)| l)
        .collect();
    if !kept.is_empty() && !kept.ends_with('\n') {
        kept.push('\n');
    }
    let applied = write_crt_list(&state, &name, &q, kept.into_bytes()).await?;
    Ok(answered(&applied, StatusCode::NO_CONTENT, None))
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn leak_ok(ok: Vec<(u16, Option<&'static str>)>) -> &'static [(u16, Option<&'static str>)] {
    Box::leak(ok.into_boxed_slice())
}

/// The storage operations of the specification, from [`KINDS`].
pub fn ops() -> Vec<Op> {
    static OPS: std::sync::OnceLock<Vec<Op>> = std::sync::OnceLock::new();
    OPS.get_or_init(build_ops).clone()
}

fn build_ops() -> Vec<Op> {
    let mut ops = Vec::new();
    let op = |method, path, id, summary: String, params, body, ok, errors| Op {
        method,
        path,
        id,
        summary: leak(summary),
        tag: "Storage",
        params,
        body,
        ok,
        errors,
        etag: false,
    };
    for kind in KINDS {
        let noun = kind.file.noun();
        let base = leak(format!("{BASE}/{}", kind.segment));
        let one = leak(format!("{BASE}/{}/{{name}}", kind.segment));
        let schema = kind.schema;
        let list = leak(format!("list:{schema}"));
        let queued = |done: (u16, Option<&'static str>), reloads: bool| {
            let mut ok = vec![done];
            if reloads {
                ok.push((202, done.1));
            }
            leak_ok(ok)
        };
        let reply = if kind.details { schema } else { "binary" };
        let replaced = match kind.replace_json {
            true => (200, Some(schema)),
            false => (204, None),
        };
        let body = if kind.replace_form {
            "multipart"
        } else {
            "raw"
        };
        ops.push(op(
            "get",
            base,
            kind.ids[0],
            format!("Lists the managed {noun}s"),
            &[],
            None,
            leak_ok(vec![(200, Some(list))]),
            &[],
        ));
        ops.push(op(
            "post",
            base,
            kind.ids[1],
            format!("Uploads a {noun} (form field file_upload, named after its file name)"),
            kind.create_params,
            Some("multipart"),
            queued((201, Some(schema)), kind.reloads),
            &[400, 409, 413],
        ));
        ops.push(op(
            "get",
            one,
            kind.ids[2],
            format!("One {noun}"),
            &[],
            None,
            leak_ok(vec![(200, Some(reply))]),
            &[400, 404],
        ));
        ops.push(op(
            "put",
            one,
            kind.ids[3],
            format!(
                "Replaces the content of a {noun}, through the runtime API when HAProxy allows it"
            ),
            RELOAD,
            Some(body),
            queued(replaced, true),
            &[400, 404, 413],
        ));
        ops.push(op(
            "delete",
            one,
            kind.ids[4],
            format!("Deletes a {noun} the configuration does not use"),
            kind.delete_params,
            None,
            queued((204, None), kind.reloads),
            &[400, 404, 409],
        ));
    }
    let entries = leak(format!("{BASE}/ssl_crt_lists/{{name}}/entries"));
    ops.push(op(
        "get",
        entries,
        "getStorageSSLCrtListEntries",
        "The entries of a crt-list".into(),
        &[],
        None,
        leak_ok(vec![(200, Some("list:ssl_crt_list_entry"))]),
        &[404],
    ));
    ops.push(op(
        "post",
        entries,
        "createStorageSSLCrtListEntry",
        "Appends an entry to a crt-list".into(),
        &["force_reload"],
        Some("ssl_crt_list_entry"),
        leak_ok(vec![(201, Some("ssl_crt_list_entry")), (202, None)]),
        &[400, 404],
    ));
    ops.push(op(
        "delete",
        entries,
        "deleteStorageSSLCrtListEntry",
        "Deletes an entry of a crt-list".into(),
        &["crt_list_certificate", "line_number", "force_reload"],
        None,
        leak_ok(vec![(204, None), (202, None)]),
        &[400, 404],
    ));
    ops
}

/// Query parameters and schemas of the storage operations.
pub fn components(parameters: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    // `certificate` is also a path parameter elsewhere: this one has its own key.
    parameters.insert(
        "crt_list_certificate".into(),
        json!({"name": "certificate", "in": "query", "required": true, "schema": {"type": "string"},
               "description": "The certificate file the entry names"}),
    );
    let file = json!({"type": "object", "properties": {
        "file": {"type": "string"}, "storage_name": {"type": "string"},
        "description": {"type": "string"}, "size": {"type": "integer", "nullable": true,
        "description": "File size in bytes."}}});
    schemas.insert("ssl_crt_list_file".into(), file.clone());
    let mut general = file;
    general["properties"]["id"] = json!({"type": "string"});
    schemas.insert("general_file".into(), general);
}
