//! A fleet of three nodes (HAProxy in master-worker mode and haplane each,
//! on 127.0.0.2, .3 and .4) and one real etcd on loopback: a good change
//! reaches all three, one that passes `haproxy -c` but fails the checks
//! stops at the canary, which is restored while the others never change,
//! a second rollout at once is refused, a node killed in the middle of its
//! step takes it again, a node stopped during a rollout catches up when
//! restarted, and with etcd gone the fleet answers 503 while the node's
//! own API works. Traffic comes from this test, a bounded number of
//! requests at each look.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, Haplane};
use haplane_haproxy::MasterWorker;
use reqwest::blocking::Client;
use serde_json::{json, Value};

/// The fleet's configuration: every node runs these bytes; the address
/// each binds comes from its environment.
fn config(answer: &str) -> String {
    common::CONFIG
        .replace("bind 127.0.0.1:@APP@", "bind \"${NODE_ADDR}:${APP_PORT}\"")
        .replace("string hello-from-app", &format!("string {answer}"))
}

/// Passes `haproxy -c`, but every request gets a 503: the backend's only
/// server is on a port nothing listens on.
fn dead_backend(port: u16) -> String {
    let answer =
        "    http-request return status 200 content-type text/plain string hello-from-app\n";
    let config = config("hello-from-app");
    assert!(config.contains(answer));
    config.replace(
        answer,
        &format!(
            "    default_backend dead\n\nbackend dead\n    server s1 127.0.0.1:{port} check inter 200ms fall 1\n"
        ),
    )
}

/// etcd on loopback, stopped by its PID when dropped.
struct Etcd {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Etcd {
    fn start() -> Etcd {
        let dir = tempfile::tempdir().unwrap();
        let (client, peer) = (free_port(), free_port());
        let url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let child = Command::new("etcd")
            .args(["--name", "fleet-test", "--data-dir"])
            .arg(dir.path().join("data"))
            .args([
                "--listen-client-urls",
                &url,
                "--advertise-client-urls",
                &url,
            ])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("fleet-test={peer_url}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd runs (Debian's etcd-server; scripts/test installs it)");
        let etcd = Etcd {
            child,
            url,
            _dir: dir,
        };
        let client = Client::new();
        wait("etcd answers", 20, || {
            client
                .post(format!("{}/v3/kv/range", etcd.url))
                .body(r#"{"key":"AA=="}"#)
                .send()
                .is_ok_and(|r| r.status().is_success())
        });
        etcd
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait(what: &str, seconds: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what}: not within {seconds} s");
}

struct Node {
    name: String,
    address: String,
    app_port: u16,
    api: String,
    config: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    haplane: Haplane,
    _haproxy: MasterWorker,
}

impl Node {
    fn start(dir: &Path, name: &str, address: &str, app_port: u16, etcd: &str) -> Node {
        let home = dir.join(name);
        std::fs::create_dir_all(&home).unwrap();
        let config = home.join("haproxy.cfg");
        std::fs::write(&config, self::config("hello-v1")).unwrap();
        let env = vec![
            ("NODE_ADDR".to_owned(), address.to_owned()),
            ("APP_PORT".to_owned(), app_port.to_string()),
        ];
        let socket = home.join("master.sock");
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let haproxy =
            MasterWorker::start_with_env(Path::new("haproxy"), &[&config], &socket, &pairs)
                .expect("haproxy starts");
        let port = free_port();
        let args: Vec<String> = [
            "-c",
            config.to_str().unwrap(),
            "-m",
            socket.to_str().unwrap(),
            "-u",
            "api",
            "--host",
            address,
            "--port",
            &port.to_string(),
            "--reload-delay",
            "1",
            "-t",
            home.join("transactions").to_str().unwrap(),
            "--fleet-etcd",
            etcd,
            "--node-name",
            name,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        let mut node = Node {
            name: name.into(),
            address: address.into(),
            app_port,
            api: format!("http://{address}:{port}/v3"),
            config,
            haplane: Haplane(spawn(&args, &env)),
            args,
            env,
            _haproxy: haproxy,
        };
        node.wait_up();
        node
    }

    fn wait_up(&mut self) {
        let client = Client::new();
        let url = format!("{}/health", self.api);
        wait(&format!("{} answers", self.name), 20, || {
            client
                .get(&url)
                .basic_auth("admin", Some("s3cret"))
                .send()
                .is_ok()
        });
    }

    fn kill(&mut self) {
        let _ = self.haplane.0.kill();
        let _ = self.haplane.0.wait();
    }

    fn restart(&mut self) {
        self.kill();
        self.haplane.0 = spawn(&self.args, &self.env);
        self.wait_up();
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let client = Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = client
            .request(method, format!("{}{path}", self.api))
            .basic_auth("admin", Some("s3cret"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// What its HAProxy answers now (one request).
    fn answer(&self) -> String {
        let mut stream = match std::net::TcpStream::connect((self.address.as_str(), self.app_port))
        {
            Ok(s) => s,
            Err(_) => return String::new(),
        };
        use std::io::{Read, Write};
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = stream.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    }

    fn file(&self) -> String {
        std::fs::read_to_string(&self.config).unwrap()
    }
}

fn spawn(args: &[String], env: &[(String, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_haplane"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("haplane starts")
}

/// Waits for a rollout to end, with traffic to every node meanwhile.
fn finished(nodes: &[Node], at: &Node, id: &str) -> Value {
    let mut last = Value::Null;
    wait(&format!("rollout {id} ends"), 60, || {
        for node in nodes {
            node.answer();
        }
        let (status, rollout) = at.send("GET", &format!("/fleet/rollouts/{id}"), None);
        assert_eq!(status, 200, "{rollout}");
        last = rollout;
        last["state"] != "running"
    });
    last
}

fn step<'a>(rollout: &'a Value, node: &str) -> &'a str {
    rollout["nodes"][node]["step"].as_str().unwrap_or("")
}

#[test]
fn a_fleet_rolls_out_by_canary_and_stops_at_a_failing_one() {
    let etcd = Etcd::start();
    let dir = tempfile::tempdir().unwrap();
    let app_port = free_port();
    let mut nodes: Vec<Node> = [("a", "127.0.0.2"), ("b", "127.0.0.3"), ("c", "127.0.0.4")]
        .iter()
        .map(|(name, address)| Node::start(dir.path(), name, address, app_port, &etcd.url))
        .collect();
    for node in &nodes {
        assert!(node.answer().contains("hello-v1"), "{}", node.name);
    }
    wait("three nodes registered", 20, || {
        let (status, list) = nodes[0].send("GET", "/fleet/nodes", None);
        status == 200 && list.as_array().is_some_and(|l| l.len() == 3)
    });
    let (_, list) = nodes[1].send("GET", "/fleet/nodes", None);
    assert_eq!(list[2]["name"], "c");
    assert_eq!(list[2]["address"], "127.0.0.4");
    assert_eq!(list[2]["haproxy"], "up");
    let checks = json!({"wait_s": 1, "max_5xx_ratio": 0.01,
        "http": [{"url": format!("http://{{host}}:{app_port}/"), "expect_status": 200}]});

    // A good change, canary first, then the other two in one batch. A
    // second rollout meanwhile is refused.
    let (status, rollout) = nodes[0].send(
        "POST",
        "/fleet/rollouts",
        Some(
            json!({"raw": config("hello-v2"), "canary": ["a"], "batch_size": 2, "checks": checks}),
        ),
    );
    assert_eq!(status, 201, "{rollout}");
    assert_eq!(rollout["batches"], json!([["a"], ["b", "c"]]));
    let id = rollout["id"].as_str().unwrap().to_owned();
    let (status, busy) = nodes[2].send(
        "POST",
        "/fleet/rollouts",
        Some(json!({"raw": config("hello-other")})),
    );
    assert_eq!(status, 409, "{busy}");
    let done = finished(&nodes, &nodes[1], &id);
    assert_eq!(done["state"], "done", "{done}");
    for node in &nodes {
        assert_eq!(step(&done, &node.name), "done", "{done}");
        assert!(node.answer().contains("hello-v2"), "{}", node.name);
        assert!(node.file().contains("hello-v2"));
    }

    // Passes haproxy -c, fails the checks: the canary is restored, the
    // others are never reached.
    let dead = free_port();
    let before: Vec<String> = nodes.iter().map(Node::file).collect();
    let (status, rollout) = nodes[0].send(
        "POST",
        "/fleet/rollouts",
        Some(
            json!({"raw": dead_backend(dead), "canary": ["b"], "batch_size": 2, "checks": checks}),
        ),
    );
    assert_eq!(status, 201, "{rollout}");
    let id = rollout["id"].as_str().unwrap().to_owned();
    let failed = finished(&nodes, &nodes[0], &id);
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(step(&failed, "b"), "rolled_back", "{failed}");
    assert_eq!(step(&failed, "a"), "pending");
    assert_eq!(step(&failed, "c"), "pending");
    assert!(
        failed["reason"].as_str().unwrap().contains("node b"),
        "{failed}"
    );
    for (node, before) in nodes.iter().zip(&before) {
        assert!(node.answer().contains("hello-v2"), "{}", node.name);
        if node.name != "b" {
            assert_eq!(&node.file(), before, "{} never changed", node.name);
        }
    }
    // A configuration HAProxy refuses is refused at once.
    let (status, refused) = nodes[0].send(
        "POST",
        "/fleet/rollouts",
        Some(json!({"raw": "frontend x\n    bind 127.0.0.1:99999\n"})),
    );
    assert_eq!(status, 400, "{refused}");

    // A canary killed while it verifies takes its step again at restart.
    let (status, rollout) = nodes[0].send(
        "POST",
        "/fleet/rollouts",
        Some(
            json!({"raw": config("hello-v3"), "canary": ["c"], "batch_size": 2,
                    "checks": {"wait_s": 3}}),
        ),
    );
    assert_eq!(status, 201, "{rollout}");
    let id = rollout["id"].as_str().unwrap().to_owned();
    wait("c verifies", 20, || {
        let (_, r) = nodes[0].send("GET", &format!("/fleet/rollouts/{id}"), None);
        step(&r, "c") == "verifying"
    });
    nodes[2].restart();
    let done = finished(&nodes, &nodes[0], &id);
    assert_eq!(done["state"], "done", "{done}");
    for node in &nodes {
        assert!(node.answer().contains("hello-v3"), "{}", node.name);
    }

    // A node stopped during a rollout catches up when it comes back.
    nodes[1].kill();
    wait("b leaves the fleet", 20, || {
        let (_, list) = nodes[0].send("GET", "/fleet/nodes", None);
        list.as_array().is_some_and(|l| l.len() == 2)
    });
    let (status, rollout) = nodes[0].send(
        "POST",
        "/fleet/rollouts",
        Some(json!({"raw": config("hello-v4"), "canary": ["a"], "checks": checks})),
    );
    assert_eq!(status, 201, "{rollout}");
    let id = rollout["id"].as_str().unwrap().to_owned();
    let done = finished(&nodes, &nodes[0], &id);
    assert_eq!(done["state"], "done", "{done}");
    assert!(nodes[1].answer().contains("hello-v3"), "b was away");
    nodes[1].restart();
    wait("b catches up", 20, || {
        nodes[1].answer().contains("hello-v4")
    });
    assert!(nodes[1].file().contains("hello-v4"));
    assert!(nodes[0].answer().contains("hello-v4") && nodes[2].answer().contains("hello-v4"));

    // A rollout stopped while its canary verifies: the canary's step ends,
    // no other node starts one, and the next rollout may start.
    let (status, rollout) = nodes[0].send(
        "POST",
        "/fleet/rollouts",
        Some(json!({"raw": config("hello-v5"), "canary": ["a"], "checks": {"wait_s": 3}})),
    );
    assert_eq!(status, 201, "{rollout}");
    let id = rollout["id"].as_str().unwrap().to_owned();
    wait("a verifies", 20, || {
        let (_, r) = nodes[1].send("GET", &format!("/fleet/rollouts/{id}"), None);
        step(&r, "a") == "verifying"
    });
    let (status, stopped) = nodes[1].send("DELETE", &format!("/fleet/rollouts/{id}"), None);
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["state"], "stopped");
    let (status, _) = nodes[1].send("DELETE", &format!("/fleet/rollouts/{id}"), None);
    assert_eq!(status, 409);
    wait("a's step ends", 20, || {
        let (_, r) = nodes[1].send("GET", &format!("/fleet/rollouts/{id}"), None);
        step(&r, "a") == "done"
    });
    std::thread::sleep(Duration::from_secs(1));
    let (_, r) = nodes[1].send("GET", &format!("/fleet/rollouts/{id}"), None);
    assert_eq!(r["state"], "stopped", "{r}");
    assert_eq!(step(&r, "b"), "pending", "{r}");
    assert!(nodes[1].answer().contains("hello-v4") && nodes[2].answer().contains("hello-v4"));
    let (status, list) = nodes[2].send("GET", "/fleet/rollouts", None);
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 5, "{list}");
    assert!(list[0].get("raw").is_none() && list[0]["checksum"].is_string());

    // etcd gone: the fleet answers 503, the node's own API works.
    drop(etcd);
    let (status, body) = nodes[0].send("GET", "/fleet/nodes", None);
    assert_eq!(status, 503, "{body}");
    let (status, _) = nodes[0].send("GET", "/services/haproxy/configuration/frontends/app", None);
    assert_eq!(status, 200);
}
