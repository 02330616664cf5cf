//! The running HAProxy: process information, native statistics and the
//! transient state of servers, through the runtime socket. Nothing here
//! touches the configuration file.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use haplane_dataplane::live::{self, Step};
use haplane_model::ChildKind;
use haplane_runtime::{
    AdminState, Endpoint, OperationalState, Runtime, ServerChange, ServerState, StatRow,
};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::params::{self, json_object};
use crate::AppState;

type St = State<Arc<AppState>>;

const RUNTIME: &str = "/services/haproxy/runtime";

pub fn routes() -> crate::Routes {
    crate::Routes::default()
        .route(&format!("{RUNTIME}/info"), get(info))
        .route(&format!("{RUNTIME}/acme"), get(acme_status).put(acme_renew))
        .route("/services/haproxy/stats/native", get(native_stats))
        .route(
            &format!("{RUNTIME}/backends/{{parent_name}}/servers"),
            get(list_servers).post(add_server),
        )
        .route(
            &format!("{RUNTIME}/backends/{{parent_name}}/servers/{{name}}"),
            get(get_server).put(replace_server).delete(delete_server),
        )
}

/// The runtime client, or 503 naming what is missing.
pub fn client(state: &AppState) -> Result<Arc<Runtime>, ApiError> {
    state.dp.runtime().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no runtime API: the configuration has no 'stats socket ... level admin' in global and no master socket (-m) was given",
        )
    })
}

/// The file name of a path HAProxy shows (`*` marks an uncommitted
/// certificate): what the answers call `storage_name`.
pub fn file_name(path: &str) -> String {
    std::path::Path::new(path.trim_start_matches('*'))
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_owned())
}

/// How the answers name the socket (`runtimeAPI`).
fn socket_name(rt: &Runtime) -> String {
    match rt.endpoint() {
        Endpoint::Unix(path) => path.display().to_string(),
        Endpoint::Tcp(address) => address.clone(),
    }
}

/// The documented paths under `base`.
/// `show info` names and the reference's field names.
const INFO_FIELDS: &[(&str, &str)] = &[
    ("ActivePeers", "active_peers"),
    ("BusyPolling", "busy_polling"),
    ("BytesOutRate", "bytes_out_rate"),
    ("CompressBpsIn", "compress_bps_in"),
    ("CompressBpsOut", "compress_bps_out"),
    ("CompressBpsRateLim", "compress_bps_rate_lim"),
    ("ConnRate", "conn_rate"),
    ("ConnRateLimit", "conn_rate_limit"),
    ("ConnectedPeers", "connected_peers"),
    ("CumConns", "cum_conns"),
    ("CumReq", "cum_req"),
    ("CumSslConns", "cum_ssl_conns"),
    ("CurrConns", "curr_conns"),
    ("CurrSslConns", "curr_ssl_conns"),
    ("DroppedLogs", "dropped_logs"),
    ("FailedResolutions", "failed_resolutions"),
    ("Hard_maxconn", "hard_max_conn"),
    ("Idle_pct", "idle_pct"),
    ("Jobs", "jobs"),
    ("Listeners", "listeners"),
    ("Maxconn", "max_conn"),
    ("MaxConnRate", "max_conn_rate"),
    ("Maxpipes", "max_pipes"),
    ("MaxSessRate", "max_sess_rate"),
    ("Maxsock", "max_sock"),
    ("MaxSslConns", "max_ssl_conns"),
    ("MaxSslRate", "max_ssl_rate"),
    ("MaxZlibMemUsage", "max_zlib_mem_usage"),
    ("Memmax_MB", "mem_max_mb"),
    ("Nbthread", "nbthread"),
    ("node", "node"),
    ("Pid", "pid"),
    ("PipesFree", "pipes_free"),
    ("PipesUsed", "pipes_used"),
    ("PoolAlloc_MB", "pool_alloc_mb"),
    ("PoolFailed", "pool_failed"),
    ("PoolUsed_MB", "pool_used_mb"),
    ("Process_num", "process_num"),
    ("Nbproc", "processes"),
    ("Release_date", "release_date"),
    ("Run_queue", "run_queue"),
    ("SessRate", "sess_rate"),
    ("SessRateLimit", "sess_rate_limit"),
    ("SslBackendKeyRate", "ssl_backend_key_rate"),
    ("SslBackendMaxKeyRate", "ssl_backend_max_key_rate"),
    ("SslCacheLookups", "ssl_cache_lookups"),
    ("SslCacheMisses", "ssl_cache_misses"),
    ("SslFrontendKeyRate", "ssl_frontend_key_rate"),
    ("SslFrontendMaxKeyRate", "ssl_frontend_max_key_rate"),
    ("SslFrontendSessionReuse_pct", "ssl_frontend_session_reuse"),
    ("SslRate", "ssl_rate"),
    ("SslRateLimit", "ssl_rate_limit"),
    ("Stopping", "stopping"),
    ("Tasks", "tasks"),
    ("TotalBytesOut", "total_bytes_out"),
    ("Ulimit-n", "ulimit_n"),
    ("Unstoppable Jobs", "unstoppable"),
    ("Uptime_sec", "uptime"),
    ("Version", "version"),
    ("ZlibMemUsage", "zlib_mem_usage"),
];

/// The field names of `process_info_item`.
pub fn info_field_names() -> impl Iterator<Item = &'static str> {
    INFO_FIELDS.iter().map(|(_, name)| *name)
}

/// The field names of `native_stat_stats`, and whether each is text.
pub fn stats_field_names() -> impl Iterator<Item = (&'static str, bool)> {
    STATS_FIELDS.iter().map(|f| (*f, TEXT_STATS.contains(f)))
}

/// The reference's `process_info_item` from `show info`.
pub fn process_info(pairs: &[(String, String)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in pairs {
        let Some((_, name)) = INFO_FIELDS.iter().find(|(k, _)| k == key) else {
            continue;
        };
        let json = match *name {
            "version" | "node" => json!(value),
            // 2025/10/03 -> 2025-10-03
            "release_date" => json!(value.replace('/', "-")),
            _ => match value.parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => continue,
            },
        };
        out.insert((*name).to_owned(), json);
    }
    out
}

async fn info(State(state): St) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let pairs = rt.info().await?;
    Ok(Json(json!({"info": process_info(&pairs), "runtimeAPI": socket_name(&rt)})).into_response())
}

/// The certificates HAProxy renews with ACME (`acme status`, 3.2 and later).
async fn acme_status(State(state): St) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let status = rt.acme_status().await?;
    let list: Vec<Value> = status
        .iter()
        .map(|c| {
            let mut out = json!({
                "certificate": c.certificate,
                "acme_section": c.section,
                "state": c.state,
            });
            for (key, value) in [
                ("expiry_date", &c.expiry_date),
                ("expiries_in", &c.expires_in),
                ("scheduled_renewal", &c.scheduled_date),
                ("renewal_in", &c.scheduled_in),
            ] {
                if let Some(value) = value {
                    out[key] = json!(value);
                }
            }
            out
        })
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

/// Starts the ACME renewal of the certificate the query names.
async fn acme_renew(
    State(state): St,
    Query(q): Query<params::Query>,
) -> Result<Response, ApiError> {
    let certificate = q
        .get("certificate")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("query parameter certificate: required"))?;
    let rt = client(&state)?;
    rt.acme_renew(certificate).await?;
    Ok(StatusCode::OK.into_response())
}

/// Stats columns that are text; the others are numbers.
const TEXT_STATS: &[&str] = &[
    "addr",
    "agent_desc",
    "agent_status",
    "algo",
    "check_desc",
    "check_status",
    "cookie",
    "hanafail",
    "last_agt",
    "last_chk",
    "mode",
    "status",
    "tracked",
];

/// Stats columns the reference's `native_stat_stats` has.
const STATS_FIELDS: &[&str] = &[
    "act",
    "addr",
    "agent_code",
    "agent_desc",
    "agent_duration",
    "agent_fall",
    "agent_health",
    "agent_rise",
    "agent_status",
    "algo",
    "bck",
    "bin",
    "bout",
    "check_code",
    "check_desc",
    "check_duration",
    "check_fall",
    "check_health",
    "check_rise",
    "check_status",
    "chkdown",
    "chkfail",
    "cli_abrt",
    "comp_byp",
    "comp_in",
    "comp_out",
    "comp_rsp",
    "conn_rate",
    "conn_rate_max",
    "conn_tot",
    "cookie",
    "ctime",
    "dcon",
    "downtime",
    "dreq",
    "dresp",
    "dses",
    "econ",
    "ereq",
    "eresp",
    "hanafail",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "iid",
    "intercepted",
    "last_agt",
    "last_chk",
    "lastchg",
    "lastsess",
    "lbtot",
    "mode",
    "pid",
    "qcur",
    "qlimit",
    "qmax",
    "qtime",
    "rate",
    "rate_lim",
    "rate_max",
    "req_rate",
    "req_rate_max",
    "req_tot",
    "rtime",
    "scur",
    "sid",
    "slim",
    "smax",
    "srv_abrt",
    "status",
    "stot",
    "throttle",
    "tracked",
    "ttime",
    "weight",
    "wredis",
    "wretr",
];

/// One `native_stat`.
pub fn native_stat(row: &StatRow) -> Value {
    let mut stats = Map::new();
    for (key, value) in &row.fields {
        if !STATS_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let json = if TEXT_STATS.contains(&key.as_str()) {
            json!(value)
        } else {
            match value.parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) => continue,
            }
        };
        stats.insert(key.clone(), json);
    }
    let kind = row.kind();
    let mut out = json!({"type": kind, "stats": stats});
    if kind == "server" {
        out["name"] = json!(row.name);
        out["backend_name"] = json!(row.proxy);
    } else {
        out["name"] = json!(row.proxy);
    }
    out
}

async fn native_stats(
    State(state): St,
    Query(q): Query<params::Query>,
) -> Result<Response, ApiError> {
    let kind = q.get("type").map(String::as_str);
    if let Some(k) = kind {
        if !matches!(k, "frontend" | "backend" | "server") {
            return Err(ApiError::bad_request(format!(
                "query parameter type: '{k}' is not frontend, backend or server"
            )));
        }
    }
    let name = q.get("name").map(String::as_str);
    let parent = q.get("parent").map(String::as_str);
    if parent.is_some() && kind != Some("server") {
        return Err(ApiError::bad_request(
            "query parameter parent: only with type=server",
        ));
    }
    let rt = client(&state)?;
    let rows = rt.stat().await?;
    let stats: Vec<Value> = rows
        .iter()
        .filter(|r| kind.is_none_or(|k| r.kind() == k))
        .filter(|r| {
            name.is_none_or(|n| {
                if r.kind() == "server" {
                    r.name == n
                } else {
                    r.proxy == n
                }
            })
        })
        .filter(|r| parent.is_none_or(|p| r.proxy == p))
        .map(native_stat)
        .collect();
    Ok(Json(json!({"runtimeAPI": socket_name(&rt), "stats": stats})).into_response())
}

/// The reference's `runtime_server`.
pub fn runtime_server(s: &ServerState) -> Value {
    let mut out = json!({
        "id": s.id.to_string(),
        "name": s.name,
        "address": s.address,
        "admin_state": s.admin.as_str(),
        "operational_state": s.operational.as_str(),
        "backend_id": s.backend_id,
        "backend_name": s.backend,
        "weight": s.weight,
        "uweight": s.weight,
        "iweight": s.initial_weight,
        "last_time_change": s.last_change,
        "check_status": s.check_status,
        "check_result": s.check_result,
        "check_health": s.check_health,
        "check_state": s.check_state,
        "agent_state": s.agent_state,
        "backend_forced_id": s.backend_forced_id,
        "forced_id": s.forced_id,
        "use_ssl": s.use_ssl,
    });
    let optional = [
        ("port", s.port.map(|p| json!(p))),
        ("fqdn", s.fqdn.as_ref().map(|v| json!(v))),
        ("srvrecord", s.srvrecord.as_ref().map(|v| json!(v))),
        ("check_port", s.check_port.map(|p| json!(p))),
        ("check_addr", s.check_address.as_ref().map(|v| json!(v))),
        ("agent_addr", s.agent_address.as_ref().map(|v| json!(v))),
        ("agent_port", s.agent_port.map(|p| json!(p))),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            out[key] = v;
        }
    }
    out
}

async fn list_servers(State(state): St, Path(backend): Path<String>) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let list: Vec<Value> = rt
        .servers_state(Some(&backend))
        .await?
        .iter()
        .map(runtime_server)
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn get_server(
    State(state): St,
    Path((backend, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let server = rt
        .server_state(&backend, &name)
        .await
        .map_err(|e| missing_server(e, &backend, &name))?;
    Ok(Json(runtime_server(&server)).into_response())
}

/// The changes a `runtime_server` body asks for, against the current state.
fn server_changes(
    body: &Map<String, Value>,
    now: &ServerState,
) -> Result<Vec<ServerChange>, ApiError> {
    const READ_ONLY: &[&str] = &[
        "id",
        "name",
        "backend_id",
        "backend_name",
        "uweight",
        "iweight",
        "last_time_change",
        "check_status",
        "check_result",
        "check_health",
        "check_state",
        "agent_state",
        "backend_forced_id",
        "forced_id",
        "use_ssl",
        "fqdn",
        "srvrecord",
        "check_port",
        "check_addr",
        "agent_addr",
        "agent_port",
    ];
    let mut changes = Vec::new();
    for (key, value) in body {
        match key.as_str() {
            "admin_state" => {
                let text = value.as_str().unwrap_or_default();
                let s = AdminState::parse(text).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "admin_state: '{value}' is not ready, maint or drain"
                    ))
                })?;
                if s != now.admin {
                    changes.push(ServerChange::State(s));
                }
            }
            "operational_state" => {
                let text = value.as_str().unwrap_or_default();
                let s = OperationalState::parse(text).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "operational_state: '{value}' is not up, down or stopping"
                    ))
                })?;
                if s != now.operational {
                    changes.push(ServerChange::Health(s));
                }
            }
            "weight" => {
                if value.is_null() {
                    continue;
                }
                let w = value.as_u64().filter(|w| *w <= 256).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "weight: '{value}' is not an integer from 0 to 256"
                    ))
                })?;
                if w as u32 != now.weight {
                    changes.push(ServerChange::Weight(w as u32));
                }
            }
            "address" | "port" => {}
            key if READ_ONLY.contains(&key) => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "{other}: not a field of a runtime server"
                )))
            }
        }
    }
    let address = match body.get("address") {
        None | Some(Value::Null) => None,
        Some(Value::String(a)) if !a.is_empty() && !a.contains(char::is_whitespace) => {
            Some(a.clone())
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "address: '{other}' is not an address"
            )))
        }
    };
    let port = match body.get("port") {
        None | Some(Value::Null) => None,
        Some(p) => Some(
            p.as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("port: '{p}' is not a port from 1 to 65535"))
                })?,
        ),
    };
    let new_address = address.clone().unwrap_or_else(|| now.address.clone());
    if new_address != now.address || (port.is_some() && port != now.port) {
        changes.push(ServerChange::Address(new_address, port));
    }
    Ok(changes)
}

async fn replace_server(
    State(state): St,
    Path((backend, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let rt = client(&state)?;
    let now = rt
        .server_state(&backend, &name)
        .await
        .map_err(|e| missing_server(e, &backend, &name))?;
    let changes = server_changes(&body, &now)?;
    rt.set_server(&backend, &name, &changes).await?;
    let after = rt.server_state(&backend, &name).await?;
    Ok(Json(runtime_server(&after)).into_response())
}

async fn add_server(
    State(state): St,
    Path(backend): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("name: required"))?
        .to_owned();
    // The words of the server line the same JSON makes in a configuration.
    let words = haplane_model::render_child(ChildKind::Server, &body, None)?;
    let step = Step::add(&backend, &name, words.get(2..).unwrap_or_default())?;
    let rt = client(&state)?;
    live::apply(&rt, &[step]).await?;
    Ok((StatusCode::CREATED, Json(Value::Object(body))).into_response())
}

/// A server or backend the running HAProxy does not have, in words of our
/// own (HAProxy's hold quotes that shell clients choke on).
fn missing_server(e: haplane_runtime::RuntimeError, backend: &str, name: &str) -> ApiError {
    match e {
        haplane_runtime::RuntimeError::Refused {
            kind: haplane_runtime::Refusal::NotFound,
            ..
        } => ApiError::not_found(format!(
            "the running HAProxy has no server {name} in a backend {backend}"
        )),
        other => other.into(),
    }
}

async fn delete_server(
    State(state): St,
    Path((backend, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    rt.server_state(&backend, &name)
        .await
        .map_err(|e| missing_server(e, &backend, &name))?;
    live::apply(
        &rt,
        &[Step::Delete {
            backend,
            server: name,
        }],
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
