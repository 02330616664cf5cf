//! The line-table engine: the keyword lines of a section (`global`, a
//! proxy) to one JSON object, and a JSON object back into minimal edits.
//!
//! Reading: each keyword line is matched against the table (longest keyword
//! first, `no` prefix for negations) and decoded into its field. Lines that
//! no entry matches, that do not decode, that the section kind does not
//! accept, or that stand inside a `.if` block are *opaque*: not shown, never
//! changed.
//!
//! Writing: for each field whose value differs from what the file holds, the
//! field's lines are replaced in place, removed, or added after the last line
//! the table knows. Fields whose value did not change keep their lines
//! byte for byte, whatever their spelling (`30s` stays `30s`, not `30000`).

use haplane_cfg::{Document, LineKind, SectionId, SectionKind};
use serde_json::{Map, Value};

use crate::codec::{self, get_path, set_path};
use crate::error::ModelError;
use crate::params::{check_fields, encode_groups, Negation};
use crate::table::{section_table, Scope, Table};

/// A keyword line of a section that a table entry claims.
#[derive(Debug)]
struct Claimed {
    index: usize,
    entry: usize,
    /// `None` when the words do not decode (the line is kept as is).
    value: Option<Value>,
}

fn accepts(scope: Scope, kind: SectionKind) -> bool {
    match kind {
        SectionKind::Defaults => scope.defaults,
        SectionKind::Frontend => scope.frontend,
        SectionKind::Backend => scope.backend,
        SectionKind::Listen => scope.frontend || scope.backend,
        _ => true,
    }
}

fn section_name(kind: SectionKind) -> &'static str {
    kind.keyword().unwrap_or("this")
}

/// Finds the lines of section `id` that `table` claims.
/// `view` is the section kind whose keywords count: the section's own kind,
/// or for a `listen` section its frontend or backend view.
fn claim(doc: &Document, id: SectionId, table: &Table, view: SectionKind) -> Vec<Claimed> {
    let section = doc.section(id);
    let kind = view;
    let mut depth = 0usize;
    let mut out = Vec::new();
    for (index, line) in section.lines().enumerate() {
        let words = match line.kind() {
            LineKind::Directive => {
                match line.words().first().map(|w| w.value.to_string()).as_deref() {
                    Some(".if") => depth += 1,
                    Some(".endif") => depth = depth.saturating_sub(1),
                    _ => {}
                }
                continue;
            }
            LineKind::Keyword if depth == 0 => line.words(),
            _ => continue,
        };
        let values: Vec<&str> = words.iter().map(|w| &*w.value).collect();
        let (negated, rest) = match values.split_first() {
            Some((&"no", rest)) => (true, rest),
            _ => (false, &values[..]),
        };
        let accepted = |e: &crate::table::Entry| accepts(e.scope, kind);
        let Some((entry, len)) = table.match_words_where(rest, accepted) else {
            continue;
        };
        let codec = &table.entries[entry].codec;
        let value = codec::decode(codec, &rest[len..], negated).ok();
        out.push(Claimed {
            index,
            entry,
            value,
        });
    }
    out
}

/// Reads section `id` into a JSON object with `table`.
pub fn read_section(doc: &Document, id: SectionId, table: &str) -> Map<String, Value> {
    let view = doc.section(id).kind();
    let table = section_table(table);
    unfold(read_with(doc, id, table, view), table)
}

/// Reads section `id` as a section of kind `view` (the frontend or backend
/// view of a `listen` section): only keywords `view` accepts count.
pub fn read_section_as(
    doc: &Document,
    id: SectionId,
    table: &str,
    view: SectionKind,
) -> Map<String, Value> {
    let table = section_table(table);
    unfold(read_with(doc, id, table, view), table)
}

/// The entries whose field is `PARENT..`: their object's keys belong to
/// the object at PARENT (`stats admin if COND` -> three fields of
/// `stats_options`).
fn nested_merges(table: &Table) -> impl Iterator<Item = &crate::table::Entry> {
    table
        .entries
        .iter()
        .filter(|e| e.field.len() > 1 && e.field.last().is_some_and(|l| l.starts_with('.')))
}

/// Spreads the objects read for `PARENT..` entries into their parent. A
/// required list with no line reads as empty: the schema says it is
/// always there.
fn unfold(mut out: Map<String, Value>, table: &Table) -> Map<String, Value> {
    for entry in table
        .entries
        .iter()
        .filter(|e| e.required && e.field.len() == 1)
    {
        if matches!(entry.codec, crate::table::Codec::List(_)) {
            out.entry(entry.field[0].clone())
                .or_insert_with(|| Value::Array(vec![]));
        }
    }
    for entry in nested_merges(table) {
        let parent = &entry.field[..entry.field.len() - 1];
        let Some(Value::Object(here)) = get_path_mut(&mut out, parent) else {
            continue;
        };
        let key = entry.field.last().expect("nested merges have a key");
        if let Some(Value::Object(merged)) = here.remove(key) {
            here.extend(merged);
        }
    }
    out
}

/// Gathers the keys of `PARENT..` entries under PARENT's `.KEYWORD`, as
/// the engine reads and writes them.
fn fold(value: &Map<String, Value>, table: &Table) -> Map<String, Value> {
    let mut value = value.clone();
    for entry in nested_merges(table) {
        let parent = &entry.field[..entry.field.len() - 1];
        let Some(Value::Object(here)) = get_path_mut(&mut value, parent) else {
            continue;
        };
        let taken: Map<String, Value> = entry
            .merged()
            .iter()
            .filter_map(|k| here.remove(*k).map(|v| (k.to_string(), v)))
            .collect();
        if !taken.is_empty() {
            let key = entry.field.last().expect("nested merges have a key");
            here.insert(key.clone(), Value::Object(taken));
        }
    }
    value
}

fn get_path_mut<'a>(object: &'a mut Map<String, Value>, path: &[String]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    let value = object.get_mut(first)?;
    if rest.is_empty() {
        return Some(value);
    }
    get_path_mut(value.as_object_mut()?, rest)
}

fn read_with(
    doc: &Document,
    id: SectionId,
    table: &Table,
    view: SectionKind,
) -> Map<String, Value> {
    let mut out = Map::new();
    let mut last_check = None;
    let checks = check_field(table);
    for claimed in claim(doc, id, table, view) {
        if let Some(value) = claimed.value {
            let field = &table.entries[claimed.entry].field;
            if checks.is_some_and(|c| *field == [c]) {
                last_check = None;
            } else if let Some(check) = check_of(field) {
                last_check = Some(check);
            }
            set_path(&mut out, field, value);
        }
    }
    // HAProxy keeps the last `option <check>` line.
    if let (Some(check), Some(name)) = (last_check, checks) {
        out.insert(name.into(), Value::String(check.to_owned()));
    }
    out
}

/// Health checks whose line also carries parameters: `option httpchk GET
/// /` is `adv_check: "httpchk"` and `httpchk_params`. The table maps such a
/// line to its params object; `adv_check` is derived from it when read, and
/// implied by it (or implies an empty one) when written.
pub(crate) const CHECKS_WITH_PARAMS: &[(&str, &str)] = &[
    ("httpchk", "httpchk_params"),
    ("mysql-check", "mysql_check_params"),
    ("pgsql-check", "pgsql_check_params"),
    ("smtpchk", "smtpchk_params"),
];

/// The field that names a table's health check: `adv_check` in proxies,
/// `type` in `healthcheck` sections (3.3), when the table has checks with
/// parameters.
fn check_field(table: &Table) -> Option<&'static str> {
    let has = |name: &str| table.entries.iter().any(|e| e.field == [name]);
    if !has(CHECKS_WITH_PARAMS[0].1) {
        return None;
    }
    ["adv_check", "type"].into_iter().find(|f| has(f))
}

/// The `adv_check` value a field's line means, for `adv_check` itself and
/// the params objects above.
fn check_of(field: &[String]) -> Option<&'static str> {
    let [name] = field else { return None };
    CHECKS_WITH_PARAMS
        .iter()
        .find(|(_, params)| params == name)
        .map(|(check, _)| *check)
}

/// `value` with `adv_check` turned into what the table writes: a check
/// with parameters becomes its params object (empty if not given).
fn normalize_checks(value: &Map<String, Value>, field: &str) -> Map<String, Value> {
    let mut value = value.clone();
    let adv = value.get(field).and_then(Value::as_str);
    if let Some((_, params)) = CHECKS_WITH_PARAMS
        .iter()
        .find(|(check, _)| Some(*check) == adv)
    {
        value.remove(field);
        value
            .entry(params.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    value
}

/// Writes `value` into section `id`: fields the table knows take the value's
/// content (absent fields are removed), lines it does not know stay.
/// `identity` lists keys that belong to the header (e.g. `name`), ignored here.
pub fn write_section(
    doc: &mut Document,
    id: SectionId,
    table: &str,
    value: &Map<String, Value>,
    identity: &[&str],
) -> Result<(), ModelError> {
    let view = doc.section(id).kind();
    write_section_as(doc, id, table, value, identity, view)
}

/// Writes `value` into section `id` seen as a section of kind `view`: the
/// fields `view` does not accept are neither written nor removed (the other
/// view of a `listen` section keeps them).
pub fn write_section_as(
    doc: &mut Document,
    id: SectionId,
    table: &str,
    value: &Map<String, Value>,
    identity: &[&str],
    view: SectionKind,
) -> Result<(), ModelError> {
    let table = section_table(table);
    let kind = view;
    let normalized;
    let value = if let Some(field) = check_field(table) {
        normalized = normalize_checks(value, field);
        &normalized
    } else {
        value
    };
    let folded = fold(value, table);
    let value = &folded;
    check_fields(table, value, "", identity)?;
    for entry in &table.entries {
        if get_path(value, &entry.field).is_some() && !accepts(entry.scope, kind) {
            let sibling_accepts = table
                .entries
                .iter()
                .any(|e| e.field == entry.field && accepts(e.scope, kind));
            if !sibling_accepts {
                let field = entry.field_name();
                return Err(ModelError::OutOfScope {
                    field,
                    section: section_name(kind),
                });
            }
        }
    }
    // Encode everything first, so that a bad value changes nothing.
    let old = read_with(doc, id, table, view);
    let mut plan: Vec<(&[String], Vec<Vec<String>>)> = Vec::new();
    for entry in &table.entries {
        let path = &entry.field[..];
        if plan.iter().any(|(p, _)| *p == path) || get_path(&old, path) == get_path(value, path) {
            continue;
        }
        let lines = encode_groups(table, path, value, "", Negation::Word)?;
        let lines = lines
            .into_iter()
            .filter(|_| accepts_any(table, path, kind))
            .collect();
        plan.push((path, lines));
    }
    for (path, lines) in plan {
        apply_field(doc, id, table, path, lines, view);
    }
    Ok(())
}

fn accepts_any(table: &Table, path: &[String], kind: SectionKind) -> bool {
    table
        .entries
        .iter()
        .any(|e| e.field == path && accepts(e.scope, kind))
}

/// Replaces the lines of one field with `lines`, in place where it can.
fn apply_field(
    doc: &mut Document,
    id: SectionId,
    table: &Table,
    path: &[String],
    lines: Vec<Vec<String>>,
    view: SectionKind,
) {
    let claimed = claim(doc, id, table, view);
    let mine: Vec<usize> = claimed
        .iter()
        .filter(|c| table.entries[c.entry].field == path)
        .map(|c| c.index)
        .collect();
    // Replace in place, pairwise.
    for (index, line) in mine.iter().zip(&lines) {
        doc.replace_words(id, *index, &words(line));
    }
    if lines.len() < mine.len() {
        // Remove the extra lines, bottom first so indices stay valid.
        for index in mine[lines.len()..].iter().rev() {
            doc.remove_line(id, *index);
        }
        return;
    }
    let at = match mine.last() {
        Some(last) => last + 1,
        None => insertion_point(doc, id, &claimed),
    };
    for (offset, line) in lines[mine.len()..].iter().enumerate() {
        doc.insert_words(id, at + offset, &words(line));
    }
}

/// Where new settings go: after the last line the table knows, else before
/// the first keyword line, else after the last line of the section.
fn insertion_point(doc: &Document, id: SectionId, claimed: &[Claimed]) -> usize {
    if let Some(last) = claimed.iter().map(|c| c.index).max() {
        return last + 1;
    }
    let section = doc.section(id);
    if let Some((first, _)) = section.keyword_lines().next() {
        return first;
    }
    section
        .lines()
        .enumerate()
        .filter(|(_, l)| l.kind() == LineKind::Directive)
        .map(|(i, _)| i + 1)
        .last()
        .unwrap_or(0)
}

fn words(line: &[String]) -> Vec<&str> {
    line.iter().map(String::as_str).collect()
}
