//! The engine's own counters, shown by `GET /v3/metrics` in Prometheus'
//! text format: commits, validations and their duration, reloads by
//! outcome, changes applied through the runtime API, open transactions.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the duration buckets, in seconds.
pub const BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A histogram of durations.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations at or under each bound of [`BUCKETS`].
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// Its lines: `NAME_bucket{LABELS,le="..."}`, `NAME_sum`, `NAME_count`.
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = |l: &str| match l.is_empty() {
            true => String::new(),
            false => format!("{{{l}}}"),
        };
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// Counters by label value.
#[derive(Debug, Default)]
struct Counts(Mutex<BTreeMap<&'static str, u64>>);

impl Counts {
    fn add(&self, label: &'static str) {
        *self
            .0
            .lock()
            .expect("metrics lock")
            .entry(label)
            .or_default() += 1;
    }

    fn render(&self, out: &mut String, name: &str, label: &str, all: &[&'static str]) {
        let counts = self.0.lock().expect("metrics lock");
        for value in all {
            let n = counts.get(value).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
        }
    }
}

/// The engine's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    commits: AtomicU64,
    validations: Counts,
    validation_time: Histogram,
    reloads: Counts,
    runtime_changes: AtomicU64,
}

impl Metrics {
    pub(crate) fn committed(&self) {
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    /// A validation that took `took`: `accepted`, `refused` or `error`.
    pub(crate) fn validated(&self, outcome: &'static str, took: Duration) {
        self.validations.add(outcome);
        self.validation_time.observe(took);
    }

    pub(crate) fn reloaded(&self, succeeded: bool) {
        self.reloads
            .add(if succeeded { "succeeded" } else { "failed" });
    }

    pub(crate) fn applied_at_runtime(&self) {
        self.runtime_changes.fetch_add(1, Ordering::Relaxed);
    }

    /// The engine's part of `/v3/metrics`, with `open` transactions.
    pub fn render(&self, out: &mut String, open: usize) {
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            out,
            "haplane_commits_total",
            "Changes committed to the configuration files.",
            self.commits.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP haplane_validations_total Checks of a configuration by haproxy -c (or the validate command), by outcome.\n# TYPE haplane_validations_total counter"
        );
        self.validations.render(
            out,
            "haplane_validations_total",
            "outcome",
            &["accepted", "refused", "error"],
        );
        let _ = writeln!(
            out,
            "# HELP haplane_validation_duration_seconds How long a check took.\n# TYPE haplane_validation_duration_seconds histogram"
        );
        self.validation_time
            .render(out, "haplane_validation_duration_seconds", "");
        let _ = writeln!(
            out,
            "# HELP haplane_reloads_total Reloads of HAProxy, by outcome.\n# TYPE haplane_reloads_total counter"
        );
        self.reloads.render(
            out,
            "haplane_reloads_total",
            "outcome",
            &["succeeded", "failed"],
        );
        counter(
            out,
            "haplane_runtime_changes_total",
            "Committed changes applied through the runtime API, with no reload.",
            self.runtime_changes.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP haplane_open_transactions Transactions in progress.\n# TYPE haplane_open_transactions gauge\nhaplane_open_transactions {open}"
        );
    }
}
