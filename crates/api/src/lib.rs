//! The HTTP API: Data Plane API v3 routes over the `dataplane` engine.
//!
//! [`app`] returns the router (tested with `oneshot`, no socket needed);
//! the binary serves it. Every route needs a user of the userlist; every
//! error is `{"code", "message"}`.

mod auth;
mod config;
mod console;
mod error;
mod fleet;
mod meta;
mod metrics;
mod params;
mod runtime;
mod runtime_patterns;
mod runtime_ssl;
mod runtime_tables;
mod services;
mod spec;
mod spec_runtime;
mod spoe;
mod storage;
mod validate;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use haplane_dataplane::Dataplane;

pub use auth::{ClientSubject, Users};
pub use error::ApiError;
pub use spec::specification;

/// Largest request body accepted by default (`--max-body-size`).
pub const BODY_LIMIT: usize = 1 << 30;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    pub dp: Arc<Dataplane>,
    pub users: Users,
    pub started: Instant,
    /// Where managed map files live (`--maps-dir`).
    pub maps_dir: std::path::PathBuf,
    /// Where certificates live (`--ssl-certs-dir`).
    pub ssl_certs_dir: std::path::PathBuf,
    /// Where general use files live (`--general-storage-dir`).
    pub general_storage_dir: std::path::PathBuf,
    /// Where SPOE files live (`--spoe-dir`).
    pub spoe_dir: std::path::PathBuf,
    /// `/v3/info` shows the system too (`-i/--show-system-info`).
    pub show_system_info: bool,
    /// Largest request body accepted, in bytes (`--max-body-size`).
    pub body_limit: usize,
    /// The fleet this node joined (`--fleet-etcd`).
    pub fleet: Option<Arc<haplane_fleet::Fleet>>,
}

/// A router that remembers its paths, so that tests can hold them
/// against the specification.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    router: Router<Arc<AppState>>,
    paths: Vec<String>,
}

impl Routes {
    /// Adds `methods` at `path`, as [`Router::route`] does.
    pub(crate) fn route(
        mut self,
        path: &str,
        methods: axum::routing::MethodRouter<Arc<AppState>>,
    ) -> Routes {
        self.paths.push(path.to_owned());
        self.router = self.router.route(path, methods);
        self
    }

    fn merge(mut self, other: Routes) -> Routes {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }
}

fn all_routes() -> Routes {
    Routes::default()
        .merge(meta::routes())
        .merge(services::routes())
        .merge(config::routes())
        .merge(runtime::routes())
        .merge(runtime_patterns::routes())
        .merge(runtime_ssl::routes())
        .merge(runtime_tables::routes())
        .merge(storage::routes())
        .merge(spoe::routes())
        .merge(fleet::routes())
        .merge(metrics::routes())
}

/// Every path the API routes under `/v3` (with `{param}` placeholders).
pub fn routed_paths() -> Vec<String> {
    all_routes().paths
}

/// The whole API under `/v3`.
pub fn app(state: Arc<AppState>) -> Router {
    let console = console::router(Arc::clone(&state));
    let v3 = all_routes()
        .router
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            validate::body,
        ))
        .route_layer(axum::middleware::from_fn(metrics::tag_route))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::require_user,
        ))
        .layer(DefaultBodyLimit::max(state.body_limit))
        .with_state(state);
    let routed = Router::new()
        .nest("/v3", v3)
        .merge(console)
        .fallback(|| async {
            ApiError::not_found("no such path; the API lives under /v3 (see /v3/specification)")
        })
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn(access_log));
    // `/v3/` is the list of endpoints as `/v3` is (the specification's
    // path `/`); a nested router matches only the second, so the first is
    // rewritten before routing.
    Router::new().fallback_service(tower::ServiceExt::map_request(
        routed,
        |mut request: axum::extract::Request| {
            if request.uri().path() == "/v3/" {
                let query = request.uri().query().map(|q| format!("?{q}"));
                let uri = format!("/v3{}", query.unwrap_or_default());
                if let Ok(uri) = uri.parse() {
                    *request.uri_mut() = uri;
                }
            }
            request
        },
    ))
}

/// Gives every error the reference's JSON shape, including the ones axum
/// answers by itself (a path parameter that does not parse, a method the
/// path does not have, a body past the limit).
async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let mut json = ApiError::new(status, message).into_response();
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    json
}

/// Logs each request: method, path, status, duration, and who asked (the
/// API user, the client certificate's subject).
async fn access_log(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    let took = start.elapsed();
    metrics::count(method.as_str(), &response, took);
    let micros = took.as_micros() as u64;
    let caller = response.extensions().get::<haplane_dataplane::Caller>();
    let user = caller.and_then(|c| c.user.as_deref()).unwrap_or("-");
    let client = caller.and_then(|c| c.client.as_deref()).unwrap_or("-");
    tracing::info!(target: "access", %method, %path, status = response.status().as_u16(), micros, user, client, "request");
    response
}
