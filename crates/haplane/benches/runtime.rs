//! Runtime benchmark, end to end on loopback: the `haplane` binary beside a
//! real HAProxy 2.6 (1,000 backends x 10 servers), timed from the client.
//!
//! - a runtime server change (`PUT /runtime/backends/B/servers/S`);
//! - the same command sent straight to the stats socket, for reference;
//! - a configuration server change applied without a reload (file written
//!   after `haproxy -c`, then the socket), against `haproxy -c` alone on
//!   the same file.
//!
//! Run: `cargo bench -p haplane --bench runtime`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use haplane_haproxy::MasterWorker;
use haplane_runtime::{Endpoint, MasterCli, Runtime, ServerChange};
use serde_json::json;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn config(dir: &Path, front: u16, app: u16, backends: usize, servers: usize) -> String {
    let mut out = format!(
        "# _version=1\nglobal\n    maxconn 1000\n    stats socket {}/stats.sock level admin\n\n\
defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\n\
userlist api\n    user admin insecure-password pw\n\n\
frontend app\n    bind 127.0.0.1:{app}\n    http-request return status 200 content-type text/plain string ok\n\n\
frontend fe\n    bind 127.0.0.1:{front}\n    default_backend be_0\n",
        dir.display()
    );
    for b in 0..backends {
        let _ = write!(out, "\nbackend be_{b}\n    balance roundrobin\n");
        for s in 0..servers {
            let _ = writeln!(out, "    server srv{s} 127.0.0.1:{app} weight 10");
        }
    }
    out
}

struct Haplane(Child);

impl Drop for Haplane {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let (front, app, api) = (free_port(), free_port(), free_port());
    let cfg = dir.path().join("haproxy.cfg");
    std::fs::write(&cfg, config(dir.path(), front, app, 1000, 10)).unwrap();
    let size = std::fs::metadata(&cfg).unwrap().len();
    let master_sock = dir.path().join("master.sock");
    let _haproxy = MasterWorker::start(Path::new("haproxy"), &cfg, &master_sock).unwrap();
    let _haplane = Haplane(
        Command::new(env!("CARGO_BIN_EXE_haplane"))
            .args([
                "-c",
                cfg.to_str().unwrap(),
                "-m",
                master_sock.to_str().unwrap(),
            ])
            .args(["-u", "api", "--port", &api.to_string()])
            .args(["-t", dir.path().join("t").to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{api}/v3");
    let client = reqwest::blocking::Client::new();
    let send = |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
        let mut request = client
            .request(method, format!("{base}{path}"))
            .basic_auth("admin", Some("pw"));
        if let Some(b) = body {
            request = request.json(&b);
        }
        let start = Instant::now();
        let response = request.send().unwrap();
        let status = response.status();
        let _ = response.bytes().unwrap();
        (start.elapsed(), status.as_u16())
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{base}/health"))
        .basic_auth("admin", Some("pw"))
        .send()
        .ok()
        .and_then(|r| r.text().ok())
        .is_none_or(|t| !t.contains("\"up\""))
    {
        assert!(
            Instant::now() < deadline,
            "haplane and HAProxy did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reloads = || {
        tokio
            .block_on(MasterCli::new(&master_sock).show_proc())
            .unwrap()
            .reloads
    };
    let reloads_before = reloads();

    // A runtime server change through the API.
    let runtime_path = "/services/haproxy/runtime/backends/be_500/servers/srv5";
    let mut api_samples = Vec::new();
    for i in 0..1000 {
        let (d, status) = send(
            reqwest::Method::PUT,
            runtime_path,
            Some(
                json!({"weight": 1 + i % 200, "admin_state": if i % 2 == 0 { "drain" } else { "ready" }}),
            ),
        );
        assert_eq!(status, 200);
        api_samples.push(d);
    }
    let mut get_samples: Vec<Duration> = (0..500)
        .map(|_| send(reqwest::Method::GET, runtime_path, None).0)
        .collect();

    // The same change straight on the socket.
    let rt = Runtime::stats_socket(Endpoint::Unix(dir.path().join("stats.sock")));
    let mut socket_samples = Vec::new();
    for i in 0..1000u32 {
        let start = Instant::now();
        tokio
            .block_on(rt.set_server("be_500", "srv5", &[ServerChange::Weight(1 + i % 200)]))
            .unwrap();
        socket_samples.push(start.elapsed());
    }

    // Configuration changes without a reload, paired with haproxy -c.
    let mut config_samples = Vec::new();
    let mut check_samples = Vec::new();
    let mut ratios = Vec::new();
    for i in 0..30u64 {
        let (d, status) = send(
            reqwest::Method::PUT,
            &format!(
                "/services/haproxy/configuration/backends/be_500/servers/srv5?version={}",
                i + 1
            ),
            Some(json!({"name": "srv5", "address": "127.0.0.1", "port": app, "weight": 20 + i})),
        );
        assert_eq!(status, 200, "applied without a reload");
        let start = Instant::now();
        let ok = Command::new("haproxy")
            .args(["-c", "-q", "-f", cfg.to_str().unwrap()])
            .status()
            .unwrap()
            .success();
        let check = start.elapsed();
        assert!(ok);
        ratios.push(d.as_secs_f64() / check.as_secs_f64());
        config_samples.push(d);
        check_samples.push(check);
    }
    assert_eq!(reloads(), reloads_before, "nothing reloaded");
    ratios.sort_by(|a, b| a.total_cmp(b));

    println!("HAProxy 2.6 with 1,000 backends x 10 servers ({size} bytes), haplane on loopback");
    println!(
        "runtime server change (PUT, HTTP end to end): median {} ms, p95 {} ms",
        ms(percentile(&mut api_samples, 0.5)),
        ms(percentile(&mut api_samples, 0.95))
    );
    println!(
        "runtime server read (GET, HTTP end to end):    median {} ms",
        ms(percentile(&mut get_samples, 0.5))
    );
    println!(
        "the same change straight on the stats socket:  median {} ms",
        ms(percentile(&mut socket_samples, 0.5))
    );
    println!(
        "configuration server change, no reload:        median {} ms (haproxy -c alone: {} ms; median ratio {:.2})",
        ms(percentile(&mut config_samples, 0.5)),
        ms(percentile(&mut check_samples, 0.5)),
        ratios[ratios.len() / 2]
    );
    println!("reloads during the run: {}", reloads() - reloads_before);
}
