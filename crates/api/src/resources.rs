//! Configuration resources: `global`, `defaults`, `frontends`, `backends`,
//! and their `servers` and `binds`. Each handler maps HTTP to one `model`
//! operation run through the `dataplane` (transaction or live commit).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use haplane_cfg::SectionKind;
use haplane_model as model;
use haplane_model::ChildKind;
use serde_json::Value;

use crate::error::ApiError;
use crate::params::{self, json_object, written};
use crate::AppState;

type St = State<Arc<AppState>>;
type Q = Query<params::Query>;

const CONFIG: &str = "/services/haproxy/configuration";

pub fn routes() -> Router<Arc<AppState>> {
    let mut router =
        Router::new().route(&format!("{CONFIG}/global"), get(get_global).put(put_global));
    for (group, kind) in [
        ("frontends", SectionKind::Frontend),
        ("backends", SectionKind::Backend),
        ("defaults", SectionKind::Defaults),
    ] {
        let mut list = get(move |s: St, q: Q| list_sections(kind, s, q))
            .post(move |s: St, q: Q, b: Bytes| create_section(kind, s, q, b));
        // The reference also adds a defaults section with PUT on the list.
        if kind == SectionKind::Defaults {
            list = list.put(move |s: St, q: Q, b: Bytes| create_section(kind, s, q, b));
        }
        router = router.route(&format!("{CONFIG}/{group}"), list).route(
            &format!("{CONFIG}/{group}/{{name}}"),
            get(move |s: St, p: Path<String>, q: Q| get_section(kind, s, p, q))
                .put(move |s: St, p: Path<String>, q: Q, b: Bytes| {
                    replace_section(kind, s, p, q, b)
                })
                .delete(move |s: St, p: Path<String>, q: Q| delete_section(kind, s, p, q)),
        );
    }
    for (path, parent, child) in [
        (
            "backends/{parent_name}/servers",
            SectionKind::Backend,
            ChildKind::Server,
        ),
        (
            "frontends/{parent_name}/binds",
            SectionKind::Frontend,
            ChildKind::Bind,
        ),
    ] {
        router = router
            .route(
                &format!("{CONFIG}/{path}"),
                get(move |s: St, p: Path<String>, q: Q| list_children(parent, child, s, p, q))
                    .post(move |s: St, p: Path<String>, q: Q, b: Bytes| {
                        create_child(parent, child, s, p, q, b)
                    }),
            )
            .route(
                &format!("{CONFIG}/{path}/{{name}}"),
                get(move |s: St, p: Path<(String, String)>, q: Q| {
                    get_child(parent, child, s, p, q)
                })
                .put(move |s: St, p: Path<(String, String)>, q: Q, b: Bytes| {
                    replace_child(parent, child, s, p, q, b)
                })
                .delete(move |s: St, p: Path<(String, String)>, q: Q| {
                    delete_child(parent, child, s, p, q)
                }),
            );
    }
    router
        .route(
            &format!("{CONFIG}/backends/{{parent_name}}/server_templates"),
            get(list_templates).post(create_template),
        )
        .route(
            &format!("{CONFIG}/backends/{{parent_name}}/server_templates/{{prefix}}"),
            get(get_template)
                .put(replace_template)
                .delete(delete_template),
        )
}

async fn list_templates(
    State(state): St,
    Path(b): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let list = state.dp.read(params::transaction(&q), |doc| {
        model::list_templates(doc, &b)
    })??;
    Ok(Json(params::objects(list)).into_response())
}

async fn get_template(
    State(state): St,
    Path((b, prefix)): Path<(String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let value = state.dp.read(params::transaction(&q), |doc| {
        model::get_template(doc, &b, &prefix)
    })??;
    Ok(Json(Value::Object(value)).into_response())
}

async fn create_template(
    State(state): St,
    Path(b): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value = json_object(&body)?;
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| model::create_template(doc, &b, &value))
        .await?;
    Ok(written(
        &applied,
        StatusCode::CREATED,
        Some(Value::Object(value)),
    ))
}

async fn replace_template(
    State(state): St,
    Path((b, prefix)): Path<(String, String)>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut value = json_object(&body)?;
    value
        .entry("prefix")
        .or_insert_with(|| Value::String(prefix.clone()));
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| {
            model::replace_template(doc, &b, &prefix, &value)
        })
        .await?;
    Ok(written(
        &applied,
        StatusCode::OK,
        Some(Value::Object(value)),
    ))
}

async fn delete_template(
    State(state): St,
    Path((b, prefix)): Path<(String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| model::delete_template(doc, &b, &prefix))
        .await?;
    Ok(written(&applied, StatusCode::NO_CONTENT, None))
}

async fn get_global(State(state): St, Query(q): Q) -> Result<Response, ApiError> {
    let value = match params::flag(&q, "full_section")? {
        true => state
            .dp
            .read(params::transaction(&q), model::get_full_global)??,
        false => state.dp.read(params::transaction(&q), model::get_global)?,
    };
    Ok(Json(Value::Object(value)).into_response())
}

async fn put_global(State(state): St, Query(q): Q, body: Bytes) -> Result<Response, ApiError> {
    let value = json_object(&body)?;
    let target = params::target(&q)?;
    let full = params::flag(&q, "full_section")?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| match full {
            true => model::replace_full_global(doc, &value),
            false => model::replace_global(doc, &value),
        })
        .await?;
    let shown = match full {
        true => state
            .dp
            .read(params::transaction(&q), model::get_full_global)??,
        false => state.dp.read(params::transaction(&q), model::get_global)?,
    };
    Ok(written(
        &applied,
        StatusCode::OK,
        Some(Value::Object(shown)),
    ))
}

async fn list_sections(
    kind: SectionKind,
    State(state): St,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let full = params::flag(&q, "full_section")?;
    let list = state.dp.read(params::transaction(&q), |doc| match full {
        true => model::list_full_sections(doc, kind),
        false => Ok(model::list_sections(doc, kind)),
    })??;
    Ok(Json(params::objects(list)).into_response())
}

async fn get_section(
    kind: SectionKind,
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let full = params::flag(&q, "full_section")?;
    let value = state.dp.read(params::transaction(&q), |doc| match full {
        true => model::get_full_section(doc, kind, &name),
        false => model::get_section(doc, kind, &name),
    })??;
    Ok(Json(Value::Object(value)).into_response())
}

async fn create_section(
    kind: SectionKind,
    State(state): St,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value = json_object(&body)?;
    let target = params::target(&q)?;
    let full = params::flag(&q, "full_section")?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| match full {
            true => model::create_full_section(doc, kind, &value),
            false => model::create_section(doc, kind, &value),
        })
        .await?;
    Ok(written(
        &applied,
        StatusCode::CREATED,
        Some(Value::Object(value)),
    ))
}

async fn replace_section(
    kind: SectionKind,
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut value = json_object(&body)?;
    value
        .entry("name")
        .or_insert_with(|| Value::String(name.clone()));
    let target = params::target(&q)?;
    let full = params::flag(&q, "full_section")?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| match full {
            true => model::replace_full_section(doc, kind, &name, &value),
            false => model::replace_section(doc, kind, &name, &value),
        })
        .await?;
    Ok(written(
        &applied,
        StatusCode::OK,
        Some(Value::Object(value)),
    ))
}

async fn delete_section(
    kind: SectionKind,
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| model::delete_section(doc, kind, &name))
        .await?;
    Ok(written(&applied, StatusCode::NO_CONTENT, None))
}

async fn list_children(
    parent: SectionKind,
    child: ChildKind,
    State(state): St,
    Path(p): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let key = format!("children {parent:?} {p} {child:?}");
    let bytes = state.dp.read_memo(params::transaction(&q), &key, |doc| {
        model::list_children(doc, parent, &p, child).map(params::render_list)
    })?;
    Ok(params::json_bytes(bytes))
}

async fn get_child(
    parent: SectionKind,
    child: ChildKind,
    State(state): St,
    Path((p, name)): Path<(String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let value = state.dp.read(params::transaction(&q), |doc| {
        model::get_child(doc, parent, &p, child, &name)
    })??;
    Ok(Json(Value::Object(value)).into_response())
}

async fn create_child(
    parent: SectionKind,
    child: ChildKind,
    State(state): St,
    Path(p): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value = json_object(&body)?;
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| {
            model::create_child(doc, parent, &p, child, &value)
        })
        .await?;
    Ok(written(
        &applied,
        StatusCode::CREATED,
        Some(Value::Object(value)),
    ))
}

async fn replace_child(
    parent: SectionKind,
    child: ChildKind,
    State(state): St,
    Path((p, name)): Path<(String, String)>,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut value = json_object(&body)?;
    value
        .entry("name")
        .or_insert_with(|| Value::String(name.clone()));
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| {
            model::replace_child(doc, parent, &p, child, &name, &value)
        })
        .await?;
    Ok(written(
        &applied,
        StatusCode::OK,
        Some(Value::Object(value)),
    ))
}

async fn delete_child(
    parent: SectionKind,
    child: ChildKind,
    State(state): St,
    Path((p, name)): Path<(String, String)>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let target = params::target(&q)?;
    let (_, applied) = state
        .dp
        .edit(target, |doc| {
            model::delete_child(doc, parent, &p, child, &name)
        })
        .await?;
    Ok(written(&applied, StatusCode::NO_CONTENT, None))
}
