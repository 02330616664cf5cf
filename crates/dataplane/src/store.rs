//! The versioned store: the parsed configuration as an immutable snapshot,
//! swapped on each commit, re-read when the file is edited by hand.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use haplane_cfg::Document;
use haplane_model::ResourceError;
use haplane_runtime::{Endpoint, Runtime};

use crate::commit::Applied;
use crate::error::DataplaneError;
use crate::history::{Caller, History, Origin};
use crate::reload::ReloadAgent;
use crate::settings::{ReloadMethod, Settings};
use crate::sources::{Sources, Stamp};
use crate::transaction::{TransactionInfo, TransactionStatus, Transactions};

/// The configuration as read at one instant. Shared by `Arc`: readers keep
/// it as long as they need, commits make a new one.
#[derive(Debug)]
pub struct Snapshot {
    pub doc: Document,
    /// `# _version=N` of the file; 1 when the file has no version line.
    pub version: u64,
    /// Length and modification time of the file this was read from.
    pub(crate) stamp: Option<Stamp>,
    /// Answers computed from this snapshot, by key (see `read_memo`).
    memo: Mutex<Memo>,
    /// A hand edit read while a write held the writer lock is served at
    /// once but versioned later, under the lock: until then, this is the
    /// last versioned snapshot it replaced.
    unversioned: Option<Arc<Snapshot>>,
}

/// Rendered answers kept with a snapshot, up to a total size.
#[derive(Debug, Default)]
struct Memo {
    answers: std::collections::HashMap<String, Arc<[u8]>>,
    bytes: usize,
}

/// How much a snapshot keeps in its memo.
const MEMO_BYTES: usize = 64 * 1024 * 1024;

impl Snapshot {
    pub(crate) fn new(doc: Document, stamp: Option<Stamp>) -> Snapshot {
        let version = doc.version().unwrap_or(1);
        Snapshot::at(doc, version, stamp)
    }

    /// A snapshot served as `version`, whatever the file's version line
    /// says (a hand edit is a version of its own); the document's version
    /// line is set to match.
    pub(crate) fn at(mut doc: Document, version: u64, stamp: Option<Stamp>) -> Snapshot {
        if doc.version().unwrap_or(1) != version {
            doc.set_version(version);
        }
        Snapshot {
            doc,
            version,
            stamp,
            memo: Mutex::new(Memo::default()),
            unversioned: None,
        }
    }
}

/// The configuration's files as one document's bytes (see `sources.rs`).
pub fn read_configuration(settings: &Settings) -> Result<Vec<u8>, DataplaneError> {
    Ok(Sources::new(settings).read()?.0)
}

/// One of the configuration's files, as `GET .../configuration/files`
/// lists them.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: std::path::PathBuf,
    /// Each section's header line (`backend web`).
    pub sections: Vec<String>,
    pub checksum: String,
    pub size: usize,
    pub read_only: bool,
}

/// The file new sections of a change go to (see
/// [`Dataplane::new_sections_in`]): the marker of the file, `None` for the
/// first.
#[derive(Debug, Clone)]
pub struct NewSections {
    marker: Option<String>,
}

impl NewSections {
    /// Runs `change` on `doc` with the sections it appends going to the
    /// end of this file. A document without that file is changed as is.
    pub fn apply<T>(&self, doc: &mut Document, change: impl FnOnce(&mut Document) -> T) -> T {
        let at = doc.files().iter().position(|(m, _)| *m == self.marker);
        doc.append_to_file(at);
        let value = change(doc);
        doc.append_to_file(None);
        value
    }
}

/// Where a change goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// Into an open transaction; committed later.
    Transaction(String),
    /// Straight to the live file, if `version` is the current one.
    Live {
        version: Option<u64>,
        reload: ReloadMode,
    },
    /// Straight to the live file, whatever its version: the change checks
    /// that the resources it touches are as the caller read them (HTTP
    /// `If-Match`, `If-None-Match: *`), so writers of different resources
    /// never conflict.
    Guarded { reload: ReloadMode },
}

/// When HAProxy loads a committed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadMode {
    /// Queued, joined with others within the reload delay (202 + Reload-ID).
    Queue,
    /// Now; the answer waits for the outcome (`force_reload=true`).
    Force,
    /// Not at all: the file is written only (`skip_reload=true`).
    Skip,
}

/// The engine.
#[derive(Debug)]
pub struct Dataplane {
    pub(crate) settings: Settings,
    /// The configuration's files.
    pub(crate) sources: Sources,
    /// The current snapshot; the lock is held only to clone or swap the `Arc`.
    current: RwLock<Arc<Snapshot>>,
    /// Serialises everything that writes the configuration file.
    pub(crate) writer: tokio::sync::Mutex<()>,
    /// Open transactions, each also a file in the transaction directory.
    pub(crate) transactions: Mutex<Transactions>,
    pub(crate) reloads: ReloadAgent,
    /// The runtime client, made for the socket the configuration names.
    runtime: Mutex<Option<Arc<Runtime>>>,
    /// This engine itself, for the tasks it spawns (queued reloads).
    me: std::sync::Weak<Dataplane>,
    /// The major and minor version of the HAProxy binary, read at start-up
    /// (`None` when it cannot be run).
    haproxy_version: Option<(u32, u32)>,
    /// Length and modification time of the file as last deployed: written
    /// by a commit, or a hand edit the watcher has dealt with.
    deployed: Mutex<Option<Stamp>>,
    /// Every version, kept on disk.
    pub(crate) history: History,
    /// Guarded changes waiting for the next group commit.
    pub(crate) queue: Mutex<Vec<crate::group::Queued>>,
    /// The engine's counters.
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
}

impl Dataplane {
    pub(crate) fn weak(&self) -> std::sync::Weak<Dataplane> {
        self.me.clone()
    }

    /// Reads the configuration and the transactions left on disk.
    pub fn open(settings: Settings) -> Result<Arc<Dataplane>, DataplaneError> {
        let path = &settings.config_file;
        let sources = Sources::new(&settings);
        std::fs::create_dir_all(&settings.transaction_dir)
            .map_err(|e| DataplaneError::io(settings.transaction_dir.display(), e))?;
        // A write of several files a crash cut short is finished first;
        // then what a crash in the middle of a write or a check left.
        Sources::recover(&settings.transaction_dir)?;
        for dir in sources.dirs() {
            crate::commit::remove_leftovers(&dir);
        }
        crate::commit::remove_leftovers(&settings.transaction_dir);
        let (bytes, stamp) = sources.read()?;
        let history = History::open(&settings.history_dir(), settings.history_size, path)?;
        let snapshot = Arc::new(first_snapshot(&history, bytes.into(), stamp));
        let transactions = Transactions::load(&settings.transaction_dir, &settings.config_file)?;
        let reloads = ReloadAgent::new(&settings, &snapshot);
        let haproxy_version = haplane_haproxy::version(&settings.haproxy_bin)
            .ok()
            .and_then(|line| haplane_haproxy::major_minor(&line));
        if let Some(version) = haproxy_version {
            haplane_model::set_haproxy_version(version);
        }
        let deployed = Mutex::new(snapshot.stamp.clone());
        let dataplane = Arc::new_cyclic(|me| Dataplane {
            sources,
            haproxy_version,
            deployed,
            settings,
            current: RwLock::new(snapshot),
            writer: tokio::sync::Mutex::new(()),
            transactions: Mutex::new(transactions),
            reloads,
            runtime: Mutex::new(None),
            me: me.clone(),
            history,
            queue: Mutex::new(Vec::new()),
            metrics: Arc::default(),
        });
        Ok(dataplane)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The engine's part of `/v3/metrics` (Prometheus text).
    pub fn render_metrics(&self, out: &mut String) {
        let open = self.transactions(Some(TransactionStatus::InProgress)).len();
        self.metrics.render(out, open);
    }

    /// The major and minor version of HAProxy (`(3, 0)`), when known.
    pub fn haproxy_version(&self) -> Option<(u32, u32)> {
        self.haproxy_version
    }

    /// The client of HAProxy's runtime API: the stats socket given in the
    /// settings, else the first `stats socket ... level admin` of the
    /// configuration's global section, else worker 1 through the master
    /// CLI. `None` when there is none of these.
    pub fn runtime(&self) -> Option<Arc<Runtime>> {
        let wanted = match &self.settings.runtime_api {
            Some(endpoint) => Some((endpoint.clone(), false)),
            None => admin_stats_socket(&self.snapshot().doc)
                .map(|e| (e, false))
                .or_else(|| match &self.settings.reload {
                    ReloadMethod::MasterSocket(path) => Some((Endpoint::Unix(path.clone()), true)),
                    _ => None,
                }),
        };
        let mut cached = self.runtime.lock().expect("runtime lock");
        let (endpoint, via_master) = wanted?;
        if let Some(rt) = cached.as_ref() {
            if rt.endpoint() == &endpoint && rt.is_via_master() == via_master {
                return Some(Arc::clone(rt));
            }
        }
        let rt = Arc::new(match (endpoint, via_master) {
            (Endpoint::Unix(path), true) => Runtime::via_master(path),
            (endpoint, _) => Runtime::stats_socket(endpoint),
        });
        *cached = Some(Arc::clone(&rt));
        Some(rt)
    }

    /// Drops the runtime client's open connections (after a reload).
    pub(crate) fn reset_runtime(&self) {
        if let Some(rt) = self.runtime.lock().expect("runtime lock").as_ref() {
            rt.reset();
        }
    }

    /// The current configuration. If the file changed on disk since it was
    /// read (an edit by hand), it is read again first. It is versioned at
    /// once when no write is under way, else by the next writer.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let current = self.reread();
        if current.unversioned.is_none() {
            return current;
        }
        match self.writer.try_lock() {
            Ok(guard) => self.locked_snapshot(&guard),
            Err(_) => current,
        }
    }

    /// The snapshot, read again if the file's length or modification time
    /// changed. Bytes that differ from the snapshot's (apart from the
    /// version line) are a hand edit, served as the file's version if it
    /// is newer, else as the current one until it is versioned. The
    /// snapshot is swapped only if no commit installed another meanwhile.
    fn reread(&self) -> Arc<Snapshot> {
        let current = self.current_snapshot();
        let on_disk = self.sources.stamp();
        if on_disk.is_none() || on_disk == current.stamp {
            return current;
        }
        let Ok((bytes, on_disk)) = self.sources.read() else {
            return current;
        };
        let doc = Document::parse(bytes);
        let same = crate::commit::same_but_version(&current.doc, &doc);
        let version = doc.version().unwrap_or(1).max(current.version);
        let mut fresh = Snapshot::at(doc, version, on_disk);
        fresh.unversioned = match same {
            true => current.unversioned.clone(),
            false => Some(
                current
                    .unversioned
                    .clone()
                    .unwrap_or_else(|| Arc::clone(&current)),
            ),
        };
        if !same {
            tracing::info!(file = %self.settings.config_file.display(), "configuration changed on disk; reading it again");
        }
        let fresh = Arc::new(fresh);
        let mut slot = self.current.write().expect("snapshot lock");
        if Arc::ptr_eq(&slot, &current) {
            *slot = Arc::clone(&fresh);
        }
        fresh
    }

    /// The current configuration, read again if the file changed on disk,
    /// for a caller that holds the writer lock: a hand edit becomes a
    /// version (the file's, if newer than the last one, else the next) in
    /// the history. The file itself is left as it is.
    pub(crate) fn locked_snapshot(
        &self,
        _writer: &tokio::sync::MutexGuard<'_, ()>,
    ) -> Arc<Snapshot> {
        let current = self.reread();
        let Some(base) = &current.unversioned else {
            return current;
        };
        let edited = !crate::commit::same_but_version(&base.doc, &current.doc);
        let version = match (edited, current.version > base.version) {
            (false, _) => base.version,
            (true, true) => current.version,
            (true, false) => base.version + 1,
        };
        let fresh = Arc::new(Snapshot::at(
            current.doc.clone(),
            version,
            current.stamp.clone(),
        ));
        if edited {
            tracing::info!(version, "a hand edit of the configuration is a new version");
            self.history.keep(
                Some(&base.doc),
                &fresh.doc,
                version,
                Origin::HandEdit,
                Caller::default(),
            );
        }
        *self.current.write().expect("snapshot lock") = Arc::clone(&fresh);
        fresh
    }

    /// The snapshot in memory, without looking at the file.
    pub(crate) fn current_snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current.read().expect("snapshot lock"))
    }

    /// The file on disk when it is not the one last deployed (a hand
    /// edit), which from now on counts as dealt with.
    pub(crate) fn take_hand_edit(&self) -> Option<Stamp> {
        let on_disk = self.sources.stamp()?;
        let mut deployed = self.deployed.lock().expect("deployed lock");
        if deployed.as_ref() == Some(&on_disk) {
            return None;
        }
        *deployed = Some(on_disk.clone());
        Some(on_disk)
    }

    /// Makes `snapshot` current: the file it was written to is deployed.
    pub(crate) fn install(&self, snapshot: Snapshot) {
        *self.deployed.lock().expect("deployed lock") = snapshot.stamp.clone();
        *self.current.write().expect("snapshot lock") = Arc::new(snapshot);
    }

    pub(crate) fn stamp_now(&self) -> Option<Stamp> {
        self.sources.stamp()
    }

    /// Reads the live configuration, or a transaction's.
    pub fn read<T>(
        &self,
        transaction: Option<&str>,
        f: impl FnOnce(&Document) -> T,
    ) -> Result<T, DataplaneError> {
        match transaction {
            None => Ok(f(&self.snapshot().doc)),
            Some(id) => {
                let transactions = self.transactions.lock().expect("transactions lock");
                let t = transactions.get(id)?;
                Ok(f(&t.doc))
            }
        }
    }

    /// Like `read`, for answers that are expensive to compute (the 10,000
    /// rules of a big frontend): on the live configuration, `render`'s
    /// bytes are kept with the snapshot under `key` and given back while
    /// that snapshot is current. Snapshots never change, so the memo is
    /// never stale; it goes with the snapshot. Transactions are read
    /// without it.
    pub fn read_memo(
        &self,
        transaction: Option<&str>,
        key: &str,
        render: impl FnOnce(&Document) -> Result<Vec<u8>, ResourceError>,
    ) -> Result<Arc<[u8]>, DataplaneError> {
        if transaction.is_some() {
            return Ok(Arc::from(self.read(transaction, render)??));
        }
        let snapshot = self.snapshot();
        if let Some(hit) = snapshot.memo.lock().expect("memo lock").answers.get(key) {
            return Ok(Arc::clone(hit));
        }
        let bytes: Arc<[u8]> = Arc::from(render(&snapshot.doc)?);
        let mut memo = snapshot.memo.lock().expect("memo lock");
        if memo.bytes + bytes.len() <= MEMO_BYTES {
            memo.bytes += bytes.len();
            memo.answers.insert(key.to_owned(), Arc::clone(&bytes));
        }
        Ok(bytes)
    }

    /// Applies `change` to the target: to a transaction's document, or to
    /// the live configuration through the commit pipeline. A guarded change
    /// joins the next group commit (see `group.rs`).
    pub async fn edit<T, F>(
        &self,
        target: Target,
        change: F,
    ) -> Result<(T, Applied), DataplaneError>
    where
        F: Fn(&mut Document) -> Result<T, ResourceError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        match target {
            Target::Transaction(id) => {
                let current = self.snapshot().version;
                let mut transactions = self.transactions.lock().expect("transactions lock");
                let t = transactions.get_open(&id, current)?;
                let mut doc = t.doc.clone();
                let value = change(&mut doc)?;
                transactions.update(
                    &self.settings.transaction_dir,
                    &self.settings.config_file,
                    &id,
                    doc,
                )?;
                Ok((value, Applied::Transaction))
            }
            Target::Guarded { reload } => self.edit_in_group(reload, change).await,
            Target::Live { version, reload } => {
                let version = version.ok_or(DataplaneError::NoVersion)?;
                let guard = self.writer.lock().await;
                let current = self.locked_snapshot(&guard);
                if current.version != version {
                    return Err(DataplaneError::VersionMismatch {
                        current: current.version,
                        given: version,
                    });
                }
                let mut doc = current.doc.clone();
                let value = change(&mut doc)?;
                let applied = self
                    .commit(&guard, version, doc, reload, false, Origin::Api)
                    .await?;
                Ok((value, applied))
            }
        }
    }

    /// Replaces a configuration file (`None`: the first) with `bytes` (the
    /// raw endpoint). `version` None skips the version check.
    pub async fn replace_raw(
        &self,
        bytes: Vec<u8>,
        file: Option<&Path>,
        version: Option<u64>,
        reload: ReloadMode,
    ) -> Result<Applied, DataplaneError> {
        let file = file.map(Path::to_path_buf);
        self.replace_with(
            move |dp, current| dp.sources.replace_file(current, file.as_deref(), &bytes),
            version,
            reload,
            Origin::Api,
        )
        .await
    }

    /// The bytes of a configuration file (`None`: the first), live or in
    /// a transaction, with the version they are at.
    pub fn raw(
        &self,
        transaction: Option<&str>,
        file: Option<&Path>,
    ) -> Result<(Vec<u8>, u64), DataplaneError> {
        let (doc, version) = match transaction {
            Some(id) => {
                let transactions = self.transactions.lock().expect("transactions lock");
                let t = transactions.get(id)?;
                (
                    t.doc.clone(),
                    t.info(self.current_snapshot().version).version,
                )
            }
            None => {
                let snapshot = self.snapshot();
                (snapshot.doc.clone(), snapshot.version)
            }
        };
        let files = doc.files();
        if files.len() == 1 && file.is_none() {
            return Ok((doc.to_bytes(), version));
        }
        let index = self.sources.index_of(&doc, file)?;
        let range = files[index].1.clone();
        Ok((doc.file_bytes(range), version))
    }

    /// The configuration's files, live or in a transaction: each one's
    /// path, sections, checksum and whether the API may write it.
    pub fn config_files(
        &self,
        transaction: Option<&str>,
    ) -> Result<Vec<ConfigFile>, DataplaneError> {
        self.read(transaction, |doc| {
            let names = self.sources.names(doc);
            doc.files()
                .into_iter()
                .zip(names)
                .map(|((_, range), path)| {
                    let sections = doc
                        .sections_at(range.clone())
                        .filter(|s| s.kind() != haplane_cfg::SectionKind::File)
                        .map(|s| s.header().text().trim().to_owned())
                        .collect();
                    let bytes = doc.file_bytes(range);
                    ConfigFile {
                        read_only: self.sources.read_only(&path).is_some(),
                        path,
                        sections,
                        checksum: crate::history::checksum(&bytes),
                        size: bytes.len(),
                    }
                })
                .collect()
        })
    }

    /// Where new sections of a change go: the file `file` names (see
    /// [`NewSections::apply`]). A file that is
    /// none of the configuration's is a 404; a read-only one a 403.
    pub fn new_sections_in(&self, file: &Path) -> Result<NewSections, DataplaneError> {
        let snapshot = self.snapshot();
        let index = self.sources.index_of(&snapshot.doc, Some(file))?;
        let path = &self.sources.names(&snapshot.doc)[index];
        if let Some(flag) = self.sources.read_only(path) {
            return Err(DataplaneError::ReadOnly {
                file: path.display().to_string(),
                flag,
            });
        }
        let marker = snapshot.doc.files().swap_remove(index).0;
        Ok(NewSections { marker })
    }

    /// Commits the bytes of a version of the history as a new version.
    pub async fn restore_version(
        &self,
        version: u64,
        current: Option<u64>,
        reload: ReloadMode,
    ) -> Result<Applied, DataplaneError> {
        let bytes = self.history.bytes(version)?;
        self.replace_with(move |_, _| Ok(bytes), current, reload, Origin::Restore)
            .await
    }

    /// Commits the document's bytes `bytes` makes of the current one.
    async fn replace_with(
        &self,
        bytes: impl FnOnce(&Dataplane, &Document) -> Result<Vec<u8>, DataplaneError>,
        version: Option<u64>,
        reload: ReloadMode,
        origin: Origin,
    ) -> Result<Applied, DataplaneError> {
        let guard = self.writer.lock().await;
        let current = self.locked_snapshot(&guard);
        let base = version.unwrap_or(current.version);
        if base != current.version {
            return Err(DataplaneError::VersionMismatch {
                current: current.version,
                given: base,
            });
        }
        let bytes = bytes(self, &current.doc)?;
        self.commit(&guard, base, Document::parse(bytes), reload, true, origin)
            .await
    }

    /// Checks `bytes` as the content of a configuration file (`None`: the
    /// first) with HAProxy, without writing anything.
    pub async fn validate_raw(
        &self,
        bytes: Vec<u8>,
        file: Option<&Path>,
    ) -> Result<(), DataplaneError> {
        let current = self.snapshot();
        let bytes = self.sources.replace_file(&current.doc, file, &bytes)?;
        let doc = Document::parse(bytes);
        if doc.files().len() != current.doc.files().len() {
            return Err(DataplaneError::BadFile(
                "a change cannot add or remove one of the configuration's files".into(),
            ));
        }
        self.validate(&doc).await
    }

    /// Starts a transaction on `version` (which must be the current one).
    pub fn start_transaction(&self, version: u64) -> Result<TransactionInfo, DataplaneError> {
        let current = self.snapshot();
        if current.version != version {
            return Err(DataplaneError::VersionMismatch {
                current: current.version,
                given: version,
            });
        }
        let mut transactions = self.transactions.lock().expect("transactions lock");
        let open = transactions.count(TransactionStatus::InProgress, current.version);
        if open >= self.settings.max_open_transactions {
            return Err(DataplaneError::TooManyTransactions(
                self.settings.max_open_transactions,
            ));
        }
        transactions.start(
            &self.settings.transaction_dir,
            &self.settings.config_file,
            current.doc.clone(),
            version,
        )
    }

    /// Every transaction, optionally only those with `status`.
    pub fn transactions(&self, status: Option<TransactionStatus>) -> Vec<TransactionInfo> {
        let current = self.snapshot().version;
        let transactions = self.transactions.lock().expect("transactions lock");
        transactions
            .list(current)
            .into_iter()
            .filter(|t| status.is_none_or(|s| t.status == s))
            .collect()
    }

    pub fn transaction(&self, id: &str) -> Result<TransactionInfo, DataplaneError> {
        let current = self.snapshot().version;
        let transactions = self.transactions.lock().expect("transactions lock");
        Ok(transactions.get(id)?.info(current))
    }

    pub fn delete_transaction(&self, id: &str) -> Result<(), DataplaneError> {
        let mut transactions = self.transactions.lock().expect("transactions lock");
        transactions.delete(&self.settings.transaction_dir, id)
    }

    /// Commits a transaction: one validation, one write, one reload.
    pub async fn commit_transaction(
        &self,
        id: &str,
        reload: ReloadMode,
    ) -> Result<(TransactionInfo, Applied), DataplaneError> {
        let guard = self.writer.lock().await;
        let current = self.locked_snapshot(&guard).version;
        let (doc, base) = {
            let transactions = self.transactions.lock().expect("transactions lock");
            let t = transactions.get_open(id, current)?;
            (t.doc.clone(), t.base_version)
        };
        let result = self
            .commit(&guard, base, doc, reload, true, Origin::Api)
            .await;
        let mut transactions = self.transactions.lock().expect("transactions lock");
        match result {
            Ok(applied) => {
                let info = transactions.finish(
                    &self.settings.transaction_dir,
                    &self.settings.config_file,
                    id,
                    TransactionStatus::Success,
                )?;
                Ok((info, applied))
            }
            Err(e @ DataplaneError::Invalid { .. }) => {
                transactions.finish(
                    &self.settings.transaction_dir,
                    &self.settings.config_file,
                    id,
                    TransactionStatus::Failed,
                )?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}

/// The configuration as haplane starts with it: the file, as the version
/// the history last kept when the bytes are the same (a hand edit's
/// version is not written to the file), else as a hand edit made while
/// haplane was away (the next version), kept in the history. A first
/// start keeps the file as it is.
fn first_snapshot(history: &History, source: Arc<[u8]>, stamp: Option<Stamp>) -> Snapshot {
    let doc = Document::parse(Arc::clone(&source));
    let file_version = doc.version().unwrap_or(1);
    let Some(latest) = history.latest() else {
        // The file's own bytes: the document renders them unchanged.
        let snapshot = Snapshot::at(doc, file_version, stamp);
        let record = crate::history::Record {
            changes: Vec::new(),
            origin: Origin::Initial,
            caller: Caller::default(),
            staged: None,
        };
        history.keep_bytes(record, &source, file_version);
        return snapshot;
    };
    let kept = history.bytes(latest.version).unwrap_or_default();
    let same = crate::commit::without_version(&kept) == crate::commit::without_version(&source);
    if same {
        return Snapshot::at(doc, file_version.max(latest.version), stamp);
    }
    let version = file_version.max(latest.version + 1);
    let snapshot = Snapshot::at(doc, version, stamp);
    tracing::info!(
        version,
        "the configuration changed while haplane was stopped"
    );
    let before = Document::parse(kept);
    history.keep(
        Some(&before),
        &snapshot.doc,
        version,
        Origin::HandEdit,
        Caller::default(),
    );
    snapshot
}

/// The first `stats socket ADDRESS ... level admin` of the global section
/// (the default level, operator, cannot change servers), as the global
/// table reads it.
fn admin_stats_socket(doc: &Document) -> Option<Endpoint> {
    let global = haplane_model::get_global(doc);
    let sockets = global.get("runtime_apis")?.as_array()?;
    sockets.iter().find_map(|socket| {
        let admin = socket.get("level").and_then(|l| l.as_str()) == Some("admin");
        let address = socket.get("address").and_then(|a| a.as_str())?;
        admin
            .then(|| Endpoint::from_stats_socket(address))
            .flatten()
    })
}
