//! The binary's life: start-up errors, TLS with client certificates, and
//! running under HAProxy's `program` section.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use haplane_haproxy::MasterWorker;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const HAPLANE: &str = env!("CARGO_BIN_EXE_haplane");

fn small_config(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("haproxy.cfg");
    std::fs::write(
        &config,
        "global\n    maxconn 10\n\nuserlist api\n    user admin insecure-password pw\n",
    )
    .unwrap();
    config
}

#[test]
fn an_invalid_setting_stops_start_up_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(dir.path());
    let cases: &[(&[&str], &str)] = &[
        (
            &["--log-level", "loud"],
            "--log-level loud: expected one of trace, debug, info, warning, error",
        ),
        (
            &["-u", "missing"],
            "--userlist missing: there is no userlist missing in",
        ),
        (
            &["--tls-port", "7443"],
            "--tls-certificate is required to serve TLS",
        ),
        (
            &["--log-to", "syslog2"],
            "--log-to syslog2: expected one of stdout, file, syslog",
        ),
        (
            &["--max-body-size", "lots"],
            "--max-body-size lots: expected a size",
        ),
        (
            &["--reload-strategy", "magic"],
            "--reload-strategy magic: expected one of custom, systemd, s6",
        ),
    ];
    for (args, expected) in cases {
        let userlist: &[&str] = if args.contains(&"-u") {
            &[]
        } else {
            &["-u", "api"]
        };
        let out = Command::new(HAPLANE)
            .args([
                "-c",
                config.to_str().unwrap(),
                "--port",
                &free_port().to_string(),
            ])
            .args(userlist)
            .args(*args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let missing = Command::new(HAPLANE)
        .args(["-c", "/nonexistent/haproxy.cfg"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("--config-file /nonexistent/haproxy.cfg: no such file"));
    let version = Command::new(HAPLANE).arg("-v").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("haplane "));
}

#[test]
fn the_yaml_file_is_read_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(dir.path());
    let yaml = dir.path().join("dataplaneapi.yaml");
    std::fs::write(
        &yaml,
        format!(
            "config_version: 2\nname: test\ndataplaneapi:\n  host: 127.0.0.1\n  port: 1\n  userlist:\n    userlist: api\n  transaction:\n    transaction_dir: {}\nhaproxy:\n  config_file: {}\n  reload:\n    reload_delay: 1\nlog_targets:\n  - log_to: stdout\n    log_level: loud\n",
            dir.path().join("t").display(),
            config.display()
        ),
    )
    .unwrap();
    // The file's log level is wrong: start-up names it.
    let out = Command::new(HAPLANE)
        .args(["-f", yaml.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--log-level loud"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A flag overrides it, and the rest comes from the file: it serves.
    let port = free_port();
    let mut child = Command::new(HAPLANE)
        .args([
            "-f",
            yaml.to_str().unwrap(),
            "--log-level",
            "info",
            "--port",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let answered = wait_http(port, false);
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    assert!(answered, "haplane served with the YAML file's settings");
}

/// Whether `/v3/health` answers 200 on the port within 10 s (HTTPS with the
/// test client certificate when `tls`), through python3's standard library.
fn wait_http(port: u16, tls: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if fetch(port, tls, true) == Some(200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn tls_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls")
}

/// One request; the status, or None if the connection or handshake failed.
fn fetch(port: u16, tls: bool, client_cert: bool) -> Option<u16> {
    request(port, tls, client_cert, "/v3/health", None)
}

/// A GET of `path`, or a POST of `body` as text, over HTTP or HTTPS (with
/// the client certificate or not); the status, or None if the connection
/// or the handshake failed.
fn request(port: u16, tls: bool, client_cert: bool, path: &str, body: Option<&str>) -> Option<u16> {
    let dir = tls_dir();
    let script = format!(
        r#"
import base64, ssl, sys, urllib.request
url = "{scheme}://127.0.0.1:{port}{path}"
ctx = None
if {tls}:
    ctx = ssl.create_default_context(cafile="{ca}")
    if {client}:
        ctx.load_cert_chain("{cert}", "{key}")
headers = {{"Authorization": "Basic " + base64.b64encode(b"admin:pw").decode(), "Content-Type": "text/plain"}}
data = {data}
req = urllib.request.Request(url, data=data, method="POST" if data else "GET", headers=headers)
try:
    print(urllib.request.urlopen(req, context=ctx, timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception as e:
    sys.exit(1)
"#,
        scheme = if tls { "https" } else { "http" },
        tls = if tls { "True" } else { "False" },
        client = if client_cert { "True" } else { "False" },
        ca = dir.join("ca.pem").display(),
        cert = dir.join("client.pem").display(),
        key = dir.join("client.key").display(),
        data = body.map_or("None".to_owned(), |b| format!("b'{b}'")),
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

#[test]
fn tls_with_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let config = small_config(dir.path());
    let (port, tls_port) = (free_port(), free_port());
    let tls = tls_dir();
    let mut child = Command::new(HAPLANE)
        .args([
            "-c",
            config.to_str().unwrap(),
            "-u",
            "api",
            "--port",
            &port.to_string(),
        ])
        .args(["-t", dir.path().join("t").to_str().unwrap()])
        .args([
            "--tls-host",
            "127.0.0.1",
            "--tls-port",
            &tls_port.to_string(),
        ])
        .args([
            "--tls-certificate",
            tls.join("server.pem").to_str().unwrap(),
        ])
        .args(["--tls-key", tls.join("server.key").to_str().unwrap()])
        .args(["--tls-ca", tls.join("ca.pem").to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let with_cert = wait_http(tls_port, true);
    let without_cert = fetch(tls_port, true, false);
    // A change over TLS names the client's certificate in the history.
    let raw = format!(
        "global\\n    maxconn 10\\n\\nuserlist api\\n    user admin insecure-password pw\\n\\nfrontend by_cert\\n    bind 127.0.0.1:{}\\n",
        free_port()
    );
    let added = request(
        tls_port,
        true,
        true,
        "/v3/services/haproxy/configuration/raw?version=1&skip_reload=true",
        Some(&raw),
    );
    let history = reqwest::blocking::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/v3/services/haproxy/configuration/history"
        ))
        .basic_auth("admin", Some("pw"))
        .send()
        .and_then(|r| r.json::<serde_json::Value>())
        .ok();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    assert!(
        with_cert,
        "HTTPS with a client certificate of the CA answers"
    );
    assert_eq!(
        without_cert, None,
        "without a client certificate the handshake fails"
    );
    assert_eq!(added, Some(201));
    let newest = &history.expect("the history answers")[0];
    assert_eq!(newest["user"], "admin", "{newest}");
    assert_eq!(newest["client"], "CN=haplane client", "{newest}");
    assert_eq!(newest["changes"], serde_json::json!(["/frontends/by_cert"]));
}

#[test]
fn haproxy_runs_haplane_from_its_program_section() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("haproxy.cfg");
    let socket = dir.path().join("master.sock");
    std::fs::write(
        &config,
        format!(
            "global\n    maxconn 10\n\nuserlist api\n    user admin insecure-password pw\n\nprogram api\n    command {HAPLANE} -c {cfg} -u api -m {sock} --port {port} -t {t}\n",
            cfg = config.display(),
            sock = socket.display(),
            t = dir.path().join("t").display(),
        ),
    )
    .unwrap();
    let mut haproxy =
        MasterWorker::start(Path::new("haproxy"), &config, &socket).expect("haproxy starts");
    assert!(wait_http(port, false), "HAProxy's master started haplane");
    haproxy.stop();
    let deadline = Instant::now() + Duration::from_secs(5);
    while fetch(port, false, false).is_some() {
        assert!(
            Instant::now() < deadline,
            "haplane stops with HAProxy's master"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The Go program's defaults and flags: userlist `controller`, a PID file,
/// files validated before the configuration.
#[test]
fn the_go_programs_flags_and_defaults_are_taken() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("haproxy.cfg");
    std::fs::write(
        &config,
        "global\n    maxconn 10\n\nuserlist controller\n    user admin insecure-password pw\n",
    )
    .unwrap();
    let before = dir.path().join("before.cfg");
    std::fs::write(&before, "defaults\n    timeout client 1s\n").unwrap();
    let pid_file = dir.path().join("api.pid");
    let port = free_port();
    let mut child = Command::new(HAPLANE)
        .args(["-c", config.to_str().unwrap(), "--port", &port.to_string()])
        .args(["-t", dir.path().join("t").to_str().unwrap()])
        .args(["--pid-file", pid_file.to_str().unwrap(), "-i"])
        .args(["--validate-files-before", before.to_str().unwrap()])
        .args(["--reload-retention", "2", "--time-suffix", "nearest"])
        .args(["--update-map-files", "--update-map-files-period", "5"])
        .args(["--log-format", "JSON", "--disable-inotify"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let answered = wait_http(port, false);
    let pid = std::fs::read_to_string(&pid_file).unwrap_or_default();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    assert!(answered, "haplane served with the userlist controller");
    assert_eq!(pid.trim(), child.id().to_string());
}
