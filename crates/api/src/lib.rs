//! The HTTP API: Data Plane API v3 routes over the `dataplane` engine.
//!
//! [`app`] returns the router (tested with `oneshot`, no socket needed);
//! the binary serves it. Every route needs a user of the userlist; every
//! error is `{"code", "message"}`.

mod auth;
mod error;
mod meta;
mod params;
mod resources;
mod rules;
mod services;
mod spec;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use haplane_dataplane::Dataplane;

pub use auth::Users;
pub use error::ApiError;
pub use spec::specification;

/// Largest request body accepted (a whole configuration fits).
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    pub dp: Arc<Dataplane>,
    pub users: Users,
    pub started: Instant,
    /// The master CLI socket, to tell whether HAProxy is up.
    pub master_socket: Option<std::path::PathBuf>,
}

/// The whole API under `/v3`.
pub fn app(state: Arc<AppState>) -> Router {
    let v3 = Router::new()
        .merge(meta::routes())
        .merge(services::routes())
        .merge(resources::routes())
        .merge(rules::routes())
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::require_user,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state);
    Router::new()
        .nest("/v3", v3)
        .fallback(|| async {
            ApiError::not_found("no such path; the API lives under /v3 (see /v3/specification)")
        })
        .layer(axum::middleware::from_fn(access_log))
}

/// Logs each request: method, path, status, duration.
async fn access_log(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    let micros = start.elapsed().as_micros() as u64;
    tracing::info!(target: "access", %method, %path, status = response.status().as_u16(), micros, "request");
    response
}
