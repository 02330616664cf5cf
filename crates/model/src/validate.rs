//! Checks a request body against the JSON Schema the API serves for it
//! (the subset the generated schemas use: `$ref`, `type`, `enum`,
//! `pattern`, `minimum`/`maximum`, `required`, `properties`, `items`,
//! `additionalProperties` given as a schema, `anyOf`). A body that breaks
//! its schema is refused before anything else is looked at, as the
//! reference does (422). Fields the schema does not declare are left to the
//! keyword tables, which name them.

use std::collections::HashMap;

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
    let mut builder = SchemaBuilder::new(root);
    let id = builder.add(schema);
    builder.finish().check(id, value).violations
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
    let mut builder = SchemaBuilder::new(root);
    let id = builder.add(schema);
    builder.finish().check(id, value).control
}

/// A schema of [`Schemas`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchemaId(usize);

/// Schemas made ready for checking many bodies: every `$ref` resolved
/// once, every pattern compiled once, properties found by hash. One set
/// holds the schemas of many operations, which share their components.
#[derive(Debug, Default)]
pub struct Schemas {
    nodes: Vec<Node>,
}

/// What a body check found: every violation of the schema, and the first
/// string holding a control character (see [`control_character`]).
#[derive(Debug, Default)]
pub struct Checked {
    pub violations: Vec<Violation>,
    pub control: Option<Violation>,
}

/// One schema, its references resolved to other nodes.
#[derive(Debug, Default)]
struct Node {
    kind: Option<String>,
    one_of: Option<Vec<Value>>,
    pattern: Option<(String, Option<regex::Regex>)>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    any_of: Vec<usize>,
    required: Vec<String>,
    properties: HashMap<String, usize>,
    additional: Option<usize>,
    items: Option<usize>,
    /// Marked [`ESCAPED`] or [`FILE_TEXT`].
    escaped: bool,
}

/// Builds [`Schemas`] from schemas in a document whose components `$ref`s
/// point into.
#[derive(Debug)]
pub struct SchemaBuilder<'r> {
    root: &'r Value,
    nodes: Vec<Node>,
    /// The node of each schema already built, by its place in `root`.
    built: HashMap<*const Value, usize>,
}

impl<'r> SchemaBuilder<'r> {
    pub fn new(root: &'r Value) -> SchemaBuilder<'r> {
        SchemaBuilder {
            root,
            nodes: Vec::new(),
            built: HashMap::new(),
        }
    }

    pub fn add(&mut self, schema: &'r Value) -> SchemaId {
        SchemaId(self.node(schema))
    }

    pub fn finish(self) -> Schemas {
        Schemas { nodes: self.nodes }
    }

    fn node(&mut self, schema: &'r Value) -> usize {
        let schema = resolve(self.root, schema);
        if let Some(at) = self.built.get(&(schema as *const Value)) {
            return *at;
        }
        let at = self.nodes.len();
        self.nodes.push(Node::default());
        self.built.insert(schema as *const Value, at);
        let text = |key: &str| schema.get(key).and_then(Value::as_str).map(str::to_owned);
        let marked = |mark: &str| schema.get(mark) == Some(&Value::Bool(true));
        let mut node = Node {
            kind: text("type"),
            one_of: schema.get("enum").and_then(Value::as_array).cloned(),
            pattern: text("pattern").map(|p| {
                let compiled = regex::Regex::new(&p).ok();
                (p, compiled)
            }),
            minimum: schema.get("minimum").and_then(Value::as_f64),
            maximum: schema.get("maximum").and_then(Value::as_f64),
            escaped: marked(ESCAPED) || marked(FILE_TEXT),
            required: schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            ..Node::default()
        };
        if let Some(Value::Array(options)) = schema.get("anyOf") {
            node.any_of = options.iter().map(|o| self.node(o)).collect();
        }
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (name, sub) in properties {
                let sub = self.node(sub);
                node.properties.insert(name.clone(), sub);
            }
        }
        if let Some(sub) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            node.additional = Some(self.node(sub));
        }
        if let Some(sub) = schema.get("items") {
            node.items = Some(self.node(sub));
        }
        self.nodes[at] = node;
        at
    }
}

impl Schemas {
    /// Checks `value` against schema `id`, in one walk.
    pub fn check(&self, id: SchemaId, value: &Value) -> Checked {
        let mut walk = Walk {
            nodes: &self.nodes,
            found: Checked::default(),
        };
        walk.walk(Some(id.0), value, &Path::Root, true);
        walk.found
    }
}

struct Walk<'s> {
    nodes: &'s [Node],
    found: Checked,
}

impl Walk<'_> {
    /// Checks `value` against node `at` (none: a field the schema does not
    /// declare) and, with `control` and none found yet, looks for a
    /// control character.
    fn walk(&mut self, at: Option<usize>, value: &Value, path: &Path, control: bool) {
        let control = control && self.found.control.is_none();
        let node = at.map(|at| &self.nodes[at]);
        if !control && node.is_none() {
            return;
        }
        // A null is an absent value, as the reference's nullable fields are.
        if value.is_null() {
            return;
        }
        if let Some(node) = node {
            if !self.constraints(node, value, path) {
                return;
            }
        }
        match value {
            Value::String(text) if control => {
                if let Some(c) = first_control(text, node.is_some_and(|n| n.escaped)) {
                    self.found.control = Some(control_found(path, c));
                }
            }
            Value::Object(object) => {
                let properties = node.map(|n| &n.properties);
                for (key, item) in object {
                    let here = Path::Key(path, key);
                    if control && self.found.control.is_none() {
                        if let Some(c) = first_control(key, false) {
                            self.found.control = Some(control_found(&here, c));
                        }
                    }
                    let sub = properties
                        .and_then(|p| p.get(key.as_str()).copied())
                        .or(node.and_then(|n| n.additional));
                    self.walk(sub, item, &here, control);
                }
            }
            Value::Array(items) => {
                let sub = node.and_then(|n| n.items);
                for (i, item) in items.iter().enumerate() {
                    self.walk(sub, item, &Path::Index(path, i), control);
                }
            }
            _ => {}
        }
    }

    /// The constraints of `node` on `value` itself (and its required
    /// fields); false when the value is of the wrong type, which ends the
    /// check of it.
    fn constraints(&mut self, node: &Node, value: &Value, path: &Path) -> bool {
        let out = &mut self.found.violations;
        if let Some(expected) = &node.kind {
            if !matches_type(expected, value) {
                out.push(Violation {
                    path: path.to_string(),
                    message: format!("must be of type {expected}: \"{}\"", type_name(value)),
                    mistyped: true,
                });
                return false;
            }
        }
        let mut say = |message: String| {
            out.push(Violation {
                path: path.to_string(),
                message,
                mistyped: false,
            })
        };
        if let Some(values) = &node.one_of {
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
        if let (Some((pattern, compiled)), Value::String(text)) = (&node.pattern, value) {
            // A pattern the engine cannot read constrains nothing.
            if !compiled.as_ref().is_none_or(|r| r.is_match(text)) {
                say(format!("should match '{pattern}'"));
            }
        }
        if let Some(n) = value.as_f64() {
            if node.minimum.is_some_and(|min| n < min) {
                say(format!(
                    "should be greater than or equal to {}",
                    node.minimum.unwrap_or_default()
                ));
            }
            if node.maximum.is_some_and(|max| n > max) {
                say(format!(
                    "should be less than or equal to {}",
                    node.maximum.unwrap_or_default()
                ));
            }
        }
        if !node.any_of.is_empty() {
            let trial = |at: usize| {
                let mut walk = Walk {
                    nodes: self.nodes,
                    found: Checked::default(),
                };
                walk.walk(Some(at), value, path, false);
                walk.found.violations
            };
            if !node.any_of.iter().any(|at| trial(*at).is_empty()) {
                // Told in the terms of the option of the value's type (an
                // item, or a list of them), else of the first.
                let typed = node.any_of.iter().find(|at| {
                    self.nodes[**at]
                        .kind
                        .as_deref()
                        .is_some_and(|t| matches_type(t, value))
                });
                if let Some(at) = typed.or(node.any_of.first()) {
                    let first = trial(*at);
                    self.found.violations.extend(first);
                }
            }
        }
        if let Value::Object(object) = value {
            for name in &node.required {
                if object.get(name).is_none_or(Value::is_null) {
                    self.found.violations.push(Violation {
                        path: Path::Key(path, name).to_string(),
                        message: "is required".into(),
                        mistyped: false,
                    });
                }
            }
        }
        true
    }
}

fn first_control(text: &str, escaped: bool) -> Option<char> {
    // Most strings hold no byte below a space: one pass over the bytes.
    if !text.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
        return None;
    }
    text.chars()
        .find(|&c| c.is_control() && c != '\t' && (!escaped || c == '\0'))
}

fn control_found(path: &Path, c: char) -> Violation {
    Violation {
        path: path.to_string(),
        mistyped: false,
        message: format!(
            "holds the control character U+{:04X}; only tab may appear in a value",
            c as u32
        ),
    }
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
    fn one_walk_finds_violations_and_control_characters_through_references() {
        // A schema that refers to itself (a tree) is built once and walked.
        let root = json!({"components": {"schemas": {"node": {"type": "object", "properties": {
            "name": {"type": "string", "pattern": "^[a-z]+$"},
            "data": {"type": "string", ESCAPED: true},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/node"}}
        }}}}});
        let schema = json!({"$ref": "#/components/schemas/node"});
        let mut builder = SchemaBuilder::new(&root);
        let id = builder.add(&schema);
        let again = builder.add(&root["components"]["schemas"]["node"]);
        assert_eq!(id, again, "a reference and its target are one schema");
        let schemas = builder.finish();
        let tree = json!({"name": "a", "children": [
            {"name": "b", "data": "x\r\n"},
            {"name": "C1", "children": [{"name": "d", "note\u{1}": "y", "other": "z\u{2}"}]}
        ]});
        let checked = schemas.check(id, &tree);
        let violations: Vec<String> = checked.violations.iter().map(ToString::to_string).collect();
        assert_eq!(
            violations,
            ["children[1].name in body should match '^[a-z]+$'"]
        );
        // The first in the body's order: a key here, before the value after it.
        assert_eq!(
            checked.control.map(|v| v.path),
            Some("children[1].children[0].note\u{1}".to_owned())
        );
    }

    #[test]
    fn any_of_takes_one_option() {
        let schema = json!({"type": "object", "anyOf": [{"required": ["address"]}, {"required": ["nolog"]}]});
        assert!(messages(schema.clone(), json!({"nolog": true})).is_empty());
        assert_eq!(messages(schema, json!({})), ["address in body is required"]);
    }
}
