//! Parse and print benchmark on generated configurations, measured against
//! `haproxy -c` on the same file in the same run.
//!
//! Run: `cargo bench -p haplane-cfg --bench roundtrip` (add
//! `-- --sizes 1000,10000,100000` to choose the backend counts, and
//! `--haproxy-max N` to run `haproxy -c` only on files of at most N backends;
//! default 10000, because `haproxy -c` needs about 50 kB per server).

#![allow(unsafe_code)] // The counting allocator below is the only unsafe code.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use haplane_cfg::{synthetic_config, Document, SectionKind};

/// Counts live heap bytes and their peak, to measure a step's extra memory.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size > layout.size() {
                let grow = new_size - layout.size();
                let live = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    median(samples)
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Edits the first server of the middle backend and prints the file.
fn edit_one_server(doc: &Document, backends: usize) -> Vec<u8> {
    let mut doc = doc.clone();
    let name = format!("be_{}", backends / 2);
    let id = doc
        .find_section(SectionKind::Backend, &name)
        .expect("backend exists");
    let (index, _) = doc
        .section(id)
        .keyword_lines()
        .find(|(_, l)| l.words().first().is_some_and(|w| w.value == "server"))
        .expect("backend has servers");
    doc.replace_words(
        id,
        index,
        &[
            "server",
            "srv0",
            "10.9.9.9:8080",
            "check",
            "inter",
            "2s",
            "weight",
            "20",
            "maxconn",
            "500",
        ],
    );
    doc.to_bytes()
}

fn haproxy_check(path: &std::path::Path) -> Option<Duration> {
    let start = Instant::now();
    let out = Command::new("haproxy")
        .arg("-c")
        .arg("-q")
        .arg("-f")
        .arg(path)
        .output()
        .ok()?;
    let elapsed = start.elapsed();
    if !out.status.success() {
        eprintln!(
            "haproxy -c rejected {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(elapsed)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let sizes = haplane_cfg::bench_sizes(&args, &[1_000, 10_000, 100_000]);
    let haproxy_max: usize =
        value("--haproxy-max").map_or(10_000, |n| n.parse().expect("--haproxy-max takes a number"));
    let dir = std::env::temp_dir().join(format!("haplane-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    println!("| backends | lines | MB | parse ms | parse+print ms | peak extra / size | edit+print ms | haproxy -c ms | parse / haproxy -c |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &backends in &sizes {
        let text = synthetic_config(backends, 10);
        let lines = text.lines().count();
        let bytes: Arc<[u8]> = Arc::from(text.into_bytes());
        let size = bytes.len();
        let path = dir.join(format!("bench-{backends}.cfg"));
        std::fs::write(&path, &bytes).expect("write config");
        let runs = if backends >= 100_000 { 3 } else { 11 };

        // The round trip must hold before anything is timed.
        assert_eq!(&*Document::parse(Arc::clone(&bytes)).to_bytes(), &*bytes);

        let parse = time(runs, || Document::parse(Arc::clone(&bytes)));
        let round_trip = time(runs, || Document::parse(Arc::clone(&bytes)).to_bytes());

        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let printed = Document::parse(Arc::clone(&bytes)).to_bytes();
        let peak_extra = PEAK.load(Ordering::Relaxed) - base;
        drop(printed);

        let doc = Document::parse(Arc::clone(&bytes));
        let edit = time(runs, || edit_one_server(&doc, backends));
        drop(doc);

        let check = (backends <= haproxy_max)
            .then(|| haproxy_check(&path))
            .flatten();
        let (check_ms, ratio) = match check {
            Some(c) => (
                ms(c),
                format!("{:.1}%", 100.0 * parse.as_secs_f64() / c.as_secs_f64()),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {backends} | {lines} | {:.1} | {} | {} | {:.2}x | {} | {check_ms} | {ratio} |",
            size as f64 / 1e6,
            ms(parse),
            ms(round_trip),
            peak_extra as f64 / size as f64,
            ms(edit),
        );
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_dir(&dir);
}
