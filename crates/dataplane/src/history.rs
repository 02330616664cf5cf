//! The history of the configuration: every committed version, a hand edit
//! haplane saw, a restore, the configuration put back after a failed
//! reload. Each is two files of the history directory: `VERSION.cfg`, the
//! bytes, and `VERSION.json`, who, when, what changed and how it was
//! applied. The newest `--history-size` are kept, across restarts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use haplane_cfg::Document;
use serde_json::{json, Value};

use crate::error::DataplaneError;

/// Why a version exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A change through the API (a resource, a transaction, `raw`).
    Api,
    /// An earlier version committed again (`history/{version}/restore`).
    Restore,
    /// The previous configuration, put back because a reload failed.
    Rollback,
    /// The file changed by another hand.
    HandEdit,
    /// The file as haplane first found it.
    Initial,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Api => "api",
            Origin::Restore => "restore",
            Origin::Rollback => "rollback",
            Origin::HandEdit => "hand_edit",
            Origin::Initial => "initial",
        }
    }

    fn parse(text: &str) -> Origin {
        [
            Origin::Api,
            Origin::Restore,
            Origin::Rollback,
            Origin::HandEdit,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
        .unwrap_or(Origin::Initial)
    }
}

/// How a version reached HAProxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliedBy {
    /// Through the runtime API, without a reload.
    Runtime,
    /// By a reload (`reload_id` says which).
    Reload,
    /// Not (yet): written only, or a hand edit HAProxy refused.
    None,
}

impl AppliedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            AppliedBy::Runtime => "runtime",
            AppliedBy::Reload => "reload",
            AppliedBy::None => "none",
        }
    }

    fn parse(text: &str) -> AppliedBy {
        match text {
            "runtime" => AppliedBy::Runtime,
            "reload" => AppliedBy::Reload,
            _ => AppliedBy::None,
        }
    }
}

/// One version of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub version: u64,
    /// Unix time of the commit, in seconds.
    pub time: i64,
    /// The API user (basic authentication); `None` for what no caller did
    /// (hand edits, roll-backs).
    pub user: Option<String>,
    /// The subject of the caller's client certificate, when it gave one.
    pub client: Option<String>,
    /// The resources changed from the version before
    /// (`/backends/web/servers/s1`).
    pub changes: Vec<String>,
    pub applied: AppliedBy,
    pub reload_id: Option<String>,
    /// As last known; the API asks the reload agent for a newer one.
    pub reload_status: Option<String>,
    /// The checksum of its bytes, as `Configuration-Checksum` gives it.
    pub checksum: String,
    pub origin: Origin,
}

impl HistoryEntry {
    /// Its time as RFC 3339, in UTC (`2026-12-04T23:40:36Z`).
    pub fn time_rfc3339(&self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.time)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }

    fn to_json(&self) -> Value {
        json!({
            "version": self.version,
            "time": self.time,
            "user": self.user,
            "client": self.client,
            "changes": self.changes,
            "applied": self.applied.as_str(),
            "reload_id": self.reload_id,
            "reload_status": self.reload_status,
            "checksum": self.checksum,
            "origin": self.origin.as_str(),
        })
    }

    fn from_json(value: &Value) -> Option<HistoryEntry> {
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(HistoryEntry {
            version: value.get("version")?.as_u64()?,
            time: value.get("time").and_then(Value::as_i64).unwrap_or(0),
            user: text("user"),
            client: text("client"),
            changes: value
                .get("changes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            applied: AppliedBy::parse(text("applied").as_deref().unwrap_or("")),
            reload_id: text("reload_id"),
            reload_status: text("reload_status"),
            checksum: text("checksum").unwrap_or_default(),
            origin: Origin::parse(text("origin").as_deref().unwrap_or("")),
        })
    }
}

/// Who asks for a change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The API user (HTTP basic authentication).
    pub user: Option<String>,
    /// The subject of the client certificate (`CN=deploy,O=ops`).
    pub client: Option<String>,
}

tokio::task_local! {
    static CALLER: Caller;
}

/// Runs `work` on behalf of `caller`: the versions it commits name them.
pub async fn acting_as<F: std::future::Future>(caller: Caller, work: F) -> F::Output {
    CALLER.scope(caller, work).await
}

/// Who the current task acts for (nobody: a hand edit, a roll-back).
pub(crate) fn caller() -> Caller {
    CALLER.try_with(Clone::clone).unwrap_or_default()
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// FNV-1a 64 of a configuration's bytes: `fnv1a64:` and 16 hex digits.
pub fn checksum(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{hash:016x}")
}

/// The history directory and what it holds.
#[derive(Debug)]
pub(crate) struct History {
    dir: PathBuf,
    keep: usize,
    /// The configuration file, whose mode and owner the copies take (they
    /// hold its passwords).
    like: PathBuf,
    entries: Mutex<BTreeMap<u64, HistoryEntry>>,
}

/// What the history keeps of a version besides its bytes: what changed
/// (the resource paths `haplane_model::changes` names), why, who, and
/// the bytes when they are staged already.
pub(crate) struct Record {
    pub(crate) changes: Vec<String>,
    pub(crate) origin: Origin,
    pub(crate) caller: Caller,
    pub(crate) staged: Option<Staged>,
}

/// A version's bytes written beside the history, not kept yet.
pub(crate) struct Staged {
    temp: tempfile::TempPath,
}

impl History {
    /// Reads the history left in `dir` (made if needed).
    pub(crate) fn open(dir: &Path, keep: usize, like: &Path) -> Result<History, DataplaneError> {
        std::fs::create_dir_all(dir).map_err(|e| DataplaneError::io(dir.display(), e))?;
        crate::commit::remove_leftovers(dir);
        let mut entries = BTreeMap::new();
        let listing = std::fs::read_dir(dir).map_err(|e| DataplaneError::io(dir.display(), e))?;
        for file in listing.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            let Some(version) = name
                .strip_suffix(".json")
                .and_then(|v| v.parse::<u64>().ok())
            else {
                continue;
            };
            let entry = std::fs::read(file.path())
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| HistoryEntry::from_json(&v));
            // An entry is only as good as its bytes.
            match entry {
                Some(e) if e.version == version && dir.join(format!("{version}.cfg")).is_file() => {
                    entries.insert(version, e);
                }
                _ => {
                    tracing::warn!(file = %file.path().display(), "ignoring an unreadable history entry")
                }
            }
        }
        Ok(History {
            dir: dir.to_path_buf(),
            keep: keep.max(1),
            like: like.to_path_buf(),
            entries: Mutex::new(entries),
        })
    }

    fn bytes_path(&self, version: u64) -> PathBuf {
        self.dir.join(format!("{version}.cfg"))
    }

    fn meta_path(&self, version: u64) -> PathBuf {
        self.dir.join(format!("{version}.json"))
    }

    fn save_meta(&self, entry: &HistoryEntry) {
        let bytes = serde_json::to_vec_pretty(&entry.to_json()).expect("JSON values serialize");
        let path = self.meta_path(entry.version);
        if let Err(e) = crate::commit::write_atomic_like(&path, &bytes, &self.like) {
            tracing::error!(file = %path.display(), error = %e, "cannot keep a history entry");
        }
    }

    /// Keeps `bytes` as `entry`'s version (replacing an entry of that
    /// version), and forgets the oldest past the limit.
    pub(crate) fn record(&self, entry: HistoryEntry, bytes: &[u8]) {
        let path = self.bytes_path(entry.version);
        if let Err(e) = crate::commit::write_atomic_like(&path, bytes, &self.like) {
            tracing::error!(file = %path.display(), error = %e, "cannot keep a version in the history");
            return;
        }
        self.remember(entry);
    }

    /// Saves `entry`, whose bytes are kept, and forgets the oldest past
    /// the limit.
    fn remember(&self, entry: HistoryEntry) {
        self.save_meta(&entry);
        let mut entries = self.entries.lock().expect("history lock");
        entries.insert(entry.version, entry);
        while entries.len() > self.keep {
            let Some((&oldest, _)) = entries.iter().next() else {
                break;
            };
            entries.remove(&oldest);
            for path in [self.meta_path(oldest), self.bytes_path(oldest)] {
                if let Err(e) = std::fs::remove_file(&path) {
                    tracing::warn!(file = %path.display(), error = %e, "cannot remove an old history entry");
                }
            }
        }
    }

    /// Keeps `doc` as `version`, with what changed from `before`.
    pub(crate) fn keep(
        &self,
        before: Option<&Document>,
        doc: &Document,
        version: u64,
        origin: Origin,
        caller: Caller,
    ) {
        let changes = before.map_or_else(Vec::new, |b| haplane_model::changes(b, doc));
        let record = Record {
            changes,
            origin,
            caller,
            staged: None,
        };
        self.keep_bytes(record, &doc.to_bytes(), version);
    }

    /// Writes `bytes` beside the history as `version`'s copy, kept only by
    /// [`History::keep_bytes`] (dropped, the file goes): a commit writes
    /// it while HAProxy checks the configuration.
    pub(crate) fn stage(&self, version: u64, bytes: &[u8]) -> Option<Staged> {
        let path = self.bytes_path(version);
        match crate::commit::stage_like(&path, bytes, &self.like) {
            Ok(temp) => Some(Staged { temp }),
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "cannot keep a version in the history");
                None
            }
        }
    }

    /// Keeps `bytes` as `version`, with what `record` tells of it (its
    /// bytes already staged, or written now).
    pub(crate) fn keep_bytes(&self, record: Record, bytes: &[u8], version: u64) {
        let entry = HistoryEntry {
            version,
            time: now(),
            user: record.caller.user,
            client: record.caller.client,
            changes: record.changes,
            applied: AppliedBy::None,
            reload_id: None,
            reload_status: None,
            checksum: checksum(bytes),
            origin: record.origin,
        };
        let Some(staged) = record.staged else {
            return self.record(entry, bytes);
        };
        let path = self.bytes_path(version);
        match crate::commit::persist(staged.temp, &path) {
            Ok(()) => self.remember(entry),
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "cannot keep a version in the history")
            }
        }
    }

    /// Changes the entry of `version`, if it is kept.
    pub(crate) fn update(&self, version: u64, change: impl FnOnce(&mut HistoryEntry)) {
        let mut entries = self.entries.lock().expect("history lock");
        if let Some(entry) = entries.get_mut(&version) {
            change(entry);
            let entry = entry.clone();
            drop(entries);
            self.save_meta(&entry);
        }
    }

    /// Notes that `version` is loaded by `reload`.
    pub(crate) fn reloaded(&self, version: u64, reload: &crate::reload::Reload) {
        self.update(version, |e| {
            e.applied = AppliedBy::Reload;
            e.reload_id = Some(reload.id.clone());
            e.reload_status = Some(reload.status.as_str().to_owned());
        });
    }

    /// Every entry, newest first.
    pub(crate) fn list(&self) -> Vec<HistoryEntry> {
        let entries = self.entries.lock().expect("history lock");
        entries.values().rev().cloned().collect()
    }

    pub(crate) fn get(&self, version: u64) -> Option<HistoryEntry> {
        self.entries
            .lock()
            .expect("history lock")
            .get(&version)
            .cloned()
    }

    /// The newest entry.
    pub(crate) fn latest(&self) -> Option<HistoryEntry> {
        let entries = self.entries.lock().expect("history lock");
        entries.values().next_back().cloned()
    }

    /// The version kept just before `version`.
    pub(crate) fn before(&self, version: u64) -> Option<u64> {
        let entries = self.entries.lock().expect("history lock");
        entries.range(..version).next_back().map(|(v, _)| *v)
    }

    /// The bytes of `version`.
    pub(crate) fn bytes(&self, version: u64) -> Result<Vec<u8>, DataplaneError> {
        if self.get(version).is_none() {
            return Err(DataplaneError::VersionNotFound(version));
        }
        let path = self.bytes_path(version);
        std::fs::read(&path).map_err(|e| DataplaneError::io(path.display(), e))
    }
}

impl crate::store::Dataplane {
    /// The versions kept, newest first, with the reload status as the
    /// reload agent knows it now.
    pub fn history(&self) -> Vec<HistoryEntry> {
        let mut entries = self.history.list();
        for entry in &mut entries {
            self.refresh(entry);
        }
        entries
    }

    fn refresh(&self, entry: &mut HistoryEntry) {
        if let Some(reload) = entry.reload_id.as_deref().and_then(|id| self.reload(id)) {
            entry.reload_status = Some(reload.status.as_str().to_owned());
        }
    }

    /// One version of the history.
    pub fn history_entry(&self, version: u64) -> Result<HistoryEntry, DataplaneError> {
        let mut entry = self
            .history
            .get(version)
            .ok_or(DataplaneError::VersionNotFound(version))?;
        self.refresh(&mut entry);
        Ok(entry)
    }

    /// The bytes of one version.
    pub fn history_bytes(&self, version: u64) -> Result<Vec<u8>, DataplaneError> {
        self.history.bytes(version)
    }

    /// The unified diff from `against` (by default the version kept before
    /// it; none: from an empty file) to `version`.
    pub fn history_diff(
        &self,
        version: u64,
        against: Option<u64>,
    ) -> Result<String, DataplaneError> {
        let new = self.history.bytes(version)?;
        let against = against.or_else(|| self.history.before(version));
        let (old, old_name) = match against {
            Some(v) => (self.history.bytes(v)?, format!("version {v}")),
            None => (Vec::new(), "/dev/null".to_owned()),
        };
        Ok(unified_diff(
            &old,
            &new,
            &old_name,
            &format!("version {version}"),
        ))
    }

    /// What committing transaction `id` would write: its document with the
    /// version line the commit gives it.
    fn transaction_bytes(&self, id: &str) -> Result<(Document, Vec<u8>), DataplaneError> {
        let current = self.snapshot().version;
        let transactions = self.transactions.lock().expect("transactions lock");
        let t = transactions.get_open(id, current)?;
        let mut doc = t.doc.clone();
        doc.set_version(t.base_version + 1);
        let bytes = doc.to_bytes();
        Ok((doc, bytes))
    }

    /// The unified diff from the live configuration to what committing
    /// transaction `id` would write.
    pub fn transaction_diff(&self, id: &str) -> Result<String, DataplaneError> {
        let snapshot = self.snapshot();
        let (_, bytes) = self.transaction_bytes(id)?;
        let old = snapshot.doc.to_bytes();
        let names = (
            format!("version {}", snapshot.version),
            format!("transaction {id}"),
        );
        Ok(unified_diff(&old, &bytes, &names.0, &names.1))
    }

    /// Checks what committing transaction `id` would write, as the commit
    /// would (references, then `haproxy -c`), and changes nothing.
    pub async fn validate_transaction(&self, id: &str) -> Result<(), DataplaneError> {
        let (doc, _) = self.transaction_bytes(id)?;
        self.check(&doc).await
    }
}

/// A unified diff from `old` to `new`, with three lines of context; empty
/// when they are the same.
pub fn unified_diff(old: &[u8], new: &[u8], old_name: &str, new_name: &str) -> String {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    similar::TextDiff::from_lines(old.as_ref(), new.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: u64) -> HistoryEntry {
        HistoryEntry {
            version,
            time: 1_700_000_000,
            user: Some("admin".into()),
            client: None,
            changes: vec!["/backends/web".into()],
            applied: AppliedBy::Reload,
            reload_id: Some("1".into()),
            reload_status: Some("succeeded".into()),
            checksum: checksum(b"x"),
            origin: Origin::Api,
        }
    }

    #[test]
    fn keeps_the_newest_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let like = dir.path().join("haproxy.cfg");
        std::fs::write(&like, "global\n").unwrap();
        let history = History::open(&dir.path().join("h"), 3, &like).unwrap();
        for v in 1..=5 {
            history.record(entry(v), format!("v{v}\n").as_bytes());
        }
        history.update(5, |e| e.applied = AppliedBy::Runtime);
        let again = History::open(&dir.path().join("h"), 3, &like).unwrap();
        let versions: Vec<u64> = again.list().iter().map(|e| e.version).collect();
        assert_eq!(versions, [5, 4, 3]);
        assert_eq!(again.get(5).unwrap().applied, AppliedBy::Runtime);
        assert_eq!(again.bytes(4).unwrap(), b"v4\n");
        assert!(matches!(
            again.bytes(1),
            Err(DataplaneError::VersionNotFound(1))
        ));
        assert_eq!(again.before(5), Some(4));
        assert_eq!(again.before(3), None);
        assert!(!dir.path().join("h/1.cfg").exists());
    }

    #[test]
    fn diffs_are_unified() {
        let diff = unified_diff(b"a\nb\nc\n", b"a\nB\nc\n", "version 1", "version 2");
        assert_eq!(
            diff,
            "--- version 1\n+++ version 2\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
        assert_eq!(unified_diff(b"a\n", b"a\n", "x", "y"), "");
    }
}
