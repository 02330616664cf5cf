//! The keyword-table engine on small fragments: lines -> JSON, JSON ->
//! minimal edits, and the stability of the round trip.

use expect_test::{expect, Expect};
use haplane_cfg::{Document, SectionId};
use haplane_model::{read_child, read_section, render_child, write_section, ChildKind};
use serde_json::{json, Map, Value};

fn doc_of(header: &str, body: &str) -> (Document, SectionId) {
    let text = format!("{header}\n{body}");
    let doc = Document::parse(text.into_bytes());
    let id = doc.sections().next().expect("one section").id();
    (doc, id)
}

fn table_for(header: &str) -> &'static str {
    if header.starts_with("global") {
        "global"
    } else {
        "proxy"
    }
}

/// Reads the section in `input` (header on the first line) as JSON.
fn check_read(input: &str, expect: Expect) {
    let (header, body) = input.split_once('\n').unwrap_or((input, ""));
    let (doc, id) = doc_of(header, body);
    let value = read_section(&doc, id, table_for(header));
    expect.assert_eq(&serde_json::to_string_pretty(&value).unwrap());
}

/// Writes `value` into the section of `input` and shows the file.
fn check_write(input: &str, value: Value, expect: Expect) {
    let (header, body) = input.split_once('\n').unwrap_or((input, ""));
    let (mut doc, id) = doc_of(header, body);
    let object = value.as_object().expect("an object").clone();
    match write_section(&mut doc, id, table_for(header), &object, &["name"]) {
        Ok(()) => expect.assert_eq(&doc.to_text()),
        Err(e) => expect.assert_eq(&format!("error: {e}")),
    }
}

/// fragment -> JSON -> fresh section -> JSON is the same, and writing the
/// JSON again changes nothing.
fn assert_stable(input: &str) {
    let (header, body) = input.split_once('\n').unwrap_or((input, ""));
    let table = table_for(header);
    let (doc, id) = doc_of(header, body);
    let value = read_section(&doc, id, table);
    let (mut fresh, fresh_id) = doc_of(header, "");
    write_section(&mut fresh, fresh_id, table, &value, &[]).expect("what was read can be written");
    let again = read_section(&fresh, fresh_id, table);
    assert_eq!(
        again,
        value,
        "fragment:\n{input}\nrendered:\n{}",
        fresh.to_text()
    );
    let rendered = fresh.to_text();
    write_section(&mut fresh, fresh_id, table, &again, &[]).unwrap();
    assert_eq!(
        fresh.to_text(),
        rendered,
        "rewriting the same value is a no-op"
    );
}

#[test]
fn proxy_lines_read_into_fields() {
    check_read(
        r#"frontend f
    mode http
    timeout client 30s
    option httplog
    option http-keep-alive
    option forwardfor except 127.0.0.0/8 if-none
    http-request deny if { path /x }
    .if defined(X)
    maxconn 10
    .endif
    option unknown-thing"#,
        expect![[r#"
            {
              "client_timeout": 30000,
              "forwardfor": {
                "enabled": "enabled",
                "except": "127.0.0.0/8",
                "ifnone": true
              },
              "http_connection_mode": "http-keep-alive",
              "httplog": true,
              "mode": "http"
            }"#]],
    );
}

#[test]
fn writes_touch_only_changed_fields() {
    let input = r#"backend b
    # hand-written comment
    mode http   # trailing
    timeout client 1m
    balance roundrobin
    server s1 127.0.0.1:80
    unknown-keyword stays here"#;
    // Same value: nothing changes, even `1m` stays `1m`.
    check_write(
        input,
        json!({"mode": "http", "balance": {"algorithm": "roundrobin"}}),
        expect![[r#"
            backend b
                # hand-written comment
                mode http   # trailing
                timeout client 1m
                balance roundrobin
                server s1 127.0.0.1:80
                unknown-keyword stays here"#]],
    );
    check_write(
        input,
        json!({"mode": "tcp", "balance": {"algorithm": "hdr", "hdr_name": "Host"}}),
        expect![[r#"
            backend b
                # hand-written comment
                mode tcp   # trailing
                timeout client 1m
                balance hdr(Host)
                server s1 127.0.0.1:80
                unknown-keyword stays here"#]],
    );
}

#[test]
fn bad_values_are_refused_with_the_field_named() {
    let input = "backend b\n    mode http\n";
    check_write(
        input,
        json!({"mode": "udp"}),
        expect!["error: field 'mode': 'udp' is not one of tcp, http"],
    );
    check_write(
        input,
        json!({"color": "red"}),
        expect!["error: unknown field 'color'"],
    );
    check_write(
        "frontend f\n",
        json!({"client_timeout": "soon"}),
        expect![[r#"error: field 'client_timeout': expected an integer, got "soon""#]],
    );
    check_write(
        input,
        json!({"balance": {"algorithm": "fastest"}}),
        expect![[
            r#"error: field 'balance.algorithm': "fastest" is not one of first, hash, hdr, leastconn, random, rdp-cookie, roundrobin, source, static-rr, uri, url_param"#
        ]],
    );
    check_write(
        "frontend f\n",
        json!({"balance": {"algorithm": "roundrobin"}}),
        expect!["error: field 'balance' is not accepted in a frontend section"],
    );
}

#[test]
fn fragments_are_stable() {
    for fragment in [
        "frontend f\n    mode http\n    timeout client 30s\n    option httplog\n",
        "backend b\n    balance url_param id check_post 64\n    option forwardfor header X-Real-IP\n",
        "backend b\n    balance uri whole len 10 depth 2 path-only\n",
        "backend b\n    balance random(3)\n",
        "backend b\n    balance hash req.cookie(id)\n",
        "global\n    maxconn 100\n    daemon\n",
    ] {
        assert_stable(fragment);
    }
}

fn server(line: &str) -> Map<String, Value> {
    let doc = Document::parse(format!("backend b\n    {line}\n").into_bytes());
    let id = doc.sections().next().unwrap().id();
    read_child(ChildKind::Server, &doc.section(id).line(0).unwrap()).expect("a server line")
}

fn check_server_edit(line: &str, change: Value, expect: Expect) {
    let doc = Document::parse(format!("backend b\n    {line}\n").into_bytes());
    let id = doc.sections().next().unwrap().id();
    let old = doc.section(id).line(0).unwrap();
    let mut value = read_child(ChildKind::Server, &old).unwrap();
    for (k, v) in change.as_object().unwrap() {
        if v.is_null() {
            value.remove(k);
        } else {
            value.insert(k.clone(), v.clone());
        }
    }
    match render_child(ChildKind::Server, &value, Some(&old)) {
        Ok(words) => expect.assert_eq(&words.join(" ")),
        Err(e) => expect.assert_eq(&format!("error: {e}")),
    }
}

#[test]
fn server_lines() {
    expect![[r#"{"address":"10.0.0.1","check":"enabled","inter":2000,"name":"s1","port":8080,"weight":10}"#]]
        .assert_eq(&serde_json::to_string(&server("server s1 10.0.0.1:8080 check weight 10 inter 2s")).unwrap());
    expect![[r#"{"address":"fe80::1","name":"v6"}"#]]
        .assert_eq(&serde_json::to_string(&server("server v6 fe80::1")).unwrap());
    expect![[r#"{"address":"::1","name":"v6","port":80}"#]]
        .assert_eq(&serde_json::to_string(&server("server v6 ::1:80")).unwrap());
    // Unknown params stay in place; unchanged ones keep their spelling.
    check_server_edit(
        "server s1 10.0.0.1:8080 check mystery-flag 3 inter 2s weight 10",
        json!({"weight": 20}),
        expect!["server s1 10.0.0.1:8080 check mystery-flag 3 inter 2s weight 20"],
    );
    check_server_edit(
        "server s1 10.0.0.1:8080 check weight 10",
        json!({"check": "disabled", "weight": null, "port": 9090}),
        expect!["server s1 10.0.0.1:9090 no-check"],
    );
    check_server_edit(
        "server s1 10.0.0.1:8080",
        json!({"port": 99999}),
        expect!["error: field 'port': expected a port between 1 and 65535, got 99999"],
    );
    check_server_edit(
        "server s1 10.0.0.1:8080",
        json!({"weight": "heavy"}),
        expect![[r#"error: field 'weight': expected an integer, got "heavy""#]],
    );
}

/// HAProxy 2.6 reads `tune.bufsize` with atol: `16k` would mean 16 bytes and
/// crash it. Sizes are therefore always written as plain bytes.
#[test]
fn tune_bufsize_is_written_in_plain_bytes() {
    check_write(
        "global\n    daemon\n",
        json!({"daemon": true, "tune_buffer_options": {"bufsize": 16384}}),
        expect![[r#"
            global
                daemon
                tune.bufsize 16384
        "#]],
    );
}

#[test]
fn checks_with_parameters_are_adv_check_too() {
    check_read(
        "backend b\n    option ssl-hello-chk\n    option httpchk GET /health\n",
        expect![[r#"
            {
              "adv_check": "httpchk",
              "httpchk_params": {
                "method": "GET",
                "uri": "/health"
              }
            }"#]],
    );
    check_write(
        "backend b\n    mode http\n",
        json!({"mode": "http", "adv_check": "httpchk"}),
        expect![[r#"
            backend b
                mode http
                option httpchk
        "#]],
    );
    check_write(
        "backend b\n    option httpchk GET /\n",
        json!({"adv_check": "ldap-check"}),
        expect![[r#"
            backend b
                option ldap-check
        "#]],
    );
}
