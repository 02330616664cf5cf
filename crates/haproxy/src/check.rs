//! `haproxy -c`: validation of a configuration.
//!
//! [`check_bytes`] writes the bytes to a temporary file *beside* the target
//! (so relative paths in the configuration resolve as they will when
//! deployed) and runs the checker on it. Its output is parsed into
//! [`Message`]s, each with the line it is about when HAProxy says it
//! (`[ALERT] ... : config : parsing [FILE:LINE] : message`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How serious a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Alert,
    Warning,
    Notice,
}

/// One message of HAProxy's checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    /// The configuration line the message is about, when it names one of
    /// the checked files.
    pub line: Option<usize>,
    /// Which of the checked files that line is in (0 when one was checked).
    pub file: Option<usize>,
    /// The message text, without HAProxy's prefix.
    pub text: String,
}

/// A successful check: the warnings HAProxy printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub messages: Vec<Message>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("cannot run {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("cannot write a temporary configuration in {dir}: {source}")]
    TempFile { dir: String, source: std::io::Error },
    /// HAProxy rejected the configuration.
    #[error("configuration rejected by haproxy: {}", summary(.messages, .output))]
    Rejected {
        messages: Vec<Message>,
        output: String,
    },
}

fn summary(messages: &[Message], output: &str) -> String {
    let alerts: Vec<String> = messages
        .iter()
        .filter(|m| m.level == Level::Alert)
        .map(|m| match m.line {
            Some(l) => format!("line {l}: {}", m.text),
            None => m.text.clone(),
        })
        .collect();
    if alerts.is_empty() {
        output.trim().to_owned()
    } else {
        alerts.join("; ")
    }
}

/// Checks the configuration file at `path` with `binary -c -f path`.
pub fn check_file(binary: &Path, path: &Path) -> Result<Checked, CheckError> {
    let mut command = Command::new(binary);
    command.arg("-c").arg("-f").arg(path);
    run(
        command,
        &binary.display().to_string(),
        &[path.to_path_buf()],
    )
}

/// Checks `bytes` as if they were the file at `target`: they are written to
/// a temporary file in the same directory, checked, and the file removed.
pub fn check_bytes(binary: &Path, target: &Path, bytes: &[u8]) -> Result<Checked, CheckError> {
    check_bytes_between(binary, target, bytes, &[], &[])
}

/// Like [`check_bytes`], with other files loaded before and after it
/// (`haproxy -c -f BEFORE... -f FILE -f AFTER...`), as HAProxy will load
/// them when deployed.
pub fn check_bytes_between(
    binary: &Path,
    target: &Path,
    bytes: &[u8],
    before: &[PathBuf],
    after: &[PathBuf],
) -> Result<Checked, CheckError> {
    let set = [SetFile {
        target,
        bytes: Some(bytes),
    }];
    check_set(binary, &set, before, after)
}

/// One file of a configuration read from several: where it is deployed,
/// and the bytes to check in its place (`None`: the file as it is).
#[derive(Debug, Clone, Copy)]
pub struct SetFile<'a> {
    pub target: &'a Path,
    pub bytes: Option<&'a [u8]>,
}

/// Checks a configuration of several files, in order, as HAProxy loads
/// them (`haproxy -c -f BEFORE... -f FILE... -f AFTER...`): each file with
/// bytes is checked from a temporary file beside its target. A message's
/// `file` is the index in `set` of the file it names.
pub fn check_set(
    binary: &Path,
    set: &[SetFile<'_>],
    before: &[PathBuf],
    after: &[PathBuf],
) -> Result<Checked, CheckError> {
    let (_temps, paths) = set_paths(set)?;
    let mut command = Command::new(binary);
    command.arg("-c");
    for path in before {
        command.arg("-f").arg(path);
    }
    for path in &paths {
        command.arg("-f").arg(path);
    }
    for path in after {
        command.arg("-f").arg(path);
    }
    run(command, &binary.display().to_string(), &paths)
}

/// The paths a set is checked from: temporary files (kept alive by the
/// first value) for those with bytes, the targets for the others.
fn set_paths(
    set: &[SetFile<'_>],
) -> Result<(Vec<tempfile::NamedTempFile>, Vec<PathBuf>), CheckError> {
    let mut temps = Vec::new();
    let mut paths = Vec::new();
    for file in set {
        match file.bytes {
            Some(bytes) => {
                let temp = temp_beside(file.target, bytes)?;
                paths.push(temp.path().to_path_buf());
                temps.push(temp);
            }
            None => paths.push(file.target.to_path_buf()),
        }
    }
    Ok((temps, paths))
}

/// Like [`check_bytes`], with a command of the user's instead of
/// `haproxy -c`: `sh -c "COMMAND FILE"`; exit status 0 means valid.
pub fn check_bytes_with(command: &str, target: &Path, bytes: &[u8]) -> Result<Checked, CheckError> {
    let set = [SetFile {
        target,
        bytes: Some(bytes),
    }];
    check_set_with(command, &set)
}

/// Like [`check_set`], with a command of the user's: `sh -c "COMMAND
/// FILE..."`, every file of the set in order; exit status 0 means valid.
pub fn check_set_with(command: &str, set: &[SetFile<'_>]) -> Result<Checked, CheckError> {
    let (_temps, paths) = set_paths(set)?;
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(format!("{command} \"$@\""))
        .arg("validate")
        .args(&paths);
    run(shell, "sh", &paths)
}

fn temp_beside(target: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, CheckError> {
    let dir: PathBuf = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let temp_error = |source| CheckError::TempFile {
        dir: dir.display().to_string(),
        source,
    };
    let mut file = tempfile::Builder::new()
        .prefix(".haplane-check-")
        .suffix(".cfg")
        .tempfile_in(&dir)
        .map_err(temp_error)?;
    file.write_all(bytes).map_err(temp_error)?;
    file.flush().map_err(temp_error)?;
    Ok(file)
}

fn run(mut command: Command, binary: &str, paths: &[PathBuf]) -> Result<Checked, CheckError> {
    let out = command.output().map_err(|source| CheckError::Spawn {
        binary: binary.to_owned(),
        source,
    })?;
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let messages = parse_messages(&output, &names);
    if out.status.success() {
        Ok(Checked { messages })
    } else {
        Err(CheckError::Rejected { messages, output })
    }
}

/// Parses HAProxy's checker output. Lines naming `[FILE:LINE]` of one of
/// `files` get that line number and the file's index.
pub fn parse_messages(output: &str, files: &[&str]) -> Vec<Message> {
    let mut out = Vec::new();
    for raw in output.lines() {
        let level = if raw.starts_with("[ALERT]") {
            Level::Alert
        } else if raw.starts_with("[WARNING]") {
            Level::Warning
        } else if raw.starts_with("[NOTICE]") {
            Level::Notice
        } else {
            continue;
        };
        // `[ALERT]    (1234) : config : parsing [f.cfg:12] : message`
        let body = raw.split_once(" : ").map_or(raw, |(_, b)| b);
        let mut line = None;
        let mut file = None;
        let mut text = body.to_owned();
        let found = files.iter().enumerate().find_map(|(index, name)| {
            let marker = format!("[{name}:");
            body.find(&marker).map(|at| (index, at, marker.len()))
        });
        if let Some((index, at, len)) = found {
            let rest = &body[at + len..];
            if let Some(end) = rest.find(']') {
                line = rest[..end].parse().ok();
                file = line.map(|_| index);
                let after = rest[end + 1..].trim_start_matches([' ', ':']);
                let before = body[..at].trim_end().trim_end_matches(':').trim_end();
                let before = before.strip_prefix("config : ").unwrap_or(before);
                text = if before.is_empty() || before == "config" || before == "parsing" {
                    after.to_owned()
                } else {
                    format!("{before}: {after}")
                };
            }
        }
        out.push(Message {
            level,
            line,
            file,
            text,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn messages_are_located() {
        let output = "[NOTICE]   (9) : haproxy version is 2.6.12\n\
[ALERT]    (9) : config : parsing [/tmp/x.cfg:12] : 'server s1' : invalid port '99999'\n\
[ALERT]    (9) : config : Error(s) found in configuration file : /tmp/x.cfg\n\
[WARNING]  (9) : config : parsing [/tmp/x.cfg:3] : 'option httplog' not usable with frontend 'f' (needs 'mode http').\n";
        expect![[r#"
            [
                Message {
                    level: Notice,
                    line: None,
                    file: None,
                    text: "haproxy version is 2.6.12",
                },
                Message {
                    level: Alert,
                    line: Some(
                        12,
                    ),
                    file: Some(
                        0,
                    ),
                    text: "'server s1' : invalid port '99999'",
                },
                Message {
                    level: Alert,
                    line: None,
                    file: None,
                    text: "config : Error(s) found in configuration file : /tmp/x.cfg",
                },
                Message {
                    level: Warning,
                    line: Some(
                        3,
                    ),
                    file: Some(
                        0,
                    ),
                    text: "'option httplog' not usable with frontend 'f' (needs 'mode http').",
                },
            ]
        "#]]
        .assert_debug_eq(&parse_messages(output, &["/tmp/x.cfg"]));
    }
}
