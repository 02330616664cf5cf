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
        /// The index of its first word in the parsed words.
        at: usize,
        words: Vec<&'w str>,
        value: Value,
    },
    Unknown {
        words: Vec<&'w str>,
    },
}

/// The entries a word may be the keyword of (several entries may share a
/// keyword: the first whose codec decodes the words wins), and whether it
/// is the negated form (`no-check`).
fn keyword_entries(table: &Table, word: &str) -> (Vec<usize>, bool) {
    let direct: Vec<usize> = table.keyword_entries(word).collect();
    if !direct.is_empty() {
        return (direct, false);
    }
    let Some(positive) = word.strip_prefix("no-") else {
        return (vec![], false);
    };
    let toggles = table
        .keyword_entries(positive)
        .filter(|&i| table.entries[i].codec == Codec::Toggle)
        .collect();
    (toggles, true)
}

/// Decodes the words after a keyword (or from a positional on) for one
/// entry: the value and how many words it used.
fn decode_entry(
    table: &Table,
    entry: usize,
    keyword: Option<&str>,
    rest: &[&str],
    negated: bool,
) -> Option<(Value, usize)> {
    let codec = &table.entries[entry].codec;
    match codec {
        // A custom codec says how many words it takes.
        Codec::Custom(name) if !negated => crate::custom::decode(name, rest).ok(),
        Codec::Tagged(tag, ..) => {
            let take = arity(codec).unwrap_or(0);
            let mut value = codec::decode(codec, rest.get(..take)?, false).ok()?;
            let word = keyword.or_else(|| rest.first().copied())?;
            value
                .as_object_mut()?
                .insert(tag.clone(), Value::String(word.to_owned()));
            Some((value, take))
        }
        _ => {
            let take = arity(codec).unwrap_or(rest.len()).min(rest.len());
            let value = codec::decode(codec, &rest[..take], negated).ok()?;
            Some((value, take))
        }
    }
}

/// Splits `words` into known params and unknown groups.
pub(crate) fn parse<'w>(table: &Table, words: &[&'w str]) -> Vec<Item<'w>> {
    let mut items = Vec::new();
    let mut positional = 0;
    let mut i = 0;
    let is_keyword = |w: &str| {
        table.keyword_entries(w).next().is_some()
            || w.strip_prefix("no-").is_some_and(|p| {
                table
                    .keyword_entries(p)
                    .any(|i| table.entries[i].codec == Codec::Toggle)
            })
    };
    while i < words.len() {
        let word = words[i];
        let (entries, negated) = keyword_entries(table, word);
        if !entries.is_empty() {
            let rest = &words[i + 1..];
            let decoded = entries.iter().find_map(|&entry| {
                decode_entry(table, entry, Some(word), rest, negated).map(|d| (entry, d))
            });
            if let Some((entry, (value, take))) = decoded {
                items.push(Item::Known {
                    entry,
                    at: i,
                    words: words[i..i + 1 + take].to_vec(),
                    value,
                });
                i += 1 + take;
                continue;
            }
        } else {
            let decoded = table.positionals(positional + 1).find_map(|entry| {
                let codec = &table.entries[entry].codec;
                // A custom codec says how many words it takes.
                if let Codec::Custom(name) = codec {
                    let end = (i + 1..words.len())
                        .find(|&j| is_keyword(words[j]))
                        .unwrap_or(words.len());
                    return crate::custom::decode(name, &words[i..end])
                        .ok()
                        .filter(|(_, used)| *used > 0)
                        .map(|(value, used)| (entry, value, used));
                }
                // An argument of several words runs to the next keyword.
                let take = match arity(codec) {
                    None => {
                        (i + 1..words.len())
                            .find(|&j| is_keyword(words[j]))
                            .unwrap_or(words.len())
                            - i
                    }
                    Some(_) => 1,
                };
                codec::decode(codec, &words[i..i + take], false)
                    .ok()
                    .map(|value| (entry, value, take))
            });
            if let Some((entry, value, take)) = decoded {
                positional += 1;
                items.push(Item::Known {
                    entry,
                    at: i,
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
            if value.is_null() {
                continue;
            }
            let value = match &entry.codec {
                Codec::List(_) if !value.is_array() => Value::Array(vec![value.clone()]),
                _ => value.clone(),
            };
            merge(&mut out, &entry.field, value);
        }
    }
    out
}

/// Gives the fields kept as written (`asis`) the word as the file spells
/// it, quotes included: `raw` holds the words `items` were parsed from, as
/// written.
pub(crate) fn keep_written(
    table: &Table,
    items: &[Item<'_>],
    raw: &[&str],
    out: &mut Map<String, Value>,
) {
    for item in items {
        let Item::Known {
            entry, at, words, ..
        } = item
        else {
            continue;
        };
        let entry = &table.entries[*entry];
        let Some(word) = raw.get(at + words.len().saturating_sub(1)) else {
            continue;
        };
        match &entry.codec {
            Codec::AsIs => merge(out, &entry.field, Value::String((*word).to_owned())),
            Codec::Tagged(_, Some(arg), true) if words.len() > 1 => {
                out.insert(arg.clone(), Value::String((*word).to_owned()));
            }
            _ => {}
        }
    }
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
        let identity = table.identity(entry);
        if done.insert(identity) {
            out.extend(encode_field(table, identity, object, field)?);
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
    update_from(table, &items, &old, new, field)
}

/// Like [`update`], for a line already read: its params' `items` and the
/// object they decode to (which may hold other fields too, such as a
/// server's name: only the table's fields are compared). `new` may also
/// hold fields the table does not know; they are not written.
pub(crate) fn update_from(
    table: &Table,
    items: &[Item<'_>],
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, ModelError> {
    let mut out: Vec<String> = Vec::new();
    // By identity (`Entry::identity_index`): written already, on the line.
    let mut emitted = vec![false; table.identities];
    let mut on_line = vec![false; table.identities];
    for item in items {
        match item {
            Item::Unknown { words } => out.extend(words.iter().map(|w| w.to_string())),
            Item::Known { entry, words, .. } => {
                let entry = &table.entries[*entry];
                let identity = table.identity(entry);
                on_line[entry.identity_index] = true;
                if same_at(new, old, identity) {
                    out.extend(words.iter().map(|w| w.to_string()));
                } else if !std::mem::replace(&mut emitted[entry.identity_index], true) {
                    out.extend(encode_field(table, identity, new, field)?);
                }
            }
        }
    }
    // Then each identity not written yet that `new` gives, at its first
    // entry.
    for i in table.identities_in(new) {
        let entry = &table.entries[i];
        // Whether the line had words for it (a value that only `@present`
        // gives, such as an empty default, is not written there).
        let present_before = !matches!(entry.key, Key::Present) && on_line[entry.identity_index];
        if !present_before && !emitted[entry.identity_index] {
            out.extend(encode_field(table, table.identity(entry), new, field)?);
        }
    }
    Ok(out)
}

/// Whether an identity (see `Entry::identity`) has the same value in two
/// objects: the value at the path, or each of the merged keys.
fn same_at(a: &Map<String, Value>, b: &Map<String, Value>, identity: &[String]) -> bool {
    match identity.split_first() {
        Some((dot, keys)) if dot == "." => keys.iter().all(|k| a.get(k) == b.get(k)),
        _ => get_path(a, identity) == get_path(b, identity),
    }
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
    // A fixed word is always written.
    if path == ["_"] {
        let words = table.with_identity(path).filter_map(|e| match &e.codec {
            Codec::Literal(w) => Some(vec![w.clone()]),
            _ => None,
        });
        return Ok(words.collect());
    }
    let whole;
    let value = if path.first().map(String::as_str) == Some(".") {
        // A `.` entry reads its fields from the object itself.
        if !path[1..].iter().any(|k| object.contains_key(k)) {
            return Ok(vec![]);
        }
        whole = Value::Object(
            object
                .iter()
                .filter(|(k, _)| path[1..].contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
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
    let entries: Vec<&Entry> = table.with_identity(path).collect();
    let name = match path.split_first() {
        Some((dot, keys)) if dot == "." => join(prefix, &keys.join(", ")),
        _ => join(prefix, &path.join(".")),
    };
    if let Some(Codec::Tagged(tag, ..)) = entries.first().map(|e| &e.codec) {
        return encode_tagged(&entries, tag, object, &name);
    }
    let mut out = Vec::new();
    let mut matched = false;
    for (at, entry) in entries.iter().enumerate() {
        // A keyword the running HAProxy does not have is never written; an
        // older spelling after it may be (`tune.quic.fe.*`, then 3.2's).
        if let (Some(since), Some(running)) = (entry.since, crate::table::running()) {
            if running < since {
                let older = entries[at + 1..]
                    .iter()
                    .any(|e| e.since.is_none_or(|s| s <= running));
                if !older {
                    let message = format!(
                        "needs HAProxy {}.{} or later; the running HAProxy is {}.{}",
                        since.0, since.1, running.0, running.1
                    );
                    return Err(ModelError::invalid(&name, message));
                }
                continue;
            }
        }
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
                // The end of the action word, written by the rule.
                (Key::Suffix { .. }, _) => matched = true,
                (_, Rendered::Negated) => {
                    return Err(ModelError::invalid(&name, "cannot be disabled here"))
                }
            }
        }
        // Of entries sharing a field, the first that writes it is enough
        // (`deny_status` and its other spelling `status`).
        if matched {
            break;
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

/// The entries of a `tagged(..)` field: the one whose keyword is the tag's
/// value writes it, with its argument.
fn encode_tagged(
    entries: &[&Entry],
    tag: &str,
    object: &Map<String, Value>,
    name: &str,
) -> Result<Vec<Vec<String>>, ModelError> {
    let Some(value) = object.get(tag) else {
        return Err(ModelError::MissingField { field: tag.into() });
    };
    let word = value.as_str().unwrap_or_default();
    let entry = entries.iter().find(|e| match &e.key {
        Key::Words(k) => k.len() == 1 && k[0] == word,
        _ => false,
    });
    let Some(entry) = entry else {
        let allowed: Vec<String> = entries
            .iter()
            .filter_map(|e| match &e.key {
                Key::Words(k) => Some(k.join(" ")),
                _ => None,
            })
            .collect();
        let message = format!("{value} is not one of {}", allowed.join(", "));
        return Err(ModelError::invalid(tag, message));
    };
    let Key::Words(keyword) = &entry.key else {
        unreachable!("found by its keyword")
    };
    let mut words = keyword.clone();
    if let Codec::Tagged(_, Some(arg), asis) = &entry.codec {
        match object.get(arg) {
            Some(Value::String(s)) if !s.is_empty() && *asis => {
                words.push(haplane_cfg::verbatim(s))
            }
            Some(Value::String(s)) if !s.is_empty() => words.push(s.clone()),
            Some(other) => {
                let message = format!("expected a non-empty string, got {other}");
                return Err(ModelError::invalid(arg, message));
            }
            None => return Err(ModelError::MissingField { field: arg.clone() }),
        }
    } else if let Some((_, arg)) = entries.iter().find_map(|e| match &e.codec {
        Codec::Tagged(_, Some(arg), _) => object.get(arg).map(|v| (e, v)),
        _ => None,
    }) {
        let message = format!("'{word}' takes no content, got {arg}");
        let field = entries.iter().find_map(|e| match &e.codec {
            Codec::Tagged(_, Some(arg), _) => Some(arg.as_str()),
            _ => None,
        });
        return Err(ModelError::invalid(field.unwrap_or(name), message));
    }
    Ok(vec![words])
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
        let exact = table.has_field(&here) || (path.is_empty() && table.merges(key));
        let deeper = table.has_field_under(&here);
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
pub(crate) fn take_entry_value(entry: &Entry, object: &mut Map<String, Value>) -> Option<Value> {
    if !is_merged(&entry.field) {
        return take_field(object, &entry.field);
    }
    let mut taken = Map::new();
    for key in entry.merged() {
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
