//! Every typed command against a real HAProxy 2.6 in master-worker mode,
//! over the stats socket and through the master CLI.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use haplane_haproxy::MasterWorker;
use haplane_runtime::{
    AdminState, CrtListEntry, Endpoint, OperationalState, Patterns, Refusal, Runtime, RuntimeError,
    ServerChange, SslStore, TableFilter,
};

struct Setup {
    dir: tempfile::TempDir,
    _haproxy: MasterWorker,
    stats: Runtime,
    master: Runtime,
}

fn tls_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../haplane/tests/tls")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("hosts.map"), "a.example.com be\nb.example.com app\n").unwrap();
    std::fs::write(d.join("block.acl"), "10.0.0.0/8\n").unwrap();
    let tls = tls_dir();
    let mut pem = std::fs::read_to_string(tls.join("server.pem")).unwrap();
    pem.push_str(&std::fs::read_to_string(tls.join("server.key")).unwrap());
    std::fs::write(d.join("site.pem"), &pem).unwrap();
    std::fs::write(
        d.join("list.txt"),
        format!("{}\n", d.join("site.pem").display()),
    )
    .unwrap();
    let (http, https) = (free_port(), free_port());
    let config = format!(
        "global
    stats socket {d}/stats.sock level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{http}
    bind 127.0.0.1:{https} ssl crt-list {d}/list.txt
    http-request deny if {{ src -f {d}/block.acl }}
    http-request track-sc0 src table be
    use_backend %[req.hdr(host),lower,map({d}/hosts.map,be)]
    default_backend be
backend be
    balance roundrobin
    stick-table type ip size 1k expire 30s store conn_cnt,http_req_rate(10s),gpc0
    server s1 127.0.0.1:{http} weight 10
backend app
    http-request return status 200 content-type text/plain string ok
",
        d = d.display()
    );
    let cfg = d.join("haproxy.cfg");
    std::fs::write(&cfg, config).unwrap();
    let haproxy = MasterWorker::start(Path::new("haproxy"), &cfg, &d.join("master.sock"))
        .expect("HAProxy starts");
    let stats = Runtime::stats_socket(Endpoint::Unix(d.join("stats.sock")));
    let master = Runtime::via_master(d.join("master.sock"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats.info().await.is_err() || master.info().await.is_err() {
        assert!(Instant::now() < deadline, "the sockets answer");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Setup {
        dir,
        _haproxy: haproxy,
        stats,
        master,
    }
}

#[track_caller]
fn refusal(result: Result<impl std::fmt::Debug, RuntimeError>) -> (Refusal, String) {
    match result {
        Err(RuntimeError::Refused { kind, message, .. }) => (kind, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn info_stats_and_servers() {
    let s = start().await;
    for rt in [&s.stats, &s.master] {
        let info = rt.info().await.unwrap();
        assert!(info.iter().any(|(k, v)| k == "Name" && v == "HAProxy"));
        let rows = rt.stat().await.unwrap();
        let server = rows
            .iter()
            .find(|r| r.proxy == "be" && r.name == "s1")
            .unwrap();
        assert_eq!(server.kind(), "server");
        assert_eq!(server.get("weight"), Some("10"));
        assert_eq!(rt.backends().await.unwrap(), vec!["be", "app"]);
    }
    let rt = &s.stats;
    rt.set_server(
        "be",
        "s1",
        &[
            ServerChange::Weight(42),
            ServerChange::State(AdminState::Drain),
            ServerChange::Address("127.0.0.2".into(), Some(8080)),
        ],
    )
    .await
    .unwrap();
    let state = rt.server_state("be", "s1").await.unwrap();
    assert_eq!(state.weight, 42);
    assert_eq!(state.initial_weight, 10);
    assert_eq!(state.admin, AdminState::Drain);
    assert_eq!(state.address, "127.0.0.2");
    assert_eq!(state.port, Some(8080));
    rt.set_server("be", "s1", &[ServerChange::Health(OperationalState::Down)])
        .await
        .unwrap();
    assert_eq!(
        rt.server_state("be", "s1").await.unwrap().operational,
        OperationalState::Down
    );

    // HAProxy's own words come back, classified.
    let (kind, message) = refusal(
        rt.set_server("be", "s1", &[ServerChange::Weight(300)])
            .await,
    );
    assert_eq!(kind, Refusal::Invalid);
    assert!(message.contains("between 0 and 256"), "{message}");
    let (kind, _) = refusal(
        rt.set_server("be", "nope", &[ServerChange::Weight(3)])
            .await,
    );
    assert_eq!(kind, Refusal::NotFound);
    let (kind, message) = refusal(
        rt.set_server(
            "be",
            "s1",
            &[ServerChange::Address("not-an-ip".into(), None)],
        )
        .await,
    );
    assert_eq!(kind, Refusal::Invalid);
    assert!(message.contains("Invalid addr"), "{message}");

    // Dynamic servers: add (in maintenance), enable, delete after maint.
    rt.add_server("be", "dyn1", "127.0.0.1:9 weight 7")
        .await
        .unwrap();
    let (kind, _) = refusal(rt.add_server("be", "dyn1", "127.0.0.1:9").await);
    assert_eq!(kind, Refusal::AlreadyExists);
    assert_eq!(
        rt.server_state("be", "dyn1").await.unwrap().admin,
        AdminState::Maint
    );
    rt.toggle(true, "server", "be", "dyn1").await.unwrap();
    assert_eq!(
        rt.server_state("be", "dyn1").await.unwrap().admin,
        AdminState::Ready
    );
    refusal(rt.del_server("be", "dyn1").await);
    rt.set_server("be", "dyn1", &[ServerChange::State(AdminState::Maint)])
        .await
        .unwrap();
    rt.del_server("be", "dyn1").await.unwrap();
    let (kind, _) = refusal(rt.server_state("be", "dyn1").await);
    assert_eq!(kind, Refusal::NotFound);
}

#[tokio::test]
async fn maps_and_acls() {
    let s = start().await;
    let rt = &s.stats;
    let map = s.dir.path().join("hosts.map").display().to_string();
    let files = rt.pattern_files(Patterns::Map).await.unwrap();
    let file = files.iter().find(|f| f.file == map).unwrap();
    assert_eq!(file.entries, Some(2));
    let entries = rt.pattern_entries(Patterns::Map, &map).await.unwrap();
    assert_eq!(entries[1].key, "b.example.com");
    assert_eq!(entries[1].value.as_deref(), Some("app"));
    // By id too.
    let by_id = rt
        .pattern_entries(Patterns::Map, &format!("#{}", file.id))
        .await
        .unwrap();
    assert_eq!(by_id, entries);

    // Pipelined adds, with awkward keys and values.
    let adds: Vec<(String, Option<String>)> = (0..50)
        .map(|i| (format!("host{i}.test"), Some(format!("be{i}"))))
        .chain([("with space;semi".to_owned(), Some("v a;l".to_owned()))])
        .collect();
    rt.add_patterns(Patterns::Map, &map, None, &adds)
        .await
        .unwrap();
    let entries = rt.pattern_entries(Patterns::Map, &map).await.unwrap();
    assert_eq!(entries.len(), 53);
    let odd = entries.last().unwrap();
    assert_eq!(odd.key, "with");
    assert_eq!(odd.value.as_deref(), Some("space;semi v a;l"));
    rt.set_map(&map, "host3.test", "other").await.unwrap();
    rt.set_map(&map, &odd.id, "by-ref").await.unwrap();
    rt.del_pattern(Patterns::Map, &map, "host4.test")
        .await
        .unwrap();
    let (kind, _) = refusal(rt.del_pattern(Patterns::Map, &map, "host4.test").await);
    assert_eq!(kind, Refusal::NotFound);
    let entries = rt.pattern_entries(Patterns::Map, &map).await.unwrap();
    assert_eq!(entries.len(), 52);
    assert!(entries
        .iter()
        .any(|e| e.key == "host3.test" && e.value.as_deref() == Some("other")));

    // Atomic replacement through a prepared version.
    rt.replace_patterns(
        Patterns::Map,
        &map,
        &[("only.test".into(), Some("be".into()))],
    )
    .await
    .unwrap();
    let entries = rt.pattern_entries(Patterns::Map, &map).await.unwrap();
    assert_eq!(entries.len(), 1);
    rt.clear_patterns(Patterns::Map, &map, None).await.unwrap();
    assert!(rt
        .pattern_entries(Patterns::Map, &map)
        .await
        .unwrap()
        .is_empty());
    let (kind, _) = refusal(rt.pattern_entries(Patterns::Map, "/no/such.map").await);
    assert_eq!(kind, Refusal::NotFound);

    let acl = s.dir.path().join("block.acl").display().to_string();
    rt.add_patterns(Patterns::Acl, &acl, None, &[("192.0.2.1".into(), None)])
        .await
        .unwrap();
    let entries = rt.pattern_entries(Patterns::Acl, &acl).await.unwrap();
    assert_eq!(
        entries.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        vec!["10.0.0.0/8", "192.0.2.1"]
    );
    assert_eq!(entries[0].value, None);
    rt.del_pattern(Patterns::Acl, &acl, &entries[0].id)
        .await
        .unwrap();
    assert_eq!(
        rt.pattern_entries(Patterns::Acl, &acl).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn stick_tables() {
    let s = start().await;
    let rt = &s.master;
    let tables = rt.tables().await.unwrap();
    assert_eq!(tables[0].name, "be");
    assert_eq!((tables[0].kind.as_str(), tables[0].size), ("ip", 1024));
    rt.set_table("be", "192.0.2.7", &[("gpc0".into(), "5".into())])
        .await
        .unwrap();
    let (table, entries) = rt.table("be", &TableFilter::default()).await.unwrap();
    assert_eq!(table.used, 1);
    assert_eq!(entries[0].key, "192.0.2.7");
    assert!(entries[0]
        .data
        .contains(&("gpc0".to_owned(), None, "5".to_owned())));
    assert!(entries[0]
        .data
        .iter()
        .any(|(n, p, _)| n == "http_req_rate" && *p == Some(10000)));
    let filter = TableFilter {
        key: None,
        data: vec![("gpc0".into(), "gt".into(), "9".into())],
    };
    assert!(rt.table("be", &filter).await.unwrap().1.is_empty());
    let (kind, message) = refusal(
        rt.set_table("be", "192.0.2.7", &[("nope".into(), "1".into())])
            .await,
    );
    assert_eq!(kind, Refusal::Invalid);
    assert!(message.contains("Unknown data type"), "{message}");
    rt.clear_table(
        "be",
        &TableFilter {
            key: Some("192.0.2.7".into()),
            data: vec![],
        },
    )
    .await
    .unwrap();
    assert!(rt
        .table("be", &TableFilter::default())
        .await
        .unwrap()
        .1
        .is_empty());
    let (kind, _) = refusal(rt.table("nope", &TableFilter::default()).await);
    assert_eq!(kind, Refusal::NotFound);
}

#[tokio::test]
async fn certificates_ca_files_and_crt_lists() {
    let s = start().await;
    let rt = &s.stats;
    let d = s.dir.path();
    let site = d.join("site.pem").display().to_string();
    let certs = rt.ssl_files(SslStore::Cert).await.unwrap();
    assert_eq!(certs[0].name, site);
    let details = rt.ssl_details(SslStore::Cert, &site).await.unwrap();
    assert_eq!(details.get("Status"), Some("Used"));
    assert_eq!(details.get("Subject"), Some("/CN=127.0.0.1"));

    let pem = std::fs::read_to_string(d.join("site.pem")).unwrap();
    let new = d.join("new.pem").display().to_string();
    rt.ssl_new(SslStore::Cert, &new).await.unwrap();
    let (kind, _) = refusal(rt.ssl_new(SslStore::Cert, &new).await);
    assert_eq!(kind, Refusal::AlreadyExists);
    rt.ssl_replace(SslStore::Cert, &new, &pem).await.unwrap();
    assert_eq!(
        rt.ssl_details(SslStore::Cert, &new)
            .await
            .unwrap()
            .get("Status"),
        Some("Unused")
    );
    let list = d.join("list.txt").display().to_string();
    assert_eq!(rt.crt_lists().await.unwrap(), vec![list.clone()]);
    rt.crt_list_add(
        &list,
        &CrtListEntry {
            file: new.clone(),
            line: None,
            options: Some("alpn h2".into()),
            filters: vec!["new.test".into()],
        },
    )
    .await
    .unwrap();
    let entries = rt.crt_list_entries(&list).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].file, new);
    assert_eq!(entries[1].line, Some(2));
    assert_eq!(entries[1].filters, vec!["new.test"]);
    refusal(rt.ssl_delete(SslStore::Cert, &new).await);
    rt.crt_list_delete(&list, &new, Some(2)).await.unwrap();
    rt.ssl_delete(SslStore::Cert, &new).await.unwrap();
    let (kind, _) = refusal(rt.ssl_delete(SslStore::Cert, &new).await);
    assert_eq!(kind, Refusal::NotFound);
    let (kind, _) = refusal(
        rt.ssl_replace(
            SslStore::Cert,
            &d.join("zz.pem").display().to_string(),
            &pem,
        )
        .await,
    );
    assert_eq!(kind, Refusal::NotFound);

    let ca_pem = std::fs::read_to_string(tls_dir().join("ca.pem")).unwrap();
    let ca = d.join("ca.pem").display().to_string();
    rt.ssl_new(SslStore::CaFile, &ca).await.unwrap();
    rt.ssl_replace(SslStore::CaFile, &ca, &ca_pem)
        .await
        .unwrap();
    let files = rt.ssl_files(SslStore::CaFile).await.unwrap();
    assert!(files.iter().any(|f| f.name == ca && f.count == Some(1)));
    let details = rt.ssl_details(SslStore::CaFile, &ca).await.unwrap();
    assert_eq!(details.certificates.len(), 1);
    rt.ssl_delete(SslStore::CaFile, &ca).await.unwrap();

    let crl = d.join("x.crl").display().to_string();
    rt.ssl_new(SslStore::CrlFile, &crl).await.unwrap();
    assert!(rt
        .ssl_files(SslStore::CrlFile)
        .await
        .unwrap()
        .iter()
        .any(|f| f.name == crl));
    rt.ssl_delete(SslStore::CrlFile, &crl).await.unwrap();
}

#[tokio::test]
async fn connections_are_reused_and_survive_a_closed_one() {
    let s = start().await;
    let rt = &s.stats;
    // Many commands in one pipeline, answers in order.
    let commands: Vec<String> = (0..200)
        .map(|i| format!("set server be/s1 weight {}", i % 100))
        .chain(["get weight be/s1".to_owned()])
        .collect();
    let answers = rt.execute_all(&commands).await.unwrap();
    assert_eq!(answers.len(), 201);
    assert!(answers[..200].iter().all(|a| a.is_empty()));
    assert!(
        answers[200].starts_with("99 (initial 10)"),
        "{}",
        answers[200]
    );
    // HAProxy closes the pooled connection (`quit`): the next command
    // opens a new one.
    assert_eq!(rt.execute("quit").await.ok(), None);
    rt.info().await.unwrap();
    rt.reset();
    rt.info().await.unwrap();
}
