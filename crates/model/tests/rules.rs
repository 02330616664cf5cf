//! Indexed rules: every action of the rule tables renders to lines HAProxy
//! accepts and reads back the same; indexes shift as the file does.

mod common;

use expect_test::expect;
use haplane_cfg::{Document, SectionKind};
use haplane_model::{
    delete_rule, get_rule, insert_rule, list_rules, replace_rule, replace_rules, rule_actions,
    RuleKind,
};
use serde_json::{json, Map, Value};

const FIXTURES: &[&str] = &[
    "rules",
    "rules_tcp",
    "rules_28",
    "rules_29",
    "rules_30",
    "rules_31",
    "rules_33",
];

fn haproxy_accepts(text: &str) {
    let dir = tempfile::tempdir().unwrap();
    common::haproxy_accepts(text, dir.path());
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

/// Every action of the tables appears in a fixture (the registry's test
/// checks that the fixtures rebuild from their JSON).
#[test]
fn every_action_is_in_a_fixture() {
    let mut seen: Vec<(RuleKind, String)> = Vec::new();
    for name in FIXTURES {
        let files = tempfile::tempdir().unwrap();
        let doc = Document::parse(common::load(name, files.path()).into_bytes());
        let places = places(&doc);
        for ((_, _, kind), rules) in places.iter().zip(read_all(&doc, &places)) {
            for rule in rules {
                let levels: Vec<&str> = ["type", "action"]
                    .iter()
                    .filter_map(|f| rule.get(*f).and_then(Value::as_str))
                    .collect();
                seen.push((*kind, levels.join(".")));
            }
        }
    }
    // A table for inspect-delay counts as the action `inspect-delay`.
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

#[test]
fn replies_suffixes_and_parentheses_are_rewritten_in_place() {
    let text = "frontend f
    http-request return status 200 content-type text/plain string hi hdr X-A b if { path /a }
    http-request track-sc0 src table t
    http-request sc-set-gpt(0,1) 5
";
    let mut doc = Document::parse(text.as_bytes().to_vec());
    let (f, kind) = (SectionKind::Frontend, RuleKind::HttpRequest);
    let mut reply = get_rule(&doc, f, "f", kind, 0).unwrap();
    reply.insert("return_content_format".into(), json!("lf-string"));
    reply.insert("return_content".into(), json!("x%[src]"));
    replace_rule(&mut doc, f, "f", kind, 0, &reply).unwrap();
    let mut track = get_rule(&doc, f, "f", kind, 1).unwrap();
    track.insert("track_sc_stick_counter".into(), json!(2));
    replace_rule(&mut doc, f, "f", kind, 1, &track).unwrap();
    let mut gpt = get_rule(&doc, f, "f", kind, 2).unwrap();
    gpt.remove("sc_int");
    gpt.insert("sc_expr".into(), json!("src_port"));
    gpt.insert("sc_idx".into(), json!(1));
    replace_rule(&mut doc, f, "f", kind, 2, &gpt).unwrap();
    expect![[r#"
        frontend f
            http-request return status 200 content-type text/plain lf-string x%[src] hdr X-A b if { path /a }
            http-request track-sc2 src table t
            http-request sc-set-gpt(1,1) src_port
    "#]]
    .assert_eq(&doc.to_text());
    let errors: Vec<String> = [
        json!({"type": "track-sc", "track_sc_key": "src"}),
        json!({"type": "return", "return_content_format": "string"}),
        json!({"type": "return", "return_content_format": "default-errorfiles", "return_content": "x"}),
        json!({"type": "return", "return_content_format": "text"}),
        json!({"type": "sc-set-gpt", "sc_idx": 0, "sc_int": 1}),
        json!({"type": "sc-set-gpt0", "sc_id": 0}),
        json!({"type": "sc-inc-gpc", "sc_idx": "a", "sc_id": 0}),
    ]
    .iter()
    .map(|v| insert_rule(&mut doc, f, "f", kind, 0, &obj(v.clone())).unwrap_err().to_string())
    .collect();
    expect![[r#"
        [
            "field 'track_sc_stick_counter' is required",
            "field 'return_content' is required",
            "field 'return_content': 'default-errorfiles' takes no content, got \"x\"",
            "field 'return_content_format': \"text\" is not one of default-errorfiles, errorfile, errorfiles, file, lf-file, string, lf-string",
            "field 'sc_id' is required",
            "field 'sc_int or sc_expr' is required",
            "field 'sc_idx': expected an integer, got \"a\"",
        ]
    "#]]
    .assert_debug_eq(&errors);
}

#[test]
fn required_fields_and_integer_domains_are_checked_and_served() {
    let text = "frontend f\n    bind :80\n";
    let mut doc = Document::parse(text.as_bytes().to_vec());
    let f = SectionKind::Frontend;
    let insert = |doc: &mut Document, kind, v: Value| {
        insert_rule(doc, f, "f", kind, 0, &obj(v)).map_err(|e| e.to_string())
    };
    let errors = [
        insert(
            &mut doc,
            RuleKind::HttpError,
            json!({"type": "status", "status": 402}),
        ),
        insert(&mut doc, RuleKind::Capture, json!({"type": "request"})),
        insert(
            &mut doc,
            RuleKind::Acl,
            json!({"acl_name": "a", "criterion": "always_true"}),
        ),
        insert(
            &mut doc,
            RuleKind::LogTarget,
            json!({"address": "127.0.0.1:514", "facility": "local0"}),
        ),
    ];
    expect![[r#"
        [
            Err(
                "field 'status': 402 is not one of 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504",
            ),
            Err(
                "field 'length' is required",
            ),
            Ok(
                (),
            ),
            Ok(
                (),
            ),
        ]
    "#]]
    .assert_debug_eq(&errors);
    haproxy_accepts(&doc.to_text());
    let schema = |kind| haplane_model::rule_schema(kind);
    assert_eq!(
        schema(RuleKind::HttpError)["required"],
        json!(["type", "status"])
    );
    assert_eq!(
        schema(RuleKind::HttpError)["properties"]["status"]["enum"][0],
        200
    );
    assert_eq!(
        schema(RuleKind::Capture)["required"],
        json!(["type", "length"])
    );
    assert_eq!(
        schema(RuleKind::Stick)["required"],
        json!(["type", "pattern"])
    );
    assert_eq!(
        schema(RuleKind::Acl)["required"],
        json!(["acl_name", "criterion"])
    );
}
