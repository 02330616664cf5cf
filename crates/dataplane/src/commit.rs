//! The commit pipeline: version check, render, validate the exact bytes
//! with `haproxy -c`, keep a backup, replace the file atomically, swap the
//! snapshot, and have HAProxy load it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use haplane_cfg::{Document, SectionKind};
use haplane_haproxy::{CheckError, Level};

use crate::error::DataplaneError;
use crate::history::{AppliedBy, Caller, Origin, Record};
use crate::reload::Reload;
use crate::sources::Plan;
use crate::store::{Dataplane, ReloadMode, Snapshot};

/// How a change was applied.
#[derive(Debug, Clone)]
pub enum Applied {
    /// Stored in a transaction; nothing deployed yet.
    Transaction,
    /// Written to the live file at `version`. `reload` is the reload it
    /// needs: done already when `forced`, queued otherwise; `None` when the
    /// bytes did not change (nothing written, nothing reloaded).
    Committed {
        version: u64,
        reload: Option<Reload>,
        forced: bool,
        /// Applied through the runtime API: in effect, with no reload.
        runtime: bool,
    },
}

/// One problem HAProxy found, located in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line of the configuration, when HAProxy names one.
    pub line: Option<usize>,
    /// The file that line is in, when the configuration is several files.
    pub file: Option<String>,
    /// The section holding that line (`backend web`).
    pub section: Option<String>,
    /// The API path of the resource that produced the line
    /// (`/backends/web/servers/s3`), when one did.
    pub resource: Option<String>,
    pub message: String,
}

/// The API path of the resource a line belongs to.
fn resource_of(doc: &Document, line: usize) -> (Option<String>, Option<String>) {
    let Some(location) = doc.locate(line) else {
        return (None, None);
    };
    let section = doc.section(location.section);
    let name = section.name().unwrap_or_default();
    let header = section.header().text().trim().to_owned();
    let group = match section.kind() {
        SectionKind::Frontend => "frontends",
        SectionKind::Backend => "backends",
        SectionKind::Defaults => "defaults",
        SectionKind::Global => return (Some(header), Some("/global".into())),
        _ => return (Some(header), None),
    };
    let base = format!("/{group}/{name}");
    let child = location.index.and_then(|i| section.line(i)).and_then(|l| {
        let words = l.words();
        let keyword = words.first()?.value.to_string();
        match keyword.as_str() {
            "server" => Some(format!("{base}/servers/{}", words.get(1)?.value)),
            "bind" => {
                let name = words
                    .iter()
                    .position(|w| w.value == "name")
                    .and_then(|i| words.get(i + 1));
                let name = name.or(words.get(1))?.value.to_string();
                Some(format!("{base}/binds/{name}"))
            }
            _ => None,
        }
    });
    (Some(header), Some(child.unwrap_or(base)))
}

fn problems(doc: &Document, plan: &Plan, error: &CheckError) -> (String, Vec<Problem>) {
    let CheckError::Rejected { messages, output } = error else {
        return (error.to_string(), vec![]);
    };
    let several = plan.files.len() > 1;
    let problems: Vec<Problem> = messages
        .iter()
        .filter(|m| m.level == Level::Alert)
        .filter(|m| !m.text.contains("Fatal errors found") && !m.text.contains("Error(s) found"))
        .map(|m| {
            let planned = m.file.and_then(|f| plan.files.get(f));
            let located = m.line.zip(planned).map(|(l, f)| doc.file_line(f.first, l));
            let (section, resource) = located.map(|l| resource_of(doc, l)).unwrap_or((None, None));
            Problem {
                line: m.line,
                file: planned
                    .filter(|_| several)
                    .map(|f| f.path.display().to_string()),
                section,
                resource,
                message: m.text.clone(),
            }
        })
        .collect();
    let message = if problems.is_empty() {
        format!("haproxy -c rejected the configuration: {}", output.trim())
    } else {
        let parts: Vec<String> = problems
            .iter()
            .map(|p| {
                let at = match (&p.file, p.line) {
                    (Some(f), Some(l)) => Some(format!("{f}:{l}")),
                    (None, Some(l)) => Some(format!("line {l}")),
                    _ => None,
                };
                match (at, &p.resource) {
                    (Some(at), Some(r)) => format!("{at} ({r}): {}", p.message),
                    (Some(at), None) => format!("{at}: {}", p.message),
                    _ => p.message.clone(),
                }
            })
            .collect();
        format!(
            "haproxy -c rejected the configuration: {}",
            parts.join("; ")
        )
    };
    (message, problems)
}

/// The bytes after a `# _version=N` first line (all of them if there is none).
pub(crate) fn without_version(bytes: &[u8]) -> &[u8] {
    if !bytes.starts_with(b"# _version=") {
        return bytes;
    }
    match bytes.iter().position(|&b| b == b'\n') {
        Some(end) => &bytes[end + 1..],
        None => &[],
    }
}

/// Whether two documents have the same bytes but for the version line;
/// only the sections between those they share are compared, piece by
/// piece, up to the first difference.
pub(crate) fn same_but_version(old: &Document, new: &Document) -> bool {
    let change = new.section_change(old);
    fn pieces(doc: &Document, range: std::ops::Range<usize>, first: bool) -> Vec<&[u8]> {
        let mut pieces: Vec<&[u8]> = Vec::new();
        for i in range {
            pieces.extend(doc.section_pieces(i));
        }
        // The version line is the first of the preamble, section 0.
        if first
            && pieces
                .first()
                .is_some_and(|p| p.starts_with(b"# _version="))
        {
            pieces.drain(..2.min(pieces.len()));
        }
        pieces
    }
    let first = change.keep == 0;
    let before = pieces(old, change.keep..change.keep + change.drop, first);
    let after = pieces(new, change.inserted, first);
    same_bytes(&before, &after)
}

/// Whether two lists of pieces hold the same bytes, however cut.
fn same_bytes(a: &[&[u8]], b: &[&[u8]]) -> bool {
    let (mut a, mut b) = (a.iter().copied(), b.iter().copied());
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    loop {
        while x.is_empty() {
            match a.next() {
                Some(p) => x = p,
                None => break,
            }
        }
        while y.is_empty() {
            match b.next() {
                Some(p) => y = p,
                None => break,
            }
        }
        if x.is_empty() || y.is_empty() {
            return x.is_empty() && y.is_empty();
        }
        let n = x.len().min(y.len());
        if x[..n] != y[..n] {
            return false;
        }
        (x, y) = (&x[n..], &y[n..]);
    }
}

/// Writes `bytes` to `path` so that a crash leaves the old or the new file:
/// temporary file in the same directory, fsync, rename, fsync directory.
/// A symbolic link is followed (its target is written, the link stays).
/// The file keeps its mode, owner and group; a new one is private (0600)
/// and takes the directory's owner and group.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_keeping(&resolve_link(path), bytes, 0o600)
}

/// Writes `path` itself (a link is replaced) atomically, keeping its mode,
/// owner and group; a new file takes `mode` and the directory's owner and
/// group.
pub(crate) fn write_keeping(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let like = std::fs::metadata(path).ok().map(|m| Ownership::of(&m));
    write_owned(path, bytes, like, mode)
}

/// Like [`write_atomic`], with the mode, owner and group of `like` (a
/// transaction or a backup takes those of the configuration it copies:
/// both hold its passwords).
pub fn write_atomic_like(path: &Path, bytes: &[u8], like: &Path) -> std::io::Result<()> {
    let like = std::fs::metadata(like).ok().map(|m| Ownership::of(&m));
    write_owned(&resolve_link(path), bytes, like, 0o600)
}

/// Where writing `path` must go: the file a symbolic link leads to.
fn resolve_link(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// A file's mode, owner and group.
#[derive(Debug, Clone, Copy)]
struct Ownership {
    mode: u32,
    uid: u32,
    gid: u32,
}

impl Ownership {
    fn of(meta: &std::fs::Metadata) -> Ownership {
        use std::os::unix::fs::MetadataExt;
        Ownership {
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
        }
    }
}

/// The temporary files of atomic writes start with this.
pub const TEMP_PREFIX: &str = ".haplane-";

/// Writes `path` atomically with `like`'s mode, owner and group, or, for
/// none, `mode` and the directory's owner and group.
fn write_owned(
    path: &Path,
    bytes: &[u8],
    like: Option<Ownership>,
    mode: u32,
) -> std::io::Result<()> {
    let temp = stage_owned(path, bytes, like, mode)?;
    temp.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(parent_dir(path))?.sync_all()
}

/// The directory of `path` (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `bytes` to a synced temporary file beside `path`, with `like`'s
/// mode, owner and group, for a rename over `path` later; the file is
/// removed when the returned path is dropped unpersisted.
pub(crate) fn stage_like(
    path: &Path,
    bytes: &[u8],
    like: &Path,
) -> std::io::Result<tempfile::TempPath> {
    let like = std::fs::metadata(like).ok().map(|m| Ownership::of(&m));
    Ok(stage_owned(&resolve_link(path), bytes, like, 0o600)?.into_temp_path())
}

/// Renames a staged file over `path` and syncs its directory.
pub(crate) fn persist(staged: tempfile::TempPath, path: &Path) -> std::io::Result<()> {
    let path = resolve_link(path);
    staged.persist(&path).map_err(|e| e.error)?;
    std::fs::File::open(parent_dir(&path))?.sync_all()
}

/// Writes `bytes` to a synced temporary file beside `path`, with `path`'s
/// mode, owner and group, for a rename over it later; returns its path.
pub(crate) fn stage(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let like = std::fs::metadata(path).ok().map(|m| Ownership::of(&m));
    let temp = stage_owned(path, bytes, like, 0o600)?;
    temp.into_temp_path()
        .keep()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn stage_owned(
    path: &Path,
    bytes: &[u8],
    like: Option<Ownership>,
    mode: u32,
) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    let dir = parent_dir(path);
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    let owner = like.or_else(|| {
        std::fs::metadata(dir).ok().map(|m| Ownership {
            mode,
            ..Ownership::of(&m)
        })
    });
    let mode = owner.map_or(mode, |o| o.mode);
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    if let Some(owner) = owner {
        // Only root may give a file away; anyone else keeps their own.
        let _ = std::os::unix::fs::fchown(temp.as_file(), Some(owner.uid), Some(owner.gid));
    }
    temp.as_file().sync_all()?;
    Ok(temp)
}

/// Removes what an interrupted write or check left in `dir`: files whose
/// name starts with [`TEMP_PREFIX`] (no other process writes them).
pub fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && name.to_string_lossy().starts_with(TEMP_PREFIX) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(file = %entry.path().display(), "removed a leftover temporary file")
                }
                Err(e) => {
                    tracing::warn!(file = %entry.path().display(), error = %e, "cannot remove a leftover temporary file")
                }
            }
        }
    }
}

/// A validation running beside the rest of a commit.
type Validation = tokio::task::JoinHandle<Result<haplane_haproxy::Checked, CheckError>>;

impl Dataplane {
    /// What a commit checks before it writes: references, then
    /// `haproxy -c`.
    pub(crate) async fn check(&self, doc: &Document) -> Result<(), DataplaneError> {
        haplane_model::check_references(doc)
            .map_err(|e| DataplaneError::Resource(haplane_model::ResourceError::Invalid(e)))?;
        self.validate(doc).await
    }

    /// Validates a document with `haproxy -c` (or the validate command).
    pub(crate) async fn validate(&self, doc: &Document) -> Result<(), DataplaneError> {
        let plan = Arc::new(self.sources.full_plan(doc, doc.to_bytes()));
        let running = self.start_validation(Arc::clone(&plan));
        self.validation_result(running, doc, &plan).await
    }

    /// Starts `haproxy -c` (or the validate command) on the files of
    /// `plan`, to be awaited with [`Dataplane::validation_result`];
    /// dropped, it runs to its end unheeded.
    fn start_validation(&self, plan: Arc<Plan>) -> Validation {
        let settings = self.settings.clone();
        let metrics = Arc::clone(&self.metrics);
        tokio::task::spawn_blocking(move || {
            let set = plan.check_set();
            let started = std::time::Instant::now();
            let result = match &settings.validate_cmd {
                Some(cmd) => haplane_haproxy::check_set_with(cmd, &set),
                None => haplane_haproxy::check_set(
                    &settings.haproxy_bin,
                    &set,
                    &settings.validate_files_before,
                    &settings.validate_files_after,
                ),
            };
            let outcome = match &result {
                Ok(_) => "accepted",
                Err(CheckError::Rejected { .. }) => "refused",
                Err(_) => "error",
            };
            metrics.validated(outcome, started.elapsed());
            result
        })
    }

    async fn validation_result(
        &self,
        running: Validation,
        doc: &Document,
        plan: &Plan,
    ) -> Result<(), DataplaneError> {
        let result = running
            .await
            .map_err(|e| DataplaneError::Internal(format!("validation task: {e}")))?;
        match result {
            Ok(_) => Ok(()),
            Err(e @ CheckError::Rejected { .. }) => {
                let (message, problems) = problems(doc, plan, &e);
                Err(DataplaneError::Invalid { message, problems })
            }
            Err(e) => Err(DataplaneError::Internal(e.to_string())),
        }
    }

    /// The commit pipeline. The caller holds the writer lock. A `deploy`
    /// (a transaction's commit, a raw push) is a new version and a reload
    /// even when its bytes are those already there, as v3 answers it; any
    /// other change that changes nothing costs nothing.
    pub(crate) async fn commit(
        &self,
        _writer: &tokio::sync::MutexGuard<'_, ()>,
        base: u64,
        mut doc: Document,
        reload: ReloadMode,
        deploy: bool,
        origin: Origin,
    ) -> Result<Applied, DataplaneError> {
        let forced = reload == ReloadMode::Force;
        let current = self.locked_snapshot(_writer);
        if current.version != base {
            return Err(DataplaneError::VersionMismatch {
                current: current.version,
                given: base,
            });
        }
        let unchanged = same_but_version(&current.doc, &doc);
        if unchanged && !deploy {
            return Ok(Applied::Committed {
                version: base,
                reload: None,
                forced,
                runtime: false,
            });
        }
        let version = base + 1;
        doc.set_version(version);
        let bytes = doc.to_bytes();
        // Which files it writes (none the API may not write).
        let plan = Arc::new(self.sources.plan(&current.doc, &doc, bytes.clone())?);
        // While HAProxy checks the files: the references (whose error, which
        // names the field, comes first), and what the history tells of it.
        let validation = self.start_validation(Arc::clone(&plan));
        haplane_model::check_references(&doc)
            .map_err(|e| DataplaneError::Resource(haplane_model::ResourceError::Invalid(e)))?;
        let changes = haplane_model::changes(&current.doc, &doc);
        // The history's copy is written meanwhile too, and kept only once
        // HAProxy accepts the files.
        let staged = self.history.stage(version, &bytes);
        self.validation_result(validation, &doc, &plan).await?;
        if self.settings.backups_number > 0 {
            self.backup(&current.doc.to_bytes(), current.version);
        }
        // What the runtime API can apply instead of a reload. With a reload
        // queued, the change joins it: should that reload fail, putting the
        // previous configuration back must not undo a change answered as
        // done.
        let live = match reload {
            ReloadMode::Skip => None,
            _ if self.reloads.has_pending() || unchanged => None,
            _ => self
                .runtime()
                .and_then(|rt| crate::live::plan(&current.doc, &doc).map(|steps| (rt, steps))),
        };
        // Until the runtime API has applied it, the file is ahead of
        // HAProxy: a crash then is made good by a reload at start-up.
        if live.is_some() {
            self.reloads.runtime_in_flight(true);
        }
        let caller = crate::history::caller();
        let kept = Record {
            changes,
            origin,
            caller,
            staged,
        };
        self.deploy_file(doc, &plan, &bytes, kept)?;
        self.metrics.committed();
        tracing::info!(version, "configuration committed");
        if let Some((rt, steps)) = live {
            let applied = crate::live::apply(&rt, &steps).await;
            if applied.is_ok() {
                self.metrics.applied_at_runtime();
                self.reloads.runtime_in_flight(false);
                self.history
                    .update(version, |e| e.applied = AppliedBy::Runtime);
            }
            match applied {
                Ok(()) => {
                    tracing::info!(
                        version,
                        steps = steps.len(),
                        "applied through the runtime API, no reload"
                    );
                    return Ok(Applied::Committed {
                        version,
                        reload: None,
                        forced,
                        runtime: true,
                    });
                }
                Err(e) => {
                    tracing::warn!(version, error = %e, "the runtime API refused the change; reloading")
                }
            }
        }
        let reload = match reload {
            ReloadMode::Skip => None,
            _ => self.reloads.request(self, current, forced).await,
        };
        if let Some(r) = &reload {
            self.history.reloaded(version, r);
        }
        // A runtime change that failed is now the reload's to make good.
        self.reloads.runtime_in_flight(false);
        // A forced reload that failed put the previous configuration back
        // as a newer version: the answer tells that one.
        let version = match &reload {
            Some(r) if r.status == crate::reload::ReloadStatus::Failed => {
                self.current_snapshot().version
            }
            _ => version,
        };
        Ok(Applied::Committed {
            version,
            reload,
            forced,
            runtime: false,
        })
    }

    /// Keeps `bytes` as `FILE.VERSION` and drops backups past the limit.
    fn backup(&self, bytes: &[u8], version: u64) {
        let keep = self.settings.backups_number;
        if keep == 0 {
            return;
        }
        let config = &self.settings.config_file;
        let name = config
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = match &self.settings.backups_dir {
            Some(d) => d.clone(),
            None => config.parent().map(Path::to_path_buf).unwrap_or_default(),
        };
        if let Err(e) = std::fs::create_dir_all(&dir)
            .and_then(|_| write_atomic_like(&dir.join(format!("{name}.{version}")), bytes, config))
        {
            tracing::warn!(error = %e, "cannot write a backup");
            return;
        }
        if version > keep as u64 {
            let _ = std::fs::remove_file(dir.join(format!("{name}.{}", version - keep as u64)));
        }
    }

    /// Puts `previous` back as the live configuration (after a failed
    /// reload), as a new version so that versions only grow.
    pub(crate) fn restore(&self, previous: &Snapshot) -> Result<(), DataplaneError> {
        let mut doc = previous.doc.clone();
        let current = self.current_snapshot();
        let version = current.version + 1;
        doc.set_version(version);
        let bytes = doc.to_bytes();
        let plan = self.sources.plan(&current.doc, &doc, bytes.clone())?;
        let changes = haplane_model::changes(&current.doc, &doc);
        let kept = Record {
            changes,
            origin: Origin::Rollback,
            caller: Caller::default(),
            staged: None,
        };
        self.deploy_file(doc, &plan, &bytes, kept)
    }

    /// Writes the files of `plan`, keeps `bytes`, the rendering of `doc`,
    /// in the history (what changed, why, who) and makes `doc` the current
    /// snapshot.
    fn deploy_file(
        &self,
        doc: Document,
        plan: &Plan,
        bytes: &[u8],
        kept: Record,
    ) -> Result<(), DataplaneError> {
        self.sources.write(plan, &self.settings.transaction_dir)?;
        let version = doc.version().unwrap_or(1);
        self.history.keep_bytes(kept, bytes, version);
        self.install(Snapshot::new(doc, self.stamp_now()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_compared_however_cut() {
        assert!(same_bytes(&[b"ab", b"c", b""], &[b"a", b"", b"bc"]));
        assert!(same_bytes(&[], &[b"", b""]));
        assert!(!same_bytes(&[b"ab"], &[b"a", b"bc"]));
        assert!(!same_bytes(&[b"abc"], &[b"ab"]));
        assert!(!same_bytes(&[b"ab", b"x"], &[b"ab", b"y"]));
    }

    #[test]
    fn only_the_version_line_may_differ() {
        let old = Document::parse(b"# _version=3\nglobal\n    daemon\n".to_vec());
        let mut new = old.clone();
        new.set_version(4);
        assert!(same_but_version(&old, &new));
        let id = new.sections().next().unwrap().id();
        new.replace_words(id, 0, &["daemon"]);
        assert!(same_but_version(&old, &new), "rewritten as it was");
        new.replace_words(id, 0, &["nbthread", "2"]);
        assert!(!same_but_version(&old, &new));
    }
}
