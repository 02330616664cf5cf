//! API benchmark on the generated 10,000 backends x 10 servers file:
//! server-side time of `GET` one server and of listing one backend's
//! servers, the cost of a committed one-server change against a bare
//! `haproxy -c` on the same file, the first listing after a change, 50
//! writers at once (group commit), a transaction of 1,000 additions and
//! its commit, resident memory, and start-up time.
//!
//! Run: `cargo bench -p haplane --bench api` (add `-- --backends N` for
//! another size).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use haplane_cfg::{synthetic_config, SectionKind};
use haplane_dataplane::{ReloadMode, Target};
use haplane_model::ChildKind;

mod common;
use common::{haproxy_check, median, ms, send};

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

async fn time_get(app: &axum::Router, uri: &str, runs: usize) -> Duration {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (status, _, _, took) = send(app, "GET", uri, None, &[]).await;
        samples.push(took);
        assert_eq!(status, 200, "{uri}");
    }
    median(samples)
}

fn startup_ms() -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("haproxy.cfg");
    std::fs::write(
        &config,
        "global\n    maxconn 10\n\nuserlist api\n    user admin insecure-password pw\n",
    )
    .unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_haplane"))
        .args([
            "-c",
            config.to_str().unwrap(),
            "-u",
            "api",
            "--port",
            &port.to_string(),
        ])
        .args(["-t", dir.path().join("t").to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let elapsed = loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s
                .write_all(b"GET /v3/health HTTP/1.0\r\nAuthorization: Basic YWRtaW46cHc=\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") {
                break start.elapsed();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "haplane did not answer"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    elapsed
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backends: usize = args
        .iter()
        .position(|a| a == "--backends")
        .and_then(|i| args.get(i + 1))
        .map_or(10_000, |n| n.parse().expect("--backends takes a number"));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("haproxy.cfg");
    let text = synthetic_config(backends, 10);
    let size = text.len() as u64;
    std::fs::write(&config, &text).unwrap();
    drop(text);

    let rss_before = rss_bytes();
    let (dp, app) = common::app(&config, dir.path());
    let middle = backends / 2;
    let one = format!("/v3/services/haproxy/configuration/backends/be_{middle}/servers/srv3");
    let list = format!("/v3/services/haproxy/configuration/backends/be_{middle}/servers");
    let get_one = time_get(&app, &one, 200).await;

    let list_all = time_get(&app, &list, 200).await;
    let rules = "/v3/services/haproxy/configuration/frontends/fe_main/backend_switching_rules";
    let list_rules = time_get(&app, rules, 50).await;
    let rss = rss_bytes().saturating_sub(rss_before);

    // The same list computed on every request: a transaction's document
    // is read without the snapshot's memo.
    let transaction = dp.start_transaction(dp.snapshot().version).unwrap();
    let list_rules_uncached = time_get(
        &app,
        &format!("{rules}?transaction_id={}", transaction.id),
        20,
    )
    .await;
    dp.delete_transaction(&transaction.id).unwrap();

    // A committed one-server change (validated with haproxy -c, written),
    // interleaved with bare `haproxy -c` runs on the same file.
    let mut commits = Vec::new();
    let mut checks = Vec::new();
    for weight in 1..=9 {
        let version = dp.snapshot().version;
        let start = Instant::now();
        dp.edit(
            Target::Live {
                version: Some(version),
                reload: ReloadMode::Skip,
            },
            move |doc| {
                let backend = format!("be_{middle}");
                let mut server = haplane_model::get_child(
                    doc,
                    SectionKind::Backend,
                    &backend,
                    ChildKind::Server,
                    "srv3",
                )?;
                server.insert("weight".into(), serde_json::json!(weight));
                haplane_model::replace_child(
                    doc,
                    SectionKind::Backend,
                    &backend,
                    ChildKind::Server,
                    "srv3",
                    &server,
                )
            },
        )
        .await
        .unwrap();
        commits.push(start.elapsed());
        checks.push(haproxy_check(&config));
    }
    // Pairs taken one after the other see the same machine: the median of
    // their ratios is steadier than the ratio of the medians.
    let mut ratios: Vec<f64> = commits
        .iter()
        .zip(&checks)
        .map(|(c, h)| c.as_secs_f64() / h.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    let commit = median(commits);
    let check = median(checks);

    // The first listing after a change: the snapshot's memo is new.
    let first_list = time_get(&app, &list, 1).await;

    // Group commit: 50 clients add 50 servers at once, each with
    // `If-None-Match: *` and no version; wall time until all are answered.
    let group_start = Instant::now();
    let writers: Vec<_> = (0..50)
        .map(|i| {
            let app = app.clone();
            let uri = format!(
                "/v3/services/haproxy/configuration/backends/be_{}/servers?skip_reload=true",
                i * backends / 50
            );
            tokio::spawn(async move {
                let body = format!(
                    r#"{{"name": "added{i}", "address": "127.0.0.1", "port": {}}}"#,
                    30000 + i
                );
                let headers = [("if-none-match", "*")];
                let (status, headers, _, _) = send(&app, "POST", &uri, Some(body), &headers).await;
                (status, headers.get("configuration-version").cloned())
            })
        })
        .collect();
    let mut group_versions = std::collections::BTreeSet::new();
    for writer in writers {
        let (status, version) = writer.await.unwrap();
        assert_eq!(status, 201);
        group_versions.insert(version.map(|v| v.to_str().unwrap_or_default().to_owned()));
    }
    let group = group_start.elapsed();

    // Transactions of 1,000 server additions through the API: the time of
    // the additions, then of the commit (one `haproxy -c`), each commit
    // paired with a bare `haproxy -c` of the file it wrote.
    let mut additions = Vec::new();
    let mut commit_ratios = Vec::new();
    let mut transaction_commits = Vec::new();
    for round in 0..3 {
        let transaction = dp.start_transaction(dp.snapshot().version).unwrap();
        let start = Instant::now();
        for i in 0..1000 {
            let uri = format!(
                "/v3/services/haproxy/configuration/backends/be_{}/servers?transaction_id={}",
                i * backends / 1000,
                transaction.id
            );
            let body = format!(
                r#"{{"name": "tx{round}_{i}", "address": "127.0.0.1", "port": {}}}"#,
                20000 + i
            );
            let (status, ..) = send(&app, "POST", &uri, Some(body), &[]).await;
            assert_eq!(status, 202);
        }
        additions.push(start.elapsed());
        let uri = format!(
            "/v3/services/haproxy/transactions/{}?skip_reload=true",
            transaction.id
        );
        let (status, _, _, commit) = send(&app, "PUT", &uri, None, &[]).await;
        assert!(status.is_success(), "{status}");
        commit_ratios.push(commit.as_secs_f64() / haproxy_check(&config).as_secs_f64());
        transaction_commits.push(commit);
    }
    commit_ratios.sort_by(f64::total_cmp);
    let transaction_ratio = commit_ratios[commit_ratios.len() / 2];
    let additions = median(additions);
    let transaction_commit = median(transaction_commits);
    let startup = median((0..5).map(|_| startup_ms()).collect());

    println!("| backends | file MB | GET one server ms | list 10 servers ms | first list after a change ms | commit ms | haproxy -c ms | commit / haproxy -c | 50 writers at once ms (versions) | 50 writers / haproxy -c | RSS MB | RSS / file | start-up ms | list all rules of the big frontend ms | the same, computed each time ms | 1,000 additions in a transaction ms | its commit ms | its commit / haproxy -c |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {backends} | {:.1} | {} | {} | {} | {} | {} | {:.3} | {} ({}) | {:.2} | {:.1} | {:.2}x | {} | {} | {} | {} | {} | {:.2} |",
        size as f64 / 1e6,
        ms(get_one),
        ms(list_all),
        ms(first_list),
        ms(commit),
        ms(check),
        ratio,
        ms(group),
        group_versions.len(),
        group.as_secs_f64() / check.as_secs_f64(),
        rss as f64 / 1e6,
        rss as f64 / size as f64,
        ms(startup),
        ms(list_rules),
        ms(list_rules_uncached),
        ms(additions),
        ms(transaction_commit),
        transaction_ratio,
    );
}
