//! Files the configuration uses, kept in directories the API manages:
//! maps, certificates, crt-lists, general files. A name is a plain file
//! name inside its directory; writes are atomic and keep the directory's
//! owner and group; a file the configuration names is not deleted, and a
//! new content is checked with `haproxy -c` before it stays.

use std::path::{Path, PathBuf};

use haplane_cfg::{Document, LineKind, Location, SectionKind};

use crate::error::DataplaneError;
use crate::reload::Reload;
use crate::store::{Dataplane, ReloadMode};

/// What a directory holds. Certificates and crt-lists share the
/// certificates directory: a file with a PEM block is a certificate,
/// one without is a crt-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Map,
    Certificate,
    CrtList,
    General,
    /// A SPOE file (`filter spoe ... config FILE`).
    Spoe,
}

impl FileKind {
    /// What the API calls one file of this kind.
    pub fn noun(self) -> &'static str {
        match self {
            FileKind::Map => "map file",
            FileKind::Certificate => "certificate",
            FileKind::CrtList => "crt-list",
            FileKind::General => "general use file",
            FileKind::Spoe => "SPOE file",
        }
    }

    /// The mode of a new file: keys stay private.
    fn mode(self) -> u32 {
        match self {
            FileKind::Certificate => 0o600,
            _ => 0o644,
        }
    }

    /// Whether `bytes`, found in this kind's directory, is one of its files.
    fn holds(self, bytes: &[u8]) -> bool {
        let pem = contains(bytes, b"-----BEGIN ");
        match self {
            FileKind::Certificate => pem,
            FileKind::CrtList => !pem,
            FileKind::Map | FileKind::General | FileKind::Spoe => true,
        }
    }

    /// Refuses a content HAProxy could not use as this kind of file.
    fn check(self, bytes: &[u8]) -> Result<(), String> {
        if bytes.contains(&0) && self != FileKind::General {
            return Err("the file holds a NUL byte".into());
        }
        match self {
            FileKind::Certificate => crate::certs::check_pem(bytes),
            FileKind::CrtList => {
                if contains(bytes, b"-----BEGIN ") {
                    return Err("a crt-list names certificates; this file holds PEM blocks".into());
                }
                crt_list_entries(bytes).map(|_| ())
            }
            FileKind::Map | FileKind::Spoe => std::str::from_utf8(bytes)
                .map(|_| ())
                .map_err(|_| format!("a {} is text; this one is not UTF-8", self.noun())),
            FileKind::General => Ok(()),
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// One file of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Its name in the directory (the API's `storage_name`).
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
}

/// One directory of managed files.
#[derive(Debug, Clone)]
pub struct FileStore {
    pub dir: PathBuf,
    pub kind: FileKind,
}

/// How a change to a file took effect.
#[derive(Debug, Clone)]
pub enum FileApplied {
    /// The running HAProxy took the new content through its runtime API.
    Runtime,
    /// Written; nothing had to load it, or the caller said not to.
    Written,
    /// HAProxy reloaded: done when `forced`, queued otherwise.
    Reload { reload: Reload, forced: bool },
}

impl FileStore {
    pub fn new(dir: impl Into<PathBuf>, kind: FileKind) -> FileStore {
        FileStore {
            dir: dir.into(),
            kind,
        }
    }

    /// The path of `name`, if it is a plain file name whose file (if any)
    /// stays inside the directory.
    pub fn path(&self, name: &str) -> Result<PathBuf, DataplaneError> {
        let bad = |why: &str| DataplaneError::BadFileName(format!("'{name}' {why}"));
        if name.is_empty() {
            return Err(DataplaneError::BadFileName(
                "a file name is required".into(),
            ));
        }
        if name == "." || name == ".." || name.contains('/') || name.contains('\\') {
            return Err(bad("is not a plain file name: no '/', '\\' or '..'"));
        }
        if name.starts_with('.') {
            return Err(bad("starts with '.': hidden files are not managed"));
        }
        if name.chars().any(char::is_control) {
            return Err(bad("holds a control character"));
        }
        if name.len() > 255 {
            return Err(bad("is longer than 255 bytes"));
        }
        let path = self.dir.join(name);
        if let Ok(meta) = std::fs::symlink_metadata(&path) {
            if meta.file_type().is_symlink() {
                let inside = match (path.canonicalize(), self.dir.canonicalize()) {
                    (Ok(target), Ok(dir)) => target.parent() == Some(dir.as_path()),
                    _ => false,
                };
                if !inside {
                    return Err(bad("is a link that leads out of the directory"));
                }
            }
        }
        Ok(path)
    }

    fn stored(&self, name: &str, path: PathBuf) -> Option<StoredFile> {
        let meta = std::fs::metadata(&path).ok()?;
        meta.is_file().then(|| StoredFile {
            name: name.to_owned(),
            path,
            size: meta.len(),
        })
    }

    /// The files of this kind, by name.
    pub fn list(&self) -> Result<Vec<StoredFile>, DataplaneError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(DataplaneError::io(self.dir.display(), e)),
        };
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Ok(path) = self.path(&name) else { continue };
            let Some(file) = self.stored(&name, path) else {
                continue;
            };
            if matches!(self.kind, FileKind::Certificate | FileKind::CrtList) {
                match std::fs::read(&file.path) {
                    Ok(bytes) if self.kind.holds(&bytes) => {}
                    _ => continue,
                }
            }
            files.push(file);
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    }

    /// One file and its content.
    pub fn get(&self, name: &str) -> Result<(StoredFile, Vec<u8>), DataplaneError> {
        let path = self.path(name)?;
        let missing = || DataplaneError::FileNotFound(format!("no {} '{name}'", self.kind.noun()));
        let file = self.stored(name, path).ok_or_else(missing)?;
        let bytes =
            std::fs::read(&file.path).map_err(|e| DataplaneError::io(file.path.display(), e))?;
        if !self.kind.holds(&bytes) {
            return Err(missing());
        }
        Ok((file, bytes))
    }
}

/// Writes `bytes` to `path` atomically, with the old file's mode, owner
/// and group, or `mode` and the directory's owner and group for a new one.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    crate::commit::write_keeping(path, bytes, mode)
}

/// The first line of the configuration that names `path` (comments do
/// not count): its number and its text. A line names a file by its path,
/// by a path relative to `crt-base` or `ca-base`, by the directory a `crt`
/// loads whole, or through a `crt-list` that lists it.
pub fn user_of(doc: &Document, path: &Path) -> Option<(usize, String)> {
    let wanted = path.to_string_lossy();
    let bases = Bases::of(doc);
    for section in doc.sections() {
        for (index, line) in section.lines().enumerate() {
            if line.kind() != LineKind::Keyword {
                continue;
            }
            let words = line.words();
            let names = words.iter().enumerate().any(|(i, w)| {
                names_path(&w.value, &wanted)
                    || (i > 0 && bases.loads(&words[i - 1].value, &w.value, path))
            });
            if names {
                let number = doc.line_number(Location {
                    section: section.id(),
                    index: Some(index),
                });
                return Some((number, line.text().trim().to_owned()));
            }
        }
    }
    None
}

/// Whether `text` holds `path` as a whole path: not as the start of a
/// longer name (`/m/a.map` is not in `/m/a.map.old`).
fn names_path(text: &str, path: &str) -> bool {
    text.match_indices(path).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + path.len()..].chars().next();
        let boundary =
            |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || "._-/".contains(c)));
        boundary(before) && boundary(after)
    })
}

/// The directories relative certificate and CA paths start from.
struct Bases {
    crt: Option<PathBuf>,
    ca: Option<PathBuf>,
}

impl Bases {
    fn of(doc: &Document) -> Bases {
        let mut bases = Bases {
            crt: None,
            ca: None,
        };
        for section in doc.sections_of(SectionKind::Global) {
            for (_, line) in section.keyword_lines() {
                let words = line.words();
                match (words.first().map(|w| w.value.as_ref()), words.get(1)) {
                    (Some("crt-base"), Some(dir)) => bases.crt = Some(dir.value.as_ref().into()),
                    (Some("ca-base"), Some(dir)) => bases.ca = Some(dir.value.as_ref().into()),
                    _ => {}
                }
            }
        }
        bases
    }

    fn resolve(base: &Option<PathBuf>, value: &str) -> PathBuf {
        match base {
            Some(base) if !value.starts_with('/') => base.join(value),
            _ => PathBuf::from(value),
        }
    }

    /// Whether the argument `value` of the keyword `keyword` makes HAProxy
    /// load `path`.
    fn loads(&self, keyword: &str, value: &str, path: &Path) -> bool {
        match keyword {
            "crt" | "key" => {
                let target = Self::resolve(&self.crt, value);
                target == path || (target.is_dir() && path.parent() == Some(target.as_path()))
            }
            "crt-list" => {
                let target = Self::resolve(&self.crt, value);
                if target == path {
                    return true;
                }
                let Ok(bytes) = std::fs::read(&target) else {
                    return false;
                };
                crt_list_entries(&bytes).is_ok_and(|entries| {
                    entries
                        .iter()
                        .any(|e| Self::resolve(&self.crt, &e.file) == path)
                })
            }
            "ca-file" | "crl-file" | "ca-verify-file" | "ca-sign-file" => {
                Self::resolve(&self.ca, value) == path
            }
            _ => false,
        }
    }
}

/// One line of a crt-list: `CERT [SSL OPTIONS] [SNI FILTERS...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrtListLine {
    /// 1-based line of the file.
    pub line_number: usize,
    pub file: String,
    pub ssl_bind_config: String,
    pub sni_filter: Vec<String>,
}

impl CrtListLine {
    /// The line as HAProxy reads it.
    pub fn render(&self) -> String {
        let mut out = self.file.clone();
        if !self.ssl_bind_config.is_empty() {
            out.push_str(&format!(" [{}]", self.ssl_bind_config));
        }
        for sni in &self.sni_filter {
            out.push(' ');
            out.push_str(sni);
        }
        out
    }
}

/// The entries of a crt-list; blank lines and comments are not entries.
pub fn crt_list_entries(bytes: &[u8]) -> Result<Vec<CrtListLine>, String> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| "a crt-list is text; this one is not UTF-8")?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (file, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let (options, filters) = match rest.strip_prefix('[') {
            Some(inner) => match inner.split_once(']') {
                Some((o, f)) => (o.trim().to_owned(), f),
                None => return Err(format!("line {}: '[' without ']'", i + 1)),
            },
            None => (String::new(), rest),
        };
        out.push(CrtListLine {
            line_number: i + 1,
            file: file.to_owned(),
            ssl_bind_config: options,
            sni_filter: filters.split_whitespace().map(str::to_owned).collect(),
        });
    }
    Ok(out)
}

impl Dataplane {
    /// The first line of the current configuration that names `path`.
    pub fn file_user(&self, path: &Path) -> Option<(usize, String)> {
        user_of(&self.snapshot().doc, path)
    }

    /// Creates `name` in `store` (409 if it exists).
    pub async fn create_file(
        &self,
        store: &FileStore,
        name: &str,
        bytes: &[u8],
        reload: ReloadMode,
    ) -> Result<(StoredFile, FileApplied), DataplaneError> {
        self.put_file(store, name, bytes, reload, true).await
    }

    /// Replaces the content of `name` in `store` (404 if it is not there).
    pub async fn replace_file(
        &self,
        store: &FileStore,
        name: &str,
        bytes: &[u8],
        reload: ReloadMode,
    ) -> Result<(StoredFile, FileApplied), DataplaneError> {
        self.put_file(store, name, bytes, reload, false).await
    }

    async fn put_file(
        &self,
        store: &FileStore,
        name: &str,
        bytes: &[u8],
        reload: ReloadMode,
        create: bool,
    ) -> Result<(StoredFile, FileApplied), DataplaneError> {
        let _writer = self.writer.lock().await;
        self.write_checked(store, name, bytes, reload, create).await
    }

    /// Writes a file, checks the configuration with it when the
    /// configuration names it (putting the old content back if HAProxy
    /// refuses), then has HAProxy take it. The caller holds the writer lock.
    pub(crate) async fn write_checked(
        &self,
        store: &FileStore,
        name: &str,
        bytes: &[u8],
        reload: ReloadMode,
        create: bool,
    ) -> Result<(StoredFile, FileApplied), DataplaneError> {
        let path = store.path(name)?;
        let old = match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(DataplaneError::io(path.display(), e)),
        };
        match (&old, create) {
            (Some(_), true) => {
                return Err(DataplaneError::FileExists(format!(
                    "{} '{name}' exists already",
                    store.kind.noun()
                )))
            }
            (None, false) => {
                return Err(DataplaneError::FileNotFound(format!(
                    "no {} '{name}'",
                    store.kind.noun()
                )))
            }
            (Some(b), false) if !store.kind.holds(b) => {
                return Err(DataplaneError::FileNotFound(format!(
                    "no {} '{name}'",
                    store.kind.noun()
                )))
            }
            _ => {}
        }
        store
            .kind
            .check(bytes)
            .map_err(|why| DataplaneError::BadFile(format!("file_upload: {why}")))?;
        if old.as_deref() == Some(bytes) {
            let file = store.stored(name, path).expect("the file was just read");
            return Ok((file, FileApplied::Written));
        }
        write_file(&path, bytes, store.kind.mode())
            .map_err(|e| DataplaneError::io(path.display(), e))?;
        let current = self.snapshot();
        if let Some((line, _)) = user_of(&current.doc, &path) {
            // The configuration reads this file: it must still load.
            if let Err(e) = self.validate(&current.doc).await {
                let undone = match &old {
                    Some(b) => write_file(&path, b, store.kind.mode()),
                    None => std::fs::remove_file(&path),
                };
                if let Err(u) = undone {
                    tracing::error!(path = %path.display(), error = %u, "cannot put the file back");
                }
                return Err(match e {
                    DataplaneError::Invalid { message, problems } => DataplaneError::Invalid {
                        message: format!(
                            "{} is used at line {line} of the configuration, which would not load with it: {message}",
                            path.display()
                        ),
                        problems,
                    },
                    other => other,
                });
            }
        }
        let file = store
            .stored(name, path.clone())
            .ok_or_else(|| DataplaneError::Internal(format!("{} vanished", path.display())))?;
        tracing::info!(path = %path.display(), "{} written", store.kind.noun());
        if reload == ReloadMode::Skip {
            return Ok((file, FileApplied::Written));
        }
        if !create && self.load_live(store.kind, &path, bytes).await {
            tracing::info!(path = %path.display(), "applied through the runtime API, no reload");
            return Ok((file, FileApplied::Runtime));
        }
        let applied = self.reload_for_file(&current, reload).await;
        Ok((file, applied))
    }

    /// Gives the running HAProxy the new content of a file it holds, when
    /// its runtime API can: a map (prepare, add, commit) or a certificate
    /// (set, commit). `false` when it does not hold it or refused.
    async fn load_live(&self, kind: FileKind, path: &Path, bytes: &[u8]) -> bool {
        let Some(rt) = self.runtime() else {
            return false;
        };
        let wanted = path.to_string_lossy().into_owned();
        let Ok(text) = std::str::from_utf8(bytes) else {
            return false;
        };
        let result = match kind {
            FileKind::Map => {
                use haplane_runtime::Patterns;
                match rt.pattern_files(Patterns::Map).await {
                    Ok(files) if files.iter().any(|f| f.file == wanted) => {
                        let entries = map_entries(text);
                        rt.replace_patterns(Patterns::Map, &wanted, &entries).await
                    }
                    _ => return false,
                }
            }
            FileKind::Certificate => {
                use haplane_runtime::SslStore;
                match rt.ssl_files(SslStore::Cert).await {
                    Ok(files) if files.iter().any(|f| f.name == wanted) => {
                        rt.ssl_replace(SslStore::Cert, &wanted, text).await
                    }
                    _ => return false,
                }
            }
            FileKind::CrtList | FileKind::General | FileKind::Spoe => return false,
        };
        match result {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(path = %wanted, error = %e, "the runtime API refused the new content; reloading");
                false
            }
        }
    }

    /// Reloads HAProxy for a changed file: now when forced, else queued.
    async fn reload_for_file(
        &self,
        current: &std::sync::Arc<crate::store::Snapshot>,
        reload: ReloadMode,
    ) -> FileApplied {
        let forced = reload == ReloadMode::Force;
        match self
            .reloads
            .request(self, std::sync::Arc::clone(current), forced)
            .await
        {
            Some(reload) => FileApplied::Reload { reload, forced },
            None => FileApplied::Written,
        }
    }

    /// Deletes `name` from `store`, unless the configuration names it (409
    /// with the line). `reload`: whether HAProxy reloads afterwards.
    pub async fn delete_file(
        &self,
        store: &FileStore,
        name: &str,
        reload: ReloadMode,
    ) -> Result<FileApplied, DataplaneError> {
        let _writer = self.writer.lock().await;
        let (file, _) = store.get(name)?;
        let current = self.snapshot();
        if let Some((line, text)) = user_of(&current.doc, &file.path) {
            return Err(DataplaneError::FileInUse(format!(
                "{} is used by the configuration at line {line}: {text}",
                file.path.display()
            )));
        }
        std::fs::remove_file(&file.path).map_err(|e| DataplaneError::io(file.path.display(), e))?;
        if let Some(dir) = file.path.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        tracing::info!(path = %file.path.display(), "{} deleted", store.kind.noun());
        Ok(match reload {
            ReloadMode::Skip => FileApplied::Written,
            _ => self.reload_for_file(&current, reload).await,
        })
    }
}

/// The entries of a map file: `KEY VALUE` per line, comments and blank
/// lines skipped, as HAProxy reads them.
pub fn map_entries(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((k, v)) => (k.to_owned(), Some(v.trim().to_owned())),
            None => (l.to_owned(), None),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn store(kind: FileKind) -> (tempfile::TempDir, FileStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("files"), kind);
        std::fs::create_dir_all(&store.dir).unwrap();
        (dir, store)
    }

    #[test]
    fn names_stay_inside_the_directory() {
        let (dir, store) = store(FileKind::Map);
        for name in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "/etc/passwd",
            ".hidden",
            "a\0b",
            "a\nb",
        ] {
            assert!(
                matches!(store.path(name), Err(DataplaneError::BadFileName(_))),
                "{name:?} was taken"
            );
        }
        assert_eq!(
            store.path("hosts.map").unwrap(),
            store.dir.join("hosts.map")
        );
        std::fs::write(dir.path().join("outside"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), store.dir.join("out.map")).unwrap();
        assert!(matches!(
            store.path("out.map"),
            Err(DataplaneError::BadFileName(_))
        ));
        std::fs::write(store.dir.join("real.map"), "a b\n").unwrap();
        std::os::unix::fs::symlink(store.dir.join("real.map"), store.dir.join("alias.map"))
            .unwrap();
        assert!(store.path("alias.map").is_ok());
    }

    #[test]
    fn a_write_keeps_the_mode_and_a_new_certificate_is_private() {
        let (_dir, store) = store(FileKind::Map);
        let path = store.dir.join("a.map");
        write_file(&path, b"a 1\n", 0o644).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_file(&path, b"a 2\n", 0o644).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a 2\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let cert = store.dir.join("c.pem");
        write_file(&cert, b"x", FileKind::Certificate.mode()).unwrap();
        let mode = std::fs::metadata(&cert).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&store.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn users_are_lines_not_comments() {
        let doc = Document::parse(
            "frontend f\n  # use_backend %[str(a),map(/m/a.map)]\n  use_backend %[str(a),map(/m/b.map)]\n"
                .as_bytes()
                .to_vec(),
        );
        assert_eq!(user_of(&doc, Path::new("/m/a.map")), None);
        let (line, text) = user_of(&doc, Path::new("/m/b.map")).unwrap();
        assert_eq!(line, 3);
        assert_eq!(text, "use_backend %[str(a),map(/m/b.map)]");
        assert_eq!(user_of(&doc, Path::new("/m/b.ma")), None);
        assert_eq!(user_of(&doc, Path::new("/b.map")), None);
    }

    #[test]
    fn users_by_base_directory_and_crt_list() {
        let dir = tempfile::tempdir().unwrap();
        let ssl = dir.path().join("ssl");
        std::fs::create_dir_all(ssl.join("all")).unwrap();
        std::fs::write(ssl.join("sites.list"), "one.pem [alpn h2] one.test\n").unwrap();
        let config = format!(
            "global\n  crt-base {ssl}\n  ca-base {ssl}\nfrontend f\n  bind :1 ssl crt site.pem\n  bind :2 ssl crt all/\n  bind :3 ssl crt-list sites.list\n  bind :4 ssl crt x.pem ca-file ca.pem\n",
            ssl = ssl.display()
        );
        let doc = Document::parse(config.into_bytes());
        let line = |name: &str| user_of(&doc, &ssl.join(name)).map(|(n, _)| n);
        assert_eq!(line("site.pem"), Some(5));
        assert_eq!(line("all/any.pem"), Some(6));
        assert_eq!(line("one.pem"), Some(7));
        assert_eq!(line("sites.list"), Some(7));
        assert_eq!(line("ca.pem"), Some(8));
        assert_eq!(line("other.pem"), None);
    }

    #[test]
    fn crt_list_lines() {
        let text =
            b"# comment\n/c/a.pem [alpn h2 ssl-min-ver TLSv1.2] a.test !b.test\n\n/c/b.pem\n";
        let entries = crt_list_entries(text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].line_number, 2);
        assert_eq!(entries[0].ssl_bind_config, "alpn h2 ssl-min-ver TLSv1.2");
        assert_eq!(entries[0].sni_filter, ["a.test", "!b.test"]);
        assert_eq!(
            entries[0].render(),
            "/c/a.pem [alpn h2 ssl-min-ver TLSv1.2] a.test !b.test"
        );
        assert_eq!(entries[1].render(), "/c/b.pem");
        assert!(crt_list_entries(b"/c/a.pem [alpn h2\n").is_err());
    }

    #[test]
    fn map_lines() {
        let entries = map_entries("# c\n\na.test  be_a\nb.test be b\nlonely\n");
        assert_eq!(
            entries,
            [
                ("a.test".into(), Some("be_a".into())),
                ("b.test".into(), Some("be b".into())),
                ("lonely".into(), None)
            ]
        );
    }
}
