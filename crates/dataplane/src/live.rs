//! Changes HAProxy can take without a reload. A commit compares the new
//! configuration with the old one; when the only differences are server
//! lines of backends, and each difference is one the runtime API can make
//! (see [`plan`]), the change is applied through the stats socket after
//! the file is written, and nothing reloads.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use haplane_cfg::{Document, LineKind, LineRef, SectionKind, SectionRef};
use haplane_model::{read_child, ChildKind};
use haplane_runtime::{arg, AdminState, Runtime, RuntimeError, ServerChange};
use serde_json::{Map, Value};

/// One runtime operation on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `set server` commands for an existing server.
    Set {
        backend: String,
        server: String,
        changes: Vec<ServerChange>,
    },
    /// `add server` with the line's words, then `enable server` (unless the
    /// line says `disabled`), `enable health` with `check`, `enable agent`
    /// with `agent-check`.
    Add {
        backend: String,
        server: String,
        args: String,
        enable: bool,
        health: bool,
        agent: bool,
    },
    /// Maintenance, then `del server` once its connections are gone.
    Delete { backend: String, server: String },
}

/// The runtime steps that turn `old` into `new`, or `None` when the change
/// needs a reload.
///
/// Applied at runtime:
/// - a server's `weight`, `maintenance`, `address`/`port` (an IP address),
///   `agent-addr`, `agent-port`, `agent-send`, `health_check_address`,
///   `health_check_port`;
/// - a new server with an IP address, in a backend where no
///   `default-server` applies (a dynamic server would not inherit it);
///   HAProxy itself refuses backends whose algorithm is not dynamic, and
///   that refusal falls back to a reload;
/// - deleting a server.
///
/// Anything else (another keyword, another section, servers reordered)
/// reloads.
pub fn plan(old: &Document, new: &Document) -> Option<Vec<Step>> {
    let meaningful = |l: &LineRef<'_>| {
        !matches!(
            l.kind(),
            LineKind::Version | LineKind::Blank | LineKind::Comment
        )
    };
    if !same_lines(
        old.preamble().filter(meaningful),
        new.preamble().filter(meaningful),
    ) {
        return None;
    }
    // Only the sections between those both share can differ, and the
    // runtime API cannot add or remove one.
    let change = new.section_change(old);
    if change.drop != change.inserted.len() {
        return None;
    }
    let old_sections: Vec<SectionRef<'_>> = old
        .sections_at(change.keep..change.keep + change.drop)
        .collect();
    let new_sections: Vec<SectionRef<'_>> = new.sections_at(change.inserted).collect();
    let defaults_have_default_server = new
        .sections_of(SectionKind::Defaults)
        .any(|s| has_keyword(&s, "default-server"));
    let mut steps = Vec::new();
    for (a, b) in old_sections.iter().zip(&new_sections) {
        if a.kind() != b.kind() || a.header().bytes() != b.header().bytes() {
            return None;
        }
        let unchanged = a.len() == b.len()
            && a.lines()
                .zip(b.lines())
                .all(|(x, y)| x.bytes() == y.bytes());
        if unchanged {
            continue;
        }
        if !matches!(a.kind(), SectionKind::Backend | SectionKind::Listen) {
            return None;
        }
        let backend = a.name()?;
        let dynamic_ok = !defaults_have_default_server && !has_keyword(b, "default-server");
        steps.extend(backend_steps(&backend, a, b, dynamic_ok)?);
    }
    Some(steps)
}

fn same_lines<'a>(
    a: impl Iterator<Item = LineRef<'a>>,
    b: impl Iterator<Item = LineRef<'a>>,
) -> bool {
    a.map(|l| l.bytes()).eq(b.map(|l| l.bytes()))
}

fn has_keyword(section: &SectionRef<'_>, keyword: &str) -> bool {
    section
        .keyword_lines()
        .any(|(_, l)| l.words().first().is_some_and(|w| w.value == keyword))
}

/// A server line: its name, its JSON and its words.
struct ServerLine {
    name: String,
    json: Map<String, Value>,
    words: Vec<String>,
}

/// The server lines in order, and the other keyword lines.
fn split(section: &SectionRef<'_>) -> (Vec<ServerLine>, Vec<Vec<u8>>) {
    let mut servers = Vec::new();
    let mut others = Vec::new();
    for (_, line) in section.keyword_lines() {
        if let Some(json) = read_child(ChildKind::Server, &line) {
            let words = line.words().iter().map(|w| w.value.to_string()).collect();
            let name = json
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            servers.push(ServerLine { name, json, words });
            continue;
        }
        others.push(line.bytes().to_vec());
    }
    (servers, others)
}

fn backend_steps(
    backend: &str,
    old: &SectionRef<'_>,
    new: &SectionRef<'_>,
    dynamic_ok: bool,
) -> Option<Vec<Step>> {
    let (old_servers, old_others) = split(old);
    let (new_servers, new_others) = split(new);
    if old_others != new_others {
        return None;
    }
    let old_by_name: HashMap<&str, &Map<String, Value>> = old_servers
        .iter()
        .map(|s| (s.name.as_str(), &s.json))
        .collect();
    let new_names: Vec<&str> = new_servers.iter().map(|s| s.name.as_str()).collect();
    // Servers that stay keep their order.
    let kept_old: Vec<&str> = old_servers
        .iter()
        .map(|s| s.name.as_str())
        .filter(|n| new_names.contains(n))
        .collect();
    let kept_new: Vec<&str> = new_names
        .iter()
        .copied()
        .filter(|n| old_by_name.contains_key(n))
        .collect();
    if kept_old != kept_new {
        return None;
    }
    let mut steps = Vec::new();
    for old in &old_servers {
        if !new_names.contains(&old.name.as_str()) {
            steps.push(Step::Delete {
                backend: backend.to_owned(),
                server: old.name.clone(),
            });
        }
    }
    for ServerLine { name, json, words } in &new_servers {
        match old_by_name.get(name.as_str()) {
            Some(before) if *before == json => {}
            Some(before) => steps.push(Step::Set {
                backend: backend.to_owned(),
                server: name.clone(),
                changes: changes(before, json)?,
            }),
            None => {
                if !dynamic_ok {
                    return None;
                }
                steps.push(add_step(backend, name, json, words)?);
            }
        }
    }
    Some(steps)
}

fn add_step(
    backend: &str,
    name: &str,
    json: &Map<String, Value>,
    words: &[String],
) -> Option<Step> {
    let address = json.get("address").and_then(Value::as_str)?;
    address.parse::<IpAddr>().ok()?;
    // `server NAME ADDRESS PARAMS...`
    Step::add(backend, name, words.get(2..)?).ok()
}

impl Step {
    /// Adding server `name` with the words of its line after the name
    /// (address first, then params).
    pub fn add(backend: &str, name: &str, rest: &[String]) -> Result<Step, RuntimeError> {
        let args = dynamic_words(rest)
            .iter()
            .map(|w| arg(w))
            .collect::<Result<Vec<_>, _>>()?
            .join(" ");
        let has = |w: &str| rest.iter().skip(1).any(|x| x == w);
        Ok(Step::Add {
            backend: backend.to_owned(),
            server: name.to_owned(),
            args,
            enable: !has("disabled"),
            health: has("check"),
            agent: has("agent-check"),
        })
    }
}

/// The words of a server line as `add server` takes them. A server added
/// at runtime inherits nothing (no `default-server`), so `no-check` and
/// the like say what it already is, and HAProxy refuses them; it is not
/// resolved (init-addr none), so the settings of DNS resolution mean
/// nothing for it. Both are left out; everything else goes as written.
fn dynamic_words(rest: &[String]) -> Vec<String> {
    /// The `no-` keywords `add server` takes (HAProxy's management guide).
    const NEGATIONS: &[&str] = &[
        "no-ssl-reuse",
        "no-sslv3",
        "no-tlsv10",
        "no-tlsv11",
        "no-tlsv12",
        "no-tlsv13",
        "no-tls-tickets",
    ];
    const RESOLUTION: &[&str] = &["resolve-net", "resolve-opts", "resolve-prefer", "init-addr"];
    let mut out = Vec::with_capacity(rest.len());
    let mut words = rest.iter();
    // The address comes first.
    out.extend(words.next().cloned());
    while let Some(word) = words.next() {
        if RESOLUTION.contains(&word.as_str()) {
            words.next();
            continue;
        }
        if word.starts_with("no-") && !NEGATIONS.contains(&word.as_str()) {
            continue;
        }
        out.push(word.clone());
    }
    out
}

/// The `set server` changes from one server JSON to another, if every
/// difference is one the runtime can make.
fn changes(old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Vec<ServerChange>> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    let mut address_changed = false;
    for key in keys {
        let (a, b) = (old.get(key), new.get(key));
        if a == b {
            continue;
        }
        let text = || b.and_then(Value::as_str).map(str::to_owned);
        let port = || {
            b.and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
        };
        match key.as_str() {
            "weight" => {
                let weight = match b {
                    None => 1,
                    Some(v) => u32::try_from(v.as_u64()?).ok()?,
                };
                out.push(ServerChange::Weight(weight));
            }
            "maintenance" => out.push(ServerChange::State(
                if b.and_then(Value::as_str) == Some("enabled") {
                    AdminState::Maint
                } else {
                    AdminState::Ready
                },
            )),
            "address" | "port" => address_changed = true,
            "agent-addr" => out.push(ServerChange::AgentAddress(text()?)),
            "agent-port" => out.push(ServerChange::AgentPort(port()?)),
            "agent-send" => out.push(ServerChange::AgentSend(text()?)),
            "health_check_address" => out.push(ServerChange::CheckAddress(text()?)),
            "health_check_port" => out.push(ServerChange::CheckPort(port()?)),
            _ => return None,
        }
    }
    if address_changed {
        let address = new.get("address").and_then(Value::as_str)?;
        address.parse::<IpAddr>().ok()?;
        let port = match new.get("port") {
            None => None,
            Some(p) => Some(u16::try_from(p.as_u64()?).ok()?),
        };
        // A port cannot be taken away at runtime.
        if port.is_none() && old.get("port").is_some() {
            return None;
        }
        out.push(ServerChange::Address(address.to_owned(), port));
    }
    Some(out)
}

/// How long a deleted server may keep connections before the change falls
/// back to a reload.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a backend or server the file had before the change, and
/// HAProxy says it does not know, is asked for again: HAProxy may still be
/// loading the file (a reload started elsewhere, such as by the tool that
/// wrote the file).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs `command` until HAProxy knows what it names, for at most
/// [`SETTLE_TIMEOUT`]; any other answer is returned as it is.
async fn once_known<F, Fut>(mut command: F) -> Result<(), RuntimeError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), RuntimeError>>,
{
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        match command().await {
            Err(RuntimeError::Refused {
                kind: haplane_runtime::Refusal::NotFound,
                ..
            }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// Applies the steps in order. The first refusal stops it: the caller
/// reloads, which brings HAProxy to the file whatever was done.
pub async fn apply(runtime: &Runtime, steps: &[Step]) -> Result<(), RuntimeError> {
    for step in steps {
        match step {
            Step::Set {
                backend,
                server,
                changes,
            } => once_known(|| runtime.set_server(backend, server, changes)).await?,
            Step::Add {
                backend,
                server,
                args,
                enable,
                health,
                agent,
            } => {
                once_known(|| runtime.add_server(backend, server, args)).await?;
                tracing::info!("backend {backend}: server {server} added through runtime");
                if *health {
                    runtime.toggle(true, "health", backend, server).await?;
                }
                if *agent {
                    runtime.toggle(true, "agent", backend, server).await?;
                }
                if *enable {
                    runtime.toggle(true, "server", backend, server).await?;
                }
            }
            Step::Delete { backend, server } => {
                let maint = [ServerChange::State(AdminState::Maint)];
                once_known(|| runtime.set_server(backend, server, &maint)).await?;
                // In maintenance no new request goes there; the ones in
                // flight finish, and then HAProxy lets it go.
                let deadline = Instant::now() + DRAIN_TIMEOUT;
                loop {
                    match runtime.del_server(backend, server).await {
                        Ok(()) => break,
                        Err(e @ RuntimeError::Refused { .. })
                            if Instant::now() < deadline
                                && e.to_string().contains("connection") =>
                        {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(text.as_bytes().to_vec())
    }

    const BASE: &str = "# _version=3
global
    maxconn 10
defaults
    mode http
backend be
    balance roundrobin
    # the pool
    server s1 10.0.0.1:80 weight 10
    server s2 10.0.0.2:80 check
frontend fe
    bind :80
    default_backend be
";

    fn with(from: &str, to: &str) -> Document {
        assert!(BASE.contains(from));
        doc(&BASE.replace(from, to).replace("_version=3", "_version=4"))
    }

    #[test]
    fn nothing_to_do() {
        assert_eq!(plan(&doc(BASE), &with("maxconn", "maxconn")), Some(vec![]));
    }

    #[test]
    fn weight_maintenance_and_address() {
        let steps = plan(
            &doc(BASE),
            &with(
                "server s1 10.0.0.1:80 weight 10",
                "server s1 10.0.0.9:8080 weight 20 disabled",
            ),
        )
        .unwrap();
        assert_eq!(
            steps,
            vec![Step::Set {
                backend: "be".into(),
                server: "s1".into(),
                changes: vec![
                    ServerChange::State(AdminState::Maint),
                    ServerChange::Weight(20),
                    ServerChange::Address("10.0.0.9".into(), Some(8080)),
                ],
            }]
        );
    }

    #[test]
    fn add_and_delete() {
        let steps = plan(
            &doc(BASE),
            &with(
                "    server s2 10.0.0.2:80 check\n",
                "    server s3 10.0.0.3:80 check weight 5\n",
            ),
        )
        .unwrap();
        assert_eq!(
            steps,
            vec![
                Step::Delete {
                    backend: "be".into(),
                    server: "s2".into()
                },
                Step::Add {
                    backend: "be".into(),
                    server: "s3".into(),
                    args: "10.0.0.3:80 check weight 5".into(),
                    enable: true,
                    health: true,
                    agent: false,
                },
            ]
        );
        // A comment that goes with a deleted server does not matter.
        assert!(plan(
            &doc(BASE),
            &with("    # the pool\n    server s1 10.0.0.1:80 weight 10\n", "")
        )
        .is_some());
    }

    #[test]
    fn what_needs_a_reload() {
        let base = doc(BASE);
        // Another keyword of the server.
        assert_eq!(plan(&base, &with("weight 10", "weight 10 maxconn 5")), None);
        // Another line of the backend, another section.
        assert_eq!(
            plan(&base, &with("balance roundrobin", "balance leastconn")),
            None
        );
        assert_eq!(plan(&base, &with("maxconn 10", "maxconn 11")), None);
        // A name, not an address; servers reordered.
        assert_eq!(plan(&base, &with("10.0.0.1:80", "app.local:80")), None);
        assert_eq!(
            plan(
                &base,
                &with(
                    "    server s1 10.0.0.1:80 weight 10\n    server s2 10.0.0.2:80 check\n",
                    "    server s2 10.0.0.2:80 check\n    server s1 10.0.0.1:80 weight 10\n"
                )
            ),
            None
        );
        // A new server where a default-server applies.
        let defaults = BASE.replace(
            "    mode http\n",
            "    mode http\n    default-server inter 3s\n",
        );
        let added = defaults.replace("check\n", "check\n    server s3 10.0.0.3:80\n");
        assert_eq!(plan(&doc(&defaults), &doc(&added)), None);
        // Without one, the same server is added at runtime.
        let added = BASE.replace("check\n", "check\n    server s3 10.0.0.3:80\n");
        assert!(plan(&base, &doc(&added)).is_some_and(|s| s.len() == 1));
    }
}
