//! The web console at `/ui`: a page, a script and a style sheet, embedded
//! in the binary (no build step, nothing fetched from elsewhere), served
//! under the API's authentication. The script builds every screen from
//! `/v3/specification` and works through the API itself.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::AppState;

const FILES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../ui/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../ui/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../ui/app.css"),
    ),
];

/// `/ui`, `/ui/` and `/ui/FILE`, behind the same users as the API.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/ui", get(|| file(Path("index.html".to_owned()))))
        .route("/ui/", get(|| file(Path("index.html".to_owned()))))
        .route("/ui/{file}", get(file))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            crate::auth::require_user,
        ))
        .with_state(state)
}

async fn file(Path(name): Path<String>) -> Response {
    let Some((_, kind, text)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return ApiError::not_found(format!("the console has no file {name}")).into_response();
    };
    let mut response = (StatusCode::OK, *text).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
