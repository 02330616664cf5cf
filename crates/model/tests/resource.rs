//! Whole resources on a document: create, replace, delete, with the file
//! shown after each step.

use expect_test::expect;
use haplane_cfg::{Document, SectionKind};
use haplane_model::registry;
use haplane_model::{
    create_child, create_section, delete_child, delete_section, get_child, get_section,
    list_sections, replace_child, replace_section, ChildKind, ResourceError,
};
use serde_json::{json, Map, Value};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().expect("object").clone()
}

const FILE: &str = "# _version=1
global
    daemon

# main site
frontend www
    bind :80
    default_backend app

backend app
    server a 127.0.0.1:9001 check # first
";

#[test]
fn a_backend_and_its_servers_are_created_changed_and_removed() {
    let mut doc = Document::parse(FILE.as_bytes().to_vec());
    let b = SectionKind::Backend;
    create_section(
        &mut doc,
        b,
        &obj(json!({"name": "api", "mode": "http", "balance": {"algorithm": "leastconn"}})),
    )
    .unwrap();
    create_child(
        &mut doc,
        b,
        "api",
        ChildKind::Server,
        &obj(json!({"name": "x", "address": "127.0.0.1", "port": 9100, "check": "enabled"})),
    )
    .unwrap();
    create_child(
        &mut doc,
        b,
        "app",
        ChildKind::Server,
        &obj(json!({"name": "b", "address": "127.0.0.1", "port": 9002})),
    )
    .unwrap();
    let mut a = get_child(&doc, b, "app", ChildKind::Server, "a").unwrap();
    a.insert("weight".into(), json!(50));
    replace_child(&mut doc, b, "app", ChildKind::Server, "a", &a).unwrap();
    expect![[r#"
        # _version=1
        global
            daemon

        # main site
        frontend www
            bind :80
            default_backend app

        backend app
            server a 127.0.0.1:9001 check weight 50 # first
            server b 127.0.0.1:9002

        backend api
            mode http
            balance leastconn
            server x 127.0.0.1:9100 check
    "#]]
    .assert_eq(&doc.to_text());

    replace_section(
        &mut doc,
        b,
        "api",
        &obj(json!({"name": "api2", "mode": "tcp"})),
    )
    .unwrap();
    delete_child(&mut doc, b, "app", ChildKind::Server, "a").unwrap();
    delete_section(&mut doc, SectionKind::Frontend, "www").unwrap();
    expect![[r#"
        # _version=1
        global
            daemon

        backend app
            server b 127.0.0.1:9002

        backend api2
            mode tcp
            server x 127.0.0.1:9100 check
    "#]]
    .assert_eq(&doc.to_text());
    let names: Vec<Value> = list_sections(&doc, b)
        .into_iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("app"), json!("api2")]);
}

#[test]
fn conflicts_and_bad_input_change_nothing() {
    let mut doc = Document::parse(FILE.as_bytes().to_vec());
    let b = SectionKind::Backend;
    let cases: Vec<(ResourceError, &str)> = vec![
        (
            create_section(&mut doc, b, &obj(json!({"name": "app"}))).unwrap_err(),
            "backend 'app' already exists",
        ),
        (
            create_section(&mut doc, b, &obj(json!({"name": "bad name"}))).unwrap_err(),
            r#"field 'name': "bad name" must match ^[A-Za-z0-9-_.:]+$"#,
        ),
        (
            create_section(&mut doc, b, &obj(json!({"name": "n", "mode": "udp"}))).unwrap_err(),
            "field 'mode': 'udp' is not one of tcp, http",
        ),
        (
            replace_section(&mut doc, b, "nope", &obj(json!({"name": "nope"}))).unwrap_err(),
            "backend 'nope' not found",
        ),
        (
            create_child(
                &mut doc,
                b,
                "app",
                ChildKind::Server,
                &obj(json!({"name": "a", "address": "127.0.0.2"})),
            )
            .unwrap_err(),
            "server 'a' already exists",
        ),
        (
            create_child(
                &mut doc,
                b,
                "app",
                ChildKind::Server,
                &obj(json!({"name": "c"})),
            )
            .unwrap_err(),
            "field 'address' is required",
        ),
        (
            delete_child(&mut doc, b, "app", ChildKind::Server, "zz").unwrap_err(),
            "server 'zz' not found",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
    }
    assert_eq!(
        doc.to_text(),
        FILE,
        "failed operations leave the document as it was"
    );
}

#[test]
fn a_listen_section_is_a_frontend_and_a_backend_and_stays_one_section() {
    let text = "listen web
    bind :8080
    mode http
    timeout client 30s
    balance leastconn
    server a 127.0.0.1:9001
";
    let mut doc = Document::parse(text.as_bytes().to_vec());
    let (f, b) = (SectionKind::Frontend, SectionKind::Backend);
    let frontend = get_section(&doc, f, "web").unwrap();
    let backend = get_section(&doc, b, "web").unwrap();
    assert_eq!(
        Value::Object(frontend.clone()),
        json!({"name": "web", "mode": "http", "client_timeout": 30000})
    );
    assert_eq!(
        Value::Object(backend.clone()),
        json!({"name": "web", "mode": "http", "balance": {"algorithm": "leastconn"}})
    );
    assert_eq!(list_sections(&doc, f).len(), 1);
    // Replacing the frontend view leaves the backend's fields alone.
    let mut changed = frontend;
    changed.insert("client_timeout".into(), json!(60000));
    changed.insert("maxconn".into(), json!(100));
    replace_section(&mut doc, f, "web", &changed).unwrap();
    let mut changed = backend;
    changed.insert("balance".into(), json!({"algorithm": "roundrobin"}));
    replace_section(&mut doc, b, "web", &changed).unwrap();
    create_child(
        &mut doc,
        b,
        "web",
        ChildKind::Server,
        &obj(json!({"name": "b", "address": "127.0.0.1", "port": 9002})),
    )
    .unwrap();
    expect![[r#"
        listen web
            bind :8080
            mode http
            timeout client 1m
            maxconn 100
            balance roundrobin
            server a 127.0.0.1:9001
            server b 127.0.0.1:9002
    "#]]
    .assert_eq(&doc.to_text());
    assert!(create_section(&mut doc, f, &obj(json!({"name": "web"}))).is_err());
    let error = delete_section(&mut doc, f, "web").unwrap_err();
    assert!(
        error.to_string().contains("listen section 'web'"),
        "{error}"
    );
}

#[test]
fn server_templates_are_created_changed_and_checked_by_haproxy() {
    use haplane_model::{
        create_template, delete_template, get_template, list_templates, replace_template,
    };
    let text = "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\nfrontend f\n    bind 127.0.0.1:18290\n    default_backend b\n\nbackend b\n    balance roundrobin\n";
    let mut doc = Document::parse(text.as_bytes().to_vec());
    create_template(&mut doc, "b", &obj(json!({"prefix": "web", "num_or_range": "1-3", "fqdn": "localhost", "port": 8080, "check": "enabled", "weight": 10}))).unwrap();
    let mut t = get_template(&doc, "b", "web").unwrap();
    t.insert("weight".into(), json!(20));
    replace_template(&mut doc, "b", "web", &t).unwrap();
    create_template(
        &mut doc,
        "b",
        &obj(json!({"prefix": "api", "num_or_range": "2", "fqdn": "localhost"})),
    )
    .unwrap();
    expect![[r#"
        backend b
            balance roundrobin
            server-template web 1-3 localhost:8080 check weight 20
            server-template api 2 localhost
    "#]]
    .assert_eq(doc.to_text().split("\n\n").last().unwrap());
    let dir = tempfile::tempdir().unwrap();
    haplane_haproxy::check_bytes(
        std::path::Path::new("haproxy"),
        &dir.path().join("h.cfg"),
        &doc.to_bytes(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", doc.to_text()));
    assert_eq!(list_templates(&doc, "b").unwrap().len(), 2);
    assert_eq!(
        create_template(
            &mut doc,
            "b",
            &obj(json!({"prefix": "x", "num_or_range": "many", "fqdn": "h"}))
        )
        .unwrap_err()
        .to_string(),
        "field 'num_or_range': 'many' is not a number or a FIRST-LAST range"
    );
    delete_template(&mut doc, "b", "api").unwrap();
    assert!(get_template(&doc, "b", "api").is_err());
    // The full section holds them by prefix, and writes them back.
    let backends = place("backends");
    let mut full = registry::get(&doc, backends, "b", true).unwrap();
    assert_eq!(full["server_templates"]["web"]["weight"], 20);
    full["server_templates"] =
        json!({"db": {"num_or_range": "1-2", "fqdn": "localhost", "port": 5432}});
    registry::replace(&mut doc, backends, "b", &full, true).unwrap();
    expect![[r#"
        backend b
            balance roundrobin
            server-template db 1-2 localhost:5432
    "#]]
    .assert_eq(doc.to_text().split("\n\n").last().unwrap());
}

#[test]
fn older_spellings_are_written_and_read_back_in_the_newer_field() {
    use haplane_model::write_aliases;
    let mut doc =
        Document::parse(b"frontend f\n    mode http\nbackend b\n    mode http\n".to_vec());
    let b = SectionKind::Backend;
    let server = json!({"name": "s1", "address": "127.0.0.1", "port": 80, "ssl": "enabled",
        "no_tlsv10": "enabled", "force_tlsv12": "enabled"});
    create_child(&mut doc, b, "b", ChildKind::Server, &obj(server)).unwrap();
    let bind = json!({"name": "x", "address": "127.0.0.1", "port": 8443,
        "no_tls_tickets": true, "strict_sni": true, "no_sslv3": true});
    let f = SectionKind::Frontend;
    create_child(&mut doc, f, "f", ChildKind::Bind, &obj(bind)).unwrap();
    let text = doc.to_text();
    assert!(
        text.contains("no-tlsv10") && text.contains("force-tlsv12"),
        "{text}"
    );
    let read = get_child(&doc, f, "f", ChildKind::Bind, "x").unwrap();
    assert_eq!(read["tls_tickets"], "disabled");
    assert_eq!(read["force_strict_sni"], "enabled");
    assert_eq!(read["sslv3"], "disabled");
    let read = get_child(&doc, b, "b", ChildKind::Server, "s1").unwrap();
    assert_eq!(read["tlsv10"], "disabled");
    assert_eq!(read["tlsv12"], "enabled");
    assert!(!read.contains_key("no_tlsv10"));
    let backend =
        json!({"name": "p", "force_persist": {"cond": "if", "cond_test": "{ src 10.0.0.1 }"}});
    create_section(&mut doc, b, &obj(backend)).unwrap();
    let read = get_section(&doc, b, "p").unwrap();
    assert_eq!(
        read["force_persist_list"],
        json!([{"cond": "if", "cond_test": "{ src 10.0.0.1 }"}])
    );
    // Every alias reads back as a field of the same table.
    for table in ["server", "bind"] {
        let aliases = write_aliases("params", table);
        assert!(
            aliases.iter().any(|(a, _)| a == "no_sslv3"),
            "{table}: {aliases:?}"
        );
    }
}

/// A section read and written back unchanged leaves the file byte-identical.
#[test]
fn a_read_written_back_unchanged_changes_nothing() {
    let text = "# no global section here
defaults
    mode http
    timeout client 5s

frontend www 127.0.0.1:8080,127.0.0.1:8081
    default_backend app

listen stats 127.0.0.1:8404
    mode http

defaults named from unnamed
    mode tcp

backend app
    server a 127.0.0.1:9001
";
    let mut doc = Document::parse(text.as_bytes().to_vec());
    let global = haplane_model::get_global(&doc);
    haplane_model::replace_global(&mut doc, &global).unwrap();
    for (kind, collection) in [
        (SectionKind::Defaults, "defaults"),
        (SectionKind::Frontend, "frontends"),
        (SectionKind::Backend, "backends"),
    ] {
        for section in list_sections(&doc, kind) {
            let name = section["name"].as_str().unwrap().to_owned();
            replace_section(&mut doc, kind, &name, &section).unwrap();
            let full = registry::get(&doc, place(collection), &name, true).unwrap();
            registry::replace(&mut doc, place(collection), &name, &full, true).unwrap();
        }
    }
    assert_eq!(doc.to_text(), text);
    // A change of the name keeps the listening addresses.
    let mut www = get_section(&doc, SectionKind::Frontend, "www").unwrap();
    www.insert("name".into(), json!("web"));
    replace_section(&mut doc, SectionKind::Frontend, "www", &www).unwrap();
    assert!(doc
        .to_text()
        .contains("frontend web 127.0.0.1:8080,127.0.0.1:8081\n"));
}

/// Unnamed defaults sections are named as the reference names them, and
/// addressed by that name, with nothing written to the file for it.
#[test]
fn unnamed_defaults_are_listed_and_addressed_as_the_reference_names_them() {
    let text = "defaults
    mode http

defaults web
    mode http

defaults
    mode tcp
";
    let mut doc = Document::parse(text.as_bytes().to_vec());
    let d = SectionKind::Defaults;
    let names: Vec<String> = list_sections(&doc, d)
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["unnamed_defaults_1", "web", "unnamed_defaults_2"]);
    let mut second = get_section(&doc, d, "unnamed_defaults_2").unwrap();
    assert_eq!(second["mode"], "tcp");
    second.insert("maxconn".into(), json!(100));
    replace_section(&mut doc, d, "unnamed_defaults_2", &second).unwrap();
    expect![[r#"
        defaults
            mode http

        defaults web
            mode http

        defaults
            mode tcp
            maxconn 100
    "#]]
    .assert_eq(&doc.to_text());
    assert!(matches!(
        create_section(&mut doc, d, &obj(json!({"name": "unnamed_defaults_1"}))),
        Err(ResourceError::AlreadyExists(_))
    ));
    assert!(matches!(
        get_section(&doc, d, "unnamed_defaults_3"),
        Err(ResourceError::NotFound(_))
    ));
    delete_section(&mut doc, d, "unnamed_defaults_1").unwrap();
    assert!(doc.to_text().starts_with("defaults web\n"));
}

/// A child of a section that does not exist: the parent is missing (400 in
/// the API), except for a named child looked up by name (404).
#[test]
fn a_missing_parent_is_told_apart_from_a_missing_child() {
    let mut doc = Document::parse(FILE.as_bytes().to_vec());
    let b = SectionKind::Backend;
    let server = obj(json!({"name": "x", "address": "127.0.0.1"}));
    assert!(matches!(
        create_child(&mut doc, b, "ghost", ChildKind::Server, &server),
        Err(ResourceError::ParentNotFound(_))
    ));
    assert!(matches!(
        haplane_model::list_children(&doc, b, "ghost", ChildKind::Server),
        Err(ResourceError::ParentNotFound(_))
    ));
    assert!(matches!(
        delete_child(&mut doc, b, "ghost", ChildKind::Server, "x"),
        Err(ResourceError::NotFound(_))
    ));
    let rule = obj(json!({"type": "deny"}));
    let kind = haplane_model::RuleKind::HttpRequest;
    assert!(matches!(
        haplane_model::insert_rule(&mut doc, b, "ghost", kind, 0, &rule),
        Err(ResourceError::ParentNotFound(_))
    ));
    assert!(matches!(
        haplane_model::get_rule(&doc, b, "ghost", kind, 0),
        Err(ResourceError::ParentNotFound(_))
    ));
}

/// A top-level resource of the registry.
fn place(collection: &str) -> registry::Place<'static> {
    registry::Place {
        resource: registry::resource(collection).unwrap(),
        parent: None,
    }
}

/// A full-section replace and a whole-list replace edit only what changed:
/// kept items keep their bytes (comments too), a changed one is rewritten
/// where it is, a missing one goes, new ones follow the last.
#[test]
fn whole_sections_and_lists_are_replaced_in_place() {
    let text = "frontend f\n    bind :80\n    http-request deny if { path /a }\n    http-request  allow   # keep\n    http-request deny if { path /c }\n    default_backend b\n\nbackend b\n    server s1 10.0.0.1:80   weight 5   # first\n    server s2 10.0.0.2:80\n    server s3 10.0.0.3:80\n    balance roundrobin\n";
    let mut doc = Document::parse(text.as_bytes().to_vec());
    let backends = place("backends");
    let mut full = registry::get(&doc, backends, "b", true).unwrap();
    let servers = full["servers"].as_object_mut().unwrap();
    servers.remove("s2");
    servers["s3"]["weight"] = json!(7);
    servers.insert(
        "s4".into(),
        json!({"name": "s4", "address": "10.0.0.4", "port": 80}),
    );
    servers.insert(
        "s5".into(),
        json!({"name": "s5", "address": "10.0.0.5", "port": 80}),
    );
    registry::replace(&mut doc, backends, "b", &full, true).unwrap();
    let rules = registry::Place {
        resource: registry::resource("http_request_rules").unwrap(),
        parent: Some((registry::resource("frontends").unwrap(), "f")),
    };
    let mut list = registry::list(&doc, rules, false).unwrap();
    list[2] = obj(json!({"type": "deny", "cond": "if", "cond_test": "{ path /d }"}));
    list.push(obj(json!({"type": "allow"})));
    registry::replace_all(&mut doc, rules, &list).unwrap();
    expect![[r#"
        frontend f
            bind :80
            http-request deny if { path /a }
            http-request  allow   # keep
            http-request deny if { path /d }
            http-request allow
            default_backend b

        backend b
            server s1 10.0.0.1:80   weight 5   # first
            server s3 10.0.0.3:80 weight 7
            server s4 10.0.0.4:80
            server s5 10.0.0.5:80
            balance roundrobin
    "#]]
    .assert_eq(&doc.to_text());
    // Shorter lists drop their last items.
    registry::replace_all(&mut doc, rules, &list[..1]).unwrap();
    assert_eq!(registry::list(&doc, rules, false).unwrap().len(), 1);
    assert!(doc
        .to_text()
        .contains("    http-request deny if { path /a }\n    default_backend b\n"));
}

#[test]
fn a_required_list_with_no_line_reads_empty() {
    let mut doc = Document::parse(b"global\n".to_vec());
    let errors = place("http_errors_sections");
    let created = json!({"name": "none", "error_files": []});
    registry::create(&mut doc, errors, None, created.as_object().unwrap(), false).unwrap();
    let read = registry::get(&doc, errors, "none", false).unwrap();
    assert_eq!(Value::Object(read), created);
    let listed = registry::list(&doc, errors, false).unwrap();
    assert_eq!(listed[0]["error_files"], json!([]));
}

/// Lists long enough to be read and rendered in parts on several threads
/// come out as a single pass would make them: in order, only the changed
/// lines rewritten, the first refused item (by index) named, and nothing
/// changed when an item is refused.
#[test]
fn long_lists_are_replaced_in_parts_in_order() {
    let n = 3000;
    let mut text = String::from("frontend f\n    bind :80\n");
    for i in 0..n {
        text.push_str(&format!("    http-request set-header X-{i} v{i}\n"));
    }
    text.push_str("    default_backend b\n\nbackend b\n");
    for i in 0..n {
        text.push_str(&format!(
            "    server s{i} 10.0.{}.{}:80 weight 5\n",
            i / 250,
            i % 250 + 1
        ));
    }
    text.push_str("    balance roundrobin\n");
    let original = Document::parse(text.as_bytes().to_vec());
    let mut doc = original.clone();

    // As read: nothing changes.
    let backends = place("backends");
    let full = registry::get(&doc, backends, "b", true).unwrap();
    registry::replace(&mut doc, backends, "b", &full, true).unwrap();
    let rules = registry::Place {
        resource: registry::resource("http_request_rules").unwrap(),
        parent: Some((registry::resource("frontends").unwrap(), "f")),
    };
    let list = registry::list(&doc, rules, false).unwrap();
    assert_eq!(list.len(), n);
    registry::replace_all(&mut doc, rules, &list).unwrap();
    assert_eq!(doc.to_text(), text);

    // Servers: two go, one changes, two are added after the last kept.
    let mut changed = full.clone();
    let servers = changed["servers"].as_object_mut().unwrap();
    servers.remove("s10");
    servers.remove("s2999");
    servers["s1500"]["weight"] = json!(7);
    for name in ["new1", "new2"] {
        servers.insert(
            name.into(),
            json!({"name": name, "address": "10.9.9.9", "port": 80}),
        );
    }
    registry::replace(&mut doc, backends, "b", &changed, true).unwrap();
    let mut expected = text
        .replace("    server s10 10.0.0.11:80 weight 5\n", "")
        .replace("    server s2999 10.0.11.250:80 weight 5\n", "")
        .replace(
            "    server s1500 10.0.6.1:80 weight 5\n",
            "    server s1500 10.0.6.1:80 weight 7\n",
        );
    expected = expected.replace(
        "    server s2998 10.0.11.249:80 weight 5\n",
        "    server s2998 10.0.11.249:80 weight 5\n    server new1 10.9.9.9:80\n    server new2 10.9.9.9:80\n",
    );
    assert_eq!(doc.to_text(), expected);

    // Rules: one changed, one added at the end.
    let mut rule_list = list.clone();
    rule_list[2500].insert("hdr_format".into(), json!("changed"));
    rule_list.push(obj(json!({"type": "deny"})));
    registry::replace_all(&mut doc, rules, &rule_list).unwrap();
    let expected = expected
        .replace(
            "    http-request set-header X-2500 v2500\n",
            "    http-request set-header X-2500 changed\n",
        )
        .replace(
            "    http-request set-header X-2999 v2999\n",
            "    http-request set-header X-2999 v2999\n    http-request deny\n",
        );
    assert_eq!(doc.to_text(), expected);

    // The first refused item by index is named, and nothing changes.
    let before = doc.to_text();
    let mut refused = rule_list.clone();
    refused[2700].insert("type".into(), json!("no-such-action"));
    refused[100].insert("type".into(), json!("no-such-action"));
    refused[50].insert("hdr_format".into(), json!("fine"));
    let error = registry::replace_all(&mut doc, rules, &refused).unwrap_err();
    assert!(error.to_string().contains("[100].type"), "{error}");
    assert_eq!(doc.to_text(), before);
    // Two servers of one name: refused, nothing changes.
    let mut twice = registry::get(&doc, backends, "b", true).unwrap();
    let servers = twice["servers"].as_object_mut().unwrap();
    servers["s20"]["weight"] = json!(9);
    let copy = servers["s5"].clone();
    servers.insert("another".into(), copy);
    let error = registry::replace(&mut doc, backends, "b", &twice, true).unwrap_err();
    assert!(matches!(error, ResourceError::AlreadyExists(_)), "{error}");
    assert_eq!(doc.to_text(), before);
}
