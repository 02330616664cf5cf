//! Stick tables: `show table`, `set table`, `clear table`.

use crate::client::Runtime;
use crate::servers::silent;
use crate::socket::{arg, RuntimeError};

/// A stick table of `show table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StickTable {
    pub name: String,
    /// `ip`, `ipv6`, `integer`, `string`, `binary`.
    pub kind: String,
    pub size: u64,
    pub used: u64,
}

/// One entry: its reference, key, use count, expiry (ms) and stored data
/// (`gpc0`, `conn_cnt`, `http_req_rate` with its period, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry {
    pub id: String,
    pub key: String,
    pub used: u64,
    pub expire: u64,
    /// `(name, period in ms for rates, value)`.
    pub data: Vec<(String, Option<u64>, String)>,
}

/// Parses a title line: `# table: be, type: ip, size:1024, used:1`.
fn parse_title(line: &str) -> Option<StickTable> {
    let rest = line.strip_prefix("# table: ")?;
    let mut parts = rest.split(", ");
    let name = parts.next()?.to_owned();
    let mut table = StickTable {
        name,
        kind: String::new(),
        size: 0,
        used: 0,
    };
    for part in parts {
        let (key, value) = part.split_once(':')?;
        let value = value.trim();
        match key.trim() {
            "type" => table.kind = value.to_owned(),
            "size" => table.size = value.parse().ok()?,
            "used" => table.used = value.parse().ok()?,
            _ => {}
        }
    }
    Some(table)
}

/// Parses `show table` (titles only) or `show table NAME` (title, entries).
pub fn parse_tables(text: &str) -> Vec<StickTable> {
    text.lines().filter_map(parse_title).collect()
}

pub fn parse_entries(text: &str) -> Vec<TableEntry> {
    text.lines()
        .filter(|l| l.starts_with("0x"))
        .filter_map(|line| {
            let (id, rest) = line.split_once(": ")?;
            let mut entry = TableEntry {
                id: id.to_owned(),
                key: String::new(),
                used: 0,
                expire: 0,
                data: Vec::new(),
            };
            for word in rest.split_whitespace() {
                let (name, value) = word.split_once('=')?;
                match name {
                    "key" => entry.key = value.to_owned(),
                    "use" => entry.used = value.parse().unwrap_or(0),
                    "exp" => entry.expire = value.parse().unwrap_or(0),
                    "shard" => {}
                    _ => {
                        let (name, period) = match name.split_once('(') {
                            Some((n, p)) => (n, p.trim_end_matches(')').parse().ok()),
                            None => (name, None),
                        };
                        entry.data.push((name.to_owned(), period, value.to_owned()));
                    }
                }
            }
            Some(entry)
        })
        .collect()
}

/// Which entries `show table` / `clear table` select.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableFilter {
    pub key: Option<String>,
    /// `(data type, operator eq|ne|le|lt|ge|gt, value)`.
    pub data: Vec<(String, String, String)>,
}

impl TableFilter {
    fn words(&self) -> Result<String, RuntimeError> {
        if let Some(key) = &self.key {
            return Ok(format!(" key {}", arg(key)?));
        }
        let mut out = String::new();
        for (name, op, value) in &self.data {
            if !matches!(op.as_str(), "eq" | "ne" | "le" | "lt" | "ge" | "gt") {
                return Err(RuntimeError::BadArgument(format!(
                    "filter operator '{op}' is not one of eq, ne, le, lt, ge, gt"
                )));
            }
            out.push_str(&format!(" data.{} {op} {}", arg(name)?, arg(value)?));
        }
        Ok(out)
    }
}

impl Runtime {
    /// `show table`: every stick table.
    pub async fn tables(&self) -> Result<Vec<StickTable>, RuntimeError> {
        Ok(parse_tables(&self.execute("show table").await?))
    }

    /// `show table NAME [filter]`: the table and its entries.
    pub async fn table(
        &self,
        name: &str,
        filter: &TableFilter,
    ) -> Result<(StickTable, Vec<TableEntry>), RuntimeError> {
        let command = format!("show table {}{}", arg(name)?, filter.words()?);
        let answer = self.execute(&command).await?;
        let table = parse_tables(&answer)
            .into_iter()
            .next()
            .ok_or_else(|| RuntimeError::refused(&command, &answer))?;
        Ok((table, parse_entries(&answer)))
    }

    /// `set table NAME key KEY data.TYPE VALUE...`.
    pub async fn set_table(
        &self,
        name: &str,
        key: &str,
        data: &[(String, String)],
    ) -> Result<(), RuntimeError> {
        let mut command = format!("set table {} key {}", arg(name)?, arg(key)?);
        for (kind, value) in data {
            command.push_str(&format!(" data.{} {}", arg(kind)?, arg(value)?));
        }
        let answer = self.execute(&command).await?;
        silent(&command, &answer)
    }

    /// `clear table NAME [filter]`.
    pub async fn clear_table(&self, name: &str, filter: &TableFilter) -> Result<(), RuntimeError> {
        let command = format!("clear table {}{}", arg(name)?, filter.words()?);
        let answer = self.execute(&command).await?;
        silent(&command, &answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_entries_of_2_6() {
        let text = "# table: be, type: ip, size:1024, used:1\n\
0x55db939a9d78: key=127.0.0.1 use=0 exp=29819 gpc0=0 conn_cnt=1 http_req_rate(10000)=1\n\n";
        assert_eq!(
            parse_tables(text),
            vec![StickTable {
                name: "be".into(),
                kind: "ip".into(),
                size: 1024,
                used: 1
            }]
        );
        let entries = parse_entries(text);
        assert_eq!(entries[0].key, "127.0.0.1");
        assert_eq!(entries[0].expire, 29819);
        assert_eq!(
            entries[0].data,
            vec![
                ("gpc0".into(), None, "0".into()),
                ("conn_cnt".into(), None, "1".into()),
                ("http_req_rate".into(), Some(10000), "1".into()),
            ]
        );
    }

    #[test]
    fn filters() {
        let f = TableFilter {
            key: None,
            data: vec![("gpc0".into(), "gt".into(), "3".into())],
        };
        assert_eq!(f.words().unwrap(), " data.gpc0 gt 3");
        let bad = TableFilter {
            key: None,
            data: vec![("gpc0".into(), "like".into(), "3".into())],
        };
        assert!(bad.words().is_err());
    }
}
