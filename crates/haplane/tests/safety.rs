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

/// The application answers with the X-Test header it received; `public`
/// forwards to it.
fn echo_config(public: u16) -> String {
    CONFIG.replace(
        "    http-request return status 200 content-type text/plain string hello-from-app\n",
        "    http-request return status 200 content-type text/plain lf-string \"%[req.hdr(x-test)]\" if { path /echo }\n    http-request return status 200 content-type text/plain string hello-from-app\n",
    ) + &format!("\nfrontend public\n    bind 127.0.0.1:{public}\n    default_backend app\n\nbackend app\n    server app 127.0.0.1:@APP@\n")
}

#[test]
fn control_characters_are_refused_and_quotes_reach_the_backend_as_written() {
    let public = free_port();
    let w = World::start_with(&echo_config(public), &[]);
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

/// What the running HAProxy has of backend `pool`: each server's name and
/// weight, from `show servers state` through the master CLI.
fn live_pool(w: &World) -> std::collections::BTreeMap<String, u64> {
    let master = haplane_runtime::MasterCli::new(w.dir.path().join("master.sock"));
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = tokio
        .block_on(master.worker_command("show servers state pool"))
        .expect("the master CLI answers");
    out.lines()
        .filter(|l| !l.starts_with('#') && l.contains(" pool "))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((f.get(3)?.to_string(), f.get(7)?.parse().ok()?))
        })
        .collect()
}

/// The servers of `pool` in the file, read through the API.
fn filed_pool(w: &World) -> std::collections::BTreeMap<String, u64> {
    let (_, list, _) = w.send(
        "GET",
        "/services/haproxy/configuration/backends/pool/servers",
        None,
    );
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["weight"].as_u64().unwrap_or(1),
            )
        })
        .collect()
}

#[test]
fn killed_at_random_points_haplane_keeps_file_haproxy_and_reload_history_in_step() {
    use rand_like::Lcg;
    let template = format!(
        "{CONFIG}\nbackend pool\n    balance roundrobin\n    server s0 127.0.0.1:@APP@ weight 10\n"
    );
    let mut w = World::start_with(&template, &[]);
    let mut rng = Lcg(0x5eed_cafe);
    let mut acked_servers: std::collections::BTreeMap<String, u64> = [("s0".to_owned(), 10)].into();
    let mut acked_backends = Vec::new();
    let mut s0_may_be = vec![10];
    let mut acked_reloads = Vec::new();
    let (mut commits, mut kills) = (0, 0);
    for i in 0..300 {
        let v = version(&w);
        let (method, path, body) = match i % 3 {
            // A server added: through the runtime API, no reload.
            0 => (
                "POST",
                format!("/services/haproxy/configuration/backends/pool/servers?version={v}"),
                json!({"name": format!("n{i}"), "address": "127.0.0.1", "port": w.app_port, "weight": 5}),
            ),
            // A weight changed: through the runtime API.
            1 => (
                "PUT",
                format!("/services/haproxy/configuration/backends/pool/servers/s0?version={v}"),
                json!({"name": "s0", "address": "127.0.0.1", "port": w.app_port, "weight": 1 + i % 200}),
            ),
            // A new backend: a reload after the delay.
            _ => (
                "POST",
                format!("/services/haproxy/configuration/backends?version={v}"),
                json!({"name": format!("b{i}")}),
            ),
        };
        let url = w.url(&path);
        let sent = body.clone();
        let request = std::thread::spawn(move || {
            let client = reqwest::blocking::Client::new();
            let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            client
                .request(m, url)
                .basic_auth("admin", Some("s3cret"))
                .json(&sent)
                .send()
                .map(|r| {
                    let id = r
                        .headers()
                        .get("Reload-ID")
                        .map(|h| h.to_str().unwrap().to_owned());
                    (r.status(), id)
                })
        });
        // One request in eight is cut by a kill at a random point: during
        // the validation, the write, the runtime change or the reload delay.
        let kill = rng.next().is_multiple_of(8);
        if kill {
            std::thread::sleep(std::time::Duration::from_millis(rng.next() % 80));
            w.kill_and_restart();
            kills += 1;
        }
        let answer = request.join().unwrap();
        let answered = matches!(&answer, Ok((status, _)) if status.is_success());
        if !answered && i % 3 == 1 {
            // Written or not: either is right for a change never answered.
            s0_may_be.push(body["weight"].as_u64().unwrap());
        }
        if let Ok((status, reload)) = answer {
            if status.is_success() {
                commits += 1;
                match i % 3 {
                    0 => {
                        acked_servers.insert(format!("n{i}"), 5);
                    }
                    1 => {
                        let weight = body["weight"].as_u64().unwrap();
                        acked_servers.insert("s0".into(), weight);
                        s0_may_be = vec![weight];
                    }
                    _ => acked_backends.push(format!("b{i}")),
                }
                acked_reloads.extend(reload);
            }
        }
        if kill {
            // After the restart: the reloads it carries out are done, and
            // file, HAProxy and history agree with every acknowledged change.
            wait_for("the interrupted reload is carried out", || {
                let (_, list, _) = w.send("GET", "/services/haproxy/reloads", None);
                list.as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["status"] != "in_progress")
            });
            let filed = filed_pool(&w);
            for (name, weight) in &acked_servers {
                match name.as_str() {
                    "s0" => assert!(
                        s0_may_be.contains(&filed["s0"]),
                        "after kill {kills}: s0 weighs {} in the file, not one of {s0_may_be:?}",
                        filed["s0"]
                    ),
                    _ => assert_eq!(
                        filed.get(name),
                        Some(weight),
                        "after kill {kills}: {name}; reloads: {}",
                        w.send("GET", "/services/haproxy/reloads", None).1
                    ),
                }
            }
            s0_may_be = vec![filed["s0"]];
            // What was written but not answered counts too, from now on.
            acked_servers = filed.clone();
            assert_eq!(
                live_pool(&w),
                filed,
                "after kill {kills}: HAProxy and the file"
            );
            let config = w.config();
            for b in &acked_backends {
                assert!(
                    config.contains(&format!("backend {b}\n")),
                    "after kill {kills}: {b}"
                );
            }
            let (_, list, _) = w.send("GET", "/services/haproxy/reloads", None);
            for id in &acked_reloads {
                let found = list
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["id"] == *id.as_str());
                let found =
                    found.unwrap_or_else(|| panic!("reload {id} is not in the history: {list}"));
                assert_eq!(found["status"], "succeeded", "{found}");
            }
        }
    }
    assert!(kills >= 30, "{kills} kills");
    assert!(commits >= 200, "{commits} commits");
}

/// A small deterministic generator: the kill points are random but the
/// same on every run.
mod rand_like {
    pub struct Lcg(pub u64);

    impl Lcg {
        pub fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }
}
