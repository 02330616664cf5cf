//! The runtime part of the OpenAPI document: operations and schemas of
//! `/services/haproxy/runtime`, `/services/haproxy/stats/native`.

use serde_json::{json, Map, Value};

use crate::spec::Op;

const R: &str = "/services/haproxy/runtime";

type Ok = &'static [(u16, Option<&'static str>)];

/// (method, path under the runtime, operationId, summary, tag, params,
/// body, success responses, errors).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
    Ok,
    &'static [u16],
);

#[rustfmt::skip]
const ROWS: &[Row] = &[
    ("get", "/info", "getHaproxyProcessInfo", "HAProxy's process information (show info)", "Information", &[], None, &[(200, Some("process_info"))], &[503]),
    ("get", "/acme", "getAcmeStatus", "The certificates HAProxy renews with ACME (acme status; HAProxy 3.2 and later)", "ACME Runtime", &[], None, &[(200, Some("list:acme_certificate_status"))], &[404, 503]),
    ("put", "/acme", "renewAcmeCertificate", "Starts the ACME renewal of a certificate (acme renew)", "ACME Runtime", &["acme_certificate"], None, &[(200, None)], &[400, 404, 409, 503]),
    ("get", "/backends/{parent_name}/servers", "getAllRuntimeServer", "The servers of a backend in the running HAProxy", "Server", &[], None, &[(200, Some("list:runtime_server"))], &[404, 503]),
    ("post", "/backends/{parent_name}/servers", "addRuntimeServer", "Adds a server to the running HAProxy (not to the file)", "Server", &[], Some("runtime_add_server"), &[(201, Some("runtime_add_server"))], &[400, 404, 409, 503]),
    ("get", "/backends/{parent_name}/servers/{name}", "getRuntimeServer", "One server in the running HAProxy", "Server", &[], None, &[(200, Some("runtime_server"))], &[404, 503]),
    ("put", "/backends/{parent_name}/servers/{name}", "replaceRuntimeServer", "Changes a server's state, weight or address in the running HAProxy", "Server", &[], Some("runtime_server"), &[(200, Some("runtime_server"))], &[400, 404, 503]),
    ("delete", "/backends/{parent_name}/servers/{name}", "deleteRuntimeServer", "Deletes a server from the running HAProxy (maintenance first, then deleted when idle)", "Server", &[], None, &[(204, None)], &[400, 404, 503]),
    ("get", "/maps", "getAllRuntimeMapFiles", "The maps HAProxy has loaded", "Maps", &["include_unmanaged"], None, &[(200, Some("list:map"))], &[503]),
    ("get", "/maps/{name}", "getOneRuntimeMap", "One map", "Maps", &[], None, &[(200, Some("map"))], &[404, 503]),
    ("put", "/maps/{name}", "addPayloadRuntimeMap", "Adds entries to a map", "Maps", &["force_sync"], Some("list:map_entry"), &[(201, Some("list:map_entry"))], &[400, 404, 503]),
    ("delete", "/maps/{name}", "clearRuntimeMap", "Removes every entry of a map", "Maps", &["forceDelete", "force_sync"], None, &[(204, None)], &[404, 503]),
    ("get", "/maps/{parent_name}/entries", "showRuntimeMap", "The entries of a map", "Maps", &[], None, &[(200, Some("list:map_entry"))], &[404, 503]),
    ("post", "/maps/{parent_name}/entries", "addMapEntry", "Adds an entry to a map", "Maps", &["force_sync"], Some("map_entry"), &[(201, Some("map_entry"))], &[400, 404, 409, 503]),
    ("get", "/maps/{parent_name}/entries/{id}", "getRuntimeMapEntry", "One entry of a map, by key or reference", "Maps", &[], None, &[(200, Some("map_entry"))], &[404, 503]),
    ("put", "/maps/{parent_name}/entries/{id}", "replaceRuntimeMapEntry", "Changes the value of an entry", "Maps", &["force_sync"], Some("map_entry_value"), &[(200, Some("map_entry"))], &[400, 404, 503]),
    ("delete", "/maps/{parent_name}/entries/{id}", "deleteRuntimeMapEntry", "Deletes an entry of a map", "Maps", &["force_sync"], None, &[(204, None)], &[404, 503]),
    ("get", "/acls", "getAllRuntimeAclFiles", "The ACL pattern lists HAProxy has loaded", "ACL Runtime", &[], None, &[(200, Some("list:acl_file"))], &[503]),
    ("get", "/acls/{id}", "getRuntimeAclFile", "One ACL pattern list", "ACL Runtime", &[], None, &[(200, Some("acl_file"))], &[404, 503]),
    ("get", "/acls/{parent_name}/entries", "getAllRuntimeAclFileEntries", "The entries of an ACL", "ACL Runtime", &[], None, &[(200, Some("list:acl_file_entry"))], &[400, 404, 503]),
    ("post", "/acls/{parent_name}/entries", "createRuntimeAclFileEntry", "Adds an entry to an ACL", "ACL Runtime", &[], Some("acl_file_entry"), &[(201, Some("acl_file_entry"))], &[400, 404, 409, 503]),
    ("put", "/acls/{parent_name}/entries", "addPayloadRuntimeACL", "Adds entries to an ACL", "ACL Runtime", &[], Some("list:acl_file_entry"), &[(201, Some("list:acl_file_entry"))], &[400, 404, 503]),
    ("get", "/acls/{parent_name}/entries/{id}", "getRuntimeAclFileEntry", "One entry of an ACL, by value or reference", "ACL Runtime", &[], None, &[(200, Some("acl_file_entry"))], &[400, 404, 503]),
    ("delete", "/acls/{parent_name}/entries/{id}", "deleteRuntimeAclFileEntry", "Deletes an entry of an ACL", "ACL Runtime", &[], None, &[(204, None)], &[400, 404, 503]),
    ("get", "/stick_tables", "getStickTables", "The stick tables", "Stick Table", &[], None, &[(200, Some("list:stick_table"))], &[503]),
    ("get", "/stick_tables/{name}", "getStickTable", "One stick table", "Stick Table", &[], None, &[(200, Some("stick_table"))], &[404, 503]),
    ("get", "/stick_tables/{parent_name}/entries", "getStickTableEntries", "The entries of a stick table", "Stick Table", &["filter", "key", "count", "offset"], None, &[(200, Some("list:stick_table_entry"))], &[400, 404, 503]),
    ("post", "/stick_tables/{parent_name}/entries", "setStickTableEntries", "Sets the data of an entry", "Stick Table", &[], Some("stick_table_set"), &[(204, None)], &[400, 404, 503]),
    ("get", "/ssl_certs", "getAllCerts", "The certificates HAProxy holds", "SSL Runtime", &[], None, &[(200, Some("list:ssl_certificate"))], &[503]),
    ("post", "/ssl_certs", "createCert", "Adds a certificate (in memory, named after the file in --ssl-certs-dir)", "SSL Runtime", &[], Some("multipart"), &[(201, None)], &[400, 409, 503]),
    ("get", "/ssl_certs/{name}", "getCert", "One certificate", "SSL Runtime", &[], None, &[(200, Some("ssl_certificate"))], &[404, 503]),
    ("put", "/ssl_certs/{name}", "replaceCert", "Replaces a certificate (set, then commit)", "SSL Runtime", &[], Some("multipart"), &[(200, None)], &[400, 404, 503]),
    ("delete", "/ssl_certs/{name}", "deleteCert", "Deletes an unused certificate", "SSL Runtime", &[], None, &[(204, None)], &[400, 404, 503]),
    ("get", "/ssl_ca_files", "getAllCaFiles", "The CA files HAProxy holds", "SSL Runtime", &[], None, &[(200, Some("list:ssl_ca_file"))], &[503]),
    ("post", "/ssl_ca_files", "createCaFile", "Adds a CA file", "SSL Runtime", &[], Some("multipart"), &[(201, None)], &[400, 409, 503]),
    ("get", "/ssl_ca_files/{name}", "getCaFile", "One CA file", "SSL Runtime", &[], None, &[(200, Some("ssl_ca_file"))], &[404, 503]),
    ("put", "/ssl_ca_files/{name}", "setCaFile", "Replaces a CA file", "SSL Runtime", &[], Some("multipart"), &[(200, None)], &[400, 404, 503]),
    ("delete", "/ssl_ca_files/{name}", "deleteCaFile", "Deletes an unused CA file", "SSL Runtime", &[], None, &[(204, None)], &[400, 404, 503]),
    ("post", "/ssl_ca_files/{name}/entries", "addCaEntry", "Appends certificates to a CA file (HAProxy 2.7 and later; 501 before: replace the file instead)", "SSL Runtime", &[], Some("multipart"), &[(201, Some("ssl_certificate"))], &[404, 501]),
    ("get", "/ssl_ca_files/{name}/entries/{index}", "getCaEntry", "One certificate of a CA file, from 1", "SSL Runtime", &[], None, &[(200, Some("ssl_certificate"))], &[404, 503]),
    ("get", "/ssl_crl_files", "getAllCrl", "The CRL files HAProxy holds", "SSL Runtime", &[], None, &[(200, Some("list:ssl_crl"))], &[503]),
    ("post", "/ssl_crl_files", "createCrl", "Adds a CRL file", "SSL Runtime", &[], Some("multipart"), &[(201, None)], &[400, 409, 503]),
    ("get", "/ssl_crl_files/{name}", "getCrl", "The revocation lists of a CRL file", "SSL Runtime", &["crl_index"], None, &[(200, Some("list:ssl_crl_entry"))], &[404, 503]),
    ("put", "/ssl_crl_files/{name}", "replaceCrl", "Replaces a CRL file", "SSL Runtime", &[], Some("multipart"), &[(200, None)], &[400, 404, 503]),
    ("delete", "/ssl_crl_files/{name}", "deleteCrl", "Deletes an unused CRL file", "SSL Runtime", &[], None, &[(204, None)], &[400, 404, 503]),
    ("get", "/ssl_crt_lists", "getAllCrtLists", "The crt-lists", "SSL Runtime", &[], None, &[(200, Some("list:ssl_crt_list"))], &[503]),
    ("get", "/ssl_crt_lists/entries", "getAllCrtListEntries", "The entries of a crt-list", "SSL Runtime", &["crt_list_name"], None, &[(200, Some("list:ssl_crt_list_entry"))], &[400, 404, 503]),
    ("post", "/ssl_crt_lists/entries", "addCrtListEntry", "Adds an entry to a crt-list", "SSL Runtime", &["crt_list_name"], Some("ssl_crt_list_entry"), &[(201, None)], &[400, 404, 409, 503]),
    ("delete", "/ssl_crt_lists/entries", "deleteCrtListEntry", "Deletes an entry of a crt-list", "SSL Runtime", &["crt_list_name", "cert_file", "line_number"], None, &[(204, None)], &[400, 404, 503]),
];

pub fn ops() -> Vec<Op> {
    static PATHS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let paths = PATHS.get_or_init(|| {
        ROWS.iter()
            .map(|r| &*Box::leak(format!("{R}{}", r.1).into_boxed_str()))
            .collect()
    });
    let mut ops: Vec<Op> = ROWS
        .iter()
        .zip(paths)
        .map(
            |(&(method, _, id, summary, tag, params, body, ok, errors), path)| Op {
                method,
                path,
                id,
                summary,
                tag,
                params,
                body,
                ok,
                errors,
                etag: false,
            },
        )
        .collect();
    ops.push(Op {
        method: "get",
        path: "/services/haproxy/stats/native",
        id: "getStats",
        summary: "Statistics of frontends, backends and servers (show stat)",
        tag: "Stats",
        params: &["stats_type", "stats_name", "stats_parent"],
        body: None,
        ok: &[(200, Some("native_stats"))],
        errors: &[400, 503],
        etag: false,
    });
    ops
}

/// Query parameters of the runtime operations.
pub fn parameters(out: &mut Map<String, Value>) {
    let query = |name: &str, schema: Value, description: &str| json!({"name": name, "in": "query", "schema": schema, "description": description});
    let boolean = json!({"type": "boolean", "default": false});
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer", "minimum": 0});
    for (key, value) in [
        ("include_unmanaged", query("include_unmanaged", boolean.clone(), "Also list maps outside --maps-dir")),
        ("force_sync", query("force_sync", boolean.clone(), "Also write the change to the map file")),
        ("forceDelete", query("forceDelete", boolean, "Also delete the map file")),
        ("filter", query("filter", string.clone(), "Filters 'data.TYPE OPERATOR VALUE', separated by commas (operators eq, ne, le, lt, ge, gt)")),
        ("key", query("key", string.clone(), "Only the entry with this key")),
        ("count", query("count", integer.clone(), "At most this many entries")),
        ("offset", query("offset", integer.clone(), "Skip this many entries")),
        ("crl_index", query("index", integer.clone(), "Only this revocation list of the file, from 1")),
        ("crt_list_name", query("name", string.clone(), "The crt-list (its path or file name)")),
        ("cert_file", query("cert_file", string.clone(), "The certificate of the entry")),
        ("line_number", query("line_number", integer, "The line of the entry in the crt-list")),
        ("acme_certificate", json!({"name": "certificate", "in": "query", "required": true, "schema": {"type": "string", "pattern": "^[^\\r\\n<>*;$#&{}\"]+$"}, "description": "The certificate, as acme status names it"})),
        ("stats_type", query("type", json!({"type": "string", "enum": ["frontend", "backend", "server"]}), "Only objects of this type")),
        ("stats_name", query("name", string.clone(), "Only the object with this name")),
        ("stats_parent", query("parent", string, "Only servers of this backend (with type=server)")),
    ] {
        out.insert(key.into(), value);
    }
}

/// Schemas of the runtime operations.
pub fn schemas(out: &mut Map<String, Value>) {
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer"});
    let nint = json!({"type": "integer", "nullable": true});
    let ro = |mut v: Value| {
        v["readOnly"] = json!(true);
        v
    };
    let state = |values: &[&str]| json!({"type": "string", "enum": values});
    let obj = |props: Vec<(&str, Value)>| {
        let properties: Map<String, Value> =
            props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        json!({"type": "object", "properties": properties})
    };
    let date = json!({"type": "string", "format": "date-time"});
    out.insert(
        "acme_certificate_status".into(),
        obj(vec![
            ("certificate", string.clone()),
            ("acme_section", string.clone()),
            ("state", string.clone()),
            ("expiry_date", date.clone()),
            ("expiries_in", string.clone()),
            ("scheduled_renewal", date),
            ("renewal_in", string.clone()),
        ]),
    );
    out.insert(
        "runtime_server".into(),
        obj(vec![
            ("id", ro(string.clone())),
            ("name", ro(string.clone())),
            ("address", json!({"type": "string", "pattern": "^[^\\s]+$"})),
            (
                "port",
                json!({"type": "integer", "minimum": 1, "maximum": 65535, "nullable": true}),
            ),
            ("admin_state", state(&["ready", "maint", "drain"])),
            ("operational_state", state(&["up", "down", "stopping"])),
            ("weight", nint.clone()),
            ("uweight", ro(nint.clone())),
            ("iweight", ro(nint.clone())),
            ("backend_id", ro(nint.clone())),
            ("backend_name", ro(string.clone())),
            ("backend_forced_id", ro(nint.clone())),
            ("forced_id", ro(nint.clone())),
            ("last_time_change", ro(nint.clone())),
            ("check_status", ro(nint.clone())),
            ("check_result", ro(nint.clone())),
            ("check_health", ro(nint.clone())),
            ("check_state", ro(nint.clone())),
            ("agent_state", ro(nint.clone())),
            ("check_addr", ro(string.clone())),
            ("check_port", ro(nint.clone())),
            ("agent_addr", ro(string.clone())),
            ("agent_port", ro(nint.clone())),
            ("fqdn", ro(string.clone())),
            ("srvrecord", ro(string.clone())),
            ("use_ssl", ro(json!({"type": "boolean"}))),
        ]),
    );
    let info: Vec<(&str, Value)> = crate::runtime::info_field_names()
        .map(|name| {
            (
                name,
                match name {
                    "version" | "node" => string.clone(),
                    "release_date" => json!({"type": "string", "format": "date"}),
                    _ => nint.clone(),
                },
            )
        })
        .collect();
    out.insert(
        "process_info".into(),
        obj(vec![
            ("info", obj(info)),
            ("runtimeAPI", string.clone()),
            ("error", string.clone()),
        ]),
    );
    let stats: Vec<(&str, Value)> = crate::runtime::stats_field_names()
        .map(|(name, text)| (name, if text { string.clone() } else { nint.clone() }))
        .collect();
    out.insert(
        "native_stat".into(),
        obj(vec![
            ("name", string.clone()),
            ("type", state(&["backend", "server", "frontend"])),
            ("backend_name", string.clone()),
            ("stats", obj(stats)),
        ]),
    );
    out.insert(
        "native_stats".into(),
        obj(vec![
            ("runtimeAPI", string.clone()),
            ("error", string.clone()),
            (
                "stats",
                json!({"type": "array", "items": {"$ref": "#/components/schemas/native_stat"}}),
            ),
        ]),
    );
    out.insert(
        "map".into(),
        obj(vec![
            ("id", string.clone()),
            ("file", string.clone()),
            ("description", string.clone()),
            ("storage_name", string.clone()),
            ("size", nint.clone()),
        ]),
    );
    out.insert(
        "map_entry".into(),
        obj(vec![
            ("id", ro(string.clone())),
            ("key", string.clone()),
            ("value", string.clone()),
        ]),
    );
    out.insert(
        "map_entry_value".into(),
        json!({"type": "object", "required": ["value"], "properties": {"value": string}}),
    );
    out.insert(
        "acl_file".into(),
        obj(vec![
            ("id", string.clone()),
            ("storage_name", string.clone()),
            ("description", string.clone()),
        ]),
    );
    out.insert(
        "acl_file_entry".into(),
        obj(vec![("id", ro(string.clone())), ("value", string.clone())]),
    );
    let counters = [
        "bytes_in_cnt",
        "bytes_in_rate",
        "bytes_out_cnt",
        "bytes_out_rate",
        "conn_cnt",
        "conn_cur",
        "conn_rate",
        "glitch_cnt",
        "glitch_rate",
        "gpc0",
        "gpc0_rate",
        "gpc1",
        "gpc1_rate",
        "gpt0",
        "http_err_cnt",
        "http_err_rate",
        "http_fail_cnt",
        "http_fail_rate",
        "http_req_cnt",
        "http_req_rate",
        "server_id",
        "sess_cnt",
        "sess_rate",
    ];
    let mut field_enum: Vec<&str> = counters.to_vec();
    field_enum.extend(["gpc", "gpc_rate", "gpt"]);
    out.insert("stick_table".into(), obj(vec![
        ("name", string.clone()), ("type", state(&["ip", "ipv6", "integer", "string", "binary"])), ("size", nint.clone()), ("used", nint.clone()),
        ("fields", json!({"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string", "enum": field_enum}, "type": {"type": "string", "enum": ["rate", "counter"]}, "period": integer, "idx": integer}}})),
    ]));
    let indexed = json!({"type": "object", "properties": {"idx": integer, "value": nint}});
    let mut entry: Vec<(&str, Value)> = vec![
        ("id", string.clone()),
        ("key", string.clone()),
        ("use", json!({"type": "boolean"})),
        ("exp", nint.clone()),
    ];
    entry.extend(counters.iter().map(|c| (*c, nint.clone())));
    entry.extend([
        ("gpc", indexed.clone()),
        ("gpc_rate", indexed.clone()),
        ("gpt", indexed),
    ]);
    out.insert("stick_table_entry".into(), obj(entry));
    out.insert("stick_table_set".into(), json!({"type": "object", "required": ["key", "data_type"], "properties": {
        "key": {"type": "string", "pattern": "^[^\\r\\n;#]+$"}, "data_type": {"$ref": "#/components/schemas/stick_table_entry"}}}));
    let date_time =
        json!({"type": "string", "format": "date-time", "nullable": true, "readOnly": true});
    out.insert(
        "ssl_certificate".into(),
        obj(vec![
            ("file", ro(string.clone())),
            ("storage_name", ro(string.clone())),
            ("status", ro(string.clone())),
            ("serial", string.clone()),
            ("not_before", date_time.clone()),
            ("not_after", date_time),
            ("subject_alternative_names", ro(string.clone())),
            ("algorithm", ro(string.clone())),
            ("sha1_finger_print", ro(string.clone())),
            ("sha256_finger_print", ro(string.clone())),
            ("subject_key_id", ro(string.clone())),
            ("authority_key_id", ro(string.clone())),
            ("description", ro(string.clone())),
            ("subject", ro(string.clone())),
            ("issuers", ro(string.clone())),
            ("chain_subject", ro(string.clone())),
            ("chain_issuer", ro(string.clone())),
            ("domains", ro(string.clone())),
            ("ip_addresses", ro(string.clone())),
            ("size", ro(nint.clone())),
        ]),
    );
    out.insert(
        "ssl_ca_file".into(),
        obj(vec![
            ("file", string.clone()),
            ("storage_name", string.clone()),
            ("count", string.clone()),
        ]),
    );
    out.insert(
        "ssl_crl".into(),
        obj(vec![
            ("file", string.clone()),
            ("storage_name", string.clone()),
        ]),
    );
    let date = json!({"type": "string", "format": "date"});
    out.insert("ssl_crl_entry".into(), obj(vec![
        ("storage_name", string.clone()), ("status", string.clone()), ("version", string.clone()), ("signature_algorithm", string.clone()),
        ("issuer", string.clone()), ("last_update", date.clone()), ("next_update", date.clone()),
        ("revoked_certificates", json!({"type": "array", "items": {"type": "object", "properties": {"serial_number": string, "revocation_date": date}}})),
    ]));
    out.insert("ssl_crt_list".into(), obj(vec![("file", string.clone())]));
    out.insert(
        "ssl_crt_list_entry".into(),
        obj(vec![
            ("file", string.clone()),
            ("line_number", json!({"type": "integer", "minimum": 0})),
            ("ssl_bind_config", string.clone()),
            ("sni_filter", json!({"type": "array", "items": string})),
        ]),
    );
}
