//! The param-table engine: keywords inside one line (`check`, `weight 10`,
//! `ssl verify none`...) to JSON object fields, and back.
//!
//! A word that no entry knows starts an *unknown* group, which runs to the
//! next known keyword. Unknown groups are never dropped: [`update`] keeps
//! them where they were.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::codec::{self, arity, get_path, set_path, Rendered};
use crate::error::ModelError;
use crate::table::{params_table, Codec, Entry, Key, Table};

pub(crate) fn table(name: &str) -> &'static Table {
    params_table(name)
}

/// One group of words of a parsed line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item<'w> {
    Known {
        entry: usize,
        words: Vec<&'w str>,
        value: Value,
    },
    Unknown {
        words: Vec<&'w str>,
    },
}

fn keyword_entry(table: &Table, word: &str) -> Option<(usize, bool)> {
    if let Some((i, 1)) = table.match_words(&[word]) {
        return Some((i, false));
    }
    let positive = word.strip_prefix("no-")?;
    match table.match_words(&[positive]) {
        Some((i, 1)) if table.entries[i].codec == Codec::Toggle => Some((i, true)),
        _ => None,
    }
}

/// Splits `words` into known params and unknown groups.
pub(crate) fn parse<'w>(table: &Table, words: &[&'w str]) -> Vec<Item<'w>> {
    let mut items = Vec::new();
    let mut positional = 0;
    let mut i = 0;
    let is_keyword = |w: &str| keyword_entry(table, w).is_some();
    while i < words.len() {
        let word = words[i];
        if let Some((entry, negated)) = keyword_entry(table, word) {
            let codec = &table.entries[entry].codec;
            let rest = &words[i + 1..];
            let decoded = match codec {
                // A custom codec says how many words it takes.
                Codec::Custom(name) if !negated => crate::custom::decode(name, rest),
                _ => {
                    let take = arity(codec).unwrap_or(rest.len()).min(rest.len());
                    codec::decode(codec, &rest[..take], negated).map(|v| (v, take))
                }
            };
            if let Ok((value, take)) = decoded {
                items.push(Item::Known {
                    entry,
                    words: words[i..i + 1 + take].to_vec(),
                    value,
                });
                i += 1 + take;
                continue;
            }
        } else if let Some(entry) = table.positional(positional + 1) {
            // A positional `words`/`spaced` argument takes all that remains.
            let codec = &table.entries[entry].codec;
            let take = if arity(codec).is_none() {
                words.len() - i
            } else {
                1
            };
            if let Ok(value) = codec::decode(codec, &words[i..i + take], false) {
                positional += 1;
                items.push(Item::Known {
                    entry,
                    words: words[i..i + take].to_vec(),
                    value,
                });
                i += take;
                continue;
            }
        }
        let end = (i + 1..words.len())
            .find(|&j| is_keyword(words[j]))
            .unwrap_or(words.len());
        items.push(Item::Unknown {
            words: words[i..end].to_vec(),
        });
        i = end;
    }
    items
}

/// The field of a table's `@present` entry when it is `const(enabled)`:
/// such an object is written `no KEYWORD` when that field is "disabled".
pub(crate) fn negatable(table: &Table) -> Option<&str> {
    table
        .entries
        .iter()
        .find(|e| e.key == Key::Present && matches!(&e.codec, Codec::Const(v) if v == "enabled"))
        .filter(|e| e.field.len() == 1)
        .map(|e| e.field[0].as_str())
}

/// Decodes known items into an object (entries marked `@present` included).
pub(crate) fn object(table: &Table, items: &[Item<'_>]) -> Map<String, Value> {
    let mut out = Map::new();
    for entry in table.entries.iter().filter(|e| e.key == Key::Present) {
        if let Ok(value) = codec::decode(&entry.codec, &[], false) {
            set_path(&mut out, &entry.field, value);
        }
    }
    for item in items {
        if let Item::Known { entry, value, .. } = item {
            let entry = &table.entries[*entry];
            let value = match &entry.codec {
                Codec::List(_) if !value.is_array() => Value::Array(vec![value.clone()]),
                _ => value.clone(),
            };
            merge(&mut out, &entry.field, value);
        }
    }
    out
}

/// Decodes all of `words`; fails if any word is unknown.
pub(crate) fn decode_all(table: &Table, words: &[&str]) -> Result<Map<String, Value>, String> {
    let items = parse(table, words);
    if let Some(Item::Unknown { words }) = items.iter().find(|i| matches!(i, Item::Unknown { .. }))
    {
        return Err(format!("unknown parameter '{}'", words.join(" ")));
    }
    Ok(object(table, &items))
}

/// Encodes an object into words, in table order; `field` prefixes errors.
pub(crate) fn encode_all(
    table: &Table,
    object: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, ModelError> {
    check_fields(table, object, field, &[])?;
    let mut out = Vec::new();
    let mut done = HashSet::new();
    for entry in &table.entries {
        if done.insert(entry.field.clone()) {
            out.extend(encode_field(table, &entry.field, object, field)?);
        }
    }
    Ok(out)
}

/// Re-encodes a line's params for `new`, keeping every word whose field did
/// not change, and unknown groups, where they were. New fields go at the end.
pub(crate) fn update(
    table: &Table,
    words: &[&str],
    new: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, ModelError> {
    let items = parse(table, words);
    let old = object(table, &items);
    let mut out: Vec<String> = Vec::new();
    let mut emitted: HashSet<&Vec<String>> = HashSet::new();
    for item in &items {
        match item {
            Item::Unknown { words } => out.extend(words.iter().map(|w| w.to_string())),
            Item::Known { entry, words, .. } => {
                let path = &table.entries[*entry].field;
                if get_path(new, path) == get_path(&old, path) {
                    out.extend(words.iter().map(|w| w.to_string()));
                } else if emitted.insert(path) {
                    out.extend(encode_field(table, path, new, field)?);
                }
            }
        }
    }
    let mut seen: HashSet<&Vec<String>> = HashSet::new();
    for entry in &table.entries {
        let path = &entry.field;
        let present_before = get_path(&old, path).is_some() && entry.key != Key::Present;
        if seen.insert(path) && !present_before && !emitted.contains(path) {
            out.extend(encode_field(table, path, new, field)?);
        }
    }
    Ok(out)
}

/// How a negated keyword is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Negation {
    /// `no option httplog`: a line of a section.
    Word,
    /// `no-check`: a param inside a line.
    Dash,
}

/// The words for one field (all entries that share its path), params style.
fn encode_field(
    table: &Table,
    path: &[String],
    object: &Map<String, Value>,
    prefix: &str,
) -> Result<Vec<String>, ModelError> {
    Ok(encode_groups(table, path, object, prefix, Negation::Dash)?.concat())
}

/// The keyword groups for one field: one group per line (section tables) or
/// per param (param tables), keyword first.
pub(crate) fn encode_groups(
    table: &Table,
    path: &[String],
    object: &Map<String, Value>,
    prefix: &str,
    negation: Negation,
) -> Result<Vec<Vec<String>>, ModelError> {
    let whole = Value::Object(object.clone());
    let value = if is_merged(path) {
        // A `.` entry reads its fields from the object itself.
        let fields = merged_fields(table, path);
        if !object.keys().any(|k| fields.contains(&k.as_str())) {
            return Ok(vec![]);
        }
        &whole
    } else {
        match get_path(object, path) {
            Some(v) => v,
            None => return Ok(vec![]),
        }
    };
    if value.is_null() {
        return Ok(vec![]);
    }
    let name = join(prefix, &path.join("."));
    let entries: Vec<&Entry> = table.entries.iter().filter(|e| e.field == path).collect();
    let mut out = Vec::new();
    let mut matched = false;
    for entry in &entries {
        let items: Vec<&Value> = match (&entry.codec, value) {
            (Codec::List(_), Value::Array(items)) => items.iter().collect(),
            (Codec::List(_), _) => return Err(ModelError::invalid(&name, "expected an array")),
            _ => vec![value],
        };
        let codec = match &entry.codec {
            Codec::List(inner) => inner,
            other => other,
        };
        for item in items {
            let rendered = codec::encode(codec, item, &name)?;
            match (&entry.key, rendered) {
                (_, Rendered::Absent) => {}
                (Key::Present, _) => matched = true,
                (Key::Positional(_), Rendered::Args(args)) => {
                    matched = true;
                    out.push(args);
                }
                (Key::Words(k), Rendered::Args(args)) => {
                    matched = true;
                    out.push(k.iter().cloned().chain(args).collect());
                }
                (Key::Words(k), Rendered::Negated) => {
                    matched = true;
                    out.push(match negation {
                        Negation::Dash => vec![format!("no-{}", k.join(" "))],
                        Negation::Word => std::iter::once("no".to_owned())
                            .chain(k.iter().cloned())
                            .collect(),
                    });
                }
                (_, Rendered::Negated) => {
                    return Err(ModelError::invalid(&name, "cannot be disabled here"))
                }
            }
        }
    }
    let is_consts = entries.iter().all(|e| matches!(e.codec, Codec::Const(_)));
    if is_consts && !matched {
        let allowed: Vec<String> = entries
            .iter()
            .filter_map(|e| match &e.codec {
                Codec::Const(v) => Some(v.clone()),
                _ => None,
            })
            .collect();
        let message = format!("{value} is not one of {}", allowed.join(", "));
        return Err(ModelError::invalid(&name, message));
    }
    Ok(out)
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

/// Fails on the first key of `object` that no entry of `table` maps (keys in
/// `identity` are allowed: they belong to the line's positional part).
pub(crate) fn check_fields(
    table: &Table,
    object: &Map<String, Value>,
    prefix: &str,
    identity: &[&str],
) -> Result<(), ModelError> {
    check_level(table, object, &[], prefix, identity)
}

fn check_level(
    table: &Table,
    object: &Map<String, Value>,
    path: &[String],
    prefix: &str,
    identity: &[&str],
) -> Result<(), ModelError> {
    for (key, value) in object {
        if path.is_empty() && identity.contains(&key.as_str()) {
            continue;
        }
        let mut here = path.to_vec();
        here.push(key.clone());
        let exact = table.entries.iter().any(|e| e.field == here)
            || (path.is_empty()
                && table.entries.iter().any(|e| {
                    is_merged(&e.field) && merged_fields(table, &e.field).contains(&key.as_str())
                }));
        let deeper = table
            .entries
            .iter()
            .any(|e| e.field.len() > here.len() && e.field.starts_with(&here));
        match value {
            _ if exact => {}
            Value::Object(inner) if deeper => check_level(table, inner, &here, prefix, identity)?,
            Value::Null if deeper => {}
            _ => {
                return Err(ModelError::UnknownField {
                    field: join(prefix, &here.join(".")),
                })
            }
        }
    }
    Ok(())
}

/// Sets `value` at `path`; the path `.` merges an object into `object`.
pub(crate) fn merge(object: &mut Map<String, Value>, path: &[String], value: Value) {
    match (path, value) {
        ([only], Value::Object(fields)) if only == "." => object.extend(fields),
        (_, value) => set_path(object, path, value),
    }
}

/// Takes the value of `entry` out of `object`: the value at its path, or
/// for a `.` entry the object of the keys it merges.
pub(crate) fn take_entry_value(
    table: &Table,
    entry: &Entry,
    object: &mut Map<String, Value>,
) -> Option<Value> {
    if !is_merged(&entry.field) {
        return take_field(object, &entry.field);
    }
    let mut taken = Map::new();
    for key in merged_fields(table, &entry.field) {
        if let Some(v) = object.remove(key) {
            taken.insert(key.to_owned(), v);
        }
    }
    (!taken.is_empty()).then_some(Value::Object(taken))
}

/// Takes the value at `path` out of `object`.
pub(crate) fn take_field(object: &mut Map<String, Value>, path: &[String]) -> Option<Value> {
    match path {
        [only] => object.remove(only),
        [first, rest @ ..] => object
            .get_mut(first)?
            .as_object_mut()
            .and_then(|o| take_field(o, rest)),
        [] => None,
    }
}

fn is_merged(path: &[String]) -> bool {
    matches!(path, [only] if only == ".")
}

/// The object keys a `.` entry of `table` reads and writes.
fn merged_fields(table: &Table, path: &[String]) -> Vec<&'static str> {
    table
        .entries
        .iter()
        .filter(|e| e.field == path)
        .flat_map(|e| match &e.codec {
            Codec::Custom(name) => crate::custom::merged_fields(name).to_vec(),
            _ => vec![],
        })
        .collect()
}
