//! TLS material in memory: certificates, CA files and CRL files (each with
//! `new`, `set` + `commit`/`abort`, `del`, `show`), and crt-lists.

use crate::client::Runtime;
use crate::servers::saying;
use crate::socket::{arg, RuntimeError};

/// Which kind of TLS file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslStore {
    Cert,
    CaFile,
    CrlFile,
}

impl SslStore {
    fn word(self) -> &'static str {
        match self {
            SslStore::Cert => "cert",
            SslStore::CaFile => "ca-file",
            SslStore::CrlFile => "crl-file",
        }
    }
}

/// A file of `show ssl cert|ca-file|crl-file`, with the number of
/// certificates when HAProxy says it (CA files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslFile {
    pub name: String,
    pub count: Option<u64>,
}

/// What `show ssl cert NAME` (one block) or `show ssl ca-file NAME` (a
/// block, then one per certificate) says, as `Key: value` pairs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SslDetails {
    pub fields: Vec<(String, String)>,
    pub certificates: Vec<Vec<(String, String)>>,
}

impl SslDetails {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One line of a crt-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrtListEntry {
    pub file: String,
    /// The line number in the list (from `show ssl crt-list -n`).
    pub line: Option<u64>,
    /// The options between brackets, without them.
    pub options: Option<String>,
    /// SNI filters.
    pub filters: Vec<String>,
}

pub fn parse_ssl_files(text: &str) -> Vec<SslFile> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| match line.split_once(" - ") {
            Some((name, count)) => SslFile {
                name: name.trim().to_owned(),
                count: count.split_whitespace().next().and_then(|n| n.parse().ok()),
            },
            None => SslFile {
                name: line.trim().to_owned(),
                count: None,
            },
        })
        .collect()
}

pub fn parse_ssl_details(text: &str) -> SslDetails {
    let mut details = SslDetails::default();
    for line in text.lines() {
        if line.starts_with("Certificate #") {
            details.certificates.push(Vec::new());
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let pair = (key.trim().to_owned(), value.trim().to_owned());
        if pair.0.is_empty() {
            continue;
        }
        match details.certificates.last_mut() {
            Some(cert) => cert.push(pair),
            None => details.fields.push(pair),
        }
    }
    details
}

/// One revocation list of `show ssl crl-file NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CrlInfo {
    pub version: String,
    pub signature_algorithm: String,
    pub issuer: String,
    pub last_update: String,
    pub next_update: String,
    /// `(serial number, revocation date)`.
    pub revoked: Vec<(String, String)>,
}

/// Parses `show ssl crl-file NAME`: the status, then one block per list.
pub fn parse_crl(text: &str) -> (Option<String>, Vec<CrlInfo>) {
    let mut status = None;
    let mut lists: Vec<CrlInfo> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("Certificate Revocation List #") {
            lists.push(CrlInfo::default());
            continue;
        }
        let Some(crl) = lists.last_mut() else {
            if let Some(s) = line.strip_prefix("Status:") {
                status = Some(s.trim().to_owned());
            }
            continue;
        };
        if let Some(v) = line.strip_prefix("Version ") {
            crl.version = v.trim().to_owned();
        } else if let Some((key, value)) = line.split_once(':') {
            let value = value.trim().to_owned();
            match key {
                "Signature Algorithm" => crl.signature_algorithm = value,
                "Issuer" => crl.issuer = value,
                "Last Update" => crl.last_update = value,
                "Next Update" => crl.next_update = value,
                "Serial Number" => crl.revoked.push((value, String::new())),
                "Revocation Date" => {
                    if let Some(last) = crl.revoked.last_mut() {
                        last.1 = value;
                    }
                }
                _ => {}
            }
        }
    }
    (status, lists)
}

/// Parses `show ssl crt-list -n FILE`: `cert:LINE [options] filters...`.
pub fn parse_crt_list(text: &str) -> Vec<CrtListEntry> {
    // HAProxy 2.6 prints a NUL byte after the options.
    let text = text.replace('\0', "");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (first, rest) = line.split_once(' ').unwrap_or((line, ""));
            let (file, number) = match first.rsplit_once(':') {
                Some((f, n)) if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => {
                    (f, n.parse().ok())
                }
                _ => (first, None),
            };
            let rest = rest.trim();
            let (options, filters) = match rest.strip_prefix('[') {
                Some(r) => match r.split_once(']') {
                    Some((o, f)) => (Some(o.trim().to_owned()), f),
                    None => (Some(r.to_owned()), ""),
                },
                None => (None, rest),
            };
            CrtListEntry {
                file: file.to_owned(),
                line: number,
                options,
                filters: filters.split_whitespace().map(str::to_owned).collect(),
            }
        })
        .collect()
}

impl Runtime {
    /// `show ssl cert|ca-file|crl-file`: the files HAProxy holds.
    pub async fn ssl_files(&self, store: SslStore) -> Result<Vec<SslFile>, RuntimeError> {
        Ok(parse_ssl_files(
            &self.execute(&format!("show ssl {}", store.word())).await?,
        ))
    }

    /// `show ssl ... NAME`. A name starting with `*` shows an uncommitted
    /// transaction.
    pub async fn ssl_details(
        &self,
        store: SslStore,
        name: &str,
    ) -> Result<SslDetails, RuntimeError> {
        let command = format!("show ssl {} {}", store.word(), arg(name)?);
        let answer = self.execute(&command).await?;
        let details = parse_ssl_details(&answer);
        if details.get("Filename").is_none() {
            return Err(RuntimeError::refused(&command, &answer));
        }
        Ok(details)
    }

    /// `show ssl crl-file NAME`: its status and revocation lists.
    pub async fn crl_details(
        &self,
        name: &str,
    ) -> Result<(Option<String>, Vec<CrlInfo>), RuntimeError> {
        let command = format!("show ssl crl-file {}", arg(name)?);
        let answer = self.execute(&command).await?;
        if !answer.starts_with("Filename:") {
            return Err(RuntimeError::refused(&command, &answer));
        }
        Ok(parse_crl(&answer))
    }

    /// `new ssl ... NAME`: an empty entry, to be filled by `set`.
    pub async fn ssl_new(&self, store: SslStore, name: &str) -> Result<(), RuntimeError> {
        let command = format!("new ssl {} {}", store.word(), arg(name)?);
        let answer = self.execute(&command).await?;
        if answer.starts_with("New ") {
            Ok(())
        } else {
            Err(RuntimeError::refused(&command, &answer))
        }
    }

    /// `set ssl ... NAME <<PEM` then `commit`; `abort` if the commit fails.
    pub async fn ssl_replace(
        &self,
        store: SslStore,
        name: &str,
        pem: &str,
    ) -> Result<(), RuntimeError> {
        self.ssl_payload("set", store, name, pem).await
    }

    /// `VERB ssl ... NAME <<PEM` (`set`, `add`) then `commit`.
    async fn ssl_payload(
        &self,
        verb: &str,
        store: SslStore,
        name: &str,
        pem: &str,
    ) -> Result<(), RuntimeError> {
        let word = store.word();
        let pem = pem.trim();
        if pem.is_empty() || pem.lines().any(|l| l.trim().is_empty()) {
            return Err(RuntimeError::BadArgument(
                "the PEM contents must not be empty nor contain empty lines".into(),
            ));
        }
        let name = arg(name)?;
        let set = format!("{verb} ssl {word} {name} <<\n{pem}\n");
        let answer = self.execute(&set).await?;
        if !answer.to_ascii_lowercase().contains("transaction") || answer.contains("Can't") {
            return Err(RuntimeError::refused(
                &format!("{verb} ssl {word} {name}"),
                &answer,
            ));
        }
        let commit = format!("commit ssl {word} {name}");
        let answer = self.execute(&commit).await?;
        if let Err(e) = saying(&commit, &answer, "Success!") {
            let _ = self.execute(&format!("abort ssl {word} {name}")).await;
            return Err(e);
        }
        Ok(())
    }

    /// `add ssl ca-file NAME <<PEM` then `commit` (HAProxy 2.7 and later):
    /// the certificates are appended; `abort` if the commit fails.
    pub async fn ssl_ca_add(&self, name: &str, pem: &str) -> Result<(), RuntimeError> {
        self.ssl_payload("add", SslStore::CaFile, name, pem).await
    }

    /// `del ssl ... NAME`: only files no bind line uses.
    pub async fn ssl_delete(&self, store: SslStore, name: &str) -> Result<(), RuntimeError> {
        let command = format!("del ssl {} {}", store.word(), arg(name)?);
        let answer = self.execute(&command).await?;
        // A refusal may say "... in use, can't be deleted!".
        if answer.contains("Can't") || answer.contains("can't") {
            return Err(RuntimeError::refused(&command, &answer));
        }
        saying(&command, &answer, "deleted!")
    }

    /// `show ssl crt-list`: the crt-list files.
    pub async fn crt_lists(&self) -> Result<Vec<String>, RuntimeError> {
        let answer = self.execute("show ssl crt-list").await?;
        Ok(parse_ssl_files(&answer)
            .into_iter()
            .map(|f| f.name)
            .collect())
    }

    /// `show ssl crt-list -n FILE`: its entries with line numbers.
    pub async fn crt_list_entries(&self, list: &str) -> Result<Vec<CrtListEntry>, RuntimeError> {
        let command = format!("show ssl crt-list -n {}", arg(list)?);
        let answer = self.execute(&command).await?;
        if !answer.starts_with('#') {
            return Err(RuntimeError::refused(&command, &answer));
        }
        Ok(parse_crt_list(&answer))
    }

    /// `add ssl crt-list FILE <<LINE`: one line, a certificate HAProxy
    /// already holds, with options and SNI filters.
    pub async fn crt_list_add(&self, list: &str, entry: &CrtListEntry) -> Result<(), RuntimeError> {
        let mut line = entry.file.clone();
        if let Some(options) = entry.options.as_deref().filter(|o| !o.is_empty()) {
            line.push_str(&format!(" [{options}]"));
        }
        for filter in &entry.filters {
            line.push(' ');
            line.push_str(filter);
        }
        if line.contains(['\n', '\r']) {
            return Err(RuntimeError::BadArgument(
                "a crt-list entry is one line".into(),
            ));
        }
        let command = format!("add ssl crt-list {} <<\n{line}\n", arg(list)?);
        let answer = self.execute(&command).await?;
        saying(&format!("add ssl crt-list {list}"), &answer, "Success!")
    }

    /// `del ssl crt-list FILE CERT[:LINE]`.
    pub async fn crt_list_delete(
        &self,
        list: &str,
        file: &str,
        line: Option<u64>,
    ) -> Result<(), RuntimeError> {
        let cert = match line {
            Some(n) => format!("{}:{n}", arg(file)?),
            None => arg(file)?,
        };
        let command = format!("del ssl crt-list {} {cert}", arg(list)?);
        let answer = self.execute(&command).await?;
        saying(&command, &answer, "deleted")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_2_6() {
        let files = parse_ssl_files(
            "# filename\n/tmp/rt/certs/ca.pem - 1 certificate(s)\n@system-ca - 145 certificate(s)\n\n",
        );
        assert_eq!(files[0].name, "/tmp/rt/certs/ca.pem");
        assert_eq!(files[0].count, Some(1));
        assert_eq!(files[1].count, Some(145));
        let certs = parse_ssl_files("# filename\n/tmp/rt/certs/site.pem\n\n");
        assert_eq!(certs[0].count, None);
    }

    #[test]
    fn details_of_a_ca_file() {
        let d = parse_ssl_details("Filename: /tmp/ca.pem\nStatus: Unused\n \nCertificate #1:\nSerial: 45\nSubject: /CN=haplane test CA\n\n");
        assert_eq!(d.get("Status"), Some("Unused"));
        assert_eq!(d.certificates.len(), 1);
        assert_eq!(
            d.certificates[0][1],
            ("Subject".into(), "/CN=haplane test CA".into())
        );
    }

    #[test]
    fn crl_of_2_6() {
        let (status, lists) = parse_crl("Filename: /tmp/x.crl\nStatus: Unused\n \nCertificate Revocation List #1:\nVersion 2\nSignature Algorithm: sha256WithRSAEncryption\nIssuer: /CN=haplane CRL test CA\nLast Update: Nov 25 05:12:55 2026 GMT\nNext Update: Nov 22 05:12:55 2036 GMT\nRevoked Certificates:\n    Serial Number: 6080\n        Revocation Date: Nov 25 05:12:55 2026 GMT\n\n");
        assert_eq!(status.as_deref(), Some("Unused"));
        assert_eq!(lists[0].version, "2");
        assert_eq!(lists[0].issuer, "/CN=haplane CRL test CA");
        assert_eq!(
            lists[0].revoked,
            vec![("6080".into(), "Nov 25 05:12:55 2026 GMT".into())]
        );
    }

    #[test]
    fn crt_list_lines() {
        let entries = parse_crt_list(
            "# /tmp/list.txt\n/tmp/site.pem:1\n/tmp/new.pem:2 [alpn h2 ssl-min-ver TLSv1.2] a.com !b.com\n\n",
        );
        assert_eq!(entries[0].file, "/tmp/site.pem");
        assert_eq!(entries[0].line, Some(1));
        assert_eq!(
            entries[1].options.as_deref(),
            Some("alpn h2 ssl-min-ver TLSv1.2")
        );
        assert_eq!(entries[1].filters, vec!["a.com", "!b.com"]);
    }
}
