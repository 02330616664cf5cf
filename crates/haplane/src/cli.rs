//! The command line and the YAML configuration file, merged into one set of
//! options. Flags, YAML keys and defaults are the Go Data Plane API's; a
//! flag overrides the file. Each option is declared once below: its flag,
//! its place in `dataplaneapi.yaml`, its default and its help line.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use serde::de::DeserializeOwned;
use serde_yaml::Value;

/// Where the Go program looks for its YAML file when `-f` is not given.
const DEFAULT_YAML: &str = "/etc/haproxy/dataplaneapi.yaml";

/// Declares every option: `field: Type, [clap arguments], "yaml.path",
/// "default" (empty for none), "help"`. The flag is optional in clap so
/// that the YAML file and then the default apply when it is absent.
macro_rules! options {
    ($( $field:ident : $ty:ty, [$($arg:tt)*], $yaml:literal, $default:literal, $help:literal; )*) => {
        #[derive(Parser, Debug, Default)]
        #[command(
            name = "haplane",
            version,
            about = "A Data Plane API for HAProxy",
            disable_version_flag = true
        )]
        pub struct Cli {
            #[command(subcommand)]
            pub command: Option<Command>,
            /// Print the version and exit.
            #[arg(short = 'v', long = "version")]
            pub version: bool,
            /// Path to the dataplane configuration file (dataplaneapi.yaml), read when present (default /etc/haproxy/dataplaneapi.yaml).
            #[arg(short = 'f', long = "config")]
            pub config: Option<PathBuf>,
            $(
                #[arg($($arg)*, help = $help)]
                pub $field: Option<$ty>,
            )*
        }

        /// Every option, from the flag, else the YAML file, else its default.
        /// Some are accepted for compatibility and change nothing here.
        #[derive(Debug, Clone, Default)]
        #[allow(dead_code)]
        struct Given {
            $( $field: Option<$ty>, )*
        }

        impl Cli {
            fn given(&self, yaml: &Value) -> anyhow::Result<Given> {
                Ok(Given {
                    $(
                        $field: match &self.$field {
                            Some(v) => Some(v.clone()),
                            None => match yaml_at::<$ty>(yaml, $yaml)? {
                                Some(v) => Some(v),
                                None => default_of::<$ty>($default, stringify!($field))?,
                            },
                        },
                    )*
                })
            }
        }
    };
}

options! {
    // HAProxy
    config_file: Vec<PathBuf>, [short = 'c', long = "config-file"], "haproxy.config_file", "/etc/haproxy/haproxy.cfg", "Path to the haproxy configuration file (default /etc/haproxy/haproxy.cfg); repeatable, each a file or a directory (its *.cfg files by name), loaded in order as HAProxy's -f.";
    read_only_files: Vec<PathBuf>, [long = "read-only-file"], "haproxy.read_only_files", "", "A configuration file the API must not write (repeatable): a change that would write it is refused with 403.";
    read_only: bool, [long = "read-only", num_args = 0..=1, default_missing_value = "true"], "haproxy.read_only", "", "The API writes no configuration file: reads and runtime changes only.";
    haproxy_bin: PathBuf, [short = 'b', long = "haproxy-bin"], "haproxy.haproxy_bin", "haproxy", "Path to the haproxy binary file (default haproxy).";
    master_runtime: PathBuf, [short = 'm', long = "master-runtime"], "haproxy.master_runtime", "", "Path to the master Runtime API socket.";
    fid: PathBuf, [long = "fid"], "haproxy.fid", "", "Path to the file holding the node id, kept for compatibility.";
    master_worker_mode: bool, [long = "master-worker-mode", num_args = 0..=1, default_missing_value = "true"], "haproxy.master_worker_mode", "", "Flag to enable helpers when running within HAProxy.";
    time_suffix: String, [long = "time-suffix"], "haproxy.preferred_time_suffix", "nearest", "Preferred time unit when writing time values: nearest, none, ms, s, m, h or d (default nearest).";
    // Fleet
    fleet_etcd: String, [long = "fleet-etcd"], "fleet.etcd", "", "Join a fleet kept in etcd: its client URLs, comma-separated (http://127.0.0.1:2379).";
    node_name: String, [long = "node-name"], "fleet.node_name", "", "This node's name in the fleet (needed with --fleet-etcd).";
    fleet_prefix: String, [long = "fleet-prefix"], "fleet.prefix", "/haplane/fleet", "Where the fleet's keys live in etcd (default /haplane/fleet).";
    // Reloads
    reload_delay: u64, [short = 'd', long = "reload-delay"], "haproxy.reload.reload_delay", "5", "Minimum delay between two reloads, in seconds (default 5).";
    reload_cmd: String, [short = 'r', long = "reload-cmd"], "haproxy.reload.reload_cmd", "", "Reload command.";
    restart_cmd: String, [short = 's', long = "restart-cmd"], "haproxy.reload.restart_cmd", "", "Restart command.";
    status_cmd: String, [long = "status-cmd"], "haproxy.reload.status_cmd", "", "Status command.";
    service_name: String, [long = "service"], "haproxy.reload.service_name", "", "Name of the HAProxy service (for the systemd and s6 reload strategies).";
    reload_retention: u64, [long = "reload-retention"], "haproxy.reload.reload_retention", "1", "Reload retention in days: older reload ids are forgotten (default 1).";
    reload_strategy: String, [long = "reload-strategy"], "haproxy.reload.reload_strategy", "custom", "Either systemd, s6 or custom (default custom).";
    validate_cmd: String, [long = "validate-cmd"], "haproxy.reload.validate_cmd", "", "Executes a custom command to perform the HAProxy configuration check.";
    validate_files_before: Vec<PathBuf>, [long = "validate-files-before"], "haproxy.reload.validate_files_before", "", "A configuration file loaded before the main file for validation (repeatable).";
    validate_files_after: Vec<PathBuf>, [long = "validate-files-after"], "haproxy.reload.validate_files_after", "", "A configuration file loaded after the main file for validation (repeatable).";
    // Users
    userlist: String, [short = 'u', long = "userlist"], "dataplaneapi.userlist.userlist", "controller", "Userlist in the HAProxy configuration to use for API Basic Authentication (default controller).";
    userlist_file: PathBuf, [long = "userlist-file"], "dataplaneapi.userlist.userlist_file", "", "Path to a file holding the userlist, read instead of the HAProxy configuration.";
    // Transactions
    transaction_dir: PathBuf, [short = 't', long = "transaction-dir"], "dataplaneapi.transaction.transaction_dir", "/tmp/haproxy", "Path to the transaction directory (default /tmp/haproxy).";
    backups_number: usize, [short = 'n', long = "backups-number"], "dataplaneapi.transaction.backups_number", "0", "Number of backup configuration files to keep, with the version number as suffix (default 0).";
    backups_dir: PathBuf, [long = "backups-dir"], "dataplaneapi.transaction.backups_dir", "", "Path to the directory of the backup files (default beside the configuration).";
    history_dir: PathBuf, [long = "history-dir"], "dataplaneapi.transaction.history_dir", "", "Path to the directory of the configuration's history (default: history in the transaction directory).";
    history_size: usize, [long = "history-size"], "dataplaneapi.transaction.history_size", "100", "Number of configuration versions the history keeps (default 100).";
    max_open_transactions: usize, [long = "max-open-transactions"], "dataplaneapi.transaction.max_open_transactions", "20", "Limit of transactions in progress (default 20).";
    // Managed files
    maps_dir: PathBuf, [short = 'p', long = "maps-dir"], "dataplaneapi.resources.maps_dir", "/etc/haproxy/maps", "Path to the directory of map files managed by the API (default /etc/haproxy/maps).";
    ssl_certs_dir: PathBuf, [long = "ssl-certs-dir"], "dataplaneapi.resources.ssl_certs_dir", "/etc/haproxy/ssl", "Path to the SSL certificates directory (default /etc/haproxy/ssl).";
    general_storage_dir: PathBuf, [long = "general-storage-dir"], "dataplaneapi.resources.general_storage_dir", "/etc/haproxy/general", "Path to the general storage directory (default /etc/haproxy/general).";
    dataplane_storage_dir: PathBuf, [long = "dataplane-storage-dir"], "dataplaneapi.resources.dataplane_storage_dir", "/etc/haproxy/dataplane", "Path to the API's internal storage directory (default /etc/haproxy/dataplane).";
    spoe_dir: PathBuf, [long = "spoe-dir"], "dataplaneapi.resources.spoe_dir", "/etc/haproxy/spoe", "Path to the SPOE directory (default /etc/haproxy/spoe).";
    spoe_transaction_dir: PathBuf, [long = "spoe-transaction-dir"], "dataplaneapi.resources.spoe_transaction_dir", "/tmp/spoe-haproxy", "Path to the SPOE transaction directory (default /tmp/spoe-haproxy).";
    update_map_files: bool, [long = "update-map-files", num_args = 0..=1, default_missing_value = "true"], "dataplaneapi.resources.update_map_files", "", "Flag used for syncing map files entries with runtime maps entries.";
    update_map_files_period: u64, [long = "update-map-files-period"], "dataplaneapi.resources.update_map_files_period", "10", "Elapsed time in seconds between two map syncing operations (default 10).";
    // The API process
    host: String, [long = "host"], "dataplaneapi.host", "localhost", "The IP to listen on (default localhost).";
    port: u16, [long = "port"], "dataplaneapi.port", "5555", "The port to listen on for insecure connections (default 5555).";
    socket_path: PathBuf, [long = "socket-path"], "dataplaneapi.socket_path", "", "The unix socket to listen on, kept for compatibility.";
    debug_socket_path: PathBuf, [long = "debug-socket-path"], "dataplaneapi.debug_socket_path", "", "Unix socket path of the debugging command socket, kept for compatibility.";
    scheme: Vec<String>, [long = "scheme"], "dataplaneapi.scheme", "", "The listeners to enable (http, https); kept for compatibility, TLS is on when a certificate is given.";
    cleanup_timeout: String, [long = "cleanup-timeout"], "dataplaneapi.cleanup_timeout", "10s", "Grace period for idle connections after shutdown (default 10s).";
    graceful_timeout: String, [long = "graceful-timeout"], "dataplaneapi.graceful_timeout", "15s", "Grace period for requests in flight after shutdown (default 15s).";
    max_header_size: String, [long = "max-header-size"], "dataplaneapi.max_header_size", "1MiB", "Largest request headers accepted (default 1MiB).";
    listen_limit: u32, [long = "listen-limit"], "dataplaneapi.listen_limit", "", "Limit of outstanding requests, kept for compatibility.";
    keep_alive: String, [long = "keep-alive"], "dataplaneapi.keep_alive", "3m", "TCP keep-alive timeout of accepted connections (default 3m).";
    read_timeout: String, [long = "read-timeout"], "dataplaneapi.read_timeout", "30s", "Maximum duration before timing out a read of the request (default 30s).";
    write_timeout: String, [long = "write-timeout"], "dataplaneapi.write_timeout", "60s", "Maximum duration before timing out a write of the response (default 60s).";
    show_system_info: bool, [short = 'i', long = "show-system-info", num_args = 0..=1, default_missing_value = "true"], "dataplaneapi.show_system_info", "", "Show system info on the info endpoint.";
    disable_inotify: bool, [long = "disable-inotify", num_args = 0..=1, default_missing_value = "true"], "dataplaneapi.disable_inotify", "", "Does not follow hand edits of the configuration files (by default inotify sees one at once: it is read, kept in the history and reloaded).";
    pid_file: PathBuf, [long = "pid-file"], "dataplaneapi.pid_file", "", "Path of the file the API writes its PID to.";
    uid: u32, [long = "uid"], "dataplaneapi.uid", "", "User id to run as, set on start.";
    gid: u32, [long = "gid"], "dataplaneapi.gid", "", "Group id to run as, set on start.";
    max_body_size: String, [long = "max-body-size"], "dataplaneapi.max_body_size", "1GiB", "Largest request body accepted, e.g. 64MiB (default 1GiB).";
    // TLS
    tls_host: String, [long = "tls-host"], "dataplaneapi.tls.tls_host", "", "The IP to listen on for TLS (default the --host).";
    tls_port: u16, [long = "tls-port"], "dataplaneapi.tls.tls_port", "", "The port to listen on for secure connections (default 6443).";
    tls_certificate: PathBuf, [long = "tls-certificate"], "dataplaneapi.tls.tls_certificate", "", "The certificate to use for secure connections.";
    tls_key: PathBuf, [long = "tls-key"], "dataplaneapi.tls.tls_key", "", "The private key to use for secure connections.";
    tls_ca: PathBuf, [long = "tls-ca"], "dataplaneapi.tls.tls_ca", "", "The CA that signs client certificates; when given, clients must present one.";
    tls_listen_limit: u32, [long = "tls-listen-limit"], "dataplaneapi.tls.tls_listen_limit", "", "Limit of outstanding TLS requests, kept for compatibility.";
    tls_keep_alive: String, [long = "tls-keep-alive"], "dataplaneapi.tls.tls_keep_alive", "", "TCP keep-alive timeout of TLS connections, kept for compatibility.";
    tls_read_timeout: String, [long = "tls-read-timeout"], "dataplaneapi.tls.tls_read_timeout", "", "Maximum duration of a TLS request read, kept for compatibility.";
    tls_write_timeout: String, [long = "tls-write-timeout"], "dataplaneapi.tls.tls_write_timeout", "", "Maximum duration of a TLS response write, kept for compatibility.";
    // Logging
    log_to: String, [long = "log-to"], "log.log_to", "stdout", "Log target: stdout, file or syslog (default stdout).";
    log_file: PathBuf, [long = "log-file"], "log.log_file", "/var/log/dataplaneapi/dataplaneapi.log", "Location of the log file (default /var/log/dataplaneapi/dataplaneapi.log).";
    log_level: String, [long = "log-level"], "log.log_level", "warning", "Logging level: trace, debug, info, warning or error (default warning).";
    log_format: String, [long = "log-format"], "log.log_format", "text", "Logging format: text or JSON (default text).";
    syslog_address: String, [long = "syslog-address"], "log.syslog_address", "", "Syslog address (with port, or a unix socket path) when logging to syslog.";
    syslog_protocol: String, [long = "syslog-protocol"], "log.syslog_protocol", "tcp", "Syslog protocol: tcp, tcp4, tcp6, unix or unixgram (default tcp).";
    syslog_tag: String, [long = "syslog-tag"], "log.syslog_tag", "dataplaneapi", "String to tag the syslog messages with (default dataplaneapi).";
    syslog_level: String, [long = "syslog-level"], "log.syslog_level", "debug", "Lowest level sent to syslog (default debug).";
    syslog_facility: String, [long = "syslog-facility"], "log.syslog_facility", "local0", "Syslog facility (default local0).";
}

/// The value at a dotted path of the YAML file, if it is there.
fn yaml_at<T: DeserializeOwned>(yaml: &Value, path: &str) -> anyhow::Result<Option<T>> {
    let mut here = yaml;
    for key in path.split('.') {
        match here.get(key) {
            Some(next) => here = next,
            None => return Ok(None),
        }
    }
    if here.is_null() {
        return Ok(None);
    }
    one_or_many(here.clone())
        .map(Some)
        .with_context(|| format!("{path} in the YAML file: {here:?} is not a valid value"))
}

/// `value` as a `T`; for a list option, one value is a list of one.
fn one_or_many<T: DeserializeOwned>(value: Value) -> Result<T, serde_yaml::Error> {
    serde_yaml::from_value(value.clone()).or_else(|e| match value {
        Value::String(_) => serde_yaml::from_value(Value::Sequence(vec![value])),
        _ => Err(e),
    })
}

/// An option's default, parsed as its type; none when empty.
fn default_of<T: DeserializeOwned>(text: &str, field: &str) -> anyhow::Result<Option<T>> {
    if text.is_empty() {
        return Ok(None);
    }
    let value = serde_yaml::from_str(text)
        .or_else(|_| one_or_many(Value::String(text.to_owned())))
        .with_context(|| format!("the default of {field} ({text}) does not parse"))?;
    Ok(Some(value))
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start a demo HAProxy and serve the API on it, with a curl walkthrough.
    Demo {
        /// Port of the API.
        #[arg(long, default_value_t = 5555)]
        port: u16,
    },
    /// Show how haplane reads a configuration file.
    Parse { file: PathBuf },
}

/// Everything the server needs, checked.
#[derive(Debug, Clone)]
pub struct Options {
    /// The first configuration file.
    pub config_file: PathBuf,
    /// Every `-c`, in order: files and directories.
    pub config_sources: Vec<PathBuf>,
    pub read_only_files: Vec<PathBuf>,
    pub read_only: bool,
    pub haproxy_bin: PathBuf,
    pub userlist: String,
    pub userlist_file: Option<PathBuf>,
    pub host: String,
    pub port: u16,
    pub reload_cmd: Option<String>,
    pub restart_cmd: Option<String>,
    /// `--reload-strategy systemd` or `s6`: HAProxy is reloaded by its
    /// service manager (`reload_cmd`), even with a master socket.
    pub reload_by_service: bool,
    pub reload_delay: Duration,
    pub transaction_dir: PathBuf,
    pub backups_number: usize,
    pub backups_dir: Option<PathBuf>,
    pub history_dir: Option<PathBuf>,
    pub history_size: usize,
    pub master_runtime: Option<PathBuf>,
    pub max_open_transactions: usize,
    pub validate_cmd: Option<String>,
    pub validate_files_before: Vec<PathBuf>,
    pub validate_files_after: Vec<PathBuf>,
    pub maps_dir: PathBuf,
    pub ssl_certs_dir: PathBuf,
    pub spoe_dir: PathBuf,
    pub general_storage_dir: PathBuf,
    pub tls: Option<Tls>,
    pub log_level: String,
    pub log_file: Option<PathBuf>,
    pub log_json: bool,
    pub show_system_info: bool,
    /// Hand edits of the configuration file are not followed.
    pub disable_inotify: bool,
    pub pid_file: Option<PathBuf>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub max_body_size: usize,
    /// The fleet this node joins.
    pub fleet: Option<FleetOptions>,
}

#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub endpoints: Vec<String>,
    pub node_name: String,
    pub prefix: String,
}

#[derive(Debug, Clone)]
pub struct Tls {
    pub host: String,
    pub port: u16,
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub ca: Option<PathBuf>,
}

const LOG_LEVELS: &[&str] = &["trace", "debug", "info", "warning", "error"];

/// One of `allowed`, or an error naming the flag.
fn choice(flag: &str, value: String, allowed: &[&str]) -> anyhow::Result<String> {
    if !allowed.contains(&value.as_str()) {
        bail!("--{flag} {value}: expected one of {}", allowed.join(", "));
    }
    Ok(value)
}

/// A size such as `1GiB`, `64MiB`, `512KB` or plain bytes.
fn parse_size(flag: &str, text: &str) -> anyhow::Result<usize> {
    let digits = text
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text.trim()[digits.len()..];
    let factor: usize = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => bail!("--{flag} {text}: expected a size such as 64MiB or 1GiB"),
    };
    let n: usize = digits
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--{flag} {text}: expected a size such as 64MiB or 1GiB"))?;
    n.checked_mul(factor)
        .ok_or_else(|| anyhow::anyhow!("--{flag} {text}: too large"))
}

/// The first file of the configuration: the first `-c` if a file, else
/// the first `*.cfg` of that directory by name; every `-c` must exist.
fn first_config_file(sources: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let mut first = None;
    for source in sources {
        if source.is_file() {
            first = first.or_else(|| Some(source.clone()));
            continue;
        }
        if !source.is_dir() {
            bail!(
                "--config-file {}: no such file or directory",
                source.display()
            );
        }
        let mut names: Vec<PathBuf> = std::fs::read_dir(source)
            .with_context(|| format!("--config-file {}: cannot read it", source.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .filter(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                name.is_some_and(|n| n.ends_with(".cfg") && !n.starts_with('.'))
            })
            .collect();
        names.sort();
        first = first.or_else(|| names.into_iter().next());
    }
    first.ok_or_else(|| anyhow::anyhow!("--config-file: no configuration file in {sources:?}"))
}

impl Cli {
    /// Merges the flags over the YAML file (if any) and checks the result.
    pub fn options(&self) -> anyhow::Result<Options> {
        let yaml_path = self.config.clone().or_else(|| {
            let default = PathBuf::from(DEFAULT_YAML);
            default.is_file().then_some(default)
        });
        let yaml: Value = match &yaml_path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("--config {}: cannot read it", path.display()))?;
                serde_yaml::from_str(&text).with_context(|| {
                    format!("--config {}: not a valid dataplaneapi.yaml", path.display())
                })?
            }
            None => Value::Null,
        };
        let mut g = self.given(&yaml)?;
        // The newer `log_targets` list: its first target, when the flags
        // and the older `log` section say nothing.
        if let Some(target) = yaml
            .get("log_targets")
            .and_then(Value::as_sequence)
            .and_then(|s| s.first())
        {
            let pick = |flag: &Option<String>, key: &str| {
                flag.clone()
                    .or_else(|| yaml_at::<String>(target, key).ok().flatten())
            };
            let from_yaml = |key: &str| {
                yaml_at::<String>(&yaml, &format!("log.{key}"))
                    .ok()
                    .flatten()
            };
            if from_yaml("log_level").is_none() {
                g.log_level = pick(&self.log_level, "log_level").or(g.log_level);
            }
            if from_yaml("log_to").is_none() {
                g.log_to = pick(&self.log_to, "log_to").or(g.log_to);
            }
            if from_yaml("log_format").is_none() {
                g.log_format = pick(&self.log_format, "log_format").or(g.log_format);
            }
            if self.log_file.is_none() && from_yaml("log_file").is_none() {
                if let Ok(Some(file)) = yaml_at::<PathBuf>(target, "log_file") {
                    g.log_file = Some(file);
                }
            }
        }
        let required = |v: Option<PathBuf>| v.unwrap_or_default();
        let config_sources = g.config_file.unwrap_or_default();
        let config_file = first_config_file(&config_sources)?;
        for file in g.read_only_files.iter().flatten() {
            if !file.is_file() {
                bail!("--read-only-file {}: no such file", file.display());
            }
        }
        let log_level = choice("log-level", g.log_level.unwrap_or_default(), LOG_LEVELS)?;
        let log_to = choice(
            "log-to",
            g.log_to.unwrap_or_default(),
            &["stdout", "file", "syslog"],
        )?;
        if log_to == "syslog" {
            bail!("--log-to syslog: not supported, log to stdout or to a file");
        }
        let log_format = choice(
            "log-format",
            g.log_format.unwrap_or_default(),
            &["text", "JSON"],
        )?;
        let strategy = choice(
            "reload-strategy",
            g.reload_strategy.unwrap_or_default(),
            &["custom", "systemd", "s6"],
        )?;
        // systemd and s6 reload and restart HAProxy's service themselves;
        // a command given explicitly still wins.
        let service = g.service_name.clone().unwrap_or_else(|| "haproxy".into());
        let (reload_cmd, restart_cmd, reload_by_service) = match strategy.as_str() {
            "systemd" => (
                g.reload_cmd.or(Some(format!("systemctl reload {service}"))),
                g.restart_cmd
                    .or(Some(format!("systemctl restart {service}"))),
                true,
            ),
            "s6" => (
                g.reload_cmd.or(Some(format!("s6-svc -2 {service}"))),
                g.restart_cmd.or(Some(format!("s6-svc -r {service}"))),
                true,
            ),
            _ => (g.reload_cmd, g.restart_cmd, false),
        };
        choice(
            "time-suffix",
            g.time_suffix.unwrap_or_default(),
            &["nearest", "none", "ms", "s", "m", "h", "d"],
        )?;
        let tls = match (g.tls_certificate, g.tls_key, g.tls_port) {
            (None, None, None) => None,
            (Some(certificate), Some(key), port) => Some(Tls {
                host: g
                    .tls_host
                    .clone()
                    .or_else(|| g.host.clone())
                    .unwrap_or_else(|| "127.0.0.1".into()),
                port: port.unwrap_or(6443),
                certificate,
                key,
                ca: g.tls_ca,
            }),
            (None, _, _) => bail!("--tls-certificate is required to serve TLS"),
            (_, None, _) => bail!("--tls-key is required to serve TLS"),
        };
        let max_body_size = parse_size("max-body-size", &g.max_body_size.unwrap_or_default())?;
        let fleet = match (g.fleet_etcd, g.node_name) {
            (None, None) => None,
            (Some(_), None) => bail!("--fleet-etcd needs --node-name"),
            (None, Some(_)) => bail!("--node-name is for a fleet: give --fleet-etcd too"),
            (Some(urls), Some(node_name)) => {
                let endpoints: Vec<String> = urls
                    .split(',')
                    .map(|u| u.trim().to_owned())
                    .filter(|u| !u.is_empty())
                    .collect();
                if let Some(bad) = endpoints.iter().find(|u| !u.starts_with("http://")) {
                    bail!("--fleet-etcd {bad}: expected an http:// URL of etcd");
                }
                let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
                if node_name.is_empty() || !node_name.chars().all(plain) {
                    bail!("--node-name {node_name}: letters, digits, '-', '_' and '.' only");
                }
                Some(FleetOptions {
                    endpoints,
                    node_name,
                    prefix: g.fleet_prefix.unwrap_or_default(),
                })
            }
        };
        let host = g.host.unwrap_or_default();
        Ok(Options {
            haproxy_bin: required(g.haproxy_bin),
            userlist: g.userlist.unwrap_or_default(),
            userlist_file: g.userlist_file,
            // Go's listener reads `localhost` as the loopback address.
            host: if host == "localhost" {
                "127.0.0.1".into()
            } else {
                host
            },
            port: g.port.unwrap_or_default(),
            restart_cmd,
            reload_by_service,
            reload_delay: Duration::from_secs(g.reload_delay.unwrap_or_default()),
            transaction_dir: required(g.transaction_dir),
            backups_number: g.backups_number.unwrap_or_default(),
            backups_dir: g.backups_dir,
            history_dir: g.history_dir,
            history_size: g.history_size.unwrap_or_default(),
            max_open_transactions: g.max_open_transactions.unwrap_or_default(),
            validate_cmd: g.validate_cmd,
            validate_files_before: g.validate_files_before.unwrap_or_default(),
            validate_files_after: g.validate_files_after.unwrap_or_default(),
            maps_dir: required(g.maps_dir),
            ssl_certs_dir: required(g.ssl_certs_dir),
            spoe_dir: required(g.spoe_dir),
            general_storage_dir: required(g.general_storage_dir),
            config_file,
            config_sources,
            read_only_files: g.read_only_files.unwrap_or_default(),
            read_only: g.read_only.unwrap_or_default(),
            tls,
            log_level,
            log_file: (log_to == "file").then_some(g.log_file).flatten(),
            log_json: log_format == "JSON",
            show_system_info: g.show_system_info.unwrap_or_default(),
            disable_inotify: g.disable_inotify.unwrap_or_default(),
            pid_file: g.pid_file,
            uid: g.uid,
            gid: g.gid,
            max_body_size,
            fleet,
            master_runtime: g.master_runtime,
            reload_cmd,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(extra: &[&str]) -> Options {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(&config, "global\n").unwrap();
        let mut args = vec!["haplane", "-c", config.to_str().unwrap()];
        args.extend(extra);
        Cli::parse_from(args).options().unwrap()
    }

    #[test]
    fn service_managers_reload_haproxy() {
        let systemd = options(&["--reload-strategy", "systemd", "-m", "/run/master.sock"]);
        assert_eq!(
            systemd.reload_cmd.as_deref(),
            Some("systemctl reload haproxy")
        );
        assert_eq!(
            systemd.restart_cmd.as_deref(),
            Some("systemctl restart haproxy")
        );
        assert!(systemd.reload_by_service);
        let s6 = options(&["--reload-strategy", "s6", "--service", "/run/service/lb"]);
        assert_eq!(s6.reload_cmd.as_deref(), Some("s6-svc -2 /run/service/lb"));
        let own = options(&["--reload-strategy", "systemd", "-r", "my-reload"]);
        assert_eq!(own.reload_cmd.as_deref(), Some("my-reload"));
        let custom = options(&["-m", "/run/master.sock"]);
        assert_eq!(custom.reload_cmd, None);
        assert!(!custom.reload_by_service);
    }
}
