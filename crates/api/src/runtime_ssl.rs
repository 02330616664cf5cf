//! TLS material in the running HAProxy: certificates, CA files, CRL files
//! (uploaded as `multipart/form-data` field `file_upload`) and crt-lists.
//! These change memory only; files on disk are the storage API's concern.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use haplane_runtime::{CrtListEntry, Runtime, SslStore};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::params::{self, json_object};
use crate::runtime::{client, file_name};
use crate::AppState;

type St = State<Arc<AppState>>;
type Q = Query<params::Query>;

const RUNTIME: &str = "/services/haproxy/runtime";

pub fn routes() -> crate::Routes {
    let mut router = crate::Routes::default();
    for (path, store) in [
        ("ssl_certs", SslStore::Cert),
        ("ssl_ca_files", SslStore::CaFile),
        ("ssl_crl_files", SslStore::CrlFile),
    ] {
        router = router
            .route(
                &format!("{RUNTIME}/{path}"),
                get(move |s: St| list(store, s))
                    .post(move |s: St, m: Multipart| create(store, s, m)),
            )
            .route(
                &format!("{RUNTIME}/{path}/{{name}}"),
                get(move |s: St, p: Path<String>, q: Q| show(store, s, p, q))
                    .put(move |s: St, p: Path<String>, m: Multipart| replace(store, s, p, m))
                    .delete(move |s: St, p: Path<String>| delete(store, s, p)),
            );
    }
    router
        .route(
            &format!("{RUNTIME}/ssl_ca_files/{{name}}/entries"),
            axum::routing::post(add_ca_entry),
        )
        .route(
            &format!("{RUNTIME}/ssl_ca_files/{{name}}/entries/{{index}}"),
            get(get_ca_entry),
        )
        .route(&format!("{RUNTIME}/ssl_crt_lists"), get(list_crt_lists))
        .route(
            &format!("{RUNTIME}/ssl_crt_lists/entries"),
            get(list_crt_list_entries)
                .post(add_crt_list_entry)
                .delete(delete_crt_list_entry),
        )
}

fn what(store: SslStore) -> &'static str {
    match store {
        SslStore::Cert => "certificate",
        SslStore::CaFile => "CA file",
        SslStore::CrlFile => "CRL file",
    }
}

/// The name HAProxy knows for `name` (a path, or a file name).
async fn resolve(rt: &Runtime, store: SslStore, name: &str) -> Result<String, ApiError> {
    let files = rt.ssl_files(store).await?;
    files
        .iter()
        .find(|f| f.name == name)
        .or_else(|| files.iter().find(|f| file_name(&f.name) == name))
        .map(|f| f.name.clone())
        .ok_or_else(|| ApiError::not_found(format!("no {} '{name}' in HAProxy", what(store))))
}

/// "Nov 25 03:04:37 2026 GMT" -> "2026-11-25T03:04:37Z".
fn date_time(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [month, day, time, year, ..] = words[..] else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| *x == month)? + 1;
    let d: u32 = day.parse().ok()?;
    let y: u32 = year.parse().ok()?;
    Some(format!("{y:04}-{m:02}-{d:02}T{time}.000Z"))
}

/// How many certificates a CA file holds, as HAProxy words it.
fn certificates(count: u64) -> String {
    format!("{count} certificate(s)")
}

/// The reference's `ssl_certificate` from `Key: value` pairs, as v3
/// answers it: named by `storage_name` (HAProxy's name for it), and by
/// `file` too for a certificate of a CA file.
fn certificate(file: &str, pairs: &[(String, String)], with_file: bool) -> Value {
    let mut out = Map::new();
    if with_file {
        out.insert("file".into(), json!(file.trim_start_matches('*')));
    }
    out.insert("storage_name".into(), json!(file_name(file)));
    for (key, value) in pairs {
        let field = match key.as_str() {
            "Status" => "status",
            "Serial" => "serial",
            "notBefore" => "not_before",
            "notAfter" => "not_after",
            "Subject Alternative Name" => "subject_alternative_names",
            "Algorithm" => "algorithm",
            "SHA1 FingerPrint" => "sha1_finger_print",
            "Subject" => "subject",
            "Issuer" => "issuers",
            "Chain Subject" => "chain_subject",
            "Chain Issuer" => "chain_issuer",
            _ => continue,
        };
        // What HAProxy leaves empty is left out, as the reference does.
        if value.is_empty() {
            continue;
        }
        let value = match field {
            "not_before" | "not_after" => match date_time(value) {
                Some(d) => json!(d),
                None => continue,
            },
            _ => json!(value),
        };
        out.insert(field.into(), value);
    }
    // "DNS:a.test, IP Address:127.0.0.1": the names and the addresses.
    let san = pairs
        .iter()
        .find(|(k, _)| k == "Subject Alternative Name")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    for (field, prefix) in [("domains", "DNS:"), ("ip_addresses", "IP Address:")] {
        let found: Vec<&str> = san
            .split(',')
            .filter_map(|part| part.trim().strip_prefix(prefix))
            .collect();
        if !found.is_empty() {
            out.insert(field.into(), json!(found.join(",")));
        }
    }
    Value::Object(out)
}

async fn list(store: SslStore, State(state): St) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let list: Vec<Value> = rt
        .ssl_files(store)
        .await?
        .iter()
        .map(|f| {
            let mut out = json!({"storage_name": file_name(&f.name)});
            if let Some(count) = f.count {
                out["count"] = json!(certificates(count));
            }
            out
        })
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn show(
    store: SslStore,
    State(state): St,
    Path(name): Path<String>,
    Query(q): Q,
) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let name = resolve(&rt, store, &name).await?;
    let value = match store {
        SslStore::Cert => {
            let details = rt.ssl_details(store, &name).await?;
            certificate(&name, &details.fields, false)
        }
        SslStore::CaFile => {
            let files = rt.ssl_files(store).await?;
            let count = files.iter().find(|f| f.name == name).and_then(|f| f.count);
            json!({"storage_name": file_name(&name), "count": count.map(certificates)})
        }
        SslStore::CrlFile => {
            let index = params::number(&q, "index")?;
            let target = match index {
                Some(i) => format!("{name}:{i}"),
                None => name.clone(),
            };
            let (status, lists) = rt.crl_details(&target).await?;
            let list: Vec<Value> = lists
                .iter()
                .map(|c| {
                    let revoked: Vec<Value> = c
                        .revoked
                        .iter()
                        .map(|(serial, date)| json!({"serial_number": serial, "revocation_date": date_time(date).map(|d| d[..10].to_owned())}))
                        .collect();
                    let mut crl = json!({
                        "storage_name": file_name(&name),
                        "status": status,
                        "version": c.version,
                        "signature_algorithm": c.signature_algorithm,
                        "issuer": c.issuer,
                        "last_update": date_time(&c.last_update).map(|d| d[..10].to_owned()),
                        "next_update": date_time(&c.next_update).map(|d| d[..10].to_owned()),
                    });
                    // An empty list is left out, as the reference does.
                    if !revoked.is_empty() {
                        crl["revoked_certificates"] = Value::Array(revoked);
                    }
                    crl
                })
                .collect();
            Value::Array(list)
        }
    };
    Ok(Json(value).into_response())
}

/// The file name and PEM text of the `file_upload` field.
async fn upload(form: Multipart) -> Result<(String, String), ApiError> {
    let (name, bytes) = crate::storage::file_upload(form).await?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::bad_request("file_upload: the file is not PEM text"))?;
    if !text.contains("-----BEGIN ") {
        return Err(ApiError::bad_request(
            "file_upload: the file has no PEM block (-----BEGIN ...)",
        ));
    }
    Ok((name, text))
}

async fn create(store: SslStore, State(state): St, form: Multipart) -> Result<Response, ApiError> {
    let (name, pem) = upload(form).await?;
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(ApiError::bad_request(format!(
            "file_upload: '{name}' is not a file name"
        )));
    }
    // HAProxy knows it by the name given, as v3 creates it.
    let rt = client(&state)?;
    rt.ssl_new(store, &name).await?;
    if let Err(e) = rt.ssl_replace(store, &name, &pem).await {
        let _ = rt.ssl_delete(store, &name).await;
        return Err(e.into());
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({"file": name, "storage_name": name})),
    )
        .into_response())
}

async fn replace(
    store: SslStore,
    State(state): St,
    Path(name): Path<String>,
    form: Multipart,
) -> Result<Response, ApiError> {
    let (_, pem) = upload(form).await?;
    let rt = client(&state)?;
    let name = resolve(&rt, store, &name).await?;
    rt.ssl_replace(store, &name, &pem).await?;
    Ok(StatusCode::OK.into_response())
}

async fn delete(
    store: SslStore,
    State(state): St,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let name = resolve(&rt, store, &name).await?;
    rt.ssl_delete(store, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Appends the uploaded certificates to a CA file (`add ssl ca-file`, from
/// HAProxy 2.7). HAProxy 2.6 cannot (501): replacing the whole file (PUT)
/// does it there.
async fn add_ca_entry(
    State(state): St,
    Path(name): Path<String>,
    form: Multipart,
) -> Result<Response, ApiError> {
    if state.dp.haproxy_version().is_some_and(|v| v < (2, 7)) {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this HAProxy has no `add ssl ca-file` (2.7 and later have it); replace the CA file with all its certificates (PUT /services/haproxy/runtime/ssl_ca_files/{name})",
        ));
    }
    let (_, pem) = upload(form).await?;
    let rt = client(&state)?;
    let file = resolve(&rt, SslStore::CaFile, &name).await?;
    rt.ssl_ca_add(&file, &pem).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"file": file, "storage_name": file_name(&file)})),
    )
        .into_response())
}

async fn get_ca_entry(
    State(state): St,
    Path((name, index)): Path<(String, u32)>,
) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let name = resolve(&rt, SslStore::CaFile, &name).await?;
    let details = rt
        .ssl_details(SslStore::CaFile, &format!("{name}:{index}"))
        .await?;
    let cert = details
        .certificates
        .first()
        .ok_or_else(|| ApiError::not_found(format!("no certificate {index} in CA file {name}")))?;
    Ok(Json(certificate(&name, cert, true)).into_response())
}

async fn list_crt_lists(State(state): St) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let list: Vec<Value> = rt
        .crt_lists()
        .await?
        .iter()
        .map(|f| json!({"file": f}))
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

/// The crt-list named by the `name` query parameter (a path or file name).
async fn crt_list(rt: &Runtime, q: &params::Query) -> Result<String, ApiError> {
    let name = q
        .get("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("query parameter name: required (the crt-list)"))?;
    let lists = rt.crt_lists().await?;
    lists
        .iter()
        .find(|l| *l == name)
        .or_else(|| lists.iter().find(|l| file_name(l) == *name))
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no crt-list '{name}' in HAProxy")))
}

fn crt_list_entry_json(e: &CrtListEntry) -> Value {
    let mut out = json!({"file": e.file, "line_number": e.line});
    if let Some(options) = &e.options {
        out["ssl_bind_config"] = json!(options);
    }
    if !e.filters.is_empty() {
        out["sni_filter"] = json!(e.filters);
    }
    out
}

async fn list_crt_list_entries(State(state): St, Query(q): Q) -> Result<Response, ApiError> {
    let rt = client(&state)?;
    let list = crt_list(&rt, &q).await?;
    let entries: Vec<Value> = rt
        .crt_list_entries(&list)
        .await?
        .iter()
        .map(crt_list_entry_json)
        .collect();
    Ok(Json(Value::Array(entries)).into_response())
}

async fn add_crt_list_entry(
    State(state): St,
    Query(q): Q,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let file = body
        .get("file")
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ApiError::bad_request("file: required (a certificate HAProxy holds)"))?
        .to_owned();
    let options = body
        .get("ssl_bind_config")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let filters = match body.get("sni_filter") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("sni_filter: '{i}' is not one word"))
                    })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "sni_filter: '{other}' is not an array of strings"
            )))
        }
    };
    let rt = client(&state)?;
    let list = crt_list(&rt, &q).await?;
    let file = resolve(&rt, SslStore::Cert, &file).await?;
    let entry = CrtListEntry {
        file,
        line: None,
        options,
        filters,
    };
    rt.crt_list_add(&list, &entry).await?;
    Ok((StatusCode::CREATED, Json(crt_list_entry_json(&entry))).into_response())
}

async fn delete_crt_list_entry(State(state): St, Query(q): Q) -> Result<Response, ApiError> {
    let cert = q
        .get("cert_file")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("query parameter cert_file: required"))?;
    let line = params::number(&q, "line_number")?;
    let rt = client(&state)?;
    let list = crt_list(&rt, &q).await?;
    let entries = rt.crt_list_entries(&list).await?;
    let entry = entries
        .iter()
        .find(|e| {
            (e.file == *cert || file_name(&e.file) == *cert) && (line.is_none() || e.line == line)
        })
        .ok_or_else(|| ApiError::not_found(format!("no entry for '{cert}' in crt-list {list}")))?;
    rt.crt_list_delete(&list, &entry.file, line).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
