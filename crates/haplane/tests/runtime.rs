//! Changes without reloads: servers added, re-weighted and removed through
//! the configuration API are applied through HAProxy's runtime socket and
//! written to the file, under steady traffic, with no reload and no failed
//! request.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use haplane_runtime::{AdminState, Endpoint, MasterCli, Runtime};
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

# The application, answered by HAProxy itself; its frontend counts the
# connections that reach it.
frontend app
    bind 127.0.0.1:@APP@
    http-request return status 200 content-type text/plain string hello-from-app

frontend public
    bind 127.0.0.1:@PUBLIC@
    default_backend pool

backend pool
    balance roundrobin
    server base 127.0.0.1:@APP@

backend fixed
    balance static-rr
    server base 127.0.0.1:@APP@
";

/// Clients sending requests until told to stop (or 120 s, or 500,000
/// requests), each on a new connection; they count what succeeds and fails.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(port: u16, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(120);
        let threads = (0..clients)
            .map(|_| {
                let (stop, ok, failed) = (Arc::clone(&stop), Arc::clone(&ok), Arc::clone(&failed));
                std::thread::spawn(move || {
                    for _ in 0..500_000 / clients {
                        if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                            break;
                        }
                        match traffic(port) {
                            Some(a)
                                if a.starts_with("HTTP/1.1 200")
                                    && a.contains("hello-from-app") =>
                            {
                                ok.fetch_add(1, Ordering::Relaxed)
                            }
                            _ => failed.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                })
            })
            .collect();
        Load {
            stop,
            ok,
            failed,
            threads,
        }
    }

    /// Stops the clients; (succeeded, failed).
    fn finish(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        (
            self.ok.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

#[test]
fn servers_change_under_traffic_without_a_reload() {
    let public = free_port();
    let w = World::start_with(&CONFIG.replace("@PUBLIC@", &public.to_string()), &[]);
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let master = MasterCli::new(w.dir.path().join("master.sock"));
    let reloads = || tokio.block_on(master.show_proc()).unwrap().reloads;
    let stats = Runtime::stats_socket(Endpoint::Unix(w.dir.path().join("stats.sock")));
    let before = reloads();
    wait_for("the public frontend serves", || {
        traffic(public).is_some_and(|a| a.contains("hello-from-app"))
    });

    let load = Load::start(public, 2);
    let servers = "/services/haproxy/configuration/backends/pool/servers";
    let mut version = 1;
    for i in 0..100 {
        let (status, body, headers) = w.send(
            "POST",
            &format!("{servers}?version={version}"),
            Some(json!({"name": format!("dyn{i}"), "address": "127.0.0.1", "port": w.app_port, "weight": 10})),
        );
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(!headers.contains_key("reload-id"));
        version += 1;
    }
    let state = tokio.block_on(stats.servers_state(Some("pool"))).unwrap();
    assert_eq!(state.len(), 101);
    assert!(state
        .iter()
        .all(|s| s.admin == AdminState::Ready && s.weight == 10 || s.name == "base"));
    // The new servers take their share of the traffic.
    wait_for("the new servers serve requests", || {
        let rows = tokio.block_on(stats.stat()).unwrap();
        rows.iter()
            .filter(|r| r.proxy == "pool" && r.name.starts_with("dyn"))
            .filter(|r| r.get("stot").is_some_and(|n| n != "0"))
            .count()
            >= 50
    });

    for i in 0..100 {
        let (status, body, _) = w.send(
            "PUT",
            &format!("{servers}/dyn{i}?version={version}"),
            Some(json!({"name": format!("dyn{i}"), "address": "127.0.0.1", "port": w.app_port, "weight": 50 + i})),
        );
        assert_eq!(status, StatusCode::OK, "{body}");
        version += 1;
    }
    let state = tokio.block_on(stats.servers_state(Some("pool"))).unwrap();
    assert!(state
        .iter()
        .filter(|s| s.name.starts_with("dyn"))
        .all(|s| s.weight >= 50));

    for i in 0..100 {
        let (status, body, _) = w.send(
            "DELETE",
            &format!("{servers}/dyn{i}?version={version}"),
            None,
        );
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        version += 1;
    }
    let (ok, failed) = load.finish();
    assert_eq!(failed, 0, "requests failed ({ok} succeeded)");
    assert!(ok > 100, "steady traffic: only {ok} requests");
    assert_eq!(reloads(), before, "HAProxy was reloaded");

    let state = tokio.block_on(stats.servers_state(Some("pool"))).unwrap();
    assert_eq!(
        state.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["base"]
    );
    let config = w.config();
    assert!(config.starts_with(&format!("# _version={version}\n")));
    assert!(!config.contains("dyn"));
    // Every request reached the application through HAProxy.
    let rows = tokio.block_on(stats.stat()).unwrap();
    let app = rows
        .iter()
        .find(|r| r.proxy == "app" && r.name == "FRONTEND")
        .unwrap();
    let reached: u64 = app.get("req_tot").unwrap().parse().unwrap();
    assert!(reached >= ok, "{reached} < {ok}");

    // A backend whose algorithm is static cannot take a server at runtime:
    // the same request is written and reloaded instead.
    let (status, body, headers) = w.send(
        "POST",
        &format!("/services/haproxy/configuration/backends/fixed/servers?version={version}&force_reload=true"),
        Some(json!({"name": "extra", "address": "127.0.0.1", "port": w.app_port})),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(!headers.contains_key("reload-id"));
    assert_eq!(reloads(), before + 1);
    // So does a change the runtime cannot make.
    let (status, body, headers) = w.send(
        "PUT",
        &format!("{servers}/base?version={}", version + 1),
        Some(json!({"name": "base", "address": "127.0.0.1", "port": w.app_port, "maxconn": 50})),
    );
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(headers.contains_key("reload-id"));
}

#[test]
fn info_stats_health_and_runtime_servers() {
    let public = free_port();
    let w = World::start_with(&CONFIG.replace("@PUBLIC@", &public.to_string()), &[]);
    wait_for("the public frontend serves", || {
        traffic(public).is_some_and(|a| a.contains("hello-from-app"))
    });
    let (status, health, _) = w.send("GET", "/health", None);
    assert_eq!((status, health), (StatusCode::OK, json!({"haproxy": "up"})));

    let (status, info, _) = w.send("GET", "/services/haproxy/runtime/info", None);
    assert_eq!(status, StatusCode::OK, "{info}");
    let line = haplane_haproxy::version(std::path::Path::new("haproxy")).unwrap();
    let (major, minor) = haplane_haproxy::major_minor(&line).unwrap();
    let version = info["info"]["version"].as_str().unwrap();
    assert!(
        version.starts_with(&format!("{major}.{minor}.")),
        "{version}"
    );
    assert!(info["info"]["pid"].as_i64().unwrap() > 0);
    assert!(info["info"]["release_date"].as_str().unwrap().contains('-'));
    assert!(info["runtimeAPI"].as_str().unwrap().ends_with("stats.sock"));

    let (status, stats, _) = w.send("GET", "/services/haproxy/stats/native", None);
    assert_eq!(status, StatusCode::OK);
    let all = stats["stats"].as_array().unwrap();
    assert!(all
        .iter()
        .any(|s| s["type"] == "frontend" && s["name"] == "public"));
    let (_, servers, _) = w.send(
        "GET",
        "/services/haproxy/stats/native?type=server&parent=pool",
        None,
    );
    let servers = servers["stats"].as_array().unwrap().clone();
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0]["name"], "base");
    assert_eq!(servers[0]["backend_name"], "pool");
    assert!(servers[0]["stats"]["stot"].as_i64().unwrap() >= 1);
    assert_eq!(servers[0]["stats"]["status"], "no check");
    let (status, _, _) = w.send("GET", "/services/haproxy/stats/native?type=nope", None);
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Transient server state: nothing is written to the file.
    let config = w.config();
    let base = "/services/haproxy/runtime/backends/pool/servers";
    let (status, list, _) = w.send("GET", base, None);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["name"], "base");
    assert_eq!(list[0]["admin_state"], "ready");
    assert_eq!(list[0]["operational_state"], "up");
    assert_eq!(list[0]["port"], w.app_port);
    let (status, s, _) = w.send(
        "PUT",
        &format!("{base}/base"),
        Some(json!({"admin_state": "drain", "weight": 7})),
    );
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(
        (s["admin_state"].as_str(), s["weight"].as_u64()),
        (Some("drain"), Some(7))
    );
    let (status, e, _) = w.send(
        "PUT",
        &format!("{base}/base"),
        Some(json!({"admin_state": "sleepy"})),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("admin_state"));
    let (status, e, _) = w.send("GET", &format!("{base}/nope"), None);
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    let (status, e, _) = w.send(
        "GET",
        "/services/haproxy/runtime/backends/nope/servers",
        None,
    );
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");

    let (status, added, _) = w.send(
        "POST",
        base,
        Some(json!({"name": "extra", "address": "127.0.0.1", "port": w.app_port, "weight": 3})),
    );
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let (_, extra, _) = w.send("GET", &format!("{base}/extra"), None);
    assert_eq!(
        (extra["admin_state"].as_str(), extra["weight"].as_u64()),
        (Some("ready"), Some(3))
    );
    let (status, e, _) = w.send(
        "POST",
        base,
        Some(json!({"name": "extra", "address": "127.0.0.1", "port": w.app_port})),
    );
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    let (status, _, _) = w.send("DELETE", &format!("{base}/extra"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = w.send("GET", &format!("{base}/extra"), None);
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(w.config(), config);

    // HAProxy stopped: health says so, runtime calls give 503.
    let mut w = w;
    w.haproxy.stop();
    let (_, health, _) = w.send("GET", "/health", None);
    assert_eq!(health, json!({"haproxy": "down"}));
    let (status, e, _) = w.send("GET", "/services/haproxy/runtime/info", None);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{e}");
}

const PATTERNS: &str = "# _version=1
global
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
    http-request deny deny_status 403 if { src -f @DIR@/maps/blocked.acl }
    http-request set-header X-Other %[req.hdr(host),lower,map(@DIR@/other.map,none)]
    http-request return status 200 content-type text/plain lf-string %[req.hdr(host),lower,map(@DIR@/maps/hosts.map,unknown)]
";

#[test]
fn maps_and_acls_change_traffic_and_files() {
    let w = World::start_prepared(PATTERNS, &["--maps-dir", "@DIR@/maps"], |dir| {
        std::fs::write(dir.join("other.map"), "o.test other\n").unwrap();
        std::fs::create_dir_all(dir.join("maps")).unwrap();
        std::fs::write(
            dir.join("maps/hosts.map"),
            "# hosts and their pools\na.test pool-a\n",
        )
        .unwrap();
        std::fs::write(dir.join("maps/blocked.acl"), "192.0.2.1\n").unwrap();
    });
    let maps_dir = w.dir.path().join("maps");
    let answer = |host: &str| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", w.app_port)).unwrap();
        use std::io::{Read, Write};
        s.write_all(format!("GET / HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out.rsplit("\r\n\r\n").next().unwrap().to_owned()
    };
    wait_for("haproxy answers", || answer("a.test") == "pool-a");

    // Only maps under --maps-dir are listed unless unmanaged ones are asked.
    let (status, maps, _) = w.send("GET", "/services/haproxy/runtime/maps", None);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(maps.as_array().unwrap().len(), 1, "{maps}");
    assert_eq!(maps[0]["storage_name"], "hosts.map");
    let (_, maps, _) = w.send(
        "GET",
        "/services/haproxy/runtime/maps?include_unmanaged=true",
        None,
    );
    assert_eq!(maps.as_array().unwrap().len(), 2, "{maps}");

    // A map outside --maps-dir is neither written nor deleted, and its
    // entries stay as they were.
    let other = "/services/haproxy/runtime/maps/other.map";
    let (status, e, _) = w.send(
        "POST",
        &format!("{other}/entries?force_sync=true"),
        Some(json!({"key": "p.test", "value": "x"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["message"].as_str().unwrap().contains("--maps-dir"), "{e}");
    let (status, _, _) = w.send("DELETE", &format!("{other}?forceDelete=true"), None);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, list, _) = w.send("GET", &format!("{other}/entries"), None);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(
        std::fs::read_to_string(w.dir.path().join("other.map")).unwrap(),
        "o.test other\n"
    );
    let (_, maps, _) = w.send("GET", "/services/haproxy/runtime/maps", None);
    assert_eq!(
        maps[0]["file"],
        maps_dir.join("hosts.map").display().to_string()
    );

    let entries = "/services/haproxy/runtime/maps/hosts.map/entries";
    let (status, list, _) = w.send("GET", entries, None);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["key"], "a.test");
    assert_eq!(list[0]["value"], "pool-a");

    let (status, e, _) = w.send(
        "POST",
        &format!("{entries}?force_sync=true"),
        Some(json!({"key": "b.test", "value": "pool-b"})),
    );
    assert_eq!(status, StatusCode::CREATED, "{e}");
    assert_eq!(answer("b.test"), "pool-b");
    let (status, _, _) = w.send(
        "POST",
        entries,
        Some(json!({"key": "b.test", "value": "again"})),
    );
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, e, _) = w.send(
        "PUT",
        &format!("{entries}/a.test?force_sync=true"),
        Some(json!({"value": "pool-z"})),
    );
    assert_eq!(
        (status, e["value"].as_str()),
        (StatusCode::OK, Some("pool-z"))
    );
    assert_eq!(answer("a.test"), "pool-z");
    let file = std::fs::read_to_string(maps_dir.join("hosts.map")).unwrap();
    assert_eq!(
        file,
        "# hosts and their pools\na.test pool-z\nb.test pool-b\n"
    );
    let (status, _, _) = w.send("DELETE", &format!("{entries}/b.test?force_sync=true"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(answer("b.test"), "unknown");
    let (status, _, _) = w.send("GET", &format!("{entries}/b.test"), None);
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = w.send(
        "PUT",
        "/services/haproxy/runtime/maps/hosts.map",
        Some(json!([{"key": "c.test", "value": "pool-c"}, {"key": "d.test", "value": "pool-d"}])),
    );
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer("d.test"), "pool-d");
    let (status, e, _) = w.send(
        "POST",
        entries,
        Some(json!({"key": "bad key\nline", "value": "x"})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let (status, _, _) = w.send(
        "GET",
        "/services/haproxy/runtime/maps/nope.map/entries",
        None,
    );
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Not written without force_sync.
    let file = std::fs::read_to_string(maps_dir.join("hosts.map")).unwrap();
    assert!(!file.contains("c.test"));
    let (status, _, _) = w.send(
        "DELETE",
        "/services/haproxy/runtime/maps/hosts.map?force_sync=true",
        None,
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(answer("a.test"), "unknown");
    let file = std::fs::read_to_string(maps_dir.join("hosts.map")).unwrap();
    assert_eq!(file, "# hosts and their pools\n");

    // ACLs.
    let (_, acls, _) = w.send("GET", "/services/haproxy/runtime/acls", None);
    let acl = acls
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["storage_name"].as_str().unwrap().ends_with("blocked.acl"))
        .unwrap()
        .clone();
    let id = acl["id"].as_str().unwrap();
    let entries = format!("/services/haproxy/runtime/acls/{id}/entries");
    let (_, list, _) = w.send("GET", &entries, None);
    assert_eq!(list[0]["value"], "192.0.2.1");
    assert_eq!(answer("a.test"), "unknown");
    let (status, e, _) = w.send("POST", &entries, Some(json!({"value": "127.0.0.1"})));
    assert_eq!(status, StatusCode::CREATED, "{e}");
    // 127.0.0.1 is now refused.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", w.app_port)).unwrap();
    use std::io::{Read, Write};
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    let (status, _, _) = w.send("DELETE", &format!("{entries}/127.0.0.1"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(answer("a.test"), "unknown");
    let (status, _, _) = w.send("GET", &format!("{entries}/127.0.0.1"), None);
    assert_eq!(status, StatusCode::NOT_FOUND);
}

const TLS: &str = "# _version=1
global
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
    bind 127.0.0.1:@TLS@ ssl crt-list @DIR@/list.txt
    http-request track-sc0 src table counters
    http-request return status 200 content-type text/plain string hello-from-app

backend counters
    stick-table type ip size 1k expire 60s store gpc0,conn_cnt,http_req_rate(10s)
";

#[test]
fn certificates_crt_lists_and_stick_tables() {
    let tls_port = free_port();
    let site = tls_file("server.pem") + &tls_file("server.key");
    let w = World::start_prepared(
        &TLS.replace("@TLS@", &tls_port.to_string()),
        &["--ssl-certs-dir", "/etc/haplane-test-certs"],
        |dir| {
            std::fs::write(dir.join("site.pem"), &site).unwrap();
            std::fs::write(
                dir.join("list.txt"),
                format!("{}\n", dir.join("site.pem").display()),
            )
            .unwrap();
        },
    );
    let ssl = "/services/haproxy/runtime/ssl_certs";
    let (status, list, _) = w.send("GET", ssl, None);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["storage_name"], "site.pem");
    let (status, cert, _) = w.send("GET", &format!("{ssl}/site.pem"), None);
    assert_eq!(status, StatusCode::OK, "{cert}");
    assert_eq!(cert["subject"], "/CN=127.0.0.1");
    assert_eq!(cert["issuers"], "/CN=haplane test CA");
    assert_eq!(cert["status"], "Used");
    assert!(cert["not_after"].as_str().unwrap().ends_with('Z'));
    let (status, _, _) = w.send("GET", &format!("{ssl}/nope.pem"), None);
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, text) = upload(&w, "POST", ssl, "new.pem", &site);
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let (_, cert, _) = w.send("GET", &format!("{ssl}/new.pem"), None);
    assert_eq!(cert["storage_name"], "new.pem");
    assert_eq!(cert["status"], "Unused");
    let (status, text) = upload(&w, "POST", ssl, "bad.pem", "not a certificate");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let (status, text) = upload(&w, "PUT", &format!("{ssl}/site.pem"), "site.pem", &site);
    assert_eq!(status, StatusCode::OK, "{text}");

    let lists = "/services/haproxy/runtime/ssl_crt_lists";
    let (_, all, _) = w.send("GET", lists, None);
    assert!(all[0]["file"].as_str().unwrap().ends_with("list.txt"));
    let (status, e, _) = w.send(
        "POST",
        &format!("{lists}/entries?name=list.txt"),
        Some(json!({"file": "new.pem", "ssl_bind_config": "alpn h2", "sni_filter": ["new.test"]})),
    );
    assert_eq!(status, StatusCode::CREATED, "{e}");
    let (_, entries, _) = w.send("GET", &format!("{lists}/entries?name=list.txt"), None);
    assert_eq!(entries.as_array().unwrap().len(), 2);
    assert_eq!(entries[1]["line_number"], 2);
    assert_eq!(entries[1]["sni_filter"], json!(["new.test"]));
    assert_eq!(entries[1]["ssl_bind_config"], "alpn h2");
    // In use by the crt-list: HAProxy refuses to delete it.
    let (status, e, _) = w.send("DELETE", &format!("{ssl}/new.pem"), None);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let (status, _, _) = w.send(
        "DELETE",
        &format!("{lists}/entries?name=list.txt&cert_file=new.pem&line_number=2"),
        None,
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = w.send("DELETE", &format!("{ssl}/new.pem"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);

    let cas = "/services/haproxy/runtime/ssl_ca_files";
    let (status, text) = upload(&w, "POST", cas, "ca.pem", &tls_file("ca.pem"));
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let (_, ca, _) = w.send("GET", &format!("{cas}/ca.pem"), None);
    assert_eq!(ca["count"], "1 certificate(s)");
    let (status, entry, _) = w.send("GET", &format!("{cas}/ca.pem/entries/1"), None);
    assert_eq!(status, StatusCode::OK, "{entry}");
    assert_eq!(entry["subject"], "/CN=haplane test CA");
    let (status, text) = upload(
        &w,
        "POST",
        &format!("{cas}/ca.pem/entries"),
        "more.pem",
        &tls_file("server.pem"),
    );
    // `add ssl ca-file` came with HAProxy 2.7.
    let line = haplane_haproxy::version(std::path::Path::new("haproxy")).unwrap();
    if haplane_haproxy::major_minor(&line).unwrap() < (2, 7) {
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{text}");
    } else {
        assert_eq!(status, StatusCode::CREATED, "{text}");
        let (_, ca, _) = w.send("GET", &format!("{cas}/ca.pem"), None);
        assert_eq!(ca["count"], "2 certificate(s)");
        let (status, entry, _) = w.send("GET", &format!("{cas}/ca.pem/entries/2"), None);
        assert_eq!(status, StatusCode::OK, "{entry}");
        assert_ne!(entry["subject"], "/CN=haplane test CA");
    }
    let (status, _, _) = w.send("DELETE", &format!("{cas}/ca.pem"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);

    let crls = "/services/haproxy/runtime/ssl_crl_files";
    let (status, text) = upload(&w, "POST", crls, "revoked.crl", &tls_file("crl.pem"));
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let (_, crl, _) = w.send("GET", &format!("{crls}/revoked.crl"), None);
    assert_eq!(crl[0]["issuer"], "/CN=haplane CRL test CA");
    assert_eq!(crl[0]["revoked_certificates"].as_array().unwrap().len(), 1);
    let (status, _, _) = w.send("DELETE", &format!("{crls}/revoked.crl"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Stick tables.
    let tables = "/services/haproxy/runtime/stick_tables";
    let (_, all, _) = w.send("GET", tables, None);
    let table = all
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "counters")
        .unwrap()
        .clone();
    assert_eq!(
        (table["type"].as_str(), table["size"].as_u64()),
        (Some("ip"), Some(1024))
    );
    assert!(table["fields"]
        .as_array()
        .unwrap()
        .contains(&json!({"field": "http_req_rate", "type": "rate", "period": 10000})));
    let (status, e, _) = w.send(
        "POST",
        &format!("{tables}/counters/entries"),
        Some(json!({"key": "192.0.2.7", "data_type": {"gpc0": 5}})),
    );
    assert_eq!(status, StatusCode::NO_CONTENT, "{e}");
    let (_, entries, _) = w.send(
        "GET",
        &format!("{tables}/counters/entries?key=192.0.2.7"),
        None,
    );
    assert_eq!(entries[0]["key"], "192.0.2.7");
    assert_eq!(entries[0]["gpc0"], 5);
    let (_, none, _) = w.send(
        "GET",
        &format!("{tables}/counters/entries?filter=data.gpc0%20gt%209"),
        None,
    );
    assert_eq!(none, json!([]));
    let (status, e, _) = w.send(
        "POST",
        &format!("{tables}/counters/entries"),
        Some(json!({"key": "192.0.2.7", "data_type": {"nope": 5}})),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let (status, _, _) = w.send("GET", &format!("{tables}/nope"), None);
    assert_eq!(status, StatusCode::NOT_FOUND);
}
