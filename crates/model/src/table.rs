//! Keyword tables: the declarative description of how JSON fields map to
//! configuration keywords, read from the `tables/*.kw` files.
//!
//! The format is described in `tables/README.md`. In short, a `[section
//! NAME]` table lists the kinds of lines a section may hold and a `[params
//! NAME]` table the keywords inside one line; each entry is
//! `FIELD | KEYWORD | CODEC [| SCOPE]`. The tables are compiled into the
//! binary and parsed once, on first use; a malformed table is a programming
//! error caught by the unit tests.

use std::collections::HashMap;
use std::sync::OnceLock;

/// How the arguments of a keyword map to a JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Codec {
    Str,
    /// A string of data HAProxy sends or matches as bytes (`tcp-check send
    /// DATA`): control characters are allowed and written as escapes
    /// (`\r\n`), where any other string refuses them.
    Bytes,
    Words,
    /// An integer, optionally limited to a list of values or a range.
    Int(IntDomain),
    /// A time; the JSON integer is in units of this many milliseconds
    /// (1 or 1000), and so is a bare number.
    Time(u64),
    Size,
    Enum(Vec<String>),
    Flag,
    Toggle,
    Const(String),
    Csv,
    /// Several words -> an array of strings.
    Wordlist,
    /// `on`/`off`/`auto` -> "enabled"/"disabled"/"auto".
    OnOff,
    /// Several words -> one string joined by spaces, written back as
    /// separate words (for keywords that take a list of plain words).
    Spaced,
    List(Box<Codec>),
    Params(String),
    Custom(String),
    /// One word of comma-separated values, each the value of a field of
    /// the object (used with the field `.`): `sc-inc-gpc(1,0)`.
    Fields(Vec<SubField>),
    /// A fixed word that carries no value (`layer4` of `expect-proxy
    /// layer4`), used with the field `_`.
    Literal(String),
    /// The keyword itself is the value of the first field, its argument
    /// (when a second field is named) the value of the second; used with
    /// the field `.` (`string TEXT` -> format "string", content TEXT).
    /// With the third member, the argument is kept as written (see `AsIs`).
    Tagged(String, Option<String>, bool),
    /// One word as written in the file, quotes included (`"text/plain"`);
    /// written back as that word, or quoted when it is not one word; an
    /// empty string leaves the keyword out.
    AsIs,
}

/// The integers an `int` codec accepts when writing: `int(200,400)` lists
/// them, `int(0..256)` bounds them (inclusive), bare `int` takes any.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct IntDomain {
    pub(crate) values: Vec<i64>,
    pub(crate) min: Option<i64>,
    pub(crate) max: Option<i64>,
}

impl IntDomain {
    fn parse(text: &str) -> Result<IntDomain, String> {
        let number = |s: &str| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| format!("bad integer {s:?} in int({text})"))
        };
        if let Some((min, max)) = text.split_once("..") {
            let bound = |s: &str| match s.trim() {
                "" => Ok(None),
                s => number(s).map(Some),
            };
            return Ok(IntDomain {
                min: bound(min)?,
                max: bound(max)?,
                ..IntDomain::default()
            });
        }
        Ok(IntDomain {
            values: text.split(',').map(number).collect::<Result<_, _>>()?,
            ..IntDomain::default()
        })
    }

    /// Whether `v` may be written; the error says what may.
    pub(crate) fn check(&self, v: i64) -> Result<(), String> {
        if !self.values.is_empty() && !self.values.contains(&v) {
            let list: Vec<String> = self.values.iter().map(i64::to_string).collect();
            return Err(format!("{v} is not one of {}", list.join(", ")));
        }
        match (self.min, self.max) {
            (Some(min), _) if v < min => Err(format!("{v} is below the minimum {min}")),
            (_, Some(max)) if v > max => Err(format!("{v} is above the maximum {max}")),
            _ => Ok(()),
        }
    }
}

/// One value of a `fields(..)` codec: `name`, `name:int`, `name?`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SubField {
    pub(crate) name: String,
    pub(crate) int: bool,
    pub(crate) optional: bool,
}

/// What an entry matches.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Key {
    /// Keyword words (`["timeout", "client"]`).
    Words(Vec<String>),
    /// The Nth (1-based) positional argument of a param table.
    Positional(usize),
    /// Always there when the line is: `@present`.
    Present,
    /// The end of the rule's action word after the table's name: `@+`
    /// glued (`track-sc0`), `@.` after a dot (`lua.NAME`).
    Suffix { dot: bool },
}

/// Which proxy sections accept a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub defaults: bool,
    pub frontend: bool,
    pub backend: bool,
}

impl Scope {
    const ALL: Scope = Scope {
        defaults: true,
        frontend: true,
        backend: true,
    };
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The JSON path: `["tune_options", "bufsize"]`.
    pub(crate) field: Vec<String>,
    pub(crate) key: Key,
    pub(crate) codec: Codec,
    pub(crate) scope: Scope,
    /// Must be given when writing: a positional (`@N`, but not `@N?`, nor
    /// a fixed word `_`), the end of an action word, or a keyword written
    /// with a trailing `!` (`len!`).
    pub(crate) required: bool,
    /// The first HAProxy version that has the keyword (`since 2.8`): read
    /// always, written only when the running HAProxy has it.
    pub(crate) since: Option<(u32, u32)>,
    /// What identifies its value in an object (see `Table::identity`),
    /// set when its table is indexed.
    identity: Vec<String>,
    /// The same identity as a number, below `Table::identities`: entries
    /// share it when they share their identity.
    pub(crate) identity_index: usize,
}

impl Entry {
    pub(crate) fn field_name(&self) -> String {
        self.field.join(".")
    }

    /// For an entry of the field `.` (or `PARENT..`, merging into the
    /// object at PARENT): the keys of the object it merges.
    pub(crate) fn merged(&self) -> Vec<&str> {
        if !self.field.last().is_some_and(|l| l.starts_with('.')) {
            return vec![];
        }
        match &self.codec {
            Codec::Custom(name) => crate::custom::merged_fields(name).to_vec(),
            Codec::Fields(fields) => fields.iter().map(|f| f.name.as_str()).collect(),
            Codec::Tagged(tag, arg, _) => std::iter::once(tag.as_str())
                .chain(arg.as_deref())
                .collect(),
            _ => vec![],
        }
    }
}

/// A table: its entries in file order, and an index by first keyword word.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) entries: Vec<Entry>,
    /// The first HAProxy version that has what the table describes
    /// (`[params http_request.do-log] since 3.2`): a rule action with no
    /// parameter of its own.
    pub(crate) since: Option<(u32, u32)>,
    /// First keyword word -> entries starting with it, longest keyword first.
    by_first: HashMap<String, Vec<usize>>,
    /// Identity -> the entries that have it, in table order.
    by_identity: HashMap<Vec<String>, Vec<usize>>,
    /// How many identities the entries have (see `Entry::identity_index`).
    pub(crate) identities: usize,
    /// Every entry's field path, and every shorter start of one: what an
    /// object may hold (`check_fields`).
    fields: std::collections::HashSet<Vec<String>>,
    starts: std::collections::HashSet<Vec<String>>,
    /// The keys entries of the field `.` merge into the object.
    merged: std::collections::HashSet<String>,
    /// Top-level key of an object -> the first entry of each identity
    /// whose value it holds, in table order; `literal`, those of the fixed
    /// word `_`, which need no value.
    by_key: HashMap<String, Vec<usize>>,
    literal: Vec<usize>,
}

impl Table {
    fn index(&mut self) {
        self.by_first.clear();
        for (i, entry) in self.entries.iter().enumerate() {
            if let Key::Words(words) = &entry.key {
                self.by_first.entry(words[0].clone()).or_default().push(i);
            }
        }
        let entries = &self.entries;
        for list in self.by_first.values_mut() {
            list.sort_by_key(|&i| match &entries[i].key {
                Key::Words(w) => std::cmp::Reverse(w.len()),
                _ => std::cmp::Reverse(0),
            });
        }
        let identities: Vec<Vec<String>> = self
            .entries
            .iter()
            .map(|e| self.compute_identity(e))
            .collect();
        self.by_identity.clear();
        let mut numbers: HashMap<Vec<String>, usize> = HashMap::new();
        for (i, identity) in identities.into_iter().enumerate() {
            self.by_identity
                .entry(identity.clone())
                .or_default()
                .push(i);
            let next = numbers.len();
            self.entries[i].identity_index = *numbers.entry(identity.clone()).or_insert(next);
            self.entries[i].identity = identity;
        }
        self.identities = numbers.len();
        self.by_key.clear();
        self.literal.clear();
        let mut first_seen = vec![false; self.identities];
        for (i, entry) in self.entries.iter().enumerate() {
            if std::mem::replace(&mut first_seen[entry.identity_index], true) {
                continue;
            }
            let keys: &[String] = match entry.identity.split_first() {
                Some((dot, keys)) if dot == "." => keys,
                Some((top, _)) if top == "_" => {
                    self.literal.push(i);
                    &[]
                }
                Some(_) => &entry.identity[..1],
                None => &[],
            };
            for key in keys {
                self.by_key.entry(key.clone()).or_default().push(i);
            }
        }
        self.fields = self.entries.iter().map(|e| e.field.clone()).collect();
        self.starts = self
            .entries
            .iter()
            .flat_map(|e| (1..e.field.len()).map(|n| e.field[..n].to_vec()))
            .collect();
        self.merged = self
            .entries
            .iter()
            .flat_map(|e| e.merged().into_iter().map(str::to_owned))
            .collect();
    }

    /// The first entry of each identity that `object` may give a value
    /// (its keys hold it, or it is a fixed word), in table order.
    pub(crate) fn identities_in(
        &self,
        object: &serde_json::Map<String, serde_json::Value>,
    ) -> Vec<usize> {
        let mut out = self.literal.clone();
        for key in object.keys() {
            out.extend(self.by_key.get(key).into_iter().flatten());
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether an entry has the field `path`.
    pub(crate) fn has_field(&self, path: &[String]) -> bool {
        self.fields.contains(path)
    }

    /// Whether some entry's field is longer than `path` and starts with it.
    pub(crate) fn has_field_under(&self, path: &[String]) -> bool {
        self.starts.contains(path)
    }

    /// Whether an entry of the field `.` merges `key` into the object.
    pub(crate) fn merges(&self, key: &str) -> bool {
        self.merged.contains(key)
    }

    /// The entries whose identity is `identity`, in table order.
    pub(crate) fn with_identity<'t>(
        &'t self,
        identity: &[String],
    ) -> impl Iterator<Item = &'t Entry> + 't {
        let found = self.by_identity.get(identity).map(Vec::as_slice);
        found.unwrap_or_default().iter().map(|&i| &self.entries[i])
    }

    /// Like `match_words`, among the entries `accept` takes (e.g. those
    /// whose scope accepts the section at hand).
    pub(crate) fn match_words_where(
        &self,
        words: &[&str],
        accept: impl Fn(&Entry) -> bool,
    ) -> Option<(usize, usize)> {
        let candidates = self.by_first.get(*words.first()?)?;
        candidates.iter().find_map(|&i| match &self.entries[i].key {
            Key::Words(k)
                if k.len() <= words.len()
                    && k.iter().zip(words).all(|(a, b)| a == b)
                    && accept(&self.entries[i]) =>
            {
                Some((i, k.len()))
            }
            _ => None,
        })
    }

    /// What identifies an entry's value in an object: its path, or for an
    /// entry of the field `.` the keys it merges (after a `.`); the
    /// `tagged(..)` entries of one tag share the keys of them all.
    pub(crate) fn identity<'e>(&self, entry: &'e Entry) -> &'e [String] {
        &entry.identity
    }

    fn compute_identity(&self, entry: &Entry) -> Vec<String> {
        if entry.field != ["."] {
            return entry.field.clone();
        }
        let mut keys: Vec<String> = match &entry.codec {
            Codec::Tagged(tag, ..) => self
                .entries
                .iter()
                .filter(|e| matches!(&e.codec, Codec::Tagged(t, ..) if t == tag))
                .flat_map(|e| e.merged())
                .map(str::to_owned)
                .collect(),
            _ => entry.merged().iter().map(|k| k.to_string()).collect(),
        };
        keys.sort();
        keys.dedup();
        keys.insert(0, ".".into());
        keys
    }

    /// The entries of the Nth positional, in table order.
    pub(crate) fn positionals(&self, n: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.entries.len()).filter(move |&i| self.entries[i].key == Key::Positional(n))
    }

    /// The entries whose keyword is exactly `word`, in table order.
    pub(crate) fn keyword_entries<'t>(&'t self, word: &str) -> impl Iterator<Item = usize> + 't {
        self.by_first
            .get(word)
            .into_iter()
            .flatten()
            .copied()
            .filter(move |&i| matches!(&self.entries[i].key, Key::Words(k) if k.len() == 1))
    }

    /// The entry of the action word's suffix, if the table has one.
    pub(crate) fn suffix(&self) -> Option<(usize, bool)> {
        self.entries
            .iter()
            .enumerate()
            .find_map(|(i, e)| match e.key {
                Key::Suffix { dot } => Some((i, dot)),
                _ => None,
            })
    }
}

/// Every table, by name.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub(crate) sections: HashMap<String, Table>,
    pub(crate) params: HashMap<String, Table>,
}

const SOURCES: &[(&str, &str)] = &[
    ("global.kw", include_str!("../tables/global.kw")),
    ("proxy.kw", include_str!("../tables/proxy.kw")),
    ("server.kw", include_str!("../tables/server.kw")),
    ("bind.kw", include_str!("../tables/bind.kw")),
    ("rules.kw", include_str!("../tables/rules.kw")),
    ("rules_tcp.kw", include_str!("../tables/rules_tcp.kw")),
    ("sections.kw", include_str!("../tables/sections.kw")),
    ("spoe.kw", include_str!("../tables/spoe.kw")),
];

/// The tables compiled into the binary.
pub(crate) fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| match parse_tables(SOURCES) {
        Ok(t) => t,
        Err(e) => panic!("the built-in keyword tables are malformed: {e}"),
    })
}

pub(crate) fn section_table(name: &str) -> &'static Table {
    tables()
        .sections
        .get(name)
        .unwrap_or_else(|| panic!("no [section {name}] table"))
}

pub(crate) fn params_table(name: &str) -> &'static Table {
    tables()
        .params
        .get(name)
        .unwrap_or_else(|| panic!("no [params {name}] table"))
}

/// Parses table files; errors name the file and line.
pub(crate) fn parse_tables(sources: &[(&str, &str)]) -> Result<Tables, String> {
    let mut tables = Tables::default();
    let mut includes: Vec<(String, String)> = Vec::new();
    for (file, text) in sources {
        let mut current: Option<(bool, String)> = None;
        for (n, raw) in text.lines().enumerate() {
            let at = || format!("{file}:{}", n + 1);
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // `[params NAME] since X.Y`: the table's own version.
            let (line, table_since) = match line.split_once("] since ") {
                Some((head, version)) if line.starts_with('[') => {
                    let since = parse_version(version.trim())
                        .ok_or_else(|| format!("{}: bad version {version:?}", at()))?;
                    (format!("{head}]"), Some(since))
                }
                _ => (line.to_owned(), None),
            };
            let line = line.as_str();
            if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let (kind, name) = header
                    .split_once(' ')
                    .ok_or_else(|| format!("{}: expected [section NAME] or [params NAME]", at()))?;
                let is_section = match kind {
                    "section" => true,
                    "params" => false,
                    _ => return Err(format!("{}: unknown table kind {kind}", at())),
                };
                let map = if is_section {
                    &mut tables.sections
                } else {
                    &mut tables.params
                };
                let table = map.entry(name.trim().to_owned()).or_default();
                if table_since.is_some() {
                    table.since = table_since;
                }
                current = Some((is_section, name.trim().to_owned()));
                continue;
            }
            let Some((is_section, name)) = &current else {
                return Err(format!(
                    "{}: entry before any [section] or [params] header",
                    at()
                ));
            };
            if let Some(included) = line.strip_prefix("include ") {
                includes.push((name.clone(), included.trim().to_owned()));
                continue;
            }
            let entry = parse_entry(line, *is_section).map_err(|e| format!("{}: {e}", at()))?;
            let map = if *is_section {
                &mut tables.sections
            } else {
                &mut tables.params
            };
            map.get_mut(name)
                .expect("table created at its header")
                .entries
                .push(entry);
        }
    }
    for (into, from) in includes {
        let entries = tables
            .params
            .get(&from)
            .ok_or_else(|| format!("include of unknown params table {from}"))?
            .entries
            .clone();
        tables
            .params
            .get_mut(&into)
            .expect("table exists")
            .entries
            .extend(entries);
    }
    for table in tables
        .sections
        .values_mut()
        .chain(tables.params.values_mut())
    {
        table.index();
    }
    check_references(&tables)?;
    Ok(tables)
}

fn check_references(tables: &Tables) -> Result<(), String> {
    fn check(codec: &Codec, tables: &Tables) -> Result<(), String> {
        match codec {
            Codec::Params(name) if !tables.params.contains_key(name) => {
                Err(format!("params({name}) names no [params {name}] table"))
            }
            Codec::Custom(name) if !crate::custom::exists(name) => {
                Err(format!("custom({name}) is not a known custom codec"))
            }
            Codec::List(inner) => check(inner, tables),
            _ => Ok(()),
        }
    }
    for table in tables.sections.values().chain(tables.params.values()) {
        for entry in &table.entries {
            check(&entry.codec, tables)?;
        }
    }
    Ok(())
}

/// `X.Y` as a version.
fn parse_version(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn parse_entry(line: &str, is_section: bool) -> Result<Entry, String> {
    let mut columns: Vec<&str> = line.split('|').map(str::trim).collect();
    // `since X.Y` last: the first HAProxy version that has the keyword.
    let since = match columns.last().and_then(|c| c.strip_prefix("since ")) {
        Some(version) => {
            let parsed = parse_version(version.trim());
            columns.pop();
            Some(parsed.ok_or_else(|| format!("bad version {version:?}; expected since X.Y"))?)
        }
        None => None,
    };
    if columns.len() < 3 || columns.len() > 4 {
        return Err(format!(
            "expected FIELD | KEYWORD | CODEC [| SCOPE] [| since X.Y], got {line:?}"
        ));
    }
    // `.` alone: the value is an object merged into the parent object;
    // `PARENT..`: merged into the object at PARENT (custom codecs only).
    let field: Vec<String> = match columns[0] {
        "." => vec![".".to_owned()],
        // The last part names the line (`.stats admin`): one per keyword.
        path if path.ends_with("..") => path[..path.len() - 2]
            .split('.')
            .map(str::to_owned)
            .chain(std::iter::once(format!(".{}", columns[1].trim())))
            .collect(),
        path => path.split('.').map(str::to_owned).collect(),
    };
    let named = |f: &String| f.starts_with('.') && f.len() > 1;
    if field
        .iter()
        .any(|f| f.is_empty() || (f.contains(' ') && !named(f)))
    {
        return Err(format!("bad field path {:?}", columns[0]));
    }
    // `len!`: required; `!` alone is a keyword (`http-check expect !`).
    let (keyword, marked) = match columns[1].strip_suffix('!') {
        Some(k) if !k.trim_end().is_empty() => (k.trim_end(), true),
        _ => (columns[1], false),
    };
    let key = match keyword {
        "@present" => Key::Present,
        "@+" => Key::Suffix { dot: false },
        "@." => Key::Suffix { dot: true },
        k if k.starts_with('@') => Key::Positional(
            k[1..]
                .trim_end_matches('?')
                .parse()
                .map_err(|_| format!("bad positional {k:?}; expected @1, @2, ..."))?,
        ),
        "" => return Err("empty keyword".into()),
        k => Key::Words(k.split_whitespace().map(str::to_owned).collect()),
    };
    if is_section && !matches!(key, Key::Words(_)) {
        return Err("line tables take keywords, not positions".into());
    }
    let codec = parse_codec(columns[2])?;
    let merges = matches!(codec, Codec::Fields(_) | Codec::Tagged(..));
    if merges != (field == ["."]) && !matches!(codec, Codec::Custom(_)) {
        return Err("fields() and tagged() go with the field `.`, and only they".into());
    }
    if matches!(codec, Codec::Literal(_)) != (field == ["_"]) {
        return Err("lit() goes with the field `_`, and only it".into());
    }
    let scope = match columns.get(3) {
        None => Scope::ALL,
        Some(s) => {
            if let Some(bad) = s.chars().find(|c| !"dfb".contains(*c)) {
                return Err(format!("bad scope letter {bad:?}; expected d, f, b"));
            }
            Scope {
                defaults: s.contains('d'),
                frontend: s.contains('f'),
                backend: s.contains('b'),
            }
        }
    };
    let required = match key {
        Key::Positional(n) => n >= 1 && !keyword.ends_with('?') && field != ["_"],
        Key::Suffix { .. } => true,
        _ => marked,
    };
    Ok(Entry {
        field,
        key,
        codec,
        scope,
        required,
        since,
        identity: Vec::new(),
        identity_index: 0,
    })
}

fn parse_codec(text: &str) -> Result<Codec, String> {
    let (name, arg) = match text.split_once('(') {
        Some((name, rest)) => {
            let arg = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("unclosed ( in {text:?}"))?;
            (name, Some(arg))
        }
        None => (text, None),
    };
    let list = |arg: &str| {
        arg.split(',')
            .map(|s| s.trim().to_owned())
            .collect::<Vec<_>>()
    };
    Ok(match (name, arg) {
        ("str", None) => Codec::Str,
        ("asis", None) => Codec::AsIs,
        ("bytes", None) => Codec::Bytes,
        ("words", None) => Codec::Words,
        ("int", None) => Codec::Int(IntDomain::default()),
        ("int", Some(a)) => Codec::Int(IntDomain::parse(a)?),
        ("time", None) | ("time", Some("ms")) => Codec::Time(1),
        ("time", Some("s")) => Codec::Time(1000),
        ("size", None) => Codec::Size,
        ("enum", Some(a)) => Codec::Enum(list(a)),
        ("flag", None) => Codec::Flag,
        ("toggle", None) => Codec::Toggle,
        ("const", Some(v)) => Codec::Const(v.trim().to_owned()),
        ("csv", None) => Codec::Csv,
        ("wordlist", None) => Codec::Wordlist,
        ("onoff", None) => Codec::OnOff,
        ("spaced", None) => Codec::Spaced,
        ("list", Some(inner)) => Codec::List(Box::new(parse_codec(inner)?)),
        ("params", Some(n)) => Codec::Params(n.trim().to_owned()),
        ("custom", Some(n)) => Codec::Custom(n.trim().to_owned()),
        ("fields", Some(a)) => Codec::Fields(
            list(a)
                .into_iter()
                .map(|f| {
                    let optional = f.ends_with('?');
                    let f = f.trim_end_matches('?');
                    let (name, int) = match f.strip_suffix(":int") {
                        Some(name) => (name, true),
                        None => (f, false),
                    };
                    SubField {
                        name: name.to_owned(),
                        int,
                        optional,
                    }
                })
                .collect(),
        ),
        ("lit", Some(w)) => Codec::Literal(w.trim().to_owned()),
        ("tagged", Some(a)) => {
            let mut fields = list(a).into_iter();
            let tag = fields.next().unwrap_or_default();
            // `tagged(F,G:asis)`: the argument is kept as written.
            let (arg, asis) = match fields.next() {
                Some(a) => match a.strip_suffix(":asis") {
                    Some(a) => (Some(a.to_owned()), true),
                    None => (Some(a), false),
                },
                None => (None, false),
            };
            Codec::Tagged(tag, arg, asis)
        }
        _ => return Err(format!("unknown codec {text:?}")),
    })
}

/// The JSON field paths a table maps, in table order without repeats, with
/// their scope (all sections for param tables); fields of nested `params(..)`
/// tables are listed with their full path. `kind` is `section` or `params`.
/// Used by tests and by the documentation of what is supported.
pub fn field_names(kind: &str, name: &str) -> Vec<(String, Scope)> {
    let mut out: Vec<(String, Scope)> = Vec::new();
    if let Some(table) = table_of(kind, name) {
        collect_fields(tables(), table, "", Scope::ALL, &mut out);
    }
    out
}

/// The line table (`kind` "section") or param table named `name`.
fn table_of(kind: &str, name: &str) -> Option<&'static Table> {
    let tables = tables();
    match kind {
        "section" => tables.sections.get(name),
        _ => tables.params.get(name),
    }
}

/// The HAProxy the configuration is for, when known: set once by the
/// program that runs it (`haproxy -v`).
static RUNNING: OnceLock<(u32, u32)> = OnceLock::new();

/// Says which HAProxy the configuration is for (the first call counts).
pub fn set_haproxy_version(version: (u32, u32)) {
    let _ = RUNNING.set(version);
}

/// The HAProxy set by [`set_haproxy_version`].
pub(crate) fn running() -> Option<(u32, u32)> {
    RUNNING.get().copied()
}

/// Fields of a table that a line never reads into, because every keyword
/// they write is read by an earlier entry of another field (older spellings
/// kept for writing: `no_sslv3` reads back as `sslv3`). Each with the field
/// it reads back as.
pub fn write_aliases(kind: &str, name: &str) -> Vec<(String, String)> {
    let Some(table) = table_of(kind, name) else {
        return vec![];
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, entry) in table.entries.iter().enumerate() {
        let Key::Words(words) = &entry.key else {
            continue;
        };
        let earlier = table.entries[..i]
            .iter()
            .find(|e| e.field != entry.field && e.key == Key::Words(words.clone()));
        let name = entry.field_name();
        let shadowed = earlier.map(|e| e.field_name());
        let all_shadowed = table
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.field == entry.field)
            .all(|(j, e)| {
                table.entries[..j]
                    .iter()
                    .any(|o| o.field != e.field && o.key == e.key)
            });
        if let (Some(reads_as), true) = (shadowed, all_shadowed) {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, reads_as));
            }
        }
    }
    out
}

fn collect_fields(
    tables: &Tables,
    table: &Table,
    prefix: &str,
    outer: Scope,
    out: &mut Vec<(String, Scope)>,
) {
    for entry in &table.entries {
        // A `.` entry stands for the keys it merges; `_` for no field.
        if entry.field.last().is_some_and(|l| l.starts_with('.')) || entry.field == ["_"] {
            let parent = &entry.field[..entry.field.len().saturating_sub(1)];
            let parent: String = parent.iter().map(|p| format!("{p}.")).collect();
            for key in entry.merged() {
                let name = format!("{prefix}{parent}{key}");
                if !out.iter().any(|(n, _)| *n == name) {
                    out.push((name, outer));
                }
            }
            continue;
        }
        let name = format!("{prefix}{}", entry.field_name());
        let scope = Scope {
            defaults: entry.scope.defaults && outer.defaults,
            frontend: entry.scope.frontend && outer.frontend,
            backend: entry.scope.backend && outer.backend,
        };
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, known)) => {
                known.defaults |= scope.defaults;
                known.frontend |= scope.frontend;
                known.backend |= scope.backend;
            }
            None => out.push((name.clone(), scope)),
        }
        let mut codec = &entry.codec;
        while let Codec::List(inner) = codec {
            codec = inner;
        }
        if let Codec::Params(sub) = codec {
            if let Some(sub) = tables.params.get(sub) {
                collect_fields(tables, sub, &format!("{name}."), scope, out);
            }
        }
    }
}
