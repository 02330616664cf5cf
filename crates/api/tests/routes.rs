//! The specification and the router agree: every documented operation is
//! served, every served path is documented, and a method a path does not
//! document answers 405. In-process (`oneshot`), no socket, no HAProxy.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use haplane_api::{AppState, Users};
use haplane_dataplane::{Dataplane, Settings};
use serde_json::Value;
use tower::ServiceExt;

const CONFIG: &str = "global
    maxconn 10

defaults d
    mode http

frontend f
    bind 127.0.0.1:8080
    default_backend b

backend b
    server s 127.0.0.1:9000 weight 10 check
";

/// Paths served that are not operations of the API: the page that shows
/// the specification to a person.
const NOT_OPERATIONS: &[&str] = &["/docs"];

fn app(dir: &std::path::Path) -> axum::Router {
    let config = dir.join("haproxy.cfg");
    std::fs::write(&config, CONFIG).unwrap();
    let mut settings = Settings::new(&config);
    settings.transaction_dir = dir.join("transactions");
    let dp = Dataplane::open(settings).unwrap();
    haplane_api::app(Arc::new(AppState {
        dp,
        users: Users::single("admin", "pw"),
        started: Instant::now(),
        maps_dir: dir.join("maps"),
        ssl_certs_dir: dir.join("certs"),
        general_storage_dir: dir.join("general"),
        spoe_dir: dir.join("spoe"),
        show_system_info: false,
        body_limit: haplane_api::BODY_LIMIT,
        fleet: None,
    }))
}

async fn send(app: &axum::Router, method: &str, path: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(format!("/v3{path}"))
        .header("Authorization", "Basic YWRtaW46cHc=")
        .header("Content-Type", "application/json")
        .body(Body::from(if method == "GET" { "" } else { "{}" }))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A path of the specification with its parameters filled in: parents
/// that exist in `CONFIG`, items that do not.
fn concrete(path: &str) -> String {
    let parent = if path.contains("/frontends/") {
        "f"
    } else if path.contains("/defaults/") {
        "d"
    } else {
        "b"
    };
    path.replace("{parent_name}", parent)
        .replace("{index}", "0")
        .split('/')
        .map(|segment| match segment.starts_with('{') {
            true => "nothing-here",
            false => segment,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_operation_is_routed_and_every_route_documented() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let (status, spec) = send(&app, "GET", "/specification").await;
    assert_eq!(status, StatusCode::OK);
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let paths = spec["paths"].as_object().unwrap();

    // Every served path is documented.
    let documented: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    let undocumented: Vec<String> = haplane_api::routed_paths()
        .into_iter()
        .filter(|p| !documented.contains(p.as_str()) && !NOT_OPERATIONS.contains(&p.as_str()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "served, not in the specification: {undocumented:?}"
    );

    let mut unrouted = Vec::new();
    let mut undeclared = Vec::new();
    for (path, item) in paths {
        let url = concrete(path);
        for method in ["get", "post", "put", "delete", "patch"] {
            let (status, body) = send(&app, &method.to_uppercase(), &url).await;
            let fallback = body.contains("no such path");
            match item.get(method) {
                Some(_) if status == StatusCode::METHOD_NOT_ALLOWED || fallback => {
                    unrouted.push(format!("{method} {path}: {status} {body}"))
                }
                Some(_) => {}
                None if status != StatusCode::METHOD_NOT_ALLOWED => {
                    undeclared.push(format!("{method} {path}: {status}"))
                }
                None => {}
            }
        }
    }
    assert!(unrouted.is_empty(), "documented, not routed: {unrouted:#?}");
    assert!(
        undeclared.is_empty(),
        "answered, not documented: {undeclared:#?}"
    );
}

#[tokio::test]
async fn servers_show_their_params_first_as_the_reference_does() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let path = "/services/haproxy/configuration/backends/b/servers";
    let (_, one) = send(&app, "GET", &format!("{path}/s")).await;
    let expected =
        r#"{"check":"enabled","weight":10,"address":"127.0.0.1","name":"s","port":9000}"#;
    assert_eq!(one, expected);
    let (_, list) = send(&app, "GET", path).await;
    assert_eq!(list, format!("[{expected}]"));
}
