//! The runtime client: commands to one HAProxy worker, over its stats
//! socket (kept open in prompt mode and reused, commands pipelined) or
//! through the master CLI (`@1 COMMAND`, one connection per command).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use crate::socket::{self, RuntimeError};

/// Where a runtime socket listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Unix(PathBuf),
    /// `host:port`, loopback in practice.
    Tcp(String),
}

impl Endpoint {
    /// Reads the address of a `stats socket` line: `/path`, `unix@/path`,
    /// `ipv4@127.0.0.1:9999`, `ipv6@[::1]:9999`, `127.0.0.1:9999`.
    pub fn from_stats_socket(address: &str) -> Option<Endpoint> {
        if let Some(path) = address.strip_prefix("unix@") {
            return Some(Endpoint::Unix(PathBuf::from(path)));
        }
        if address.starts_with('/') || address.starts_with("./") {
            return Some(Endpoint::Unix(PathBuf::from(address)));
        }
        let host_port = address
            .strip_prefix("ipv4@")
            .or_else(|| address.strip_prefix("ipv6@"))
            .or_else(|| address.strip_prefix("tcp@"))
            .unwrap_or(address);
        let (host, port) = host_port.rsplit_once(':')?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return None;
        }
        Some(Endpoint::Tcp(host_port.to_owned()))
    }

    fn describe(&self) -> String {
        match self {
            Endpoint::Unix(path) => path.display().to_string(),
            Endpoint::Tcp(address) => address.clone(),
        }
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

/// A stats socket connection in prompt mode.
#[derive(Debug)]
struct Conn {
    stream: Box<dyn Stream>,
    last_used: Instant,
}

/// The prompt HAProxy prints after each answer in prompt mode.
const PROMPT: &[u8] = b"\n> ";

/// Idle connections kept for reuse.
const POOL: usize = 4;

/// A connection idle longer than this is not reused: HAProxy's default
/// `stats timeout` is 10 s.
const MAX_IDLE: Duration = Duration::from_secs(5);

/// A client of one HAProxy worker's runtime API.
#[derive(Debug)]
pub struct Runtime {
    endpoint: Endpoint,
    /// The master CLI socket when `endpoint` is one: commands go to
    /// worker 1, one connection each.
    master: Option<PathBuf>,
    timeout: Duration,
    idle: Mutex<Vec<Conn>>,
}

impl Runtime {
    /// A client of the stats socket at `endpoint` (level admin).
    pub fn stats_socket(endpoint: Endpoint) -> Runtime {
        Runtime {
            endpoint,
            master: None,
            timeout: Duration::from_secs(10),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A client that reaches worker 1 through the master CLI socket.
    pub fn via_master(path: impl Into<PathBuf>) -> Runtime {
        let path = path.into();
        Runtime {
            master: Some(path.clone()),
            ..Runtime::stats_socket(Endpoint::Unix(path))
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Runtime {
        self.timeout = timeout;
        self
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn is_via_master(&self) -> bool {
        self.master.is_some()
    }

    /// Forgets the open connections. After a reload they lead to the old
    /// worker, which must not receive commands (nor be kept alive by them).
    pub fn reset(&self) {
        self.idle.lock().expect("runtime pool").clear();
    }

    /// Runs one command and returns HAProxy's answer as text.
    pub async fn execute(&self, command: &str) -> Result<String, RuntimeError> {
        let mut answers = self.execute_all(&[command.to_owned()]).await?;
        Ok(answers.pop().unwrap_or_default())
    }

    /// Runs commands in order, pipelined on one connection, and returns
    /// one answer per command. A command may carry a payload after `<<\n`.
    pub async fn execute_all(&self, commands: &[String]) -> Result<Vec<String>, RuntimeError> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(path) = &self.master {
            let mut answers = Vec::with_capacity(commands.len());
            for command in commands {
                let line = format!("@1 {}", command);
                answers.push(socket::command(path, &line, self.timeout).await?);
            }
            return Ok(answers);
        }
        let display = self.endpoint.describe();
        let timeout = self.timeout;
        let pooled = self.take_idle();
        let fresh = pooled.is_none();
        let conn = match pooled {
            Some(conn) => conn,
            None => self.connect_prompt().await?,
        };
        match tokio::time::timeout(timeout, exchange(conn, commands)).await {
            Ok(Ok((conn, answers))) => {
                self.put_idle(conn);
                Ok(answers)
            }
            // A reused connection HAProxy closed while idle: nothing was
            // read, so nothing ran. Once more on a new connection.
            Ok(Err(Failure::Closed)) if !fresh => {
                let conn = self.connect_prompt().await?;
                match tokio::time::timeout(timeout, exchange(conn, commands)).await {
                    Ok(Ok((conn, answers))) => {
                        self.put_idle(conn);
                        Ok(answers)
                    }
                    Ok(Err(f)) => Err(f.into_error(&display)),
                    Err(_) => Err(RuntimeError::Timeout {
                        path: display,
                        timeout,
                    }),
                }
            }
            Ok(Err(f)) => Err(f.into_error(&display)),
            Err(_) => Err(RuntimeError::Timeout {
                path: display,
                timeout,
            }),
        }
    }

    fn take_idle(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().expect("runtime pool");
        while let Some(conn) = idle.pop() {
            if conn.last_used.elapsed() < MAX_IDLE {
                return Some(conn);
            }
        }
        None
    }

    fn put_idle(&self, mut conn: Conn) {
        conn.last_used = Instant::now();
        let mut idle = self.idle.lock().expect("runtime pool");
        if idle.len() < POOL {
            idle.push(conn);
        }
    }

    async fn connect(&self) -> Result<Box<dyn Stream>, RuntimeError> {
        let error = |source| RuntimeError::Connect {
            path: self.endpoint.describe(),
            source,
        };
        let stream: Box<dyn Stream> = match &self.endpoint {
            Endpoint::Unix(path) => Box::new(UnixStream::connect(path).await.map_err(error)?),
            Endpoint::Tcp(address) => {
                Box::new(TcpStream::connect(address.as_str()).await.map_err(error)?)
            }
        };
        Ok(stream)
    }

    /// A new connection, switched to prompt mode.
    async fn connect_prompt(&self) -> Result<Conn, RuntimeError> {
        let display = self.endpoint.describe();
        let setup = async {
            let mut stream = self.connect().await?;
            stream
                .write_all(b"prompt\n")
                .await
                .map_err(|source| RuntimeError::Io {
                    path: display.clone(),
                    source,
                })?;
            let mut buf = Vec::new();
            read_answers(&mut stream, &mut buf, 1)
                .await
                .map_err(|f| f.into_error(&display))?;
            Ok(Conn {
                stream,
                last_used: Instant::now(),
            })
        };
        match tokio::time::timeout(self.timeout, setup).await {
            Ok(result) => result,
            Err(_) => Err(RuntimeError::Timeout {
                path: display,
                timeout: self.timeout,
            }),
        }
    }
}

/// The bytes sent for a command: a payload (`cmd <<\nline...`) ends with
/// an empty line, a plain command with its newline.
pub(crate) fn wire(command: &str) -> Vec<u8> {
    let mut bytes = command.trim_end_matches('\n').as_bytes().to_vec();
    bytes.push(b'\n');
    if command.contains("<<\n") {
        bytes.push(b'\n');
    }
    bytes
}

enum Failure {
    /// The connection ended before any byte of an answer.
    Closed,
    /// It ended in the middle of an answer.
    Truncated,
    Io(std::io::Error),
}

impl Failure {
    fn into_error(self, path: &str) -> RuntimeError {
        let source = match self {
            Failure::Closed => std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "HAProxy closed the connection",
            ),
            Failure::Truncated => std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "HAProxy closed the connection in the middle of an answer",
            ),
            Failure::Io(e) => e,
        };
        RuntimeError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

async fn exchange(mut conn: Conn, commands: &[String]) -> Result<(Conn, Vec<String>), Failure> {
    let mut out = Vec::new();
    for command in commands {
        out.extend_from_slice(&wire(command));
    }
    conn.stream.write_all(&out).await.map_err(Failure::Io)?;
    let mut buf = Vec::new();
    let answers = read_answers(&mut conn.stream, &mut buf, commands.len()).await?;
    Ok((conn, answers))
}

/// Reads `count` answers, each ended by the prompt.
async fn read_answers(
    stream: &mut Box<dyn Stream>,
    buf: &mut Vec<u8>,
    count: usize,
) -> Result<Vec<String>, Failure> {
    let mut answers = Vec::with_capacity(count);
    let mut start = 0;
    let mut scan = 0;
    let mut chunk = vec![0u8; 64 * 1024];
    while answers.len() < count {
        // An answer ends at "\n> "; the first byte of the connection may be
        // the "\n" of an empty answer.
        if let Some(at) = find_prompt(&buf[scan..]) {
            let end = scan + at;
            let body = &buf[start..end];
            answers.push(String::from_utf8_lossy(body).into_owned());
            start = end + PROMPT.len();
            scan = start;
            continue;
        }
        scan = buf.len().saturating_sub(PROMPT.len() - 1).max(start);
        let n = stream.read(&mut chunk).await.map_err(Failure::Io)?;
        if n == 0 {
            return Err(if buf.is_empty() {
                Failure::Closed
            } else {
                Failure::Truncated
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(answers)
}

fn find_prompt(bytes: &[u8]) -> Option<usize> {
    bytes.windows(PROMPT.len()).position(|w| w == PROMPT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_socket_addresses() {
        assert_eq!(
            Endpoint::from_stats_socket("/run/haproxy/admin.sock"),
            Some(Endpoint::Unix("/run/haproxy/admin.sock".into()))
        );
        assert_eq!(
            Endpoint::from_stats_socket("unix@/tmp/s"),
            Some(Endpoint::Unix("/tmp/s".into()))
        );
        assert_eq!(
            Endpoint::from_stats_socket("ipv4@127.0.0.1:9999"),
            Some(Endpoint::Tcp("127.0.0.1:9999".into()))
        );
        assert_eq!(
            Endpoint::from_stats_socket("127.0.0.1:9999"),
            Some(Endpoint::Tcp("127.0.0.1:9999".into()))
        );
        assert_eq!(Endpoint::from_stats_socket("abns@foo"), None);
    }

    #[test]
    fn payloads_end_with_an_empty_line() {
        assert_eq!(wire("show info"), b"show info\n");
        assert_eq!(
            wire("set ssl cert a.pem <<\n-----BEGIN\n"),
            b"set ssl cert a.pem <<\n-----BEGIN\n\n"
        );
    }

    #[tokio::test]
    async fn answers_are_split_at_the_prompt() {
        let (client, mut server) = tokio::io::duplex(64);
        tokio::spawn(async move {
            // Small writes: the prompt arrives split across reads.
            for part in [&b"\n"[..], b"> New server", b" registered.\n\n", b"> \n> "] {
                server.write_all(part).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        let mut stream: Box<dyn Stream> = Box::new(client);
        let mut buf = Vec::new();
        let answers = read_answers(&mut stream, &mut buf, 3).await.ok().unwrap();
        assert_eq!(answers, vec!["", "New server registered.\n", ""]);
    }
}
