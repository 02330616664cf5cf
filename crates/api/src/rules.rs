//! Indexed rules under their sections: `acls`, `backend_switching_rules`,
//! `server_switching_rules`, `http_request_rules`, `http_response_rules`,
//! `http_after_response_rules`. The list can be read and replaced whole;
//! one rule read, inserted at an index, replaced or deleted.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use haplane_cfg::SectionKind;
use haplane_model as model;
use haplane_model::RuleKind;
use serde_json::Value;

use crate::error::ApiError;
use crate::params::{self, json_object, written};
use crate::AppState;

type St = State<Arc<AppState>>;
type Q = Query<params::Query>;

/// The API's path segment of a section kind.
pub fn group(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Frontend => "frontends",
        SectionKind::Backend => "backends",
        _ => "defaults",
    }
}

pub fn routes() -> Router<Arc<AppState>> {
    // The global section's log targets: no parent name in the path.
    let global = SectionKind::Global;
    let log = RuleKind::LogTarget;
    let whole = |i: usize| Path((String::new(), i));
    let mut router = Router::new()
        .route(
            "/services/haproxy/configuration/global/log_targets",
            get(move |s: St, q: Q| list_rules(global, log, s, Path(String::new()), q)).put(
                move |s: St, q: Q, b: Bytes| replace_all(global, log, s, Path(String::new()), q, b),
            ),
        )
        .route(
            "/services/haproxy/configuration/global/log_targets/{index}",
            get(move |s: St, Path(i): Path<usize>, q: Q| get_rule(global, log, s, whole(i), q))
                .post(move |s: St, Path(i): Path<usize>, q: Q, b: Bytes| {
                    insert(global, log, s, whole(i), q, b)
                })
                .put(move |s: St, Path(i): Path<usize>, q: Q, b: Bytes| {
                    replace(global, log, s, whole(i), q, b)
                })
                .delete(move |s: St, Path(i): Path<usize>, q: Q| {
                    delete(global, log, s, whole(i), q)
                }),
        );
    for kind in RuleKind::ALL {
        for &parent in kind.parents().iter().filter(|p| **p != SectionKind::Global) {
            let list = format!(
                "/services/haproxy/configuration/{}/{{parent_name}}/{}",
                group(parent),
                kind.path()
            );
            router = router
                .route(
                    &list,
                    get(move |s: St, p: Path<String>, q: Q| list_rules(parent, kind, s, p, q)).put(
                        move |s: St, p: Path<String>, q: Q, b: Bytes| {
                            replace_all(parent, kind, s, p, q, b)
                        },
                    ),
                )
                .route(
                    &format!("{list}/{{index}}"),
                    get(move |s: St, p: Path<(String, usize)>, q: Q| {
                        get_rule(parent, kind, s, p, q)
                    })
                    .post(move |s: St, p: Path<(String, usize)>, q: Q, b: Bytes| {
                        insert(parent, kind, s, p, q, b)
                    })
                    .put(move |s: St, p: Path<(String, usize)>, q: Q, b: Bytes| {
                        replace(parent, kind, s, p, q, b)
                    })
                    .delete(move |s: St, p: Path<(String, usize)>, q: Q| {
                        delete(parent, kind, s, p, q)
                    }),
                );
        }
    }
    router
}

async fn list_rules(
    parent: SectionKind,
    kind: RuleKind,
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let key = format!("rules {parent:?} {name} {kind:?}");
    let bytes = state.dp.read_memo(params::transaction(&q), &key, |doc| {
        model::list_rules(doc, parent, &name, kind).map(params::render_list)
    })?;
    Ok(params::json_bytes(bytes))
}

async fn replace_all(
    parent: SectionKind,
    kind: RuleKind,
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(ApiError::bad_request(
            "the body must be a JSON array of rules",
        ));
    };
    let rules: Vec<serde_json::Map<String, Value>> = items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(o) => Ok(o),
            other => Err(ApiError::bad_request(format!(
                "item [{i}] must be an object, got {other}"
            ))),
        })
        .collect::<Result<_, _>>()?;
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| {
            model::replace_rules(doc, parent, &name, kind, &rules)
        })
        .await?;
    Ok(written(
        &applied,
        StatusCode::OK,
        Some(params::objects(rules)),
    ))
}

async fn get_rule(
    parent: SectionKind,
    kind: RuleKind,
    State(state): St,
    Path((name, index)): Path<(String, usize)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let rule = state.dp.read(params::transaction(&q), |doc| {
        model::get_rule(doc, parent, &name, kind, index)
    })??;
    Ok(Json(Value::Object(rule)).into_response())
}

async fn insert(
    parent: SectionKind,
    kind: RuleKind,
    State(state): St,
    Path((name, index)): Path<(String, usize)>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value = json_object(&body)?;
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| {
            model::insert_rule(doc, parent, &name, kind, index, &value)
        })
        .await?;
    Ok(written(
        &applied,
        StatusCode::CREATED,
        Some(Value::Object(value)),
    ))
}

async fn replace(
    parent: SectionKind,
    kind: RuleKind,
    State(state): St,
    Path((name, index)): Path<(String, usize)>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value = json_object(&body)?;
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| {
            model::replace_rule(doc, parent, &name, kind, index, &value)
        })
        .await?;
    Ok(written(
        &applied,
        StatusCode::OK,
        Some(Value::Object(value)),
    ))
}

async fn delete(
    parent: SectionKind,
    kind: RuleKind,
    State(state): St,
    Path((name, index)): Path<(String, usize)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| {
            model::delete_rule(doc, parent, &name, kind, index)
        })
        .await?;
    Ok(written(&applied, StatusCode::NO_CONTENT, None))
}
