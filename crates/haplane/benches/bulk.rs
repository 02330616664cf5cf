//! Bulk writes through the API on a file with one backend of N servers and
//! a frontend with 2N `http-request` rules: a full-section `PUT` of the
//! backend and a `PUT` of the whole rule list, each as `GET` returned it
//! (a no-op: no validation, nothing written) and with every item changed
//! (validated by `haproxy -c`, written, kept in the history), each changed
//! one also without the time its own `haproxy -c` took (as the engine's
//! validation timer in `/v3/metrics` tells): what a bulk write adds to the
//! check.
//!
//! Run: `cargo bench -p haplane --bench bulk` (add `-- --sizes
//! 1000,5000,10000` for other sizes).

use std::time::Duration;

use haplane_cfg::synthetic_bulk_config;
use serde_json::Value;

mod common;
use common::{haproxy_check, median, ms, send};

const RUNS: usize = 5;

/// What one bulk write costs: as read, and changed, whole and beside the
/// `haproxy -c` it ran.
struct Figures {
    as_read: Duration,
    changed: Duration,
    added: Duration,
}

/// The time spent in `haproxy -c` so far, from `/v3/metrics`.
async fn validation_time(app: &axum::Router) -> Duration {
    let (status, _, text, _) = send(app, "GET", "/v3/metrics", None, &[]).await;
    assert_eq!(status, 200, "/v3/metrics");
    let text = String::from_utf8(text).unwrap();
    let seconds = text
        .lines()
        .find_map(|l| l.strip_prefix("haplane_validation_duration_seconds_sum "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .expect("the validation time is among the metrics");
    Duration::from_secs_f64(seconds)
}

/// `GET uri`, then `RUNS` `PUT`s to `put_uri` of what it returned (as
/// read), then `RUNS` of `change(body, round)`, each timed whole and
/// without the `haproxy -c` it ran (the engine's own validation timer).
async fn bulk_put(
    app: &axum::Router,
    uri: &str,
    put_uri: &str,
    change: impl Fn(&mut Value, usize),
) -> Figures {
    let version = |headers: &axum::http::HeaderMap| -> String {
        headers["configuration-version"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let (status, _, body, _) = send(app, "GET", uri, None, &[]).await;
    assert_eq!(status, 200, "{uri}");
    let mut body: Value = serde_json::from_slice(&body).unwrap();
    let version_uri = "/v3/services/haproxy/configuration/version";
    let (_, _, number, _) = send(app, "GET", version_uri, None, &[]).await;
    let mut current = String::from_utf8(number).unwrap().trim().to_owned();
    let put = |version: &str| format!("{put_uri}version={version}&skip_reload=true");
    let mut as_read = Vec::new();
    for _ in 0..RUNS {
        let (status, headers, _, took) =
            send(app, "PUT", &put(&current), Some(body.to_string()), &[]).await;
        assert!(status.is_success(), "{status}");
        assert_eq!(version(&headers), current, "a no-op is not a new version");
        as_read.push(took);
    }
    let mut changed = Vec::new();
    let mut added = Vec::new();
    for round in 0..RUNS {
        change(&mut body, round);
        let checked_before = validation_time(app).await;
        let (status, headers, answer, took) =
            send(app, "PUT", &put(&current), Some(body.to_string()), &[]).await;
        assert!(
            status.is_success(),
            "{status}: {}",
            String::from_utf8_lossy(&answer)
        );
        let checked = validation_time(app).await - checked_before;
        assert!(checked > Duration::ZERO, "a change is validated");
        current = version(&headers);
        changed.push(took);
        added.push(took.saturating_sub(checked));
    }
    Figures {
        as_read: median(as_read),
        changed: median(changed),
        added: median(added),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes = haplane_cfg::bench_sizes(&args, &[1000, 5000]);
    println!("| servers | rules | haproxy -c ms | full-section PUT as read ms | every server changed ms | added to haproxy -c ms | rule list PUT as read ms | every rule changed ms | added to haproxy -c ms |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for servers in sizes {
        let rules = servers * 2;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(&config, synthetic_bulk_config(servers, rules)).unwrap();
        let check = median((0..RUNS).map(|_| haproxy_check(&config)).collect());
        let (_dp, app) = common::app(&config, dir.path());
        let section = "/v3/services/haproxy/configuration/backends/big?full_section=true";
        let backend = bulk_put(&app, section, &format!("{section}&"), |body, round| {
            let servers = body["servers"].as_object_mut().expect("servers by name");
            for server in servers.values_mut() {
                server["weight"] = Value::from(20 + round);
            }
        })
        .await;
        let list = "/v3/services/haproxy/configuration/frontends/f/http_request_rules";
        let rules_put = bulk_put(&app, list, &format!("{list}?"), |body, round| {
            for rule in body.as_array_mut().expect("a list of rules") {
                rule["hdr_format"] = Value::from(format!("changed{round}"));
            }
        })
        .await;
        println!(
            "| {servers} | {rules} | {} | {} | {} | {} | {} | {} | {} |",
            ms(check),
            ms(backend.as_read),
            ms(backend.changed),
            ms(backend.added),
            ms(rules_put.as_read),
            ms(rules_put.changed),
            ms(rules_put.added),
        );
    }
}
