//! A configuration of several files over real HTTP, against HAProxy in
//! master-worker mode started on the same files (`-f haproxy.cfg -f
//! conf.d`): each change lands in the file that holds what it changes and
//! only there, a new section goes where `file` says, a crash between the
//! renames of a write of several files is finished at restart, read-only
//! files refuse writes while runtime changes work, hand edits are read.

mod common;

use std::path::Path;

use common::{traffic, wait_for, World};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// `conf.d/10-web.cfg`: the front door, in front of `20-api.cfg`'s backend.
const WEB: &str = "# The web tier (owned by the web team).
frontend web
    bind 127.0.0.1:@WEB@
    default_backend api_be   # lives in 20-api.cfg
";

const API: &str = "# The api tier.
backend api_be
    server s1 127.0.0.1:@APP@
";

fn start(extra: &[&str]) -> (World, u16) {
    let web_port = common::free_port();
    let web = WEB.replace("@WEB@", &web_port.to_string());
    let w = World::start_set(
        Path::new("haproxy"),
        &[
            ("haproxy.cfg", common::CONFIG),
            ("conf.d/10-web.cfg", &web),
            ("conf.d/20-api.cfg", API),
            ("conf.d/notes.txt", "not a configuration file\n"),
        ],
        &["haproxy.cfg", "conf.d"],
        extra,
        |_| {},
    );
    wait_for("the web frontend serves", || {
        traffic(web_port).is_some_and(|a| a.contains("hello-from-app"))
    });
    (w, web_port)
}

fn read(w: &World, name: &str) -> String {
    std::fs::read_to_string(w.dir.path().join(name)).unwrap()
}

fn path_of(w: &World, name: &str) -> String {
    w.dir.path().join(name).display().to_string()
}

/// Every file of the set, by name.
fn contents(w: &World) -> Vec<(String, String)> {
    ["haproxy.cfg", "conf.d/10-web.cfg", "conf.d/20-api.cfg"]
        .iter()
        .map(|n| (n.to_string(), read(w, n)))
        .collect()
}

/// Asserts that only `changed` differs from `before`.
fn only_changed(w: &World, before: &[(String, String)], changed: &[&str]) {
    for (name, text) in before {
        let now = read(w, name);
        match changed.contains(&name.as_str()) {
            true => assert_ne!(&now, text, "{name} should have changed"),
            false => assert_eq!(&now, text, "{name} should be byte-identical"),
        }
    }
}

fn version(w: &World) -> u64 {
    w.get("/services/haproxy/configuration/version")
        .unwrap()
        .json::<u64>()
        .unwrap()
}

/// POSTs a new backend (to `file`, when given) at the current version.
fn add_backend(w: &World, name: &str, file: Option<&str>) -> (StatusCode, Value) {
    let file = file.map(|f| format!("&file={f}")).unwrap_or_default();
    let path = format!(
        "/services/haproxy/configuration/backends?version={}{file}",
        version(w)
    );
    let (status, body, _) = w.send("POST", &path, Some(json!({ "name": name })));
    (status, body)
}

fn answer_rule(text: &str) -> Value {
    json!({"type": "return", "return_status_code": 200, "return_content_type": "text/plain",
           "return_content_format": "string", "return_content": text})
}

#[test]
fn changes_land_in_the_file_that_holds_them() {
    let (w, web_port) = start(&[]);
    // The files, in HAProxy's order, with their sections.
    let (status, files, _) = w.send("GET", "/services/haproxy/configuration/files", None);
    assert_eq!(status, 200, "{files}");
    let names: Vec<&str> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            path_of(&w, "haproxy.cfg"),
            path_of(&w, "conf.d/10-web.cfg"),
            path_of(&w, "conf.d/20-api.cfg")
        ]
    );
    assert_eq!(files[1]["sections"], json!(["frontend web"]));
    assert_eq!(files[2]["sections"], json!(["backend api_be"]));
    assert_eq!(files[2]["read_only"], false);
    assert!(files[2]["checksum"].as_str().unwrap().len() > 8);

    // A rule of the frontend of 10-web.cfg: only that file changes, and
    // traffic shows it.
    let before = contents(&w);
    let (status, body, _) = w.send(
        "POST",
        &format!(
            "/services/haproxy/configuration/frontends/web/http_request_rules/0?version={}&force_reload=true",
            version(&w)
        ),
        Some(answer_rule("from-web-file")),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    only_changed(&w, &before, &["conf.d/10-web.cfg"]);
    assert!(read(&w, "conf.d/10-web.cfg")
        .contains("    default_backend api_be   # lives in 20-api.cfg\n"));
    wait_for("the rule answers", || {
        traffic(web_port).is_some_and(|a| a.contains("from-web-file"))
    });

    // A server of the backend of 20-api.cfg.
    let before = contents(&w);
    let (status, body, _) = w.send(
        "POST",
        &format!(
            "/services/haproxy/configuration/backends/api_be/servers?version={}",
            version(&w)
        ),
        Some(json!({"name": "s2", "address": "127.0.0.1", "port": w.app_port})),
    );
    assert!(status.is_success(), "{status} {body}");
    only_changed(&w, &before, &["conf.d/20-api.cfg"]);
    assert!(read(&w, "conf.d/20-api.cfg").ends_with(&format!(
        "    server s1 127.0.0.1:{0}\n    server s2 127.0.0.1:{0}\n",
        w.app_port
    )));

    // A new backend goes where `file` says, else to the last file.
    let before = contents(&w);
    let web_file = path_of(&w, "conf.d/10-web.cfg");
    let (status, body) = add_backend(&w, "placed", Some(&web_file));
    assert!(status.is_success(), "{status} {body}");
    only_changed(&w, &before, &["conf.d/10-web.cfg"]);
    assert!(read(&w, "conf.d/10-web.cfg").ends_with("\nbackend placed\n"));
    let before = contents(&w);
    let (status, body) = add_backend(&w, "last", None);
    assert!(status.is_success(), "{status} {body}");
    only_changed(&w, &before, &["conf.d/20-api.cfg"]);
    assert!(read(&w, "conf.d/20-api.cfg").ends_with("\nbackend last\n"));
    // A file that is not one of the configuration's.
    let notes = path_of(&w, "conf.d/notes.txt");
    let (status, body) = add_backend(&w, "nowhere", Some(&notes));
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // raw, per file: the main file by default, another with `file`.
    let main = w
        .get("/services/haproxy/configuration/raw")
        .unwrap()
        .text()
        .unwrap();
    assert!(main.contains("frontend app") && !main.contains("frontend web"));
    let url = format!("/services/haproxy/configuration/raw?file={web_file}");
    let web = w.get(&url).unwrap().text().unwrap();
    assert_eq!(web, read(&w, "conf.d/10-web.cfg"));
    let before = contents(&w);
    let edited = web.replace("from-web-file", "from-raw-push");
    let (status, text, _) = common::send_raw(
        &w,
        "POST",
        &format!("{url}&version={}&force_reload=true", version(&w)),
        "text/plain",
        edited.clone().into_bytes(),
    );
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert_eq!(text, edited);
    only_changed(&w, &before, &["conf.d/10-web.cfg"]);
    assert_eq!(read(&w, "conf.d/10-web.cfg"), edited);
    wait_for("the pushed file answers", || {
        traffic(web_port).is_some_and(|a| a.contains("from-raw-push"))
    });

    // HAProxy's refusal names the file and its line.
    let before = contents(&w);
    let broken = format!("{edited}    bogus-keyword here\n");
    let (status, text, _) = common::send_raw(
        &w,
        "POST",
        &format!("{url}&version={}", version(&w)),
        "text/plain",
        broken.clone().into_bytes(),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let error: Value = serde_json::from_str(&text).unwrap();
    let line = broken.lines().count();
    assert_eq!(error["problems"][0]["file"], json!(web_file), "{error}");
    assert_eq!(error["problems"][0]["line"], json!(line), "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{web_file}:{line}")),
        "{error}"
    );
    only_changed(&w, &before, &[]);

    // A hand edit of one file is seen by itself and kept in the history,
    // and it shows in the next GET.
    let api_file = w.dir.path().join("conf.d/20-api.cfg");
    let mut text = read(&w, "conf.d/20-api.cfg");
    text.push_str("\nbackend by_hand\n");
    std::fs::write(&api_file, text).unwrap();
    wait_for("the hand edit is in the history", || {
        let (_, list, _) = w.send("GET", "/services/haproxy/configuration/history", None);
        list[0]["origin"] == "hand_edit" && list[0]["changes"] == json!(["/backends/by_hand"])
    });
    let (status, backend, _) = w.send(
        "GET",
        "/services/haproxy/configuration/backends/by_hand",
        None,
    );
    assert_eq!(status, 200, "{backend}");
    let (_, files, _) = w.send("GET", "/services/haproxy/configuration/files", None);
    assert_eq!(
        files[2]["sections"],
        json!(["backend api_be", "backend last", "backend by_hand"])
    );
}

#[test]
fn read_only_files_refuse_writes_and_runtime_changes_work() {
    let (w, _) = start(&["--read-only-file", "@DIR@/conf.d/20-api.cfg"]);
    let api_file = path_of(&w, "conf.d/20-api.cfg");
    let before = contents(&w);
    let (status, body, _) = w.send(
        "PUT",
        &format!(
            "/services/haproxy/configuration/backends/api_be/servers/s1?version={}",
            version(&w)
        ),
        Some(json!({"name": "s1", "address": "127.0.0.1", "port": w.app_port, "weight": 5})),
    );
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(&api_file) && message.contains("--read-only-file"),
        "{message}"
    );
    // A new section cannot go there either, by default or by name.
    let (status, _) = add_backend(&w, "other", None);
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = add_backend(&w, "other", Some(&api_file));
    assert_eq!(status, StatusCode::FORBIDDEN);
    only_changed(&w, &before, &[]);
    // Reads work, and the other files take changes.
    let (status, _, _) = w.send(
        "GET",
        "/services/haproxy/configuration/backends/api_be/servers/s1",
        None,
    );
    assert_eq!(status, 200);
    let (_, files, _) = w.send("GET", "/services/haproxy/configuration/files", None);
    assert_eq!(files[2]["read_only"], true);
    assert_eq!(files[1]["read_only"], false);
    let web_file = path_of(&w, "conf.d/10-web.cfg");
    let (status, body) = add_backend(&w, "other", Some(&web_file));
    assert!(status.is_success(), "{status} {body}");
    only_changed(&w, &before, &["conf.d/10-web.cfg"]);
    // Writers without a version, at once: each is answered for its own
    // change, whatever group they share.
    let before = contents(&w);
    let answers: Vec<StatusCode> = std::thread::scope(|scope| {
        let posts: Vec<_> = [("g_web", Some(web_file.as_str())), ("g_api", None)]
            .into_iter()
            .map(|(name, file)| {
                let w = &w;
                scope.spawn(move || {
                    let query = file.map(|f| format!("?file={f}")).unwrap_or_default();
                    let path = format!("/services/haproxy/configuration/backends{query}");
                    let body = Some(json!({ "name": name }));
                    w.send_as(
                        ("admin", "s3cret"),
                        "POST",
                        &path,
                        &[("If-None-Match", "*")],
                        body,
                    )
                    .0
                })
            })
            .collect();
        posts.into_iter().map(|p| p.join().unwrap()).collect()
    });
    assert!(answers[0].is_success(), "{answers:?}");
    assert_eq!(answers[1], StatusCode::FORBIDDEN, "{answers:?}");
    only_changed(&w, &before, &["conf.d/10-web.cfg"]);
    // A runtime drain of a server of the read-only file works.
    let (status, body, _) = w.send(
        "PUT",
        "/services/haproxy/runtime/backends/api_be/servers/s1",
        Some(json!({"admin_state": "drain"})),
    );
    assert_eq!(status, 200, "{body}");
    let (_, server, _) = w.send(
        "GET",
        "/services/haproxy/runtime/backends/api_be/servers/s1",
        None,
    );
    assert_eq!(server["admin_state"], "drain");
}

#[test]
fn read_only_mode_writes_no_file() {
    let (w, _) = start(&["--read-only"]);
    let before = contents(&w);
    let (status, body) = add_backend(&w, "other", None);
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("--read-only"),
        "{body}"
    );
    let (status, _, _) = common::send_raw(
        &w,
        "POST",
        "/services/haproxy/configuration/raw?skip_version=true",
        "text/plain",
        b"global\n".to_vec(),
    );
    assert_eq!(status, StatusCode::FORBIDDEN);
    only_changed(&w, &before, &[]);
    let (status, _, _) = w.send(
        "PUT",
        "/services/haproxy/runtime/backends/api_be/servers/s1",
        Some(json!({"admin_state": "maint"})),
    );
    assert_eq!(status, 200);
    let (_, server, _) = w.send(
        "GET",
        "/services/haproxy/runtime/backends/api_be/servers/s1",
        None,
    );
    assert_eq!(server["admin_state"], "maint");
}

#[test]
fn a_crash_between_the_renames_of_a_multi_file_write_is_finished_at_restart() {
    let (mut w, web_port) = start(&[]);
    // A transaction that changes two files.
    let (status, t, _) = w.send(
        "POST",
        &format!("/services/haproxy/transactions?version={}", version(&w)),
        None,
    );
    assert_eq!(status, StatusCode::CREATED);
    let id = t["id"].as_str().unwrap().to_owned();
    let (status, body, _) = w.send(
        "POST",
        &format!("/services/haproxy/configuration/frontends/web/http_request_rules/0?transaction_id={id}"),
        Some(answer_rule("after-the-crash")),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body, _) = w.send(
        "POST",
        &format!("/services/haproxy/configuration/backends/api_be/servers?transaction_id={id}"),
        Some(json!({"name": "s9", "address": "127.0.0.1", "port": w.app_port})),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let before = contents(&w);
    // haplane stops itself after the first of the two renames.
    w.restart_with_env(&[("HAPLANE_FAULT_AFTER_RENAMES", "1")]);
    let commit = w
        .client
        .put(w.url(&format!("/services/haproxy/transactions/{id}")))
        .basic_auth("admin", Some("s3cret"))
        .send();
    assert!(
        commit.is_err(),
        "the commit must not be answered: {commit:?}"
    );
    wait_for("haplane stops", || {
        matches!(w.haplane.0.try_wait(), Ok(Some(_)))
    });
    // Half done on disk: one file new, the other old.
    let web_new = read(&w, "conf.d/10-web.cfg") != before[1].1;
    let api_new = read(&w, "conf.d/20-api.cfg") != before[2].1;
    assert!(web_new != api_new, "exactly one rename was done");
    // At restart the write is finished: both files are new.
    w.restart_with_env(&[]);
    only_changed(&w, &before, &["conf.d/10-web.cfg", "conf.d/20-api.cfg"]);
    assert!(read(&w, "conf.d/10-web.cfg").contains("after-the-crash"));
    assert!(read(&w, "conf.d/20-api.cfg").contains("server s9"));
    let (status, _, _) = w.send(
        "GET",
        "/services/haproxy/configuration/backends/api_be/servers/s9",
        None,
    );
    assert_eq!(status, 200);
    // No temporary file is left, and HAProxy loads the finished set.
    let leftovers: Vec<String> = std::fs::read_dir(w.dir.path().join("conf.d"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".haplane-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let (status, _, _) = w.send(
        "POST",
        &format!(
            "/services/haproxy/configuration/backends?version={}&force_reload=true",
            version(&w)
        ),
        Some(json!({"name": "after"})),
    );
    assert!(status.is_success());
    wait_for("the finished set serves", || {
        traffic(web_port).is_some_and(|a| a.contains("after-the-crash"))
    });
}
