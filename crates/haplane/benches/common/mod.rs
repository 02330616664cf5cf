//! What the API benchmarks share: the router on a configuration, requests
//! through it, bare `haproxy -c` runs, and how times are summed up.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use haplane_api::{AppState, Users};
use haplane_dataplane::{Dataplane, Settings};
use tower::ServiceExt;

/// The allocator of the `haplane` binary, so that the benchmarks measure
/// what it does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Basic credentials of the one user, `admin:pw`.
pub const AUTH: &str = "Basic YWRtaW46cHc=";

/// The engine on `config` (transactions and history in `dir`) and the
/// router in front of it, as the binary builds them.
pub fn app(config: &Path, dir: &Path) -> (Arc<Dataplane>, axum::Router) {
    let mut settings = Settings::new(config);
    settings.transaction_dir = dir.join("transactions");
    let dp = Dataplane::open(settings).unwrap();
    let state = Arc::new(AppState {
        dp: Arc::clone(&dp),
        users: Users::single("admin", "pw"),
        started: Instant::now(),
        maps_dir: std::env::temp_dir(),
        ssl_certs_dir: std::env::temp_dir(),
        general_storage_dir: std::env::temp_dir(),
        spoe_dir: std::env::temp_dir(),
        show_system_info: true,
        body_limit: haplane_api::BODY_LIMIT,
        fleet: None,
    });
    (dp, haplane_api::app(state))
}

/// One request through the router: its status, headers and body, and
/// the server-side time it took.
pub async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>, Duration) {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", AUTH);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap();
    let start = Instant::now();
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body)
        .await
        .unwrap()
        .to_bytes();
    (parts.status, parts.headers, bytes.to_vec(), start.elapsed())
}

/// A bare `haproxy -c -q` of `config`, timed.
pub fn haproxy_check(config: &Path) -> Duration {
    let start = Instant::now();
    let status = Command::new("haproxy")
        .args(["-c", "-q", "-f"])
        .arg(config)
        .status()
        .unwrap();
    assert!(status.success(), "haproxy -c refused {}", config.display());
    start.elapsed()
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}
