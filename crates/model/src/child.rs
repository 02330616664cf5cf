//! Resources that are one line each: `server NAME ADDR[:PORT] PARAMS` and
//! `bind ADDR[:PORT[-END]] PARAMS`. The positional part is read here; the
//! params go through the param tables (`server.kw`, `bind.kw`).

use haplane_cfg::{Document, LineRef, SectionId};
use serde_json::{json, Map, Value};

use crate::error::ModelError;
use crate::params::{self, check_fields};

/// The kinds of one-line resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    Server,
    Bind,
}

impl ChildKind {
    /// The keyword that starts such lines.
    pub fn keyword(self) -> &'static str {
        match self {
            ChildKind::Server => "server",
            ChildKind::Bind => "bind",
        }
    }

    fn table(self) -> &'static crate::table::Table {
        params::table(self.keyword())
    }

    fn identity(self) -> &'static [&'static str] {
        match self {
            ChildKind::Server => &["name", "address", "port", "metadata"],
            ChildKind::Bind => &["name", "address", "port", "port-range-end", "metadata"],
        }
    }
}

/// Splits `ADDR:PORT` when the part after the last colon is a port (or a
/// `PORT-END` range for binds). `[v6]:port` and `v6addr:port` both work; an
/// IPv6 address without a port (`fe80::1`) stays whole.
pub(crate) fn split_address(text: &str) -> (String, Option<i64>, Option<i64>) {
    if let Some(rest) = text.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            let (port, end) = tail.strip_prefix(':').map_or((None, None), parse_ports);
            return (host.to_owned(), port, end);
        }
    }
    if let Some((host, port)) = text.rsplit_once(':') {
        let (p, end) = parse_ports(port);
        if p.is_some() && !host.ends_with(':') {
            return (host.to_owned(), p, end);
        }
        if port.is_empty() && !host.contains(':') {
            return (host.to_owned(), None, None);
        }
    }
    (text.to_owned(), None, None)
}

fn parse_ports(text: &str) -> (Option<i64>, Option<i64>) {
    let digits = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match text.split_once('-') {
        Some((a, b)) => match (digits(a), digits(b)) {
            (Some(a), Some(b)) => (Some(a), Some(b)),
            _ => (None, None),
        },
        None => (digits(text), None),
    }
}

/// Reads a `server` or `bind` line into JSON; `None` if the line is not one.
pub fn read_child(kind: ChildKind, line: &LineRef<'_>) -> Option<Map<String, Value>> {
    if !line.may_start_with(kind.keyword()) {
        return None;
    }
    let words = line.words();
    let values: Vec<&str> = words.iter().map(|w| &*w.value).collect();
    let (keyword, rest) = values.split_first()?;
    if *keyword != kind.keyword() {
        return None;
    }
    let (name, rest) = match kind {
        ChildKind::Server => {
            let (name, rest) = rest.split_first()?;
            (Some(*name), rest)
        }
        ChildKind::Bind => (None, rest),
    };
    let (address, params) = rest.split_first()?;
    let items = params::parse(kind.table(), params);
    let mut out = params::object(kind.table(), &items);
    let (host, port, end) = split_address(address);
    match kind {
        ChildKind::Server => {
            out.insert("name".into(), json!(name));
        }
        ChildKind::Bind => {
            let name = bind_name(params).unwrap_or(address);
            out.insert("name".into(), json!(name));
            if let Some(end) = end {
                out.insert("port-range-end".into(), json!(end));
            }
        }
    }
    out.insert("address".into(), json!(host));
    if let Some(port) = port {
        out.insert("port".into(), json!(port));
    }
    Some(out)
}

/// The `name` param of a bind line.
fn bind_name<'a>(params: &[&'a str]) -> Option<&'a str> {
    params
        .iter()
        .position(|w| *w == "name")
        .and_then(|i| params.get(i + 1).copied())
}

/// All children of `kind` in a section, with their line index.
pub fn children(
    doc: &Document,
    id: SectionId,
    kind: ChildKind,
) -> Vec<(usize, Map<String, Value>)> {
    let lines: Vec<(usize, LineRef<'_>)> = doc.section(id).keyword_lines().collect();
    crate::par::map(
        lines,
        || (),
        |_, (i, line)| read_child(kind, &line).map(|v| (i, v)),
    )
    .into_iter()
    .flatten()
    .collect()
}

/// The child of `kind` named `name`.
pub fn find_child(
    doc: &Document,
    id: SectionId,
    kind: ChildKind,
    name: &str,
) -> Option<(usize, Map<String, Value>)> {
    children(doc, id, kind)
        .into_iter()
        .find(|(_, v)| v.get("name").and_then(Value::as_str) == Some(name))
}

fn required_str<'a>(value: &'a Map<String, Value>, field: &str) -> Result<&'a str, ModelError> {
    match value.get(field) {
        Some(Value::String(s)) if !s.is_empty() && !s.contains(char::is_whitespace) => Ok(s),
        Some(other) => Err(ModelError::invalid(
            field,
            format!("expected one word, got {other}"),
        )),
        None => Err(ModelError::MissingField {
            field: field.into(),
        }),
    }
}

/// A port field of an object (1 to 65535), when given.
pub(crate) fn port(value: &Map<String, Value>, field: &str) -> Result<Option<i64>, ModelError> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(p) if (1..=65535).contains(&p) => Ok(Some(p)),
            _ => Err(ModelError::invalid(
                field,
                format!("expected a port between 1 and 65535, got {v}"),
            )),
        },
    }
}

/// Renders the words of a `server`/`bind` line for `value`. With `old`
/// (the line being replaced), params whose value did not change keep their
/// words and position, and params the table does not know are kept.
pub fn render_child(
    kind: ChildKind,
    value: &Map<String, Value>,
    old: Option<&LineRef<'_>>,
) -> Result<Vec<String>, ModelError> {
    let read = old.and_then(|line| read_child(kind, line));
    render_child_over(kind, value, old.zip(read.as_ref()))
}

/// Like [`render_child`], over a line whose value was read already
/// ([`read_child`] of it): the line is not decoded again.
pub fn render_child_over(
    kind: ChildKind,
    value: &Map<String, Value>,
    old: Option<(&LineRef<'_>, &Map<String, Value>)>,
) -> Result<Vec<String>, ModelError> {
    check_fields(kind.table(), value, "", kind.identity())?;
    let name = required_str(value, "name")?;
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        && kind == ChildKind::Server
    {
        return Err(ModelError::invalid(
            "name",
            format!("'{name}' must match ^[A-Za-z0-9-_.:]+$"),
        ));
    }
    let address = match value.get("address") {
        Some(Value::String(s)) if !s.contains(char::is_whitespace) => s.as_str(),
        None if kind == ChildKind::Bind => "",
        Some(other) => {
            return Err(ModelError::invalid(
                "address",
                format!("expected one word, got {other}"),
            ))
        }
        None => {
            return Err(ModelError::MissingField {
                field: "address".into(),
            })
        }
    };
    let port = port(value, "port")?;
    let end = match kind {
        ChildKind::Bind => crate::child::port(value, "port-range-end")?,
        ChildKind::Server => None,
    };
    let mut addr = if address.contains(':') && port.is_some() && !address.starts_with('[') {
        format!("[{address}]")
    } else {
        address.to_owned()
    };
    if let Some(p) = port {
        addr.push_str(&format!(":{p}"));
        if let Some(e) = end {
            addr.push_str(&format!("-{e}"));
        }
    } else if kind == ChildKind::Bind && address.is_empty() {
        return Err(ModelError::MissingField {
            field: "port".into(),
        });
    }
    let mut words = vec![kind.keyword().to_owned()];
    if kind == ChildKind::Server {
        words.push(name.to_owned());
    }
    let old_words = old.map(|(l, _)| l.words()).unwrap_or_default();
    let old_words: Vec<&str> = old_words.iter().map(|w| &*w.value).collect();
    let skip = if kind == ChildKind::Server { 3 } else { 2 };
    let mut old_params: Vec<&str> = old_words.iter().skip(skip).copied().collect();
    // Keep the old address spelling when it means the same thing.
    let old_address = old_words.get(skip - 1).filter(|a| {
        let (h, p, e) = split_address(a);
        h == address && p == port && e == end
    });
    words.push(old_address.map_or(addr, |a| (*a).to_owned()));
    // A bind's name lives in its params; it is written only when it differs
    // from the address (the name a bind without `name` gets).
    let old_name = bind_name(&old_params).map(str::to_owned);
    if kind == ChildKind::Bind {
        if let Some(i) = old_params.iter().position(|w| *w == "name") {
            old_params.drain(i..(i + 2).min(old_params.len()));
        }
    }
    let mut params = match old {
        // The identity fields of `value` are none of the table's.
        Some((_, read)) => {
            let items = params::parse(kind.table(), &old_params);
            params::update_from(kind.table(), &items, read, value, "")?
        }
        None => {
            let params_only: Map<String, Value> = value
                .iter()
                .filter(|(k, _)| !kind.identity().contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            params::encode_all(kind.table(), &params_only, "")?
        }
    };
    if kind == ChildKind::Bind {
        let default_name = words.last().cloned().unwrap_or_default();
        if old_name.is_some() || name != default_name {
            params.splice(0..0, ["name".to_owned(), name.to_owned()]);
        }
    }
    words.extend(params);
    Ok(words)
}
