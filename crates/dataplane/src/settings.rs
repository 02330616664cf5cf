//! What the engine needs to know: files, programs, limits.

use std::path::PathBuf;
use std::time::Duration;

/// How HAProxy is told to load a new configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadMethod {
    /// `reload` on the master CLI socket; the outcome is read from `show proc`.
    MasterSocket(PathBuf),
    /// A shell command (`-r/--reload-cmd`); its exit status is the outcome.
    Command(String),
    /// Nothing reloads HAProxy: changes are written only.
    None,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration's (first) file.
    pub config_file: PathBuf,
    /// Every configuration file or directory, in the order HAProxy loads
    /// them (`-c` given many times); empty: `config_file` alone.
    pub config_sources: Vec<PathBuf>,
    /// Files the API must not write (`--read-only-file`).
    pub read_only_files: Vec<PathBuf>,
    /// No configuration file is written (`--read-only`).
    pub read_only: bool,
    pub haproxy_bin: PathBuf,
    /// Replaces `haproxy -c -f FILE` when set; the files are appended.
    pub validate_cmd: Option<String>,
    /// Files `haproxy -c` loads before and after the configuration
    /// (`--validate-files-before/after`).
    pub validate_files_before: Vec<PathBuf>,
    pub validate_files_after: Vec<PathBuf>,
    pub transaction_dir: PathBuf,
    /// Where the history of versions is kept (default: `history` in the
    /// transaction directory).
    pub history_dir: Option<PathBuf>,
    /// How many versions the history keeps.
    pub history_size: usize,
    pub max_open_transactions: usize,
    /// How many previous versions to keep as numbered backups (0: none).
    pub backups_number: usize,
    /// Where backups go (default: beside the configuration file).
    pub backups_dir: Option<PathBuf>,
    pub reload: ReloadMethod,
    /// Reloads asked within this delay are done as one.
    pub reload_delay: Duration,
    /// How long to wait for a reload to show in `show proc`.
    pub reload_timeout: Duration,
    /// HAProxy's stats socket, when it is not the configuration's first
    /// `stats socket ... level admin`.
    pub runtime_api: Option<haplane_runtime::Endpoint>,
}

impl Settings {
    /// Where the history is kept.
    pub fn history_dir(&self) -> PathBuf {
        self.history_dir
            .clone()
            .unwrap_or_else(|| self.transaction_dir.join("history"))
    }

    /// Settings for `config_file` with the defaults of the command line.
    pub fn new(config_file: impl Into<PathBuf>) -> Settings {
        let config_file = config_file.into();
        Settings {
            transaction_dir: std::env::temp_dir().join("haplane-transactions"),
            config_file,
            config_sources: Vec::new(),
            read_only_files: Vec::new(),
            read_only: false,
            haproxy_bin: PathBuf::from("haproxy"),
            validate_cmd: None,
            validate_files_before: Vec::new(),
            validate_files_after: Vec::new(),
            history_dir: None,
            history_size: 100,
            max_open_transactions: 20,
            backups_number: 0,
            backups_dir: None,
            reload: ReloadMethod::None,
            reload_delay: Duration::from_secs(5),
            reload_timeout: Duration::from_secs(30),
            runtime_api: None,
        }
    }
}
