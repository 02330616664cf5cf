//! About the API itself: the endpoint list, health, information, the
//! OpenAPI document and its interactive page.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde_json::{json, Value};

use crate::AppState;

type St = State<Arc<AppState>>;

/// The paths that list the endpoints one level below them, with their
/// operation ids.
pub(crate) const DISCOVERY: &[(&str, &str)] = &[
    ("/services", "getServicesEndpoints"),
    ("/services/haproxy", "getHaproxyEndpoints"),
    (
        "/services/haproxy/configuration",
        "getConfigurationEndpoints",
    ),
    ("/services/haproxy/runtime", "getRuntimeEndpoints"),
    ("/services/haproxy/stats", "getStatsEndpoints"),
    ("/services/haproxy/storage", "getStorageEndpoints"),
    ("/services/haproxy/spoe", "getSpoeEndpoints"),
];

pub fn routes() -> crate::Routes {
    let mut routes = crate::Routes::default();
    for (base, _) in DISCOVERY {
        routes = routes.route(base, get(move || children(base)));
    }
    routes
        .route("/", get(endpoints))
        .route("/health", get(health))
        .route("/info", get(info))
        .route("/specification", get(specification))
        .route("/specification_openapiv3", get(specification))
        .route("/docs", get(docs))
}

async fn endpoints() -> Json<Value> {
    let mut paths: Vec<String> = crate::spec::documented_operations()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    paths.dedup();
    let list: Vec<Value> = paths
        .iter()
        .map(|p| json!({"url": format!("/v3{p}"), "title": p.trim_start_matches('/'), "description": ""}))
        .chain([json!({"url": "/v3/docs", "title": "docs", "description": "Interactive documentation"})])
        .collect();
    Json(Value::Array(list))
}

/// The endpoints one level below `base`: the next segment of every
/// documented path under it.
async fn children(base: &'static str) -> Json<Value> {
    let prefix = format!("{base}/");
    let mut segments: Vec<String> = crate::spec::documented_operations()
        .into_iter()
        .filter_map(|(_, p)| {
            let rest = p.strip_prefix(&prefix)?;
            let segment = rest.split('/').next()?;
            (!segment.is_empty() && !segment.starts_with('{')).then(|| segment.to_owned())
        })
        .collect();
    segments.sort();
    segments.dedup();
    let list: Vec<Value> = segments
        .iter()
        .map(|s| json!({"url": format!("/v3{prefix}{s}"), "title": s, "description": ""}))
        .collect();
    Json(Value::Array(list))
}

/// Up when HAProxy's worker answers `show info` on its runtime socket
/// (directly or through the master), down when it does not, unknown when
/// there is no socket to ask.
async fn health(State(state): St) -> Json<Value> {
    let status = match state.dp.runtime() {
        None => "unknown",
        Some(rt) => match rt.info().await {
            Ok(_) => "up",
            Err(_) => "down",
        },
    };
    Json(json!({"haproxy": status}))
}

async fn info(State(state): St) -> Json<Value> {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let os = std::fs::read_to_string("/proc/version").unwrap_or_default();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut info = json!({
        "api": {"version": env!("CARGO_PKG_VERSION"), "build_date": env!("HAPLANE_BUILD_DATE")},
        "system": {},
    });
    if state.show_system_info {
        info["system"] = json!({
            "hostname": hostname.trim(),
            "os_string": os.trim(),
            "time": now,
            "uptime": state.started.elapsed().as_secs(),
        });
    }
    Json(info)
}

async fn specification() -> Json<Value> {
    Json(crate::validate::spec().clone())
}

/// A self-contained page (no network needed) that reads the specification
/// and lets one try each operation.
async fn docs() -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Html(DOCS_PAGE)).into_response()
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>haplane API</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}
details{border:1px solid #ccc;border-radius:4px;margin:.3em 0;padding:.3em .6em}
summary{cursor:pointer}.m{display:inline-block;width:4.5em;font-weight:bold;text-transform:uppercase}
.get{color:#1565c0}.post{color:#2e7d32}.put{color:#ef6c00}.delete{color:#c62828}
textarea{width:100%;height:8em;font-family:monospace}pre{background:#f5f5f5;padding:.5em;overflow:auto}
input{font-family:monospace}
</style></head><body>
<h1>haplane API</h1><p>Operations of <code>/v3/specification</code>. Fill the parameters and press <b>Send</b>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/v3/specification').then(r=>r.json()).then(spec=>{
  const root=document.getElementById('ops');root.textContent='';
  const params=spec.components.parameters;
  for(const [path,methods] of Object.entries(spec.paths)){
    for(const [method,op] of Object.entries(methods)){
      const d=document.createElement('details');
      const s=document.createElement('summary');
      s.innerHTML='<span class="m '+method+'">'+method+'</span> <code></code> — <span></span>';
      s.querySelector('code').textContent='/v3'+path;s.lastChild.textContent=op.summary;d.appendChild(s);
      const form=document.createElement('div');const inputs={};
      for(const p of op.parameters){const def=params[p.$ref.split('/').pop()];
        const l=document.createElement('label');l.textContent=def.name+' ('+def.in+') ';
        const i=document.createElement('input');inputs[def.name]=[def,i];l.appendChild(i);
        form.appendChild(l);form.appendChild(document.createElement('br'));}
      let body=null;if(op.requestBody){body=document.createElement('textarea');
        body.placeholder=Object.keys(op.requestBody.content)[0];form.appendChild(body);}
      const b=document.createElement('button');b.textContent='Send';const out=document.createElement('pre');
      b.onclick=async()=>{let url='/v3'+path;const q=new URLSearchParams();
        for(const [n,[def,i]] of Object.entries(inputs)){if(!i.value)continue;
          if(def.in==='path')url=url.replace('{'+n+'}',encodeURIComponent(i.value));else q.set(n,i.value);}
        if([...q].length)url+='?'+q;const init={method:method.toUpperCase(),headers:{}};
        if(body){init.body=body.value;init.headers['Content-Type']=Object.keys(op.requestBody.content)[0];}
        const r=await fetch(url,init);out.textContent=r.status+' '+r.statusText+'\n'+await r.text();};
      form.appendChild(b);form.appendChild(out);d.appendChild(form);root.appendChild(d);}}
});
</script></body></html>"#;
