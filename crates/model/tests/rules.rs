//! Indexed rules: every action of the rule tables renders to lines HAProxy
//! accepts and reads back the same; indexes shift as the file does.

use std::path::Path;

use expect_test::expect;
use haplane_cfg::{Document, SectionKind};
use haplane_model::{
    delete_rule, get_rule, insert_rule, list_rules, replace_rule, replace_rules, RuleKind,
};
use serde_json::{json, Map, Value};

fn fixture() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules.cfg"))
        .unwrap()
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

const PLACES: &[(SectionKind, &str, RuleKind)] = &[
    (SectionKind::Frontend, "f", RuleKind::Acl),
    (SectionKind::Frontend, "f", RuleKind::HttpRequest),
    (SectionKind::Frontend, "f", RuleKind::BackendSwitching),
    (SectionKind::Backend, "api", RuleKind::HttpRequest),
    (SectionKind::Frontend, "f", RuleKind::HttpResponse),
    (SectionKind::Backend, "api", RuleKind::HttpResponse),
    (SectionKind::Backend, "api", RuleKind::HttpAfterResponse),
    (SectionKind::Backend, "api", RuleKind::ServerSwitching),
];

fn read_all(doc: &Document) -> Vec<Vec<Map<String, Value>>> {
    PLACES
        .iter()
        .map(|(p, n, k)| list_rules(doc, *p, n, *k).unwrap())
        .collect()
}

#[test]
fn every_action_renders_to_what_haproxy_accepts_and_reads_back() {
    let text = fixture();
    haproxy_accepts(&text);
    let mut doc = Document::parse(text.into_bytes());
    let before = read_all(&doc);
    // Every http-request/response action of the tables appears in the fixture.
    for kind in [
        RuleKind::HttpRequest,
        RuleKind::HttpResponse,
        RuleKind::HttpAfterResponse,
    ] {
        let seen: Vec<&str> = PLACES
            .iter()
            .zip(&before)
            .filter(|((_, _, k), _)| *k == kind)
            .flat_map(|(_, rules)| rules.iter().filter_map(|r| r["type"].as_str()))
            .collect();
        let unused: Vec<String> = haplane_model::rule_actions(kind)
            .into_iter()
            .filter(|a| !seen.contains(&a.as_str()))
            .collect();
        assert!(
            unused.is_empty(),
            "{kind:?} actions no fixture line uses: {unused:?}"
        );
    }
    // Remove every rule, then write them back from their JSON alone.
    for ((parent, name, kind), rules) in PLACES.iter().zip(&before) {
        replace_rules(&mut doc, *parent, name, *kind, &[]).unwrap();
        assert!(list_rules(&doc, *parent, name, *kind).unwrap().is_empty());
        for (i, rule) in rules.iter().enumerate() {
            insert_rule(&mut doc, *parent, name, *kind, i, rule)
                .unwrap_or_else(|e| panic!("{rule:?}: {e}"));
        }
    }
    let rebuilt = doc.to_text();
    haproxy_accepts(&rebuilt);
    assert_eq!(
        read_all(&Document::parse(rebuilt.clone().into_bytes())),
        before,
        "{rebuilt}"
    );
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
