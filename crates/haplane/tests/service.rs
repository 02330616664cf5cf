//! haplane under a service manager: the systemd unit it ships passes
//! `systemd-analyze verify` and its command line is haplane's, and
//! haplane tells the manager when it is ready and when it stops
//! (`sd_notify` on `NOTIFY_SOCKET`), as `Type=notify` needs.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::World;

fn unit() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib/haplane.service");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_systemd_unit_verifies_and_runs_haplane() {
    let unit = unit();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/haplane"));
    assert!(unit.contains("\nType=notify\n"));
    // systemd reads it, with the binary where this build put it.
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("haplane.service");
    let binary = env!("CARGO_BIN_EXE_haplane");
    std::fs::write(&local, unit.replace("/usr/local/bin/haplane", binary)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&local)
        .output()
        .expect("systemd-analyze runs (Debian's systemd; scripts/setup installs it)");
    let said = String::from_utf8_lossy(&out.stderr);
    // Outside a booted systemd, the targets it names are not there.
    let real: Vec<&str> = said
        .lines()
        .filter(|l| !l.contains("Unit sysinit.target not found") && !l.trim().is_empty())
        .collect();
    assert!(real.is_empty(), "{said}");
    // Its options are haplane's: with a configuration file that exists,
    // haplane starts on them far enough to read that file.
    let config = dir.path().join("haproxy.cfg");
    std::fs::write(&config, "global\n").unwrap();
    let args: Vec<String> = words
        .map(|w| match w {
            "/etc/haproxy/haproxy.cfg" => config.display().to_string(),
            "/var/lib/haplane/transactions" => dir.path().join("t").display().to_string(),
            "5555" => "0".into(),
            other => other.to_owned(),
        })
        .collect();
    let out = Command::new(binary).args(&args).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("--userlist dataplaneapi"),
        "it stops at the missing userlist, after every option was taken: {said}"
    );
}

#[test]
fn haplane_tells_the_service_manager_it_is_ready_and_stopping() {
    let mut w = World::start(&[]);
    let socket_path = w.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    w.restart_with_env(&[("NOTIFY_SOCKET", socket_path.to_str().unwrap())]);
    let mut buffer = [0u8; 256];
    let n = socket.recv(&mut buffer).expect("a notification");
    assert_eq!(&buffer[..n], b"READY=1");
    // It answers by then.
    assert!(w.get("/health").unwrap().status().is_success());
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(w.haplane.0.id().to_string())
        .status();
    let n = socket.recv(&mut buffer).expect("a notification");
    assert_eq!(&buffer[..n], b"STOPPING=1");
    let _ = w.haplane.0.wait();
}

/// The value of the metric line that starts with `prefix`.
fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
}

#[test]
fn metrics_count_requests_commits_validations_reloads_and_runtime_changes() {
    let config =
        common::CONFIG.to_owned() + "\nbackend pool\n    server s1 127.0.0.1:@APP@ weight 10\n";
    let w = World::start_with(&config, &[]);
    let version = |w: &World| {
        w.get("/services/haproxy/configuration/version")
            .unwrap()
            .json::<u64>()
            .unwrap()
    };
    // A commit with a reload done at once.
    let (status, _, _) = w.send(
        "POST",
        &format!(
            "/services/haproxy/configuration/backends?version={}&force_reload=true",
            version(&w)
        ),
        Some(serde_json::json!({"name": "more"})),
    );
    assert_eq!(status, 201);
    // A change the runtime API applies.
    let (status, _, _) = w.send(
        "PUT",
        &format!(
            "/services/haproxy/configuration/backends/pool/servers/s1?version={}",
            version(&w)
        ),
        Some(serde_json::json!({"name": "s1", "address": "127.0.0.1", "port": w.app_port, "weight": 20})),
    );
    assert_eq!(status, 200);
    let (status, _, _) = w.send(
        "POST",
        &format!("/services/haproxy/transactions?version={}", version(&w)),
        None,
    );
    assert_eq!(status, 201);
    // One HAProxy refuses.
    let (status, _, _) = common::send_raw(
        &w,
        "POST",
        &format!(
            "/services/haproxy/configuration/raw?version={}",
            version(&w)
        ),
        "text/plain",
        format!(
            "{}\nfrontend broken\n    bind 127.0.0.1:99999\n",
            w.config()
        )
        .into_bytes(),
    );
    assert_eq!(status, 400);
    // Without a user: 401, like the rest.
    let anonymous = w.client.get(w.url("/metrics")).send().unwrap();
    assert_eq!(anonymous.status(), 401);
    let response = w.get("/metrics").unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().unwrap();
    assert!(
        metric(
            &text,
            "haplane_http_requests_total{method=\"GET\",route=\"/v3/services/haproxy/configuration/version\",status=\"200\"}"
        ) >= 4.0
    );
    assert_eq!(
        metric(
            &text,
            "haplane_http_requests_total{method=\"POST\",route=\"/v3/services/haproxy/configuration/raw\",status=\"400\"}"
        ),
        1.0
    );
    assert!(metric(&text, "haplane_http_request_duration_seconds_count{route=\"/v3/services/haproxy/configuration/backends\"}") >= 1.0);
    assert_eq!(metric(&text, "haplane_commits_total"), 2.0);
    assert!(metric(&text, "haplane_validations_total{outcome=\"accepted\"}") >= 2.0);
    assert_eq!(
        metric(&text, "haplane_validations_total{outcome=\"refused\"}"),
        1.0
    );
    assert!(metric(&text, "haplane_validation_duration_seconds_count") >= 3.0);
    assert!(metric(&text, "haplane_reloads_total{outcome=\"succeeded\"}") >= 1.0);
    assert_eq!(
        metric(&text, "haplane_reloads_total{outcome=\"failed\"}"),
        0.0
    );
    assert_eq!(metric(&text, "haplane_runtime_changes_total"), 1.0);
    assert_eq!(metric(&text, "haplane_open_transactions"), 1.0);
}
