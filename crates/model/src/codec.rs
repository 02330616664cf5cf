//! One engine for every codec: arguments -> JSON value, and back.
//!
//! `decode` reads the arguments that follow a keyword; `encode` turns a JSON
//! value into those arguments. Codecs that name other tables (`params(..)`)
//! call into the param-table engine.

use serde_json::{Map, Value};

use crate::error::ModelError;
use crate::params;
use crate::table::{Codec, Key};
use crate::value::{format_size, format_time, parse_size, parse_time};

/// What a JSON value turns into for one keyword.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rendered {
    /// No line (or param) at all.
    Absent,
    /// The keyword followed by these arguments.
    Args(Vec<String>),
    /// The negated keyword (`no option x`, `no-check`).
    Negated,
}

/// How many arguments a codec takes inside a param table; `None` means all
/// that remain.
pub(crate) fn arity(codec: &Codec) -> Option<usize> {
    match codec {
        Codec::Flag | Codec::Toggle | Codec::Const(_) => Some(0),
        Codec::Words | Codec::Wordlist | Codec::Spaced | Codec::Custom(_) => None,
        Codec::List(inner) => arity(inner),
        // A table of positionals only takes that many words (`hdr NAME FMT`).
        Codec::Params(name) => {
            let table = params::table(name);
            let all = table
                .entries
                .iter()
                .all(|e| matches!(e.key, Key::Positional(_)));
            all.then_some(table.entries.len())
        }
        Codec::Tagged(_, None, _) => Some(0),
        _ => Some(1),
    }
}

/// Decodes `args` (the words after the keyword). `negated` is true for `no
/// KEYWORD` lines and `no-KEYWORD` params. Errors say why the words do not
/// fit; callers keep such lines as they are.
pub(crate) fn decode(codec: &Codec, args: &[&str], negated: bool) -> Result<Value, String> {
    let one = || match args {
        [a] => Ok(*a),
        _ => Err(format!("expected one argument, found {}", args.len())),
    };
    let none = || {
        if args.is_empty() {
            Ok(())
        } else {
            Err("expected no argument".to_owned())
        }
    };
    if negated {
        // `no option redispatch`: the object with its presence field off.
        if let Codec::Params(name) = codec {
            if let (Some(field), true) = (params::negatable(params::table(name)), args.is_empty()) {
                let mut object = Map::new();
                object.insert(field.to_owned(), Value::String("disabled".into()));
                return Ok(Value::Object(object));
            }
        }
    }
    if negated && !matches!(codec, Codec::Toggle | Codec::Flag) {
        return Err("this keyword has no negated form".into());
    }
    Ok(match codec {
        // The caller puts the word as written in its place.
        Codec::Str | Codec::Bytes | Codec::AsIs => Value::String(one()?.to_owned()),
        Codec::Words => {
            if args.is_empty() {
                return Err("expected a value".into());
            }
            Value::String(args.join(" "))
        }
        Codec::Int(_) => {
            let word = one()?;
            Value::from(
                word.parse::<i64>()
                    .map_err(|_| format!("'{word}' is not an integer"))?,
            )
        }
        Codec::Time(unit) => {
            let word = one()?;
            Value::from(
                parse_time(word, *unit, *unit).ok_or_else(|| format!("'{word}' is not a time"))?,
            )
        }
        Codec::Size => {
            let word = one()?;
            Value::from(parse_size(word).ok_or_else(|| format!("'{word}' is not a size"))?)
        }
        Codec::Enum(allowed) => {
            let word = one()?;
            if !allowed.iter().any(|a| a == word) {
                return Err(format!("'{word}' is not one of {}", allowed.join(", ")));
            }
            Value::String(word.to_owned())
        }
        Codec::Flag => {
            none()?;
            Value::Bool(!negated)
        }
        Codec::Toggle => {
            none()?;
            Value::String(if negated { "disabled" } else { "enabled" }.into())
        }
        Codec::Const(v) => {
            none()?;
            Value::String(v.clone())
        }
        Codec::Csv => Value::Array(
            one()?
                .split(',')
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        Codec::OnOff => match one()? {
            "on" => Value::String("enabled".into()),
            "off" => Value::String("disabled".into()),
            "auto" => Value::String("auto".into()),
            other => return Err(format!("'{other}' is not one of on, off, auto")),
        },
        Codec::Wordlist | Codec::Spaced => {
            if args.is_empty() {
                return Err("expected at least one word".into());
            }
            if args
                .iter()
                .any(|a| a.is_empty() || a.contains(char::is_whitespace))
            {
                return Err("a quoted word holds spaces".into());
            }
            match codec {
                Codec::Spaced => Value::String(args.join(" ")),
                _ => Value::Array(args.iter().map(|a| Value::String(a.to_string())).collect()),
            }
        }
        Codec::List(inner) => Value::Array(vec![decode(inner, args, negated)?]),
        Codec::Params(table) => Value::Object(params::decode_all(params::table(table), args)?),
        Codec::Custom(name) => {
            let (value, used) = crate::custom::decode(name, args)?;
            if used != args.len() {
                return Err(format!("unexpected '{}'", args[used..].join(" ")));
            }
            value
        }
        Codec::Fields(fields) => {
            let values: Vec<&str> = one()?.split(',').collect();
            let required = fields.iter().filter(|f| !f.optional).count();
            if values.len() < required || values.len() > fields.len() {
                return Err(format!("expected {required} to {} values", fields.len()));
            }
            let mut object = Map::new();
            for (field, value) in fields.iter().zip(values) {
                let value = match field.int {
                    true => Value::from(
                        value
                            .parse::<i64>()
                            .map_err(|_| format!("'{value}' is not an integer"))?,
                    ),
                    false if value.is_empty() => return Err("an empty value".into()),
                    false => Value::String(value.to_owned()),
                };
                object.insert(field.name.clone(), value);
            }
            Value::Object(object)
        }
        Codec::Literal(word) => {
            if one()? != word {
                return Err(format!("expected '{word}'"));
            }
            Value::Null
        }
        // The caller adds the keyword as the tag's value.
        Codec::Tagged(_, arg, _) => {
            let mut object = Map::new();
            if let Some(arg) = arg {
                object.insert(arg.clone(), Value::String(one()?.to_owned()));
            } else {
                none()?;
            }
            Value::Object(object)
        }
    })
}

/// Encodes one JSON value (not a list) for `codec`. `field` names it in errors.
pub(crate) fn encode(codec: &Codec, value: &Value, field: &str) -> Result<Rendered, ModelError> {
    let invalid = |what: &str| ModelError::invalid(field, format!("expected {what}, got {value}"));
    let string = || value.as_str().ok_or_else(|| invalid("a string"));
    let integer = || value.as_i64().ok_or_else(|| invalid("an integer"));
    Ok(match codec {
        Codec::AsIs => match string()? {
            "" => Rendered::Absent,
            // The word as written goes into the file as it is.
            s => Rendered::Args(vec![haplane_cfg::verbatim(s)]),
        },
        Codec::Str | Codec::Bytes => {
            // One configuration word; spaces are quoted when written.
            let s = string()?;
            if s.is_empty() {
                return Err(ModelError::invalid(field, "expected a non-empty string"));
            }
            Rendered::Args(vec![s.to_owned()])
        }
        Codec::Words => {
            let s = string()?;
            if s.is_empty() {
                return Err(ModelError::invalid(field, "expected a non-empty string"));
            }
            Rendered::Args(vec![s.to_owned()])
        }
        Codec::Int(domain) => {
            let v = integer()?;
            domain.check(v).map_err(|e| ModelError::invalid(field, e))?;
            Rendered::Args(vec![v.to_string()])
        }
        Codec::Time(unit) => {
            let v = integer()?;
            if v < 0 {
                return Err(ModelError::invalid(field, "a time cannot be negative"));
            }
            Rendered::Args(vec![format_time(v, *unit)])
        }
        Codec::Size => {
            let v = integer()?;
            if v < 0 {
                return Err(ModelError::invalid(field, "a size cannot be negative"));
            }
            Rendered::Args(vec![format_size(v)])
        }
        Codec::Enum(allowed) => {
            let s = string()?;
            if !allowed.iter().any(|a| a == s) {
                let expected = allowed.join(", ");
                return Err(ModelError::invalid(
                    field,
                    format!("'{s}' is not one of {expected}"),
                ));
            }
            Rendered::Args(vec![s.to_owned()])
        }
        Codec::Flag => match value.as_bool().ok_or_else(|| invalid("true or false"))? {
            true => Rendered::Args(vec![]),
            false => Rendered::Absent,
        },
        Codec::Toggle => match string()? {
            "enabled" => Rendered::Args(vec![]),
            "disabled" => Rendered::Negated,
            other => {
                let message = format!("'{other}' is not one of enabled, disabled");
                return Err(ModelError::invalid(field, message));
            }
        },
        Codec::Const(v) => {
            if string()? != v {
                return Ok(Rendered::Absent);
            }
            Rendered::Args(vec![])
        }
        Codec::Csv => {
            let items = value
                .as_array()
                .ok_or_else(|| invalid("an array of strings"))?;
            let words: Vec<&str> = items
                .iter()
                .map(|i| {
                    i.as_str()
                        .filter(|s| !s.is_empty() && !s.contains([',', ' ']))
                })
                .collect::<Option<_>>()
                .ok_or_else(|| invalid("an array of words without commas"))?;
            if words.is_empty() {
                return Ok(Rendered::Absent);
            }
            Rendered::Args(vec![words.join(",")])
        }
        Codec::OnOff => match string()? {
            "enabled" => Rendered::Args(vec!["on".into()]),
            "disabled" => Rendered::Args(vec!["off".into()]),
            "auto" => Rendered::Args(vec!["auto".into()]),
            other => {
                let message = format!("'{other}' is not one of enabled, disabled, auto");
                return Err(ModelError::invalid(field, message));
            }
        },
        Codec::Wordlist => {
            let items = value
                .as_array()
                .ok_or_else(|| invalid("an array of words"))?;
            let words: Vec<String> = items
                .iter()
                .map(|i| {
                    i.as_str()
                        .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
                })
                .map(|w| w.map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| invalid("an array of words without spaces"))?;
            if words.is_empty() {
                return Ok(Rendered::Absent);
            }
            Rendered::Args(words)
        }
        Codec::Spaced => {
            let words: Vec<String> = string()?.split_whitespace().map(str::to_owned).collect();
            if words.is_empty() {
                return Err(ModelError::invalid(field, "expected at least one word"));
            }
            Rendered::Args(words)
        }
        Codec::List(_) => unreachable!("lists are expanded by the caller"),
        Codec::Params(table) => {
            let object = value.as_object().ok_or_else(|| invalid("an object"))?;
            let table = params::table(table);
            if let Some(field) = params::negatable(table) {
                if object.get(field).and_then(Value::as_str) == Some("disabled") {
                    return Ok(Rendered::Negated);
                }
            }
            Rendered::Args(params::encode_all(table, object, field)?)
        }
        Codec::Custom(name) => match crate::custom::encode(name, value, field)? {
            Some(args) => Rendered::Args(args),
            None => Rendered::Absent,
        },
        Codec::Fields(fields) => {
            let object = value.as_object().ok_or_else(|| invalid("an object"))?;
            if !fields.iter().any(|f| object.contains_key(&f.name)) {
                return Ok(Rendered::Absent);
            }
            let mut values = Vec::new();
            let mut missing = None;
            for sub in fields {
                let name = sub.name.as_str();
                match object.get(name) {
                    None | Some(Value::Null) if sub.optional => missing = Some(name),
                    None | Some(Value::Null) => {
                        return Err(ModelError::MissingField { field: name.into() })
                    }
                    Some(_) if missing.is_some() => {
                        let message = format!("needs {} as well", missing.unwrap_or_default());
                        return Err(ModelError::invalid(name, message));
                    }
                    Some(v) => {
                        let word = match (sub.int, v) {
                            (true, Value::Number(n)) if n.is_i64() => n.to_string(),
                            (false, Value::String(s))
                                if !s.is_empty() && !s.contains([',', ' ', ')']) =>
                            {
                                s.clone()
                            }
                            _ => {
                                let what = if sub.int {
                                    "an integer"
                                } else {
                                    "a word without commas"
                                };
                                return Err(ModelError::invalid(
                                    name,
                                    format!("expected {what}, got {v}"),
                                ));
                            }
                        };
                        values.push(word);
                    }
                }
            }
            Rendered::Args(vec![values.join(",")])
        }
        Codec::Literal(word) => Rendered::Args(vec![word.clone()]),
        Codec::Tagged(..) => unreachable!("tagged entries are encoded by the caller"),
    })
}

/// Sets `value` at `path` in `object`, creating nested objects. Lists
/// append instead of replacing.
pub(crate) fn set_path(object: &mut Map<String, Value>, path: &[String], value: Value) {
    let (last, parents) = path.split_last().expect("paths are never empty");
    let mut here = object;
    for key in parents {
        let slot = here
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        here = slot.as_object_mut().expect("just made an object");
    }
    match (here.get_mut(last), value) {
        (Some(Value::Array(existing)), Value::Array(more)) => existing.extend(more),
        (_, value) => {
            here.insert(last.clone(), value);
        }
    }
}

/// The value at `path` in `object`.
pub(crate) fn get_path<'a>(object: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let value = object.get(first)?;
    if rest.is_empty() {
        return Some(value);
    }
    get_path(value.as_object()?, rest)
}
