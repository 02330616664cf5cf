//! The only crate that runs HAProxy's program: `haproxy -c` on exact bytes,
//! with its output parsed into messages located by file and line; the
//! version probe; and a master-worker HAProxy owned by its starter.

mod check;
mod process;

pub use check::{
    check_bytes, check_bytes_between, check_bytes_with, check_file, check_set, check_set_with,
    parse_messages, CheckError, Checked, Level, Message, SetFile,
};
pub use process::{MasterWorker, ProcessError};

/// The `haproxy -v` first line, e.g. `HAProxy version 2.6.12-1+deb12u3 ...`.
pub fn version(binary: &std::path::Path) -> Result<String, CheckError> {
    let out = std::process::Command::new(binary)
        .arg("-v")
        .output()
        .map_err(|source| CheckError::Spawn {
            binary: binary.display().to_string(),
            source,
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// The major and minor version of a `haproxy -v` first line (`2.6` of
/// `HAProxy version 2.6.12-1+deb12u3 ...`).
pub fn major_minor(line: &str) -> Option<(u32, u32)> {
    let word = line
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)?;
    let mut parts = word.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Runs a user's shell command (`--reload-cmd`, `--restart-cmd`): whether it
/// succeeded, and what it printed.
pub fn run_shell(command: &str) -> (bool, String) {
    match std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .output()
    {
        Ok(out) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text.trim().to_owned())
        }
        Err(e) => (false, format!("cannot run '{command}': {e}")),
    }
}
