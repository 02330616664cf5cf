//! Sections and lines of HAProxy 3.1 to 3.4, against the newer HAProxy that
//! `HAPLANE_HAPROXY_NEWER` names (`scripts/haproxy-3.4`; `scripts/test`
//! always sets it): traces, health check sections, ACME providers and
//! their runtime status, and the certificates of a frontend, with TLS
//! traffic proving which certificate is served.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{free_port, tls_file, wait_for, World};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The newer HAProxy, or None (the test says so) when it is not given.
fn newer() -> Option<PathBuf> {
    match std::env::var_os("HAPLANE_HAPROXY_NEWER") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            eprintln!("HAPLANE_HAPROXY_NEWER is not set: nothing to run against");
            None
        }
    }
}

/// The common configuration, with experimental keywords allowed (ACME)
/// and a TLS frontend whose certificate comes from `ssl-f-use`.
fn config(tls_port: u16) -> String {
    let config = common::CONFIG.replace("global\n", "global\n    expose-experimental-directives\n");
    assert!(config.contains("expose-experimental-directives"));
    format!(
        "{config}
frontend tls
    bind 127.0.0.1:{tls_port} ssl
    ssl-f-use crt @DIR@/server.pem key @DIR@/server.key
    http-request return status 200 content-type text/plain string hello-over-tls
"
    )
}

fn start(haproxy: &Path, tls_port: u16) -> World {
    World::start_on(haproxy, &config(tls_port), &[], |dir| {
        for name in ["server.pem", "server.key", "client.pem", "client.key"] {
            std::fs::write(dir.join(name), tls_file(name)).unwrap();
        }
    })
}

fn version(w: &World) -> Value {
    w.send("GET", "/services/haproxy/configuration/version", None)
        .1
}

/// The subject of the certificate HAProxy serves on `port`.
fn served_subject(port: u16) -> String {
    let s_client = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .expect("openssl runs");
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-subject"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    x509.stdin
        .take()
        .unwrap()
        .write_all(&s_client.stdout)
        .unwrap();
    let out = x509.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn sections_of_newer_haproxy_are_written_and_served() {
    let Some(haproxy) = newer() else { return };
    let tls_port = free_port();
    let w = start(&haproxy, tls_port);
    let base = "/services/haproxy/configuration";

    // traces: created, given entries, entries deleted by value, deleted.
    let v = version(&w);
    let (status, body, _) = w.send(
        "POST",
        &format!("{base}/traces?version={v}&force_reload=true"),
        Some(json!({"entries": [{"trace": "h1 sink stderr level developer"}]})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let v = version(&w);
    let (status, body, _) = w.send(
        "POST",
        &format!("{base}/traces/entries?version={v}&force_reload=true"),
        Some(json!({"trace": "h2 sink stderr   level error"})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        w.config().contains(
            "traces\n    trace h1 sink stderr level developer\n    trace h2 sink stderr level error\n"
        ),
        "{}",
        w.config()
    );
    let v = version(&w);
    let (status, _, _) = w.send(
        "DELETE",
        &format!("{base}/traces/entries?version={v}&force_reload=true"),
        Some(json!({"trace": "h1 sink stderr level developer"})),
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, traces, _) = w.send("GET", &format!("{base}/traces"), None);
    assert_eq!(
        traces,
        json!({"entries": [{"trace": "h2 sink stderr level error"}]})
    );
    let v = version(&w);
    let (status, body, _) = w.send(
        "DELETE",
        &format!("{base}/traces/entries?version={v}"),
        Some(json!({"trace": "h9 nothing"})),
    );
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _, _) = w.send(
        "DELETE",
        &format!("{base}/traces?version={v}&force_reload=true"),
        None,
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = w.send("GET", &format!("{base}/traces"), None);
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!w.config().contains("traces"));

    // A health check section with its own rules; a reload proves HAProxy
    // took it.
    let v = version(&w);
    let (status, body, _) = w.send(
        "POST",
        &format!("{base}/healthchecks?version={v}&force_reload=true"),
        Some(json!({"name": "web", "type": "httpchk",
            "httpchk_params": {"method": "GET", "uri": "/health", "version": "HTTP/1.1"}})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let v = version(&w);
    let (status, body, _) = w.send(
        "POST",
        &format!("{base}/healthchecks/web/http_checks/0?version={v}&force_reload=true"),
        Some(json!({"type": "expect", "match": "status", "pattern": "200"})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(w
        .config()
        .contains("healthcheck web\n    type httpchk GET /health HTTP/1.1\n    http-check expect status 200\n"));
    let (_, full, _) = w.send(
        "GET",
        &format!("{base}/healthchecks/web?full_section=true"),
        None,
    );
    assert_eq!(
        full["http_check_list"],
        json!([{"type": "expect", "match": "status", "pattern": "200"}])
    );
    assert_eq!(full["type"], "httpchk");

    // A log profile and a rule of 3.2 that logs with it.
    let v = version(&w);
    let (status, body, _) = w.send(
        "POST",
        &format!("{base}/log_profiles?version={v}&force_reload=true"),
        Some(json!({"name": "quiet", "steps": [{"step": "any", "format": "%ci"}]})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let v = version(&w);
    let (status, body, _) = w.send(
        "POST",
        &format!("{base}/frontends/app/http_request_rules/0?version={v}&force_reload=true"),
        Some(json!({"type": "do-log", "log_profile": "quiet", "cond": "if", "cond_test": "FALSE"})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(w
        .config()
        .contains("    http-request do-log profile quiet if FALSE\n"));

    // An ACME provider; the runtime lists what it renews and refuses an
    // unknown certificate.
    let v = version(&w);
    let (status, body, _) = w.send(
        "POST",
        &format!("{base}/acme?version={v}&force_reload=true"),
        Some(
            json!({"name": "le", "directory": "https://127.0.0.1:1/directory",
            "contact": "ops@example.com", "keytype": "RSA", "bits": 2048,
            "account_key": w.dir.path().join("le.key").to_str().unwrap()}),
        ),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, acme, _) = w.send("GET", &format!("{base}/acme/le"), None);
    assert_eq!(acme["bits"], 2048);
    assert_eq!(acme["directory"], "https://127.0.0.1:1/directory");
    let (status, status_list, _) = w.send("GET", "/services/haproxy/runtime/acme", None);
    assert_eq!((status, status_list), (StatusCode::OK, json!([])));
    let (status, body, _) = w.send(
        "PUT",
        "/services/haproxy/runtime/acme?certificate=nothing.pem",
        None,
    );
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // The frontend's certificate: another one replaces it, and TLS
    // clients get the new one.
    wait_for("the TLS frontend answers", || {
        served_subject(tls_port).contains("127.0.0.1")
    });
    let (_, uses, _) = w.send("GET", &format!("{base}/frontends/tls/ssl_front_uses"), None);
    assert_eq!(uses.as_array().map(Vec::len), Some(1), "{uses}");
    let dir = w.dir.path().display().to_string();
    let v = version(&w);
    let (status, body, _) = w.send(
        "PUT",
        &format!("{base}/frontends/tls/ssl_front_uses/0?version={v}&force_reload=true"),
        Some(json!({"certificate": format!("{dir}/client.pem"),
            "key": format!("{dir}/client.key"), "allow_0rtt": false})),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("allow_0rtt").is_none(), "{body}");
    wait_for("the new certificate is served", || {
        served_subject(tls_port).contains("haplane client")
    });
    let v = version(&w);
    let (status, body, _) = w.send(
        "POST",
        &format!("{base}/frontends/tls/ssl_front_uses?version={v}"),
        Some(json!({"key": "x.key"})),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("certificate"),
        "{body}"
    );
}
