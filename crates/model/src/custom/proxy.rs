//! Hand-written codecs for proxy keywords with irregular syntax: `cookie`,
//! `source`, `persist`, `errorfiles`, conditions (`monitor fail`,
//! `force-persist`, `ignore-persist`), `stats auth` and `stats http-request`.

use serde_json::{json, Map, Value};

use crate::error::ModelError;
use crate::value::parse_time;

fn one_word(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_whitespace)
}

/// Reads the optional string `key` of `o`; it must be one word.
fn word(o: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, ModelError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if one_word(s) => Ok(Some(s.clone())),
        Some(v) => Err(ModelError::invalid(
            format!("{field}.{key}"),
            format!("expected one word, got {v}"),
        )),
    }
}

fn required(o: &Map<String, Value>, key: &str, field: &str) -> Result<String, ModelError> {
    word(o, key, field)?.ok_or(ModelError::MissingField {
        field: format!("{field}.{key}"),
    })
}

fn flag(o: &Map<String, Value>, key: &str) -> bool {
    o.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn only_keys(o: &Map<String, Value>, known: &[&str], field: &str) -> Result<(), ModelError> {
    match o
        .keys()
        .find(|k| !known.contains(&k.as_str()) && k.as_str() != "metadata")
    {
        Some(k) => Err(ModelError::UnknownField {
            field: format!("{field}.{k}"),
        }),
        None => Ok(()),
    }
}

const COOKIE_FLAGS: &[&str] = &[
    "indirect", "nocache", "postonly", "preserve", "httponly", "secure",
];

/// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] [postonly]
/// [preserve] [httponly] [secure] [domain D]* [maxidle T] [maxlife T]
/// [dynamic] [attr V]*`; maxidle and maxlife in seconds.
pub(super) fn decode_cookie(args: &[&str]) -> Result<Value, String> {
    let (name, mut rest) = args.split_first().ok_or("expected a cookie name")?;
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    while let Some((w, tail)) = rest.split_first() {
        rest = tail;
        match *w {
            "rewrite" | "insert" | "prefix" => {
                if out.insert("type".into(), json!(w)).is_some() {
                    return Err("two cookie modes".into());
                }
            }
            f if COOKIE_FLAGS.contains(&f) || f == "dynamic" => {
                out.insert(f.into(), json!(true));
            }
            "domain" | "attr" => {
                let (v, tail) = rest.split_first().ok_or(format!("'{w}' needs a value"))?;
                rest = tail;
                let list = out.entry(w.to_string()).or_insert_with(|| json!([]));
                list.as_array_mut()
                    .expect("an array")
                    .push(json!({ "value": v }));
            }
            "maxidle" | "maxlife" => {
                let (v, tail) = rest.split_first().ok_or(format!("'{w}' needs a time"))?;
                rest = tail;
                let seconds =
                    parse_time(v, 1000, 1000).ok_or(format!("'{v}' is not whole seconds"))?;
                out.insert(w.to_string(), json!(seconds));
            }
            other => return Err(format!("unexpected '{other}'")),
        }
    }
    Ok(Value::Object(out))
}

pub(super) fn encode_cookie(
    o: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, ModelError> {
    let known = [
        "name", "type", "indirect", "nocache", "postonly", "preserve", "httponly", "secure",
        "domain", "maxidle", "maxlife", "dynamic", "attr",
    ];
    only_keys(o, &known, field)?;
    let mut out = vec![required(o, "name", field)?];
    if let Some(t) = word(o, "type", field)? {
        if !["rewrite", "insert", "prefix"].contains(&t.as_str()) {
            let message = format!("'{t}' is not one of rewrite, insert, prefix");
            return Err(ModelError::invalid(format!("{field}.type"), message));
        }
        out.push(t);
    }
    out.extend(
        COOKIE_FLAGS
            .iter()
            .filter(|f| flag(o, f))
            .map(|f| f.to_string()),
    );
    let values = |key: &str| -> Result<Vec<String>, ModelError> {
        let Some(list) = o.get(key).filter(|v| !v.is_null()) else {
            return Ok(vec![]);
        };
        let invalid = || {
            ModelError::invalid(
                format!("{field}.{key}"),
                "expected an array of {\"value\": WORD}",
            )
        };
        let items = list.as_array().ok_or_else(invalid)?;
        items
            .iter()
            .map(|i| {
                i.get("value")
                    .and_then(Value::as_str)
                    .filter(|s| one_word(s))
                    .map(str::to_owned)
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(invalid)
    };
    for d in values("domain")? {
        out.extend(["domain".to_owned(), d]);
    }
    for key in ["maxidle", "maxlife"] {
        if let Some(v) = o.get(key).filter(|v| !v.is_null()) {
            let n = v
                .as_i64()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ModelError::invalid(format!("{field}.{key}"), "expected seconds"))?;
            out.extend([key.to_owned(), format!("{n}s")]);
        }
    }
    if flag(o, "dynamic") {
        out.push("dynamic".into());
    }
    for a in values("attr")? {
        out.extend(["attr".to_owned(), a]);
    }
    Ok(out)
}

/// `ADDR[:PORT]` -> address and port.
fn split_port(text: &str) -> (String, Option<i64>) {
    match text.rsplit_once(':') {
        Some((host, port))
            if !host.ends_with(':') && port.parse::<u16>().is_ok() && !port.is_empty() =>
        {
            (
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
                port.parse().ok(),
            )
        }
        _ => (text.to_owned(), None),
    }
}

/// `source ADDR[:PORT] [usesrc {ADDR2[:PORT2] | client | clientip |
/// hdr_ip(HDR[,OCC])}] [interface NAME]` in a proxy.
pub(super) fn decode_source(args: &[&str]) -> Result<Value, String> {
    let (addr, mut rest) = args.split_first().ok_or("expected an address")?;
    let mut out = Map::new();
    let (address, port) = split_port(addr);
    out.insert("address".into(), json!(address));
    if let Some(p) = port {
        out.insert("port".into(), json!(p));
    }
    while let Some((w, tail)) = rest.split_first() {
        let (v, tail) = tail.split_first().ok_or(format!("'{w}' needs a value"))?;
        rest = tail;
        match *w {
            "usesrc" => match *v {
                "client" | "clientip" => {
                    out.insert("usesrc".into(), json!(v));
                }
                v if v.starts_with("hdr_ip(") && v.ends_with(')') => {
                    out.insert("usesrc".into(), json!("hdr_ip"));
                    let inner = &v["hdr_ip(".len()..v.len() - 1];
                    let (hdr, occ) = match inner.split_once(',') {
                        Some((h, o)) => (h, Some(o)),
                        None => (inner, None),
                    };
                    out.insert("hdr".into(), json!(hdr));
                    if let Some(o) = occ {
                        out.insert("occ".into(), json!(o));
                    }
                }
                v => {
                    let (address, port) = split_port(v);
                    out.insert("usesrc".into(), json!("address"));
                    out.insert("address_second".into(), json!(address));
                    if let Some(p) = port {
                        out.insert("port_second".into(), json!(p));
                    }
                }
            },
            "interface" => {
                out.insert("interface".into(), json!(v));
            }
            other => return Err(format!("unexpected '{other}'")),
        }
    }
    Ok(Value::Object(out))
}

pub(super) fn encode_source(
    o: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, ModelError> {
    let known = [
        "address",
        "port",
        "usesrc",
        "address_second",
        "port_second",
        "hdr",
        "occ",
        "interface",
    ];
    only_keys(o, &known, field)?;
    let with_port =
        |address: String, port: Option<&Value>, key: &str| -> Result<String, ModelError> {
            match port.filter(|p| !p.is_null()) {
                None => Ok(address),
                Some(p) => match p.as_i64() {
                    Some(n) if (1..=65535).contains(&n) => Ok(format!("{address}:{n}")),
                    _ => Err(ModelError::invalid(
                        format!("{field}.{key}"),
                        format!("expected a port, got {p}"),
                    )),
                },
            }
        };
    let mut out = vec![with_port(
        required(o, "address", field)?,
        o.get("port"),
        "port",
    )?];
    match word(o, "usesrc", field)?.as_deref() {
        None => {}
        Some(u @ ("client" | "clientip")) => out.extend(["usesrc".to_owned(), u.to_owned()]),
        Some("hdr_ip") => {
            let hdr = required(o, "hdr", field)?;
            let inner = match word(o, "occ", field)? {
                Some(occ) => format!("{hdr},{occ}"),
                None => hdr,
            };
            out.extend(["usesrc".to_owned(), format!("hdr_ip({inner})")]);
        }
        Some("address") => {
            let second = with_port(
                required(o, "address_second", field)?,
                o.get("port_second"),
                "port_second",
            )?;
            out.extend(["usesrc".to_owned(), second]);
        }
        Some(other) => {
            let message = format!("'{other}' is not one of address, client, clientip, hdr_ip");
            return Err(ModelError::invalid(format!("{field}.usesrc"), message));
        }
    }
    if let Some(i) = word(o, "interface", field)? {
        out.extend(["interface".to_owned(), i]);
    }
    Ok(out)
}

/// `persist rdp-cookie[(NAME)]`.
pub(super) fn decode_persist(args: &[&str]) -> Result<Value, String> {
    match args {
        ["rdp-cookie"] => Ok(json!({"type": "rdp-cookie"})),
        [w] if w.starts_with("rdp-cookie(") && w.ends_with(')') => Ok(
            json!({"type": "rdp-cookie", "rdp_cookie_name": &w["rdp-cookie(".len()..w.len() - 1]}),
        ),
        _ => Err("expected rdp-cookie[(NAME)]".into()),
    }
}

pub(super) fn encode_persist(
    o: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, ModelError> {
    only_keys(o, &["type", "rdp_cookie_name"], field)?;
    if required(o, "type", field)? != "rdp-cookie" {
        return Err(ModelError::invalid(
            format!("{field}.type"),
            "expected rdp-cookie",
        ));
    }
    Ok(vec![match word(o, "rdp_cookie_name", field)? {
        Some(name) => format!("rdp-cookie({name})"),
        None => "rdp-cookie".into(),
    }])
}

/// `errorfiles NAME [CODE ...]`.
pub(super) fn decode_errorfiles(args: &[&str]) -> Result<Value, String> {
    let (name, codes) = args
        .split_first()
        .ok_or("expected an http-errors section name")?;
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    if !codes.is_empty() {
        let codes: Vec<i64> = codes
            .iter()
            .map(|c| c.parse().map_err(|_| format!("'{c}' is not a status code")))
            .collect::<Result<_, _>>()?;
        out.insert("codes".into(), json!(codes));
    }
    Ok(Value::Object(out))
}

pub(super) fn encode_errorfiles(
    o: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, ModelError> {
    only_keys(o, &["name", "codes"], field)?;
    let mut out = vec![required(o, "name", field)?];
    if let Some(codes) = o.get("codes").filter(|c| !c.is_null()) {
        let invalid = || {
            ModelError::invalid(
                format!("{field}.codes"),
                "expected an array of status codes",
            )
        };
        for code in codes.as_array().ok_or_else(invalid)? {
            out.push(code.as_i64().ok_or_else(invalid)?.to_string());
        }
    }
    Ok(out)
}

/// `{if|unless} CONDITION...` -> `cond`, `cond_test`.
pub(super) fn decode_cond(args: &[&str]) -> Result<Map<String, Value>, String> {
    let (cond, test) = args.split_first().ok_or("expected if or unless")?;
    if !["if", "unless"].contains(cond) || test.is_empty() {
        return Err("expected {if|unless} CONDITION".into());
    }
    if test.iter().any(|w| !one_word(w)) {
        return Err("a quoted word of the condition holds spaces".into());
    }
    let mut out = Map::new();
    out.insert("cond".into(), json!(cond));
    out.insert("cond_test".into(), json!(test.join(" ")));
    Ok(out)
}

/// Encodes `cond`/`cond_test`; `other` lists keys the caller handles.
pub(super) fn encode_cond(
    o: &Map<String, Value>,
    field: &str,
    other: &[&str],
) -> Result<Vec<String>, ModelError> {
    let known: Vec<&str> = ["cond", "cond_test"].iter().chain(other).copied().collect();
    only_keys(o, &known, field)?;
    let cond = word(o, "cond", field)?;
    let test = match o.get("cond_test") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(v) => {
            return Err(ModelError::invalid(
                format!("{field}.cond_test"),
                format!("expected a condition, got {v}"),
            ))
        }
    };
    match (cond, test) {
        (None, None) => Ok(vec![]),
        (Some(c), Some(t)) if c == "if" || c == "unless" => Ok(std::iter::once(c)
            .chain(t.split_whitespace().map(str::to_owned))
            .collect()),
        (Some(c), Some(_)) => Err(ModelError::invalid(
            format!("{field}.cond"),
            format!("'{c}' is not one of if, unless"),
        )),
        (None, Some(_)) => Err(ModelError::MissingField {
            field: format!("{field}.cond"),
        }),
        (Some(_), None) => Err(ModelError::MissingField {
            field: format!("{field}.cond_test"),
        }),
    }
}

/// `stats auth USER:PASSWD`.
pub(super) fn decode_stats_auth(args: &[&str]) -> Result<Value, String> {
    match args {
        [pair] => match pair.split_once(':') {
            Some((user, passwd)) if !user.is_empty() && !passwd.is_empty() => {
                Ok(json!({"user": user, "passwd": passwd}))
            }
            _ => Err("expected USER:PASSWORD".into()),
        },
        _ => Err("expected USER:PASSWORD".into()),
    }
}

pub(super) fn encode_stats_auth(
    o: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, ModelError> {
    only_keys(o, &["user", "passwd"], field)?;
    let user = required(o, "user", field)?;
    if user.contains(':') {
        return Err(ModelError::invalid(
            format!("{field}.user"),
            "a user name cannot contain ':'",
        ));
    }
    Ok(vec![format!("{user}:{}", required(o, "passwd", field)?)])
}

/// `stats http-request {allow|deny|auth [realm REALM]} [{if|unless} COND]`.
pub(super) fn decode_stats_http_request(args: &[&str]) -> Result<Value, String> {
    let (kind, mut rest) = args.split_first().ok_or("expected allow, deny or auth")?;
    if !["allow", "deny", "auth"].contains(kind) {
        return Err(format!("'{kind}' is not one of allow, deny, auth"));
    }
    let mut out = Map::new();
    out.insert("type".into(), json!(kind));
    if *kind == "auth" && rest.first() == Some(&"realm") {
        let realm = rest.get(1).ok_or("'realm' needs a value")?;
        out.insert("realm".into(), json!(realm));
        rest = &rest[2..];
    }
    if !rest.is_empty() {
        out.extend(decode_cond(rest)?);
    }
    Ok(Value::Object(out))
}

pub(super) fn encode_stats_http_request(
    o: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, ModelError> {
    let kind = required(o, "type", field)?;
    if !["allow", "deny", "auth"].contains(&kind.as_str()) {
        let message = format!("'{kind}' is not one of allow, deny, auth");
        return Err(ModelError::invalid(format!("{field}.type"), message));
    }
    let mut out = vec![kind.clone()];
    match o.get("realm") {
        None | Some(Value::Null) => {}
        Some(Value::String(r)) if kind == "auth" && !r.is_empty() => {
            out.extend(["realm".to_owned(), r.clone()])
        }
        Some(v) => {
            return Err(ModelError::invalid(
                format!("{field}.realm"),
                format!("a realm needs type auth and a text, got {v}"),
            ))
        }
    }
    out.extend(encode_cond(o, field, &["type", "realm"])?);
    Ok(out)
}
