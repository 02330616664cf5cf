//! SPOE files of `--spoe-dir`: each has its own version (its `# _version`
//! line) and its own transactions, kept as copies of the file in
//! `TRANSACTION_DIR/spoe/FILE/ID.conf` (`ID.failed.conf` after a failed
//! commit). A write the configuration would not load with is refused and
//! undone; when the configuration uses the file, HAProxy reloads.

use std::path::{Path, PathBuf};

use haplane_cfg::Document;
use haplane_model::ResourceError;

use crate::commit::Applied;
use crate::error::DataplaneError;
use crate::files::{FileKind, FileStore};
use crate::store::{Dataplane, ReloadMode};
use crate::transaction::{TransactionInfo, TransactionStatus};

/// Where a SPOE change goes.
#[derive(Debug, Clone)]
pub enum SpoeTarget {
    Transaction(String),
    Live {
        version: Option<u64>,
        reload: ReloadMode,
    },
}

fn version_of(doc: &Document) -> u64 {
    doc.version().unwrap_or(1)
}

impl Dataplane {
    fn spoe_store(&self, dir: &Path) -> FileStore {
        FileStore::new(dir, FileKind::Spoe)
    }

    fn spoe_transactions_dir(&self, file: &str) -> PathBuf {
        self.settings.transaction_dir.join("spoe").join(file)
    }

    /// The SPOE file `file` as it is (or as transaction `id` has it).
    pub fn spoe_read(
        &self,
        dir: &Path,
        file: &str,
        transaction: Option<&str>,
    ) -> Result<Document, DataplaneError> {
        let (_, bytes) = self.spoe_store(dir).get(file)?;
        match transaction {
            None => Ok(Document::parse_spoe(bytes)),
            Some(id) => {
                let (doc, _) = self.spoe_open(file, id)?;
                Ok(doc)
            }
        }
    }

    /// The version of a SPOE file (or of the transaction's copy).
    pub fn spoe_version(
        &self,
        dir: &Path,
        file: &str,
        transaction: Option<&str>,
    ) -> Result<u64, DataplaneError> {
        self.spoe_read(dir, file, transaction)
            .map(|d| version_of(&d))
    }

    fn spoe_open(
        &self,
        file: &str,
        id: &str,
    ) -> Result<(Document, TransactionStatus), DataplaneError> {
        if id.is_empty() || id.contains(['/', '.', '\\']) {
            return Err(DataplaneError::TransactionNotFound(id.to_owned()));
        }
        let dir = self.spoe_transactions_dir(file);
        for (name, status) in [
            (format!("{id}.conf"), TransactionStatus::InProgress),
            (format!("{id}.failed.conf"), TransactionStatus::Failed),
        ] {
            if let Ok(bytes) = std::fs::read(dir.join(&name)) {
                return Ok((Document::parse_spoe(bytes), status));
            }
        }
        Err(DataplaneError::TransactionNotFound(id.to_owned()))
    }

    /// Changes a SPOE file, live or in a transaction.
    pub async fn spoe_edit<T>(
        &self,
        dir: &Path,
        file: &str,
        target: SpoeTarget,
        change: impl FnOnce(&mut Document) -> Result<T, ResourceError>,
    ) -> Result<(T, Applied), DataplaneError> {
        let _writer = self.writer.lock().await;
        let store = self.spoe_store(dir);
        let (_, bytes) = store.get(file)?;
        match target {
            SpoeTarget::Transaction(id) => {
                let (mut doc, status) = self.spoe_open(file, &id)?;
                if status != TransactionStatus::InProgress {
                    return Err(DataplaneError::TransactionClosed {
                        id,
                        status: status.as_str().to_owned(),
                    });
                }
                let value = change(&mut doc)?;
                let path = self.spoe_transactions_dir(file).join(format!("{id}.conf"));
                crate::write_atomic(&path, &doc.to_bytes())
                    .map_err(|e| DataplaneError::io(path.display(), e))?;
                Ok((value, Applied::Transaction))
            }
            SpoeTarget::Live { version, reload } => {
                let mut doc = Document::parse_spoe(bytes);
                let current = version_of(&doc);
                let given = version.ok_or(DataplaneError::NoVersion)?;
                if given != current {
                    return Err(DataplaneError::VersionMismatch { current, given });
                }
                let value = change(&mut doc)?;
                let applied = self.spoe_write(&store, file, doc, current, reload).await?;
                Ok((value, applied))
            }
        }
    }

    /// Writes a new content of a SPOE file at version `base + 1`. The
    /// writer lock is held by the caller.
    async fn spoe_write(
        &self,
        store: &FileStore,
        file: &str,
        mut doc: Document,
        base: u64,
        reload: ReloadMode,
    ) -> Result<Applied, DataplaneError> {
        let version = base + 1;
        doc.set_version(version);
        // HAProxy reads the file at start-up: only a file the configuration
        // uses needs a reload.
        let used = self.file_user(&store.path(file)?).is_some();
        let reload = if used { reload } else { ReloadMode::Skip };
        let (_, applied) = self
            .write_checked(store, file, &doc.to_bytes(), reload, false)
            .await?;
        let (reload, forced) = match applied {
            crate::FileApplied::Reload { reload, forced } => (Some(reload), forced),
            _ => (None, false),
        };
        Ok(Applied::Committed {
            version,
            reload,
            forced,
            runtime: false,
        })
    }

    /// Starts a transaction on version `version` of a SPOE file.
    pub fn spoe_start(
        &self,
        dir: &Path,
        file: &str,
        version: u64,
    ) -> Result<TransactionInfo, DataplaneError> {
        let (_, bytes) = self.spoe_store(dir).get(file)?;
        let doc = Document::parse_spoe(bytes);
        let current = version_of(&doc);
        if version != current {
            return Err(DataplaneError::VersionMismatch {
                current,
                given: version,
            });
        }
        let open = self
            .spoe_transactions(dir, file, None)?
            .iter()
            .filter(|t| t.status == TransactionStatus::InProgress)
            .count();
        if open >= self.settings.max_open_transactions {
            return Err(DataplaneError::TooManyTransactions(
                self.settings.max_open_transactions,
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let path = self.spoe_transactions_dir(file).join(format!("{id}.conf"));
        std::fs::create_dir_all(self.spoe_transactions_dir(file))
            .map_err(|e| DataplaneError::io(path.display(), e))?;
        crate::write_atomic(&path, &doc.to_bytes())
            .map_err(|e| DataplaneError::io(path.display(), e))?;
        Ok(TransactionInfo {
            id,
            version,
            status: TransactionStatus::InProgress,
        })
    }

    /// The transactions of a SPOE file, with `status` only when given.
    pub fn spoe_transactions(
        &self,
        dir: &Path,
        file: &str,
        status: Option<TransactionStatus>,
    ) -> Result<Vec<TransactionInfo>, DataplaneError> {
        let current = self.spoe_version(dir, file, None)?;
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.spoe_transactions_dir(file)) else {
            return Ok(out);
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .collect();
        names.sort();
        for name in names {
            let Some(id) = name.strip_suffix(".conf") else {
                continue;
            };
            let id = id.strip_suffix(".failed").unwrap_or(id);
            if let Ok(info) = self.spoe_transaction_of(file, id, current) {
                if status.is_none_or(|s| s == info.status) {
                    out.push(info);
                }
            }
        }
        Ok(out)
    }

    fn spoe_transaction_of(
        &self,
        file: &str,
        id: &str,
        current: u64,
    ) -> Result<TransactionInfo, DataplaneError> {
        let (doc, stored) = self.spoe_open(file, id)?;
        let version = version_of(&doc);
        let status = match stored {
            TransactionStatus::InProgress if version != current => TransactionStatus::Outdated,
            s => s,
        };
        Ok(TransactionInfo {
            id: id.to_owned(),
            version,
            status,
        })
    }

    pub fn spoe_transaction(
        &self,
        dir: &Path,
        file: &str,
        id: &str,
    ) -> Result<TransactionInfo, DataplaneError> {
        let current = self.spoe_version(dir, file, None)?;
        self.spoe_transaction_of(file, id, current)
    }

    pub fn spoe_delete_transaction(
        &self,
        dir: &Path,
        file: &str,
        id: &str,
    ) -> Result<(), DataplaneError> {
        self.spoe_transaction(dir, file, id)?;
        let base = self.spoe_transactions_dir(file);
        for name in [format!("{id}.conf"), format!("{id}.failed.conf")] {
            let _ = std::fs::remove_file(base.join(name));
        }
        Ok(())
    }

    /// Commits a SPOE transaction: the file takes its content, at the next
    /// version.
    pub async fn spoe_commit(
        &self,
        dir: &Path,
        file: &str,
        id: &str,
        reload: ReloadMode,
    ) -> Result<(TransactionInfo, Applied), DataplaneError> {
        let _writer = self.writer.lock().await;
        let store = self.spoe_store(dir);
        let (_, bytes) = store.get(file)?;
        let current = version_of(&Document::parse_spoe(bytes));
        let info = self.spoe_transaction_of(file, id, current)?;
        match info.status {
            TransactionStatus::InProgress => {}
            TransactionStatus::Outdated => {
                return Err(DataplaneError::Outdated {
                    id: id.to_owned(),
                    base: info.version,
                    current,
                })
            }
            other => {
                return Err(DataplaneError::TransactionClosed {
                    id: id.to_owned(),
                    status: other.as_str().to_owned(),
                })
            }
        }
        let (doc, _) = self.spoe_open(file, id)?;
        let path = self.spoe_transactions_dir(file).join(format!("{id}.conf"));
        match self.spoe_write(&store, file, doc, current, reload).await {
            Ok(applied) => {
                let _ = std::fs::remove_file(&path);
                let info = TransactionInfo {
                    status: TransactionStatus::Success,
                    ..info
                };
                Ok((info, applied))
            }
            Err(e) => {
                let failed = path.with_file_name(format!("{id}.failed.conf"));
                let _ = std::fs::rename(&path, failed);
                Err(e)
            }
        }
    }
}
