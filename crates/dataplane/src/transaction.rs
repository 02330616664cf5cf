//! Transactions: a copy of the configuration that collects changes and is
//! committed as one. Each open transaction is the file `ID.cfg` in the
//! transaction directory (its `# _version` line is the version it started
//! from); a failed one is renamed `ID.failed.cfg`. Both survive restarts.

use std::collections::BTreeMap;
use std::path::Path;

use haplane_cfg::Document;

use crate::error::DataplaneError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    InProgress,
    Failed,
    /// Started on a version that is no longer the current one.
    Outdated,
    Success,
}

impl TransactionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::InProgress => "in_progress",
            TransactionStatus::Failed => "failed",
            TransactionStatus::Outdated => "outdated",
            TransactionStatus::Success => "success",
        }
    }

    pub fn parse(text: &str) -> Option<TransactionStatus> {
        [
            Self::InProgress,
            Self::Failed,
            Self::Outdated,
            Self::Success,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What the API shows of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionInfo {
    pub id: String,
    /// The configuration version it started from.
    pub version: u64,
    pub status: TransactionStatus,
}

#[derive(Debug)]
pub(crate) struct Transaction {
    pub(crate) doc: Document,
    pub(crate) base_version: u64,
    /// InProgress, Failed or Success; Outdated is derived.
    stored: TransactionStatus,
    id: String,
}

impl Transaction {
    pub(crate) fn info(&self, current: u64) -> TransactionInfo {
        let status = match self.stored {
            TransactionStatus::InProgress if self.base_version != current => {
                TransactionStatus::Outdated
            }
            s => s,
        };
        TransactionInfo {
            id: self.id.clone(),
            version: self.base_version,
            status,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Transactions {
    by_id: BTreeMap<String, Transaction>,
}

fn file(dir: &Path, id: &str, failed: bool) -> std::path::PathBuf {
    dir.join(if failed {
        format!("{id}.failed.cfg")
    } else {
        format!("{id}.cfg")
    })
}

/// Writes a transaction's file atomically, with the mode, owner and group
/// of the configuration it copies (`like`).
fn write(path: &Path, doc: &Document, like: &Path) -> Result<(), DataplaneError> {
    crate::commit::write_atomic_like(path, &doc.to_bytes(), like)
        .map_err(|e| DataplaneError::io(path.display(), e))
}

impl Transactions {
    /// Reads the transactions left in `dir`.
    pub(crate) fn load(dir: &Path) -> Result<Transactions, DataplaneError> {
        let mut out = Transactions::default();
        let entries = std::fs::read_dir(dir).map_err(|e| DataplaneError::io(dir.display(), e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let (id, stored) = if let Some(id) = name.strip_suffix(".failed.cfg") {
                (id, TransactionStatus::Failed)
            } else if let Some(id) = name.strip_suffix(".cfg") {
                (id, TransactionStatus::InProgress)
            } else {
                continue;
            };
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            let doc = Document::parse(bytes);
            let base_version = doc.version().unwrap_or(1);
            out.by_id.insert(
                id.to_owned(),
                Transaction {
                    doc,
                    base_version,
                    stored,
                    id: id.to_owned(),
                },
            );
        }
        Ok(out)
    }

    pub(crate) fn count(&self, status: TransactionStatus, current: u64) -> usize {
        self.by_id
            .values()
            .filter(|t| t.info(current).status == status)
            .count()
    }

    /// Starts a transaction on `doc`; its file takes the mode, owner and
    /// group of `like`, the configuration file.
    pub(crate) fn start(
        &mut self,
        dir: &Path,
        like: &Path,
        doc: Document,
        version: u64,
    ) -> Result<TransactionInfo, DataplaneError> {
        let id = uuid::Uuid::new_v4().to_string();
        write(&file(dir, &id, false), &doc, like)?;
        let t = Transaction {
            doc,
            base_version: version,
            stored: TransactionStatus::InProgress,
            id: id.clone(),
        };
        let info = t.info(version);
        self.by_id.insert(id, t);
        Ok(info)
    }

    pub(crate) fn list(&self, current: u64) -> Vec<TransactionInfo> {
        self.by_id.values().map(|t| t.info(current)).collect()
    }

    pub(crate) fn get(&self, id: &str) -> Result<&Transaction, DataplaneError> {
        self.by_id
            .get(id)
            .ok_or_else(|| DataplaneError::TransactionNotFound(id.to_owned()))
    }

    /// The transaction, if it can still take changes or be committed.
    pub(crate) fn get_open(&self, id: &str, current: u64) -> Result<&Transaction, DataplaneError> {
        let t = self.get(id)?;
        match t.info(current).status {
            TransactionStatus::InProgress => Ok(t),
            TransactionStatus::Outdated => Err(DataplaneError::Outdated {
                id: id.to_owned(),
                base: t.base_version,
                current,
            }),
            other => Err(DataplaneError::TransactionClosed {
                id: id.to_owned(),
                status: other.as_str().into(),
            }),
        }
    }

    pub(crate) fn update(
        &mut self,
        dir: &Path,
        like: &Path,
        id: &str,
        doc: Document,
    ) -> Result<(), DataplaneError> {
        write(&file(dir, id, false), &doc, like)?;
        let t = self
            .by_id
            .get_mut(id)
            .ok_or_else(|| DataplaneError::TransactionNotFound(id.to_owned()))?;
        t.doc = doc;
        Ok(())
    }

    pub(crate) fn delete(&mut self, dir: &Path, id: &str) -> Result<(), DataplaneError> {
        let t = self
            .by_id
            .remove(id)
            .ok_or_else(|| DataplaneError::TransactionNotFound(id.to_owned()))?;
        let _ = std::fs::remove_file(file(dir, id, t.stored == TransactionStatus::Failed));
        Ok(())
    }

    /// Marks a transaction committed (its file goes) or failed (its file is
    /// renamed, kept for inspection).
    pub(crate) fn finish(
        &mut self,
        dir: &Path,
        id: &str,
        status: TransactionStatus,
    ) -> Result<TransactionInfo, DataplaneError> {
        let t = self
            .by_id
            .get_mut(id)
            .ok_or_else(|| DataplaneError::TransactionNotFound(id.to_owned()))?;
        let open = file(dir, id, false);
        match status {
            TransactionStatus::Failed => {
                let _ = std::fs::rename(&open, file(dir, id, true));
            }
            _ => {
                let _ = std::fs::remove_file(&open);
            }
        }
        t.stored = status;
        Ok(TransactionInfo {
            id: id.to_owned(),
            version: t.base_version,
            status,
        })
    }
}
