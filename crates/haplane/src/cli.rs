//! The command line and the YAML configuration file, merged into one set of
//! options. Flags take the Go Data Plane API's names; flags override the file.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use serde::Deserialize;

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
    /// dataplaneapi.yaml configuration file.
    #[arg(short = 'f', long = "config")]
    pub config: Option<PathBuf>,
    /// Path to the HAProxy configuration file.
    #[arg(short = 'c', long = "config-file")]
    pub config_file: Option<PathBuf>,
    /// Path to the haproxy binary.
    #[arg(short = 'b', long = "haproxy-bin")]
    pub haproxy_bin: Option<PathBuf>,
    /// Userlist in the HAProxy configuration that holds the API's users.
    #[arg(short = 'u', long = "userlist")]
    pub userlist: Option<String>,
    /// A file holding the userlist (instead of the HAProxy configuration).
    #[arg(long = "userlist-file")]
    pub userlist_file: Option<PathBuf>,
    #[arg(long = "host")]
    pub host: Option<String>,
    #[arg(long = "port")]
    pub port: Option<u16>,
    /// Command that reloads HAProxy.
    #[arg(short = 'r', long = "reload-cmd")]
    pub reload_cmd: Option<String>,
    /// Command that restarts HAProxy.
    #[arg(short = 's', long = "restart-cmd")]
    pub restart_cmd: Option<String>,
    /// Seconds within which reloads are done as one.
    #[arg(short = 'd', long = "reload-delay")]
    pub reload_delay: Option<u64>,
    /// Directory of the open transactions.
    #[arg(short = 't', long = "transaction-dir")]
    pub transaction_dir: Option<PathBuf>,
    /// How many previous configurations to keep.
    #[arg(short = 'n', long = "backups-number")]
    pub backups_number: Option<usize>,
    #[arg(long = "backups-dir")]
    pub backups_dir: Option<PathBuf>,
    /// HAProxy's master CLI socket (`-S` of haproxy): reloads go through it.
    #[arg(short = 'm', long = "master-runtime")]
    pub master_runtime: Option<PathBuf>,
    #[arg(long = "max-open-transactions")]
    pub max_open_transactions: Option<usize>,
    /// Command that validates a configuration file (given as last argument).
    #[arg(long = "validate-cmd")]
    pub validate_cmd: Option<String>,
    #[arg(short = 'p', long = "maps-dir")]
    pub maps_dir: Option<PathBuf>,
    #[arg(long = "ssl-certs-dir")]
    pub ssl_certs_dir: Option<PathBuf>,
    #[arg(long = "spoe-dir")]
    pub spoe_dir: Option<PathBuf>,
    #[arg(long = "tls-host")]
    pub tls_host: Option<String>,
    #[arg(long = "tls-port")]
    pub tls_port: Option<u16>,
    #[arg(long = "tls-certificate")]
    pub tls_certificate: Option<PathBuf>,
    #[arg(long = "tls-key")]
    pub tls_key: Option<PathBuf>,
    /// CA of the client certificates: when given, clients must present one.
    #[arg(long = "tls-ca")]
    pub tls_ca: Option<PathBuf>,
    /// trace, debug, info, warning, error.
    #[arg(long = "log-level")]
    pub log_level: Option<String>,
    /// stdout or file.
    #[arg(long = "log-to")]
    pub log_to: Option<String>,
    #[arg(long = "log-file")]
    pub log_file: Option<PathBuf>,
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

/// The YAML file of the Go Data Plane API (the keys haplane uses).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FileConfig {
    dataplaneapi: ApiSection,
    haproxy: HaproxySection,
    log_targets: Vec<LogTarget>,
    #[serde(flatten)]
    _other: serde_yaml::Mapping,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiSection {
    host: Option<String>,
    port: Option<u16>,
    userlist: UserlistSection,
    transaction: TransactionSection,
    resources: ResourcesSection,
    tls: TlsSection,
    #[serde(flatten)]
    _other: serde_yaml::Mapping,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserlistSection {
    userlist: Option<String>,
    userlist_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TransactionSection {
    transaction_dir: Option<PathBuf>,
    backups_number: Option<usize>,
    backups_dir: Option<PathBuf>,
    max_open_transactions: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResourcesSection {
    maps_dir: Option<PathBuf>,
    ssl_certs_dir: Option<PathBuf>,
    spoe_dir: Option<PathBuf>,
    #[serde(flatten)]
    _other: serde_yaml::Mapping,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TlsSection {
    tls_host: Option<String>,
    tls_port: Option<u16>,
    tls_certificate: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_ca: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HaproxySection {
    config_file: Option<PathBuf>,
    haproxy_bin: Option<PathBuf>,
    master_runtime: Option<PathBuf>,
    reload: ReloadSection,
    #[serde(flatten)]
    _other: serde_yaml::Mapping,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReloadSection {
    reload_delay: Option<u64>,
    reload_cmd: Option<String>,
    restart_cmd: Option<String>,
    validate_cmd: Option<String>,
    #[serde(flatten)]
    _other: serde_yaml::Mapping,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LogTarget {
    log_to: Option<String>,
    log_file: Option<PathBuf>,
    log_level: Option<String>,
    #[serde(flatten)]
    _other: serde_yaml::Mapping,
}

/// Everything the server needs, checked.
#[derive(Debug, Clone)]
pub struct Options {
    pub config_file: PathBuf,
    pub haproxy_bin: PathBuf,
    pub userlist: String,
    pub userlist_file: Option<PathBuf>,
    pub host: String,
    pub port: u16,
    pub reload_cmd: Option<String>,
    pub restart_cmd: Option<String>,
    pub reload_delay: Duration,
    pub transaction_dir: PathBuf,
    pub backups_number: usize,
    pub backups_dir: Option<PathBuf>,
    pub master_runtime: Option<PathBuf>,
    pub max_open_transactions: usize,
    pub validate_cmd: Option<String>,
    pub maps_dir: PathBuf,
    pub ssl_certs_dir: PathBuf,
    pub spoe_dir: PathBuf,
    pub tls: Option<Tls>,
    pub log_level: String,
    pub log_to: String,
    pub log_file: Option<PathBuf>,
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

impl Cli {
    /// Merges the flags over the YAML file (if any) and checks the result.
    pub fn options(&self) -> anyhow::Result<Options> {
        let file: FileConfig = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("--config {}: cannot read it", path.display()))?;
                serde_yaml::from_str(&text).with_context(|| {
                    format!("--config {}: not a valid dataplaneapi.yaml", path.display())
                })?
            }
            None => FileConfig::default(),
        };
        let api = &file.dataplaneapi;
        let hap = &file.haproxy;
        let log = file.log_targets.first();
        let pick =
            |flag: &Option<PathBuf>, yaml: &Option<PathBuf>| flag.clone().or_else(|| yaml.clone());
        let config_file = pick(&self.config_file, &hap.config_file)
            .unwrap_or_else(|| PathBuf::from("/etc/haproxy/haproxy.cfg"));
        if !config_file.is_file() {
            bail!("--config-file {}: no such file", config_file.display());
        }
        let log_level = self
            .log_level
            .clone()
            .or_else(|| log.and_then(|l| l.log_level.clone()))
            .unwrap_or_else(|| "info".into());
        if !LOG_LEVELS.contains(&log_level.as_str()) {
            bail!(
                "--log-level {log_level}: expected one of {}",
                LOG_LEVELS.join(", ")
            );
        }
        let log_to = self
            .log_to
            .clone()
            .or_else(|| log.and_then(|l| l.log_to.clone()))
            .unwrap_or_else(|| "stdout".into());
        let log_file = pick(&self.log_file, &log.and_then(|l| l.log_file.clone()));
        match log_to.as_str() {
            "stdout" => {}
            "file" if log_file.is_some() => {}
            "file" => bail!("--log-to file needs --log-file"),
            other => bail!("--log-to {other}: expected stdout or file"),
        }
        let tls_certificate = pick(&self.tls_certificate, &api.tls.tls_certificate);
        let tls_key = pick(&self.tls_key, &api.tls.tls_key);
        let tls_port = self.tls_port.or(api.tls.tls_port);
        let tls = match (tls_certificate, tls_key, tls_port) {
            (None, None, None) => None,
            (Some(certificate), Some(key), port) => Some(Tls {
                host: self
                    .tls_host
                    .clone()
                    .or_else(|| api.tls.tls_host.clone())
                    .unwrap_or_else(|| "127.0.0.1".into()),
                port: port.unwrap_or(6443),
                certificate,
                key,
                ca: pick(&self.tls_ca, &api.tls.tls_ca),
            }),
            (None, _, _) => bail!("--tls-certificate is required to serve TLS"),
            (_, None, _) => bail!("--tls-key is required to serve TLS"),
        };
        let master_runtime = pick(&self.master_runtime, &hap.master_runtime);
        let reload_cmd = self
            .reload_cmd
            .clone()
            .or_else(|| hap.reload.reload_cmd.clone());
        Ok(Options {
            haproxy_bin: pick(&self.haproxy_bin, &hap.haproxy_bin)
                .unwrap_or_else(|| PathBuf::from("haproxy")),
            userlist: self
                .userlist
                .clone()
                .or_else(|| api.userlist.userlist.clone())
                .unwrap_or_else(|| "controller".into()),
            userlist_file: pick(&self.userlist_file, &api.userlist.userlist_file),
            host: self
                .host
                .clone()
                .or_else(|| api.host.clone())
                .unwrap_or_else(|| "127.0.0.1".into()),
            port: self.port.or(api.port).unwrap_or(5555),
            restart_cmd: self
                .restart_cmd
                .clone()
                .or_else(|| hap.reload.restart_cmd.clone()),
            reload_delay: Duration::from_secs(
                self.reload_delay.or(hap.reload.reload_delay).unwrap_or(5),
            ),
            transaction_dir: pick(&self.transaction_dir, &api.transaction.transaction_dir)
                .unwrap_or_else(|| std::env::temp_dir().join("haplane")),
            backups_number: self
                .backups_number
                .or(api.transaction.backups_number)
                .unwrap_or(0),
            backups_dir: pick(&self.backups_dir, &api.transaction.backups_dir),
            max_open_transactions: self
                .max_open_transactions
                .or(api.transaction.max_open_transactions)
                .unwrap_or(20),
            validate_cmd: self
                .validate_cmd
                .clone()
                .or_else(|| hap.reload.validate_cmd.clone()),
            maps_dir: pick(&self.maps_dir, &api.resources.maps_dir)
                .unwrap_or_else(|| PathBuf::from("/etc/haproxy/maps")),
            ssl_certs_dir: pick(&self.ssl_certs_dir, &api.resources.ssl_certs_dir)
                .unwrap_or_else(|| PathBuf::from("/etc/haproxy/ssl")),
            spoe_dir: pick(&self.spoe_dir, &api.resources.spoe_dir)
                .unwrap_or_else(|| PathBuf::from("/etc/haproxy/spoe")),
            config_file,
            tls,
            log_level,
            log_to,
            log_file,
            master_runtime,
            reload_cmd,
        })
    }
}
