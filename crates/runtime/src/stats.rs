//! `show info` and `show stat`.

use crate::client::Runtime;
use crate::socket::RuntimeError;

/// `show info`: `Name: value` pairs in HAProxy's order.
pub fn parse_info(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// One row of `show stat`: a frontend, a backend or a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    /// `pxname`: the proxy.
    pub proxy: String,
    /// `svname`: FRONTEND, BACKEND, or the server's name.
    pub name: String,
    /// Every column with a value, by its header name.
    pub fields: Vec<(String, String)>,
}

impl StatRow {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
    }

    /// `frontend`, `backend` or `server` (from the `type` column).
    pub fn kind(&self) -> &'static str {
        match self.get("type") {
            Some("0") => "frontend",
            Some("1") => "backend",
            Some("2") => "server",
            _ => match self.name.as_str() {
                "FRONTEND" => "frontend",
                "BACKEND" => "backend",
                _ => "server",
            },
        }
    }
}

/// Parses the CSV of `show stat`: a `# ` header line, then one row per
/// proxy or server. Empty cells are left out.
pub fn parse_stat(text: &str) -> Vec<StatRow> {
    let mut lines = text.lines();
    let Some(header) = lines.next().and_then(|h| h.strip_prefix("# ")) else {
        return Vec::new();
    };
    let columns: Vec<&str> = header.split(',').collect();
    lines
        .filter(|l| !l.is_empty())
        .filter_map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let proxy = cells.first()?.to_string();
            let name = cells.get(1)?.to_string();
            let fields = columns
                .iter()
                .zip(&cells)
                .skip(2)
                .filter(|(c, v)| !c.is_empty() && **c != "-" && !v.is_empty())
                .map(|(c, v)| (c.to_string(), v.to_string()))
                .collect();
            Some(StatRow {
                proxy,
                name,
                fields,
            })
        })
        .collect()
}

impl Runtime {
    /// `show info`.
    pub async fn info(&self) -> Result<Vec<(String, String)>, RuntimeError> {
        let answer = self.execute("show info").await?;
        let info = parse_info(&answer);
        if !info.iter().any(|(k, _)| k == "Name") {
            return Err(RuntimeError::Unexpected {
                command: "show info".into(),
                answer,
            });
        }
        Ok(info)
    }

    /// `show stat`: every frontend, backend and server.
    pub async fn stat(&self) -> Result<Vec<StatRow>, RuntimeError> {
        let answer = self.execute("show stat").await?;
        if !answer.starts_with("# ") {
            return Err(RuntimeError::Unexpected {
                command: "show stat".into(),
                answer,
            });
        }
        Ok(parse_stat(&answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_pairs() {
        let info = parse_info("Name: HAProxy\nVersion: 2.6.12-1+deb12u3\nUptime: 0d 0h00m01s\n\n");
        assert_eq!(info[0], ("Name".into(), "HAProxy".into()));
        assert_eq!(info[2], ("Uptime".into(), "0d 0h00m01s".into()));
    }

    #[test]
    fn stat_rows() {
        let text = "# pxname,svname,qcur,scur,status,weight,type,addr,\n\
fe,FRONTEND,,0,OPEN,,0,,\n\
be,s1,0,2,UP,1,2,127.0.0.1:8081,\n\
be,BACKEND,0,2,UP,1,1,,\n\n";
        let rows = parse_stat(text);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].kind(), "frontend");
        assert_eq!(rows[0].get("qcur"), None);
        assert_eq!(rows[1].kind(), "server");
        assert_eq!(rows[1].get("addr"), Some("127.0.0.1:8081"));
        assert_eq!(rows[2].kind(), "backend");
        assert_eq!(rows[2].proxy, "be");
    }
}
