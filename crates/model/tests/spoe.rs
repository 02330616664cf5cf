//! SPOE files: every keyword of `tables/spoe.kw` is in the fixture, HAProxy
//! loads the fixture through a `filter spoe`, and the file rebuilt from
//! its JSON alone loads and reads back the same.

mod common;

use std::collections::BTreeSet;

use haplane_cfg::Document;
use haplane_model::spoe::{self, SpoeKind};
use serde_json::{Map, Value};

const KINDS: [SpoeKind; 3] = [SpoeKind::Agent, SpoeKind::Message, SpoeKind::Group];

fn fixture() -> String {
    std::fs::read_to_string(common::fixtures_dir().join("spoe/agents.conf")).unwrap()
}

/// A configuration that loads `file` as the SPOE file of a frontend.
fn config(file: &std::path::Path) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\n\
         frontend f\n    bind 127.0.0.1:8443\n    filter spoe engine ip-reputation config {}\n\n\
         backend agents\n    mode tcp\n    server a 127.0.0.1:12345\n",
        file.display()
    )
}

fn read_all(doc: &Document) -> Vec<(String, SpoeKind, Map<String, Value>)> {
    let mut out = Vec::new();
    for scope in spoe::scopes(doc) {
        for kind in KINDS {
            for item in spoe::list(doc, &scope, kind).unwrap() {
                out.push((scope.clone(), kind, item));
            }
        }
    }
    out
}

/// Field paths of a value: `event.name`, `log.global`.
fn paths(prefix: &str, value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                paths(&key, v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| paths(prefix, i, out)),
        _ => {
            out.insert(prefix.to_owned());
        }
    }
}

#[test]
fn every_keyword_loads_and_rebuilds_from_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agents.conf");
    std::fs::write(&file, fixture()).unwrap();
    common::haproxy_accepts(&config(&file), dir.path());

    let doc = Document::parse_spoe(fixture().into_bytes());
    let items = read_all(&doc);
    // Every field of the tables is read from the fixture.
    for kind in KINDS {
        let mut seen = BTreeSet::new();
        for (_, k, item) in &items {
            if *k == kind {
                paths("", &Value::Object(item.clone()), &mut seen);
            }
        }
        let schema = haplane_model::spoe_schema(kind);
        for field in schema["properties"].as_object().unwrap().keys() {
            assert!(
                seen.iter()
                    .any(|p| p == field || p.starts_with(&format!("{field}."))),
                "{} field {field} is not in the fixture",
                kind.schema()
            );
        }
    }

    // The same file, from the JSON alone.
    let mut rebuilt = Document::parse_spoe(b"# _version=1\n".to_vec());
    for scope in spoe::scopes(&doc) {
        spoe::create_scope(&mut rebuilt, &scope).unwrap();
    }
    for (scope, kind, item) in &items {
        spoe::create(&mut rebuilt, scope, *kind, item).unwrap();
    }
    assert_eq!(read_all(&rebuilt), items);
    std::fs::write(&file, rebuilt.to_bytes()).unwrap();
    common::haproxy_accepts(&config(&file), dir.path());
}
