//! Whole resources on a document: proxies (`defaults`, `frontend`,
//! `backend`) and their one-line children (`server`, `bind`): list, get,
//! create, replace, delete. Each write is a minimal edit of the document.

use std::borrow::Borrow;

use haplane_cfg::{Document, SectionId, SectionKind};
use serde_json::{json, Map, Value};

use crate::child::{children, find_child, render_child, render_child_over, ChildKind};
use crate::error::ModelError;
use crate::section::{read_section, read_section_as, write_section, write_section_as};

/// Why a resource operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error("{0} not found")]
    NotFound(String),
    /// The section a child resource would live in does not exist (400, as
    /// the reference answers it).
    #[error("parent {0} does not exist")]
    ParentNotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The request conflicts with the file as it is (409).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] ModelError),
    /// The resource is no longer what the caller last read (412: its
    /// `If-Match` or `If-None-Match` does not hold).
    #[error("{0}")]
    Changed(String),
}

impl ResourceError {
    /// The error of item `index` of a list the request gave: the message
    /// (or the field) names it.
    pub fn at_item(self, index: usize) -> ResourceError {
        let at = |text: String| format!("item [{index}]: {text}");
        match self {
            ResourceError::NotFound(m) => ResourceError::NotFound(at(m)),
            ResourceError::ParentNotFound(m) => ResourceError::ParentNotFound(at(m)),
            ResourceError::AlreadyExists(m) => ResourceError::AlreadyExists(at(m)),
            ResourceError::Conflict(m) => ResourceError::Conflict(at(m)),
            ResourceError::Changed(m) => ResourceError::Changed(at(m)),
            ResourceError::Invalid(e) => ResourceError::Invalid(e.at_item(index)),
        }
    }
}

/// The names the reference allows for sections and servers.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn label(kind: SectionKind) -> &'static str {
    kind.keyword().unwrap_or("section")
}

/// The line table of a section kind: `global`, `proxy` for the proxies,
/// else the table named after the registry's schema of that section.
fn table(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Global => "global",
        k if k.is_proxy() => "proxy",
        k => crate::registry::section_table(k).unwrap_or("proxy"),
    }
}

const IDENTITY: &[&str] = &["name", "from", "metadata"];

/// The JSON of one proxy section.
/// `view` is the kind asked for: a `listen` section shows the fields of its
/// frontend or backend view.
fn section_json(doc: &Document, id: SectionId, view: SectionKind) -> Map<String, Value> {
    let section = doc.section(id);
    let mut value = read_section_as(doc, id, table(section.kind()), view);
    if let Some(name) = section_name(doc, id) {
        value.insert("name".into(), json!(name));
    }
    if let Some(from) = section.from() {
        value.insert("from".into(), json!(from));
    }
    value
}

/// Every section of `kind`, as JSON.
/// Every section of `kind`, as JSON; frontends and backends include the
/// `listen` sections (their frontend or backend view).
pub fn list_sections(doc: &Document, kind: SectionKind) -> Vec<Map<String, Value>> {
    doc.sections()
        .filter(|s| s.kind() == kind || (has_listen_view(kind) && s.kind() == SectionKind::Listen))
        .map(|s| section_json(doc, s.id(), kind))
        .collect()
}

fn has_listen_view(kind: SectionKind) -> bool {
    matches!(kind, SectionKind::Frontend | SectionKind::Backend)
}

/// The section of `kind` named `name`, as JSON.
pub fn get_section(
    doc: &Document,
    kind: SectionKind,
    name: &str,
) -> Result<Map<String, Value>, ResourceError> {
    let id = find(doc, kind, name)?;
    Ok(section_json(doc, id, kind))
}

/// The `global` section as JSON (empty when the file has none).
pub fn get_global(doc: &Document) -> Map<String, Value> {
    match doc.sections_of(SectionKind::Global).next() {
        Some(s) => read_section(doc, s.id(), "global"),
        None => Map::new(),
    }
}

/// Writes the `global` section, creating it at the top when missing.
pub fn replace_global(doc: &mut Document, value: &Map<String, Value>) -> Result<(), ResourceError> {
    let existing = doc.sections_of(SectionKind::Global).next().map(|s| s.id());
    let id = match existing {
        Some(id) => id,
        // Nothing to write: a file without a global section stays so.
        None if value.keys().all(|k| k == "metadata") => return Ok(()),
        None => {
            let first = doc.sections().next().map(|s| s.id());
            doc.insert_section(first, &["global"])
        }
    };
    write_section(doc, id, "global", value, &["metadata"])?;
    Ok(())
}

/// The one section of `kind` that a file may lack (`traces`), as JSON.
pub fn get_single(doc: &Document, kind: SectionKind) -> Result<Map<String, Value>, ResourceError> {
    let id = find_single(doc, kind)?;
    Ok(read_section(doc, id, table(kind)))
}

fn find_single(doc: &Document, kind: SectionKind) -> Result<SectionId, ResourceError> {
    let found = doc.sections_of(kind).next().map(|s| s.id());
    found.ok_or_else(|| ResourceError::NotFound(format!("{} section", label(kind))))
}

/// Adds the one section of `kind` at the end of the file.
pub fn create_single(
    doc: &mut Document,
    kind: SectionKind,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    if find_single(doc, kind).is_ok() {
        return Err(ResourceError::AlreadyExists(format!(
            "{} section",
            label(kind)
        )));
    }
    let mut scratch = doc.clone();
    let id = scratch.insert_section(None, &[label(kind)]);
    write_section(&mut scratch, id, table(kind), value, &["metadata"])?;
    *doc = scratch;
    Ok(())
}

/// Replaces the one section of `kind` with `value`.
pub fn replace_single(
    doc: &mut Document,
    kind: SectionKind,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let id = find_single(doc, kind)?;
    write_section(doc, id, table(kind), value, &["metadata"])?;
    Ok(())
}

/// Removes the one section of `kind`.
pub fn delete_single(doc: &mut Document, kind: SectionKind) -> Result<(), ResourceError> {
    let id = find_single(doc, kind)?;
    doc.remove_section(id);
    Ok(())
}

/// What an unnamed `defaults` section is called: `unnamed_defaults_N`, N
/// counting the unnamed ones from 1 in file order (the reference's names).
/// Nothing is written to the file for it.
const UNNAMED_DEFAULTS: &str = "unnamed_defaults_";

/// A section's name as the API shows it: its header's, or for an unnamed
/// `defaults` section the name the reference gives it.
pub fn section_name(doc: &Document, id: SectionId) -> Option<String> {
    let section = doc.section(id);
    if let Some(name) = section.name() {
        return Some(name);
    }
    if section.kind() != SectionKind::Defaults {
        return None;
    }
    let position = doc
        .sections_of(SectionKind::Defaults)
        .filter(|s| s.name().is_none())
        .position(|s| s.id() == id)?;
    Some(format!("{UNNAMED_DEFAULTS}{}", position + 1))
}

/// The unnamed `defaults` section that `name` (`unnamed_defaults_N`) means.
fn find_unnamed_defaults(doc: &Document, name: &str) -> Option<SectionId> {
    let n: usize = name.strip_prefix(UNNAMED_DEFAULTS)?.parse().ok()?;
    doc.sections_of(SectionKind::Defaults)
        .filter(|s| s.name().is_none())
        .nth(n.checked_sub(1)?)
        .map(|s| s.id())
}

/// The section of `kind` named `name`; for frontends and backends, a
/// `listen` section of that name is one too.
/// `global` has no name: the first global section is the one.
pub(crate) fn find(
    doc: &Document,
    kind: SectionKind,
    name: &str,
) -> Result<SectionId, ResourceError> {
    if kind == SectionKind::Global {
        let global = doc.sections_of(kind).next().map(|s| s.id());
        return global.ok_or_else(|| ResourceError::NotFound("global section".into()));
    }
    doc.find_section(kind, name)
        .or_else(|| {
            has_listen_view(kind)
                .then(|| doc.find_section(SectionKind::Listen, name))
                .flatten()
        })
        .or_else(|| {
            (kind == SectionKind::Defaults)
                .then(|| find_unnamed_defaults(doc, name))
                .flatten()
        })
        .ok_or_else(|| ResourceError::NotFound(format!("{} '{name}'", label(kind))))
}

/// The section a child resource lives in: its absence is
/// [`ResourceError::ParentNotFound`].
pub(crate) fn find_parent(
    doc: &Document,
    kind: SectionKind,
    name: &str,
) -> Result<SectionId, ResourceError> {
    find(doc, kind, name).map_err(|e| match e {
        ResourceError::NotFound(what) => ResourceError::ParentNotFound(what),
        other => other,
    })
}

fn name_of(value: &Map<String, Value>) -> Result<&str, ModelError> {
    match value.get("name") {
        Some(Value::String(name)) if valid_name(name) => Ok(name),
        Some(other) => Err(ModelError::invalid(
            "name",
            format!("{other} must match ^[A-Za-z0-9-_.:]+$"),
        )),
        None => Err(ModelError::MissingField {
            field: "name".into(),
        }),
    }
}

fn header_words(kind: SectionKind, value: &Map<String, Value>) -> Result<Vec<String>, ModelError> {
    let mut words = vec![label(kind).to_owned(), name_of(value)?.to_owned()];
    match value.get("from") {
        None | Some(Value::Null) => {}
        Some(Value::String(from)) if valid_name(from) => {
            words.extend(["from".to_owned(), from.clone()])
        }
        Some(other) => {
            return Err(ModelError::invalid(
                "from",
                format!("{other} must name a defaults section"),
            ))
        }
    }
    Ok(words)
}

/// Adds a section of `kind` after the last one of its kind (or at the end).
pub fn create_section(
    doc: &mut Document,
    kind: SectionKind,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let header = header_words(kind, value)?;
    let name = &header[1];
    if find(doc, kind, name).is_ok() {
        return Err(ResourceError::AlreadyExists(format!(
            "{} '{name}'",
            label(kind)
        )));
    }
    // Validate on a scratch copy first, so a bad value leaves `doc` as it was.
    let mut scratch = doc.clone();
    let before = doc.sections_of(kind).last().and_then(|last| {
        let next = doc.sections().skip_while(|s| s.id() != last.id()).nth(1);
        next.map(|s| s.id())
    });
    let words: Vec<&str> = header.iter().map(String::as_str).collect();
    let id = scratch.insert_section(before, &words);
    write_section(&mut scratch, id, table(kind), value, IDENTITY)?;
    *doc = scratch;
    Ok(())
}

/// Replaces the section named `name` with `value` (its name may change).
pub fn replace_section(
    doc: &mut Document,
    kind: SectionKind,
    name: &str,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let mut header = header_words(kind, value)?;
    // A new name that another section has is a conflict, whether or not
    // the section to replace exists (as the reference answers it).
    if header[1] != name && find(doc, kind, &header[1]).is_ok() {
        return Err(ResourceError::AlreadyExists(format!(
            "{} '{}'",
            label(kind),
            header[1]
        )));
    }
    let id = find(doc, kind, name)?;
    // A listen section keeps its keyword whichever view is replaced.
    let own = doc.section(id).kind();
    header[0] = own.keyword().unwrap_or(label(kind)).to_owned();
    let mut scratch = doc.clone();
    let section = scratch.section(id);
    if section.name().is_none() && header[1] == name {
        // An unnamed defaults section keeps having no name in the file.
        header.remove(1);
    }
    let old_args = section.header_args();
    // Words of the old header that are neither the name nor `from X`: the
    // listening addresses of `frontend NAME ADDR` / `listen NAME ADDR`.
    let named = usize::from(section.name().is_some());
    let from_at = old_args.iter().position(|a| a == "from");
    let addresses = old_args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i >= named && from_at.is_none_or(|f| *i != f && *i != f + 1))
        .map(|(_, a)| a.clone());
    let at = 1 + usize::from(header.len() > 1 && header[1] != "from");
    let at = at.min(header.len());
    header.splice(at..at, addresses);
    let old_header: Vec<String> = std::iter::once(header[0].clone()).chain(old_args).collect();
    if old_header != header {
        let words: Vec<&str> = header.iter().map(String::as_str).collect();
        scratch.replace_header(id, &words);
    }
    write_section_as(&mut scratch, id, table(kind), value, IDENTITY, kind)?;
    *doc = scratch;
    Ok(())
}

/// Removes the section named `name`.
pub fn delete_section(
    doc: &mut Document,
    kind: SectionKind,
    name: &str,
) -> Result<(), ResourceError> {
    let id = find(doc, kind, name)?;
    if doc.section(id).kind() != kind {
        return Err(ResourceError::Conflict(format!(
            "{} '{name}' is a view of the listen section '{name}', which is also a {}; edit the file to split it first",
            label(kind),
            if kind == SectionKind::Frontend { "backend" } else { "frontend" }
        )));
    }
    doc.remove_section(id);
    Ok(())
}

fn child_label(kind: ChildKind, name: &str) -> String {
    format!("{} '{name}'", kind.keyword())
}

/// The children of `kind` of a section.
pub fn list_children(
    doc: &Document,
    parent: SectionKind,
    parent_name: &str,
    kind: ChildKind,
) -> Result<Vec<Map<String, Value>>, ResourceError> {
    let id = find_parent(doc, parent, parent_name)?;
    Ok(children(doc, id, kind)
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

/// One child by name.
pub fn get_child(
    doc: &Document,
    parent: SectionKind,
    parent_name: &str,
    kind: ChildKind,
    name: &str,
) -> Result<Map<String, Value>, ResourceError> {
    let id = find(doc, parent, parent_name)?;
    find_child(doc, id, kind, name)
        .map(|(_, v)| v)
        .ok_or_else(|| ResourceError::NotFound(child_label(kind, name)))
}

/// Adds a child after the last line of its kind in the section (or after
/// the section's last keyword line).
pub fn create_child(
    doc: &mut Document,
    parent: SectionKind,
    parent_name: &str,
    kind: ChildKind,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let id = find_parent(doc, parent, parent_name)?;
    let words = render_child(kind, value, None)?;
    let name = value
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if find_child(doc, id, kind, name).is_some() {
        return Err(ResourceError::AlreadyExists(child_label(kind, name)));
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match children(doc, id, kind).last() {
        Some((index, _)) => doc.insert_words(id, index + 1, &words),
        None => {
            doc.push_words(id, &words);
        }
    }
    Ok(())
}

/// Makes the children of `kind` of a section exactly `wanted` (by name),
/// reading its lines once: an unchanged child keeps its bytes, a changed one
/// is rewritten in place, a missing one is removed and a new one follows the
/// last. Linear in the number of children (a full-section replace).
pub fn set_children<M: Borrow<Map<String, Value>> + Sync>(
    doc: &mut Document,
    parent: SectionKind,
    parent_name: &str,
    kind: ChildKind,
    wanted: &[M],
) -> Result<(), ResourceError> {
    let id = find_parent(doc, parent, parent_name)?;
    /// What an item makes of the section: a new line, or a line rewritten.
    enum Edit {
        New(Vec<String>),
        Over(usize, Vec<u8>),
    }
    fn name_of(v: &Map<String, Value>) -> &str {
        v.get("name").and_then(Value::as_str).unwrap_or_default()
    }
    let existing = children(doc, id, kind);
    let names: Vec<&str> = existing.iter().map(|(_, old)| name_of(old)).collect();
    let by_name: std::collections::HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(at, name)| (*name, at))
        .collect();
    // Every line is rendered before the first edit (a refused item leaves
    // the document as it was), and the items are checked in order.
    let section = doc.section(id);
    let rendered = crate::par::map(
        wanted.iter().map(Borrow::borrow).collect(),
        || (),
        |_, value: &Map<String, Value>| {
            let name = name_of(value);
            let words = match by_name.get(name).map(|at| &existing[*at]) {
                None => render_child(kind, value, None).map(|words| Some(Edit::New(words))),
                Some((_, old)) if old == value => Ok(None),
                Some((index, old)) => {
                    let line = section.line(*index).expect("the child's line exists");
                    render_child_over(kind, value, Some((&line, old))).map(|words| {
                        let words: Vec<&str> = words.iter().map(String::as_str).collect();
                        Some(Edit::Over(*index, line.rewritten(&words)))
                    })
                }
            };
            (name, words)
        },
    );
    let mut seen = std::collections::HashSet::new();
    let mut edits = Vec::new();
    let mut new = Vec::new();
    for (name, rendered) in rendered {
        if !seen.insert(name) {
            return Err(ResourceError::AlreadyExists(child_label(kind, name)));
        }
        match rendered? {
            Some(Edit::Over(index, text)) => edits.push((index, text)),
            Some(Edit::New(words)) => new.push(words),
            None => {}
        }
    }
    let kept = |at: &usize| seen.contains(names[*at]);
    let gone: Vec<usize> = (0..existing.len())
        .filter(|at| !kept(at))
        .map(|at| existing[at].0)
        .collect();
    let last = (0..existing.len())
        .rev()
        .find(kept)
        .map(|at| existing[at].0);
    let kept_before_last = last.map_or(0, |last| gone.iter().filter(|g| **g < last).count());
    drop(seen);
    drop(by_name);
    drop(names);
    crate::par::drop_all(existing);
    for (index, text) in edits {
        doc.set_line(id, index, text);
    }
    // Removed bottom first, so that the other indexes stay valid.
    for index in gone.into_iter().rev() {
        doc.remove_line(id, index);
    }
    // New ones follow the last child kept (or end the section).
    insert_after(doc, id, last.map(|last| last - kept_before_last), &new);
    Ok(())
}

/// Inserts `lines`, in order, after line `after` of a section (at its end
/// when there is none).
pub(crate) fn insert_after(
    doc: &mut Document,
    id: SectionId,
    after: Option<usize>,
    lines: &[Vec<String>],
) {
    let mut next = after.map(|at| at + 1);
    for words in lines {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match next {
            Some(at) => {
                doc.insert_words(id, at, &words);
                next = Some(at + 1);
            }
            None => {
                doc.push_words(id, &words);
            }
        }
    }
}

/// Replaces the child named `name`, keeping what did not change.
pub fn replace_child(
    doc: &mut Document,
    parent: SectionKind,
    parent_name: &str,
    kind: ChildKind,
    name: &str,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let id = find(doc, parent, parent_name)?;
    let (index, old) = find_child(doc, id, kind, name)
        .ok_or_else(|| ResourceError::NotFound(child_label(kind, name)))?;
    let new_name = value
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if new_name != name && find_child(doc, id, kind, new_name).is_some() {
        return Err(ResourceError::AlreadyExists(child_label(kind, new_name)));
    }
    if old == *value {
        return Ok(());
    }
    let line = doc
        .section(id)
        .line(index)
        .expect("the child's line exists");
    let words = render_child_over(kind, value, Some((&line, &old)))?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    doc.replace_words(id, index, &words);
    Ok(())
}

/// Removes the child named `name`.
pub fn delete_child(
    doc: &mut Document,
    parent: SectionKind,
    parent_name: &str,
    kind: ChildKind,
    name: &str,
) -> Result<(), ResourceError> {
    let id = find(doc, parent, parent_name)?;
    let (index, _) = find_child(doc, id, kind, name)
        .ok_or_else(|| ResourceError::NotFound(child_label(kind, name)))?;
    doc.remove_line(id, index);
    Ok(())
}
