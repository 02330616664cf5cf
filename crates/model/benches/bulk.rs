//! Bulk writes through the registry, on a file with one big backend and a
//! frontend with a long rule list: a full-section replace of the backend
//! (as GET returned it, then with every server changed) and a replace of
//! the whole rule list (likewise), against `haproxy -c` on the same file.
//!
//! Run: `cargo bench -p haplane-model --bench bulk` (add `-- --sizes
//! 1000,5000` for other sizes: N servers and 2N rules).

use std::path::Path;
use std::time::{Duration, Instant};

use haplane_cfg::Document;
use haplane_model::registry::{self, Place};
use serde_json::{Map, Value};

/// The allocator of the `haplane` binary, so that the benchmark measures
/// what it does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// The median time of `runs` calls of `f` on a fresh copy of `doc`.
fn time(doc: &Document, runs: usize, f: impl Fn(&mut Document)) -> Duration {
    let samples = (0..runs)
        .map(|_| {
            let mut copy = doc.clone();
            let start = Instant::now();
            f(&mut copy);
            start.elapsed()
        })
        .collect();
    median(samples)
}

fn haproxy_check(text: &str) -> Option<Duration> {
    let dir = tempfile::tempdir().ok()?;
    let target = dir.path().join("haproxy.cfg");
    let start = Instant::now();
    haplane_haproxy::check_bytes(Path::new("haproxy"), &target, text.as_bytes()).ok()?;
    Some(start.elapsed())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes = haplane_cfg::bench_sizes(&args, &[1000, 5000]);
    println!("| servers | rules | haproxy -c ms | full section, as read ms | full section, every server changed ms | ratio | rule list, as read ms | rule list, every rule changed ms | ratio |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let backends = registry::resource("backends").unwrap();
    let frontends = registry::resource("frontends").unwrap();
    let rules = registry::resource("http_request_rules").unwrap();
    for servers in sizes {
        let rule_count = servers * 2;
        let text = haplane_cfg::synthetic_bulk_config(servers, rule_count);
        let check = haproxy_check(&text);
        let doc = Document::parse(text.into_bytes());
        let section = Place {
            resource: backends,
            parent: None,
        };
        let full = registry::get(&doc, section, "big", true).unwrap();
        let mut changed = full.clone();
        if let Some(Value::Object(by_name)) = changed.get_mut("servers") {
            for server in by_name.values_mut() {
                server["weight"] = Value::from(20);
            }
        }
        let list = Place {
            resource: rules,
            parent: Some((frontends, "f")),
        };
        let items = registry::list(&doc, list, false).unwrap();
        let changed_items: Vec<Map<String, Value>> = items
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.insert("hdr_format".into(), Value::from("changed"));
                r
            })
            .collect();
        let runs = 5;
        let same = time(&doc, runs, |d| {
            registry::replace(d, section, "big", &full, true).unwrap()
        });
        let all = time(&doc, runs, |d| {
            registry::replace(d, section, "big", &changed, true).unwrap()
        });
        let rules_same = time(&doc, runs, |d| {
            registry::replace_all(d, list, &items).unwrap()
        });
        let rules_all = time(&doc, runs, |d| {
            registry::replace_all(d, list, &changed_items).unwrap()
        });
        let ratio = |d: Duration| match check {
            Some(c) => format!("{:.2}", d.as_secs_f64() / c.as_secs_f64()),
            None => "-".into(),
        };
        println!(
            "| {servers} | {rule_count} | {} | {} | {} | {} | {} | {} | {} |",
            check.map_or("-".into(), ms),
            ms(same),
            ms(all),
            ratio(all),
            ms(rules_same),
            ms(rules_all),
            ratio(rules_all),
        );
    }
}
