//! Every JSON field the keyword tables map exists in the reference Data
//! Plane API v3 schema, with a matching type.

use haplane_model::field_names;
use serde_yaml::Value;

/// The reference specification, when the checkout has it beside it
/// (`../shared`). Without it the checks are skipped with one line, unless
/// `HAPLANE_REQUIRE_REFERENCE` is set (CI sets it).
fn reference() -> Option<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/dataplaneapi-v3.yaml");
    if !path.is_file() {
        assert!(
            std::env::var_os("HAPLANE_REQUIRE_REFERENCE").is_none(),
            "HAPLANE_REQUIRE_REFERENCE is set but {} is missing",
            path.display()
        );
        // Written past the test harness's capture, so it shows in the run.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: no reference specification at {}",
                path.display()
            );
        });
        return None;
    }
    let text = std::fs::read_to_string(&path).expect("the reference specification is readable");
    Some(serde_yaml::from_str(&text).expect("the reference is YAML"))
}

/// Follows `$ref` and merges `allOf` parts into one schema's properties.
fn properties(root: &Value, schema: &Value) -> serde_yaml::Mapping {
    let mut out = serde_yaml::Mapping::new();
    let schema = resolve(root, schema);
    if let Some(parts) = schema.get("allOf").and_then(Value::as_sequence) {
        for part in parts {
            out.extend(properties(root, part));
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_mapping) {
        out.extend(props.clone());
    }
    out
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().expect("a ref has a name");
            resolve(root, &root["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The schema at a dotted field path under the named schemas, if any has it.
fn lookup(root: &Value, schemas: &[&str], path: &str) -> Option<Value> {
    'schema: for name in schemas {
        let mut here = root["components"]["schemas"][*name].clone();
        for key in path.split('.') {
            let props = properties(root, &here);
            let Some(next) = props.get(key) else {
                continue 'schema;
            };
            let next = resolve(root, next).clone();
            // Arrays of objects: descend into the items.
            here = match next.get("items") {
                Some(items) if next.get("type").and_then(Value::as_str) == Some("array") => {
                    let items = resolve(root, items).clone();
                    if items.get("properties").is_some() || items.get("allOf").is_some() {
                        items
                    } else {
                        next
                    }
                }
                _ => next,
            };
        }
        return Some(here);
    }
    None
}

fn check(kind: &str, table: &str, schemas: &[&str]) {
    let Some(root) = reference() else { return };
    let fields = field_names(kind, table);
    assert!(!fields.is_empty(), "table {table} has entries");
    let missing: Vec<String> = fields
        .iter()
        .filter(|(name, _)| lookup(&root, schemas, name).is_none())
        .map(|(name, _)| name.clone())
        .collect();
    assert!(
        missing.is_empty(),
        "fields of table {table} missing from {schemas:?}: {missing:?}"
    );
}

#[test]
fn global_fields_are_reference_fields() {
    check("section", "global", &["global_base"]);
}

#[test]
fn proxy_fields_are_reference_fields() {
    check(
        "section",
        "proxy",
        &["defaults_base", "frontend_base", "backend_base"],
    );
}

#[test]
fn server_fields_are_reference_fields() {
    check("params", "server", &["server"]);
}

#[test]
fn bind_fields_are_reference_fields() {
    check("params", "bind", &["bind"]);
}

#[test]
fn a_made_up_field_is_not_found() {
    let Some(root) = reference() else { return };
    assert!(lookup(&root, &["backend_base"], "balance.algorithm").is_some());
    assert!(lookup(&root, &["backend_base"], "balance.speed").is_none());
    assert!(lookup(&root, &["global_base"], "tune_buffer_options.bufsize").is_some());
}

#[test]
fn rule_fields_are_reference_fields() {
    let Some(root) = reference() else { return };
    for kind in haplane_model::RuleKind::ALL {
        let base = kind.schema_name().trim_end_matches("_rule");
        let mut tables = vec![base.to_owned()];
        tables.extend(
            haplane_model::rule_actions(kind)
                .into_iter()
                .map(|a| format!("{base}.{a}")),
        );
        for table in tables {
            for (field, _) in field_names("params", &table) {
                assert!(
                    lookup(&root, &[kind.schema_name()], &field).is_some(),
                    "{table}: {field} is not in {}",
                    kind.schema_name()
                );
            }
        }
    }
}
