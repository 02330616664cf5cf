//! JSON Schemas of the resources, derived from the keyword tables (the
//! single description of each resource's fields), for the OpenAPI document.

use serde_json::{json, Map, Value};

use crate::table::{params_table, section_table, Codec, Entry, Key, Table};

fn codec_schema(codec: &Codec, entries: &[&Entry]) -> Value {
    match codec {
        Codec::Str | Codec::AsIs | Codec::Words | Codec::Spaced => json!({"type": "string"}),
        // The mark lets control characters through the body check.
        Codec::Bytes => json!({"type": "string", crate::validate::ESCAPED: true}),
        Codec::Int(domain) => {
            let mut schema = json!({"type": "integer"});
            if !domain.values.is_empty() {
                schema["enum"] = json!(domain.values);
            }
            if let Some(min) = domain.min {
                schema["minimum"] = json!(min);
            }
            if let Some(max) = domain.max {
                schema["maximum"] = json!(max);
            }
            schema
        }
        Codec::Time(1000) => {
            json!({"type": "integer", "minimum": 0, "x-duration": true, "x-default-unit": "s"})
        }
        Codec::Time(_) => {
            json!({"type": "integer", "minimum": 0, "x-duration": true, "x-default-unit": "ms"})
        }
        Codec::Size => json!({"type": "integer", "minimum": 0, "x-size": true}),
        Codec::Enum(values) => json!({"type": "string", "enum": values}),
        Codec::Flag => json!({"type": "boolean"}),
        Codec::Toggle => json!({"type": "string", "enum": ["enabled", "disabled"]}),
        Codec::OnOff => json!({"type": "string", "enum": ["enabled", "disabled", "auto"]}),
        Codec::Const(_) => {
            let values: Vec<&str> = entries
                .iter()
                .filter_map(|e| match &e.codec {
                    Codec::Const(v) => Some(v.as_str()),
                    Codec::Toggle => Some("enabled"),
                    _ => None,
                })
                .collect();
            json!({"type": "string", "enum": values})
        }
        Codec::Csv | Codec::Wordlist => json!({"type": "array", "items": {"type": "string"}}),
        Codec::List(inner) => json!({"type": "array", "items": codec_schema(inner, &[])}),
        Codec::Params(name) => table_schema(params_table(name), &[]),
        Codec::Custom(name) => crate::custom::schema(name),
        Codec::Fields(_) | Codec::Literal(_) | Codec::Tagged(..) => {
            unreachable!("merged into the object")
        }
    }
}

/// Inserts `schema` at the dotted `path` of an object schema.
fn insert(root: &mut Map<String, Value>, path: &[String], schema: Value) {
    let (last, parents) = path.split_last().expect("paths are never empty");
    let mut here = root;
    for key in parents {
        let slot = here
            .entry(key.clone())
            .or_insert_with(|| json!({"type": "object", "properties": {}}));
        here = slot["properties"]
            .as_object_mut()
            .expect("nested objects have properties");
    }
    here.entry(last.clone()).or_insert(schema);
}

/// Adds the schema of every field of `table` to `properties`; the keys a
/// `.` entry merges are strings.
fn add_properties(table: &Table, properties: &mut Map<String, Value>) {
    for entry in &table.entries {
        if entry.field.last().is_some_and(|l| l.starts_with('.')) {
            let parent = &entry.field[..entry.field.len() - 1];
            let merged: Vec<(String, Value)> = match &entry.codec {
                Codec::Fields(fields) => fields
                    .iter()
                    .map(|f| {
                        let kind = if f.int { "integer" } else { "string" };
                        (f.name.clone(), json!({"type": kind}))
                    })
                    .collect(),
                Codec::Tagged(tag, arg, _) => {
                    // The tag's values are the keywords of its entries.
                    let values: Vec<String> = table
                        .entries
                        .iter()
                        .filter(|e| matches!(&e.codec, Codec::Tagged(t, ..) if t == tag))
                        .filter_map(|e| match &e.key {
                            Key::Words(k) => Some(k.join(" ")),
                            _ => None,
                        })
                        .collect();
                    let mut out = vec![(tag.clone(), json!({"type": "string", "enum": values}))];
                    out.extend(arg.iter().map(|a| (a.clone(), json!({"type": "string"}))));
                    out
                }
                codec => {
                    let custom = match codec {
                        Codec::Custom(name) => crate::custom::schema(name),
                        _ => json!({}),
                    };
                    entry
                        .merged()
                        .iter()
                        .map(|k| {
                            let schema = custom["properties"][*k].clone();
                            let schema = match schema.is_null() {
                                true => json!({"type": "string"}),
                                false => schema,
                            };
                            (k.to_string(), schema)
                        })
                        .collect()
                }
            };
            for (key, schema) in merged {
                let path: Vec<String> = parent.iter().cloned().chain([key]).collect();
                insert(properties, &path, schema);
            }
            continue;
        }
        if entry.field == ["_"] {
            continue;
        }
        if matches!(entry.key, Key::Present) && !matches!(entry.codec, Codec::Const(_)) {
            continue;
        }
        let siblings: Vec<&Entry> = table
            .entries
            .iter()
            .filter(|e| e.field == entry.field)
            .collect();
        insert(
            properties,
            &entry.field,
            codec_schema(&entry.codec, &siblings),
        );
    }
}

fn table_schema(table: &Table, extra: &[(&str, Value)]) -> Value {
    let mut properties = Map::new();
    for (name, schema) in extra {
        properties.insert((*name).to_owned(), schema.clone());
    }
    add_properties(table, &mut properties);
    json!({"type": "object", "additionalProperties": false, "properties": properties})
}

fn name_schema() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z0-9-_.:]+$"})
}

/// The schema of a SPOE agent, message or group.
pub fn spoe_schema(kind: crate::spoe::SpoeKind) -> Value {
    let mut s = table_schema(section_table(kind.schema()), &[("name", name_schema())]);
    s["required"] = json!(["name"]);
    s
}

/// The schema of a resource: `global`, `defaults`, `frontend`, `backend`,
/// `server`, `bind`.
pub fn resource_schema(resource: &str) -> Value {
    let port = json!({"type": "integer", "minimum": 1, "maximum": 65535});
    let metadata = json!({"type": "object", "additionalProperties": true});
    let mut schema = match resource {
        "global" => table_schema(section_table("global"), &[("metadata", metadata)]),
        "defaults" | "frontend" | "backend" => {
            let mut s = table_schema(
                section_table("proxy"),
                &[
                    ("name", name_schema()),
                    ("from", name_schema()),
                    ("metadata", metadata),
                ],
            );
            // Keep only the fields the section kind accepts.
            let keep: Vec<String> = crate::table::field_names("section", "proxy")
                .into_iter()
                .filter(|(_, scope)| match resource {
                    "defaults" => scope.defaults,
                    "frontend" => scope.frontend,
                    _ => scope.backend,
                })
                .map(|(name, _)| name.split('.').next().unwrap_or_default().to_owned())
                .collect();
            let props = s["properties"].as_object_mut().expect("properties");
            props.retain(|k, _| {
                keep.contains(k) || ["name", "from", "metadata"].contains(&k.as_str())
            });
            // The checks whose line has parameters are values of adv_check too.
            if let Some(Value::Array(values)) =
                props.get_mut("adv_check").and_then(|a| a.get_mut("enum"))
            {
                for (check, _) in crate::section::CHECKS_WITH_PARAMS {
                    values.push(json!(check));
                }
            }
            if resource != "defaults" {
                s["required"] = json!(["name"]);
            }
            s
        }
        "server" => {
            let mut s = table_schema(
                params_table("server"),
                &[
                    ("name", name_schema()),
                    ("address", json!({"type": "string", "pattern": "^[^\\s]+$"})),
                    ("port", port),
                    ("metadata", metadata),
                ],
            );
            s["required"] = json!(["name", "address"]);
            s
        }
        "bind" => {
            let mut s = table_schema(
                params_table("bind"),
                &[
                    ("name", name_schema()),
                    ("address", json!({"type": "string", "pattern": "^[^\\s]+$"})),
                    ("port", port.clone()),
                    ("port-range-end", port),
                    ("metadata", metadata),
                ],
            );
            s["required"] = json!(["name"]);
            s
        }
        "server_template" => {
            let mut s = table_schema(
                params_table("server"),
                &[
                    ("prefix", name_schema()),
                    (
                        "num_or_range",
                        json!({"type": "string", "pattern": "^[0-9]+(-[0-9]+)?$"}),
                    ),
                    ("fqdn", json!({"type": "string"})),
                    ("port", port),
                    ("metadata", metadata),
                ],
            );
            s["required"] = json!(["prefix", "num_or_range", "fqdn"]);
            s
        }
        // Another section: its line table, named after its schema.
        other if crate::table::tables().sections.contains_key(other) => {
            let table = section_table(other);
            // The one section of its kind (`traces`) has no name.
            let named = !crate::registry::unnamed_section(other);
            let mut extra = vec![("metadata", metadata)];
            if named {
                extra.insert(0, ("name", name_schema()));
            }
            let mut s = table_schema(table, &extra);
            // `type` names the checks with parameters too (`healthcheck`).
            if let Some(Value::Array(values)) = s["properties"]
                .get_mut("type")
                .and_then(|t| t.get_mut("enum"))
            {
                if has_checks(table) {
                    for (check, _) in crate::section::CHECKS_WITH_PARAMS {
                        values.push(json!(check));
                    }
                    values.sort_by_key(|v| v.as_str().map(str::to_owned));
                }
            }
            let required: Vec<String> = named
                .then(|| "name".to_owned())
                .into_iter()
                .chain(required_fields(table))
                .collect();
            if !required.is_empty() {
                s["required"] = json!(required);
            }
            s
        }
        // A line wholly described by its param table.
        other => {
            let table = params_table(other);
            let mut s = table_schema(table, &[("metadata", metadata)]);
            let required = required_fields(table);
            if !required.is_empty() {
                s["required"] = json!(required);
            }
            s
        }
    };
    schema["title"] = json!(resource);
    schema
}

/// Whether a line table reads checks with parameters (`httpchk_params`).
fn has_checks(table: &Table) -> bool {
    table
        .entries
        .iter()
        .any(|e| e.field == [crate::section::CHECKS_WITH_PARAMS[0].1])
}

/// The schema of a site (`site.rs`): a frontend's service and the farms it
/// uses, with the fields of the frontend and backend schemas they show.
pub fn site_schema() -> Value {
    let frontend = resource_schema("frontend");
    let backend = resource_schema("backend");
    let field = |s: &Value, k: &str| s["properties"][k].clone();
    let name = name_schema();
    let reference = |r: &str| json!({"$ref": format!("#/components/schemas/{r}")});
    json!({
        "type": "object", "title": "site", "additionalProperties": false, "required": ["name"],
        "properties": {
            "name": name,
            "service": {"type": "object", "additionalProperties": false, "properties": {
                "mode": field(&frontend, "mode"),
                "maxconn": field(&frontend, "maxconn"),
                "http_connection_mode": field(&frontend, "http_connection_mode"),
                "listeners": {"type": "array", "items": reference("bind")},
            }},
            "farms": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                "required": ["name", "use_as"],
                "properties": {
                    "name": name_schema(),
                    "use_as": {"type": "string", "enum": ["default", "conditional"]},
                    "cond": {"type": "string", "enum": ["if", "unless"]},
                    "cond_test": {"type": "string"},
                    "mode": field(&backend, "mode"),
                    "balance": field(&backend, "balance"),
                    "forwardfor": field(&backend, "forwardfor"),
                    "servers": {"type": "array", "items": reference("server")},
                }}},
        },
    })
}

/// The fields a table always needs; of entries sharing a position
/// (`sc_int` or `sc_expr`) none is required alone; of an address and port
/// (`hostport`), the address.
fn required_fields(table: &Table) -> Vec<String> {
    table
        .entries
        .iter()
        .filter(|entry| {
            let shared = table
                .entries
                .iter()
                .any(|e| e.key == entry.key && e.field != entry.field);
            entry.required && !shared && entry.field.len() == 1
        })
        .filter_map(|entry| match entry.field[0].as_str() {
            "_" => None,
            "." => entry.merged().first().map(|f| f.to_string()),
            field => Some(field.to_owned()),
        })
        .collect()
}

/// The fields every rule of `kind` has: its first level word (`type`,
/// `action`) and the positional words of the base table that cannot be
/// left out (`acl_name`, `criterion` of an ACL).
fn rule_required(kind: crate::rule::RuleKind, base: &str) -> Vec<String> {
    // A log target is `log global`, `no log` or an address with its
    // facility: no one field is always there.
    if kind == crate::rule::RuleKind::LogTarget {
        return Vec::new();
    }
    let mut required: Vec<String> = kind
        .levels()
        .iter()
        .take(1)
        .map(|l| l.to_string())
        .collect();
    let params = &crate::table::tables().params;
    let needs = required_fields;
    let mut fields = params.get(base).map(needs).unwrap_or_default();
    // What every action needs (a stick rule's `pattern`, a capture's `length`).
    let actions: Vec<Vec<String>> = kind
        .actions()
        .iter()
        .filter_map(|a| params.get(&format!("{base}.{a}")))
        .map(needs)
        .collect();
    if let Some((first, rest)) = actions.split_first() {
        fields.extend(
            first
                .iter()
                .filter(|f| rest.iter().all(|other| other.contains(f)))
                .cloned(),
        );
    }
    for field in fields {
        if !required.contains(&field) {
            required.push(field);
        }
    }
    required
}

/// The schema of one rule of `kind`: the fields of every action's table,
/// `type` (the actions), and the condition.
pub fn rule_schema(kind: crate::rule::RuleKind) -> Value {
    let base = kind.schema_name().trim_end_matches("_rule").to_owned();
    let actions = kind.actions();
    let mut names = vec![base.clone()];
    names.extend(actions.iter().map(|a| format!("{base}.{a}")));
    let mut properties = Map::new();
    for name in names {
        let Some(table) = crate::table::tables().params.get(&name) else {
            continue;
        };
        add_properties(table, &mut properties);
    }
    // The level fields (`type`, `action`) and the words the tables know for them.
    for (depth, field) in kind.levels().iter().enumerate() {
        let mut values: Vec<&str> = actions
            .iter()
            .filter_map(|a| a.split('.').nth(depth))
            .collect();
        values.sort();
        values.dedup();
        let schema = match values.is_empty() {
            true => json!({"type": "string"}),
            false => json!({"type": "string", "enum": values}),
        };
        properties.insert((*field).to_owned(), schema);
    }
    if !matches!(
        kind,
        crate::rule::RuleKind::Acl
            | crate::rule::RuleKind::LogTarget
            | crate::rule::RuleKind::Capture
            | crate::rule::RuleKind::Filter
    ) {
        properties.insert(
            "cond".into(),
            json!({"type": "string", "enum": ["if", "unless"]}),
        );
        properties.insert("cond_test".into(), json!({"type": "string"}));
    }
    if kind == crate::rule::RuleKind::LogTarget {
        // `no log`: the proxy does not log.
        properties.insert("nolog".into(), json!({"type": "boolean"}));
    }
    properties.insert(
        "metadata".into(),
        json!({"type": "object", "additionalProperties": true}),
    );
    let mut schema = json!({"type": "object", "title": kind.schema_name(), "additionalProperties": false,
           "properties": properties});
    let required = rule_required(kind, &base);
    // OpenAPI 3.0 refuses an empty `required`.
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}
