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

use haplane_cfg::{Document, LineRef, SectionId, SectionKind};
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
}

impl RuleKind {
    pub const ALL: [RuleKind; 6] = [
        RuleKind::Acl,
        RuleKind::BackendSwitching,
        RuleKind::ServerSwitching,
        RuleKind::HttpRequest,
        RuleKind::HttpResponse,
        RuleKind::HttpAfterResponse,
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
        }
    }

    /// The API's name of the list (`http_request_rules`).
    pub fn path(self) -> &'static str {
        match self {
            RuleKind::Acl => "acls",
            RuleKind::BackendSwitching => "backend_switching_rules",
            RuleKind::ServerSwitching => "server_switching_rules",
            RuleKind::HttpRequest => "http_request_rules",
            RuleKind::HttpResponse => "http_response_rules",
            RuleKind::HttpAfterResponse => "http_after_response_rules",
        }
    }

    /// The reference schema of one rule.
    pub fn schema_name(self) -> &'static str {
        match self {
            RuleKind::Acl => "acl",
            RuleKind::BackendSwitching => "backend_switching_rule",
            RuleKind::ServerSwitching => "server_switching_rule",
            RuleKind::HttpRequest => "http_request_rule",
            RuleKind::HttpResponse => "http_response_rule",
            RuleKind::HttpAfterResponse => "http_after_response_rule",
        }
    }

    /// The sections that hold such rules, as the reference places them.
    pub fn parents(self) -> &'static [SectionKind] {
        match self {
            RuleKind::Acl
            | RuleKind::HttpRequest
            | RuleKind::HttpResponse
            | RuleKind::HttpAfterResponse => &[
                SectionKind::Frontend,
                SectionKind::Backend,
                SectionKind::Defaults,
            ],
            RuleKind::BackendSwitching => &[SectionKind::Frontend],
            RuleKind::ServerSwitching => &[SectionKind::Backend],
        }
    }

    fn has_action(self) -> bool {
        matches!(
            self,
            RuleKind::HttpRequest | RuleKind::HttpResponse | RuleKind::HttpAfterResponse
        )
    }

    fn has_cond(self) -> bool {
        self != RuleKind::Acl
    }

    /// The param table of the rule (or of one action).
    fn table(self, action: Option<&str>) -> Option<&'static Table> {
        let base = self.schema_name().trim_end_matches("_rule");
        let name = match action {
            Some(a) => format!("{base}.{a}"),
            None => base.to_owned(),
        };
        tables().params.get(&name)
    }

    /// The actions the tables describe, for the schema's `type` enum.
    pub(crate) fn actions(self) -> Vec<String> {
        let prefix = format!("{}.", self.schema_name().trim_end_matches("_rule"));
        let mut out: Vec<String> = tables()
            .params
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
            .collect();
        out.sort();
        out
    }
}

/// The actions the rule tables describe for `kind` (sorted).
pub fn rule_actions(kind: RuleKind) -> Vec<String> {
    kind.actions()
}

/// A rule line cut in its parts.
struct Parts<'w> {
    action: Option<(&'w str, Option<&'w str>)>,
    params: Vec<&'w str>,
    cond: Option<(&'w str, Vec<&'w str>)>,
}

fn split<'w>(kind: RuleKind, words: &[&'w str]) -> Option<Parts<'w>> {
    let (_, mut rest) = words.split_first()?;
    let mut cond = None;
    if kind.has_cond() {
        let start = usize::from(kind.has_action());
        if let Some(at) = rest
            .iter()
            .rposition(|w| *w == "if" || *w == "unless")
            .filter(|at| *at >= start)
        {
            cond = Some((rest[at], rest[at + 1..].to_vec()));
            rest = &rest[..at];
        }
    }
    let mut action = None;
    if kind.has_action() {
        let (first, tail) = rest.split_first()?;
        action = Some(match first.split_once('(') {
            Some((name, arg)) => (name, Some(arg.strip_suffix(')').unwrap_or(arg))),
            None => (*first, None),
        });
        rest = tail;
    }
    Some(Parts {
        action,
        params: rest.to_vec(),
        cond,
    })
}

/// Reads one rule line into JSON.
fn read_rule(kind: RuleKind, line: &LineRef<'_>) -> Option<Map<String, Value>> {
    let words = line.words();
    let values: Vec<&str> = words.iter().map(|w| &*w.value).collect();
    if values.first() != Some(&kind.keyword()) {
        return None;
    }
    let parts = split(kind, &values)?;
    let mut out = Map::new();
    let action = parts.action.map(|(name, _)| name);
    if let Some(name) = action {
        out.insert("type".into(), json!(name));
    }
    if let Some(table) = kind.table(action) {
        let items = params::parse(table, &parts.params);
        out.extend(params::object(table, &items));
        if let (Some((_, Some(arg))), Some(entry)) = (
            parts.action,
            table.entries.iter().find(|e| e.key == Key::Positional(0)),
        ) {
            if let Ok(value) = crate::codec::decode(&entry.codec, &[arg], false) {
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
    doc.section(id)
        .keyword_lines()
        .filter_map(|(i, line)| read_rule(kind, &line).map(|v| (i, v)))
        .collect()
}

const IDENTITY: &[&str] = &["type", "cond", "cond_test", "metadata"];

/// Renders a rule; with `old`, unchanged params keep their words and
/// unknown ones stay.
fn render_rule(
    kind: RuleKind,
    value: &Map<String, Value>,
    old: Option<&LineRef<'_>>,
) -> Result<Vec<String>, ModelError> {
    let action = match (kind.has_action(), value.get("type")) {
        (false, _) => None,
        (true, Some(Value::String(t))) if !t.is_empty() => Some(t.as_str()),
        (true, Some(other)) => {
            return Err(ModelError::invalid(
                "type",
                format!("expected an action name, got {other}"),
            ))
        }
        (true, None) => {
            return Err(ModelError::MissingField {
                field: "type".into(),
            })
        }
    };
    let table = kind.table(action);
    let Some(table) = table else {
        let known = kind.actions().join(", ");
        return Err(ModelError::invalid(
            "type",
            format!("'{}' is not one of {known}", action.unwrap_or_default()),
        ));
    };
    params::check_fields(table, value, "", IDENTITY)?;
    // Positional arguments are not optional.
    for entry in &table.entries {
        if matches!(entry.key, Key::Positional(n) if n >= 1)
            && crate::codec::get_path(value, &entry.field).is_none()
        {
            return Err(ModelError::MissingField {
                field: entry.field_name(),
            });
        }
    }
    let mut body: Map<String, Value> = value
        .iter()
        .filter(|(k, _)| !IDENTITY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // The action's argument in parentheses (`set-var(txn.x)`).
    let mut head = action.map(str::to_owned);
    if let Some(entry) = table.entries.iter().find(|e| e.key == Key::Positional(0)) {
        let arg = params::take_entry_value(table, entry, &mut body);
        match crate::codec::encode(
            &entry.codec,
            &arg.unwrap_or(Value::Null),
            &entry.field_name(),
        ) {
            Ok(crate::codec::Rendered::Args(args)) if !args.is_empty() => {
                head = head.map(|h| format!("{h}({})", args.join(" ")));
            }
            _ => {
                return Err(ModelError::MissingField {
                    field: entry.field_name(),
                })
            }
        }
    }
    let mut words = vec![kind.keyword().to_owned()];
    words.extend(head);
    let old_params: Vec<String> = match old {
        Some(line) => {
            let lexed = line.words();
            let values: Vec<&str> = lexed.iter().map(|w| &*w.value).collect();
            let parts = split(kind, &values);
            match parts {
                Some(p) if p.action.map(|a| a.0) == action => {
                    p.params.iter().map(|s| s.to_string()).collect()
                }
                _ => vec![],
            }
        }
        None => vec![],
    };
    let params = if old_params.is_empty() {
        params::encode_all(table, &body, "")?
    } else {
        let refs: Vec<&str> = old_params.iter().map(String::as_str).collect();
        params::update(table, &refs, &body, "")?
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

fn find(doc: &Document, parent: SectionKind, name: &str) -> Result<SectionId, ResourceError> {
    doc.find_section(parent, name).ok_or_else(|| {
        ResourceError::NotFound(format!(
            "{} '{name}'",
            parent.keyword().unwrap_or("section")
        ))
    })
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
    let id = find(doc, parent, name)?;
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
    let id = find(doc, parent, name)?;
    rule_lines(doc, id, kind)
        .into_iter()
        .nth(index)
        .map(|(_, v)| v)
        .ok_or_else(|| not_found(kind, index))
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
    let id = find(doc, parent, name)?;
    let words = render_rule(kind, value, None)?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let lines = rule_lines(doc, id, kind);
    match (lines.get(index), lines.last()) {
        (Some((at, _)), _) => {
            let at = doc.comments_above(id, *at);
            doc.insert_words(id, at, &words)
        }
        (None, Some((last, _))) if index == lines.len() => doc.insert_words(id, last + 1, &words),
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
    let id = find(doc, parent, name)?;
    let (at, old) = rule_lines(doc, id, kind)
        .into_iter()
        .nth(index)
        .ok_or_else(|| not_found(kind, index))?;
    let mut wanted = value.clone();
    wanted.remove("metadata");
    if old == wanted {
        return Ok(());
    }
    let line = doc.section(id).line(at).expect("the rule's line exists");
    let words = render_rule(kind, value, Some(&line))?;
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
    let id = find(doc, parent, name)?;
    let (at, _) = rule_lines(doc, id, kind)
        .into_iter()
        .nth(index)
        .ok_or_else(|| not_found(kind, index))?;
    doc.remove_line(id, at);
    Ok(())
}

/// Replaces the whole list: rule i takes `values[i]` in place (unchanged
/// rules keep their lines), extra old rules go, extra new ones are appended.
pub fn replace_rules(
    doc: &mut Document,
    parent: SectionKind,
    name: &str,
    kind: RuleKind,
    values: &[Map<String, Value>],
) -> Result<(), ResourceError> {
    let id = find(doc, parent, name)?;
    let mut scratch = doc.clone();
    let count = rule_lines(&scratch, id, kind).len();
    for (i, value) in values.iter().enumerate() {
        if i < count {
            replace_rule(&mut scratch, parent, name, kind, i, value).map_err(|e| at_index(e, i))?;
        } else {
            insert_rule(&mut scratch, parent, name, kind, i, value).map_err(|e| at_index(e, i))?;
        }
    }
    for i in (values.len()..count).rev() {
        delete_rule(&mut scratch, parent, name, kind, i)?;
    }
    *doc = scratch;
    Ok(())
}

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
