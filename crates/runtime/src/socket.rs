//! Sending one command to a UNIX socket of HAProxy and reading the answer,
//! and the errors of the runtime API.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Why HAProxy refused a command, from the words of its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The backend, server, map, entry, table or certificate does not exist.
    NotFound,
    /// It exists already.
    AlreadyExists,
    /// Anything else: a bad argument, a state that forbids the command.
    Invalid,
}

impl Refusal {
    /// Classifies one of HAProxy's error answers.
    pub fn of(message: &str) -> Refusal {
        let lower = message.to_ascii_lowercase();
        const NOT_FOUND: [&str; 10] = [
            "no such",
            "not found",
            "unknown map identifier",
            "unknown acl identifier",
            "doesn't exist",
            "not referenced",
            "does not exist",
            "can't find",
            "unknown backend",
            "unknown certificate",
        ];
        if NOT_FOUND.iter().any(|w| lower.contains(w)) {
            Refusal::NotFound
        } else if lower.contains("already exist") {
            Refusal::AlreadyExists
        } else {
            Refusal::Invalid
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot connect to {path}: {source}")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("runtime socket {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("runtime socket {path} did not answer within {timeout:?}")]
    Timeout { path: String, timeout: Duration },
    #[error("unexpected answer to '{command}': {answer}")]
    Unexpected { command: String, answer: String },
    /// HAProxy answered the command with an error; `message` is its text.
    #[error("HAProxy refused `{command}`: {message}")]
    Refused {
        command: String,
        message: String,
        kind: Refusal,
    },
    /// An argument that cannot be sent (a newline in a key, say).
    #[error("{0}")]
    BadArgument(String),
}

impl RuntimeError {
    pub(crate) fn refused(command: &str, answer: &str) -> RuntimeError {
        let message = answer.trim().to_owned();
        RuntimeError::Refused {
            command: command.to_owned(),
            kind: Refusal::of(&message),
            message,
        }
    }

    /// True when HAProxy could not be reached at all (as opposed to
    /// answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            RuntimeError::Connect { .. } | RuntimeError::Io { .. } | RuntimeError::Timeout { .. }
        )
    }
}

/// Sends `line` (without newline), closes the writing side, and reads the
/// answer until HAProxy closes the connection.
pub async fn command(path: &Path, line: &str, timeout: Duration) -> Result<String, RuntimeError> {
    let display = path.display().to_string();
    let exchange = async {
        let mut stream =
            UnixStream::connect(path)
                .await
                .map_err(|source| RuntimeError::Connect {
                    path: display.clone(),
                    source,
                })?;
        let io = |source| RuntimeError::Io {
            path: display.clone(),
            source,
        };
        stream
            .write_all(&crate::client::wire(line))
            .await
            .map_err(io)?;
        // Closing our side tells HAProxy this is the only command: it
        // answers and closes (the master CLI would otherwise wait for more).
        stream.shutdown().await.map_err(io)?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.map_err(io)?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(RuntimeError::Timeout {
            path: display,
            timeout,
        }),
    }
}

/// One argument of a command, escaped so that HAProxy reads it as one
/// word: spaces, tabs, `;` and backslashes get a backslash. Line
/// breaks cannot be sent.
pub fn arg(value: &str) -> Result<String, RuntimeError> {
    if value.contains(['\n', '\r']) {
        return Err(RuntimeError::BadArgument(format!(
            "'{}' contains a line break, which the runtime API cannot carry",
            value.escape_debug()
        )));
    }
    if value.is_empty() {
        return Err(RuntimeError::BadArgument("an argument is empty".into()));
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, ' ' | '\t' | ';' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_classified_by_their_words() {
        assert_eq!(Refusal::of("No such server."), Refusal::NotFound);
        assert_eq!(Refusal::of("Key not found."), Refusal::NotFound);
        assert_eq!(
            Refusal::of("Unknown map identifier. Please use #<id> or <file>."),
            Refusal::NotFound
        );
        assert_eq!(
            Refusal::of("Already exists a server with the same name in backend."),
            Refusal::AlreadyExists
        );
        assert_eq!(
            Refusal::of("'set server <srv> state' expects 'ready', 'drain' and 'maint'."),
            Refusal::Invalid
        );
    }

    #[test]
    fn arguments_are_escaped() {
        assert_eq!(arg("c d;e\\").unwrap(), "c\\ d\\;e\\\\");
        assert!(arg("a\nb").is_err());
        assert!(arg("").is_err());
    }
}
