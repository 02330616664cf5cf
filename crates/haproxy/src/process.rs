//! A HAProxy started in master-worker mode (`haproxy -W -db -S SOCKET -f
//! FILE`), owned by whoever started it: stopped by its PID when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("haproxy exited at start-up ({status}): {output}")]
    Exited { status: String, output: String },
    #[error("haproxy's master socket {0} did not appear within 10 s")]
    NoSocket(String),
}

/// A running master-worker HAProxy.
#[derive(Debug)]
pub struct MasterWorker {
    child: Child,
    socket: PathBuf,
}

impl MasterWorker {
    /// Starts HAProxy on `config` with its master CLI on `socket`, and waits
    /// until the socket exists.
    pub fn start(
        binary: &Path,
        config: &Path,
        socket: &Path,
    ) -> Result<MasterWorker, ProcessError> {
        MasterWorker::start_files(binary, &[config], socket)
    }

    /// Like [`MasterWorker::start`], on a configuration of several files
    /// (or directories), loaded in order (`-f A -f B ...`).
    pub fn start_files(
        binary: &Path,
        configs: &[&Path],
        socket: &Path,
    ) -> Result<MasterWorker, ProcessError> {
        MasterWorker::start_with_env(binary, configs, socket, &[])
    }

    /// Like [`MasterWorker::start_files`], with `env` added to HAProxy's
    /// environment (which `${NAME}` in the configuration reads).
    pub fn start_with_env(
        binary: &Path,
        configs: &[&Path],
        socket: &Path,
        env: &[(&str, &str)],
    ) -> Result<MasterWorker, ProcessError> {
        let _ = std::fs::remove_file(socket);
        let log = tempfile::tempfile().ok();
        let stderr = log
            .as_ref()
            .and_then(|f| f.try_clone().ok())
            .map_or(Stdio::null(), Stdio::from);
        let child = Command::new(binary)
            .arg("-W")
            .arg("-db")
            .arg("-S")
            .arg(socket)
            .args(configs.iter().flat_map(|c| [Path::new("-f"), c]))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|source| ProcessError::Spawn {
                binary: binary.display().to_string(),
                source,
            })?;
        let mut instance = MasterWorker {
            child,
            socket: socket.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = instance.child.try_wait() {
                let output = log.map(read_all).unwrap_or_default();
                return Err(ProcessError::Exited {
                    status: status.to_string(),
                    output,
                });
            }
            if socket.exists() {
                return Ok(instance);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        instance.stop();
        Err(ProcessError::NoSocket(socket.display().to_string()))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Stops the master (and so its workers): SIGTERM by PID, SIGKILL if it
    /// has not exited after 5 s.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for MasterWorker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn read_all(mut file: std::fs::File) -> String {
    use std::io::{Read, Seek};
    let _ = file.rewind();
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    text
}
