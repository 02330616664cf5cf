//! Configuration resources: every route comes from the model's registry
//! (`haplane_model::registry`), and one handler serves every action of
//! every resource by mapping HTTP to the registry's operations, run through
//! the `dataplane` (transaction or live commit).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{on, MethodFilter};
use haplane_model::registry::{self, Action, Place, Resource};
use haplane_model::ResourceError;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::params::{self, written, written_bytes};
use crate::AppState;

type St = State<Arc<AppState>>;
type Q = Query<params::Query>;
type P = Option<Path<HashMap<String, String>>>;

/// What one route serves: an action of a resource under one parent.
#[derive(Clone, Copy)]
struct Op {
    resource: &'static Resource,
    parent: Option<&'static Resource>,
    action: Action,
}

pub fn routes() -> crate::Routes {
    let mut by_path: Vec<(String, axum::routing::MethodRouter<Arc<AppState>>)> = Vec::new();
    for endpoint in registry::endpoints() {
        let op = Op {
            resource: endpoint.resource,
            parent: endpoint.parent,
            action: endpoint.action,
        };
        let filter = match endpoint.method {
            "get" => MethodFilter::GET,
            "post" => MethodFilter::POST,
            "put" => MethodFilter::PUT,
            _ => MethodFilter::DELETE,
        };
        let handler =
            move |s: St, p: P, q: Q, h: HeaderMap, b: params::JsonBody| handle(op, s, p, q, h, b);
        match by_path.iter_mut().find(|(path, _)| *path == endpoint.path) {
            Some((_, router)) => *router = std::mem::take(router).on(filter, handler),
            None => by_path.push((endpoint.path, on(filter, handler))),
        }
    }
    by_path
        .into_iter()
        .fold(crate::Routes::default(), |router, (path, methods)| {
            router.route(&path, methods)
        })
}

async fn handle(
    op: Op,
    State(state): St,
    path: P,
    Query(q): Q,
    headers: HeaderMap,
    body: params::JsonBody,
) -> Result<Response, ApiError> {
    let precondition = Precondition::of(&headers, op.action)?;
    let path = path.map(|Path(p)| p).unwrap_or_default();
    let parent_name = match op.resource.parent_query {
        Some(query) => match q.get(query).filter(|v| !v.is_empty()) {
            Some(name) => name.as_str(),
            None => {
                let message = format!("query parameter {query} is required");
                return Err(ApiError::bad_request(message));
            }
        },
        None => {
            let param = op.resource.parent_param.unwrap_or("parent_name");
            path.get(param).map(String::as_str).unwrap_or("")
        }
    };
    // What the running HAProxy does not have is refused, never written.
    // A child needs what its parent section needs too (`healthchecks`).
    let needs = [Some(op.resource), op.parent]
        .into_iter()
        .flatten()
        .filter_map(|r| r.since.map(|v| (v, r.collection)))
        .max();
    if let (Some((since, what)), Some(running)) = (needs, state.dp.haproxy_version()) {
        if running < since && op.action.writes() {
            return Err(ApiError::bad_request(format!(
                "{what} need HAProxy {}.{} or later; the running HAProxy is {}.{}",
                since.0, since.1, running.0, running.1
            )));
        }
    }
    let place = Place {
        resource: op.resource,
        parent: op.parent.map(|p| (p, parent_name)),
    };
    let key = op
        .resource
        .key()
        .and_then(|k| path.get(k))
        .map(String::as_str)
        .unwrap_or("");
    let full = op.resource.has_full_section() && params::flag(&q, "full_section")?;
    let dp = &state.dp;
    // Writes run on the engine's time (a group commit): they own what
    // they use.
    let owned = Owned {
        op,
        parent: parent_name.to_owned(),
        key: key.to_owned(),
        follows: state.users.follows().map(str::to_owned),
    };
    match op.action {
        Action::List => {
            let memo = format!(
                "{} {parent_name} {full}",
                op.resource.collection_path(op.parent)
            );
            let transaction = params::transaction(&q);
            let bytes = dp.read_memo(transaction, &memo, |doc| {
                registry::list(doc, place, full).map(|items| render_list(op.resource, &items))
            })?;
            let tag = dp.read_memo(transaction, &format!("{memo} etag"), |_| {
                Ok(etag(&bytes).into_bytes())
            })?;
            Ok(with_etag(params::json_bytes(bytes), &tag))
        }
        Action::Get => {
            let bytes = dp.read(params::transaction(&q), |doc| {
                registry::get(doc, place, key, full).map(|v| render(op.resource, &v))
            })??;
            let tag = etag(&bytes);
            Ok(with_etag(params::json_bytes(bytes.into()), tag.as_bytes()))
        }
        Action::Create | Action::CreateOnList | Action::Append => {
            // Named one-line children take a list too: all or none.
            let many = op.resource.takes_many() && body.is_array();
            let items = match many {
                true => body.list()?,
                false => vec![body.object()?],
            };
            let indexed = op.resource.is_indexed() && op.action != Action::Append;
            let target = precondition.target(&q)?;
            let given = items.clone();
            // A new section goes to the file `file` names.
            let placed = match params::file(&q) {
                Some(file) if op.resource.is_section() => Some(dp.new_sections_in(file)?),
                _ => None,
            };
            let (_, applied) = dp
                .edit(target, move |doc| {
                    let create = |doc: &mut haplane_model::Document| {
                        let place = owned.place();
                        let at = indexed.then_some(owned.key.as_str());
                        for (i, value) in given.iter().enumerate() {
                            let one = precondition
                                .check_absent(doc, place, value)
                                .and_then(|()| registry::create(doc, place, at, value, full));
                            one.map_err(|e| if many { e.at_item(i) } else { e })?;
                        }
                        owned.keeps_login(doc)
                    };
                    match &placed {
                        Some(placed) => placed.apply(doc, create),
                        None => create(doc),
                    }
                })
                .await?;
            let status = StatusCode::CREATED;
            let mut shown: Vec<Vec<u8>> = items
                .into_iter()
                .map(|v| render(op.resource, &without_false(v)))
                .collect();
            let body = match many {
                true => join_json(&shown),
                false => shown.pop().unwrap_or_default(),
            };
            Ok(written_bytes(&applied, status, Some(body)))
        }
        Action::Replace => {
            let (mut value, sent) = body.object_and_bytes()?;
            // The path names the item when the body does not.
            let mut named = true;
            if let Some(field) = op.resource.key().filter(|_| !op.resource.is_indexed()) {
                value.entry(field).or_insert_with(|| {
                    named = false;
                    Value::String(key.to_owned())
                });
            }
            let target = precondition.target(&q)?;
            let given = Arc::new(value);
            let value = Arc::clone(&given);
            let (_, applied) = dp
                .edit(target, move |doc| {
                    let (place, key) = (owned.place(), owned.key.as_str());
                    precondition.check(doc, op.resource, place, key, full)?;
                    registry::replace(doc, place, key, &given, full)
                })
                .await?;
            // The singleton answers what it now is; an item, the body as it
            // came when that is what it shows (named, no flag set to false).
            let shown = match op.resource.is_singleton() {
                true => dp.read(params::transaction(&q), |doc| {
                    registry::get(doc, place, key, full)
                })??,
                false if named && !holds_false(&value) => {
                    return Ok(written_bytes(&applied, StatusCode::OK, Some(sent.to_vec())))
                }
                false => Arc::unwrap_or_clone(value),
            };
            Ok(written(
                &applied,
                StatusCode::OK,
                Some(Value::Object(without_false(shown))),
            ))
        }
        Action::Delete => {
            // An entry of a list is named by the body (`traces/entries`).
            let named = match op.resource.deletes_by_value() {
                true => Some(body.object()?),
                false => None,
            };
            let (_, applied) = dp
                .edit(precondition.target(&q)?, move |doc| {
                    let (place, key) = (owned.place(), owned.key.as_str());
                    precondition.check(doc, op.resource, place, key, false)?;
                    match &named {
                        Some(value) => registry::delete_value(doc, place, value)?,
                        None => registry::delete(doc, place, key)?,
                    }
                    owned.keeps_login(doc)
                })
                .await?;
            Ok(written(&applied, StatusCode::NO_CONTENT, None))
        }
        Action::ReplaceAll => {
            // The answer is the list as given: its own bytes.
            let (given, sent) = body.list_and_bytes()?;
            let (_, applied) = dp
                .edit(precondition.target(&q)?, move |doc| {
                    let place = owned.place();
                    precondition.check_list(doc, op.resource, place)?;
                    registry::replace_all(doc, place, &given)?;
                    owned.keeps_login(doc)
                })
                .await?;
            Ok(written_bytes(&applied, StatusCode::OK, Some(sent.to_vec())))
        }
    }
}

/// What a write needs, owned: it may run on another task.
struct Owned {
    op: Op,
    parent: String,
    key: String,
    /// The userlist that authenticates the API, when it is the served one.
    follows: Option<String>,
}

impl Owned {
    fn place(&self) -> Place<'_> {
        Place {
            resource: self.op.resource,
            parent: self.op.parent.map(|p| (p, self.parent.as_str())),
        }
    }

    /// The API's own users must stay: their userlist keeps a user.
    fn keeps_login(&self, doc: &haplane_model::Document) -> Result<(), ResourceError> {
        let Some(name) = &self.follows else {
            return Ok(());
        };
        match haplane_model::userlist_users(doc, name) {
            Some(users) if !users.is_empty() => Ok(()),
            _ => Err(ResourceError::Conflict(format!(
                "userlist {name} authenticates this API: it must keep a user with a password"
            ))),
        }
    }
}

/// The conditions of a write on the resource as the caller last read it.
enum Precondition {
    None,
    /// `If-Match`: the resource's ETag is one of these (`*`: it exists).
    Matches(Vec<String>),
    /// `If-None-Match: *` on a POST: no item of that name exists.
    Absent,
}

/// A strong ETag of an answer: its checksum, quoted.
fn etag(bytes: &[u8]) -> String {
    let sum = haplane_dataplane::checksum(bytes);
    format!("\"{}\"", sum.trim_start_matches("fnv1a64:"))
}

fn with_etag(mut response: Response, tag: &[u8]) -> Response {
    if let Ok(value) = HeaderValue::from_bytes(tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

impl Precondition {
    fn of(headers: &HeaderMap, action: Action) -> Result<Precondition, ApiError> {
        let text = |name| -> Result<Option<&str>, ApiError> {
            headers
                .get(name)
                .map(|v| {
                    v.to_str()
                        .map_err(|_| ApiError::bad_request(format!("{name}: not ASCII text")))
                })
                .transpose()
        };
        let creates = matches!(
            action,
            Action::Create | Action::CreateOnList | Action::Append
        );
        if creates {
            return Ok(match text(header::IF_NONE_MATCH.as_str())? {
                Some(v) if v.trim() == "*" => Precondition::Absent,
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "If-None-Match: a write that adds takes only *",
                    ))
                }
                None => Precondition::None,
            });
        }
        if !action.writes() {
            return Ok(Precondition::None);
        }
        Ok(match text(header::IF_MATCH.as_str())? {
            Some(v) => Precondition::Matches(v.split(',').map(|t| t.trim().to_owned()).collect()),
            None => Precondition::None,
        })
    }

    /// Where the write goes: with a precondition and neither a version nor
    /// a transaction, the precondition is its only check.
    fn target(&self, q: &params::Query) -> Result<haplane_dataplane::Target, ApiError> {
        let bare = params::transaction(q).is_none() && !q.contains_key("version");
        match self {
            Precondition::None => params::target(q),
            _ if bare => Ok(haplane_dataplane::Target::Guarded {
                reload: params::reload_mode(q)?,
            }),
            _ => params::target(q),
        }
    }

    fn holds(&self, current: Result<Vec<u8>, ResourceError>) -> Result<(), ResourceError> {
        let Precondition::Matches(tags) = self else {
            return Ok(());
        };
        let bytes = match current {
            Ok(bytes) => bytes,
            Err(ResourceError::NotFound(what)) => {
                return Err(ResourceError::Changed(format!(
                    "If-Match: {what} does not exist"
                )))
            }
            Err(e) => return Err(e),
        };
        let now = etag(&bytes);
        match tags.iter().any(|t| t == "*" || *t == now) {
            true => Ok(()),
            false => Err(ResourceError::Changed(format!(
                "If-Match: the resource changed since it was read; its ETag is now {now}"
            ))),
        }
    }

    /// An item is as the caller read it (`full`: in its full form).
    fn check(
        &self,
        doc: &haplane_model::Document,
        resource: &Resource,
        place: Place<'_>,
        key: &str,
        full: bool,
    ) -> Result<(), ResourceError> {
        if matches!(self, Precondition::None) {
            return Ok(());
        }
        self.holds(registry::get(doc, place, key, full).map(|v| render(resource, &v)))
    }

    /// A whole list is as the caller read it.
    fn check_list(
        &self,
        doc: &haplane_model::Document,
        resource: &Resource,
        place: Place<'_>,
    ) -> Result<(), ResourceError> {
        if matches!(self, Precondition::None) {
            return Ok(());
        }
        self.holds(registry::list(doc, place, false).map(|items| render_list(resource, &items)))
    }

    /// No item of the name `value` gives exists (`If-None-Match: *`).
    fn check_absent(
        &self,
        doc: &haplane_model::Document,
        place: Place<'_>,
        value: &Map<String, Value>,
    ) -> Result<(), ResourceError> {
        let (Precondition::Absent, Some(field)) = (self, place.resource.key()) else {
            return Ok(());
        };
        if place.resource.is_indexed() {
            return Ok(());
        }
        let Some(name) = value.get(field).and_then(Value::as_str) else {
            return Ok(());
        };
        match registry::get(doc, place, name, false) {
            Ok(_) => Err(ResourceError::Changed(format!(
                "If-None-Match: {} '{name}' already exists",
                place.resource.title
            ))),
            Err(_) => Ok(()),
        }
    }
}

/// JSON items already rendered, as one array.
fn join_json(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"[".to_vec();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
    out
}

/// Whether a flag anywhere in `item` is set to false (which an answer
/// leaves out, see [`without_false`]).
fn holds_false(item: &Map<String, Value>) -> bool {
    fn holds(value: &Value) -> bool {
        match value {
            Value::Bool(false) => true,
            Value::Object(object) => object.values().any(holds),
            Value::Array(items) => items.iter().any(holds),
            _ => false,
        }
    }
    item.values().any(holds)
}

/// A written item as the answer shows it: a flag set to false is not in
/// the file, and the reference leaves such fields out of its answers.
fn without_false(item: Map<String, Value>) -> Map<String, Value> {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(object) => {
                object.retain(|_, v| *v != Value::Bool(false));
                object.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = Value::Object(item);
    strip(&mut value);
    match value {
        Value::Object(item) => item,
        _ => unreachable!("an object stays an object"),
    }
}

/// One item as JSON, its fields in the reference's order: sorted, with
/// the resource's `shown_last` fields after the others; nested servers
/// and binds (a full section's, a site's) likewise.
fn render(resource: &Resource, item: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::new();
    write_object(item, resource.shown_last, &mut out);
    out
}

fn render_list(resource: &Resource, items: &[Map<String, Value>]) -> Vec<u8> {
    let mut out = b"[".to_vec();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_object(item, resource.shown_last, &mut out);
    }
    out.push(b']');
    out
}

/// The fields shown last in the items held by `key`.
fn last_of(key: &str) -> &'static [&'static str] {
    let collection = match key {
        "listeners" => "binds",
        other => other,
    };
    registry::resource(collection).map_or(&[], |r| r.shown_last)
}

fn write_object(object: &Map<String, Value>, last: &[&str], out: &mut Vec<u8>) {
    out.push(b'{');
    let first = object.iter().filter(|(k, _)| !last.contains(&k.as_str()));
    let tail = last.iter().filter_map(|k| object.get_key_value(*k));
    for (i, (key, value)) in first.chain(tail).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend(serde_json::to_vec(key).expect("JSON strings serialize"));
        out.push(b':');
        // Only lists and objects hold items that have an order of their own.
        let nested = match value {
            Value::Array(_) | Value::Object(_) => last_of(key),
            _ => &[],
        };
        write_value(value, nested, out);
    }
    out.push(b'}');
}

fn write_value(value: &Value, last: &[&str], out: &mut Vec<u8>) {
    match value {
        // Items by name (a full section's `servers`): each is an item.
        Value::Object(by_name)
            if !last.is_empty()
                && !by_name.is_empty()
                && by_name.values().all(Value::is_object)
                && !last.iter().any(|k| by_name.contains_key(*k)) =>
        {
            out.push(b'{');
            for (i, (name, item)) in by_name.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(name).expect("JSON strings serialize"));
                out.push(b':');
                write_value(item, last, out);
            }
            out.push(b'}');
        }
        Value::Object(object) => write_object(object, last, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, last, out);
            }
            out.push(b']');
        }
        other => out.extend(serde_json::to_vec(other).expect("JSON values serialize")),
    }
}
