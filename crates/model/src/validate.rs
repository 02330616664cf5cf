//! Checks a request body against the JSON Schema the API serves for it
//! (the subset the generated schemas use: `$ref`, `type`, `enum`,
//! `pattern`, `minimum`/`maximum`, `required`, `properties`, `items`,
//! `additionalProperties` given as a schema, `anyOf`). A body that breaks
//! its schema is refused before anything else is looked at, as the
//! reference does (422). Fields the schema does not declare are left to the
//! keyword tables, which name them.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// One way a body breaks its schema: where (`servers.s1.port`, `[2].type`)
/// and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
    /// The value has the wrong JSON type: the body does not even decode
    /// into the resource (the reference answers 400 for that, 422 for the
    /// other violations).
    pub mistyped: bool,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.path.is_empty() {
            true => write!(f, "body {}", self.message),
            false => write!(f, "{} in body {}", self.path, self.message),
        }
    }
}

/// Every violation of `schema` by `value`; `root` holds the components
/// `$ref`s point into (`#/components/schemas/NAME`).
pub fn validate(root: &Value, schema: &Value, value: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    check(root, schema, value, &Path::Root, &mut out);
    out
}

/// The schema mark of a string that may hold control characters (data
/// sent as bytes, written with escapes).
pub const ESCAPED: &str = "x-escaped";

/// The schema mark of a string that is a whole file's text (a rollout's
/// configuration): its line breaks are the file's lines, as the raw
/// endpoint takes them.
pub const FILE_TEXT: &str = "x-file-text";

/// The first string of `value` (keys included) holding a control
/// character other than tab: HAProxy would read it as a line break or a
/// word break, or cut the word at a NUL, so such a value is refused rather
/// than written. Strings whose schema is marked [`ESCAPED`] may hold them
/// (not NUL): they are written as escapes; so may a [`FILE_TEXT`].
pub fn control_character(root: &Value, schema: &Value, value: &Value) -> Option<Violation> {
    fn first_control(text: &str, escaped: bool) -> Option<char> {
        text.chars()
            .find(|&c| c.is_control() && c != '\t' && (!escaped || c == '\0'))
    }
    fn walk(root: &Value, schema: Option<&Value>, value: &Value, path: &Path) -> Option<Violation> {
        let schema = schema.map(|s| resolve(root, s));
        let found = |path: &Path, c: char| Violation {
            path: path.to_string(),
            mistyped: false,
            message: format!(
                "holds the control character U+{:04X}; only tab may appear in a value",
                c as u32
            ),
        };
        let sub = |key: &str| {
            let schema = schema?;
            schema
                .get("properties")
                .and_then(|p| p.get(key))
                .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
        };
        match value {
            Value::String(text) => {
                let marked =
                    |mark: &str| schema.is_some_and(|s| s.get(mark) == Some(&Value::Bool(true)));
                let escaped = marked(ESCAPED) || marked(FILE_TEXT);
                first_control(text, escaped).map(|c| found(path, c))
            }
            Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                walk(
                    root,
                    schema.and_then(|s| s.get("items")),
                    item,
                    &Path::Index(path, i),
                )
            }),
            Value::Object(map) => map.iter().find_map(|(key, item)| {
                let here = Path::Key(path, key);
                match first_control(key, false) {
                    Some(c) => Some(found(&here, c)),
                    None => walk(root, sub(key), item, &here),
                }
            }),
            _ => None,
        }
    }
    walk(root, Some(schema), value, &Path::Root)
}

/// Where a value is in the body, spelled only when a violation names it
/// (`servers.s1.port`, `[2].type`).
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, key) => write!(f, "{key}"),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut here = schema;
    // References chain at most a few times; a loop is a broken document.
    for _ in 0..8 {
        let Some(reference) = here.get("$ref").and_then(Value::as_str) else {
            return here;
        };
        let mut target = root;
        for part in reference.trim_start_matches("#/").split('/') {
            target = &target[part];
        }
        here = target;
    }
    here
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn matches_type(expected: &str, value: &Value) -> bool {
    match expected {
        "number" => value.is_number(),
        other => type_name(value) == other,
    }
}

/// Compiled patterns, kept: the schemas hold a handful.
fn pattern_matches(pattern: &str, text: &str) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if !cache.contains_key(pattern) {
        cache.insert(pattern.to_owned(), regex::Regex::new(pattern).ok());
    }
    let compiled = &cache[pattern];
    // A pattern the engine cannot read constrains nothing.
    compiled.as_ref().is_none_or(|r| r.is_match(text))
}

fn check(root: &Value, schema: &Value, value: &Value, path: &Path, out: &mut Vec<Violation>) {
    let schema = resolve(root, schema);
    // A null is an absent value, as the reference's nullable fields are.
    if value.is_null() {
        return;
    }
    if let Some(expected) = schema.get("type").and_then(Value::as_str) {
        if !matches_type(expected, value) {
            out.push(Violation {
                path: path.to_string(),
                message: format!("must be of type {expected}: \"{}\"", type_name(value)),
                mistyped: true,
            });
            return;
        }
    }
    let mut say = |message: String| {
        out.push(Violation {
            path: path.to_string(),
            message,
            mistyped: false,
        })
    };
    if let Some(Value::Array(values)) = schema.get("enum") {
        if !values.contains(value) {
            let list: Vec<String> = values
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            say(format!("should be one of [{}]", list.join(" ")));
        }
    }
    if let (Some(pattern), Value::String(text)) =
        (schema.get("pattern").and_then(Value::as_str), value)
    {
        if !pattern_matches(pattern, text) {
            say(format!("should match '{pattern}'"));
        }
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
            if n < min {
                say(format!("should be greater than or equal to {min}"));
            }
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
            if n > max {
                say(format!("should be less than or equal to {max}"));
            }
        }
    }
    if let Some(Value::Array(options)) = schema.get("anyOf") {
        let fits = options.iter().any(|option| {
            let mut trial = Vec::new();
            check(root, option, value, path, &mut trial);
            trial.is_empty()
        });
        if !fits {
            // Told in the terms of the option of the value's type (an
            // item, or a list of them), else of the first.
            let typed = options.iter().find(|option| {
                resolve(root, option)
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| matches_type(t, value))
            });
            let mut first = Vec::new();
            if let Some(option) = typed.or(options.first()) {
                check(root, option, value, path, &mut first);
            }
            out.extend(first);
        }
    }
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(required)) = schema.get("required") {
                for name in required.iter().filter_map(Value::as_str) {
                    if object.get(name).is_none_or(Value::is_null) {
                        out.push(Violation {
                            path: Path::Key(path, name).to_string(),
                            message: "is required".into(),
                            mistyped: false,
                        });
                    }
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, item) in object {
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(sub), _) | (None, Some(sub)) => {
                        check(root, sub, item, &Path::Key(path, key), out)
                    }
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(root, sub, item, &Path::Index(path, i), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(schema: Value, value: Value) -> Vec<String> {
        let root = json!({"components": {"schemas": {"port": {"type": "integer", "minimum": 1, "maximum": 65535}}}});
        validate(&root, &schema, &value)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn control_characters_are_named_by_field() {
        let any = json!({});
        let check = |value: Value| control_character(&any, &any, &value);
        assert_eq!(check(json!({"a": "x\ty", "b": [1, "ok"]})), None);
        let v = check(json!({"cookie": "c1\u{b}backup"})).unwrap();
        assert_eq!(
            v.to_string(),
            "cookie in body holds the control character U+000B; only tab may appear in a value"
        );
        let v = check(json!({"hdrs": [{"fmt": "ok"}, {"fmt": "v\r\nX: y"}]})).unwrap();
        assert_eq!(v.path, "hdrs[1].fmt");
        let v = check(json!("a\u{0}")).unwrap();
        assert_eq!(v.path, "");
    }

    #[test]
    fn data_sent_as_bytes_may_hold_control_characters_but_nul() {
        let root = json!({"components": {"schemas": {"check": {"type": "object", "properties": {
            "data": {"type": "string", ESCAPED: true},
            "comment": {"type": "string"}
        }}}}});
        let schema = json!({"type": "array", "items": {"$ref": "#/components/schemas/check"}});
        let check = |value: Value| control_character(&root, &schema, &value);
        assert_eq!(check(json!([{"data": "PING\r\n"}])), None);
        assert_eq!(
            check(json!([{"comment": "a\nb"}])).unwrap().path,
            "[0].comment"
        );
        assert_eq!(check(json!([{"data": "a\u{0}"}])).unwrap().path, "[0].data");
    }

    #[test]
    fn required_type_enum_pattern_bounds_and_refs() {
        let schema = json!({"type": "object", "required": ["name", "mode"], "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9-_.:]+$"},
            "mode": {"type": "string", "enum": ["http", "tcp"]},
            "port": {"$ref": "#/components/schemas/port"},
            "list": {"type": "array", "items": {"type": "integer"}},
            "servers": {"type": "object", "additionalProperties": {"type": "object", "required": ["address"]}}
        }});
        assert_eq!(
            messages(
                schema.clone(),
                json!({"name": "a b", "port": 0, "list": [1, "x"], "servers": {"s1": {}}, "other": 1})
            ),
            [
                "mode in body is required",
                "list[1] in body must be of type integer: \"string\"",
                "name in body should match '^[A-Za-z0-9-_.:]+$'",
                "port in body should be greater than or equal to 1",
                "servers.s1.address in body is required",
            ]
        );
        assert_eq!(
            messages(schema.clone(), json!({"name": "web", "mode": "udp"})),
            ["mode in body should be one of [http tcp]"]
        );
        assert!(messages(schema, json!({"name": "web", "mode": "http", "port": null})).is_empty());
    }

    #[test]
    fn any_of_takes_one_option() {
        let schema = json!({"type": "object", "anyOf": [{"required": ["address"]}, {"required": ["nolog"]}]});
        assert!(messages(schema.clone(), json!({"nolog": true})).is_empty());
        assert_eq!(messages(schema, json!({})), ["address in body is required"]);
    }
}
