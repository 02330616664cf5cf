//! The walkthrough every user does first, over real HTTP against the
//! `haplane` binary, with a real HAProxy 2.6 in master-worker mode on
//! loopback: version -> transaction -> backend -> server -> frontend ->
//! bind -> commit, proven by traffic through the new frontend.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

/// The lines of `old` all appear in `new`, in the same order.
fn keeps_every_line(old: &str, new: &str) -> bool {
    let mut rest = new.lines().skip(1); // the version line changes
    old.lines().skip(1).all(|line| rest.any(|l| l == line))
}

#[test]
fn walkthrough_changes_haproxy_and_keeps_the_file() {
    let w = World::start(&[]);
    let original = w.config();

    // Authentication is required.
    let anonymous = w
        .client
        .get(w.url("/services/haproxy/configuration/version"))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let wrong = w
        .client
        .get(w.url("/health"))
        .basic_auth("admin", Some("nope"))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let (status, version, _) = w.send("GET", "/services/haproxy/configuration/version", None);
    assert_eq!((status, version.clone()), (StatusCode::OK, json!(1)));

    let (status, t, _) = w.send("POST", "/services/haproxy/transactions?version=1", None);
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["status"], "in_progress");
    let q = format!("?transaction_id={id}");
    let front_port = free_port();
    for (path, body) in [
        (
            "/services/haproxy/configuration/backends",
            json!({"name": "web", "mode": "http", "balance": {"algorithm": "roundrobin"}}),
        ),
        (
            "/services/haproxy/configuration/backends/web/servers",
            json!({"name": "app1", "address": "127.0.0.1", "port": w.app_port, "check": "enabled"}),
        ),
        (
            "/services/haproxy/configuration/frontends",
            json!({"name": "public", "mode": "http", "default_backend": "web"}),
        ),
        (
            "/services/haproxy/configuration/frontends/public/binds",
            json!({"name": "main", "address": "127.0.0.1", "port": front_port}),
        ),
    ] {
        let (status, answer, _) = w.send("POST", &format!("{path}{q}"), Some(body.clone()));
        assert_eq!(status, StatusCode::ACCEPTED, "{path}: {answer}");
    }
    // Inside the transaction the changes are visible; outside not yet.
    let (_, servers, _) = w.send(
        "GET",
        &format!("/services/haproxy/configuration/backends/web/servers{q}"),
        None,
    );
    assert_eq!(servers[0]["name"], "app1");
    let (status, _, _) = w.send("GET", "/services/haproxy/configuration/backends/web", None);
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, committed, headers) = w.send(
        "PUT",
        &format!("/services/haproxy/transactions/{id}?force_reload=true"),
        None,
    );
    assert_eq!(status, StatusCode::OK, "{committed}");
    assert_eq!(committed["status"], "success");
    assert_eq!(headers["configuration-version"], "2");

    // Real traffic goes through the new frontend to the application.
    wait_for("the new frontend serves", || {
        traffic(front_port).is_some_and(|a| a.contains("hello-from-app"))
    });
    let text = w.config();
    assert!(text.starts_with("# _version=2\n"), "{text}");
    assert!(
        keeps_every_line(&original, &text),
        "original lines lost or reordered:\n{text}"
    );

    // A change HAProxy refuses: its message, the resource, and nothing changes.
    let before = w.config();
    let (status, error, _) = w.send(
        "POST",
        "/services/haproxy/configuration/backends/web/servers?version=2&force_reload=true",
        Some(json!({"name": "bad", "address": "no-such-host.invalid", "port": 80})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], 400);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("could not resolve address 'no-such-host.invalid'"),
        "{error}"
    );
    assert_eq!(
        error["problems"][0]["resource"],
        "/backends/web/servers/bad"
    );
    // Port 99999: refused before HAProxy runs, naming the field.
    let (status, error, _) = w.send(
        "POST",
        "/services/haproxy/configuration/backends/web/servers?version=2",
        Some(json!({"name": "bad", "address": "127.0.0.1", "port": 99999})),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("port in body should be less than or equal to 65535"),
        "{error}"
    );
    // And through the raw endpoint, HAProxy's own words about the bind.
    let broken = format!("{before}\nfrontend broken\n    bind 127.0.0.1:99999\n");
    let response = w
        .client
        .post(w.url("/services/haproxy/configuration/raw?version=2"))
        .basic_auth("admin", Some("s3cret"))
        .body(broken)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().unwrap();
    assert!(
        error["message"].as_str().unwrap().contains("99999"),
        "{error}"
    );
    assert_eq!(
        w.config(),
        before,
        "refused changes leave the file as it was"
    );
    assert!(
        traffic(front_port).unwrap().contains("hello-from-app"),
        "and the traffic as it was"
    );
}

#[test]
fn errors_have_the_reference_shape() {
    let w = World::start(&["--max-open-transactions", "2", "--max-body-size", "1MiB"]);
    let cases: Vec<(&str, &str, Option<Value>, StatusCode, &str)> = vec![
        (
            "POST",
            "/services/haproxy/configuration/backends?version=7",
            Some(json!({"name": "x"})),
            StatusCode::CONFLICT,
            "version",
        ),
        (
            "POST",
            "/services/haproxy/configuration/backends",
            Some(json!({"name": "x"})),
            StatusCode::BAD_REQUEST,
            "version",
        ),
        (
            "POST",
            "/services/haproxy/configuration/backends?version=1",
            Some(json!({"name": "x", "colour": "red"})),
            StatusCode::BAD_REQUEST,
            "unknown field 'colour'",
        ),
        (
            "POST",
            "/services/haproxy/configuration/backends?version=1",
            Some(json!({"name": "x", "mode": "udp"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "mode in body should be one of",
        ),
        (
            "POST",
            "/services/haproxy/configuration/backends/ghost/servers?version=1",
            Some(json!({"name": "s", "address": "127.0.0.1"})),
            StatusCode::BAD_REQUEST,
            "parent backend 'ghost' does not exist",
        ),
        (
            "POST",
            "/services/haproxy/configuration/frontends/ghost/http_request_rules/0?version=1",
            Some(json!({"type": "deny"})),
            StatusCode::BAD_REQUEST,
            "parent frontend 'ghost' does not exist",
        ),
        (
            "POST",
            "/services/haproxy/configuration/frontends/app/http_request_rules/0?version=1",
            Some(json!({"cond": "if"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "type in body is required",
        ),
        (
            "POST",
            "/services/haproxy/configuration/backends/app/servers?version=1",
            Some(json!({"name": "s", "address": "127.0.0.1", "port": "80"})),
            StatusCode::BAD_REQUEST,
            "because port must be of type integer",
        ),
        (
            "POST",
            "/services/haproxy/configuration/backends/app/servers?version=1",
            Some(json!({"name": "s", "address": "127.0.0.1", "check": "yes"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "check in body should be one of [enabled disabled]",
        ),
        (
            "GET",
            "/services/haproxy/configuration/backends/nope",
            None,
            StatusCode::NOT_FOUND,
            "backend 'nope' not found",
        ),
        (
            "POST",
            "/services/haproxy/configuration/frontends?version=1",
            Some(json!({"name": "app"})),
            StatusCode::CONFLICT,
            "already exists",
        ),
        (
            "GET",
            "/services/haproxy/transactions/nope",
            None,
            StatusCode::NOT_FOUND,
            "not found",
        ),
        (
            "GET",
            "/services/haproxy/reloads/2000-01-01-1",
            None,
            StatusCode::NOT_FOUND,
            "not found",
        ),
        (
            "GET",
            "/nowhere",
            None,
            StatusCode::NOT_FOUND,
            "no such path",
        ),
    ];
    for (method, path, body, expected, words) in cases {
        let (status, error, _) = w.send(method, path, body);
        assert_eq!(status, expected, "{method} {path}: {error}");
        assert_eq!(error["code"], expected.as_u16(), "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(words),
            "{method} {path}: {error}"
        );
    }
    // Malformed JSON.
    let response = w
        .client
        .post(w.url("/services/haproxy/configuration/backends?version=1"))
        .basic_auth("admin", Some("s3cret"))
        .body("{nope")
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Too many open transactions; an outdated one cannot commit.
    let (_, t1, _) = w.send("POST", "/services/haproxy/transactions?version=1", None);
    let (_, _t2, _) = w.send("POST", "/services/haproxy/transactions?version=1", None);
    let (status, _, _) = w.send("POST", "/services/haproxy/transactions?version=1", None);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, headers) = w.send(
        "POST",
        "/services/haproxy/configuration/backends?version=1",
        Some(json!({"name": "moved"})),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "a queued reload");
    assert!(headers.contains_key("reload-id"));
    let reload_id = headers["reload-id"].to_str().unwrap().to_owned();
    let (status, error, _) = w.send(
        "PUT",
        &format!(
            "/services/haproxy/transactions/{}",
            t1["id"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{error}");
    let (_, list, _) = w.send(
        "GET",
        "/services/haproxy/transactions?status=outdated",
        None,
    );
    assert_eq!(list.as_array().unwrap().len(), 2);
    // The queued reload completes.
    wait_for("the reload succeeds", || {
        w.send(
            "GET",
            &format!("/services/haproxy/reloads/{reload_id}"),
            None,
        )
        .1["status"]
            == "succeeded"
    });
    // A body past the limit.
    let huge = vec![b' '; haplane_api_body_limit() + 1];
    let response = w
        .client
        .post(w.url("/services/haproxy/configuration/raw?version=2"))
        .basic_auth("admin", Some("s3cret"))
        .body(huge)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// The `--max-body-size` the test gives.
fn haplane_api_body_limit() -> usize {
    1024 * 1024
}

#[test]
fn specification_is_valid_openapi_and_raw_has_headers() {
    let w = World::start(&[]);
    let spec = w.get("/specification").unwrap().text().unwrap();
    let path = w.dir.path().join("spec.json");
    std::fs::write(&path, &spec).unwrap();
    let check = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        check.status.success(),
        "openapi-spec-validator: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let docs = w.get("/docs").unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().unwrap().contains("/v3/specification"));
    let raw = w.get("/services/haproxy/configuration/raw").unwrap();
    assert_eq!(raw.headers()["configuration-version"], "1");
    assert!(raw.headers().contains_key("configuration-checksum"));
    assert_eq!(raw.text().unwrap(), w.config());
    let (_, health, _) = w.send("GET", "/health", None);
    assert_eq!(health, json!({"haproxy": "up"}));
    // SIGTERM stops haplane cleanly.
    let pid = w.haplane.0.id();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let mut haplane = w.haplane;
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Ok(Some(status)) = haplane.0.try_wait() {
            break status;
        }
        assert!(Instant::now() < deadline, "haplane did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn rules_are_inserted_by_index_and_take_effect() {
    let w = World::start(&[]);
    let rules = "/services/haproxy/configuration/frontends/app/http_request_rules";
    let (status, list, _) = w.send("GET", rules, None);
    assert_eq!(
        (status, list.as_array().unwrap().len()),
        (StatusCode::OK, 1),
        "{list}"
    );
    assert_eq!(list[0]["type"], "return");
    // Insert a deny before the catch-all return, at index 0.
    let (status, _, _) = w.send(
        "POST",
        &format!("{rules}/0?version=1&force_reload=true"),
        Some(json!({"type": "deny", "deny_status": 403, "cond": "if", "cond_test": "{ path /blocked }"})),
    );
    assert_eq!(status, StatusCode::CREATED);
    wait_for("the deny rule applies", || {
        status_of(w.app_port, "/blocked").is_some_and(|s| s.contains(" 403 "))
    });
    assert!(traffic(w.app_port).unwrap().contains("hello-from-app"));
    let (_, list, _) = w.send("GET", rules, None);
    assert_eq!(list[0]["type"], "deny");
    assert_eq!(list[1]["type"], "return");
    // Out-of-range index, missing field: 404 and 400 naming the field.
    let (status, _, _) = w.send("GET", &format!("{rules}/7"), None);
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, error, _) = w.send(
        "POST",
        &format!("{rules}/0?version=2"),
        Some(json!({"type": "set-header"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"].as_str().unwrap().contains("'hdr_name'"),
        "{error}"
    );
    // The whole list replaced: the deny goes.
    let (status, _, _) = w.send(
        "PUT",
        &format!("{rules}?version=2&force_reload=true"),
        Some(json!([list[1].clone()])),
    );
    assert_eq!(status, StatusCode::OK);
    wait_for("the deny rule is gone", || {
        status_of(w.app_port, "/blocked").is_some_and(|s| s.contains(" 200 "))
    });
    // A reply with its content and headers, and a redirect with options.
    let reply = json!({"type": "return", "return_status_code": 202, "return_content_type": "text/plain",
        "return_content_format": "string", "return_content": "custom-reply",
        "return_hdrs": [{"name": "X-Reply", "fmt": "%[path]"}], "cond": "if", "cond_test": "{ path /greeting }"});
    let redirect = json!({"type": "redirect", "redir_type": "prefix", "redir_value": "/new", "redir_code": 307,
        "redir_option": "drop-query", "cond": "if", "cond_test": "{ path_beg /old }"});
    let (status, _, _) = w.send(
        "PUT",
        &format!("{rules}?version=3&force_reload=true"),
        Some(json!([reply, redirect, list[1].clone()])),
    );
    assert_eq!(status, StatusCode::OK);
    wait_for("the reply is served", || {
        traffic_path(w.app_port, "/greeting").is_some_and(|a| a.contains("custom-reply"))
    });
    let answer = traffic_path(w.app_port, "/greeting").unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 202") && answer.contains("x-reply: /greeting"),
        "{answer}"
    );
    let answer = traffic_path(w.app_port, "/old/page?x=1").unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 307") && answer.contains("location: /new/old/page\r\n"),
        "{answer}"
    );
    let (_, read, _) = w.send("GET", &format!("{rules}/0"), None);
    assert_eq!(read, reply);
    let text = w.config();
    assert!(
        text.contains("# The application: HAProxy answers by itself.\nfrontend app\n"),
        "{text}"
    );
}

#[test]
fn full_sections_nest_their_children() {
    let w = World::start(&[]);
    let full = json!({
        "name": "web",
        "mode": "http",
        "balance": {"algorithm": "roundrobin"},
        "servers": {"s1": {"name": "s1", "address": "127.0.0.1", "port": w.app_port}},
        "http_request_rule_list": [{"type": "set-header", "hdr_name": "X-A", "hdr_format": "a"}],
        "acl_list": [{"acl_name": "is_x", "criterion": "path_beg", "value": "/x"}],
    });
    let (status, answer, _) = w.send(
        "POST",
        "/services/haproxy/configuration/backends?version=1&full_section=true",
        Some(full),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let (_, got, _) = w.send(
        "GET",
        "/services/haproxy/configuration/backends/web?full_section=true",
        None,
    );
    assert_eq!(got["servers"]["s1"]["port"], w.app_port);
    assert_eq!(got["http_request_rule_list"][0]["hdr_name"], "X-A");
    assert_eq!(got["acl_list"][0]["acl_name"], "is_x");
    let (_, plain, _) = w.send("GET", "/services/haproxy/configuration/backends/web", None);
    assert!(plain.get("servers").is_none(), "{plain}");
    // Replacing the full section: absent lists go, servers follow the map.
    let replaced = json!({"name": "web", "mode": "http", "servers": {"s2": {"name": "s2", "address": "127.0.0.1", "port": w.app_port}}});
    let (status, answer, _) = w.send(
        "PUT",
        "/services/haproxy/configuration/backends/web?version=2&full_section=true",
        Some(replaced.clone()),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer, replaced, "the answer is the item as given");
    let text = w.config();
    assert!(
        text.contains("backend web\n    mode http\n    server s2 127.0.0.1:"),
        "{text}"
    );
    assert!(
        !text.contains("X-A") && !text.contains("is_x") && !text.contains("server s1"),
        "{text}"
    );
    // The global section's full form holds its log targets.
    let global = "/services/haproxy/configuration/global";
    let (_, mut full, _) = w.send("GET", &format!("{global}?full_section=true"), None);
    let target = json!({"address": "127.0.0.1:5514", "facility": "local0", "level": "info", "minlevel": "notice"});
    full["log_target_list"] = json!([target]);
    let (status, answer, _) = w.send(
        "PUT",
        &format!("{global}?version=3&full_section=true"),
        Some(full),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["log_target_list"], json!([target]));
    assert!(w
        .config()
        .contains("    log 127.0.0.1:5514 local0 info notice\n"));
    let (_, plain, _) = w.send("GET", global, None);
    assert!(plain.get("log_target_list").is_none(), "{plain}");
}

#[test]
fn server_templates_over_http() {
    let w = World::start(&[]);
    let (status, _, _) = w.send(
        "POST",
        "/services/haproxy/configuration/backends?version=1",
        Some(json!({"name": "dyn"})),
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    let path = "/services/haproxy/configuration/backends/dyn/server_templates";
    let template = json!({"prefix": "node", "num_or_range": "1-2", "fqdn": "localhost", "port": w.app_port, "check": "enabled"});
    let (status, answer, _) = w.send(
        "POST",
        &format!("{path}?version=2&force_reload=true"),
        Some(template),
    );
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (_, got, _) = w.send("GET", &format!("{path}/node"), None);
    assert_eq!(got["num_or_range"], "1-2");
    let (status, _, _) = w.send("GET", &format!("{path}/nope"), None);
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(w.config().contains(&format!(
        "server-template node 1-2 localhost:{} check",
        w.app_port
    )));
}

#[test]
fn errors_axum_answers_itself_have_the_reference_shape() {
    let w = World::start(&[]);
    for (method, path, expected) in [
        (
            "GET",
            "/services/haproxy/configuration/frontends/app/acls/abc",
            StatusCode::BAD_REQUEST,
        ),
        (
            "PATCH",
            "/services/haproxy/configuration/backends",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ] {
        let (status, error, _) = w.send(method, path, None);
        assert_eq!(status, expected, "{method} {path}");
        assert_eq!(error["code"], expected.as_u16(), "{error}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{error}"
        );
    }
}

#[test]
fn references_to_missing_sections_are_refused_naming_the_field() {
    let w = World::start(&[]);
    let before = w.config();
    let (status, e, _) = w.send(
        "POST",
        "/services/haproxy/configuration/frontends?version=1",
        Some(json!({"name": "www", "default_backend": "nope"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("frontends/www: default_backend") && message.contains("'nope'"),
        "{message}"
    );
    let (status, e, _) = w.send(
        "POST",
        "/services/haproxy/configuration/frontends/app/backend_switching_rules/0?version=1",
        Some(json!({"name": "nope", "cond": "if", "cond_test": "TRUE"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("backend_switching_rules[0].name"));
    // A name computed per request is HAProxy's to resolve.
    let (status, e, _) = w.send(
        "POST",
        "/services/haproxy/configuration/frontends/app/backend_switching_rules/0?version=1&force_reload=true",
        Some(json!({"name": "%[req.hdr(host)]", "cond": "if", "cond_test": "FALSE"})),
    );
    assert_eq!(status, StatusCode::CREATED, "{e}");
    assert_ne!(w.config(), before);
    // PUT on the list of defaults sections adds one, as POST does.
    let (status, e, _) = w.send(
        "PUT",
        "/services/haproxy/configuration/defaults?version=2&force_reload=true",
        Some(json!({"name": "extra", "mode": "tcp"})),
    );
    assert_eq!(status, StatusCode::CREATED, "{e}");
    assert!(w.config().contains("defaults extra\n    mode tcp\n"));
}

#[test]
fn sections_named_by_a_query_parameter_and_the_api_userlist_is_live() {
    let w = World::start(&[]);
    let config = "/services/haproxy/configuration";
    // A resolvers section and a nameserver, named by `?resolver=`.
    let (status, body, _) = w.send(
        "POST",
        &format!("{config}/resolvers?version=1"),
        Some(json!({"name": "dns", "hold_valid": 10000, "accepted_payload_size": 8192})),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body, _) = w.send(
        "POST",
        &format!("{config}/nameservers?resolver=dns&version=2&force_reload=true"),
        Some(json!({"name": "ns1", "address": "127.0.0.1", "port": 53})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body, _) = w.send(
        "GET",
        &format!("{config}/nameservers/ns1?resolver=dns"),
        None,
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"name": "ns1", "address": "127.0.0.1", "port": 53})
    );
    let (status, _, _) = w.send("GET", &format!("{config}/nameservers?resolver=nope"), None);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = w.send("GET", &format!("{config}/nameservers"), None);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(w.config().contains("resolvers dns\n    accepted_payload_size 8192\n    hold valid 10s\n    nameserver ns1 127.0.0.1:53\n"), "{}", w.config());

    // A crt-store needs HAProxy 3.0: refused on older ones, naming it.
    let line = haplane_haproxy::version(std::path::Path::new("haproxy")).unwrap();
    let running = haplane_haproxy::major_minor(&line).unwrap();
    let (status, body, _) = w.send(
        "POST",
        &format!("{config}/crt_stores?version=3&force_reload=true"),
        Some(json!({"name": "store"})),
    );
    if running < (3, 0) {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("HAProxy 3.0 or later"),
            "{body}"
        );
        assert!(!w.config().contains("crt-store"));
    } else {
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(w.config().contains("\ncrt-store store\n"));
    }
    let (_, version, _) = w.send("GET", &format!("{config}/version"), None);
    let version = version.as_i64().unwrap();

    // A user added to the API's userlist logs in on the next request.
    let login = |user: &str, password: &str| {
        w.client
            .get(w.url("/info"))
            .basic_auth(user, Some(password))
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(login("ops", "pw2"), StatusCode::UNAUTHORIZED);
    let (status, body, _) = w.send(
        "POST",
        &format!("{config}/users?userlist=api&version={version}&force_reload=true"),
        Some(json!({"username": "ops", "password": "pw2", "secure_password": false})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(login("ops", "pw2"), StatusCode::OK);
    let (status, _, _) = w.send(
        "DELETE",
        &format!(
            "{config}/users/admin?userlist=api&version={}&force_reload=true",
            version + 1
        ),
        None,
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(login("admin", "s3cret"), StatusCode::UNAUTHORIZED);
    // The last user of the API's userlist stays.
    let status = w
        .client
        .delete(w.url(&format!(
            "{config}/users/ops?userlist=api&version={}",
            version + 2
        )))
        .basic_auth("ops", Some("pw2"))
        .send()
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(login("ops", "pw2"), StatusCode::OK);
}

#[test]
fn a_hand_edit_is_reloaded_at_once_and_a_broken_one_is_not() {
    let w = World::start(&[]);
    let file = w.dir.path().join("haproxy.cfg");
    assert!(traffic(w.app_port).unwrap().contains("hello-from-app"));
    let text = w.config();
    std::fs::write(&file, text.replace("hello-from-app", "hello-by-hand")).unwrap();
    // Read at once by a request: the watcher still deploys it.
    let (_, raw, _) = w.send("GET", "/services/haproxy/configuration/raw", None);
    assert!(raw.as_str().unwrap().contains("hello-by-hand"));
    wait_for("the hand edit serves traffic", || {
        traffic(w.app_port).is_some_and(|t| t.contains("hello-by-hand"))
    });
    // A broken edit is shown by the API but never deployed.
    let broken = w.config().replace("hello-by-hand", "hello-broken") + "\nbogus-keyword\n";
    std::fs::write(&file, &broken).unwrap();
    let (status, raw, _) = w.send("GET", "/services/haproxy/configuration/raw", None);
    assert_eq!(status, StatusCode::OK);
    assert!(raw.as_str().unwrap().contains("bogus-keyword"));
    std::thread::sleep(Duration::from_secs(3));
    assert!(traffic(w.app_port).unwrap().contains("hello-by-hand"));
}

#[test]
fn a_keyword_newer_than_the_running_haproxy_is_refused_naming_its_version() {
    let w = World::start(&[]);
    let global = "/services/haproxy/configuration/global";
    let (_, mut value, _) = w.send("GET", global, None);
    value["tune_options"] = json!({"stick_counters": 50});
    let (status, body, _) = w.send(
        "PUT",
        &format!("{global}?version=1&force_reload=true"),
        Some(value),
    );
    let line = haplane_haproxy::version(std::path::Path::new("haproxy")).unwrap();
    let before_28 = haplane_haproxy::major_minor(&line).unwrap() < (2, 8);
    if before_28 {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("tune_options.stick_counters"), "{message}");
        assert!(message.contains("needs HAProxy 2.8 or later"), "{message}");
        assert!(!w.config().contains("tune.stick-counters"));
    } else {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(w.config().contains("    tune.stick-counters 50\n"));
    }
    // A rule action of 2.8 likewise.
    let (_, version, _) = w.send("GET", "/services/haproxy/configuration/version", None);
    let rule = json!({"type": "sc-add-gpc", "sc_idx": 0, "sc_id": 0, "sc_int": 1});
    let (status, body, _) = w.send(
        "POST",
        &format!("/services/haproxy/configuration/frontends/app/http_request_rules/0?version={version}&force_reload=true"),
        Some(rule),
    );
    if before_28 {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("needs HAProxy 2.8 or later"), "{message}");
        assert!(!w.config().contains("sc-add-gpc"));
    } else {
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(w.config().contains("    http-request sc-add-gpc(0,0) 1\n"));
    }
    // A rule list of 3.1, on the versions tested here: refused, nothing written.
    let (_, version, _) = w.send("GET", "/services/haproxy/configuration/version", None);
    let (status, body, _) = w.send(
        "POST",
        &format!(
            "/services/haproxy/configuration/frontends/app/quic_initial_rules/0?version={version}"
        ),
        Some(json!({"type": "reject"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("3.1"), "{message}");
    assert!(!w.config().contains("quic-initial"));
    let (status, list, _) = w.send(
        "GET",
        "/services/haproxy/configuration/frontends/app/quic_initial_rules",
        None,
    );
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    // One of 3.3, added at the end of its list by a POST on the list.
    let (status, body, _) = w.send(
        "POST",
        &format!(
            "/services/haproxy/configuration/frontends/app/force_be_switches?version={version}"
        ),
        Some(json!({"cond": "if", "cond_test": "TRUE"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("3.3"), "{body}");
    assert!(!w.config().contains("force-be-switch"));
    // A section of 3.1 likewise.
    let (status, body, _) = w.send(
        "POST",
        &format!("/services/haproxy/configuration/log_profiles?version={version}"),
        Some(json!({"name": "lp", "steps": [{"step": "any", "drop": "enabled"}]})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("3.1"), "{body}");
    assert!(!w.config().contains("log-profile"));
    // An entry of a section of 3.1, and the checks of a section of 3.3:
    // a child needs what its parent section needs.
    for (path, body, needs) in [
        (
            "traces/entries",
            json!({"trace": "h1 sink stderr level developer"}),
            "3.1",
        ),
        (
            "healthchecks/web/http_checks/0",
            json!({"type": "expect", "match": "status", "pattern": "200"}),
            "3.3",
        ),
    ] {
        let (status, answer, _) = w.send(
            "POST",
            &format!("/services/haproxy/configuration/{path}?version={version}"),
            Some(body),
        );
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(needs),
            "{answer}"
        );
    }
    assert!(!w.config().contains("traces") && !w.config().contains("healthcheck"));
    // An action of 3.2 with no parameter of its own likewise.
    let (status, answer, _) = w.send(
        "POST",
        &format!(
            "/services/haproxy/configuration/frontends/app/http_request_rules/0?version={version}"
        ),
        Some(json!({"type": "do-log"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("3.2"),
        "{answer}"
    );
    assert!(!w.config().contains("do-log"));
}

/// A reply's content and content type are configuration words as v3 reads
/// and writes them, quotes included; data a check sends may hold control
/// characters, which reach the server as bytes.
#[test]
fn reply_words_keep_their_quotes_and_checks_send_bytes() {
    let w = World::start(&[]);
    let frontend = "/services/haproxy/configuration/frontends/app";
    let error = json!({"type": "status", "status": 503, "return_content_type": "\"text/plain\"",
        "return_content_format": "string", "return_content": "\"down for now\"",
        "return_hdrs": [{"name": "Retry-After", "fmt": "30"}]});
    let (status, body, _) = w.send(
        "POST",
        &format!("{frontend}/http_error_rules/0?version=1"),
        Some(error.clone()),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(w.config().contains(
        "    http-error status 503 content-type \"text/plain\" string \"down for now\" hdr Retry-After 30\n"
    ));
    // As the reference shows it: the headers first.
    let text = w
        .get(&format!("{frontend}/http_error_rules/0"))
        .unwrap()
        .text()
        .unwrap();
    assert!(text.starts_with("{\"return_hdrs\":"), "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), error);
    // Without a content type, the rule reads an empty one; written back,
    // it changes nothing.
    let plain = json!({"type": "status", "status": 429});
    let (status, _, _) = w.send(
        "POST",
        &format!("{frontend}/http_error_rules/1?version=2"),
        Some(plain),
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, read, _) = w.send("GET", &format!("{frontend}/http_error_rules/1"), None);
    assert_eq!(read["return_content_type"], "");
    let before = w.config();
    let (status, _, _) = w.send(
        "PUT",
        &format!("{frontend}/http_error_rules/1?version=3"),
        Some(read),
    );
    assert!(status.is_success());
    assert_eq!(w.config(), before);

    // A reply whose content is one quoted word serves what HAProxy reads.
    let rules = format!("{frontend}/http_request_rules");
    let reply = json!({"type": "return", "return_status_code": 200, "return_content_type": "text/plain",
        "return_content_format": "string", "return_content": "'two words'",
        "cond": "if", "cond_test": "{ path /two }"});
    let (status, body, _) = w.send(
        "POST",
        &format!("{rules}/0?version=3&force_reload=true"),
        Some(reply),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer = traffic_path(w.app_port, "/two").unwrap();
    assert!(answer.ends_with("\r\n\r\ntwo words"), "{answer}");

    // A health check that sends "PING\r\n": the server reads those bytes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let backends = "/services/haproxy/configuration/backends";
    let (status, body, _) = w.send(
        "POST",
        &format!("{backends}?version=4"),
        Some(json!({"name": "pinged", "adv_check": "tcp-check"})),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let checks = format!("{backends}/pinged/tcp_checks");
    let (status, body, _) = w.send(
        "POST",
        &format!("{checks}/0?version=5"),
        Some(json!({"action": "connect"})),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body, _) = w.send(
        "POST",
        &format!("{checks}/1?version=6"),
        Some(json!({"action": "send", "data": "PING\r\n"})),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // Anywhere else a line break is refused, naming the field.
    let (status, body, _) = w.send(
        "POST",
        &format!("{checks}/2?version=7"),
        Some(json!({"action": "comment", "check_comment": "a\nb"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("check_comment"));
    let (status, body, _) = w.send(
        "POST",
        &format!("{backends}/pinged/servers?version=7&force_reload=true"),
        Some(json!({"name": "s", "address": "127.0.0.1", "port": port, "check": "enabled", "inter": 200})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(w.config().contains("    tcp-check send \"PING\\r\\n\"\n"));
    let (_, read, _) = w.send("GET", &format!("{checks}/1"), None);
    assert_eq!(read["data"], "PING\r\n");
    listener.set_nonblocking(false).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        if let Ok((mut stream, _)) = listener.accept() {
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            while !got.ends_with(b"\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = tx.send(got);
        }
    });
    let got = rx
        .recv_timeout(Duration::from_secs(15))
        .expect("the check connects");
    assert_eq!(got, b"PING\r\n");
}
