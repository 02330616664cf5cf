//! Maps and ACLs: HAProxy keeps both as pattern files with the same
//! commands (`show`, `add`, `set` for maps, `del`, `clear`, `prepare`,
//! `commit`).

use crate::client::Runtime;
use crate::servers::silent;
use crate::socket::{arg, RuntimeError};

/// Which kind of pattern file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patterns {
    Map,
    Acl,
}

impl Patterns {
    fn word(self) -> &'static str {
        match self {
            Patterns::Map => "map",
            Patterns::Acl => "acl",
        }
    }
}

/// One pattern file of `show map` / `show acl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternFile {
    /// The number HAProxy gives it (`#ID` in commands).
    pub id: String,
    /// The file it was loaded from; empty for inline patterns.
    pub file: String,
    pub description: String,
    /// `entry_cnt`, when HAProxy says it.
    pub entries: Option<u64>,
}

impl PatternFile {
    /// How commands name it: the file, else `#ID`.
    pub fn reference(&self) -> String {
        if self.file.is_empty() {
            format!("#{}", self.id)
        } else {
            self.file.clone()
        }
    }
}

/// One entry: its reference (`0x...`), key and, for maps, value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternEntry {
    pub id: String,
    pub key: String,
    pub value: Option<String>,
}

/// Parses the list of `show map` / `show acl`:
/// `4 (/etc/haproxy/hosts.map) pattern loaded from file ... entry_cnt=2`.
pub fn parse_pattern_files(text: &str) -> Vec<PatternFile> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let (id, rest) = line.split_once(' ')?;
            let rest = rest.strip_prefix('(')?;
            let (file, description) = rest.split_once(") ")?;
            let entries = description
                .split_whitespace()
                .find_map(|w| w.strip_prefix("entry_cnt="))
                .and_then(|n| n.parse().ok());
            Some(PatternFile {
                id: id.to_owned(),
                file: file.to_owned(),
                description: description.trim().to_owned(),
                entries,
            })
        })
        .collect()
}

/// Parses the entries of `show map FILE` (`0x... key value`) or `show acl
/// FILE` (`0x... pattern`).
pub fn parse_pattern_entries(kind: Patterns, text: &str) -> Vec<PatternEntry> {
    text.lines()
        .filter(|l| l.starts_with("0x"))
        .filter_map(|line| {
            let (id, rest) = line.split_once(' ')?;
            let (key, value) = match kind {
                Patterns::Map => {
                    let (k, v) = rest.split_once(' ').unwrap_or((rest, ""));
                    (k, Some(v.to_owned()))
                }
                Patterns::Acl => (rest, None),
            };
            Some(PatternEntry {
                id: id.to_owned(),
                key: key.to_owned(),
                value,
            })
        })
        .collect()
}

/// How a command names an entry: `#0x...` by reference, else by key.
fn entry_arg(entry: &str) -> Result<String, RuntimeError> {
    if entry.starts_with("0x") && entry[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(format!("#{entry}"))
    } else {
        arg(entry)
    }
}

/// A version prefix (`@N `) for the commands of a prepared version.
fn at(version: Option<u32>) -> String {
    version.map(|v| format!("@{v} ")).unwrap_or_default()
}

impl Runtime {
    /// `show map` / `show acl`: the loaded pattern files.
    pub async fn pattern_files(&self, kind: Patterns) -> Result<Vec<PatternFile>, RuntimeError> {
        let answer = self.execute(&format!("show {}", kind.word())).await?;
        Ok(parse_pattern_files(&answer))
    }

    /// The entries of one file (its path or `#ID`).
    pub async fn pattern_entries(
        &self,
        kind: Patterns,
        file: &str,
    ) -> Result<Vec<PatternEntry>, RuntimeError> {
        let command = format!("show {} {}", kind.word(), arg(file)?);
        let answer = self.execute(&command).await?;
        let entries = parse_pattern_entries(kind, &answer);
        if entries.is_empty() && !answer.trim().is_empty() {
            return Err(RuntimeError::refused(&command, &answer));
        }
        Ok(entries)
    }

    /// Adds entries, pipelined, into the live version or a prepared one.
    /// `value` is required for maps and ignored for ACLs.
    pub async fn add_patterns(
        &self,
        kind: Patterns,
        file: &str,
        version: Option<u32>,
        entries: &[(String, Option<String>)],
    ) -> Result<(), RuntimeError> {
        let mut commands = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let mut command = format!(
                "add {} {}{} {}",
                kind.word(),
                at(version),
                arg(file)?,
                arg(key)?
            );
            if kind == Patterns::Map {
                let value = value.as_deref().unwrap_or_default();
                command.push(' ');
                command.push_str(&arg(value)?);
            }
            commands.push(command);
        }
        let answers = self.execute_all(&commands).await?;
        for (command, answer) in commands.iter().zip(&answers) {
            silent(command, answer)?;
        }
        Ok(())
    }

    /// `set map FILE KEY|#REF VALUE`.
    pub async fn set_map(&self, file: &str, entry: &str, value: &str) -> Result<(), RuntimeError> {
        let command = format!(
            "set map {} {} {}",
            arg(file)?,
            entry_arg(entry)?,
            arg(value)?
        );
        let answer = self.execute(&command).await?;
        silent(&command, &answer)
    }

    /// `del map|acl FILE KEY|#REF`.
    pub async fn del_pattern(
        &self,
        kind: Patterns,
        file: &str,
        entry: &str,
    ) -> Result<(), RuntimeError> {
        let command = format!("del {} {} {}", kind.word(), arg(file)?, entry_arg(entry)?);
        let answer = self.execute(&command).await?;
        silent(&command, &answer)
    }

    /// `clear map|acl [@VERSION] FILE`.
    pub async fn clear_patterns(
        &self,
        kind: Patterns,
        file: &str,
        version: Option<u32>,
    ) -> Result<(), RuntimeError> {
        let command = format!("clear {} {}{}", kind.word(), at(version), arg(file)?);
        let answer = self.execute(&command).await?;
        silent(&command, &answer)
    }

    /// `prepare map|acl FILE`: a new empty version, returned.
    pub async fn prepare_patterns(&self, kind: Patterns, file: &str) -> Result<u32, RuntimeError> {
        let command = format!("prepare {} {}", kind.word(), arg(file)?);
        let answer = self.execute(&command).await?;
        answer
            .trim()
            .strip_prefix("New version created: ")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| RuntimeError::refused(&command, &answer))
    }

    /// `commit map|acl @VERSION FILE`: the prepared version goes live.
    pub async fn commit_patterns(
        &self,
        kind: Patterns,
        file: &str,
        version: u32,
    ) -> Result<(), RuntimeError> {
        let command = format!("commit {} @{version} {}", kind.word(), arg(file)?);
        let answer = self.execute(&command).await?;
        silent(&command, &answer)
    }

    /// Replaces every entry at once: prepare, add to the new version,
    /// commit. Readers see the old set or the new one, never a mix.
    pub async fn replace_patterns(
        &self,
        kind: Patterns,
        file: &str,
        entries: &[(String, Option<String>)],
    ) -> Result<(), RuntimeError> {
        let version = self.prepare_patterns(kind, file).await?;
        self.add_patterns(kind, file, Some(version), entries)
            .await?;
        self.commit_patterns(kind, file, version).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_2_6() {
        let text = "# id (file) description\n\
0 (/tmp/rt/maps/block.acl) pattern loaded from file '/tmp/rt/maps/block.acl' used by acl at file 'h.cfg' line 11. curr_ver=0 next_ver=0 entry_cnt=2\n\
1 () acl 'src' file 'h.cfg' line 11. curr_ver=0 next_ver=0 entry_cnt=0\n\n";
        let files = parse_pattern_files(text);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].id, "0");
        assert_eq!(files[0].file, "/tmp/rt/maps/block.acl");
        assert_eq!(files[0].entries, Some(2));
        assert_eq!(files[1].file, "");
        assert_eq!(files[1].reference(), "#1");
    }

    #[test]
    fn entries_of_2_6() {
        let map = parse_pattern_entries(
            Patterns::Map,
            "0x55db938248a0 a.example.com be\n0x7fb40c04a900 c d;e\n\n",
        );
        assert_eq!(map[0].key, "a.example.com");
        assert_eq!(map[0].value.as_deref(), Some("be"));
        assert_eq!(map[1].value.as_deref(), Some("d;e"));
        let acl = parse_pattern_entries(Patterns::Acl, "0x55db938113d0 10.0.0.0/8\n\n");
        assert_eq!(acl[0].key, "10.0.0.0/8");
        assert_eq!(acl[0].value, None);
    }

    #[test]
    fn entries_by_reference_or_key() {
        assert_eq!(entry_arg("0x55db938248a0").unwrap(), "#0x55db938248a0");
        assert_eq!(entry_arg("a b").unwrap(), "a\\ b");
    }
}
