//! Sending one command to a UNIX socket of HAProxy and reading the answer.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

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
            .write_all(format!("{line}\n").as_bytes())
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
