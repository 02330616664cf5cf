//! Codecs written by hand, for keywords whose syntax no table can describe.
//!
//! Each is named in the tables as `custom(NAME)` and has a decoder (words
//! after the keyword -> JSON, and how many words it used) and an encoder
//! (JSON -> words) here.

use serde_json::{json, Map, Value};

use crate::error::ModelError;

mod proxy;

/// The congestion control algorithms of QUIC listeners and servers.
const QUIC_CC_ALGOS: &[&str] = &["cubic", "newreno", "bbr", "nocc"];

const NAMES: &[&str] = &[
    "balance",
    "httpchk",
    "server_source",
    "expose_fd_listeners",
    "cookie",
    "source",
    "persist",
    "errorfiles",
    "cond",
    "stats_auth",
    "stats_http_request",
    "var_ref",
    "log_sample",
    "hostport",
    "user_password",
    "user_insecure_password",
    "table_type",
    "onoff_bool",
    "hostport_range",
    "log_sample_object",
    "keyvalues",
    "quic_cc_algo",
    "stats_admin",
    "stats_realm",
];

/// For codecs used with the field `.`: the keys of the object they merge
/// into the rule or resource.
pub(crate) fn merged_fields(name: &str) -> &'static [&'static str] {
    match name {
        "var_ref" => &["var_scope", "var_name"],
        "log_sample" => &["sample_range", "sample_size"],
        "hostport" => &["address", "port"],
        "hostport_range" => &["address", "port", "port-range-end"],
        "cond" => &["cond", "cond_test"],
        "user_password" | "user_insecure_password" => &["password", "secure_password"],
        "table_type" => &["type", "type_len"],
        "quic_cc_algo" => &["quic-cc-algo", "quic_cc_algo_max_window"],
        "stats_admin" => &["stats_admin", "stats_admin_cond", "stats_admin_cond_test"],
        "stats_realm" => &["stats_realm", "stats_realm_realm"],
        _ => &[],
    }
}

pub(crate) fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

/// The JSON Schema of a custom codec's value.
pub(crate) fn schema(name: &str) -> Value {
    let string = json!({"type": "string"});
    let cond = json!({"cond": {"type": "string", "enum": ["if", "unless"]}, "cond_test": string});
    let object = |props: Value| json!({"type": "object", "properties": props});
    match name {
        "server_source" => string,
        "expose_fd_listeners" => json!({"type": "boolean"}),
        "balance" => object(json!({
            "algorithm": {"type": "string", "enum": ALGORITHMS},
            "hash_expression": string, "hdr_name": string, "hdr_use_domain_only": {"type": "boolean"},
            "random_draws": {"type": "integer"}, "rdp_cookie_name": string,
            "uri_depth": {"type": "integer"}, "uri_len": {"type": "integer"},
            "uri_path_only": {"type": "boolean"}, "uri_whole": {"type": "boolean"},
            "url_param": string, "url_param_check_post": {"type": "integer"},
            "url_param_max_wait": {"type": "integer"},
        })),
        "httpchk" => object(json!({
            "host": string, "method": {"type": "string", "enum": METHODS}, "uri": string, "version": string,
        })),
        "cookie" => {
            let values = json!({"type": "array", "items": object(json!({"value": string}))});
            object(json!({
                "name": string, "type": {"type": "string", "enum": ["rewrite", "insert", "prefix"]},
                "indirect": {"type": "boolean"}, "nocache": {"type": "boolean"}, "postonly": {"type": "boolean"},
                "preserve": {"type": "boolean"}, "httponly": {"type": "boolean"}, "secure": {"type": "boolean"},
                "dynamic": {"type": "boolean"}, "domain": values, "attr": values,
                "maxidle": {"type": "integer"}, "maxlife": {"type": "integer"},
            }))
        }
        "source" => object(json!({
            "address": string, "port": {"type": "integer"}, "interface": string,
            "usesrc": {"type": "string", "enum": ["address", "client", "clientip", "hdr_ip"]},
            "address_second": string, "port_second": {"type": "integer"}, "hdr": string, "occ": string,
        })),
        "persist" => object(
            json!({"type": {"type": "string", "enum": ["rdp-cookie"]}, "rdp_cookie_name": string}),
        ),
        "errorfiles" => object(
            json!({"name": string, "codes": {"type": "array", "items": {"type": "integer"}}}),
        ),
        "cond" => object(cond),
        "var_ref" => object(json!({"var_scope": string, "var_name": string})),
        "log_sample" => object(json!({"sample_range": string, "sample_size": {"type": "integer"}})),
        "user_password" | "user_insecure_password" => {
            object(json!({"password": string, "secure_password": {"type": "boolean"}}))
        }
        "table_type" => object(json!({
            "type": {"type": "string", "enum": TABLE_TYPES},
            "type_len": {"type": "integer", "minimum": 1},
        })),
        "onoff_bool" => json!({"type": "boolean"}),
        "keyvalues" => json!({"type": "object", "additionalProperties": string}),
        "stats_admin" => object(json!({
            "stats_admin": {"type": "boolean"},
            "stats_admin_cond": {"type": "string", "enum": ["if", "unless"]},
            "stats_admin_cond_test": string,
        })),
        "stats_realm" => {
            object(json!({"stats_realm": {"type": "boolean"}, "stats_realm_realm": string}))
        }
        "quic_cc_algo" => object(json!({
            "quic-cc-algo": {"type": "string", "enum": QUIC_CC_ALGOS},
            "quic_cc_algo_max_window": {"type": "integer", "minimum": 10, "maximum": 4194304,
                "nullable": true, "x-default-unit": "k", "x-size": true},
        })),
        "hostport_range" => {
            let port = json!({"type": "integer", "minimum": 1, "maximum": 65535});
            object(json!({"address": string, "port": port, "port-range-end": port}))
        }
        "log_sample_object" => json!({"type": "object", "required": ["ranges", "size"],
            "properties": {"ranges": string, "size": {"type": "integer"}}}),
        "hostport" => object(json!({
            "address": string,
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "nullable": true},
        })),
        "stats_auth" => object(json!({"user": string, "passwd": string})),
        "stats_http_request" => {
            let mut props = cond;
            props["type"] = json!({"type": "string", "enum": ["allow", "deny", "auth"]});
            props["realm"] = string;
            object(props)
        }
        _ => json!({"type": "object"}),
    }
}

/// Decodes the words after a keyword; returns the value and how many words
/// it used (inside a line, the words after them are other keywords).
pub(crate) fn decode(name: &str, args: &[&str]) -> Result<(Value, usize), String> {
    let all = |value: Value| (value, args.len());
    match name {
        "balance" => decode_balance(args).map(all),
        "httpchk" => decode_httpchk(args).map(all),
        "server_source" => decode_server_source(args),
        "expose_fd_listeners" => match args.first() {
            Some(&"listeners") => Ok((json!(true), 1)),
            _ => Err("expected 'listeners'".into()),
        },
        "cookie" => proxy::decode_cookie(args).map(all),
        "source" => proxy::decode_source(args).map(all),
        "persist" => proxy::decode_persist(args).map(all),
        "errorfiles" => proxy::decode_errorfiles(args).map(all),
        "cond" => proxy::decode_cond(args).map(|c| all(Value::Object(c))),
        "stats_auth" => proxy::decode_stats_auth(args).map(all),
        "stats_http_request" => proxy::decode_stats_http_request(args).map(all),
        "var_ref" => match args.first().and_then(|a| a.split_once('.')) {
            Some((scope, name)) if !scope.is_empty() && !name.is_empty() => {
                Ok((json!({"var_scope": scope, "var_name": name}), 1))
            }
            _ => Err("expected SCOPE.NAME".into()),
        },
        // `sample RANGES:SIZE`; the ranges hold commas and dashes.
        "log_sample" => match args.first().and_then(|a| a.rsplit_once(':')) {
            Some((ranges, size)) if !ranges.is_empty() => match size.parse::<i64>() {
                Ok(size) => Ok((json!({"sample_range": ranges, "sample_size": size}), 1)),
                Err(_) => Err(format!("'{size}' is not an integer")),
            },
            _ => Err("expected RANGES:SIZE".into()),
        },
        "user_password" | "user_insecure_password" => match args.first() {
            Some(secret) => {
                let secure = name == "user_password";
                Ok((json!({"password": secret, "secure_password": secure}), 1))
            }
            None => Err("expected a password".into()),
        },
        // `type T`, `type string|binary len N`.
        "table_type" => match args {
            [kind, len, n, ..] if *len == "len" && ["string", "binary"].contains(kind) => {
                let n: i64 = n.parse().map_err(|_| format!("'{n}' is not a length"))?;
                Ok((json!({"type": kind, "type_len": n}), 3))
            }
            [kind, ..] if TABLE_TYPES.contains(kind) => Ok((json!({"type": kind}), 1)),
            _ => Err(format!("expected one of {}", TABLE_TYPES.join(", "))),
        },
        // `ALGO`, `ALGO()` or `ALGO(MAXWINDOW)`; the window in KiB.
        "quic_cc_algo" => {
            let word = args.first().ok_or("expected an algorithm")?;
            let (algo, window) = match word.split_once('(') {
                Some((algo, rest)) => {
                    let inner = rest.strip_suffix(')').ok_or("expected ALGO(WINDOW)")?;
                    (algo, Some(inner))
                }
                None => (*word, None),
            };
            if !QUIC_CC_ALGOS.contains(&algo) {
                return Err(format!(
                    "'{algo}' is not one of {}",
                    QUIC_CC_ALGOS.join(", ")
                ));
            }
            let mut out = Map::new();
            out.insert("quic-cc-algo".into(), json!(algo));
            match window.filter(|w| !w.is_empty()) {
                None => {}
                Some(w) => match crate::value::parse_size(w) {
                    Some(bytes) if bytes % 1024 == 0 => {
                        out.insert("quic_cc_algo_max_window".into(), json!(bytes / 1024));
                    }
                    _ => return Err(format!("'{w}' is not a size in whole KiB")),
                },
            }
            Ok((Value::Object(out), 1))
        }
        // `stats admin {if|unless} COND`: all three fields at once.
        "stats_admin" => {
            let cond = proxy::decode_cond(args)?;
            let out = json!({
                "stats_admin": true,
                "stats_admin_cond": cond["cond"],
                "stats_admin_cond_test": cond["cond_test"],
            });
            Ok((out, args.len()))
        }
        // `stats realm REALM`: the realm, and that there is one.
        "stats_realm" => match args {
            [] => Err("expected a realm".into()),
            words => Ok((
                json!({"stats_realm": true, "stats_realm_realm": words.join(" ")}),
                words.len(),
            )),
        },
        // `KEY=VALUE,KEY=VALUE`: one word.
        "keyvalues" => match args.first() {
            Some(word) => {
                let mut out = Map::new();
                for pair in word.split(',') {
                    match pair.split_once('=') {
                        Some((key, value)) if !key.is_empty() => {
                            out.insert(key.into(), json!(value));
                        }
                        _ => return Err(format!("'{pair}' is not KEY=VALUE")),
                    }
                }
                Ok((Value::Object(out), 1))
            }
            None => Err("expected KEY=VALUE,...".into()),
        },
        "onoff_bool" => match args.first() {
            Some(&"on") => Ok((json!(true), 1)),
            Some(&"off") => Ok((json!(false), 1)),
            _ => Err("expected on or off".into()),
        },
        // `ADDR:PORT[-END]`, `[V6]:PORT`, `:PORT`: one word.
        "hostport_range" => match args.first() {
            Some(word) => {
                let (address, port, end) = crate::child::split_address(word);
                let Some(port) = port else {
                    return Err(format!("'{word}' has no port"));
                };
                if end.is_some_and(|e| e <= port) {
                    return Err(format!("'{word}': the range must end above its start"));
                }
                let mut out = Map::new();
                if !address.is_empty() {
                    out.insert("address".into(), json!(address));
                }
                out.insert("port".into(), json!(port));
                if let Some(end) = end {
                    out.insert("port-range-end".into(), json!(end));
                }
                Ok((Value::Object(out), 1))
            }
            None => Err("expected ADDRESS:PORT".into()),
        },
        "log_sample_object" => match args.first().and_then(|a| a.rsplit_once(':')) {
            Some((ranges, size)) if !ranges.is_empty() => match size.parse::<i64>() {
                Ok(size) => Ok((json!({"ranges": ranges, "size": size}), 1)),
                Err(_) => Err(format!("'{size}' is not an integer")),
            },
            _ => Err("expected RANGES:SIZE".into()),
        },
        // `ADDR[:PORT]`, `[V6]:PORT`: one word.
        "hostport" => match args.first() {
            Some(word) if !word.is_empty() => {
                let (address, port, end) = crate::child::split_address(word);
                if end.is_some() || address.is_empty() {
                    return Err(format!("'{word}' is not ADDRESS[:PORT]"));
                }
                let mut out = Map::new();
                out.insert("address".into(), json!(address));
                if let Some(port) = port {
                    out.insert("port".into(), json!(port));
                }
                Ok((Value::Object(out), 1))
            }
            _ => Err("expected ADDRESS[:PORT]".into()),
        },

        _ => Err(format!("unknown custom codec {name}")),
    }
}

/// Encodes `value`; `Ok(None)` means "nothing to write".
pub(crate) fn encode(
    name: &str,
    value: &Value,
    field: &str,
) -> Result<Option<Vec<String>>, ModelError> {
    let object = || {
        value
            .as_object()
            .ok_or_else(|| ModelError::invalid(field, format!("expected an object, got {value}")))
    };
    match name {
        "balance" => encode_balance(object()?, field).map(Some),
        "stats_admin" => {
            let object = object()?;
            match object.get("stats_admin") {
                None | Some(Value::Null) | Some(Value::Bool(false)) => {
                    let given = ["stats_admin_cond", "stats_admin_cond_test"]
                        .into_iter()
                        .find(|k| object.get(*k).is_some_and(|v| !v.is_null()));
                    match given {
                        Some(k) => Err(ModelError::invalid(k, "needs stats_admin: true")),
                        None => Ok(None),
                    }
                }
                Some(Value::Bool(true)) => {
                    let mut cond = Map::new();
                    for (from, to) in [
                        ("stats_admin_cond", "cond"),
                        ("stats_admin_cond_test", "cond_test"),
                    ] {
                        match object.get(from) {
                            Some(v) if !v.is_null() => {
                                cond.insert(to.into(), v.clone());
                            }
                            _ => {
                                let message =
                                    "stats admin needs a condition (if or unless, and its test)";
                                return Err(ModelError::invalid(from, message));
                            }
                        }
                    }
                    proxy::encode_cond(&cond, "stats_admin_cond", &[]).map(Some)
                }
                Some(other) => Err(ModelError::invalid(
                    "stats_admin",
                    format!("expected true or false, got {other}"),
                )),
            }
        }
        "stats_realm" => {
            let object = object()?;
            let realm = match object.get("stats_realm_realm") {
                Some(Value::String(realm)) if !realm.trim().is_empty() => Some(realm),
                None | Some(Value::Null) => None,
                Some(other) => {
                    return Err(ModelError::invalid(
                        "stats_realm_realm",
                        format!("expected a realm, got {other}"),
                    ))
                }
            };
            match (object.get("stats_realm"), realm) {
                (Some(Value::Bool(false)), _) => Ok(None),
                (_, Some(realm)) => Ok(Some(vec![realm.clone()])),
                (Some(Value::Bool(true)), None) => Err(ModelError::invalid(
                    "stats_realm_realm",
                    "stats realm needs a realm",
                )),
                _ => Ok(None),
            }
        }
        "quic_cc_algo" => {
            let object = object()?;
            let Some(algo) = object.get("quic-cc-algo") else {
                return match object.get("quic_cc_algo_max_window") {
                    Some(v) if !v.is_null() => Err(ModelError::invalid(
                        "quic_cc_algo_max_window",
                        "needs quic-cc-algo",
                    )),
                    _ => Ok(None),
                };
            };
            let algo = algo
                .as_str()
                .filter(|a| QUIC_CC_ALGOS.contains(a))
                .ok_or_else(|| {
                    let message = format!("{algo} is not one of {}", QUIC_CC_ALGOS.join(", "));
                    ModelError::invalid("quic-cc-algo", message)
                })?;
            match object.get("quic_cc_algo_max_window") {
                None | Some(Value::Null) => Ok(Some(vec![algo.to_owned()])),
                Some(window) => match window.as_i64() {
                    Some(k) if (10..=4_194_304).contains(&k) => {
                        Ok(Some(vec![format!("{algo}({k}k)")]))
                    }
                    _ => Err(ModelError::invalid(
                        "quic_cc_algo_max_window",
                        format!("{window} is not a window in KiB from 10 to 4194304"),
                    )),
                },
            }
        }
        "keyvalues" => {
            let mut pairs = Vec::new();
            for (key, v) in object()? {
                let Some(v) = v.as_str() else {
                    return Err(ModelError::invalid(
                        field,
                        format!("{key}: expected a string, got {v}"),
                    ));
                };
                let plain = |s: &str| !s.contains([',', '=']);
                if key.is_empty() || !plain(key) || !plain(v) {
                    let message = format!("{key}={v}: keys and values cannot hold ',' or '='");
                    return Err(ModelError::invalid(field, message));
                }
                pairs.push(format!("{key}={v}"));
            }
            Ok((!pairs.is_empty()).then(|| vec![pairs.join(",")]))
        }
        "httpchk" => encode_httpchk(object()?, field).map(Some),
        "server_source" => encode_server_source(value, field).map(Some),
        "expose_fd_listeners" => match value.as_bool() {
            Some(true) => Ok(Some(vec!["listeners".into()])),
            Some(false) => Ok(None),
            None => Err(ModelError::invalid(
                field,
                format!("expected true or false, got {value}"),
            )),
        },
        "cookie" => proxy::encode_cookie(object()?, field).map(Some),
        "source" => proxy::encode_source(object()?, field).map(Some),
        "persist" => proxy::encode_persist(object()?, field).map(Some),
        "errorfiles" => proxy::encode_errorfiles(object()?, field).map(Some),
        "cond" => proxy::encode_cond(object()?, field, &[]).map(Some),
        "stats_auth" => proxy::encode_stats_auth(object()?, field).map(Some),
        "stats_http_request" => proxy::encode_stats_http_request(object()?, field).map(Some),
        "log_sample" => {
            let o = object()?;
            match (o.get("sample_range"), o.get("sample_size")) {
                (None, None) => Ok(None),
                (Some(Value::String(r)), Some(Value::Number(n)))
                    if !r.is_empty() && !r.contains(char::is_whitespace) && n.is_i64() =>
                {
                    Ok(Some(vec![format!("{r}:{n}")]))
                }
                (Some(Value::String(_)), None) => Err(ModelError::MissingField {
                    field: "sample_size".into(),
                }),
                (None, Some(_)) => Err(ModelError::MissingField {
                    field: "sample_range".into(),
                }),
                (range, size) => Err(ModelError::invalid(
                    "sample_range",
                    format!("expected ranges and an integer size, got {range:?} and {size:?}"),
                )),
            }
        }
        "var_ref" => {
            let o = object()?;
            match (
                o.get("var_scope").and_then(Value::as_str),
                o.get("var_name").and_then(Value::as_str),
            ) {
                (Some(scope), Some(name)) if !scope.is_empty() && !name.is_empty() => {
                    Ok(Some(vec![format!("{scope}.{name}")]))
                }
                _ => Err(ModelError::MissingField {
                    field: "var_name".into(),
                }),
            }
        }
        "user_password" | "user_insecure_password" => {
            let o = object()?;
            let secure = match o.get("secure_password") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    let message = format!("expected true or false, got {other}");
                    return Err(ModelError::invalid("secure_password", message));
                }
            };
            if secure != (name == "user_password") {
                return Ok(None);
            }
            match o.get("password") {
                Some(Value::String(p)) if !p.is_empty() => Ok(Some(vec![p.clone()])),
                None | Some(Value::Null) if !secure => Ok(None),
                None | Some(Value::Null) => Err(ModelError::MissingField {
                    field: "password".into(),
                }),
                Some(other) => {
                    let message = format!("expected a non-empty string, got {other}");
                    Err(ModelError::invalid("password", message))
                }
            }
        }
        "table_type" => {
            let o = object()?;
            let kind = match o.get("type") {
                Some(Value::String(k)) if TABLE_TYPES.contains(&k.as_str()) => k.clone(),
                None | Some(Value::Null) => {
                    return Err(ModelError::MissingField {
                        field: "type".into(),
                    })
                }
                Some(other) => {
                    let message = format!("{other} is not one of {}", TABLE_TYPES.join(", "));
                    return Err(ModelError::invalid("type", message));
                }
            };
            match o.get("type_len") {
                None | Some(Value::Null) => Ok(Some(vec![kind])),
                Some(v) => match v.as_i64() {
                    Some(n) if n > 0 && (kind == "string" || kind == "binary") => {
                        Ok(Some(vec![kind, "len".into(), n.to_string()]))
                    }
                    Some(_) if n_is_positive(v) => Err(ModelError::invalid(
                        "type_len",
                        format!("only a string or binary table has a length, not {kind}"),
                    )),
                    _ => Err(ModelError::invalid(
                        "type_len",
                        format!("expected a positive integer, got {v}"),
                    )),
                },
            }
        }
        "onoff_bool" => match value.as_bool() {
            Some(true) => Ok(Some(vec!["on".into()])),
            Some(false) => Ok(Some(vec!["off".into()])),
            None => Err(ModelError::invalid(
                field,
                format!("expected true or false, got {value}"),
            )),
        },
        "hostport_range" => {
            let o = object()?;
            let port = |key: &str| crate::child::port(o, key);
            let (Some(start), end) = (port("port")?, port("port-range-end")?) else {
                return Err(ModelError::MissingField {
                    field: "port".into(),
                });
            };
            if end.is_some_and(|e| e <= start) {
                let message = "must be above port";
                return Err(ModelError::invalid("port-range-end", message));
            }
            let address = match o.get("address") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(a)) if !a.contains(char::is_whitespace) => a.clone(),
                Some(other) => {
                    let message = format!("expected one word, got {other}");
                    return Err(ModelError::invalid("address", message));
                }
            };
            let address = match address.contains(':') && !address.starts_with('[') {
                true => format!("[{address}]"),
                false => address,
            };
            let range = end.map(|e| format!("-{e}")).unwrap_or_default();
            Ok(Some(vec![format!("{address}:{start}{range}")]))
        }
        "log_sample_object" => {
            let o = object()?;
            match (o.get("ranges"), o.get("size")) {
                (Some(Value::String(r)), Some(Value::Number(n)))
                    if !r.is_empty() && !r.contains(char::is_whitespace) && n.is_i64() =>
                {
                    Ok(Some(vec![format!("{r}:{n}")]))
                }
                (None, _) => Err(ModelError::MissingField {
                    field: format!("{field}.ranges"),
                }),
                (_, None) => Err(ModelError::MissingField {
                    field: format!("{field}.size"),
                }),
                (range, size) => Err(ModelError::invalid(
                    field,
                    format!("expected ranges and an integer size, got {range:?} and {size:?}"),
                )),
            }
        }
        "hostport" => {
            let o = object()?;
            let address = match o.get("address") {
                Some(Value::String(a)) if !a.is_empty() && !a.contains(char::is_whitespace) => a,
                None | Some(Value::Null) => {
                    return Err(ModelError::MissingField {
                        field: "address".into(),
                    })
                }
                Some(other) => {
                    let message = format!("expected one word, got {other}");
                    return Err(ModelError::invalid("address", message));
                }
            };
            let port = crate::child::port(o, "port")?;
            Ok(Some(vec![match port {
                Some(p) if address.contains(':') && !address.starts_with('[') => {
                    format!("[{address}]:{p}")
                }
                Some(p) => format!("{address}:{p}"),
                None => address.clone(),
            }]))
        }

        _ => unreachable!("custom codec names are checked when the tables load"),
    }
}

/// `source ADDR[:PORT[-PORT]] [usesrc WORD] [interface NAME]` on a server
/// line, as one string.
fn decode_server_source(args: &[&str]) -> Result<(Value, usize), String> {
    if args.is_empty() {
        return Err("expected an address".into());
    }
    let mut used = 1;
    for option in ["usesrc", "interface"] {
        if args.get(used) == Some(&option) {
            if args.len() < used + 2 {
                return Err(format!("'{option}' needs a value"));
            }
            used += 2;
        }
    }
    Ok((json!(args[..used].join(" ")), used))
}

fn encode_server_source(value: &Value, field: &str) -> Result<Vec<String>, ModelError> {
    let text = value
        .as_str()
        .ok_or_else(|| ModelError::invalid(field, format!("expected a string, got {value}")))?;
    let words: Vec<&str> = text.split_whitespace().collect();
    match decode_server_source(&words) {
        Ok((_, used)) if used == words.len() => Ok(words.iter().map(|w| w.to_string()).collect()),
        _ => Err(ModelError::invalid(
            field,
            format!("'{text}' is not ADDR[:PORT] [usesrc ADDR] [interface NAME]"),
        )),
    }
}

/// The key types of a peers section's `table`, as the reference lists them.
const TABLE_TYPES: &[&str] = &["ip", "integer", "string", "binary"];

fn n_is_positive(v: &Value) -> bool {
    v.as_i64().is_some_and(|n| n > 0)
}

const ALGORITHMS: &[&str] = &[
    "first",
    "hash",
    "hdr",
    "leastconn",
    "random",
    "rdp-cookie",
    "roundrobin",
    "source",
    "static-rr",
    "uri",
    "url_param",
];

fn number(word: Option<&&str>) -> Result<i64, String> {
    let word = word.ok_or("expected a number")?;
    word.parse()
        .map_err(|_| format!("'{word}' is not a number"))
}

/// `balance ALGO[(ARG)] [OPTIONS]`: `hdr(Host) use_domain_only`,
/// `random(2)`, `rdp-cookie(mstshash)`, `url_param id check_post 64`,
/// `uri whole len 10 depth 2 path-only`, `hash req.cookie(id)`.
fn decode_balance(args: &[&str]) -> Result<Value, String> {
    let (first, rest) = args.split_first().ok_or("expected an algorithm")?;
    let (algorithm, inner) = match first.split_once('(') {
        Some((a, r)) => (a, Some(r.strip_suffix(')').ok_or("unclosed parenthesis")?)),
        None => (*first, None),
    };
    if !ALGORITHMS.contains(&algorithm) {
        return Err(format!("unknown balance algorithm '{algorithm}'"));
    }
    let mut out = Map::new();
    out.insert("algorithm".into(), json!(algorithm));
    let no_more = |rest: &[&str]| match rest {
        [] => Ok(()),
        _ => Err(format!("unexpected '{}'", rest.join(" "))),
    };
    match (algorithm, inner) {
        ("hdr", Some(name)) => {
            out.insert("hdr_name".into(), json!(name));
            match rest {
                [] => {}
                ["use_domain_only"] => {
                    out.insert("hdr_use_domain_only".into(), json!(true));
                }
                _ => return Err("expected use_domain_only".into()),
            }
        }
        ("random", arg) => {
            if let Some(n) = arg {
                out.insert("random_draws".into(), json!(number(Some(&n))?));
            }
            no_more(rest)?;
        }
        ("rdp-cookie", arg) => {
            if let Some(name) = arg {
                out.insert("rdp_cookie_name".into(), json!(name));
            }
            no_more(rest)?;
        }
        ("url_param", None) => {
            let (param, mut rest) = rest.split_first().ok_or("expected a parameter name")?;
            out.insert("url_param".into(), json!(param));
            while let Some((word, tail)) = rest.split_first() {
                let key = match *word {
                    "check_post" => "url_param_check_post",
                    "max_wait" => "url_param_max_wait",
                    _ => return Err(format!("unexpected '{word}'")),
                };
                // `check_post` alone is valid: its size is optional (0).
                match tail.first().map(|w| w.parse::<i64>()) {
                    Some(Ok(n)) => {
                        out.insert(key.into(), json!(n));
                        rest = &tail[1..];
                    }
                    _ if *word == "check_post" => {
                        out.insert(key.into(), json!(0));
                        rest = tail;
                    }
                    _ => return Err(format!("'{word}' needs a number")),
                }
            }
        }
        ("uri", None) => {
            let mut rest = rest;
            while let Some((word, tail)) = rest.split_first() {
                rest = tail;
                match *word {
                    "whole" => {
                        out.insert("uri_whole".into(), json!(true));
                    }
                    "path-only" => {
                        out.insert("uri_path_only".into(), json!(true));
                    }
                    "len" | "depth" => {
                        out.insert(format!("uri_{word}"), json!(number(tail.first())?));
                        rest = &tail[1..];
                    }
                    _ => return Err(format!("unexpected '{word}'")),
                }
            }
        }
        ("hash", None) => {
            if rest.is_empty() {
                return Err("expected a hash expression".into());
            }
            out.insert("hash_expression".into(), json!(rest.join(" ")));
        }
        (_, None) => no_more(rest)?,
        (_, Some(_)) => return Err(format!("'{algorithm}' takes no argument")),
    }
    Ok(Value::Object(out))
}

fn encode_balance(b: &Map<String, Value>, field: &str) -> Result<Vec<String>, ModelError> {
    let sub = |k: &str| format!("{field}.{k}");
    let text = |k: &str| -> Result<Option<String>, ModelError> {
        match b.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() && !s.contains(char::is_whitespace) => {
                Ok(Some(s.clone()))
            }
            Some(v) => Err(ModelError::invalid(
                sub(k),
                format!("expected one word, got {v}"),
            )),
        }
    };
    let int = |k: &str| -> Result<Option<i64>, ModelError> {
        match b.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().filter(|n| *n >= 0).map(Some).ok_or_else(|| {
                ModelError::invalid(sub(k), format!("expected a positive integer, got {v}"))
            }),
        }
    };
    let flag = |k: &str| b.get(k).and_then(Value::as_bool).unwrap_or(false);
    let algorithm = match b.get("algorithm") {
        Some(Value::String(a)) if ALGORITHMS.contains(&a.as_str()) => a.as_str(),
        Some(other) => {
            let message = format!("{other} is not one of {}", ALGORITHMS.join(", "));
            return Err(ModelError::invalid(sub("algorithm"), message));
        }
        None => {
            return Err(ModelError::MissingField {
                field: sub("algorithm"),
            })
        }
    };
    const KNOWN: &[&str] = &[
        "algorithm",
        "hash_expression",
        "hdr_name",
        "hdr_use_domain_only",
        "random_draws",
        "rdp_cookie_name",
        "uri_depth",
        "uri_len",
        "uri_path_only",
        "uri_whole",
        "url_param",
        "url_param_check_post",
        "url_param_max_wait",
    ];
    if let Some(unknown) = b.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ModelError::UnknownField {
            field: sub(unknown),
        });
    }
    let mut out = Vec::new();
    match algorithm {
        "hdr" => {
            let name = text("hdr_name")?.ok_or(ModelError::MissingField {
                field: sub("hdr_name"),
            })?;
            out.push(format!("hdr({name})"));
            if flag("hdr_use_domain_only") {
                out.push("use_domain_only".into());
            }
        }
        "random" => out.push(match int("random_draws")? {
            Some(n) => format!("random({n})"),
            None => "random".into(),
        }),
        "rdp-cookie" => out.push(match text("rdp_cookie_name")? {
            Some(n) => format!("rdp-cookie({n})"),
            None => "rdp-cookie".into(),
        }),
        "url_param" => {
            let param = text("url_param")?.ok_or(ModelError::MissingField {
                field: sub("url_param"),
            })?;
            out.extend(["url_param".to_owned(), param]);
            match int("url_param_check_post")? {
                Some(0) => out.push("check_post".to_owned()),
                Some(n) => out.extend(["check_post".to_owned(), n.to_string()]),
                None => {}
            }
            if let Some(n) = int("url_param_max_wait")? {
                out.extend(["max_wait".to_owned(), n.to_string()]);
            }
        }
        "uri" => {
            out.push("uri".into());
            if flag("uri_whole") {
                out.push("whole".into());
            }
            if let Some(n) = int("uri_len")? {
                out.extend(["len".to_owned(), n.to_string()]);
            }
            if let Some(n) = int("uri_depth")? {
                out.extend(["depth".to_owned(), n.to_string()]);
            }
            if flag("uri_path_only") {
                out.push("path-only".into());
            }
        }
        "hash" => {
            let expr = match b.get("hash_expression") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                _ => {
                    return Err(ModelError::MissingField {
                        field: sub("hash_expression"),
                    })
                }
            };
            out.push("hash".into());
            out.extend(expr.split_whitespace().map(str::to_owned));
        }
        other => out.push(other.to_owned()),
    }
    Ok(out)
}

const METHODS: &[&str] = &[
    "HEAD", "PUT", "POST", "GET", "TRACE", "PATCH", "DELETE", "CONNECT", "OPTIONS",
];

/// `option httpchk`, `option httpchk URI`, `option httpchk METHOD URI
/// [VERSION]`; a version of the form `HTTP/1.1\r\nHost:\ NAME` gives `host`.
fn decode_httpchk(args: &[&str]) -> Result<Value, String> {
    let mut out = Map::new();
    match args {
        [] => {}
        [uri] => {
            out.insert("uri".into(), json!(uri));
        }
        [method, uri, version @ ..] if version.len() <= 1 => {
            if !METHODS.contains(method) {
                return Err(format!("unknown method '{method}'"));
            }
            out.insert("method".into(), json!(method));
            out.insert("uri".into(), json!(uri));
            if let Some(version) = version.first() {
                match version.split_once("\r\nHost: ") {
                    Some((v, host)) => {
                        out.insert("version".into(), json!(v));
                        out.insert("host".into(), json!(host));
                    }
                    None => {
                        out.insert("version".into(), json!(version));
                    }
                }
            }
        }
        _ => return Err("expected [METHOD] URI [VERSION]".into()),
    }
    Ok(Value::Object(out))
}

fn encode_httpchk(h: &Map<String, Value>, field: &str) -> Result<Vec<String>, ModelError> {
    let sub = |k: &str| format!("{field}.{k}");
    let get = |k: &str| -> Result<Option<&str>, ModelError> {
        match h.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.as_str())),
            Some(v) => Err(ModelError::invalid(
                sub(k),
                format!("expected a non-empty string, got {v}"),
            )),
        }
    };
    if let Some(unknown) = h
        .keys()
        .find(|k| !["host", "method", "uri", "version"].contains(&k.as_str()))
    {
        return Err(ModelError::UnknownField {
            field: sub(unknown),
        });
    }
    let (method, uri, version, host) = (get("method")?, get("uri")?, get("version")?, get("host")?);
    if let Some(m) = method {
        if !METHODS.contains(&m) {
            let message = format!("'{m}' is not one of {}", METHODS.join(", "));
            return Err(ModelError::invalid(sub("method"), message));
        }
    }
    if let Some(u) = uri {
        if u.contains(' ') {
            return Err(ModelError::invalid(
                sub("uri"),
                "a URI cannot contain spaces",
            ));
        }
    }
    Ok(match (method, uri, version, host) {
        (None, None, None, None) => vec![],
        (None, Some(uri), None, None) => vec![uri.to_owned()],
        (method, uri, version, host) => {
            let mut out = vec![
                method.unwrap_or("GET").to_owned(),
                uri.unwrap_or("/").to_owned(),
            ];
            match (version, host) {
                (v, Some(host)) => out.push(format!("{}\r\nHost: {host}", v.unwrap_or("HTTP/1.1"))),
                (Some(v), None) => out.push(v.to_owned()),
                (None, None) => {}
            }
            out
        }
    })
}
