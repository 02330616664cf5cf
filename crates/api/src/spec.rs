//! The OpenAPI 3 document of the API, generated from the operation list
//! below and from the resource schemas the keyword tables give.

use serde_json::{json, Map, Value};

/// One operation of the API.
#[derive(Clone, Copy)]
pub(crate) struct Op {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) id: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) tag: &'static str,
    /// Names of parameters in `components/parameters`.
    pub(crate) params: &'static [&'static str],
    /// Request body schema name (JSON) or "raw" (text/plain).
    pub(crate) body: Option<&'static str>,
    /// Success status and response schema (a name, "raw", or "list:NAME").
    pub(crate) ok: &'static [(u16, Option<&'static str>)],
    pub(crate) errors: &'static [u16],
    /// Its success answers carry an `ETag` (configuration resources).
    pub(crate) etag: bool,
}

const WRITE: &[&str] = &["transaction_id", "version", "force_reload"];
const READ: &[&str] = &["transaction_id"];
const READ_FULL: &[&str] = &["transaction_id", "full_section"];
const WRITE_FULL: &[&str] = &["transaction_id", "version", "force_reload", "full_section"];

macro_rules! op {
    ($method:literal, $path:expr, $id:literal, $summary:literal, $tag:literal, $params:expr, $body:expr, $ok:expr, $errors:expr) => {
        Op {
            method: $method,
            path: $path,
            id: $id,
            summary: $summary,
            tag: $tag,
            params: $params,
            body: $body,
            ok: $ok,
            errors: $errors,
            etag: false,
        }
    };
}

fn operations() -> Vec<Op> {
    let ops = vec![
        op!(
            "get",
            "/",
            "getAPIEndpoints",
            "Lists the API's endpoints",
            "Discovery",
            &[],
            None,
            &[(200, Some("list:endpoint"))],
            &[]
        ),
        op!(
            "get",
            "/health",
            "getHealth",
            "Tells whether HAProxy is up",
            "Health",
            &[],
            None,
            &[(200, Some("health"))],
            &[]
        ),
        op!(
            "get",
            "/info",
            "getInfo",
            "API and system information",
            "Information",
            &[],
            None,
            &[(200, Some("info"))],
            &[]
        ),
        op!(
            "get",
            "/specification",
            "getSpecification",
            "This OpenAPI document",
            "Specification",
            &[],
            None,
            &[(200, Some("object"))],
            &[]
        ),
        op!(
            "get",
            "/specification_openapiv3",
            "getOpenapiv3Specification",
            "This OpenAPI document (it is OpenAPI 3 at both paths)",
            "Specification",
            &[],
            None,
            &[(200, Some("object"))],
            &[]
        ),
        op!(
            "get",
            "/services/haproxy/configuration/version",
            "getConfigurationVersion",
            "The configuration version",
            "Configuration",
            READ,
            None,
            &[(200, Some("integer"))],
            &[404]
        ),
        op!(
            "get",
            "/services/haproxy/configuration/raw",
            "getHAProxyConfiguration",
            "The configuration file as text",
            "Configuration",
            &["transaction_id", "version", "config_file"],
            None,
            &[(200, Some("raw"))],
            &[404]
        ),
        op!(
            "post",
            "/services/haproxy/configuration/raw",
            "postHAProxyConfiguration",
            "Replaces the configuration file",
            "Configuration",
            &[
                "version",
                "force_reload",
                "skip_version",
                "skip_reload",
                "only_validate",
                "config_file"
            ],
            Some("raw"),
            &[(201, Some("raw")), (202, Some("raw"))],
            &[400, 403, 404, 409]
        ),
        op!(
            "get",
            "/services/haproxy/configuration/files",
            "getConfigurationFiles",
            "The configuration's files, in the order HAProxy loads them",
            "Configuration",
            &["transaction_id"],
            None,
            &[(200, Some("list:config_file"))],
            &[404]
        ),
        op!(
            "get",
            "/services/haproxy/transactions",
            "getTransactions",
            "Lists transactions",
            "Transactions",
            &["status"],
            None,
            &[(200, Some("list:transaction"))],
            &[]
        ),
        op!(
            "post",
            "/services/haproxy/transactions",
            "startTransaction",
            "Starts a transaction",
            "Transactions",
            &["version_required"],
            None,
            &[(201, Some("transaction"))],
            &[409, 429]
        ),
        op!(
            "get",
            "/services/haproxy/transactions/{id}",
            "getTransaction",
            "One transaction",
            "Transactions",
            &["id"],
            None,
            &[(200, Some("transaction"))],
            &[404]
        ),
        op!(
            "put",
            "/services/haproxy/transactions/{id}",
            "commitTransaction",
            "Commits a transaction",
            "Transactions",
            &["id", "force_reload", "only_validate_transaction"],
            None,
            &[(200, Some("transaction")), (202, Some("transaction"))],
            &[400, 404, 406]
        ),
        op!(
            "get",
            "/services/haproxy/transactions/{id}/diff",
            "getTransactionDiff",
            "The unified diff its commit would write",
            "Transactions",
            &["id"],
            None,
            &[(200, Some("raw"))],
            &[404, 406]
        ),
        op!(
            "get",
            "/services/haproxy/configuration/history",
            "getConfigurationHistory",
            "Versions of the configuration, newest first",
            "History",
            &[],
            None,
            &[(200, Some("list:history_entry"))],
            &[]
        ),
        op!(
            "get",
            "/services/haproxy/configuration/history/{version}",
            "getConfigurationHistoryVersion",
            "The configuration file of a version",
            "History",
            &["history_version"],
            None,
            &[(200, Some("raw"))],
            &[400, 404]
        ),
        op!(
            "get",
            "/services/haproxy/configuration/history/{version}/diff",
            "getConfigurationHistoryDiff",
            "The unified diff of a version from another",
            "History",
            &["history_version", "against"],
            None,
            &[(200, Some("raw"))],
            &[400, 404]
        ),
        op!(
            "post",
            "/services/haproxy/configuration/history/{version}/restore",
            "restoreConfigurationVersion",
            "Commits a version's file again, as a new version",
            "History",
            &[
                "history_version",
                "restore_version",
                "skip_version",
                "force_reload",
                "skip_reload"
            ],
            None,
            &[(201, Some("history_entry")), (202, Some("history_entry"))],
            &[400, 404, 409]
        ),
        op!(
            "delete",
            "/services/haproxy/transactions/{id}",
            "deleteTransaction",
            "Deletes a transaction",
            "Transactions",
            &["id"],
            None,
            &[(204, None)],
            &[404]
        ),
        op!(
            "get",
            "/services/haproxy/reloads",
            "getReloads",
            "Lists reloads",
            "Reloads",
            &[],
            None,
            &[(200, Some("list:reload"))],
            &[]
        ),
        op!(
            "get",
            "/services/haproxy/reloads/{id}",
            "getReload",
            "One reload",
            "Reloads",
            &["id"],
            None,
            &[(200, Some("reload"))],
            &[404]
        ),
        op!(
            "get",
            "/metrics",
            "getMetrics",
            "The API's own figures, in Prometheus' text format: requests by route and status with their latency, commits, validations and their duration, reloads by outcome, runtime changes, open transactions",
            "Metrics",
            &[],
            None,
            &[(200, Some("raw"))],
            &[]
        ),
        op!(
            "get",
            "/fleet/nodes",
            "getFleetNodes",
            "The nodes of the fleet this node joined (--fleet-etcd)",
            "Fleet",
            &[],
            None,
            &[(200, Some("list:fleet_node"))],
            &[404, 503]
        ),
        op!(
            "get",
            "/fleet/rollouts",
            "getFleetRollouts",
            "The fleet's rollouts, newest first",
            "Fleet",
            &[],
            None,
            &[(200, Some("list:rollout"))],
            &[404, 503]
        ),
        op!(
            "post",
            "/fleet/rollouts",
            "startFleetRollout",
            "Rolls a configuration out to the fleet: the canaries, then the others by batches, each checked",
            "Fleet",
            &[],
            Some("rollout_request"),
            &[(201, Some("rollout"))],
            &[400, 404, 409, 503]
        ),
        op!(
            "get",
            "/fleet/rollouts/{id}",
            "getFleetRollout",
            "One rollout, with each node's step",
            "Fleet",
            &["id"],
            None,
            &[(200, Some("rollout"))],
            &[404, 503]
        ),
        op!(
            "delete",
            "/fleet/rollouts/{id}",
            "stopFleetRollout",
            "Stops a rollout: no node starts its step after this",
            "Fleet",
            &["id"],
            None,
            &[(200, Some("rollout"))],
            &[404, 409, 503]
        ),
    ];
    ops
}

fn schema_ref(name: &str) -> Value {
    match name {
        "integer" => json!({"type": "integer"}),
        "object" => json!({"type": "object"}),
        "raw" => json!({"type": "string"}),
        list if list.starts_with("list:") => {
            json!({"type": "array", "items": schema_ref(&list[5..])})
        }
        many if many.starts_with("one_or_list:") => {
            let one = schema_ref(&many["one_or_list:".len()..]);
            json!({"anyOf": [one, {"type": "array", "items": one}]})
        }
        other => json!({"$ref": format!("#/components/schemas/{other}")}),
    }
}

fn content(name: &str) -> Value {
    if name == "multipart" {
        return json!({"multipart/form-data": {"schema": {"type": "object", "required": ["file_upload"],
            "properties": {"file_upload": {"type": "string", "format": "binary", "description": "The file"}}}}});
    }
    if name == "binary" {
        return json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}});
    }
    let media = if name == "raw" {
        "text/plain"
    } else {
        "application/json"
    };
    json!({ media: {"schema": schema_ref(name)} })
}

fn parameters() -> Value {
    let query = |name: &str, schema: Value, description: &str| json!({"name": name, "in": "query", "schema": schema, "description": description});
    let path = |name: &str, description: &str| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description});
    let boolean = json!({"type": "boolean", "default": false});
    let mut out = json!({
        "transaction_id": query("transaction_id", json!({"type": "string"}), "ID of the transaction where the change is made (or read); without it the change is committed at once"),
        "version": query("version", json!({"type": "integer"}), "Version of the configuration the change is made on; a stale version is refused with 409. Needed when no transaction_id is given"),
        "version_required": {"name": "version", "in": "query", "required": true, "schema": {"type": "integer"}, "description": "Version of the configuration to start from"},
        "force_reload": query("force_reload", boolean.clone(), "Reload HAProxy now and answer with the outcome, instead of queuing the reload (202 + Reload-ID)"),
        "skip_version": query("skip_version", boolean.clone(), "Do not check the version"),
        "skip_reload": query("skip_reload", boolean.clone(), "Write the file but do not reload HAProxy"),
        "only_validate": query("only_validate", boolean, "Only validate the configuration with haproxy -c"),
        "config_file": query("file", json!({"type": "string"}), "Which of the configuration's files (a path GET .../configuration/files lists); the first one by default"),
        "section_file": query("file", json!({"type": "string"}), "The configuration file the new section goes to (a path GET .../configuration/files lists); the last one by default"),
        "full_section": query("full_section", json!({"type": "boolean", "default": false}), "Read or write the section with its children nested (rules, servers, binds)"),
        "status": query("status", json!({"type": "string", "enum": ["failed", "outdated", "in_progress", "success"]}), "Only transactions with this status"),
        "if_match": {"name": "If-Match", "in": "header", "schema": {"type": "string"},
            "description": "Write only if the resource's ETag (from its GET) is one of these (or * : it exists); else 412. With it, version is not needed: writers of different resources never conflict"},
        "if_none_match": {"name": "If-None-Match", "in": "header", "schema": {"type": "string", "enum": ["*"]},
            "description": "*: add only if no item of that name exists; else 412. With it, version is not needed"},
        "history_version": {"name": "version", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}, "description": "A version of the history"},
        "against": query("against", json!({"type": "integer"}), "The version to compare with (default: the one kept before it)"),
        "restore_version": {"name": "version", "in": "query", "schema": {"type": "integer"}, "description": "The current version (a stale one is refused with 409); needed unless skip_version=true"},
        "only_validate_transaction": query("only_validate", json!({"type": "boolean", "default": false}), "Only check what the commit would write, with haproxy -c; nothing changes"),
        "id": path("id", "The ID"),
        "index": {"name": "index", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}, "description": "Position of the rule in its list, from 0"},
        "name": path("name", "The name"),
        "parent_name": path("parent_name", "The name of the parent section"),
        "prefix": path("prefix", "The prefix of the server template"),
    });
    if let Value::Object(map) = &mut out {
        crate::spec_runtime::parameters(map);
        crate::storage::components(map, &mut Map::new());
        // The sections that children name in a query parameter.
        for resource in haplane_model::registry::RESOURCES {
            if let Some(query) = resource.parent_query {
                let description =
                    format!("The name of the {query} section of the {}", resource.title);
                map.insert(
                    query.into(),
                    json!({"name": query, "in": "query", "required": true,
                    "schema": {"type": "string"}, "description": description}),
                );
            }
        }
    }
    out
}

fn fixed_schemas() -> Map<String, Value> {
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer"});
    let mut schemas = Map::new();
    schemas.insert("error".into(), json!({
        "type": "object", "required": ["code", "message"],
        "properties": {
            "code": {"type": "integer"}, "message": string,
            "problems": {"type": "array", "description": "Where HAProxy found problems in a refused configuration", "items": {
                "type": "object", "properties": {"line": integer, "file": string, "section": string, "resource": string, "message": string}}}
        }
    }));
    let step = json!({"type": "string", "enum": ["pending", "applying", "verifying", "done", "failed", "rolled_back"]});
    let checks = json!({"type": "object", "properties": {
        "wait_s": {"type": "integer", "minimum": 0, "description": "How long to watch HAProxy after the reload"},
        "http": {"type": "array", "items": {"type": "object", "required": ["url"], "properties": {
            "url": {"type": "string", "description": "{host} is the node's address"},
            "expect_status": {"type": "integer", "default": 200}}}},
        "max_5xx_ratio": {"type": "number", "minimum": 0, "maximum": 1, "description": "Most 5xx answers of the frontends per request over wait_s"}}});
    schemas.insert("rollout_request".into(), json!({"type": "object", "properties": {
        "raw": {"type": "string", "x-file-text": true, "description": "The new main configuration file"},
        "transaction_id": {"type": "string", "description": "Or a transaction of this node, whose file is rolled out"},
        "canary": {"type": "array", "items": string, "description": "The nodes that go first"},
        "batch_size": {"type": "integer", "minimum": 1, "default": 1},
        "checks": checks.clone()}}));
    schemas.insert(
        "rollout".into(),
        json!({"type": "object", "properties": {
        "id": string, "revision": integer,
        "state": {"type": "string", "enum": ["running", "done", "failed", "stopped"]},
        "batches": {"type": "array", "items": {"type": "array", "items": string}},
        "current": integer,
        "nodes": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "step": step.clone(), "batch": integer, "message": string}}},
        "checks": checks, "reason": string, "created": {"type": "string", "format": "date-time"},
        "origin": string, "checksum": string}}),
    );
    schemas.insert("fleet_node".into(), json!({"type": "object", "properties": {
        "name": string, "address": string, "version": integer, "checksum": string,
        "haproxy": {"type": "string", "enum": ["up", "down", "unknown"]},
        "fleet_revision": integer,
        "last_step": {"type": "object", "properties": {"rollout": string, "step": step, "message": string}},
        "updated": {"type": "string", "format": "date-time"}}}));
    schemas.insert("config_file".into(), json!({"type": "object", "properties": {
        "file": string,
        "sections": {"type": "array", "items": string, "description": "Each section's header line, in order"},
        "checksum": string,
        "size": integer,
        "read_only": {"type": "boolean", "description": "The API may not write it (--read-only-file, --read-only)"}}}));
    schemas.insert("transaction".into(), json!({"type": "object", "properties": {
        "_version": integer, "id": string, "status": {"type": "string", "enum": ["failed", "outdated", "in_progress", "success"]}}}));
    schemas.insert("history_entry".into(), json!({"type": "object", "properties": {
        "version": integer,
        "time": {"type": "string", "format": "date-time"},
        "user": {"type": "string", "nullable": true, "description": "The API user; null for a hand edit or a roll-back"},
        "client": {"type": "string", "nullable": true, "description": "The subject of the client certificate"},
        "origin": {"type": "string", "enum": ["api", "restore", "rollback", "hand_edit", "initial"]},
        "changes": {"type": "array", "items": string, "description": "Resource paths changed from the version before (/backends/web/servers/s1)"},
        "applied": {"type": "string", "enum": ["runtime", "reload", "none"]},
        "reload_id": {"type": "string", "nullable": true},
        "reload_status": {"type": "string", "nullable": true, "enum": ["failed", "in_progress", "succeeded", null]},
        "checksum": string}}));
    schemas.insert("reload".into(), json!({"type": "object", "properties": {
        "id": string, "status": {"type": "string", "enum": ["failed", "in_progress", "succeeded"]}, "response": string, "reload_timestamp": integer}}));
    schemas.insert("health".into(), json!({"type": "object", "properties": {"haproxy": {"type": "string", "enum": ["up", "down", "unknown"]}}}));
    schemas.insert("endpoint".into(), json!({"type": "object", "properties": {"title": string, "description": string, "url": string}}));
    schemas.insert("info".into(), json!({"type": "object", "properties": {
        "api": {"type": "object", "properties": {"version": string, "build_date": {"type": "string", "format": "date-time"}}},
        "system": {"type": "object", "properties": {"hostname": string, "os_string": string, "time": integer, "uptime": integer}}}}));
    crate::spec_runtime::schemas(&mut schemas);
    crate::storage::components(&mut Map::new(), &mut schemas);
    crate::spoe::schemas(&mut schemas);
    for resource in haplane_model::registry::RESOURCES {
        let schema = match resource.is_section() {
            true => resource.full_schema(),
            false => resource.item_schema(),
        };
        schemas.insert(resource.schema.into(), schema);
    }
    // A server added at runtime takes the configuration's server fields.
    let server = schemas["server"].clone();
    schemas.insert("runtime_add_server".into(), server);
    schemas
}

/// Operations on configuration resources, from the registry. Built once:
/// their paths and names are made at run time and kept for the life of
/// the process.
fn config_ops(ops: &mut Vec<Op>) {
    static CONFIG_OPS: std::sync::OnceLock<Vec<Op>> = std::sync::OnceLock::new();
    let built = CONFIG_OPS.get_or_init(|| {
        haplane_model::registry::endpoints()
            .iter()
            .map(config_op)
            .collect()
    });
    ops.extend(built.iter().copied());
}

fn leak<T: ?Sized>(value: Box<T>) -> &'static T {
    Box::leak(value)
}

fn config_op(endpoint: &haplane_model::registry::Endpoint) -> Op {
    use haplane_model::registry::Action;
    let resource = endpoint.resource;
    let title = resource.title;
    let schema = resource.schema;
    let list: &'static str = leak(format!("list:{schema}").into_boxed_str());
    let full = resource.has_full_section();
    let params: &'static [&'static str] = match (endpoint.action.writes(), full) {
        (false, false) => READ,
        (false, true) => READ_FULL,
        (true, false) => WRITE,
        (true, true) => WRITE_FULL,
    };
    // The parent named by a query parameter comes first.
    let params = match resource.parent_query {
        Some(query) => {
            let all: Vec<&'static str> = std::iter::once(query)
                .chain(params.iter().copied())
                .collect();
            leak(all.into_boxed_slice())
        }
        None => params,
    };
    // Writes may be conditional on the resource as last read.
    let condition = match endpoint.action {
        Action::List | Action::Get => None,
        Action::Create | Action::CreateOnList | Action::Append => Some("if_none_match"),
        _ => Some("if_match"),
    };
    let params = match condition {
        Some(header) => {
            let all: Vec<&'static str> = params.iter().copied().chain([header]).collect();
            leak(all.into_boxed_slice())
        }
        None => params,
    };
    // A new section goes to the file `file` names.
    let params = match endpoint.action == Action::Create && resource.is_section() {
        true => {
            let all: Vec<&'static str> = params.iter().copied().chain(["section_file"]).collect();
            leak(all.into_boxed_slice())
        }
        false => params,
    };
    let many: &'static str = leak(format!("one_or_list:{schema}").into_boxed_str());
    let (summary, body, ok, errors): (String, _, Vec<_>, &'static [u16]) = match endpoint.action {
        Action::List => (
            format!("Lists every {title}"),
            None,
            vec![(200, Some(list))],
            &[400, 404],
        ),
        Action::Get if resource.is_singleton() => (
            format!("Reads {title}"),
            None,
            vec![(200, Some(schema))],
            &[404],
        ),
        Action::Get => (
            format!("Reads one {title}"),
            None,
            vec![(200, Some(schema))],
            &[404],
        ),
        Action::Create if resource.is_indexed() => (
            format!("Inserts a {title} at the index"),
            Some(schema),
            vec![(201, Some(schema)), (202, Some(schema))],
            &[400, 404, 409, 412, 422],
        ),
        Action::Append => (
            format!("Adds a {title} at the end of the list"),
            Some(schema),
            vec![(201, Some(schema)), (202, Some(schema))],
            &[400, 404, 409, 412, 422],
        ),
        Action::Create if resource.is_singleton() => (
            format!("Creates {title}"),
            Some(schema),
            vec![(201, Some(schema)), (202, Some(schema))],
            &[400, 409, 412, 422],
        ),
        Action::Create if resource.takes_many() => (
            format!("Adds a {title}, or a list of them at once (all or none)"),
            Some(many),
            vec![(201, Some(many)), (202, Some(many))],
            &[400, 404, 409, 412, 422],
        ),
        Action::Create | Action::CreateOnList => (
            format!("Adds a {title}"),
            Some(schema),
            vec![(201, Some(schema)), (202, Some(schema))],
            &[400, 404, 409, 412, 422],
        ),
        Action::Replace if resource.is_singleton() => (
            format!("Replaces {title}"),
            Some(schema),
            vec![(200, Some(schema)), (202, Some(schema))],
            &[400, 409, 412, 422],
        ),
        Action::Replace => (
            format!("Replaces one {title}"),
            Some(schema),
            vec![(200, Some(schema)), (202, Some(schema))],
            &[400, 404, 409, 412, 422],
        ),
        Action::Delete if resource.deletes_by_value() => (
            format!("Deletes the {title} the body names"),
            Some(schema),
            vec![(202, None), (204, None)],
            &[400, 404, 409, 412],
        ),
        Action::Delete if resource.is_singleton() => (
            format!("Deletes {title}"),
            None,
            vec![(202, None), (204, None)],
            &[404, 409, 412],
        ),
        Action::Delete => (
            format!("Deletes one {title}"),
            None,
            vec![(202, None), (204, None)],
            &[404, 409, 412],
        ),
        Action::ReplaceAll => (
            format!("Replaces the whole list of {title}s"),
            Some(list),
            vec![(200, Some(list)), (202, Some(list))],
            &[400, 404, 409, 412, 422],
        ),
    };
    Op {
        method: endpoint.method,
        path: leak(endpoint.path.clone().into_boxed_str()),
        id: leak(endpoint.id.clone().into_boxed_str()),
        summary: leak(summary.into_boxed_str()),
        tag: leak(resource_tag(resource).into_boxed_str()),
        params,
        body,
        ok: leak(ok.into_boxed_slice()),
        errors,
        etag: !endpoint.action.writes(),
    }
}

/// The tag of a resource's operations: its schema's name in words.
fn resource_tag(resource: &haplane_model::registry::Resource) -> String {
    resource
        .schema
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The lists of endpoints below a path.
fn discovery_ops(ops: &mut Vec<Op>) {
    for (path, id) in crate::meta::DISCOVERY {
        ops.push(Op {
            method: "get",
            path,
            id,
            summary: "Lists the endpoints one level below",
            tag: "Discovery",
            params: &[],
            body: None,
            ok: &[(200, Some("list:endpoint"))],
            errors: &[],
            etag: false,
        });
    }
}

/// The OpenAPI document.
pub fn specification() -> Value {
    let mut ops = operations();
    discovery_ops(&mut ops);
    config_ops(&mut ops);
    ops.extend(crate::spec_runtime::ops());
    ops.extend(crate::storage::ops());
    ops.extend(crate::spoe::ops());
    let components = parameters();
    let mut paths = Map::new();
    for op in &ops {
        let mut operation = json!({
            "operationId": op.id, "summary": op.summary, "tags": [op.tag],
            "parameters": op.params.iter().map(|p| json!({"$ref": format!("#/components/parameters/{p}")})).collect::<Vec<_>>(),
        });
        // Path parameters are part of the path.
        let mut params = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let in_path = op
            .path
            .split('/')
            .rev()
            .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')));
        for name in in_path {
            let declared = op
                .params
                .iter()
                .any(|p| components[*p]["in"] == "path" && components[*p]["name"] == name);
            if !declared && !op.params.contains(&name) {
                let parameter = match components.get(name) {
                    Some(_) => json!({"$ref": format!("#/components/parameters/{name}")}),
                    None => json!({"name": name, "in": "path", "required": true,
                        "schema": {"type": "string"}, "description": "The key of the item"}),
                };
                params.insert(0, parameter);
            }
        }
        operation["parameters"] = Value::Array(params);
        if let Some(body) = op.body {
            operation["requestBody"] = json!({"required": true, "content": content(body)});
        }
        let mut responses = Map::new();
        for (status, schema) in op.ok {
            let mut response = json!({"description": "Success"});
            if op.etag {
                response["headers"] = json!({"ETag": {"description": "Strong ETag of this answer, for If-Match", "schema": {"type": "string"}}});
            }
            if *status == 202 {
                response["description"] =
                    json!("Accepted: in a transaction, or committed with the reload queued");
                response["headers"] = json!({"Reload-ID": {"description": "ID of the queued reload", "schema": {"type": "string"}}});
            }
            if let Some(schema) = schema {
                response["content"] = content(schema);
            }
            responses.insert(status.to_string(), response);
        }
        for status in op.errors.iter().chain(&[401]) {
            responses.insert(
                status.to_string(),
                json!({"description": "Error", "content": content("error")}),
            );
        }
        responses.insert(
            "default".into(),
            json!({"description": "Error", "content": content("error")}),
        );
        operation["responses"] = Value::Object(responses);
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "haplane: Data Plane API for HAProxy", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Wire-compatible with HAProxy Data Plane API v3; edits the hand-written haproxy.cfg line by line."},
        "servers": [{"url": "/v3"}],
        "security": [{"basic_auth": []}],
        "paths": paths,
        "components": {
            "schemas": fixed_schemas(),
            "parameters": components,
            "securitySchemes": {"basic_auth": {"type": "http", "scheme": "basic"}},
        },
    })
}

/// Paths of the document with their methods, for tests that every
/// documented operation is served.
pub fn documented_operations() -> Vec<(String, String)> {
    let mut ops = operations();
    discovery_ops(&mut ops);
    config_ops(&mut ops);
    ops.extend(crate::spec_runtime::ops());
    ops.extend(crate::storage::ops());
    ops.extend(crate::spoe::ops());
    ops.into_iter()
        .map(|o| (o.method.to_owned(), o.path.to_owned()))
        .collect()
}
