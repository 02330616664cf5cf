//! Managed files with a real HAProxy: an uploaded map steers traffic and
//! a replaced one steers it anew without a reload; a replaced certificate
//! is served at once, without a reload; the messages of an uploaded SPOE
//! file reach a real SPOA agent; names, links and sizes that would reach
//! outside the directories are refused and change nothing.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use haplane_runtime::MasterCli;
use reqwest::StatusCode;
use serde_json::json;

const CONFIG: &str = "# _version=1
global
    maxconn 1000
    stats socket @DIR@/stats.sock level admin

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

userlist api
    user admin insecure-password s3cret

frontend app
    bind 127.0.0.1:@APP@
    http-request return status 200 content-type text/plain string hello-from-app

frontend public
    bind 127.0.0.1:@PUBLIC@
    default_backend be_default

backend be_default
    http-request return status 200 content-type text/plain string from-default

backend be_a
    http-request return status 200 content-type text/plain string from-a

backend be_b
    http-request return status 200 content-type text/plain string from-b

frontend tls
    # bind 127.0.0.1:1 crt @DIR@/ssl/old.pem
    bind 127.0.0.1:@TLS@ ssl crt @DIR@/ssl/site.pem
    http-request return status 200 content-type text/plain string tls
";

const DIRS: &[&str] = &[
    "--maps-dir",
    "@DIR@/maps",
    "--ssl-certs-dir",
    "@DIR@/ssl",
    "--general-storage-dir",
    "@DIR@/general",
    "--max-body-size",
    "64KiB",
];

fn start() -> (World, u16, u16) {
    let public = free_port();
    let tls = free_port();
    let config = CONFIG
        .replace("@PUBLIC@", &public.to_string())
        .replace("@TLS@", &tls.to_string());
    let w = World::start_prepared(&config, DIRS, |dir| {
        std::fs::create_dir_all(dir.join("ssl")).unwrap();
        let site = tls_file("server.pem") + &tls_file("server.key");
        std::fs::write(dir.join("ssl/site.pem"), site).unwrap();
    });
    (w, public, tls)
}

fn reloads(w: &World) -> u64 {
    let master = MasterCli::new(w.dir.path().join("master.sock"));
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio.block_on(master.show_proc()).unwrap().reloads
}

/// What HAProxy answers for `host` on the public frontend.
fn answer(port: u16, host: &str) -> String {
    answer_to(port, host, "haplane-test")
}

/// What HAProxy answers for `host` and a User-Agent on `port`.
fn answer_to(port: u16, host: &str, user_agent: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(
        format!("GET / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.rsplit("\r\n\r\n").next().unwrap().to_owned()
}

/// The serial of the certificate a TLS client is shown on `port`.
fn served_serial(port: u16) -> String {
    let mut client = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl runs");
    let mut pem = Vec::new();
    use std::io::Read;
    client.stdout.take().unwrap().read_to_end(&mut pem).unwrap();
    client.wait().unwrap();
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-serial"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    x509.stdin.take().unwrap().write_all(&pem).unwrap();
    let out = x509.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_owned()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn an_uploaded_map_steers_traffic_and_its_replacement_needs_no_reload() {
    let (w, public, _) = start();
    let maps = "/services/haproxy/storage/maps";
    let (status, body) = upload(&w, "POST", maps, "hosts.map", "a.test be_a\n");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let file: serde_json::Value = serde_json::from_str(&body).unwrap();
    let path = w.dir.path().join("maps/hosts.map");
    assert_eq!(file["storage_name"], "hosts.map");
    assert_eq!(file["file"], path.display().to_string());
    assert_eq!(file["size"], 12);
    let (status, _) = upload(&w, "POST", maps, "hosts.map", "again\n");
    assert_eq!(status, StatusCode::CONFLICT);

    // The configuration points at it; HAProxy loads it with the rule.
    let rule = format!("%[req.hdr(host),lower,map({},be_default)]", path.display());
    let version = w
        .send("GET", "/services/haproxy/configuration/version", None)
        .1;
    let (status, body, _) = w.send(
        "POST",
        &format!("/services/haproxy/configuration/frontends/public/backend_switching_rules/0?version={version}&force_reload=true"),
        Some(json!({"name": rule})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    wait_for("traffic follows the map", || {
        answer(public, "a.test") == "from-a"
    });
    assert_eq!(answer(public, "b.test"), "from-default");

    // A new content goes through the runtime API: no reload.
    let before = reloads(&w);
    let (status, body, headers) = send_raw(
        &w,
        "PUT",
        &format!("{maps}/hosts.map"),
        "text/plain",
        b"# hosts\na.test be_b\nb.test be_a\n".to_vec(),
    );
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(headers.get("Reload-ID").is_none());
    assert_eq!(answer(public, "a.test"), "from-b");
    assert_eq!(answer(public, "b.test"), "from-a");
    assert_eq!(reloads(&w), before);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# hosts\na.test be_b\nb.test be_a\n"
    );
    let response = w.get(&format!("{maps}/hosts.map")).unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(
        response.text().unwrap(),
        "# hosts\na.test be_b\nb.test be_a\n"
    );
    let (_, list, _) = w.send("GET", maps, None);
    assert_eq!(list[0]["storage_name"], "hosts.map");

    // In use: not deleted, and the answer names the line.
    let (status, body, _) = w.send("DELETE", &format!("{maps}/hosts.map"), None);
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["message"].as_str().unwrap().contains("use_backend"),
        "{body}"
    );
    assert!(path.exists());

    // Unused: deleted; missing: 404.
    let (status, _) = upload(&w, "POST", maps, "spare.map", "x y\n");
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, _) = w.send("DELETE", &format!("{maps}/spare.map"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!w.dir.path().join("maps/spare.map").exists());
    let (status, _, _) = w.send("GET", &format!("{maps}/spare.map"), None);
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn a_replaced_certificate_is_served_without_a_reload() {
    let (w, _, tls) = start();
    let certs = "/services/haproxy/storage/ssl_certificates";
    let (status, cert, _) = w.send("GET", &format!("{certs}/site.pem"), None);
    assert_eq!(status, StatusCode::OK, "{cert}");
    assert_eq!(cert["serial"].as_str().unwrap(), served_serial(tls));
    assert_eq!(cert["storage_name"], "site.pem");
    assert!(cert["subject"].as_str().unwrap().starts_with('/'), "{cert}");
    assert_eq!(cert["sha256_finger_print"].as_str().unwrap().len(), 64);
    assert!(cert["not_after"].as_str().unwrap().ends_with(".000Z"));
    assert_eq!(cert["algorithm"].as_str().unwrap().get(..3), Some("RSA"));

    // The client certificate of the test CA, served instead.
    let next = tls_file("client.pem") + &tls_file("client.key");
    let before = reloads(&w);
    let (status, body, headers) = send_raw(
        &w,
        "PUT",
        &format!("{certs}/site.pem"),
        "text/plain",
        next.clone().into_bytes(),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers.get("Reload-ID").is_none());
    let replaced: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_ne!(replaced["serial"], cert["serial"]);
    assert_eq!(served_serial(tls), replaced["serial"].as_str().unwrap());
    assert_eq!(reloads(&w), before);
    let path = w.dir.path().join("ssl/site.pem");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), next);

    // Not a certificate: 400, and the file is as it was.
    let (status, _, _) = send_raw(
        &w,
        "PUT",
        &format!("{certs}/site.pem"),
        "text/plain",
        b"not a certificate".to_vec(),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), next);

    // A new one is private; a forced reload answers when done.
    let (status, body) = upload(
        &w,
        "POST",
        &format!("{certs}?force_reload=true"),
        "extra.pem",
        &next,
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(w.dir.path().join("ssl/extra.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let (_, list, _) = w.send("GET", certs, None);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["storage_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["extra.pem", "site.pem"]);
    // A queued reload says which one.
    let (status, _, headers) = w.send("DELETE", &format!("{certs}/extra.pem"), None);
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(headers.get("Reload-ID").is_some());
    // The one the bind uses stays; its mention in a comment does not count.
    let (status, body, _) = w.send(
        "DELETE",
        &format!("{certs}/site.pem?skip_reload=true"),
        None,
    );
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    std::fs::write(w.dir.path().join("ssl/old.pem"), &next).unwrap();
    let (status, _, _) = w.send("DELETE", &format!("{certs}/old.pem?skip_reload=true"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[test]
fn crt_lists_and_general_files() {
    let (w, _, _) = start();
    let site = w.dir.path().join("ssl/site.pem").display().to_string();
    let lists = "/services/haproxy/storage/ssl_crt_lists";
    let (status, body) = upload(
        &w,
        "POST",
        &format!("{lists}?force_reload=true"),
        "list.txt",
        &format!("{site} [alpn h2] a.test\n"),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let entries = format!("{lists}/list.txt/entries");
    let (status, e, _) = w.send(
        "POST",
        &format!("{entries}?force_reload=true"),
        Some(json!({"file": site, "sni_filter": ["b.test"]})),
    );
    assert_eq!(status, StatusCode::CREATED, "{e}");
    assert_eq!(e["line_number"], 2);
    let (_, list, _) = w.send("GET", &entries, None);
    assert_eq!(
        list,
        json!([
            {"file": site, "line_number": 1, "ssl_bind_config": "alpn h2", "sni_filter": ["a.test"]},
            {"file": site, "line_number": 2, "ssl_bind_config": "", "sni_filter": ["b.test"]},
        ])
    );
    let (status, _, _) = w.send(
        "POST",
        &entries,
        Some(json!({"file": "two words", "sni_filter": []})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = w.send(
        "DELETE",
        &format!("{entries}?certificate={site}&line_number=1&force_reload=true"),
        None,
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    let text = w.get(&format!("{lists}/list.txt")).unwrap().text().unwrap();
    assert_eq!(text, format!("{site} b.test\n"));
    let (status, _, _) = w.send(
        "DELETE",
        &format!("{entries}?certificate={site}&line_number=9"),
        None,
    );
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The certificates' list does not show the crt-list, and the other way.
    let (_, certs, _) = w.send("GET", "/services/haproxy/storage/ssl_certificates", None);
    assert_eq!(certs.as_array().unwrap().len(), 1);
    let (_, files, _) = w.send("GET", lists, None);
    assert_eq!(files[0]["storage_name"], "list.txt");
    assert_eq!(files.as_array().unwrap().len(), 1);

    let general = "/services/haproxy/storage/general";
    let (status, _) = upload(
        &w,
        "POST",
        general,
        "503.http",
        "HTTP/1.0 503\r\n\r\nbusy\n",
    );
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = upload(
        &w,
        "PUT",
        &format!("{general}/503.http?force_reload=true"),
        "503.http",
        "HTTP/1.0 503\r\n\r\nlater\n",
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    let text = w
        .get(&format!("{general}/503.http"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(text, "HTTP/1.0 503\r\n\r\nlater\n");
    let (status, _, _) = w.send("DELETE", &format!("{general}/503.http"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[test]
fn names_links_and_sizes_that_reach_outside_are_refused() {
    let (w, _, _) = start();
    let root = w.dir.path();
    std::fs::create_dir_all(root.join("maps")).unwrap();
    std::fs::write(root.join("secret"), "keep\n").unwrap();
    std::os::unix::fs::symlink(root.join("secret"), root.join("maps/link.map")).unwrap();
    let before = |d: &str| listing(&root.join(d));
    let (top, maps) = (before(""), before("maps"));
    let maps_api = "/services/haproxy/storage/maps";
    for name in ["../evil.map", "a/b.map", ".hidden", "/etc/evil.map", ".."] {
        let (status, body) = upload(&w, "POST", maps_api, name, "x y\n");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
    }
    for path in ["..%2Fsecret", "link.map", "a%2Fb.map", "x%00.map"] {
        let (status, body, _) = send_raw(
            &w,
            "PUT",
            &format!("{maps_api}/{path}"),
            "text/plain",
            b"x y\n".to_vec(),
        );
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        let (status, _, _) = w.send("DELETE", &format!("{maps_api}/{path}"), None);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        let (status, _, _) = w.send("GET", &format!("{maps_api}/{path}"), None);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
    }
    // Past --max-body-size (64 KiB): 413, as a body or as a form.
    let big = "k v\n".repeat(20_000);
    let (status, _) = upload(&w, "POST", maps_api, "big.map", &big);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    std::fs::write(root.join("maps/small.map"), "a b\n").unwrap();
    let (status, _, _) = send_raw(
        &w,
        "PUT",
        &format!("{maps_api}/small.map"),
        "text/plain",
        big.into_bytes(),
    );
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        std::fs::read_to_string(root.join("maps/small.map")).unwrap(),
        "a b\n"
    );
    std::fs::remove_file(root.join("maps/small.map")).unwrap();
    // Nothing changed outside, nor inside.
    assert_eq!(
        std::fs::read_to_string(root.join("secret")).unwrap(),
        "keep\n"
    );
    assert_eq!(before(""), top);
    assert_eq!(before("maps"), maps);
}

/// The world of the SPOE tests: the public frontend ends with `public`
/// (instead of its default backend), backend `agents` leads to an agent on
/// `agent_port`, and `spoe` is a file of `--spoe-dir` from the start.
fn start_with_agents(public: &str, agent_port: u16, spoe: Option<(&str, &str)>) -> (World, u16) {
    let public_port = free_port();
    let tls = free_port();
    let config = CONFIG
        .replace("@PUBLIC@", &public_port.to_string())
        .replace("@TLS@", &tls.to_string())
        .replace("    default_backend be_default\n", public)
        + &format!("\nbackend agents\n    mode tcp\n    server spoa 127.0.0.1:{agent_port}\n");
    let w = World::start_prepared(&config, &["--spoe-dir", "@DIR@/spoe"], |dir| {
        std::fs::create_dir_all(dir.join("ssl")).unwrap();
        let site = tls_file("server.pem") + &tls_file("server.key");
        std::fs::write(dir.join("ssl/site.pem"), site).unwrap();
        std::fs::create_dir_all(dir.join("spoe")).unwrap();
        if let Some((name, text)) = spoe {
            std::fs::write(dir.join("spoe").join(name), text).unwrap();
        }
    });
    (w, public_port)
}

const SPOE_FILE: &str = "# _version=1\n[ip-reputation]\nspoe-agent iprep-agent\n    messages check-ip\n    option var-prefix iprep\n    timeout hello 2s\n    timeout idle 2m\n    timeout processing 10ms\n    use-backend agents\n\nspoe-message check-ip\n    args ip=src\n    event on-client-session\n";

#[test]
fn spoe_files_are_versioned_checked_by_haproxy_and_edited_in_transactions() {
    let (w, _) = start_with_agents(
        "    filter spoe engine ip-reputation config @DIR@/spoe/iprep.conf\n    default_backend be_default\n",
        1,
        Some(("iprep.conf", SPOE_FILE)),
    );
    let files = "/services/haproxy/spoe/spoe_files";
    let path = w.dir.path().join("spoe/iprep.conf");
    let (_, list, _) = w.send("GET", files, None);
    assert_eq!(list, json!([path.display().to_string()]));
    let agents = format!("{files}/iprep.conf/scopes/%5Bip-reputation%5D/agents");
    let (status, agent, _) = w.send("GET", &format!("{agents}/iprep-agent"), None);
    assert_eq!(status, StatusCode::OK, "{agent}");
    assert_eq!(agent["hello_timeout"], 2000);

    // The configuration uses the file: a change HAProxy refuses (an agent
    // sending to a backend that does not exist) is 400 and undone.
    let mut bad = agent.clone();
    bad["use-backend"] = json!("nowhere");
    let (status, body, _) = w.send("PUT", &format!("{agents}/iprep-agent?version=1"), Some(bad));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SPOE_FILE);

    // A good one is written at the next version, and HAProxy reloads.
    let mut good = agent.clone();
    good["hello_timeout"] = json!(3000);
    let (status, body, headers) = w.send(
        "PUT",
        &format!("{agents}/iprep-agent?version=1"),
        Some(good),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(headers.get("Reload-ID").is_some());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        SPOE_FILE
            .replace("# _version=1", "# _version=2")
            .replace("timeout hello 2s", "timeout hello 3s")
    );
    let (status, _, _) = w.send(
        "PUT",
        &format!("{agents}/iprep-agent?version=1"),
        Some(agent),
    );
    assert_eq!(status, StatusCode::CONFLICT);

    // A transaction: nothing changes until it is committed.
    let (status, t, _) = w.send(
        "POST",
        &format!("{files}/iprep.conf/transactions?version=2"),
        None,
    );
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let id = t["id"].as_str().unwrap().to_owned();
    let groups = format!("{files}/iprep.conf/scopes/%5Bip-reputation%5D/groups");
    let (status, _, _) = w.send(
        "POST",
        &format!("{groups}?transaction_id={id}"),
        Some(json!({"name": "all", "messages": "check-ip"})),
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, list, _) = w.send("GET", &groups, None);
    assert_eq!(list, json!([]));
    let (_, list, _) = w.send("GET", &format!("{groups}?transaction_id={id}"), None);
    assert_eq!(list[0]["name"], "all");
    let (status, t, _) = w.send(
        "PUT",
        &format!("{files}/iprep.conf/transactions/{id}?force_reload=true"),
        None,
    );
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["status"], "success");
    let (_, v, _) = w.send("GET", "/services/haproxy/spoe/iprep.conf/version", None);
    assert_eq!(v, 3);
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("spoe-group all\n    messages check-ip\n"));
    // In use: the file stays.
    let (status, _, _) = w.send("DELETE", &format!("{files}/iprep.conf"), None);
    assert_eq!(status, StatusCode::CONFLICT);
}

/// The test SPOA agent (`tests/spoa/echo_agent.py`), stopped by its PID
/// when dropped.
struct Agent(std::process::Child);

impl Agent {
    fn start(port: u16) -> Agent {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spoa/echo_agent.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the SPOA agent (scripts/setup --tests installs haproxyspoa)");
        let agent = Agent(child);
        wait_for("the SPOA agent listens", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        agent
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const ECHO_SPOE: &str = "[echo]\nspoe-agent echo-agent\n    messages echo\n    option var-prefix echo\n    timeout hello 2s\n    timeout idle 2m\n    timeout processing 2s\n    use-backend agents\n\nspoe-message echo\n    args value=req.hdr(host)\n    event on-frontend-http-request\n";

#[test]
fn messages_of_an_uploaded_spoe_file_reach_a_real_agent() {
    let agent_port = free_port();
    let (w, public) = start_with_agents(
        "    http-request return status 200 content-type text/plain lf-string \"%[var(txn.echo.seen)]\"\n",
        agent_port,
        None,
    );
    let _agent = Agent::start(agent_port);
    assert_eq!(answer(public, "a.test"), "");

    // Uploaded, then named by a filter: HAProxy sends each request's host
    // to the agent, and the agent's answer comes back in the response.
    let files = "/services/haproxy/spoe/spoe_files";
    let (status, body) = upload(&w, "POST", files, "echo.conf", ECHO_SPOE);
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = w.dir.path().join("spoe/echo.conf");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ECHO_SPOE);
    let (status, body, _) = w.send(
        "POST",
        "/services/haproxy/configuration/frontends/public/filters/0?version=1&force_reload=true",
        Some(json!({
            "type": "spoe",
            "spoe_engine": "echo",
            "spoe_config": path.display().to_string(),
        })),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    wait_for("the agent answers", || {
        answer(public, "a.test") == "agent saw a.test"
    });
    assert_eq!(answer(public, "b.test"), "agent saw b.test");

    // A message edited through the API: HAProxy reloads and sends the new
    // argument.
    let message = format!("{files}/echo.conf/scopes/%5Becho%5D/messages/echo");
    let (status, mut echo, _) = w.send("GET", &message, None);
    assert_eq!(status, StatusCode::OK, "{echo}");
    echo["args"] = json!("value=req.hdr(user-agent)");
    let (status, body, _) = w.send("PUT", &format!("{message}?version=1"), Some(echo));
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("    args value=req.hdr(user-agent)\n"));
    wait_for("the agent sees the new argument", || {
        answer_to(public, "a.test", "probe/1") == "agent saw probe/1"
    });
}
