//! The master CLI: `show proc` (reload counters, workers) and `reload`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::socket::{command, RuntimeError};

/// A connection target for the master CLI.
#[derive(Debug, Clone)]
pub struct MasterCli {
    path: PathBuf,
    timeout: Duration,
}

/// One process of `show proc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    pub kind: String,
    pub reloads: u64,
}

/// What `show proc` says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcList {
    pub master_pid: u32,
    /// How many reloads the master has done since it started.
    pub reloads: u64,
    /// How many of them failed (`[failed: N]`).
    pub failed: u64,
    /// The current workers.
    pub workers: Vec<Proc>,
}

impl MasterCli {
    pub fn new(path: impl Into<PathBuf>) -> MasterCli {
        MasterCli {
            path: path.into(),
            timeout: Duration::from_secs(10),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `show proc`.
    pub async fn show_proc(&self) -> Result<ProcList, RuntimeError> {
        let answer = command(&self.path, "show proc", self.timeout).await?;
        parse_show_proc(&answer).ok_or(RuntimeError::Unexpected {
            command: "show proc".into(),
            answer,
        })
    }

    /// Asks the master to reload. HAProxy 2.6 answers nothing; the outcome
    /// is read from `show proc` afterwards.
    pub async fn reload(&self) -> Result<(), RuntimeError> {
        command(&self.path, "reload", self.timeout)
            .await
            .map(|_| ())
    }

    /// Sends a command to worker 1 through the master (`@1 COMMAND`).
    pub async fn worker_command(&self, line: &str) -> Result<String, RuntimeError> {
        command(&self.path, &format!("@1 {line}"), self.timeout).await
    }
}

/// Parses `show proc`:
///
/// ```text
/// #<PID>          <type>          <reloads>       <uptime>        <version>
/// 1234            master          2 [failed: 1]   0d00h01m02s     2.6.12
/// # workers
/// 1300            worker          0               0d00h00m10s     2.6.12
/// ```
pub fn parse_show_proc(text: &str) -> Option<ProcList> {
    let mut list = ProcList::default();
    let mut seen_master = false;
    let mut section = "";
    for line in text.lines() {
        let line = line.trim();
        if let Some(title) = line.strip_prefix("# ") {
            section = title;
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(pid), Some(kind), Some(reloads)) = (fields.first(), fields.get(1), fields.get(2))
        else {
            continue;
        };
        let Ok(pid) = pid.parse() else { continue };
        let reloads = reloads.parse().unwrap_or(0);
        match *kind {
            "master" => {
                seen_master = true;
                list.master_pid = pid;
                list.reloads = reloads;
                if let Some(at) = line.find("[failed: ") {
                    let rest = &line[at + "[failed: ".len()..];
                    list.failed = rest
                        .split(']')
                        .next()
                        .and_then(|n| n.trim().parse().ok())
                        .unwrap_or(0);
                }
            }
            "worker" if section == "workers" || section.is_empty() => {
                list.workers.push(Proc {
                    pid,
                    kind: kind.to_string(),
                    reloads,
                });
            }
            _ => {}
        }
    }
    seen_master.then_some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_proc_of_2_6() {
        let text = "#<PID>          <type>          <reloads>       <uptime>        <version>\n\
1234            master          2 [failed: 1]   0d00h01m02s     2.6.12-1+deb12u3\n\
# workers\n\
1300            worker          0               0d00h00m10s     2.6.12-1+deb12u3\n\
# old workers\n\
1250            worker          1               0d00h01m00s     2.6.12-1+deb12u3\n\
# programs\n\n";
        let list = parse_show_proc(text).unwrap();
        assert_eq!(list.master_pid, 1234);
        assert_eq!((list.reloads, list.failed), (2, 1));
        assert_eq!(
            list.workers,
            vec![Proc {
                pid: 1300,
                kind: "worker".into(),
                reloads: 0
            }]
        );
        assert_eq!(parse_show_proc("Unknown command.\n"), None);
    }
}
