//! Sites, the reference's simplified view (deprecated there, kept for its
//! clients): a site is a frontend (its `service`: mode, maxconn, HTTP
//! connection mode and its binds as `listeners`) and the backends it sends
//! traffic to (its `farms`): the `default_backend` (`use_as: default`) and
//! each `use_backend` rule (`use_as: conditional`, with its condition).
//! Everything is read from and written to those sections and lines; a site
//! has no line of its own.

use haplane_cfg::{Document, SectionKind};
use serde_json::{json, Map, Value};

use crate::child::ChildKind;
use crate::error::ModelError;
use crate::resource::{self as res, ResourceError};
use crate::rule::{self, RuleKind};

/// The frontend fields a site's service shows.
const SERVICE: &[&str] = &["mode", "maxconn", "http_connection_mode"];
/// The backend fields a farm shows.
const FARM: &[&str] = &["mode", "balance", "forwardfor"];

fn pick(from: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| from.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect()
}

fn farm(doc: &Document, name: &str, mut head: Map<String, Value>) -> Map<String, Value> {
    if let Ok(backend) = res::get_section(doc, SectionKind::Backend, name) {
        head.extend(pick(&backend, FARM));
        let servers = res::list_children(doc, SectionKind::Backend, name, ChildKind::Server)
            .unwrap_or_default();
        if !servers.is_empty() {
            head.insert(
                "servers".into(),
                Value::Array(servers.into_iter().map(Value::Object).collect()),
            );
        }
    }
    head
}

/// The site of frontend `name`.
pub fn get_site(doc: &Document, name: &str) -> Result<Map<String, Value>, ResourceError> {
    let frontend = res::get_section(doc, SectionKind::Frontend, name)
        .map_err(|_| ResourceError::NotFound(format!("site '{name}'")))?;
    let mut service = pick(&frontend, SERVICE);
    let listeners = res::list_children(doc, SectionKind::Frontend, name, ChildKind::Bind)?;
    if !listeners.is_empty() {
        let listeners = listeners.into_iter().map(Value::Object).collect();
        service.insert("listeners".into(), Value::Array(listeners));
    }
    let mut farms = Vec::new();
    if let Some(default) = frontend.get("default_backend").and_then(Value::as_str) {
        let head = Map::from_iter([
            ("name".to_owned(), json!(default)),
            ("use_as".to_owned(), json!("default")),
        ]);
        farms.push(Value::Object(farm(doc, default, head)));
    }
    let rules = rule::list_rules(doc, SectionKind::Frontend, name, RuleKind::BackendSwitching)?;
    for rule in rules {
        let Some(backend) = rule.get("name").and_then(Value::as_str) else {
            continue;
        };
        let mut head = pick(&rule, &["cond", "cond_test"]);
        head.insert("name".into(), json!(backend));
        head.insert("use_as".into(), json!("conditional"));
        farms.push(Value::Object(farm(doc, backend, head)));
    }
    let mut site = Map::new();
    site.insert("name".into(), json!(name));
    if !service.is_empty() {
        site.insert("service".into(), Value::Object(service));
    }
    if !farms.is_empty() {
        site.insert("farms".into(), Value::Array(farms));
    }
    Ok(site)
}

/// Every site: one per frontend.
pub fn list_sites(doc: &Document) -> Result<Vec<Map<String, Value>>, ResourceError> {
    res::list_sections(doc, SectionKind::Frontend)
        .iter()
        .filter_map(|f| f.get("name").and_then(Value::as_str))
        .map(|name| get_site(doc, name))
        .collect()
}

fn object<'v>(value: &'v Value, field: &str) -> Result<&'v Map<String, Value>, ModelError> {
    value
        .as_object()
        .ok_or_else(|| ModelError::invalid(field, format!("expected an object, got {value}")))
}

fn list<'v>(site: &'v Map<String, Value>, field: &str) -> Result<Vec<&'v Value>, ModelError> {
    match site.get(field) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(items)) => Ok(items.iter().collect()),
        Some(other) => Err(ModelError::invalid(
            field,
            format!("expected an array, got {other}"),
        )),
    }
}

/// The parts of a site's JSON, checked.
struct Parts<'v> {
    name: &'v str,
    service: Map<String, Value>,
    listeners: Vec<&'v Map<String, Value>>,
    farms: Vec<&'v Map<String, Value>>,
}

fn parts(site: &Map<String, Value>) -> Result<Parts<'_>, ModelError> {
    if let Some(unknown) = site
        .keys()
        .find(|k| !["name", "service", "farms"].contains(&k.as_str()))
    {
        return Err(ModelError::UnknownField {
            field: unknown.clone(),
        });
    }
    let name = match site.get("name") {
        Some(Value::String(n)) if res::valid_name(n) => n.as_str(),
        Some(other) => {
            let message = format!("{other} must match ^[A-Za-z0-9-_.:]+$");
            return Err(ModelError::invalid("name", message));
        }
        None => {
            return Err(ModelError::MissingField {
                field: "name".into(),
            })
        }
    };
    let (service, listeners) = match site.get("service") {
        None | Some(Value::Null) => (Map::new(), vec![]),
        Some(value) => {
            let service = object(value, "service")?;
            if let Some(unknown) = service
                .keys()
                .find(|k| !SERVICE.contains(&k.as_str()) && *k != "listeners")
            {
                return Err(ModelError::UnknownField {
                    field: format!("service.{unknown}"),
                });
            }
            let listeners = list(service, "listeners")?
                .into_iter()
                .map(|l| object(l, "service.listeners"))
                .collect::<Result<_, _>>()?;
            (pick(service, SERVICE), listeners)
        }
    };
    let farms: Vec<&Map<String, Value>> = list(site, "farms")?
        .into_iter()
        .map(|f| object(f, "farms"))
        .collect::<Result<_, _>>()?;
    let mut defaults = 0;
    for farm in &farms {
        let known = ["name", "use_as", "cond", "cond_test", "servers"];
        if let Some(unknown) = farm
            .keys()
            .find(|k| !known.contains(&k.as_str()) && !FARM.contains(&k.as_str()))
        {
            return Err(ModelError::UnknownField {
                field: format!("farms.{unknown}"),
            });
        }
        match farm.get("use_as").and_then(Value::as_str) {
            Some("default") => defaults += 1,
            Some("conditional") => {
                if farm.get("cond").is_none() || farm.get("cond_test").is_none() {
                    return Err(ModelError::MissingField {
                        field: "farms.cond, farms.cond_test".into(),
                    });
                }
            }
            _ => {
                let message = "expected default or conditional";
                return Err(ModelError::invalid("farms.use_as", message));
            }
        }
    }
    if defaults > 1 {
        let message = "a site has one default farm at most";
        return Err(ModelError::invalid("farms.use_as", message));
    }
    Ok(Parts {
        name,
        service,
        listeners,
        farms,
    })
}

/// Makes backend `farm` hold the farm's fields and exactly its servers.
fn write_farm(doc: &mut Document, farm: &Map<String, Value>) -> Result<(), ResourceError> {
    let name = farm.get("name").and_then(Value::as_str).unwrap_or_default();
    let own = pick(farm, FARM);
    match res::get_section(doc, SectionKind::Backend, name) {
        Ok(mut backend) => {
            for key in FARM {
                backend.remove(*key);
            }
            backend.extend(own);
            res::replace_section(doc, SectionKind::Backend, name, &backend)?;
        }
        Err(_) => {
            let mut backend = own;
            backend.insert("name".into(), json!(name));
            res::create_section(doc, SectionKind::Backend, &backend)?;
        }
    }
    let wanted = list(farm, "servers")?
        .into_iter()
        .map(|s| object(s, "farms.servers"))
        .collect::<Result<Vec<_>, _>>()?;
    sync_children(doc, SectionKind::Backend, name, ChildKind::Server, &wanted)?;
    Ok(())
}

/// Makes the `kind` lines of section `name` exactly `wanted`, by name:
/// the others go, those that exist are replaced, the new ones added.
fn sync_children(
    doc: &mut Document,
    parent: SectionKind,
    name: &str,
    kind: ChildKind,
    wanted: &[&Map<String, Value>],
) -> Result<(), ResourceError> {
    let name_of = |c: &Map<String, Value>| {
        c.get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let existing: Vec<String> = res::list_children(doc, parent, name, kind)?
        .iter()
        .map(name_of)
        .collect();
    for old in &existing {
        if !wanted.iter().any(|w| name_of(w) == *old) {
            res::delete_child(doc, parent, name, kind, old)?;
        }
    }
    for child in wanted {
        let child_name = name_of(child);
        match existing.contains(&child_name) {
            true => res::replace_child(doc, parent, name, kind, &child_name, child)?,
            false => res::create_child(doc, parent, name, kind, child)?,
        }
    }
    Ok(())
}

/// Writes a site into the frontend `name` (which exists): its service
/// fields, exactly its listeners, its farms and the lines that use them.
fn write_site(doc: &mut Document, parts: &Parts<'_>) -> Result<(), ResourceError> {
    let name = parts.name;
    let mut frontend = res::get_section(doc, SectionKind::Frontend, name)?;
    for key in SERVICE.iter().chain(&["default_backend"]) {
        frontend.remove(*key);
    }
    frontend.extend(parts.service.clone());
    if let Some(default) = parts
        .farms
        .iter()
        .find(|f| f.get("use_as").and_then(Value::as_str) == Some("default"))
    {
        frontend.insert("default_backend".into(), default["name"].clone());
    }
    for farm in &parts.farms {
        write_farm(doc, farm)?;
    }
    res::replace_section(doc, SectionKind::Frontend, name, &frontend)?;
    sync_children(
        doc,
        SectionKind::Frontend,
        name,
        ChildKind::Bind,
        &parts.listeners,
    )?;
    let rules: Vec<Map<String, Value>> = parts
        .farms
        .iter()
        .filter(|f| f.get("use_as").and_then(Value::as_str) == Some("conditional"))
        .map(|f| pick(f, &["name", "cond", "cond_test"]))
        .collect();
    rule::replace_rules(
        doc,
        SectionKind::Frontend,
        name,
        RuleKind::BackendSwitching,
        &rules,
    )?;
    Ok(())
}

/// Adds a site: its frontend, listeners and farms (backends that exist
/// already are given the farm's fields and servers).
pub fn create_site(doc: &mut Document, site: &Map<String, Value>) -> Result<(), ResourceError> {
    let parts = parts(site)?;
    if res::get_section(doc, SectionKind::Frontend, parts.name).is_ok() {
        return Err(ResourceError::AlreadyExists(format!(
            "site '{}'",
            parts.name
        )));
    }
    let mut scratch = doc.clone();
    let frontend = Map::from_iter([("name".to_owned(), json!(parts.name))]);
    res::create_section(&mut scratch, SectionKind::Frontend, &frontend)?;
    write_site(&mut scratch, &parts)?;
    *doc = scratch;
    Ok(())
}

/// Replaces site `name`: the frontend keeps the fields a site does not
/// show; backends that stop being farms stay as they are.
pub fn replace_site(
    doc: &mut Document,
    name: &str,
    site: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let parts = parts(site)?;
    if parts.name != name {
        let message = format!("a site is renamed by renaming its frontend '{name}'");
        return Err(ModelError::invalid("name", message).into());
    }
    res::get_section(doc, SectionKind::Frontend, name)
        .map_err(|_| ResourceError::NotFound(format!("site '{name}'")))?;
    let mut scratch = doc.clone();
    write_site(&mut scratch, &parts)?;
    *doc = scratch;
    Ok(())
}

/// Deletes site `name`: its frontend and the backends of its farms that no
/// other frontend uses.
pub fn delete_site(doc: &mut Document, name: &str) -> Result<(), ResourceError> {
    let site = get_site(doc, name)?;
    let farms: Vec<String> = site
        .get("farms")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut scratch = doc.clone();
    res::delete_section(&mut scratch, SectionKind::Frontend, name)?;
    let used: Vec<String> = list_sites(&scratch)?
        .iter()
        .flat_map(|s| {
            s.get("farms")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|f| f.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    for farm in farms.iter().filter(|f| !used.contains(f)) {
        if res::get_section(&scratch, SectionKind::Backend, farm).is_ok() {
            res::delete_section(&mut scratch, SectionKind::Backend, farm)?;
        }
    }
    *doc = scratch;
    Ok(())
}
