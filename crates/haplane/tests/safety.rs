//! What an answer promises holds, and values cannot become syntax: a forced
//! reload HAProxy refuses answers an error with the version on disk;
//! control characters are refused naming the field and change nothing;
//! quotes, `$`, `#` and backslashes reach the backend as written.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

fn version(w: &World) -> u64 {
    w.send("GET", "/services/haproxy/configuration/version", None)
        .1
        .as_u64()
        .unwrap()
}

#[test]
fn a_forced_reload_that_fails_answers_an_error_and_the_version_on_disk() {
    let w = World::start(&[]);
    // A port another process holds: haproxy -c accepts the bind, the
    // reload cannot take it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let before = w.config();
    let v = version(&w);
    let (status, body, headers) = w.send(
        "POST",
        &format!(
            "/services/haproxy/configuration/frontends/app/binds?version={v}&force_reload=true"
        ),
        Some(json!({"name": "taken", "address": "127.0.0.1", "port": port})),
    );
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["code"], 500);
    assert!(
        body["message"].as_str().unwrap().contains("restored"),
        "{body}"
    );
    // The previous configuration is back, as a newer version, and the
    // answer says which.
    let now = version(&w);
    assert_eq!(headers["Configuration-Version"], now.to_string().as_str());
    assert!(now > v + 1, "{now}");
    assert_eq!(
        w.config().lines().skip(1).collect::<Vec<_>>(),
        before.lines().skip(1).collect::<Vec<_>>()
    );
    assert!(traffic(w.app_port).is_some());

    // The same through a transaction commit.
    let (_, t, _) = w.send(
        "POST",
        &format!("/services/haproxy/transactions?version={now}"),
        None,
    );
    let id = t["id"].as_str().unwrap();
    let (status, _, _) = w.send(
        "POST",
        &format!("/services/haproxy/configuration/frontends/app/binds?transaction_id={id}"),
        Some(json!({"name": "taken", "address": "127.0.0.1", "port": port})),
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body, headers) = w.send(
        "PUT",
        &format!("/services/haproxy/transactions/{id}?force_reload=true"),
        None,
    );
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(
        headers["Configuration-Version"],
        version(&w).to_string().as_str()
    );
    assert!(!w.config().contains(&format!("bind 127.0.0.1:{port}")));
    drop(taken);
}

const ECHO: &str = "# _version=1
global
    maxconn 200

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

userlist api
    user admin insecure-password s3cret

# The application answers with the X-Test header it received.
frontend app
    bind 127.0.0.1:@APP@
    http-request return status 200 content-type text/plain lf-string \"%[req.hdr(x-test)]\" if { path /echo }
    http-request return status 200 content-type text/plain string hello-from-app

frontend public
    bind 127.0.0.1:@PUBLIC@
    default_backend app

backend app
    server app 127.0.0.1:@APP@
";

#[test]
fn control_characters_are_refused_and_quotes_reach_the_backend_as_written() {
    let public = free_port();
    let w = World::start_with(&ECHO.replace("@PUBLIC@", &public.to_string()), &[]);
    let rules = "/services/haproxy/configuration/frontends/public/http_request_rules";
    let before = w.config();

    // A line break would end the rule and start a header of its own.
    let (status, body, _) = w.send(
        "POST",
        &format!("{rules}/0?version=1"),
        Some(json!({"type": "set-header", "hdr_name": "X-Test", "hdr_format": "v\r\nX-Smuggled: yes"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().starts_with("hdr_format "),
        "{body}"
    );
    // A vertical tab would separate words: `backup` and `disabled` flags.
    let (status, body, _) = w.send(
        "POST",
        "/services/haproxy/configuration/backends/app/servers?version=1",
        Some(json!({"name": "s2", "address": "127.0.0.1", "port": 1, "cookie": "c1\u{b}backup\u{b}disabled"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().starts_with("cookie "),
        "{body}"
    );
    let (status, _, _) = w.send(
        "PUT",
        "/services/haproxy/configuration/backends/app?version=1",
        Some(json!({"name": "app", "description": "nul\u{0}here"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(w.config(), before);
    assert_eq!(version(&w), 1);

    // Quotes, `$` (which HAProxy expands in double quotes), `#` and
    // backslashes arrive as sent.
    let value = "it's \"$HOME\" # not a comment \\ ${PATH} \t tab";
    let (status, body, _) = w.send(
        "POST",
        &format!("{rules}/0?version=1&force_reload=true"),
        Some(json!({"type": "set-header", "hdr_name": "X-Test", "hdr_format": value})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, rule, _) = w.send("GET", &format!("{rules}/0"), None);
    assert_eq!(rule["hdr_format"], value);
    wait_for("the header arrives as written", || {
        traffic_path(public, "/echo").is_some_and(|a| a.ends_with(&format!("\r\n\r\n{value}")))
    });
}

#[test]
fn writes_follow_a_symlinked_configuration_keep_its_owner_and_mode_and_copies_stay_private() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // haproxy.cfg is a link to the real file in another directory, where
    // a crash left a temporary file behind.
    let w = World::start_prepared(CONFIG, &["--backups-number", "2"], |dir| {
        std::fs::create_dir_all(dir.join("real")).unwrap();
        std::os::unix::fs::symlink(dir.join("real/haproxy.cfg"), dir.join("haproxy.cfg")).unwrap();
        std::fs::write(dir.join("real/.haplane-left.tmp"), "torn").unwrap();
    });
    let link = w.dir.path().join("haproxy.cfg");
    let real = w.dir.path().join("real/haproxy.cfg");
    assert!(!w.dir.path().join("real/.haplane-left.tmp").exists());
    // The file holds passwords: 0640, owned by another user and group.
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let owned = std::os::unix::fs::chown(&real, Some(65534), Some(65534)).is_ok();

    let (_, t, _) = w.send("POST", "/services/haproxy/transactions?version=1", None);
    let id = t["id"].as_str().unwrap().to_owned();
    let (status, _, _) = w.send(
        "POST",
        &format!("/services/haproxy/configuration/backends?transaction_id={id}"),
        Some(json!({"name": "b1"})),
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    let copy = std::fs::metadata(w.dir.path().join(format!("transactions/{id}.cfg"))).unwrap();
    assert_eq!(copy.mode() & 0o777, 0o640);
    let (status, body, _) = w.send("PUT", &format!("/services/haproxy/transactions/{id}"), None);
    assert!(status.is_success(), "{body}");

    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(
        text.starts_with("# _version=2\n") && text.contains("backend b1"),
        "{text}"
    );
    let meta = std::fs::metadata(&real).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o640);
    let backup = std::fs::metadata(w.dir.path().join("real/haproxy.cfg.1"))
        .or_else(|_| std::fs::metadata(w.dir.path().join("haproxy.cfg.1")))
        .unwrap();
    assert_eq!(backup.mode() & 0o777, 0o640);
    if owned {
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
        assert_eq!((copy.uid(), copy.gid()), (65534, 65534));
        assert_eq!((backup.uid(), backup.gid()), (65534, 65534));
    }
}

#[test]
fn sigterm_stops_haplane_within_two_seconds_with_a_slow_request_in_flight() {
    // Each validation takes 5 s.
    let w = World::start(&["--validate-cmd", "sleep 5; true"]);
    let url = w.url("/services/haproxy/configuration/backends?version=1");
    let slow = std::thread::spawn(move || {
        reqwest::blocking::Client::new()
            .post(url)
            .basic_auth("admin", Some("s3cret"))
            .json(&json!({"name": "slow"}))
            .send()
            .map(|r| r.status())
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let before = w.config();
    let started = std::time::Instant::now();
    let pid = w.haplane.0.id();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut haplane = w.haplane;
    let status = loop {
        if let Ok(Some(status)) = haplane.0.try_wait() {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "haplane still runs 2 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    // The request was not answered as done, and the file is whole.
    assert!(slow.join().unwrap().is_err());
    assert_eq!(
        std::fs::read_to_string(w.dir.path().join("haproxy.cfg")).unwrap(),
        before
    );
}
