//! A fleet of haplane nodes that share one configuration, kept in etcd.
//!
//! Each node registers under `PREFIX/nodes/NAME` with a lease it renews
//! every second (the key goes when the node stops), and publishes there
//! its version, checksum, HAProxy's state and its last rollout step. The
//! fleet's configuration (the bytes of the main file and a revision) is
//! `PREFIX/desired`.
//!
//! A rollout (`PREFIX/rollouts/ID`) puts the registered nodes in batches,
//! the canaries first. `PREFIX/active` names the one rollout under way: it
//! is created by a transaction that requires it absent, so a second
//! rollout is refused. Nodes talk to etcd only: each node's agent looks
//! at the active rollout four times a second and, when its batch is
//! reached, applies the configuration through its own pipeline
//! (validated, written atomically, reload verified), then runs the checks
//! (backends up, the 5xx ratio of its frontends over `wait_s`, the HTTP
//! probes) and writes its step. Every record is changed by compare and
//! swap on its revision, so any node may move the rollout on: a batch
//! whose nodes are all done (or gone from the fleet) lets the next one
//! start, and after the last the configuration becomes the desired one.
//! A node that fails restores the configuration it had and the rollout
//! stops there: nodes not reached never change. A node that was away
//! takes the desired configuration when it comes back (its applied
//! revision is kept in its transaction directory); one killed in the
//! middle of its step takes it again from the start at restart, with the
//! configuration it had before kept on disk for the roll-back.

mod etcd;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haplane_dataplane::{Applied, Dataplane, DataplaneError, ReloadMode, ReloadStatus};
use serde::{Deserialize, Serialize};

use etcd::{Compare, Op};
pub use etcd::{Etcd, EtcdError};

/// How a node joins the fleet.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    /// etcd's client URLs.
    pub endpoints: Vec<String>,
    pub node_name: String,
    /// The address `{host}` stands for in a check's URL.
    pub address: String,
    /// Where the fleet's keys live in etcd.
    pub prefix: String,
    /// Seconds a node's registration outlives its last heartbeat.
    pub ttl: u64,
    /// Where the node keeps what it applied (its transaction directory).
    pub state_dir: PathBuf,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum FleetError {
    /// etcd cannot be reached (503).
    #[error("the fleet's store is unreachable: {0}")]
    Unreachable(String),
    /// Another rollout is under way (409).
    #[error("rollout {0} is under way: one rollout at a time")]
    Busy(String),
    #[error("rollout {0} not found")]
    NotFound(String),
    /// The request is not a rollout (400).
    #[error("{0}")]
    Bad(String),
    /// The rollout is over (409).
    #[error("rollout {id} is {state}")]
    Over { id: String, state: String },
    #[error(transparent)]
    Dataplane(#[from] DataplaneError),
}

impl From<EtcdError> for FleetError {
    fn from(e: EtcdError) -> FleetError {
        FleetError::Unreachable(e.to_string())
    }
}

/// A rollout as `POST /v3/fleet/rollouts` takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutRequest {
    /// The new main configuration file.
    pub raw: Option<String>,
    /// Or a transaction of the node asked, whose file is rolled out.
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub canary: Vec<String>,
    pub batch_size: Option<usize>,
    #[serde(default)]
    pub checks: Checks,
}

/// What a node checks after it applied the configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    /// How long to watch HAProxy before the checks.
    #[serde(default)]
    pub wait_s: u64,
    /// URLs to get (`{host}` is the node's address), with the status each
    /// must answer.
    #[serde(default)]
    pub http: Vec<Probe>,
    /// Most 5xx answers of the frontends per request over `wait_s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_5xx_ratio: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    pub url: String,
    #[serde(default = "ok_status")]
    pub expect_status: u16,
}

fn ok_status() -> u16 {
    200
}

/// Where a node is in a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Pending,
    Applying,
    Verifying,
    Done,
    Failed,
    RolledBack,
}

impl Step {
    fn is_open(self) -> bool {
        matches!(self, Step::Pending | Step::Applying | Step::Verifying)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeStep {
    pub step: Step,
    /// Its batch (0: the canaries).
    pub batch: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A rollout as kept in etcd.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rollout {
    pub id: String,
    /// The fleet revision it makes.
    pub revision: u64,
    /// `running`, `done`, `failed` or `stopped`.
    pub state: String,
    pub batches: Vec<Vec<String>>,
    /// The batch under way.
    pub current: usize,
    pub nodes: BTreeMap<String, NodeStep>,
    pub checks: Checks,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub created: String,
    /// The node that was asked.
    pub origin: String,
    pub raw: String,
}

/// The fleet's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Desired {
    revision: u64,
    rollout: String,
    raw: String,
}

/// A node as it publishes itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeInfo {
    pub name: String,
    pub address: String,
    pub version: u64,
    pub checksum: String,
    /// `up` when its runtime API answers, else `down`.
    pub haproxy: String,
    /// The fleet revision it runs.
    pub fleet_revision: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_step: Option<LastStep>,
    pub updated: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LastStep {
    pub rollout: String,
    pub step: Step,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a node keeps on disk of the fleet.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Local {
    applied_revision: u64,
    /// The rollout it is taking part in, and its main file before.
    rollout: Option<String>,
    previous: Option<String>,
    last_step: Option<LastStep>,
}

/// This node's membership of the fleet.
#[derive(Debug)]
pub struct Fleet {
    settings: FleetSettings,
    etcd: Etcd,
    dp: Arc<Dataplane>,
    lease: Mutex<Option<i64>>,
    local: Mutex<Local>,
    http: reqwest::Client,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Fleet {
    pub fn new(settings: FleetSettings, dp: Arc<Dataplane>) -> Arc<Fleet> {
        let local = std::fs::read(state_file(&settings))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .expect("an HTTP client");
        Arc::new(Fleet {
            etcd: Etcd::new(settings.endpoints.clone()),
            settings,
            dp,
            lease: Mutex::new(None),
            local: Mutex::new(local),
            http,
        })
    }

    pub fn node_name(&self) -> &str {
        &self.settings.node_name
    }

    fn key(&self, rest: &str) -> String {
        format!("{}/{rest}", self.settings.prefix.trim_end_matches('/'))
    }

    /// The node's agent: heartbeats and rollout steps, until the process
    /// ends. etcd being away only delays them.
    pub async fn run(self: Arc<Self>) {
        let mut beat = Instant::now() - Duration::from_secs(60);
        loop {
            if beat.elapsed() >= Duration::from_secs(1) {
                beat = Instant::now();
                if let Err(e) = self.heartbeat().await {
                    tracing::debug!(error = %e, "fleet heartbeat");
                }
            }
            if let Err(e) = self.act().await {
                tracing::debug!(error = %e, "fleet agent");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn save_local(&self, local: &Local) {
        let bytes = serde_json::to_vec_pretty(local).expect("JSON");
        if let Err(e) = haplane_dataplane::write_atomic(&state_file(&self.settings), &bytes) {
            tracing::warn!(error = %e, "cannot keep the fleet state");
        }
    }

    fn update_local(&self, f: impl FnOnce(&mut Local)) {
        let mut local = self.local.lock().expect("fleet state lock");
        f(&mut local);
        self.save_local(&local);
    }

    async fn heartbeat(&self) -> Result<(), FleetError> {
        let lease = *self.lease.lock().expect("lease lock");
        let lease = match lease {
            Some(id) if self.etcd.keep_alive(id).await? => id,
            _ => {
                let id = self.etcd.grant(self.settings.ttl).await?;
                *self.lease.lock().expect("lease lock") = Some(id);
                id
            }
        };
        let snapshot = self.dp.snapshot();
        let (raw, _) = self.dp.raw(None, None)?;
        let haproxy = match self.dp.runtime() {
            Some(rt) => match rt.info().await {
                Ok(_) => "up",
                Err(_) => "down",
            },
            None => "unknown",
        };
        let local = self.local.lock().expect("fleet state lock").clone();
        let info = NodeInfo {
            name: self.settings.node_name.clone(),
            address: self.settings.address.clone(),
            version: snapshot.version,
            checksum: haplane_dataplane::checksum(&raw),
            haproxy: haproxy.into(),
            fleet_revision: local.applied_revision,
            last_step: local.last_step,
            updated: now(),
        };
        let key = self.key(&format!("nodes/{}", self.settings.node_name));
        let value = serde_json::to_vec(&info).expect("JSON");
        self.etcd.put(&key, &value, Some(lease)).await?;
        Ok(())
    }

    /// The nodes registered now, by name.
    pub async fn nodes(&self) -> Result<Vec<NodeInfo>, FleetError> {
        let kvs = self.etcd.prefix(&self.key("nodes/")).await?;
        Ok(kvs
            .iter()
            .filter_map(|kv| serde_json::from_slice(&kv.value).ok())
            .collect())
    }

    async fn alive(&self) -> Result<BTreeSet<String>, FleetError> {
        Ok(self.nodes().await?.into_iter().map(|n| n.name).collect())
    }

    /// Starts a rollout: 409 while another is under way.
    pub async fn start(&self, request: RolloutRequest) -> Result<Rollout, FleetError> {
        let raw = match (&request.raw, &request.transaction_id) {
            (Some(raw), None) => raw.clone(),
            (None, Some(id)) => {
                let (bytes, _) = self.dp.raw(Some(id), None)?;
                String::from_utf8(bytes)
                    .map_err(|_| FleetError::Bad("the transaction's file is not UTF-8".into()))?
            }
            _ => return Err(FleetError::Bad("give either raw or transaction_id".into())),
        };
        if request.batch_size == Some(0) {
            return Err(FleetError::Bad("batch_size: at least 1".into()));
        }
        if let Some(r) = request.checks.max_5xx_ratio {
            if !(0.0..=1.0).contains(&r) {
                return Err(FleetError::Bad("checks.max_5xx_ratio: from 0 to 1".into()));
            }
        }
        // What HAProxy refuses here would be refused by the canary.
        self.dp.validate_raw(raw.clone().into_bytes(), None).await?;
        let alive = self.alive().await?;
        for name in &request.canary {
            if !alive.contains(name) {
                return Err(FleetError::Bad(format!(
                    "canary {name} is not a node of the fleet (nodes: {})",
                    alive.iter().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        let mut batches = Vec::new();
        if !request.canary.is_empty() {
            batches.push(request.canary.clone());
        }
        let rest: Vec<String> = alive
            .iter()
            .filter(|n| !request.canary.contains(n))
            .cloned()
            .collect();
        for chunk in rest.chunks(request.batch_size.unwrap_or(1)) {
            batches.push(chunk.to_vec());
        }
        let nodes = batches
            .iter()
            .enumerate()
            .flat_map(|(batch, names)| {
                names.iter().map(move |n| {
                    let step = NodeStep {
                        step: Step::Pending,
                        batch,
                        message: None,
                    };
                    (n.clone(), step)
                })
            })
            .collect();
        let desired = self.desired().await?;
        let rollout = Rollout {
            id: uuid::Uuid::new_v4().to_string(),
            revision: desired.map_or(0, |(d, _)| d.revision) + 1,
            state: "running".into(),
            batches,
            current: 0,
            nodes,
            checks: request.checks,
            reason: None,
            created: now(),
            origin: self.settings.node_name.clone(),
            raw,
        };
        let active = self.key("active");
        let record = serde_json::to_vec(&rollout).expect("JSON");
        let started = self
            .etcd
            .txn(
                &[Compare::Absent(active.clone())],
                &[
                    Op::Put(active.clone(), rollout.id.clone().into_bytes()),
                    Op::Put(self.key(&format!("rollouts/{}", rollout.id)), record),
                ],
            )
            .await?;
        if !started {
            let id = self
                .etcd
                .get(&active)
                .await?
                .map(|kv| String::from_utf8_lossy(&kv.value).into_owned())
                .unwrap_or_default();
            return Err(FleetError::Busy(id));
        }
        tracing::info!(id = %rollout.id, revision = rollout.revision, "rollout started");
        // A rollout of no node is done at once.
        self.move_on(&rollout.id).await?;
        Ok(self.rollout(&rollout.id).await?.0)
    }

    async fn desired(&self) -> Result<Option<(Desired, i64)>, FleetError> {
        let Some(kv) = self.etcd.get(&self.key("desired")).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_slice(&kv.value)
            .ok()
            .map(|d| (d, kv.mod_revision)))
    }

    /// A rollout and the revision of its record.
    pub async fn rollout(&self, id: &str) -> Result<(Rollout, i64), FleetError> {
        let key = self.key(&format!("rollouts/{id}"));
        let kv = self
            .etcd
            .get(&key)
            .await?
            .ok_or_else(|| FleetError::NotFound(id.to_owned()))?;
        let rollout = serde_json::from_slice(&kv.value)
            .map_err(|e| FleetError::Bad(format!("rollout {id} cannot be read: {e}")))?;
        Ok((rollout, kv.mod_revision))
    }

    /// Every rollout, the newest first.
    pub async fn rollouts(&self) -> Result<Vec<Rollout>, FleetError> {
        let kvs = self.etcd.prefix(&self.key("rollouts/")).await?;
        let mut list: Vec<Rollout> = kvs
            .iter()
            .filter_map(|kv| serde_json::from_slice(&kv.value).ok())
            .collect();
        list.sort_by(|a, b| b.created.cmp(&a.created));
        Ok(list)
    }

    /// Stops a rollout under way: no node starts its step after this.
    pub async fn stop(&self, id: &str) -> Result<Rollout, FleetError> {
        loop {
            let (mut rollout, revision) = self.rollout(id).await?;
            if rollout.state != "running" {
                return Err(FleetError::Over {
                    id: id.into(),
                    state: rollout.state,
                });
            }
            rollout.state = "stopped".into();
            rollout.reason = Some(format!("stopped through node {}", self.settings.node_name));
            if self.finish(&rollout, revision, None).await? {
                tracing::info!(id, "rollout stopped");
                return Ok(rollout);
            }
        }
    }

    /// Writes a rollout that is over, releases `active` and, for one that
    /// is done, makes its configuration the desired one; false when the
    /// record changed meanwhile.
    async fn finish(
        &self,
        rollout: &Rollout,
        revision: i64,
        desired: Option<Desired>,
    ) -> Result<bool, FleetError> {
        let key = self.key(&format!("rollouts/{}", rollout.id));
        let mut ops = vec![
            Op::Put(key.clone(), serde_json::to_vec(rollout).expect("JSON")),
            Op::Delete(self.key("active")),
        ];
        if let Some(desired) = desired {
            ops.push(Op::Put(
                self.key("desired"),
                serde_json::to_vec(&desired).expect("JSON"),
            ));
        }
        Ok(self
            .etcd
            .txn(&[Compare::ModRevision(key, revision)], &ops)
            .await?)
    }

    /// Sets this node's step in a rollout (compare and swap, retried).
    async fn set_step(
        &self,
        id: &str,
        step: Step,
        message: Option<String>,
    ) -> Result<(), FleetError> {
        let me = self.settings.node_name.clone();
        self.update_local(|l| {
            l.last_step = Some(LastStep {
                rollout: id.to_owned(),
                step,
                message: message.clone(),
            })
        });
        for _ in 0..50 {
            let (mut rollout, revision) = self.rollout(id).await?;
            let Some(mine) = rollout.nodes.get_mut(&me) else {
                return Ok(());
            };
            mine.step = step;
            mine.message = message.clone();
            let key = self.key(&format!("rollouts/{id}"));
            let value = serde_json::to_vec(&rollout).expect("JSON");
            if self
                .etcd
                .txn(
                    &[Compare::ModRevision(key.clone(), revision)],
                    &[Op::Put(key, value)],
                )
                .await?
            {
                return Ok(());
            }
        }
        Err(FleetError::Unreachable(
            "the rollout's record keeps changing".into(),
        ))
    }

    /// One look at the fleet: take this node's step of the rollout under
    /// way, move the rollout on, or catch up with the desired revision.
    async fn act(&self) -> Result<(), FleetError> {
        let active = self.etcd.get(&self.key("active")).await?;
        if let Some(kv) = active {
            let id = String::from_utf8_lossy(&kv.value).into_owned();
            let (rollout, _) = self.rollout(&id).await?;
            if rollout.state == "running" {
                let mine = rollout.nodes.get(&self.settings.node_name);
                if mine.is_some_and(|m| m.batch <= rollout.current && m.step.is_open()) {
                    self.take_part(&rollout).await?;
                }
                self.move_on(&id).await?;
            }
            return Ok(());
        }
        self.catch_up().await
    }

    /// This node's step: apply, verify, and restore on failure.
    async fn take_part(&self, rollout: &Rollout) -> Result<(), FleetError> {
        let id = rollout.id.as_str();
        tracing::info!(id, "applying the fleet's configuration");
        // The configuration to restore, kept before the first attempt.
        let fresh = self
            .local
            .lock()
            .expect("fleet state lock")
            .rollout
            .as_deref()
            != Some(id);
        if fresh {
            let (before, _) = self.dp.raw(None, None)?;
            self.update_local(|l| {
                l.rollout = Some(id.to_owned());
                l.previous = Some(String::from_utf8_lossy(&before).into_owned());
            });
        }
        self.set_step(id, Step::Applying, None).await?;
        if let Err(why) = self.apply(&rollout.raw).await {
            tracing::warn!(id, error = %why, "the fleet's configuration was refused");
            self.update_local(|l| l.rollout = None);
            return self.set_step(id, Step::Failed, Some(why)).await;
        }
        self.set_step(id, Step::Verifying, None).await?;
        match self.verify(&rollout.checks).await {
            Ok(()) => {
                self.update_local(|l| {
                    l.applied_revision = rollout.revision;
                    l.rollout = None;
                    l.previous = None;
                });
                self.set_step(id, Step::Done, None).await
            }
            Err(why) => {
                tracing::warn!(id, error = %why, "the checks failed; restoring the previous configuration");
                let previous = self
                    .local
                    .lock()
                    .expect("fleet state lock")
                    .previous
                    .clone();
                let restored = match previous {
                    Some(previous) => self.apply(&previous).await,
                    None => Err("nothing to restore".into()),
                };
                self.update_local(|l| {
                    l.rollout = None;
                    l.previous = None;
                });
                let message = match restored {
                    Ok(()) => why,
                    Err(e) => format!("{why}; restoring failed: {e}"),
                };
                self.set_step(id, Step::RolledBack, Some(message)).await
            }
        }
    }

    /// Commits `raw` as the main file through the pipeline, reloading
    /// HAProxy at once; the reason when it did not take effect.
    async fn apply(&self, raw: &str) -> Result<(), String> {
        let applied = self
            .dp
            .replace_raw(raw.as_bytes().to_vec(), None, None, ReloadMode::Force)
            .await
            .map_err(|e| e.to_string())?;
        match applied {
            Applied::Committed {
                reload: Some(r), ..
            } if r.status == ReloadStatus::Failed => {
                Err(format!("the reload failed: {}", r.response))
            }
            _ => Ok(()),
        }
    }

    /// The checks of a rollout on this node.
    async fn verify(&self, checks: &Checks) -> Result<(), String> {
        let rt = self
            .dp
            .runtime()
            .ok_or("no runtime API to check HAProxy with")?;
        let before = rt.stat().await.map_err(|e| e.to_string())?;
        tokio::time::sleep(Duration::from_secs(checks.wait_s)).await;
        let after = rt.stat().await.map_err(|e| e.to_string())?;
        // Backends with servers are up.
        let with_servers: BTreeSet<&str> = after
            .iter()
            .filter(|r| r.kind() == "server")
            .map(|r| r.proxy.as_str())
            .collect();
        for row in after.iter().filter(|r| r.kind() == "backend") {
            let status = row.get("status").unwrap_or("");
            if with_servers.contains(row.proxy.as_str()) && status != "UP" {
                return Err(format!("backend {} is {status}", row.proxy));
            }
        }
        if let Some(max) = checks.max_5xx_ratio {
            let totals = |rows: &[haplane_runtime::StatRow]| {
                rows.iter().filter(|r| r.kind() == "frontend").fold(
                    (0u64, 0u64),
                    |(req, bad), r| {
                        let n = |f: &str| r.get(f).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                        (req + n("req_tot"), bad + n("hrsp_5xx"))
                    },
                )
            };
            let (req0, bad0) = totals(&before);
            let (req1, bad1) = totals(&after);
            let (requests, errors) = (req1.saturating_sub(req0), bad1.saturating_sub(bad0));
            if requests > 0 && errors as f64 / requests as f64 > max {
                return Err(format!(
                    "{errors} of {requests} requests answered 5xx in {} s (more than {max})",
                    checks.wait_s
                ));
            }
        }
        for probe in &checks.http {
            let url = probe.url.replace("{host}", &self.settings.address);
            let status = match self.http.get(&url).send().await {
                Ok(r) => r.status().as_u16(),
                Err(e) => return Err(format!("GET {url}: {e}")),
            };
            if status != probe.expect_status {
                return Err(format!(
                    "GET {url} answered {status}, not {}",
                    probe.expect_status
                ));
            }
        }
        Ok(())
    }

    /// Moves a rollout on when its batch is through: the next batch, or
    /// the end (done: its configuration is the desired one; a failed or
    /// rolled back node: failed).
    async fn move_on(&self, id: &str) -> Result<(), FleetError> {
        let (mut rollout, revision) = self.rollout(id).await?;
        if rollout.state != "running" {
            return Ok(());
        }
        let alive = self.alive().await?;
        while let Some(batch) = rollout.batches.get(rollout.current) {
            let steps: Vec<(&String, &NodeStep)> = batch
                .iter()
                .filter_map(|n| rollout.nodes.get(n).map(|s| (n, s)))
                .collect();
            if let Some((name, step)) = steps
                .iter()
                .find(|(_, s)| matches!(s.step, Step::Failed | Step::RolledBack))
            {
                let reason = format!(
                    "node {name}: {}",
                    step.message.as_deref().unwrap_or("failed")
                );
                rollout.state = "failed".into();
                rollout.reason = Some(reason);
                self.finish(&rollout, revision, None).await?;
                tracing::warn!(id, "rollout failed");
                return Ok(());
            }
            // A node gone from the fleet catches up when it comes back.
            let through = steps.iter().all(|(n, s)| {
                s.step == Step::Done || (s.step == Step::Pending && !alive.contains(*n))
            });
            if !through {
                break;
            }
            rollout.current += 1;
        }
        if rollout.current < rollout.batches.len() {
            if rollout.current != self.rollout(id).await?.0.current {
                let key = self.key(&format!("rollouts/{id}"));
                let value = serde_json::to_vec(&rollout).expect("JSON");
                self.etcd
                    .txn(
                        &[Compare::ModRevision(key.clone(), revision)],
                        &[Op::Put(key, value)],
                    )
                    .await?;
            }
            return Ok(());
        }
        rollout.state = "done".into();
        let desired = Desired {
            revision: rollout.revision,
            rollout: rollout.id.clone(),
            raw: rollout.raw.clone(),
        };
        if self.finish(&rollout, revision, Some(desired)).await? {
            tracing::info!(id, revision = rollout.revision, "rollout done");
        }
        Ok(())
    }

    /// With no rollout under way: takes the desired configuration if this
    /// node runs an older revision (it was away, or is new).
    async fn catch_up(&self) -> Result<(), FleetError> {
        let Some((desired, _)) = self.desired().await? else {
            return Ok(());
        };
        let applied = self
            .local
            .lock()
            .expect("fleet state lock")
            .applied_revision;
        if desired.revision <= applied {
            return Ok(());
        }
        tracing::info!(
            revision = desired.revision,
            "catching up with the fleet's configuration"
        );
        match self.apply(&desired.raw).await {
            Ok(()) => {
                self.update_local(|l| l.applied_revision = desired.revision);
                // The rollout it missed shows it done.
                if let Ok((rollout, _)) = self.rollout(&desired.rollout).await {
                    if rollout.nodes.contains_key(&self.settings.node_name) {
                        self.set_step(&desired.rollout, Step::Done, Some("caught up".into()))
                            .await?;
                    }
                }
                Ok(())
            }
            Err(why) => {
                tracing::warn!(error = %why, "the fleet's configuration is refused here");
                // Not again until the next revision.
                self.update_local(|l| l.applied_revision = desired.revision);
                Ok(())
            }
        }
    }
}

fn state_file(settings: &FleetSettings) -> PathBuf {
    settings
        .state_dir
        .join(format!("fleet-{}.json", settings.node_name))
}
