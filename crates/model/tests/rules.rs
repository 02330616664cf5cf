//! Indexed rules: every action of the rule tables renders to lines HAProxy
//! accepts and reads back the same; indexes shift as the file does.

use std::path::Path;

use expect_test::expect;
use haplane_cfg::{Document, SectionKind};
use haplane_model::{
    delete_rule, get_rule, insert_rule, list_rules, replace_rule, replace_rules, rule_actions,
    RuleKind,
};
use serde_json::{json, Map, Value};

const FIXTURES: &[&str] = &["rules", "rules_tcp"];

/// The fixture, with `@FILES@` naming a directory holding the map and ACL
/// files it names (empty).
fn fixture(name: &str, files: &Path) -> String {
    for file in ["hosts.map", "blocked.acl"] {
        std::fs::write(files.join(file), "").unwrap();
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.cfg"));
    std::fs::read_to_string(path)
        .unwrap()
        .replace("@FILES@", files.to_str().unwrap())
}

fn haproxy_accepts(text: &str) {
    let dir = tempfile::tempdir().unwrap();
    if let Err(e) = haplane_haproxy::check_bytes(
        Path::new("haproxy"),
        &dir.path().join("h.cfg"),
        text.as_bytes(),
    ) {
        panic!("haproxy -c rejected:\n{e}\n---\n{text}");
    }
}

/// Every (section, rule kind) pair of a document that can hold rules.
fn places(doc: &Document) -> Vec<(SectionKind, String, RuleKind)> {
    let mut out = Vec::new();
    for section in doc.sections() {
        let Some(name) = section.name() else { continue };
        for kind in RuleKind::ALL {
            if kind.parents().contains(&section.kind()) && kind.is_described() {
                out.push((section.kind(), name.clone(), kind));
            }
        }
    }
    out
}

fn read_all(
    doc: &Document,
    places: &[(SectionKind, String, RuleKind)],
) -> Vec<Vec<Map<String, Value>>> {
    places
        .iter()
        .map(|(p, n, k)| list_rules(doc, *p, n, *k).unwrap())
        .collect()
}

#[test]
fn every_action_renders_to_what_haproxy_accepts_and_reads_back() {
    let mut seen: Vec<(RuleKind, String)> = Vec::new();
    for name in FIXTURES {
        let files = tempfile::tempdir().unwrap();
        let text = fixture(name, files.path());
        haproxy_accepts(&text);
        let mut doc = Document::parse(text.into_bytes());
        let places = places(&doc);
        let before = read_all(&doc, &places);
        for ((_, _, kind), rules) in places.iter().zip(&before) {
            for rule in rules {
                let levels: Vec<&str> = ["type", "action"]
                    .iter()
                    .filter_map(|f| rule.get(*f).and_then(Value::as_str))
                    .collect();
                seen.push((*kind, levels.join(".")));
            }
        }
        // Remove every rule, then write them back from their JSON alone.
        for ((parent, section, kind), rules) in places.iter().zip(&before) {
            replace_rules(&mut doc, *parent, section, *kind, &[]).unwrap();
            for (i, rule) in rules.iter().enumerate() {
                insert_rule(&mut doc, *parent, section, *kind, i, rule)
                    .unwrap_or_else(|e| panic!("{name}: {rule:?}: {e}"));
            }
        }
        let rebuilt = doc.to_text();
        haproxy_accepts(&rebuilt);
        assert_eq!(
            read_all(&Document::parse(rebuilt.clone().into_bytes()), &places),
            before,
            "{name}:\n{rebuilt}"
        );
    }
    // Every action of the tables appears in a fixture (a table for inspect-delay
    // counts as the action `inspect-delay`).
    for kind in RuleKind::ALL {
        for action in rule_actions(kind) {
            let covered = seen
                .iter()
                .any(|(k, a)| *k == kind && (*a == action || a.starts_with(&format!("{action}."))));
            assert!(covered, "{kind:?} action {action} is in no fixture");
        }
    }
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn indexes_shift_and_unknown_words_stay() {
    let text = "frontend f
    bind :80
    http-request set-header A a
    # keep me with B
    http-request set-header B b
    http-request mystery-action x y if TRUE
";
    let mut doc = Document::parse(text.as_bytes().to_vec());
    let f = SectionKind::Frontend;
    let kind = RuleKind::HttpRequest;
    insert_rule(
        &mut doc,
        f,
        "f",
        kind,
        1,
        &obj(json!({"type": "deny", "deny_status": 403, "cond": "if", "cond_test": "{ path /x }"})),
    )
    .unwrap();
    assert_eq!(get_rule(&doc, f, "f", kind, 2).unwrap()["hdr_name"], "B");
    // The unknown action is listed with what is known; changing its
    // condition keeps its words.
    let mut mystery = get_rule(&doc, f, "f", kind, 3).unwrap();
    assert_eq!(
        Value::Object(mystery.clone()),
        json!({"type": "mystery-action", "cond": "if", "cond_test": "TRUE"})
    );
    mystery.insert("cond".into(), json!("unless"));
    let error = replace_rule(&mut doc, f, "f", kind, 3, &mystery).unwrap_err();
    assert!(
        error.to_string().contains("'mystery-action' is not one of"),
        "{error}"
    );
    delete_rule(&mut doc, f, "f", kind, 0).unwrap();
    replace_rule(
        &mut doc,
        f,
        "f",
        kind,
        1,
        &obj(json!({"type": "set-header", "hdr_name": "B", "hdr_format": "bee"})),
    )
    .unwrap();
    expect![[r#"
        frontend f
            bind :80
            http-request deny deny_status 403 if { path /x }
            # keep me with B
            http-request set-header B bee
            http-request mystery-action x y if TRUE
    "#]]
    .assert_eq(&doc.to_text());
    let error = get_rule(&doc, f, "f", kind, 9).unwrap_err();
    assert_eq!(error.to_string(), "http-request rule at index 9 not found");
    let error = replace_rules(
        &mut doc,
        f,
        "f",
        kind,
        &[obj(json!({"type": "set-header"}))],
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "field '[0].hdr_name' is required");
}
