//! The configuration's files. HAProxy takes `-f` many times, each a file
//! or a directory (its `*.cfg` files by name); haplane reads them the same
//! way, as one document: the first file as it is, each other one after a
//! [`FILE_MARKER`] line naming it. One file is read as it is, with no marker.
//!
//! A commit writes only the files whose bytes change. Several files are
//! written as a set that a crash cannot leave half done: each one's new
//! bytes go to a temporary file beside it, then a journal naming every
//! (temporary, target) pair is written to the transaction directory, then
//! the renames, then the journal is removed. At start-up a journal left
//! behind is finished (the renames still to do are done); without a
//! journal, temporary files are leftovers and the old files stand.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use haplane_cfg::{Document, FILE_MARKER};

use crate::error::DataplaneError;
use crate::settings::Settings;

/// The length and modification time of every file of the set (and, for
/// a directory, which files it holds: a new one changes the stamp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp(Vec<(PathBuf, u64, SystemTime)>);

/// The configuration's files and which of them the API may write.
#[derive(Debug, Clone)]
pub(crate) struct Sources {
    /// The `-c` arguments, in order: files and directories.
    inputs: Vec<PathBuf>,
    read_only: Vec<PathBuf>,
    all_read_only: bool,
}

/// The name of the journal of a multi-file write, in the transaction
/// directory.
const JOURNAL: &str = "files.journal";

/// What a commit writes: each file of the set, with its new bytes when
/// they change.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub files: Vec<Planned>,
}

#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub path: PathBuf,
    /// The file's new bytes; `None`: it stays as it is.
    pub bytes: Option<Vec<u8>>,
    /// The document's index of the file's first section (for
    /// [`Document::file_line`]).
    pub first: usize,
}

impl Plan {
    /// The files that change.
    pub fn written(&self) -> impl Iterator<Item = (&Path, &[u8])> {
        self.files
            .iter()
            .filter_map(|f| Some((f.path.as_path(), f.bytes.as_deref()?)))
    }

    /// The set as `haproxy -c` checks it.
    pub fn check_set(&self) -> Vec<haplane_haproxy::SetFile<'_>> {
        self.files
            .iter()
            .map(|f| haplane_haproxy::SetFile {
                target: &f.path,
                bytes: f.bytes.as_deref(),
            })
            .collect()
    }
}

impl Sources {
    pub fn new(settings: &Settings) -> Sources {
        let inputs = match settings.config_sources.is_empty() {
            true => vec![settings.config_file.clone()],
            false => settings.config_sources.clone(),
        };
        Sources {
            inputs,
            read_only: settings
                .read_only_files
                .iter()
                .map(|p| canonical(p))
                .collect(),
            all_read_only: settings.read_only,
        }
    }

    /// Whether the configuration is one file (read and written as it is).
    pub fn is_single(&self) -> bool {
        self.inputs.len() == 1 && !self.inputs[0].is_dir()
    }

    /// The files, in the order HAProxy loads them: each file given, and
    /// each directory's regular files ending in `.cfg`, by name.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for input in &self.inputs {
            if !input.is_dir() {
                out.push(input.clone());
                continue;
            }
            let mut names: Vec<PathBuf> = std::fs::read_dir(input)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                    name.is_some_and(|n| n.ends_with(".cfg") && !n.starts_with('.'))
                })
                .collect();
            names.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
            out.extend(names);
        }
        out
    }

    /// The stamp of the files as they are now; `None` when one cannot be
    /// looked at.
    pub fn stamp(&self) -> Option<Stamp> {
        let mut out = Vec::new();
        for path in self.paths() {
            let meta = std::fs::metadata(&path).ok()?;
            out.push((path, meta.len(), meta.modified().ok()?));
        }
        Some(Stamp(out))
    }

    /// The files as one document's bytes, and their stamp.
    pub fn read(&self) -> Result<(Vec<u8>, Option<Stamp>), DataplaneError> {
        let stamp = self.stamp();
        let paths = self.paths();
        let single = self.is_single();
        let mut out = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let bytes = std::fs::read(path).map_err(|e| DataplaneError::io(path.display(), e))?;
            if let Some(line) = marker_line(&bytes) {
                return Err(DataplaneError::Internal(format!(
                    "{}:{line}: a line starting with `{FILE_MARKER}` cannot be read: haplane joins files with such lines",
                    path.display()
                )));
            }
            if single {
                return Ok((bytes, stamp));
            }
            let marker = (i > 0).then(|| path.as_os_str().as_encoded_bytes());
            join(&mut out, marker, &bytes);
        }
        Ok((out, stamp))
    }

    /// The document's bytes with the bytes of one file (`None`: the first)
    /// replaced by `bytes`: what a raw write of that file commits.
    pub fn replace_file(
        &self,
        doc: &Document,
        file: Option<&Path>,
        bytes: &[u8],
    ) -> Result<Vec<u8>, DataplaneError> {
        if self.is_single() && file.is_none_or(|f| self.is_main(f)) {
            return Ok(bytes.to_vec());
        }
        let index = self.index_of(doc, file)?;
        let mut out = Vec::new();
        for (i, (path, range)) in doc.files().into_iter().enumerate() {
            let content = match i == index {
                true => bytes.to_vec(),
                false => doc.file_bytes(range),
            };
            let marker = (i > 0).then(|| path.as_deref().unwrap_or_default().as_bytes());
            join(&mut out, marker, &content);
        }
        Ok(out)
    }

    /// Whether `path` names the first file.
    fn is_main(&self, path: &Path) -> bool {
        self.paths()
            .first()
            .is_some_and(|main| canonical(main) == canonical(path))
    }

    /// Which of the document's files `file` names (`None`: the first); a
    /// path that is none of them is a 404.
    pub fn index_of(&self, doc: &Document, file: Option<&Path>) -> Result<usize, DataplaneError> {
        let Some(file) = file else { return Ok(0) };
        let wanted = canonical(file);
        let names = self.names(doc);
        names
            .iter()
            .position(|p| canonical(p) == wanted)
            .ok_or_else(|| {
                DataplaneError::FileNotFound(format!(
                    "{} is not one of the configuration's files ({})",
                    file.display(),
                    names
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// The path of each of the document's files.
    pub fn names(&self, doc: &Document) -> Vec<PathBuf> {
        let main = self.paths().into_iter().next();
        let main = main.unwrap_or_else(|| self.inputs[0].clone());
        doc.files()
            .into_iter()
            .map(|(path, _)| path.map_or_else(|| main.clone(), PathBuf::from))
            .collect()
    }

    /// Whether the API may write `path`, else the flag that forbids it.
    pub fn read_only(&self, path: &Path) -> Option<&'static str> {
        if self.all_read_only {
            return Some("--read-only");
        }
        let path = canonical(path);
        self.read_only.contains(&path).then_some("--read-only-file")
    }

    /// Every file of the document with its bytes, as a hand edit or a
    /// validation checks them.
    pub fn full_plan(&self, doc: &Document, bytes: Vec<u8>) -> Plan {
        if doc.files().len() == 1 {
            return Plan {
                files: vec![Planned {
                    path: self.names(doc).remove(0),
                    bytes: Some(bytes),
                    first: 0,
                }],
            };
        }
        let names = self.names(doc);
        let files = doc
            .files()
            .into_iter()
            .zip(names)
            .map(|((_, range), path)| Planned {
                path,
                first: range.start,
                bytes: Some(doc.file_bytes(range)),
            })
            .collect();
        Plan { files }
    }

    /// What committing `new` over `old` writes: the files whose bytes
    /// change (the first one's version line aside). One file is written
    /// whole, version line and all; of several, a file is written only
    /// when it changes, with the version line when it is the first. A
    /// file the API may not write is a 403 naming it and the flag.
    pub fn plan(
        &self,
        old: &Document,
        new: &Document,
        bytes: Vec<u8>,
    ) -> Result<Plan, DataplaneError> {
        let refuse = |path: &Path, flag: &'static str| DataplaneError::ReadOnly {
            file: path.display().to_string(),
            flag,
        };
        let new_files = new.files();
        if new_files.len() == 1 && self.is_single() {
            let plan = self.full_plan(new, bytes);
            let path = &plan.files[0].path;
            if let Some(flag) = self.read_only(path) {
                if !crate::commit::same_but_version(old, new) {
                    return Err(refuse(path, flag));
                }
            }
            return Ok(plan);
        }
        let old_files = old.files();
        let same_set = old_files.len() == new_files.len()
            && old_files.iter().zip(&new_files).all(|(a, b)| a.0 == b.0);
        if !same_set {
            return Err(DataplaneError::BadFile(
                "a change cannot add or remove one of the configuration's files".into(),
            ));
        }
        let names = self.names(new);
        let mut files = Vec::new();
        for (i, (((_, old_range), (_, new_range)), path)) in
            old_files.into_iter().zip(new_files).zip(names).enumerate()
        {
            let before = old.file_bytes(old_range);
            let after = new.file_bytes(new_range.clone());
            let changed = match i {
                0 => {
                    crate::commit::without_version(&before)
                        != crate::commit::without_version(&after)
                }
                _ => before != after,
            };
            if changed {
                if let Some(flag) = self.read_only(&path) {
                    return Err(refuse(&path, flag));
                }
            }
            files.push(Planned {
                path,
                first: new_range.start,
                bytes: changed.then_some(after),
            });
        }
        Ok(Plan { files })
    }

    /// Writes the files of `plan` that change: one atomically, several as
    /// a set a crash cannot leave half done (see the module's text).
    pub fn write(&self, plan: &Plan, journal_dir: &Path) -> Result<(), DataplaneError> {
        let written: Vec<(&Path, &[u8])> = plan.written().collect();
        if let [(path, bytes)] = written.as_slice() {
            return crate::commit::write_atomic(path, bytes)
                .map_err(|e| DataplaneError::io(path.display(), e));
        }
        if written.is_empty() {
            return Ok(());
        }
        let mut staged = Vec::new();
        for (path, bytes) in &written {
            let target = resolve_link(path);
            let temp = crate::commit::stage(&target, bytes)
                .map_err(|e| DataplaneError::io(target.display(), e))?;
            staged.push((temp, target));
        }
        let journal = journal_dir.join(JOURNAL);
        let mut text = String::new();
        for (temp, target) in &staged {
            text.push_str(&format!("{}\t{}\n", temp.display(), target.display()));
        }
        crate::commit::write_atomic(&journal, text.as_bytes())
            .map_err(|e| DataplaneError::io(journal.display(), e))?;
        let fault = fault_after_renames();
        for (done, (temp, target)) in staged.iter().enumerate() {
            if fault == Some(done) {
                std::process::abort();
            }
            rename_synced(temp, target).map_err(|e| DataplaneError::io(target.display(), e))?;
        }
        std::fs::remove_file(&journal).map_err(|e| DataplaneError::io(journal.display(), e))
    }

    /// Finishes a multi-file write a crash interrupted (its journal is
    /// still there): the renames not done yet are done.
    pub fn recover(journal_dir: &Path) -> Result<(), DataplaneError> {
        let journal = journal_dir.join(JOURNAL);
        let Ok(text) = std::fs::read_to_string(&journal) else {
            return Ok(());
        };
        for line in text.lines() {
            let Some((temp, target)) = line.split_once('\t') else {
                continue;
            };
            let (temp, target) = (Path::new(temp), Path::new(target));
            if temp.exists() {
                tracing::info!(file = %target.display(), "finishing a write a crash interrupted");
                rename_synced(temp, target).map_err(|e| DataplaneError::io(target.display(), e))?;
            }
        }
        std::fs::remove_file(&journal).map_err(|e| DataplaneError::io(journal.display(), e))
    }

    /// The directories a hand edit of the configuration shows in: those
    /// of its files, and those given as `-c`.
    pub fn watch_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = self.dirs();
        dirs.extend(
            self.inputs
                .iter()
                .filter(|p| p.is_dir())
                .map(|p| canonical(p)),
        );
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// The directories the files are in (where leftovers of a write or a
    /// check may be).
    pub fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self
            .paths()
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }
}

/// Appends a file to a document's bytes: after the marker naming it
/// (`None` for the first file), on a line of its own.
fn join(out: &mut Vec<u8>, marker: Option<&[u8]>, bytes: &[u8]) {
    if let Some(path) = marker {
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.extend_from_slice(FILE_MARKER.as_bytes());
        out.extend_from_slice(path);
        out.push(b'\n');
    }
    out.extend_from_slice(bytes);
}

/// A test of crash safety stops the process after this many renames of
/// a multi-file write (`HAPLANE_FAULT_AFTER_RENAMES=N`).
fn fault_after_renames() -> Option<usize> {
    std::env::var("HAPLANE_FAULT_AFTER_RENAMES")
        .ok()?
        .parse()
        .ok()
}

fn rename_synced(temp: &Path, target: &Path) -> std::io::Result<()> {
    std::fs::rename(temp, target)?;
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()
}

/// The file a symbolic link leads to, or the path itself.
fn resolve_link(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => canonical(path),
        _ => path.to_path_buf(),
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The 1-based number of the first line of `bytes` that starts with the
/// file marker.
fn marker_line(bytes: &[u8]) -> Option<usize> {
    let marker = FILE_MARKER.as_bytes();
    let mut number = 1;
    let mut start = 0;
    loop {
        if bytes[start..].starts_with(marker) {
            return Some(number);
        }
        let next = bytes[start..].iter().position(|&b| b == b'\n')?;
        start += next + 1;
        number += 1;
    }
}
