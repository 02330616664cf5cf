//! Change management over real HTTP, against HAProxy in master-worker
//! mode: the history of versions with their users and changes, diffs,
//! restore (traffic shows it), a transaction's diff and check, ETags with
//! If-Match and If-None-Match, a list of servers added in one POST.

mod common;

use common::{traffic, wait_for, World};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The shared configuration, with a second API user.
fn config() -> String {
    common::CONFIG.replace(
        "    user admin insecure-password s3cret\n",
        "    user admin insecure-password s3cret\n    user ops insecure-password 0ps\n",
    )
}

const ADMIN: (&str, &str) = ("admin", "s3cret");
const OPS: (&str, &str) = ("ops", "0ps");

fn version(w: &World) -> u64 {
    w.get("/services/haproxy/configuration/version")
        .unwrap()
        .json::<u64>()
        .unwrap()
}

fn text(w: &World, path: &str) -> String {
    let response = w.get(path).unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().unwrap()
}

fn answer_rule(text: &str) -> Value {
    json!({"type": "return", "return_status_code": 200, "return_content_type": "text/plain",
           "return_content_format": "string", "return_content": text})
}

fn history(w: &World) -> Vec<Value> {
    let (status, list, _) = w.send_as(
        ADMIN,
        "GET",
        "/services/haproxy/configuration/history",
        &[],
        None,
    );
    assert_eq!(status, 200);
    list.as_array().unwrap().clone()
}

/// The lines of a unified diff after its two header lines.
fn hunks(diff: &str) -> Vec<&str> {
    diff.lines().skip(2).collect()
}

#[test]
fn history_diff_and_restore_with_users() {
    let mut w = World::start_with(&config(), &[]);
    let rule = "/services/haproxy/configuration/frontends/app/http_request_rules/0";
    let v0 = version(&w);
    let commits = [
        (ADMIN, "PUT", rule, answer_rule("one"), StatusCode::OK),
        (OPS, "PUT", rule, answer_rule("two"), StatusCode::OK),
        (
            ADMIN,
            "POST",
            "/services/haproxy/configuration/backends",
            json!({"name": "web"}),
            StatusCode::CREATED,
        ),
    ];
    for (user, method, path, body, expected) in commits {
        let v = version(&w);
        let path = format!("{path}?version={v}&force_reload=true");
        let (status, body, _) = w.send_as(user, method, &path, &[], Some(body));
        assert_eq!(status, expected, "{body}");
    }
    let (v1, v2, v3) = (v0 + 1, v0 + 2, v0 + 3);
    assert_eq!(version(&w), v3);
    wait_for("traffic says two", || {
        traffic(w.app_port).is_some_and(|t| t.contains("two"))
    });

    // Newest first, with who did what and how it was applied.
    let list = history(&w);
    let top: Vec<(u64, &str, Vec<&str>)> = list[..3]
        .iter()
        .map(|e| {
            let changes = e["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            (
                e["version"].as_u64().unwrap(),
                e["user"].as_str().unwrap(),
                changes,
            )
        })
        .collect();
    assert_eq!(
        top,
        [
            (v3, "admin", vec!["/backends/web"]),
            (v2, "ops", vec!["/frontends/app/http_request_rules"]),
            (v1, "admin", vec!["/frontends/app/http_request_rules"]),
        ]
    );
    for entry in &list[..3] {
        assert_eq!(entry["applied"], "reload", "{entry}");
        assert_eq!(entry["reload_status"], "succeeded", "{entry}");
        assert_eq!(entry["origin"], "api", "{entry}");
        assert!(entry["time"].as_str().unwrap().ends_with('Z'), "{entry}");
        assert!(
            entry["checksum"].as_str().unwrap().starts_with("fnv1a64:"),
            "{entry}"
        );
    }
    let first = list.last().unwrap();
    assert_eq!(
        (first["version"].as_u64(), first["origin"].as_str()),
        (Some(v0), Some("initial"))
    );
    assert_eq!(first["user"], Value::Null);

    // A version's bytes, and diffs between versions.
    let one = text(&w, &format!("/services/haproxy/configuration/history/{v1}"));
    assert!(one.starts_with(&format!("# _version={v1}\n")), "{one}");
    assert!(
        one.contains("string one") && !one.contains("backend web"),
        "{one}"
    );
    let diff = text(
        &w,
        &format!("/services/haproxy/configuration/history/{v2}/diff?against={v1}"),
    );
    assert!(
        diff.starts_with(&format!("--- version {v1}\n+++ version {v2}\n")),
        "{diff}"
    );
    assert!(
        diff.contains("\n-    http-request return status 200 content-type text/plain string one"),
        "{diff}"
    );
    assert!(
        diff.contains("\n+    http-request return status 200 content-type text/plain string two"),
        "{diff}"
    );
    let default = text(
        &w,
        &format!("/services/haproxy/configuration/history/{v2}/diff"),
    );
    assert_eq!(default, diff);
    let (status, body, _) = w.send_as(
        ADMIN,
        "GET",
        "/services/haproxy/configuration/history/999",
        &[],
        None,
    );
    assert_eq!(
        (status, body["code"].as_u64()),
        (StatusCode::NOT_FOUND, Some(404))
    );
    let (status, _, _) = w.send_as(
        ADMIN,
        "GET",
        "/services/haproxy/configuration/history/x",
        &[],
        None,
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Restore: refused on a stale version, nothing changes.
    let before = w.config();
    let restore = format!("/services/haproxy/configuration/history/{v1}/restore");
    let (status, body, _) = w.send_as(
        ADMIN,
        "POST",
        &format!("{restore}?version={v1}&force_reload=true"),
        &[],
        None,
    );
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(w.config(), before);
    let (status, _, _) = w.send_as(ADMIN, "POST", &restore, &[], None);
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a restore needs the version"
    );
    let (status, body, headers) = w.send_as(
        OPS,
        "POST",
        &format!("{restore}?version={v3}&force_reload=true"),
        &[],
        None,
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        headers["Configuration-Version"],
        (v3 + 1).to_string().as_str()
    );
    assert_eq!(
        (
            body["version"].as_u64(),
            body["origin"].as_str(),
            body["user"].as_str()
        ),
        (Some(v3 + 1), Some("restore"), Some("ops"))
    );
    assert_eq!(
        body["changes"],
        json!(["/backends/web", "/frontends/app/http_request_rules"])
    );
    wait_for("traffic says one again", || {
        traffic(w.app_port).is_some_and(|t| t.contains("one"))
    });
    let file = w.config();
    assert!(
        file.starts_with(&format!("# _version={}\n", v3 + 1)),
        "{file}"
    );
    assert!(
        !file.contains("backend web") && file.contains("string one"),
        "{file}"
    );

    // The history survives a restart.
    let kept = history(&w);
    w.kill_and_restart();
    assert_eq!(history(&w), kept);
    assert_eq!(version(&w), v3 + 1);

    // A hand edit is a version of its own, by nobody.
    let edited = w.config().replace("maxconn 200", "maxconn 300");
    std::fs::write(w.dir.path().join("haproxy.cfg"), edited).unwrap();
    wait_for("the hand edit shows", || {
        history(&w)[0]["origin"] == "hand_edit"
    });
    let entry = &history(&w)[0];
    assert_eq!(entry["version"].as_u64(), Some(v3 + 2), "{entry}");
    assert_eq!(entry["user"], Value::Null);
    assert_eq!(entry["changes"], json!(["/global"]));
    assert_eq!(version(&w), v3 + 2);
    // A client that read the version before the edit is stale now.
    let (status, _, _) = w.send_as(
        ADMIN,
        "POST",
        &format!(
            "/services/haproxy/configuration/backends?version={}",
            v3 + 1
        ),
        &[],
        Some(json!({"name": "late"})),
    );
    assert_eq!(status, StatusCode::CONFLICT);
}

#[test]
fn transaction_diff_validation_etags_and_bulk() {
    let w = World::start_with(&config(), &[]);
    let config = "/services/haproxy/configuration";
    let v = version(&w);
    let (status, t, _) = w.send_as(
        ADMIN,
        "POST",
        &format!("/services/haproxy/transactions?version={v}"),
        &[],
        None,
    );
    assert_eq!(status, 201);
    let id = t["id"].as_str().unwrap().to_owned();
    let (status, _, _) = w.send_as(
        ADMIN,
        "POST",
        &format!("{config}/backends?transaction_id={id}"),
        &[],
        Some(json!({"name": "api"})),
    );
    assert_eq!(status, 202);
    let (status, _, _) = w.send_as(
        ADMIN,
        "POST",
        &format!("{config}/backends/api/servers?transaction_id={id}"),
        &[],
        Some(json!({"name": "s1", "address": "127.0.0.1", "port": 9001})),
    );
    assert_eq!(status, 202);
    let diff = text(&w, &format!("/services/haproxy/transactions/{id}/diff"));
    assert!(
        diff.starts_with(&format!("--- version {v}\n+++ transaction {id}\n")),
        "{diff}"
    );
    assert!(
        diff.contains(&format!("\n-# _version={v}\n+# _version={}\n", v + 1)),
        "{diff}"
    );
    assert!(
        diff.contains("\n+backend api\n+    server s1 127.0.0.1:9001\n"),
        "{diff}"
    );

    // Checked as the commit would be; nothing changes.
    let before = w.config();
    let (status, body, _) = w.send_as(
        ADMIN,
        "PUT",
        &format!("/services/haproxy/transactions/{id}?only_validate=true"),
        &[],
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "in_progress");
    assert_eq!(w.config(), before);
    assert_eq!(version(&w), v);

    // A transaction HAProxy refuses: the problem is named, nothing changes.
    let (_, bad, _) = w.send_as(
        ADMIN,
        "POST",
        &format!("/services/haproxy/transactions?version={v}"),
        &[],
        None,
    );
    let bad = bad["id"].as_str().unwrap().to_owned();
    let (status, body, _) = w.send_as(
        ADMIN,
        "PUT",
        &format!("{config}/global?transaction_id={bad}"),
        &[],
        Some(json!({"nbthread": 100000})),
    );
    assert_eq!(status, 202, "{body}");
    let (status, body, _) = w.send_as(
        ADMIN,
        "PUT",
        &format!("/services/haproxy/transactions/{bad}?only_validate=true"),
        &[],
        None,
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("nbthread"),
        "{body}"
    );
    assert_eq!(w.config(), before);
    let (_, still, _) = w.send_as(
        ADMIN,
        "GET",
        &format!("/services/haproxy/transactions/{bad}"),
        &[],
        None,
    );
    assert_eq!(still["status"], "in_progress");
    w.send_as(
        ADMIN,
        "DELETE",
        &format!("/services/haproxy/transactions/{bad}"),
        &[],
        None,
    );

    // Its diff is what its commit writes.
    let (status, _, _) = w.send_as(
        ADMIN,
        "PUT",
        &format!("/services/haproxy/transactions/{id}?force_reload=true"),
        &[],
        None,
    );
    assert_eq!(status, 200);
    let committed = text(&w, &format!("{config}/history/{}/diff", v + 1));
    assert_eq!(hunks(&committed), hunks(&diff));

    // ETags: a strong one on every read; If-Match guards writes without a version.
    let backend = format!("{config}/backends/api");
    let (status, _, headers) = w.send_as(ADMIN, "GET", &backend, &[], None);
    assert_eq!(status, 200);
    let tag = headers["etag"].to_str().unwrap().to_owned();
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() > 2,
        "{tag}"
    );
    let (_, _, again) = w.send_as(ADMIN, "GET", &backend, &[], None);
    assert_eq!(
        again["etag"],
        tag.as_str(),
        "the same resource, the same tag"
    );
    let (_, _, list) = w.send_as(ADMIN, "GET", &format!("{config}/backends"), &[], None);
    assert!(list.contains_key("etag"));
    let before = w.config();
    let v = version(&w);
    let (status, body, _) = w.send_as(
        ADMIN,
        "PUT",
        &backend,
        &[("If-Match", "\"0000\"")],
        Some(json!({"name": "api", "balance": {"algorithm": "leastconn"}})),
    );
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(body["code"], 412);
    assert_eq!(w.config(), before);
    let (status, body, _) = w.send_as(
        ADMIN,
        "PUT",
        &format!("{backend}?force_reload=true"),
        &[("If-Match", &tag)],
        Some(json!({"name": "api", "balance": {"algorithm": "leastconn"}})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(version(&w), v + 1);
    assert!(w.config().contains("balance leastconn"));
    let (status, _, _) = w.send_as(
        ADMIN,
        "PUT",
        &backend,
        &[("If-Match", &tag)],
        Some(json!({"name": "api"})),
    );
    assert_eq!(
        status,
        StatusCode::PRECONDITION_FAILED,
        "the tag is stale now"
    );
    let (status, _, _) = w.send_as(ADMIN, "DELETE", &backend, &[("If-Match", &tag)], None);
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, _, _) = w.send_as(ADMIN, "PUT", &backend, &[], Some(json!({"name": "api"})));
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "no version, no transaction, no If-Match"
    );

    // Writers of different resources do not conflict.
    let server = |name: &str| format!("{backend}/servers/{name}");
    let (status, _, _) = w.send_as(
        ADMIN,
        "POST",
        &format!("{backend}/servers?force_reload=true"),
        &[("If-None-Match", "*")],
        Some(json!({"name": "s2", "address": "127.0.0.1", "port": 9002})),
    );
    assert_eq!(status, 201);
    let (status, body, _) = w.send_as(
        ADMIN,
        "POST",
        &format!("{backend}/servers"),
        &[("If-None-Match", "*")],
        Some(json!({"name": "s2", "address": "127.0.0.1", "port": 9003})),
    );
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let (_, _, h1) = w.send_as(ADMIN, "GET", &server("s1"), &[], None);
    let (_, _, h2) = w.send_as(ADMIN, "GET", &server("s2"), &[], None);
    let (t1, t2) = (
        h1["etag"].to_str().unwrap().to_owned(),
        h2["etag"].to_str().unwrap().to_owned(),
    );
    let (status, _, _) = w.send_as(
        ADMIN,
        "PUT",
        &server("s2"),
        &[("If-Match", &t2)],
        Some(json!({"name": "s2", "address": "127.0.0.1", "port": 9002, "weight": 20})),
    );
    assert!(status == 200 || status == 202, "{status}");
    let (status, _, _) = w.send_as(
        ADMIN,
        "PUT",
        &server("s1"),
        &[("If-Match", &t1)],
        Some(json!({"name": "s1", "address": "127.0.0.1", "port": 9001, "weight": 30})),
    );
    assert!(
        status == 200 || status == 202,
        "s1 did not change: its tag holds ({status})"
    );

    // A hundred servers in one POST: one version, applied at once.
    let reloads = |w: &World| {
        w.get("/services/haproxy/reloads")
            .unwrap()
            .json::<Vec<Value>>()
            .unwrap()
            .len()
    };
    let v = version(&w);
    let before_reloads = reloads(&w);
    let many: Vec<Value> = (0..100)
        .map(|i| json!({"name": format!("b{i}"), "address": "127.0.0.1", "port": 10000 + i}))
        .collect();
    let (status, body, _) = w.send_as(
        ADMIN,
        "POST",
        &format!("{backend}/servers?version={v}&force_reload=true"),
        &[],
        Some(Value::Array(many.clone())),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(100));
    assert_eq!(version(&w), v + 1);
    assert!(reloads(&w) <= before_reloads + 1, "one reload at most");
    let entry = &history(&w)[0];
    assert_eq!(
        entry["changes"].as_array().map(Vec::len),
        Some(100),
        "{entry}"
    );
    wait_for("HAProxy has the hundred servers", || {
        let (_, servers, _) = w.send_as(
            ADMIN,
            "GET",
            "/services/haproxy/runtime/backends/api/servers",
            &[],
            None,
        );
        servers.as_array().is_some_and(|s| s.len() == 102)
    });

    // All or none: an item that cannot be added is named by its index.
    let before = w.config();
    let v = version(&w);
    let cases = [
        (
            json!([{"name": "c1", "address": "127.0.0.1", "port": 11001},
                   {"name": "c2", "address": "127.0.0.1", "port": 11002},
                   {"name": "b7", "address": "127.0.0.1", "port": 11003}]),
            StatusCode::CONFLICT,
            "item [2]",
        ),
        (
            json!([{"name": "c1", "address": "127.0.0.1", "port": 11001},
                   {"name": "c2", "address": "127.0.0.1", "port": 70000}]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "[1].port",
        ),
        (
            json!([{"name": "c1", "address": "127.0.0.1", "port": "many"}]),
            StatusCode::BAD_REQUEST,
            "[0].port",
        ),
        (
            json!([{"name": "c1", "address": "127.0.0.1", "port": 11001, "colour": "red"}]),
            StatusCode::BAD_REQUEST,
            "[0].colour",
        ),
    ];
    for (items, expected, named) in cases {
        let path = format!("{backend}/servers?version={v}");
        let (status, body, _) = w.send_as(ADMIN, "POST", &path, &[], Some(items));
        assert_eq!(status, expected, "{body}");
        assert!(body["message"].as_str().unwrap().contains(named), "{body}");
    }
    assert_eq!(w.config(), before);
    assert_eq!(version(&w), v);
}

/// Fifty clients add fifty servers at once with `If-None-Match: *` and no
/// version: they share validations (each is slowed to 300 ms here), each
/// is answered with the version that holds its server, and the one HAProxy
/// refuses fails alone, with its own message.
#[test]
fn concurrent_guarded_writes_share_validations() {
    let config = format!("{}\nbackend pool\n    balance roundrobin\n", config());
    let w = World::start_with(&config, &["--validate-cmd", "sleep 0.3; haproxy -c -f"]);
    let v0 = version(&w);
    let servers = "/services/haproxy/configuration/backends/pool/servers";
    let answers: Vec<(usize, StatusCode, Value, Option<u64>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let w = &w;
                scope.spawn(move || {
                    // Number 17 asks for a weight HAProxy refuses.
                    let weight = if i == 17 { 1000 } else { 1 };
                    let body = json!({"name": format!("s{i}"), "address": "127.0.0.1", "port": 20000 + i, "weight": weight});
                    let (status, body, headers) = w.send_as(ADMIN, "POST", servers, &[("If-None-Match", "*")], Some(body));
                    let version = headers
                        .get("Configuration-Version")
                        .and_then(|v| v.to_str().ok()?.parse().ok());
                    (i, status, body, version)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut versions = std::collections::BTreeSet::new();
    for (i, status, body, version) in &answers {
        if *i == 17 {
            assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains("weight of server s17"), "{message}");
            continue;
        }
        assert!(*status == 201 || *status == 202, "s{i}: {status} {body}");
        let version = version.expect("the answer names its version");
        let file = text(
            &w,
            &format!("/services/haproxy/configuration/history/{version}"),
        );
        assert!(
            file.contains(&format!("server s{i} 127.0.0.1:{}", 20000 + i)),
            "s{i} is in version {version}"
        );
        versions.insert(version);
    }
    // One by one would be 49 versions (and 15 s of checks); the refused
    // change costs a version per halving (about log2 50).
    assert!(
        versions.len() <= 15,
        "{} versions: {versions:?}",
        versions.len()
    );
    assert_eq!(version(&w), v0 + versions.len() as u64);
    let file = w.config();
    assert_eq!(file.matches("    server s").count(), 49, "{file}");
    assert!(!file.contains("server s17 "));
    // The history names the users of each group once.
    let entry = &history(&w)[0];
    assert_eq!(entry["user"], "admin", "{entry}");
}
