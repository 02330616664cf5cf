//! SPOE files under `/services/haproxy/spoe`: the files of `--spoe-dir`,
//! their scopes, and in each scope its agents, messages and groups (one
//! row of [`ITEMS`] each), with a version and transactions per file.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use haplane_dataplane::{FileKind, FileStore, ReloadMode, SpoeTarget, TransactionStatus};
use haplane_model::spoe::{self, SpoeKind};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::params::{self, json_object, written, Query as Params};
use crate::spec::Op;
use crate::AppState;

type St = State<Arc<AppState>>;
type Q = Query<Params>;

const BASE: &str = "/services/haproxy/spoe";
const FILES: &str = "/services/haproxy/spoe/spoe_files";

/// One kind of item of a scope: its path segment, its kind, the nouns of
/// its operation ids.
struct Item {
    segment: &'static str,
    kind: SpoeKind,
    noun: &'static str,
}

const ITEMS: &[Item] = &[
    Item {
        segment: "agents",
        kind: SpoeKind::Agent,
        noun: "SpoeAgent",
    },
    Item {
        segment: "messages",
        kind: SpoeKind::Message,
        noun: "SpoeMessage",
    },
    Item {
        segment: "groups",
        kind: SpoeKind::Group,
        noun: "SpoeGroup",
    },
];

fn store(state: &AppState) -> FileStore {
    FileStore::new(&state.spoe_dir, FileKind::Spoe)
}

/// Where a write goes: a transaction, or the file at `version`.
fn target(q: &Params) -> Result<SpoeTarget, ApiError> {
    if let Some(id) = params::transaction(q) {
        return Ok(SpoeTarget::Transaction(id.to_owned()));
    }
    Ok(SpoeTarget::Live {
        version: params::number(q, "version")?,
        reload: params::reload_mode(q)?,
    })
}

pub fn routes() -> crate::Routes {
    let mut routes = crate::Routes::default()
        .route(FILES, get(list_files).post(create_file))
        .route(
            &format!("{FILES}/{{name}}"),
            get(get_file).delete(delete_file),
        )
        .route(&format!("{BASE}/{{parent_name}}/version"), get(version))
        .route(
            &format!("{FILES}/{{parent_name}}/scopes"),
            get(list_scopes).post(create_scope),
        )
        .route(
            &format!("{FILES}/{{parent_name}}/scopes/{{name}}"),
            get(get_scope).delete(delete_scope),
        )
        .route(
            &format!("{FILES}/{{parent_name}}/transactions"),
            get(list_transactions).post(start_transaction),
        )
        .route(
            &format!("{FILES}/{{parent_name}}/transactions/{{id}}"),
            get(get_transaction)
                .put(commit_transaction)
                .delete(delete_transaction),
        );
    for item in ITEMS {
        let kind = item.kind;
        routes = routes
            .route(
                &format!(
                    "{FILES}/{{parent_name}}/scopes/{{scope_name}}/{}",
                    item.segment
                ),
                get(move |s: St, p: Path<(String, String)>, q: Q| list_items(kind, s, p, q)).post(
                    move |s: St, p: Path<(String, String)>, q: Q, b: Bytes| {
                        create_item(kind, s, p, q, b)
                    },
                ),
            )
            .route(
                &format!(
                    "{FILES}/{{parent_name}}/scopes/{{scope_name}}/{}/{{name}}",
                    item.segment
                ),
                get(move |s: St, p: Path<(String, String, String)>, q: Q| get_item(kind, s, p, q))
                    .put(
                        move |s: St, p: Path<(String, String, String)>, q: Q, b: Bytes| {
                            replace_item(kind, s, p, q, b)
                        },
                    )
                    .delete(move |s: St, p: Path<(String, String, String)>, q: Q| {
                        delete_item(kind, s, p, q)
                    }),
            );
    }
    routes
}

async fn list_files(State(state): St) -> Result<Response, ApiError> {
    let files: Vec<String> = store(&state)
        .list()?
        .into_iter()
        .map(|f| f.path.display().to_string())
        .collect();
    Ok(Json(files).into_response())
}

async fn create_file(State(state): St, form: Multipart) -> Result<Response, ApiError> {
    let (name, bytes) = crate::storage::file_upload(form).await?;
    let (file, _) = state
        .dp
        .create_file(&store(&state), &name, &bytes, ReloadMode::Skip)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!(file.path.display().to_string())),
    )
        .into_response())
}

async fn get_file(State(state): St, Path(name): Path<String>) -> Result<Response, ApiError> {
    let (_, bytes) = store(&state).get(&name)?;
    Ok(Json(json!({"data": String::from_utf8_lossy(&bytes)})).into_response())
}

async fn delete_file(State(state): St, Path(name): Path<String>) -> Result<Response, ApiError> {
    state
        .dp
        .delete_file(&store(&state), &name, ReloadMode::Skip)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn version(
    State(state): St,
    Path(file): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let v = state
        .dp
        .spoe_version(&state.spoe_dir, &file, params::transaction(&q))?;
    Ok(Json(json!(v)).into_response())
}

fn read(state: &AppState, file: &str, q: &Params) -> Result<haplane_model::Document, ApiError> {
    Ok(state
        .dp
        .spoe_read(&state.spoe_dir, file, params::transaction(q))?)
}

async fn list_scopes(
    State(state): St,
    Path(file): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    Ok(Json(spoe::scopes(&read(&state, &file, &q)?)).into_response())
}

async fn get_scope(
    State(state): St,
    Path((file, name)): Path<(String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let wanted = spoe::scope_header(&name)?;
    match spoe::scopes(&read(&state, &file, &q)?)
        .into_iter()
        .find(|s| *s == wanted)
    {
        Some(scope) => Ok(Json(json!(scope)).into_response()),
        None => Err(ApiError::not_found(format!("scope {wanted} not found"))),
    }
}

async fn create_scope(
    State(state): St,
    Path(file): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let name: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let Some(name) = name.as_str().map(str::to_owned) else {
        return Err(ApiError::bad_request(
            "the body must be the scope's name, a JSON string",
        ));
    };
    let (header, applied) = state
        .dp
        .spoe_edit(&state.spoe_dir, &file, target(&q)?, |doc| {
            spoe::create_scope(doc, &name)
        })
        .await?;
    Ok(written(&applied, StatusCode::CREATED, Some(json!(header))))
}

async fn delete_scope(
    State(state): St,
    Path((file, name)): Path<(String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let ((), applied) = state
        .dp
        .spoe_edit(&state.spoe_dir, &file, target(&q)?, |doc| {
            spoe::delete_scope(doc, &name)
        })
        .await?;
    Ok(written(&applied, StatusCode::NO_CONTENT, None))
}

fn objects(items: Vec<Map<String, Value>>) -> Value {
    Value::Array(items.into_iter().map(Value::Object).collect())
}

async fn list_items(
    kind: SpoeKind,
    State(state): St,
    Path((file, scope)): Path<(String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let doc = read(&state, &file, &q)?;
    Ok(Json(objects(spoe::list(&doc, &scope, kind)?)).into_response())
}

async fn get_item(
    kind: SpoeKind,
    State(state): St,
    Path((file, scope, name)): Path<(String, String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let doc = read(&state, &file, &q)?;
    Ok(Json(spoe::get(&doc, &scope, kind, &name)?).into_response())
}

async fn create_item(
    kind: SpoeKind,
    State(state): St,
    Path((file, scope)): Path<(String, String)>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value = json_object(&body)?;
    let (item, applied) = state
        .dp
        .spoe_edit(&state.spoe_dir, &file, target(&q)?, |doc| {
            spoe::create(doc, &scope, kind, &value)?;
            let name = value
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            spoe::get(doc, &scope, kind, name)
        })
        .await?;
    Ok(written(
        &applied,
        StatusCode::CREATED,
        Some(Value::Object(item)),
    ))
}

async fn replace_item(
    kind: SpoeKind,
    State(state): St,
    Path((file, scope, name)): Path<(String, String, String)>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value = json_object(&body)?;
    let (item, applied) = state
        .dp
        .spoe_edit(&state.spoe_dir, &file, target(&q)?, |doc| {
            spoe::replace(doc, &scope, kind, &name, &value)?;
            let name = value.get("name").and_then(Value::as_str).unwrap_or(&name);
            spoe::get(doc, &scope, kind, name)
        })
        .await?;
    Ok(written(&applied, StatusCode::OK, Some(Value::Object(item))))
}

async fn delete_item(
    kind: SpoeKind,
    State(state): St,
    Path((file, scope, name)): Path<(String, String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let ((), applied) = state
        .dp
        .spoe_edit(&state.spoe_dir, &file, target(&q)?, |doc| {
            spoe::delete(doc, &scope, kind, &name)
        })
        .await?;
    Ok(written(&applied, StatusCode::NO_CONTENT, None))
}

async fn list_transactions(
    State(state): St,
    Path(file): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let status = match q.get("status") {
        None => None,
        Some(s) => Some(TransactionStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!("query parameter status: '{s}' is not a status"))
        })?),
    };
    let list = state.dp.spoe_transactions(&state.spoe_dir, &file, status)?;
    let out: Vec<Value> = list.iter().map(crate::services::transaction_json).collect();
    Ok(Json(out).into_response())
}

async fn start_transaction(
    State(state): St,
    Path(file): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let version = params::number(&q, "version")?
        .ok_or_else(|| ApiError::bad_request("query parameter version: required"))?;
    let info = state.dp.spoe_start(&state.spoe_dir, &file, version)?;
    Ok((
        StatusCode::CREATED,
        Json(crate::services::transaction_json(&info)),
    )
        .into_response())
}

async fn get_transaction(
    State(state): St,
    Path((file, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let info = state.dp.spoe_transaction(&state.spoe_dir, &file, &id)?;
    Ok(Json(crate::services::transaction_json(&info)).into_response())
}

async fn commit_transaction(
    State(state): St,
    Path((file, id)): Path<(String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let reload = match params::flag(&q, "force_reload")? {
        true => ReloadMode::Force,
        false => ReloadMode::Queue,
    };
    let (info, applied) = state
        .dp
        .spoe_commit(&state.spoe_dir, &file, &id, reload)
        .await?;
    Ok(written(
        &applied,
        StatusCode::OK,
        Some(crate::services::transaction_json(&info)),
    ))
}

async fn delete_transaction(
    State(state): St,
    Path((file, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    state
        .dp
        .spoe_delete_transaction(&state.spoe_dir, &file, &id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The SPOE operations of the specification.
pub fn ops() -> Vec<Op> {
    static OPS: std::sync::OnceLock<Vec<Op>> = std::sync::OnceLock::new();
    OPS.get_or_init(build_ops).clone()
}

/// The operations on the items of a scope: method, on one item (or the
/// list), operation id verb, summary, writes, takes a body, success
/// status, errors.
type ItemOp = (
    &'static str,
    bool,
    &'static str,
    &'static str,
    bool,
    bool,
    u16,
    &'static [u16],
);

#[rustfmt::skip]
const ITEM_OPS: &[ItemOp] = &[
    ("get", false, "getAll", "Lists the items of a scope", false, false, 200, &[404]),
    ("post", false, "create", "Adds an item to a scope", true, true, 201, &[400, 404, 409, 422]),
    ("get", true, "get", "One item of a scope", false, false, 200, &[404]),
    ("put", true, "replace", "Replaces an item of a scope", true, true, 200, &[400, 404, 409, 422]),
    ("delete", true, "delete", "Deletes an item of a scope", true, false, 204, &[404]),
];

const READ: &[&str] = &["transaction_id"];
const WRITE: &[&str] = &["transaction_id", "version"];

fn build_ops() -> Vec<Op> {
    let op = |method,
              path: &'static str,
              id: &'static str,
              summary: &'static str,
              params,
              body,
              ok,
              errors| Op {
        method,
        path,
        id,
        summary,
        tag: "Spoe",
        params,
        body,
        ok,
        errors,
        etag: false,
    };
    let files_one = leak(format!("{FILES}/{{name}}"));
    let scopes = leak(format!("{FILES}/{{parent_name}}/scopes"));
    let scope = leak(format!("{FILES}/{{parent_name}}/scopes/{{name}}"));
    let transactions = leak(format!("{FILES}/{{parent_name}}/transactions"));
    let transaction = leak(format!("{FILES}/{{parent_name}}/transactions/{{id}}"));
    let mut ops = vec![
        op(
            "get",
            FILES,
            "getAllSpoeFiles",
            "The SPOE files of --spoe-dir",
            &[],
            None,
            &[(200, Some("spoe_files"))][..],
            &[][..],
        ),
        op(
            "post",
            FILES,
            "createSpoe",
            "Uploads a SPOE file (form field file_upload)",
            &[],
            Some("multipart"),
            &[(201, Some("raw_json_string"))],
            &[400, 409, 413],
        ),
        op(
            "get",
            files_one,
            "getOneSpoeFile",
            "The content of a SPOE file",
            &[],
            None,
            &[(200, Some("spoe_file_data"))],
            &[400, 404],
        ),
        op(
            "delete",
            files_one,
            "deleteSpoeFile",
            "Deletes a SPOE file the configuration does not use",
            &[],
            None,
            &[(204, None)],
            &[400, 404, 409],
        ),
        op(
            "get",
            leak(format!("{BASE}/{{parent_name}}/version")),
            "getSpoeConfigurationVersion",
            "The version of a SPOE file",
            READ,
            None,
            &[(200, Some("integer"))],
            &[404],
        ),
        op(
            "get",
            scopes,
            "getAllSpoeScope",
            "The scopes of a SPOE file",
            READ,
            None,
            &[(200, Some("spoe_scopes"))],
            &[404],
        ),
        op(
            "post",
            scopes,
            "createSpoeScope",
            "Adds a scope",
            WRITE,
            Some("spoe_scope"),
            &[(201, Some("spoe_scope")), (202, Some("spoe_scope"))],
            &[400, 404, 409],
        ),
        op(
            "get",
            scope,
            "getSpoeScope",
            "One scope",
            READ,
            None,
            &[(200, Some("spoe_scope"))],
            &[404],
        ),
        op(
            "delete",
            scope,
            "deleteSpoeScope",
            "Deletes a scope with everything in it",
            WRITE,
            None,
            &[(204, None), (202, None)],
            &[404],
        ),
        op(
            "get",
            transactions,
            "getAllSpoeTransaction",
            "The transactions of a SPOE file",
            &["status"],
            None,
            &[(200, Some("list:transaction"))],
            &[400, 404],
        ),
        op(
            "post",
            transactions,
            "startSpoeTransaction",
            "Starts a transaction on a SPOE file",
            &["version_required"],
            None,
            &[(201, Some("transaction"))],
            &[404, 409, 429],
        ),
        op(
            "get",
            transaction,
            "getSpoeTransaction",
            "One transaction of a SPOE file",
            &[],
            None,
            &[(200, Some("transaction"))],
            &[404],
        ),
        op(
            "put",
            transaction,
            "commitSpoeTransaction",
            "Commits a transaction of a SPOE file",
            &["force_reload"],
            None,
            &[(200, Some("transaction")), (202, Some("transaction"))],
            &[400, 404, 406],
        ),
        op(
            "delete",
            transaction,
            "deleteSpoeTransaction",
            "Deletes a transaction of a SPOE file",
            &[],
            None,
            &[(204, None)],
            &[404],
        ),
    ];
    for item in ITEMS {
        let schema = item.kind.schema();
        let list: &'static str = leak(format!("list:{schema}"));
        let many = leak(format!(
            "{FILES}/{{parent_name}}/scopes/{{scope_name}}/{}",
            item.segment
        ));
        let one = leak(format!("{many}/{{name}}"));
        for &(method, single, verb, summary, write, body, status, errors) in ITEM_OPS {
            let reply = match (status, single) {
                (204, _) => None,
                (200, false) => Some(list),
                _ => Some(schema),
            };
            let mut ok = vec![(status, reply)];
            if write {
                ok.push((202, reply));
            }
            ops.push(op(
                method,
                if single { one } else { many },
                leak(format!("{verb}{}", item.noun)),
                summary,
                if write { WRITE } else { READ },
                body.then_some(schema),
                Box::leak(ok.into_boxed_slice()),
                errors,
            ));
        }
    }
    ops
}

/// The schemas of the SPOE operations.
pub fn schemas(out: &mut Map<String, Value>) {
    for item in ITEMS {
        out.insert(
            item.kind.schema().into(),
            haplane_model::spoe_schema(item.kind),
        );
    }
    out.insert(
        "spoe_files".into(),
        json!({"type": "array", "items": {"type": "string"}}),
    );
    out.insert(
        "spoe_scope".into(),
        json!({"type": "string", "description": "A scope, [NAME]"}),
    );
    out.insert(
        "spoe_scopes".into(),
        json!({"type": "array", "items": {"$ref": "#/components/schemas/spoe_scope"}}),
    );
    out.insert(
        "spoe_file_data".into(),
        json!({"type": "object", "properties": {"data": {"type": "string"}}}),
    );
    out.insert("raw_json_string".into(), json!({"type": "string"}));
}
