//! Backends and servers: `show backend`, `show servers state`, `set
//! server`, `add server`, `del server`, `enable`/`disable`.

use crate::client::Runtime;
use crate::socket::{arg, RuntimeError};

/// A server's administrative state, as `set server ... state` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminState {
    Ready,
    Drain,
    Maint,
}

impl AdminState {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminState::Ready => "ready",
            AdminState::Drain => "drain",
            AdminState::Maint => "maint",
        }
    }

    pub fn parse(text: &str) -> Option<AdminState> {
        match text {
            "ready" => Some(AdminState::Ready),
            "drain" => Some(AdminState::Drain),
            "maint" => Some(AdminState::Maint),
            _ => None,
        }
    }

    /// From `srv_admin_state` of `show servers state`, a bit field: any
    /// maintenance bit (forced, inherited, config, resolution, address)
    /// wins over the drain bits.
    pub fn from_bits(bits: u32) -> AdminState {
        const MAINT: u32 = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
        const DRAIN: u32 = 0x08 | 0x10;
        if bits & MAINT != 0 {
            AdminState::Maint
        } else if bits & DRAIN != 0 {
            AdminState::Drain
        } else {
            AdminState::Ready
        }
    }
}

/// A server's operational state, as `set server ... health` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationalState {
    Up,
    Down,
    Stopping,
}

impl OperationalState {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationalState::Up => "up",
            OperationalState::Down => "down",
            OperationalState::Stopping => "stopping",
        }
    }

    pub fn parse(text: &str) -> Option<OperationalState> {
        match text {
            "up" => Some(OperationalState::Up),
            "down" => Some(OperationalState::Down),
            "stopping" => Some(OperationalState::Stopping),
            _ => None,
        }
    }

    /// From `srv_op_state`: 0 stopped, 1 starting, 2 running, 3 stopping.
    pub fn from_code(code: u32) -> OperationalState {
        match code {
            1 | 2 => OperationalState::Up,
            3 => OperationalState::Stopping,
            _ => OperationalState::Down,
        }
    }
}

/// One line of `show servers state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerState {
    pub backend_id: u32,
    pub backend: String,
    pub id: u32,
    pub name: String,
    pub address: String,
    pub operational: OperationalState,
    pub admin: AdminState,
    /// The weight set by the user (`srv_uweight`).
    pub weight: u32,
    /// The weight of the configuration (`srv_iweight`).
    pub initial_weight: u32,
    pub port: Option<u16>,
    pub fqdn: Option<String>,
    /// Seconds since the state last changed.
    pub last_change: u64,
    pub check_status: u32,
    pub check_result: u32,
    pub check_health: u32,
    pub check_state: u32,
    pub agent_state: u32,
    pub backend_forced_id: u32,
    pub forced_id: u32,
    pub srvrecord: Option<String>,
    pub use_ssl: bool,
    pub check_port: Option<u16>,
    pub check_address: Option<String>,
    pub agent_address: Option<String>,
    pub agent_port: Option<u16>,
}

/// Parses `show servers state` (format version 1).
pub fn parse_servers_state(text: &str) -> Vec<ServerState> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            if f.len() < 19 {
                return None;
            }
            let num = |i: usize| f[i].parse::<u32>().ok();
            let dash = |s: &str| (s != "-" && !s.is_empty()).then(|| s.to_owned());
            let at = |i: usize| f.get(i).copied().unwrap_or("-");
            let port = |i: usize| at(i).parse::<u16>().ok().filter(|p| *p != 0);
            let small = |i: usize| at(i).parse::<u32>().unwrap_or(0);
            Some(ServerState {
                backend_id: num(0)?,
                backend: f[1].to_owned(),
                id: num(2)?,
                name: f[3].to_owned(),
                address: f[4].to_owned(),
                operational: OperationalState::from_code(num(5)?),
                admin: AdminState::from_bits(num(6)?),
                weight: num(7)?,
                initial_weight: num(8)?,
                fqdn: dash(f[17]),
                port: port(18),
                last_change: at(9).parse().unwrap_or(0),
                check_status: small(10),
                check_result: small(11),
                check_health: small(12),
                check_state: small(13),
                agent_state: small(14),
                backend_forced_id: small(15),
                forced_id: small(16),
                srvrecord: dash(at(19)),
                use_ssl: at(20) == "1",
                check_port: port(21),
                check_address: dash(at(22)),
                agent_address: dash(at(23)),
                agent_port: port(24),
            })
        })
        .collect()
}

/// Parses `show backend`: one name per line after the `# name` title.
pub fn parse_backends(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// `backend/server`, both escaped.
fn target(backend: &str, server: &str) -> Result<String, RuntimeError> {
    Ok(format!("{}/{}", arg(backend)?, arg(server)?))
}

/// Succeeds when the answer is empty, else HAProxy's text is the error.
pub(crate) fn silent(command: &str, answer: &str) -> Result<(), RuntimeError> {
    if answer.trim().is_empty() {
        Ok(())
    } else {
        Err(RuntimeError::refused(command, answer))
    }
}

/// Succeeds when the answer contains `expected`.
pub(crate) fn saying(command: &str, answer: &str, expected: &str) -> Result<(), RuntimeError> {
    if answer.contains(expected) {
        Ok(())
    } else {
        Err(RuntimeError::refused(command, answer))
    }
}

/// A change to one server, as one `set server` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerChange {
    State(AdminState),
    Health(OperationalState),
    Weight(u32),
    /// A new address, and port if given.
    Address(String, Option<u16>),
    AgentAddress(String),
    AgentPort(u16),
    AgentSend(String),
    CheckAddress(String),
    CheckPort(u16),
}

impl ServerChange {
    /// The command that makes this change.
    pub fn command(&self, backend: &str, server: &str) -> Result<String, RuntimeError> {
        let t = target(backend, server)?;
        Ok(match self {
            ServerChange::State(s) => format!("set server {t} state {}", s.as_str()),
            ServerChange::Health(s) => format!("set server {t} health {}", s.as_str()),
            ServerChange::Weight(w) => format!("set server {t} weight {w}"),
            ServerChange::Address(a, None) => format!("set server {t} addr {}", arg(a)?),
            ServerChange::Address(a, Some(p)) => {
                format!("set server {t} addr {} port {p}", arg(a)?)
            }
            ServerChange::AgentAddress(a) => format!("set server {t} agent-addr {}", arg(a)?),
            ServerChange::AgentPort(p) => format!("set server {t} agent-port {p}"),
            ServerChange::AgentSend(s) => format!("set server {t} agent-send {}", arg(s)?),
            ServerChange::CheckAddress(a) => format!("set server {t} check-addr {}", arg(a)?),
            ServerChange::CheckPort(p) => format!("set server {t} check-port {p}"),
        })
    }

    /// Whether `answer` says the change was made.
    pub fn check(&self, command: &str, answer: &str) -> Result<(), RuntimeError> {
        match self {
            // "IP changed from ...", "no need to change the addr, ...".
            ServerChange::Address(..) => {
                if answer.contains("changed from") || answer.contains("no need to change") {
                    Ok(())
                } else {
                    Err(RuntimeError::refused(command, answer))
                }
            }
            _ => silent(command, answer),
        }
    }
}

impl Runtime {
    /// `show backend`: the names of the backends.
    pub async fn backends(&self) -> Result<Vec<String>, RuntimeError> {
        Ok(parse_backends(&self.execute("show backend").await?))
    }

    /// `show servers state [BACKEND]`.
    pub async fn servers_state(
        &self,
        backend: Option<&str>,
    ) -> Result<Vec<ServerState>, RuntimeError> {
        let command = match backend {
            Some(b) => format!("show servers state {}", arg(b)?),
            None => "show servers state".to_owned(),
        };
        let answer = self.execute(&command).await?;
        if !answer.starts_with('1') {
            return Err(RuntimeError::refused(&command, &answer));
        }
        Ok(parse_servers_state(&answer))
    }

    /// The state of one server.
    pub async fn server_state(
        &self,
        backend: &str,
        server: &str,
    ) -> Result<ServerState, RuntimeError> {
        self.servers_state(Some(backend))
            .await?
            .into_iter()
            .find(|s| s.name == server)
            .ok_or_else(|| RuntimeError::Refused {
                command: format!("show servers state {backend}"),
                message: format!("No such server {server} in backend {backend}."),
                kind: crate::Refusal::NotFound,
            })
    }

    /// Makes several changes to one server, pipelined; stops at the first
    /// HAProxy refuses.
    pub async fn set_server(
        &self,
        backend: &str,
        server: &str,
        changes: &[ServerChange],
    ) -> Result<(), RuntimeError> {
        let commands = changes
            .iter()
            .map(|c| c.command(backend, server))
            .collect::<Result<Vec<_>, _>>()?;
        let answers = self.execute_all(&commands).await?;
        for ((change, command), answer) in changes.iter().zip(&commands).zip(&answers) {
            change.check(command, answer)?;
        }
        Ok(())
    }

    /// `add server BACKEND/SERVER ARGS`: `args` are the words of a server
    /// line after the name (address first), already escaped. The server
    /// starts in maintenance, as HAProxy adds it.
    pub async fn add_server(
        &self,
        backend: &str,
        server: &str,
        args: &str,
    ) -> Result<(), RuntimeError> {
        let command = format!("add server {} {args}", target(backend, server)?);
        let answer = self.execute(&command).await?;
        saying(&command, &answer, "New server registered.")
    }

    /// `del server`: the server must be in maintenance and have no
    /// connection left.
    pub async fn del_server(&self, backend: &str, server: &str) -> Result<(), RuntimeError> {
        let command = format!("del server {}", target(backend, server)?);
        let answer = self.execute(&command).await?;
        saying(&command, &answer, "Server deleted.")
    }

    /// `enable|disable server|health|agent BACKEND/SERVER`.
    pub async fn toggle(
        &self,
        enable: bool,
        what: &str,
        backend: &str,
        server: &str,
    ) -> Result<(), RuntimeError> {
        let verb = if enable { "enable" } else { "disable" };
        let command = format!("{verb} {what} {}", target(backend, server)?);
        let answer = self.execute(&command).await?;
        silent(&command, &answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_state_of_2_6() {
        let text = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n\
3 be 1 s1 127.0.0.1 2 0 50 1 2 1 0 2 0 0 0 0 - 18081 - 0 0 - - 0\n\
3 be 2 s2 127.0.0.1 0 1 1 1 0 1 0 0 0 0 0 0 app.local 0 - 0 0 - - 0\n\n";
        let list = parse_servers_state(text);
        assert_eq!(list.len(), 2);
        assert_eq!(
            list[0],
            ServerState {
                backend_id: 3,
                backend: "be".into(),
                id: 1,
                name: "s1".into(),
                address: "127.0.0.1".into(),
                operational: OperationalState::Up,
                admin: AdminState::Ready,
                weight: 50,
                initial_weight: 1,
                port: Some(18081),
                fqdn: None,
                last_change: 2,
                check_status: 1,
                check_result: 0,
                check_health: 2,
                check_state: 0,
                agent_state: 0,
                backend_forced_id: 0,
                forced_id: 0,
                srvrecord: None,
                use_ssl: false,
                check_port: None,
                check_address: None,
                agent_address: None,
                agent_port: None,
            }
        );
        assert_eq!(list[1].admin, AdminState::Maint);
        assert_eq!(list[1].operational, OperationalState::Down);
        assert_eq!(list[1].fqdn.as_deref(), Some("app.local"));
        assert_eq!(list[1].port, None);
    }

    #[test]
    fn admin_bits() {
        assert_eq!(AdminState::from_bits(0), AdminState::Ready);
        assert_eq!(AdminState::from_bits(0x08), AdminState::Drain);
        assert_eq!(AdminState::from_bits(0x18 | 0x01), AdminState::Maint);
        assert_eq!(AdminState::from_bits(0x04), AdminState::Maint);
    }

    #[test]
    fn commands() {
        let c = ServerChange::Address("10.0.0.1".into(), Some(81));
        assert_eq!(
            c.command("be", "s1").unwrap(),
            "set server be/s1 addr 10.0.0.1 port 81"
        );
        assert!(c
            .check(
                "x",
                "IP changed from '127.0.0.1' to '10.0.0.1' by 'stats socket command'\n"
            )
            .is_ok());
        assert!(c
            .check("x", "Invalid addr 'foo' by 'stats socket command'\n")
            .is_err());
        let w = ServerChange::Weight(5);
        assert!(w.check("x", "").is_ok());
        assert!(w
            .check(
                "x",
                "Absolute weight can only be between 0 and 256 inclusive.\n"
            )
            .is_err());
    }
}
