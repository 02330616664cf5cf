//! `GET /v3/metrics`: the API's own figures in Prometheus' text format:
//! requests by method, route and status, their latency by route, and the
//! engine's counters (commits, validations, reloads, runtime changes,
//! open transactions).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use haplane_dataplane::Histogram;

use crate::AppState;

pub fn routes() -> crate::Routes {
    crate::Routes::default().route("/metrics", get(metrics))
}

/// The route a request matched, handed from inside the router to the
/// outer layer that counts it.
#[derive(Debug, Clone)]
pub(crate) struct Route(pub String);

#[derive(Debug, Default)]
struct Requests {
    /// By method, route and status.
    counts: BTreeMap<(String, String, u16), u64>,
    /// By route.
    latency: BTreeMap<String, Arc<Histogram>>,
}

fn requests() -> &'static Mutex<Requests> {
    static REQUESTS: OnceLock<Mutex<Requests>> = OnceLock::new();
    REQUESTS.get_or_init(Mutex::default)
}

/// Marks the response with the route its request matched.
pub(crate) async fn tag_route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route(route));
    }
    response
}

/// Counts a request answered with `response` after `took`.
pub(crate) fn count(method: &str, response: &Response, took: Duration) {
    let route = response
        .extensions()
        .get::<Route>()
        .map_or("unmatched", |r| r.0.as_str())
        .to_owned();
    let mut requests = requests().lock().expect("metrics lock");
    *requests
        .counts
        .entry((method.to_owned(), route.clone(), response.status().as_u16()))
        .or_default() += 1;
    let histogram = Arc::clone(requests.latency.entry(route).or_default());
    drop(requests);
    histogram.observe(took);
}

/// A label value as Prometheus reads it.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut out = String::new();
    {
        let requests = requests().lock().expect("metrics lock");
        let _ = writeln!(out, "# HELP haplane_http_requests_total Requests answered, by method, route and status.\n# TYPE haplane_http_requests_total counter");
        for ((method, route, status), n) in &requests.counts {
            let _ = writeln!(
                out,
                "haplane_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(method),
                label(route)
            );
        }
        let _ = writeln!(out, "# HELP haplane_http_request_duration_seconds How long requests took to answer, by route.\n# TYPE haplane_http_request_duration_seconds histogram");
        for (route, histogram) in &requests.latency {
            let labels = format!("route=\"{}\"", label(route));
            histogram.render(&mut out, "haplane_http_request_duration_seconds", &labels);
        }
    }
    state.dp.render_metrics(&mut out);
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
