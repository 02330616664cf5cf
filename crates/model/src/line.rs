//! One-line resources described wholly by a param table: `nameserver NAME
//! ADDR:PORT`, `mailer NAME ADDR:PORT`, `user NAME password HASH groups G`,
//! ... The line is its keyword and then the words of the table (positionals
//! first); the resource's key is one of the table's fields.

use haplane_cfg::{Document, LineRef, SectionId, SectionKind};
use serde_json::{Map, Value};

use crate::error::ModelError;
use crate::params;
use crate::resource::{find, find_parent, valid_name, ResourceError};

/// What a kind of line is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LineSpec {
    /// The keyword that starts such lines.
    pub(crate) keyword: &'static str,
    /// The param table of the words after it.
    pub(crate) table: &'static str,
    /// The field that names one line among the others.
    pub(crate) key: &'static str,
    /// A line without its key is named by its first word (`dgram-bind
    /// ADDR:PORT`, as a `bind` line is); the key is written only when it
    /// differs from that word.
    pub(crate) named_by_first_word: bool,
}

impl LineSpec {
    pub(crate) const fn new(
        keyword: &'static str,
        table: &'static str,
        key: &'static str,
        named_by_first_word: bool,
    ) -> LineSpec {
        LineSpec {
            keyword,
            table,
            key,
            named_by_first_word,
        }
    }

    fn table(&self) -> &'static crate::table::Table {
        params::table(self.table)
    }

    fn label(&self, key: &str) -> String {
        format!("{} '{key}'", self.keyword)
    }

    /// Reads a line into JSON; `None` if it is not such a line.
    fn read(&self, line: &LineRef<'_>) -> Option<Map<String, Value>> {
        let bytes = line.bytes();
        let start = bytes.len() - bytes.trim_ascii_start().len();
        if !bytes[start..].starts_with(self.keyword.as_bytes()) {
            return None;
        }
        let words = line.words();
        let values: Vec<&str> = words.iter().map(|w| &*w.value).collect();
        let (keyword, rest) = values.split_first()?;
        if *keyword != self.keyword {
            return None;
        }
        let items = params::parse(self.table(), rest);
        let mut out = params::object(self.table(), &items);
        if self.named_by_first_word && !out.contains_key(self.key) {
            out.insert(self.key.into(), Value::String(rest.first()?.to_string()));
        }
        Some(out)
    }

    /// The words of a line for `value`; with `old`, the words of fields that
    /// did not change are kept where they were.
    fn render(
        &self,
        value: &Map<String, Value>,
        old: Option<&LineRef<'_>>,
    ) -> Result<Vec<String>, ModelError> {
        // A name follows the reference's pattern; another key (a file) is
        // one word.
        let is_name = matches!(self.key, "name" | "username");
        match value.get(self.key) {
            Some(Value::String(k)) if is_name && valid_name(k) => {}
            Some(Value::String(k))
                if !is_name && !k.is_empty() && !k.contains(char::is_whitespace) => {}
            Some(other) if is_name => {
                let message = format!("{other} must match ^[A-Za-z0-9-_.:]+$");
                return Err(ModelError::invalid(self.key, message));
            }
            Some(other) => {
                let message = format!("expected one word, got {other}");
                return Err(ModelError::invalid(self.key, message));
            }
            None => {
                return Err(ModelError::MissingField {
                    field: self.key.into(),
                })
            }
        }
        let mut body = value.clone();
        body.remove("metadata");
        if self.named_by_first_word {
            // The key is not written when the first word names the line.
            let mut bare = body.clone();
            bare.remove(self.key);
            let first = params::encode_all(self.table(), &bare, "")?;
            if first.first().map(String::as_str) == value.get(self.key).and_then(Value::as_str) {
                body = bare;
            }
        }
        let table = self.table();
        for entry in table.entries.iter().filter(|e| e.required) {
            let given = match entry.field.as_slice() {
                [dot] if dot == "." => entry.merged().iter().any(|k| body.contains_key(*k)),
                path => crate::codec::get_path(&body, path).is_some(),
            };
            if !given {
                let field = match entry.field.as_slice() {
                    [dot] if dot == "." => entry.merged().join(", "),
                    _ => entry.field_name(),
                };
                return Err(ModelError::MissingField { field });
            }
        }
        let words = match old {
            Some(line) => {
                let words = line.words();
                let old: Vec<&str> = words.iter().skip(1).map(|w| &*w.value).collect();
                params::update(table, &old, &body, "")?
            }
            None => params::encode_all(table, &body, "")?,
        };
        Ok(std::iter::once(self.keyword.to_owned())
            .chain(words)
            .collect())
    }

    fn lines(&self, doc: &Document, id: SectionId) -> Vec<(usize, Map<String, Value>)> {
        doc.section(id)
            .keyword_lines()
            .filter_map(|(i, line)| self.read(&line).map(|v| (i, v)))
            .collect()
    }

    fn find_line(
        &self,
        doc: &Document,
        id: SectionId,
        key: &str,
    ) -> Option<(usize, Map<String, Value>)> {
        self.lines(doc, id)
            .into_iter()
            .find(|(_, v)| v.get(self.key).and_then(Value::as_str) == Some(key))
    }

    pub(crate) fn list(
        &self,
        doc: &Document,
        parent: SectionKind,
        name: &str,
    ) -> Result<Vec<Map<String, Value>>, ResourceError> {
        let id = find_parent(doc, parent, name)?;
        Ok(self.lines(doc, id).into_iter().map(|(_, v)| v).collect())
    }

    pub(crate) fn get(
        &self,
        doc: &Document,
        parent: SectionKind,
        name: &str,
        key: &str,
    ) -> Result<Map<String, Value>, ResourceError> {
        let id = find(doc, parent, name)?;
        self.find_line(doc, id, key)
            .map(|(_, v)| v)
            .ok_or_else(|| ResourceError::NotFound(self.label(key)))
    }

    /// Adds a line after the last one of its kind (or at the section's end).
    pub(crate) fn create(
        &self,
        doc: &mut Document,
        parent: SectionKind,
        name: &str,
        value: &Map<String, Value>,
    ) -> Result<(), ResourceError> {
        let id = find_parent(doc, parent, name)?;
        let words = self.render(value, None)?;
        let key = value
            .get(self.key)
            .and_then(Value::as_str)
            .unwrap_or_default();
        if self.find_line(doc, id, key).is_some() {
            return Err(ResourceError::AlreadyExists(self.label(key)));
        }
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match self.lines(doc, id).last() {
            Some((index, _)) => doc.insert_words(id, index + 1, &words),
            None => {
                doc.push_words(id, &words);
            }
        }
        Ok(())
    }

    pub(crate) fn replace(
        &self,
        doc: &mut Document,
        parent: SectionKind,
        name: &str,
        key: &str,
        value: &Map<String, Value>,
    ) -> Result<(), ResourceError> {
        let id = find(doc, parent, name)?;
        let (index, old) = self
            .find_line(doc, id, key)
            .ok_or_else(|| ResourceError::NotFound(self.label(key)))?;
        let new_key = value
            .get(self.key)
            .and_then(Value::as_str)
            .unwrap_or_default();
        if new_key != key && self.find_line(doc, id, new_key).is_some() {
            return Err(ResourceError::AlreadyExists(self.label(new_key)));
        }
        let mut unchanged = value.clone();
        unchanged.remove("metadata");
        if old == unchanged {
            return Ok(());
        }
        let line = doc.section(id).line(index).expect("the line exists");
        let words = self.render(value, Some(&line))?;
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        doc.replace_words(id, index, &words);
        Ok(())
    }

    pub(crate) fn delete(
        &self,
        doc: &mut Document,
        parent: SectionKind,
        name: &str,
        key: &str,
    ) -> Result<(), ResourceError> {
        let id = find(doc, parent, name)?;
        let (index, _) = self
            .find_line(doc, id, key)
            .ok_or_else(|| ResourceError::NotFound(self.label(key)))?;
        doc.remove_line(id, index);
        Ok(())
    }
}
