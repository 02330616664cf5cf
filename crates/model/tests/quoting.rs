//! A string value written into the configuration is read back by HAProxy
//! as exactly that value: arbitrary strings become the bodies of
//! `http-request return ... string VALUE` rules written through the model,
//! a real HAProxy serves them, and each body is the value, byte for byte.
//!
//! The content of a reply is a configuration word as written (the Data
//! Plane API keeps its quotes): a value that is one well-formed word stands
//! for what HAProxy reads from it (`"a b"` serves `a b`); any other string,
//! and any that would expand an environment variable, is the text itself.

use std::io::{Read, Write};
use std::path::Path;

use haplane_cfg::{Document, SectionKind};
use haplane_haproxy::MasterWorker;
use haplane_model::{get_rule, insert_rule, RuleKind};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The body HAProxy answers on `port` for `path`.
fn body(port: u16, path: &str) -> Vec<u8> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let at = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole answer");
    out[at + 4..].to_vec()
}

/// What HAProxy serves for a reply content of `value`: the value of the
/// word when haplane writes `value` as it is, else `value` itself.
fn meant(value: &str) -> String {
    if haplane_cfg::quote(&haplane_cfg::verbatim(value)) == value {
        haplane_cfg::lex(value.as_bytes()).words[0]
            .value
            .to_string()
    } else {
        value.to_owned()
    }
}

/// Writes each value as a reply through the model, then asks HAProxy.
fn served_as_written(values: &[String]) {
    let port = free_port();
    let mut doc = Document::parse(
        format!(
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\nfrontend f\n    bind 127.0.0.1:{port}\n"
        )
        .into_bytes(),
    );
    let kind = RuleKind::HttpRequest;
    for (i, value) in values.iter().enumerate() {
        let rule = json!({
            "type": "return",
            "return_status_code": 200,
            "return_content_type": "text/plain",
            "return_content_format": "string",
            "return_content": value,
            "cond": "if",
            "cond_test": format!("{{ path /{i} }}"),
        });
        let rule: Map<String, Value> = rule.as_object().unwrap().clone();
        insert_rule(&mut doc, SectionKind::Frontend, "f", kind, i, &rule).unwrap();
        // haplane reads back the word it wrote, which means the same.
        let read = get_rule(&doc, SectionKind::Frontend, "f", kind, i).unwrap();
        let word = read["return_content"].as_str().unwrap();
        assert_eq!(meant(word), meant(value), "read back as {word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("haproxy.cfg");
    std::fs::write(&config, doc.to_bytes()).unwrap();
    let mut haproxy =
        MasterWorker::start(Path::new("haproxy"), &config, &dir.path().join("m.sock"))
            .unwrap_or_else(|e| panic!("HAProxy refused:\n{e}\n---\n{}", doc.to_text()));
    // The master's socket exists before the worker listens.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "HAProxy does not listen"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for (i, value) in values.iter().enumerate() {
        let served = body(port, &format!("/{i}"));
        assert_eq!(
            String::from_utf8_lossy(&served),
            meant(value),
            "value {i} as written: {}",
            doc.to_text().lines().nth(7 + i).unwrap_or_default()
        );
    }
    haproxy.stop();
}

#[test]
fn words_that_look_like_syntax_are_served_as_written() {
    served_as_written(&[
        "c1\u{b}backup\u{b}disabled".into(),
        "form\u{c}feed".into(),
        "v\r\nX-Smuggled: yes".into(),
        "it's $HOME".into(),
        "${HOME}".into(),
        "\"$PATH\"".into(),
        "\"a b\"".into(),
        "'it''s'".into(),
        "a # not a comment".into(),
        "back\\slash and 'quote'".into(),
        "\ttab".into(),
        "\u{7f}\u{1}\u{1f}".into(),
        "é 中 \u{85}".into(),
        // One word, but HAProxy refuses a `\x` without two hex digits.
        "T\u{85}O$(\\x中".into(),
        "\\x4".into(),
    ]);
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        // Anything but NUL, which no spelling carries.
        "[\u{1}-\u{7f}é中\u{85}]{1,24}",
        // Dense in what quoting is about.
        "[ \t#'\"\\\\${}A-Z\u{b}\u{c}\r\n]{1,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]
    #[test]
    fn any_string_is_served_as_written(values in prop::collection::vec(value(), 1..48)) {
        served_as_written(&values);
    }
}
