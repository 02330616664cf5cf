//! Indexed children: the ordered rules of a section (`acl`, `use_backend`,
//! `use-server`, `http-request`, `http-response`, `http-after-response`).
//!
//! A rule is one line: `KEYWORD [ACTION[(ARG)]] PARAMS... [if|unless COND]`.
//! The action's params are described by the param table `RULE.ACTION`
//! (`http_request.set-header`); the words of the condition become `cond` and
//! `cond_test`. Rule N is the N-th line of its keyword in the section, so
//! indexes follow the file. A rule whose action or params the tables do not
//! know is still listed (with what is known), and rewriting it keeps the
//! unknown words in place.

use std::borrow::Cow;

use haplane_cfg::{Document, LineRef, SectionId, SectionKind, Word};
use serde_json::{json, Map, Value};

use crate::error::ModelError;
use crate::params;
use crate::resource::ResourceError;
use crate::table::{tables, Key, Table};

/// The kinds of indexed rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Acl,
    BackendSwitching,
    ServerSwitching,
    HttpRequest,
    HttpResponse,
    HttpAfterResponse,
    HttpError,
    TcpRequest,
    TcpResponse,
    HttpCheck,
    TcpCheck,
    Filter,
    Stick,
    LogTarget,
    Capture,
    QuicInitial,
    ForceBeSwitch,
    SslFrontUse,
}

impl RuleKind {
    pub const ALL: [RuleKind; 18] = [
        RuleKind::Acl,
        RuleKind::BackendSwitching,
        RuleKind::ServerSwitching,
        RuleKind::HttpRequest,
        RuleKind::HttpResponse,
        RuleKind::HttpAfterResponse,
        RuleKind::HttpError,
        RuleKind::TcpRequest,
        RuleKind::TcpResponse,
        RuleKind::HttpCheck,
        RuleKind::TcpCheck,
        RuleKind::Filter,
        RuleKind::Stick,
        RuleKind::LogTarget,
        RuleKind::Capture,
        RuleKind::QuicInitial,
        RuleKind::ForceBeSwitch,
        RuleKind::SslFrontUse,
    ];

    /// The configuration keyword of the rule's lines.
    pub fn keyword(self) -> &'static str {
        match self {
            RuleKind::Acl => "acl",
            RuleKind::BackendSwitching => "use_backend",
            RuleKind::ServerSwitching => "use-server",
            RuleKind::HttpRequest => "http-request",
            RuleKind::HttpResponse => "http-response",
            RuleKind::HttpAfterResponse => "http-after-response",
            RuleKind::HttpError => "http-error",
            RuleKind::TcpRequest => "tcp-request",
            RuleKind::TcpResponse => "tcp-response",
            RuleKind::HttpCheck => "http-check",
            RuleKind::TcpCheck => "tcp-check",
            RuleKind::Filter => "filter",
            RuleKind::Stick => "stick",
            RuleKind::LogTarget => "log",
            RuleKind::Capture => "declare capture",
            RuleKind::QuicInitial => "quic-initial",
            RuleKind::ForceBeSwitch => "force-be-switch",
            RuleKind::SslFrontUse => "ssl-f-use",
        }
    }

    /// The fields the words after the keyword name, in order, before the
    /// action's params: they choose the param table (`tcp_request.content.accept`).
    pub(crate) fn levels(self) -> &'static [&'static str] {
        match self {
            RuleKind::Acl
            | RuleKind::BackendSwitching
            | RuleKind::ServerSwitching
            | RuleKind::LogTarget
            | RuleKind::ForceBeSwitch
            | RuleKind::SslFrontUse => &[],
            RuleKind::TcpRequest | RuleKind::TcpResponse => &["type", "action"],
            RuleKind::TcpCheck => &["action"],
            _ => &["type"],
        }
    }

    /// Its row of the registry.
    fn resource(self) -> &'static crate::registry::Resource {
        crate::registry::RESOURCES
            .iter()
            .find(|r| r.shape == crate::registry::Shape::Rules(self))
            .expect("every rule kind is in the registry")
    }

    /// The API's name of the list (`http_request_rules`).
    pub fn path(self) -> &'static str {
        self.resource().collection
    }

    /// The reference schema of one rule.
    pub fn schema_name(self) -> &'static str {
        self.resource().schema
    }

    /// The sections that hold such rules, as the reference places them.
    pub fn parents(self) -> Vec<SectionKind> {
        self.resource()
            .parents()
            .filter_map(|p| p.section_kind())
            .collect()
    }

    fn has_cond(self) -> bool {
        !matches!(
            self,
            RuleKind::Acl
                | RuleKind::LogTarget
                | RuleKind::Capture
                | RuleKind::Filter
                | RuleKind::SslFrontUse
        )
    }

    fn base(self) -> &'static str {
        self.schema_name().trim_end_matches("_rule")
    }

    /// The param table named by the level words (`["content", "accept"]`).
    fn table(self, levels: &[&str]) -> Option<&'static Table> {
        let mut name = self.base().to_owned();
        for level in levels {
            name.push('.');
            name.push_str(level);
        }
        tables().params.get(&name)
    }

    /// The action a word names through a table with a suffix entry
    /// (`track-sc0` -> `track-sc`, `lua.check` -> `lua`), after the levels
    /// read so far; the level's length in the word.
    fn suffixed(self, levels: &[&str], word: &str) -> Option<usize> {
        let mut prefix = self.base().to_owned();
        for level in levels {
            prefix.push('.');
            prefix.push_str(level);
        }
        prefix.push('.');
        tables().params.iter().find_map(|(name, table)| {
            let level = name.strip_prefix(&prefix)?;
            let (_, dot) = table.suffix()?;
            let rest = word.strip_prefix(level)?;
            let ok = if dot {
                rest.len() > 1 && rest.starts_with('.')
            } else {
                !rest.is_empty()
            };
            (ok && !level.contains('.')).then_some(level.len())
        })
    }

    /// The actions the tables describe (`content.accept` for two levels).
    pub(crate) fn actions(self) -> Vec<String> {
        let prefix = format!("{}.", self.base());
        let mut out: Vec<String> = tables()
            .params
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
            .collect();
        out.sort();
        out
    }
}

impl RuleKind {
    /// Whether the tables describe this kind at all (its rules can be written).
    pub fn is_described(self) -> bool {
        self.table(&[]).is_some() || !self.actions().is_empty()
    }
}

/// The actions the rule tables describe for `kind` (sorted; levels joined
/// by dots).
pub fn rule_actions(kind: RuleKind) -> Vec<String> {
    kind.actions()
}

/// A rule line cut in its parts.
struct Parts<'w> {
    /// The level words (`content`, `accept`), the last without its `(ARG)`.
    levels: Vec<&'w str>,
    /// The argument in parentheses of the last level (`set-var(txn.x)`).
    arg: Option<&'w str>,
    /// The end of the last level word after its table's name (`0` of
    /// `track-sc0`, `check` of `lua.check`).
    suffix: Option<&'w str>,
    params: Vec<&'w str>,
    /// The index of the first of `params` in the line's words.
    params_at: usize,
    cond: Option<(&'w str, Vec<&'w str>)>,
}

fn split<'w>(kind: RuleKind, words: &[&'w str]) -> Option<Parts<'w>> {
    let keyword = kind.keyword().split(' ').count();
    let mut rest = words.get(keyword..)?;
    let mut cond = None;
    if kind.has_cond() {
        let start = kind.levels().len().min(1);
        if let Some(at) = rest
            .iter()
            .rposition(|w| *w == "if" || *w == "unless")
            .filter(|at| *at >= start)
        {
            cond = Some((rest[at], rest[at + 1..].to_vec()));
            rest = &rest[..at];
        }
    }
    let mut levels = Vec::new();
    let mut arg = None;
    let mut suffix = None;
    for _ in kind.levels() {
        // A table for the levels read so far ends them (`tcp-request inspect-delay`).
        if !levels.is_empty() && kind.table(&levels).is_some() {
            break;
        }
        let (first, tail) = rest.split_first()?;
        let (name, paren) = match first.split_once('(') {
            Some((name, a)) => (name, Some(a.strip_suffix(')').unwrap_or(a))),
            None => (*first, None),
        };
        let mut name: &'w str = name;
        if kind.table(&[levels.as_slice(), &[name]].concat()).is_none() {
            if let Some(cut) = kind.suffixed(&levels, name) {
                let end = &name[cut..];
                suffix = Some(end.strip_prefix('.').unwrap_or(end));
                name = &name[..cut];
            }
        }
        levels.push(name);
        arg = paren;
        rest = tail;
    }
    Some(Parts {
        params_at: keyword + levels.len(),
        levels,
        arg,
        suffix,
        params: rest.to_vec(),
        cond,
    })
}

/// `no log`, which reads as the log target `{"nolog": true}`.
fn is_nolog(kind: RuleKind, values: &[&str]) -> bool {
    kind == RuleKind::LogTarget && values == ["no", "log"]
}

fn keyword_matches(kind: RuleKind, values: &[&str]) -> bool {
    let mut keyword = kind.keyword().split(' ');
    let mut values = values.iter();
    keyword.all(|k| values.next() == Some(&k))
}

/// Whether the line can be a rule of `kind`: its first word is the
/// keyword's first (checked before the line is split into words).
fn may_be(kind: RuleKind, line: &LineRef<'_>) -> bool {
    let first = kind.keyword().split(' ').next().unwrap_or_default();
    line.may_start_with(first) || (kind == RuleKind::LogTarget && line.may_start_with("no"))
}

/// Param tables already looked up while reading a section's rules.
#[derive(Default)]
struct TableCache(Vec<(Vec<String>, Option<&'static Table>)>);

impl TableCache {
    fn get(&mut self, kind: RuleKind, levels: &[&str]) -> Option<&'static Table> {
        let known = self
            .0
            .iter()
            .find(|(k, _)| k.len() == levels.len() && k.iter().zip(levels).all(|(a, b)| a == b));
        if let Some((_, table)) = known {
            return *table;
        }
        let table = kind.table(levels);
        self.0
            .push((levels.iter().map(|l| l.to_string()).collect(), table));
        table
    }
}

/// Reads one rule line into JSON.
fn read_rule_with(
    kind: RuleKind,
    line: &LineRef<'_>,
    cache: &mut TableCache,
) -> Option<Map<String, Value>> {
    if !may_be(kind, line) {
        return None;
    }
    read_rule_words(kind, &line.words(), cache)
}

/// Reads a rule line, split into `words`, into JSON.
fn read_rule_words(
    kind: RuleKind,
    words: &[Word<'_>],
    cache: &mut TableCache,
) -> Option<Map<String, Value>> {
    let values: Vec<&str> = words.iter().map(|w| &*w.value).collect();
    if is_nolog(kind, &values) {
        return Some(Map::from_iter([("nolog".to_owned(), Value::Bool(true))]));
    }
    if !keyword_matches(kind, &values) {
        return None;
    }
    let parts = split(kind, &values)?;
    let mut out = Map::new();
    for (field, value) in kind.levels().iter().zip(&parts.levels) {
        out.insert((*field).to_owned(), json!(value));
    }
    if let Some(table) = cache.get(kind, &parts.levels) {
        let items = params::parse(table, &parts.params);
        out.extend(params::object(table, &items));
        let raw: Vec<Cow<'_, str>> = words[parts.params_at..]
            .iter()
            .map(|w| String::from_utf8_lossy(w.raw))
            .collect();
        let raw: Vec<&str> = raw.iter().map(|w| &**w).collect();
        params::keep_written(table, &items, &raw, &mut out);
        if let (Some(arg), Some(entry)) = (
            parts.arg,
            table.entries.iter().find(|e| e.key == Key::Positional(0)),
        ) {
            if let Ok(value) = crate::codec::decode(&entry.codec, &[arg], false) {
                params::merge(&mut out, &entry.field, value);
            }
        }
        if let (Some(suffix), Some((entry, _))) = (parts.suffix, table.suffix()) {
            let entry = &table.entries[entry];
            if let Ok(value) = crate::codec::decode(&entry.codec, &[suffix], false) {
                params::merge(&mut out, &entry.field, value);
            }
        }
    }
    if let Some((cond, test)) = parts.cond {
        out.insert("cond".into(), json!(cond));
        out.insert("cond_test".into(), json!(test.join(" ")));
    }
    Some(out)
}

/// The rules of `kind` in a section, with their line index.
fn rule_lines(doc: &Document, id: SectionId, kind: RuleKind) -> Vec<(usize, Map<String, Value>)> {
    read_rules(doc, id, kind, |(at, _, _, read)| (at, read))
}

/// Reads the rules of `kind` in a section (on several threads for a long
/// one), each as `keep` makes of it, in order.
fn read_rules<'a, R: Send>(
    doc: &'a Document,
    id: SectionId,
    kind: RuleKind,
    keep: impl Fn(ReadRule<'a>) -> R + Sync,
) -> Vec<R> {
    let lines: Vec<(usize, LineRef<'a>)> = doc
        .section(id)
        .keyword_lines()
        .filter(|(_, line)| may_be(kind, line))
        .collect();
    crate::par::map(lines, TableCache::default, |cache, (at, line)| {
        let words = line.words();
        read_rule_words(kind, &words, cache).map(|read| keep((at, line, words, read)))
    })
    .into_iter()
    .flatten()
    .collect()
}

/// The line indexes of the rules of `kind` in a section, without decoding
/// them into JSON (the same lines `rule_lines` reads).
fn rule_positions(doc: &Document, id: SectionId, kind: RuleKind) -> Vec<usize> {
    doc.section(id)
        .keyword_lines()
        .filter(|(_, line)| {
            if !may_be(kind, line) {
                return false;
            }
            let words = line.words();
            let values: Vec<&str> = words.iter().map(|w| &*w.value).collect();
            is_nolog(kind, &values)
                || (keyword_matches(kind, &values) && split(kind, &values).is_some())
        })
        .map(|(i, _)| i)
        .collect()
}

/// Rule `index` of a section: its line index and its JSON.
fn nth_rule(
    doc: &Document,
    id: SectionId,
    kind: RuleKind,
    index: usize,
) -> Result<(usize, Map<String, Value>), ResourceError> {
    let at = *rule_positions(doc, id, kind)
        .get(index)
        .ok_or_else(|| not_found(kind, index))?;
    let line = doc.section(id).line(at).expect("the rule's line exists");
    let value = read_rule_with(kind, &line, &mut TableCache::default())
        .ok_or_else(|| not_found(kind, index))?;
    Ok((at, value))
}

/// The level values of `value` (`type`, `action`) that name a table.
fn levels_of(kind: RuleKind, value: &Map<String, Value>) -> Result<Vec<&str>, ModelError> {
    let mut levels = Vec::new();
    for field in kind.levels() {
        if !levels.is_empty() && kind.table(&levels).is_some() {
            break;
        }
        match value.get(*field) {
            Some(Value::String(t)) if !t.is_empty() && !t.contains(char::is_whitespace) => {
                levels.push(t.as_str())
            }
            Some(other) => {
                return Err(ModelError::invalid(
                    *field,
                    format!("expected a word, got {other}"),
                ))
            }
            None => {
                return Err(ModelError::MissingField {
                    field: (*field).to_owned(),
                })
            }
        }
    }
    Ok(levels)
}

/// Renders a rule; with `old`, unchanged params keep their words and
/// unknown ones stay.
/// A rule's position, which Data Plane API v2 bodies carried as a field:
/// accepted and ignored, the path gives the index.
const INDEX: &str = "index";

/// Renders the words of a rule for `value`. With `old`, the line it
/// replaces and, when it was read already, what it reads as: params whose
/// value did not change keep their words.
fn render_rule(
    kind: RuleKind,
    value: &Map<String, Value>,
    old: Option<&[Word<'_>]>,
    read: Option<&Map<String, Value>>,
) -> Result<Vec<String>, ModelError> {
    match value.get("nolog") {
        Some(Value::Bool(true)) if kind == RuleKind::LogTarget => {
            if let Some(other) = value
                .keys()
                .find(|k| !["nolog", "metadata", INDEX].contains(&k.as_str()))
            {
                let message = "a log target with nolog has no other field";
                return Err(ModelError::invalid(other, message));
            }
            return Ok(vec!["no".into(), "log".into()]);
        }
        Some(Value::Bool(false)) | None => {}
        Some(other) if kind == RuleKind::LogTarget => {
            return Err(ModelError::invalid(
                "nolog",
                format!("expected true or false, got {other}"),
            ))
        }
        Some(_) => {
            return Err(ModelError::UnknownField {
                field: "nolog".into(),
            })
        }
    }
    // Only what names the rule itself is rendered.
    let value: Cow<'_, Map<String, Value>> =
        match value.contains_key("nolog") || value.contains_key(INDEX) {
            true => {
                let mut own = value.clone();
                own.remove("nolog");
                own.remove(INDEX);
                Cow::Owned(own)
            }
            false => Cow::Borrowed(value),
        };
    let value = &*value;
    let levels = levels_of(kind, value)?;
    let Some(table) = kind.table(&levels) else {
        let known = kind.actions().join(", ");
        let field = kind.levels().last().copied().unwrap_or("type");
        return Err(ModelError::invalid(
            field,
            format!("'{}' is not one of {known}", levels.join(".")),
        ));
    };
    // An action the running HAProxy does not have is never written.
    if let (Some(since), Some(running)) = (table.since, crate::table::running()) {
        if running < since {
            let field = kind.levels().last().copied().unwrap_or("type");
            let message = format!(
                "'{}' needs HAProxy {}.{} or later; the running HAProxy is {}.{}",
                levels.join(" "),
                since.0,
                since.1,
                running.0,
                running.1
            );
            return Err(ModelError::invalid(field, message));
        }
    }
    let identity: Vec<&str> = kind
        .levels()
        .iter()
        .copied()
        .chain(["cond", "cond_test", "metadata"])
        .collect();
    params::check_fields(table, value, "", &identity)?;
    // Of entries sharing a position, one is enough (`sc_int` or `sc_expr`).
    for entry in &table.entries {
        let required = entry.required;
        let given = |e: &crate::table::Entry| match e.field.as_slice() {
            [dot] if dot == "." => e.merged().iter().any(|k| value.contains_key(*k)),
            path => crate::codec::get_path(value, path).is_some(),
        };
        let sharing = || table.entries.iter().filter(|e| e.key == entry.key);
        if required && !sharing().any(given) {
            let names: Vec<String> = sharing()
                .map(|e| match e.field.as_slice() {
                    [dot] if dot == "." => e.merged().join(", "),
                    _ => e.field_name(),
                })
                .collect();
            return Err(ModelError::MissingField {
                field: names.join(" or "),
            });
        }
    }
    let mut body: Map<String, Value> = value
        .iter()
        .filter(|(k, _)| !identity.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut head: Vec<String> = levels.iter().map(|l| l.to_string()).collect();
    // The end of the action word (`track-sc0`, `lua.check`).
    if let Some((at, dot)) = table.suffix() {
        let entry = &table.entries[at];
        let suffix = params::take_entry_value(entry, &mut body);
        let rendered = crate::codec::encode(
            &entry.codec,
            &suffix.unwrap_or(Value::Null),
            &entry.field_name(),
        )?;
        let (crate::codec::Rendered::Args(args), Some(last)) = (rendered, head.last_mut()) else {
            return Err(ModelError::MissingField {
                field: entry.field_name(),
            });
        };
        last.push_str(if dot { "." } else { "" });
        last.push_str(&args.concat());
    }
    // The last level's argument in parentheses (`set-var(txn.x)`).
    if let Some(entry) = table.entries.iter().find(|e| e.key == Key::Positional(0)) {
        let arg = params::take_entry_value(entry, &mut body);
        let missing = || {
            let field = match &entry.codec {
                crate::table::Codec::Fields(fields) => fields[0].name.clone(),
                _ => entry
                    .merged()
                    .last()
                    .map_or(entry.field_name(), |k| k.to_string()),
            };
            ModelError::MissingField { field }
        };
        match arg {
            None => return Err(missing()),
            Some(arg) => match crate::codec::encode(&entry.codec, &arg, &entry.field_name())? {
                crate::codec::Rendered::Args(args) if !args.is_empty() => {
                    if let Some(last) = head.last_mut() {
                        *last = format!("{last}({})", args.join(" "));
                    }
                }
                _ => return Err(missing()),
            },
        }
    }
    let mut words: Vec<String> = kind.keyword().split(' ').map(str::to_owned).collect();
    words.extend(head);
    let values: Vec<&str> = old.unwrap_or_default().iter().map(|w| &*w.value).collect();
    let old_params = match split(kind, &values) {
        Some(p) if old.is_some() && p.levels == levels => p.params,
        _ => vec![],
    };
    let params = match (old_params.is_empty(), read) {
        (true, _) => params::encode_all(table, &body, "")?,
        // Compared with what GET showed of the line: the table's fields only.
        (false, Some(read)) => {
            let items = params::parse(table, &old_params);
            params::update_from(table, &items, read, &body, "")?
        }
        (false, None) => params::update(table, &old_params, &body, "")?,
    };
    words.extend(params);
    match (value.get("cond"), value.get("cond_test")) {
        (None | Some(Value::Null), None | Some(Value::Null)) => {}
        (Some(Value::String(c)), Some(Value::String(t)))
            if (c == "if" || c == "unless") && !t.trim().is_empty() =>
        {
            words.push(c.clone());
            words.extend(t.split_whitespace().map(str::to_owned));
        }
        (Some(Value::String(c)), _) if c != "if" && c != "unless" => {
            return Err(ModelError::invalid(
                "cond",
                format!("'{c}' is not one of if, unless"),
            ));
        }
        (None | Some(Value::Null), Some(_)) => {
            return Err(ModelError::MissingField {
                field: "cond".into(),
            })
        }
        (Some(_), _) => {
            return Err(ModelError::MissingField {
                field: "cond_test".into(),
            })
        }
    }
    Ok(words)
}

/// The section of a rule list. A missing one is a missing parent (400),
/// except that the reference answers 404 for the `declare capture` list of
/// a frontend that does not exist (but 400 when deleting from it).
fn find(
    doc: &Document,
    parent: SectionKind,
    name: &str,
    kind: RuleKind,
) -> Result<SectionId, ResourceError> {
    match kind {
        RuleKind::Capture => crate::resource::find(doc, parent, name),
        _ => crate::resource::find_parent(doc, parent, name),
    }
}

fn not_found(kind: RuleKind, index: usize) -> ResourceError {
    ResourceError::NotFound(format!("{} rule at index {index}", kind.keyword()))
}

/// The rules of `kind` of a section, in order.
pub fn list_rules(
    doc: &Document,
    parent: SectionKind,
    name: &str,
    kind: RuleKind,
) -> Result<Vec<Map<String, Value>>, ResourceError> {
    let id = find(doc, parent, name, kind)?;
    Ok(rule_lines(doc, id, kind)
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

/// Rule `index`.
pub fn get_rule(
    doc: &Document,
    parent: SectionKind,
    name: &str,
    kind: RuleKind,
    index: usize,
) -> Result<Map<String, Value>, ResourceError> {
    let id = find(doc, parent, name, kind)?;
    nth_rule(doc, id, kind, index).map(|(_, v)| v)
}

/// Inserts a rule at `index` (the rules from there on move down one);
/// `index` may be the number of rules, to append.
pub fn insert_rule(
    doc: &mut Document,
    parent: SectionKind,
    name: &str,
    kind: RuleKind,
    index: usize,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let id = find(doc, parent, name, kind)?;
    let words = render_rule(kind, value, None, None)?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let lines = rule_positions(doc, id, kind);
    match (lines.get(index), lines.last()) {
        (Some(at), _) => {
            let at = doc.comments_above(id, *at);
            doc.insert_words(id, at, &words)
        }
        (None, Some(last)) if index == lines.len() => doc.insert_words(id, last + 1, &words),
        (None, None) if index == 0 => {
            doc.push_words(id, &words);
        }
        _ => return Err(not_found(kind, index)),
    }
    Ok(())
}

/// Replaces rule `index`, keeping what did not change.
pub fn replace_rule(
    doc: &mut Document,
    parent: SectionKind,
    name: &str,
    kind: RuleKind,
    index: usize,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let id = find(doc, parent, name, kind)?;
    let (at, old) = nth_rule(doc, id, kind, index)?;
    let mut wanted = value.clone();
    wanted.remove("metadata");
    wanted.remove(INDEX);
    if old == wanted {
        return Ok(());
    }
    let line = doc.section(id).line(at).expect("the rule's line exists");
    let words = render_rule(kind, value, Some(&line.words()), Some(&old))?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    doc.replace_words(id, at, &words);
    Ok(())
}

/// Removes rule `index`.
pub fn delete_rule(
    doc: &mut Document,
    parent: SectionKind,
    name: &str,
    kind: RuleKind,
    index: usize,
) -> Result<(), ResourceError> {
    let id = crate::resource::find_parent(doc, parent, name)?;
    let at = *rule_positions(doc, id, kind)
        .get(index)
        .ok_or_else(|| not_found(kind, index))?;
    doc.remove_line(id, at);
    Ok(())
}

/// Replaces the whole list: rule i takes `values[i]` in place (unchanged
/// rules keep their lines), extra old rules go, extra new ones are appended.
pub fn replace_rules<M: std::borrow::Borrow<Map<String, Value>> + Sync>(
    doc: &mut Document,
    parent: SectionKind,
    name: &str,
    kind: RuleKind,
    values: &[M],
) -> Result<(), ResourceError> {
    let id = find(doc, parent, name, kind)?;
    // The rules are read once and the lines edited where they are, so the
    // cost is linear in the list (replacing a line keeps the others'
    // indexes), each split once for reading and for rendering over it.
    // Every new line is rendered before the first edit: a refused item
    // leaves the document as it was.
    let mut existing = read_rules(doc, id, kind, |rule| rule);
    let last = existing.last().map(|(at, ..)| *at);
    let extra: Vec<usize> = existing
        .iter()
        .skip(values.len())
        .map(|(at, ..)| *at)
        .collect();
    existing.truncate(values.len());
    let edits = crate::par::map(
        existing.into_iter().enumerate().collect(),
        || (),
        |_, (i, (at, line, words, old))| -> Result<Option<(usize, Vec<u8>)>, ResourceError> {
            let value = values[i].borrow();
            // What GET shows besides the rule itself is not compared.
            let shown = |k: &String| k != "metadata" && k != INDEX;
            let mut given = value.iter().filter(|(k, _)| shown(k));
            if given.clone().count() == old.len() && given.all(|(k, v)| old.get(k) == Some(v)) {
                return Ok(None);
            }
            let rendered = render_rule(kind, value, Some(&words), Some(&old))
                .map_err(|e| at_index(e.into(), i))?;
            let rendered: Vec<&str> = rendered.iter().map(String::as_str).collect();
            Ok(Some((at, line.rewritten(&rendered))))
        },
    )
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    // Extra new rules follow the last one (or end the section).
    let new = values
        .iter()
        .enumerate()
        .skip(edits.len())
        .map(|(i, value)| {
            render_rule(kind, value.borrow(), None, None).map_err(|e| at_index(e.into(), i))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (at, text) in edits.into_iter().flatten() {
        doc.set_line(id, at, text);
    }
    // Extra old rules go, bottom first so that indexes stay valid.
    for at in extra.into_iter().rev() {
        doc.remove_line(id, at);
    }
    crate::resource::insert_after(doc, id, last, &new);
    Ok(())
}

/// A rule line as a list replace reads it: its index, the line, its
/// words and its JSON.
type ReadRule<'a> = (usize, LineRef<'a>, Vec<Word<'a>>, Map<String, Value>);

/// Names the list item in a field error (`[2].hdr_name`).
fn at_index(error: ResourceError, index: usize) -> ResourceError {
    match error {
        ResourceError::Invalid(ModelError::InvalidValue { field, message }) => {
            ResourceError::Invalid(ModelError::InvalidValue {
                field: format!("[{index}].{field}"),
                message,
            })
        }
        ResourceError::Invalid(ModelError::UnknownField { field }) => {
            ResourceError::Invalid(ModelError::UnknownField {
                field: format!("[{index}].{field}"),
            })
        }
        ResourceError::Invalid(ModelError::MissingField { field }) => {
            ResourceError::Invalid(ModelError::MissingField {
                field: format!("[{index}].{field}"),
            })
        }
        other => other,
    }
}
