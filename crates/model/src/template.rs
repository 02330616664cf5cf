//! Server templates: `server-template PREFIX NUM|FIRST-LAST FQDN[:PORT]
//! PARAMS`, the servers HAProxy makes from DNS answers. The params are a
//! server's (table `server`).

use haplane_cfg::{Document, LineRef, SectionId, SectionKind};
use serde_json::{json, Map, Value};

use crate::error::ModelError;
use crate::params::{self, check_fields};
use crate::resource::{find, find_parent, valid_name, ResourceError};

const KEYWORD: &str = "server-template";
const IDENTITY: &[&str] = &["prefix", "num_or_range", "fqdn", "port", "metadata"];

fn table() -> &'static crate::table::Table {
    params::table("server")
}

fn read(line: &LineRef<'_>) -> Option<Map<String, Value>> {
    if !line.may_start_with(KEYWORD) {
        return None;
    }
    let words = line.words();
    let values: Vec<&str> = words.iter().map(|w| &*w.value).collect();
    let [keyword, prefix, count, address, rest @ ..] = values.as_slice() else {
        return None;
    };
    if *keyword != KEYWORD {
        return None;
    }
    let items = params::parse(table(), rest);
    let mut out = params::object(table(), &items);
    out.insert("prefix".into(), json!(prefix));
    out.insert("num_or_range".into(), json!(count));
    match address
        .rsplit_once(':')
        .filter(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
    {
        Some((host, port)) => {
            out.insert("fqdn".into(), json!(host));
            out.insert(
                "port".into(),
                json!(port.parse::<i64>().unwrap_or_default()),
            );
        }
        None => {
            out.insert("fqdn".into(), json!(address));
        }
    }
    Some(out)
}

fn lines(doc: &Document, id: SectionId) -> Vec<(usize, Map<String, Value>)> {
    doc.section(id)
        .keyword_lines()
        .filter_map(|(i, l)| read(&l).map(|v| (i, v)))
        .collect()
}

fn word<'v>(value: &'v Map<String, Value>, field: &str) -> Result<&'v str, ModelError> {
    match value.get(field) {
        Some(Value::String(s)) if !s.is_empty() && !s.contains(char::is_whitespace) => Ok(s),
        Some(other) => Err(ModelError::invalid(
            field,
            format!("expected one word, got {other}"),
        )),
        None => Err(ModelError::MissingField {
            field: field.into(),
        }),
    }
}

fn render(
    value: &Map<String, Value>,
    old: Option<&LineRef<'_>>,
) -> Result<Vec<String>, ModelError> {
    check_fields(table(), value, "", IDENTITY)?;
    let prefix = word(value, "prefix")?;
    if !valid_name(prefix) {
        return Err(ModelError::invalid(
            "prefix",
            format!("'{prefix}' must match ^[A-Za-z0-9-_.:]+$"),
        ));
    }
    let count = word(value, "num_or_range")?;
    let range_ok = count
        .split_once('-')
        .map_or(count.parse::<u32>().is_ok(), |(a, b)| {
            a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok()
        });
    if !range_ok {
        return Err(ModelError::invalid(
            "num_or_range",
            format!("'{count}' is not a number or a FIRST-LAST range"),
        ));
    }
    let mut address = word(value, "fqdn")?.to_owned();
    match value.get("port") {
        None | Some(Value::Null) => {}
        Some(p) => match p.as_i64() {
            Some(n) if (1..=65535).contains(&n) => address = format!("{address}:{n}"),
            _ => {
                return Err(ModelError::invalid(
                    "port",
                    format!("expected a port between 1 and 65535, got {p}"),
                ))
            }
        },
    }
    let mut words = vec![
        KEYWORD.to_owned(),
        prefix.to_owned(),
        count.to_owned(),
        address,
    ];
    let body: Map<String, Value> = value
        .iter()
        .filter(|(k, _)| !IDENTITY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let params = match old {
        Some(line) => {
            let lexed = line.words();
            let old_params: Vec<&str> = lexed.iter().skip(4).map(|w| &*w.value).collect();
            params::update(table(), &old_params, &body, "")?
        }
        None => params::encode_all(table(), &body, "")?,
    };
    words.extend(params);
    Ok(words)
}

fn not_found(prefix: &str) -> ResourceError {
    ResourceError::NotFound(format!("server template '{prefix}'"))
}

/// The server templates of a backend.
pub fn list_templates(
    doc: &Document,
    backend: &str,
) -> Result<Vec<Map<String, Value>>, ResourceError> {
    let id = find_parent(doc, SectionKind::Backend, backend)?;
    Ok(lines(doc, id).into_iter().map(|(_, v)| v).collect())
}

fn find_template(
    doc: &Document,
    id: SectionId,
    prefix: &str,
) -> Option<(usize, Map<String, Value>)> {
    lines(doc, id)
        .into_iter()
        .find(|(_, v)| v.get("prefix").and_then(Value::as_str) == Some(prefix))
}

/// One server template, by prefix.
pub fn get_template(
    doc: &Document,
    backend: &str,
    prefix: &str,
) -> Result<Map<String, Value>, ResourceError> {
    let id = find(doc, SectionKind::Backend, backend)?;
    find_template(doc, id, prefix)
        .map(|(_, v)| v)
        .ok_or_else(|| not_found(prefix))
}

/// Adds a server template after the backend's last one (or last line).
pub fn create_template(
    doc: &mut Document,
    backend: &str,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let id = find_parent(doc, SectionKind::Backend, backend)?;
    let words = render(value, None)?;
    if find_template(doc, id, &words[1]).is_some() {
        return Err(ResourceError::AlreadyExists(format!(
            "server template '{}'",
            words[1]
        )));
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match lines(doc, id).last() {
        Some((at, _)) => doc.insert_words(id, at + 1, &words),
        None => {
            doc.push_words(id, &words);
        }
    }
    Ok(())
}

/// Replaces the server template `prefix`, keeping what did not change.
pub fn replace_template(
    doc: &mut Document,
    backend: &str,
    prefix: &str,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let id = find(doc, SectionKind::Backend, backend)?;
    let (at, old) = find_template(doc, id, prefix).ok_or_else(|| not_found(prefix))?;
    if old == *value {
        return Ok(());
    }
    let line = doc
        .section(id)
        .line(at)
        .expect("the template's line exists");
    let words = render(value, Some(&line))?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    doc.replace_words(id, at, &words);
    Ok(())
}

/// Removes the server template `prefix`.
pub fn delete_template(
    doc: &mut Document,
    backend: &str,
    prefix: &str,
) -> Result<(), ResourceError> {
    let id = find(doc, SectionKind::Backend, backend)?;
    let (at, _) = find_template(doc, id, prefix).ok_or_else(|| not_found(prefix))?;
    doc.remove_line(id, at);
    Ok(())
}
