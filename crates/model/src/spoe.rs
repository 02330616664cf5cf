//! SPOE files: scopes (`[NAME]` lines) holding agents, messages and
//! groups, read and written with the tables of `spoe.kw` by the same
//! engine as `haproxy.cfg` sections. A section belongs to the scope whose
//! header is the last one above it.

use haplane_cfg::{Document, SectionId, SectionKind};
use serde_json::{Map, Value};

use crate::resource::{valid_name, ResourceError};
use crate::section::{read_section, write_section};

/// What a scope holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpoeKind {
    Agent,
    Message,
    Group,
}

impl SpoeKind {
    fn section(self) -> SectionKind {
        match self {
            SpoeKind::Agent => SectionKind::SpoeAgent,
            SpoeKind::Message => SectionKind::SpoeMessage,
            SpoeKind::Group => SectionKind::SpoeGroup,
        }
    }

    /// The schema and line table of this kind (`spoe_agent`).
    pub fn schema(self) -> &'static str {
        match self {
            SpoeKind::Agent => "spoe_agent",
            SpoeKind::Message => "spoe_message",
            SpoeKind::Group => "spoe_group",
        }
    }

    fn keyword(self) -> &'static str {
        self.section()
            .keyword()
            .expect("SPOE sections have keywords")
    }

    fn noun(self) -> &'static str {
        match self {
            SpoeKind::Agent => "SPOE agent",
            SpoeKind::Message => "SPOE message",
            SpoeKind::Group => "SPOE group",
        }
    }
}

/// `name` as a scope header: `[name]` (given with or without brackets).
pub fn scope_header(name: &str) -> Result<String, ResourceError> {
    let inner = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    if !valid_name(inner) {
        return Err(ResourceError::Invalid(crate::ModelError::invalid(
            "scope",
            "a scope is [NAME], NAME made of letters, digits and - _ . :",
        )));
    }
    Ok(format!("[{inner}]"))
}

fn header_word(doc: &Document, id: SectionId) -> String {
    doc.section(id)
        .header()
        .words()
        .first()
        .map(|w| w.value.to_string())
        .unwrap_or_default()
}

/// The scopes of the file, in order, as written (`[ip-reputation]`).
pub fn scopes(doc: &Document) -> Vec<String> {
    doc.sections_of(SectionKind::SpoeScope)
        .map(|s| header_word(doc, s.id()))
        .collect()
}

/// The sections of `scope` (its header excluded), and the section after
/// its last one (the next scope), if any.
fn scope_sections(
    doc: &Document,
    scope: &str,
) -> Result<(SectionId, Vec<SectionId>, Option<SectionId>), ResourceError> {
    let wanted = scope_header(scope)?;
    let mut found: Option<SectionId> = None;
    let mut inside = Vec::new();
    for section in doc.sections() {
        if section.kind() == SectionKind::SpoeScope {
            if let Some(found) = found {
                return Ok((found, inside, Some(section.id())));
            }
            if header_word(doc, section.id()) == wanted {
                found = Some(section.id());
            }
        } else if found.is_some() {
            inside.push(section.id());
        }
    }
    match found {
        Some(id) => Ok((id, inside, None)),
        None => Err(ResourceError::NotFound(format!("scope {wanted}"))),
    }
}

fn find(
    doc: &Document,
    scope: &str,
    kind: SpoeKind,
    name: &str,
) -> Result<SectionId, ResourceError> {
    let (_, inside, _) = scope_sections(doc, scope)?;
    inside
        .into_iter()
        .find(|id| {
            let s = doc.section(*id);
            s.kind() == kind.section() && s.name().as_deref() == Some(name)
        })
        .ok_or_else(|| ResourceError::NotFound(format!("{} {name}", kind.noun())))
}

fn read(doc: &Document, id: SectionId, kind: SpoeKind) -> Map<String, Value> {
    let mut out = read_section(doc, id, kind.schema());
    if let Some(name) = doc.section(id).name() {
        out.insert("name".into(), Value::String(name));
    }
    out
}

/// The items of one kind in a scope.
pub fn list(
    doc: &Document,
    scope: &str,
    kind: SpoeKind,
) -> Result<Vec<Map<String, Value>>, ResourceError> {
    let (_, inside, _) = scope_sections(doc, scope)?;
    Ok(inside
        .into_iter()
        .filter(|id| doc.section(*id).kind() == kind.section())
        .map(|id| read(doc, id, kind))
        .collect())
}

pub fn get(
    doc: &Document,
    scope: &str,
    kind: SpoeKind,
    name: &str,
) -> Result<Map<String, Value>, ResourceError> {
    find(doc, scope, kind, name).map(|id| read(doc, id, kind))
}

fn name_of(value: &Map<String, Value>) -> Result<String, ResourceError> {
    match value.get("name") {
        Some(Value::String(n)) if valid_name(n) => Ok(n.clone()),
        _ => Err(ResourceError::Invalid(crate::ModelError::invalid(
            "name",
            "a name made of letters, digits and - _ . : is required",
        ))),
    }
}

/// Adds an item at the end of its scope (409 if its name is taken there).
pub fn create(
    doc: &mut Document,
    scope: &str,
    kind: SpoeKind,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let name = name_of(value)?;
    if find(doc, scope, kind, &name).is_ok() {
        return Err(ResourceError::AlreadyExists(format!(
            "{} {name}",
            kind.noun()
        )));
    }
    let (_, _, next) = scope_sections(doc, scope)?;
    let mut edited = doc.clone();
    let id = edited.insert_section(next, &[kind.keyword(), &name]);
    write_section(&mut edited, id, kind.schema(), value, &["name"])?;
    *doc = edited;
    Ok(())
}

/// Replaces an item's lines; a new `name` renames it.
pub fn replace(
    doc: &mut Document,
    scope: &str,
    kind: SpoeKind,
    name: &str,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let id = find(doc, scope, kind, name)?;
    let new_name = match value.get("name") {
        None => name.to_owned(),
        Some(_) => name_of(value)?,
    };
    if new_name != name && find(doc, scope, kind, &new_name).is_ok() {
        return Err(ResourceError::AlreadyExists(format!(
            "{} {new_name}",
            kind.noun()
        )));
    }
    let mut edited = doc.clone();
    write_section(&mut edited, id, kind.schema(), value, &["name"])?;
    if new_name != name {
        edited.replace_header(id, &[kind.keyword(), &new_name]);
    }
    *doc = edited;
    Ok(())
}

pub fn delete(
    doc: &mut Document,
    scope: &str,
    kind: SpoeKind,
    name: &str,
) -> Result<(), ResourceError> {
    let id = find(doc, scope, kind, name)?;
    doc.remove_section(id);
    Ok(())
}

/// Adds an empty scope at the end of the file.
pub fn create_scope(doc: &mut Document, scope: &str) -> Result<String, ResourceError> {
    let header = scope_header(scope)?;
    if scope_sections(doc, &header).is_ok() {
        return Err(ResourceError::AlreadyExists(format!("scope {header}")));
    }
    doc.insert_section(None, &[&header]);
    Ok(header)
}

/// Deletes a scope with everything in it.
pub fn delete_scope(doc: &mut Document, scope: &str) -> Result<(), ResourceError> {
    let (header, inside, _) = scope_sections(doc, scope)?;
    for id in inside.into_iter().rev() {
        doc.remove_section(id);
    }
    doc.remove_section(header);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FILE: &str = "# _version=1\n[ip-reputation]\nspoe-agent iprep-agent\n    messages check-ip\n    option var-prefix iprep\n    timeout hello 5s\n    # kept\n    log global\n    option async\n\nspoe-message check-ip\n    args ip=src\n    event on-client-session if ! { src -f /etc/haproxy/blacklist.lst }\n\n[other]\nspoe-group g\n    messages m1 m2\n";

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn reads_scopes_and_their_items() {
        let doc = Document::parse_spoe(FILE.as_bytes().to_vec());
        assert_eq!(scopes(&doc), ["[ip-reputation]", "[other]"]);
        let agents = list(&doc, "[ip-reputation]", SpoeKind::Agent).unwrap();
        assert_eq!(
            Value::Object(agents[0].clone()),
            json!({"name": "iprep-agent", "messages": "check-ip", "option_var-prefix": "iprep",
                   "hello_timeout": 5000, "log": [{"global": true}], "async": "enabled"})
        );
        let message = get(&doc, "ip-reputation", SpoeKind::Message, "check-ip").unwrap();
        assert_eq!(
            Value::Object(message),
            json!({"name": "check-ip", "args": "ip=src", "event": {"name": "on-client-session",
                   "cond": "if", "cond_test": "! { src -f /etc/haproxy/blacklist.lst }"}})
        );
        assert!(list(&doc, "[other]", SpoeKind::Agent).unwrap().is_empty());
        let groups = list(&doc, "[other]", SpoeKind::Group).unwrap();
        assert_eq!(groups[0]["messages"], "m1 m2");
        assert!(matches!(
            list(&doc, "[nope]", SpoeKind::Agent),
            Err(ResourceError::NotFound(_))
        ));
    }

    #[test]
    fn edits_touch_only_their_lines() {
        let mut doc = Document::parse_spoe(FILE.as_bytes().to_vec());
        let mut agent = get(&doc, "[ip-reputation]", SpoeKind::Agent, "iprep-agent").unwrap();
        replace(
            &mut doc,
            "[ip-reputation]",
            SpoeKind::Agent,
            "iprep-agent",
            &agent,
        )
        .unwrap();
        assert_eq!(doc.to_text(), FILE);
        agent.insert("hello_timeout".into(), json!(3000));
        replace(
            &mut doc,
            "[ip-reputation]",
            SpoeKind::Agent,
            "iprep-agent",
            &agent,
        )
        .unwrap();
        assert_eq!(
            doc.to_text(),
            FILE.replace("timeout hello 5s", "timeout hello 3s")
        );
        create(
            &mut doc,
            "[ip-reputation]",
            SpoeKind::Group,
            &obj(json!({"name": "g2", "messages": "check-ip"})),
        )
        .unwrap();
        let text = doc.to_text();
        let group = text.find("spoe-group g2\n    messages check-ip\n").unwrap();
        assert!(group < text.find("[other]").unwrap(), "{text}");
        assert!(matches!(
            create(
                &mut doc,
                "[ip-reputation]",
                SpoeKind::Group,
                &obj(json!({"name": "g2"}))
            ),
            Err(ResourceError::AlreadyExists(_))
        ));
        // Same name, other scope: fine.
        create(
            &mut doc,
            "[other]",
            SpoeKind::Group,
            &obj(json!({"name": "g2"})),
        )
        .unwrap();
        delete(&mut doc, "[ip-reputation]", SpoeKind::Message, "check-ip").unwrap();
        assert!(!doc.to_text().contains("spoe-message"));
        create_scope(&mut doc, "new").unwrap();
        assert_eq!(scopes(&doc), ["[ip-reputation]", "[other]", "[new]"]);
        delete_scope(&mut doc, "[other]").unwrap();
        assert_eq!(scopes(&doc), ["[ip-reputation]", "[new]"]);
        assert!(!doc.to_text().contains("m1 m2"));
    }
}
