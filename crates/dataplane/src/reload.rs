//! The reload agent: has HAProxy load the committed configuration, coalesces
//! requests that come within the reload delay, verifies the outcome, and
//! keeps the history shown by `/services/haproxy/reloads`.
//!
//! With the master socket, the outcome is read from `show proc`: HAProxy 2.6
//! answers nothing to `reload`, but its reload counter grows, and a failed
//! reload also grows `[failed: N]` while the old worker keeps serving. A
//! failed reload puts the previous configuration back and reloads again.
//!
//! The history, the id counter, the queued reload and a runtime change in
//! flight are kept on disk (`reloads.json` in the transaction directory,
//! written before the answer that promises them): haplane killed within
//! the reload delay, during a reload or while the runtime API applies a
//! change, carries out the reload when it starts again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use haplane_runtime::MasterCli;

use crate::settings::{ReloadMethod, Settings};
use crate::store::{Dataplane, Snapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadStatus {
    InProgress,
    Succeeded,
    Failed,
}

impl ReloadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadStatus::InProgress => "in_progress",
            ReloadStatus::Succeeded => "succeeded",
            ReloadStatus::Failed => "failed",
        }
    }
}

/// One reload, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reload {
    pub id: String,
    pub status: ReloadStatus,
    /// What the reload said (command output, or what `show proc` showed).
    pub response: String,
    /// Unix time when it was asked for.
    pub timestamp: i64,
}

/// Reloads kept in the history.
const HISTORY: usize = 100;

#[derive(Debug, Default)]
struct State {
    history: VecDeque<Reload>,
    /// The queued reload and the last configuration known to load, to put
    /// back if the reload fails.
    pending: Option<(String, Arc<Snapshot>)>,
    counter: u64,
    /// A change is being applied through the runtime API: the file is
    /// ahead of HAProxy until it is done.
    runtime_in_flight: bool,
}

#[derive(Debug)]
pub(crate) struct ReloadAgent {
    method: ReloadMethod,
    delay: Duration,
    timeout: Duration,
    state: Mutex<State>,
    /// Where the state is kept.
    store: Durable,
}

/// The reload state on disk: `reloads.json`, and the configuration to put
/// back should the queued reload fail (kept only until that reload ends).
#[derive(Debug, Clone)]
struct Durable {
    state: std::path::PathBuf,
    previous: std::path::PathBuf,
    /// The configuration file, whose mode the copies take.
    config: std::path::PathBuf,
}

impl Durable {
    fn in_dir(dir: &std::path::Path, config: &std::path::Path) -> Durable {
        Durable {
            state: dir.join("reloads.json"),
            previous: dir.join("reload-previous.conf"),
            config: config.to_path_buf(),
        }
    }

    fn save(&self, state: &State) {
        let history: Vec<serde_json::Value> = state
            .history
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "status": r.status.as_str(),
                    "response": r.response,
                    "timestamp": r.timestamp,
                })
            })
            .collect();
        let value = serde_json::json!({
            "counter": state.counter,
            "history": history,
            "pending": state.pending.as_ref().map(|(id, _)| id),
            "runtime_in_flight": state.runtime_in_flight,
        });
        let bytes = serde_json::to_vec_pretty(&value).expect("JSON values serialize");
        if let Err(e) = crate::commit::write_atomic_like(&self.state, &bytes, &self.config) {
            tracing::error!(file = %self.state.display(), error = %e, "cannot keep the reload state");
        }
    }

    fn forget_previous(&self) {
        match std::fs::remove_file(&self.previous) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(file = %self.previous.display(), error = %e, "cannot remove the configuration kept to restore")
            }
        }
    }

    fn save_previous(&self, previous: &Snapshot) {
        if let Err(e) =
            crate::commit::write_atomic_like(&self.previous, &previous.doc.to_bytes(), &self.config)
        {
            tracing::error!(file = %self.previous.display(), error = %e, "cannot keep the configuration to restore");
        }
    }

    /// The state left by the last run, and whether it was interrupted
    /// before HAProxy had loaded the file: a queued reload, a reload
    /// begun, or a runtime change in flight.
    fn load(&self) -> Option<(State, bool)> {
        let bytes = std::fs::read(&self.state).ok()?;
        let value: serde_json::Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(file = %self.state.display(), error = %e, "the reload state is unreadable; starting afresh");
                return None;
            }
        };
        let mut state = State {
            counter: value["counter"].as_u64().unwrap_or(0),
            ..State::default()
        };
        for r in value["history"].as_array().into_iter().flatten() {
            let status = match r["status"].as_str() {
                Some("succeeded") => ReloadStatus::Succeeded,
                Some("failed") => ReloadStatus::Failed,
                _ => ReloadStatus::InProgress,
            };
            state.history.push_back(Reload {
                id: r["id"].as_str().unwrap_or_default().to_owned(),
                status,
                response: r["response"].as_str().unwrap_or_default().to_owned(),
                timestamp: r["timestamp"].as_i64().unwrap_or(0),
            });
        }
        let interrupted = value["pending"].is_string()
            || value["runtime_in_flight"].as_bool() == Some(true)
            || state
                .history
                .iter()
                .any(|r| r.status == ReloadStatus::InProgress);
        Some((state, interrupted))
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl ReloadAgent {
    /// The agent, with the state the last run left in the transaction
    /// directory. An interrupted reload or runtime change is queued again
    /// (against `current`, the configuration on disk), for
    /// [`Dataplane::finish_interrupted`] to carry out.
    pub(crate) fn new(settings: &Settings, current: &Arc<Snapshot>) -> ReloadAgent {
        let store = Durable::in_dir(&settings.transaction_dir, &settings.config_file);
        let mut state = State::default();
        if let Some((mut loaded, interrupted)) = store.load() {
            if interrupted && settings.reload != ReloadMethod::None {
                let previous = std::fs::read(&store.previous)
                    .map(|b| {
                        Arc::new(Snapshot::new(
                            haplane_cfg::Document::parse(b),
                            current.stamp.clone(),
                        ))
                    })
                    .unwrap_or_else(|_| Arc::clone(current));
                // The interrupted reload keeps its id; a runtime change
                // in flight gets a reload of its own.
                let id = loaded
                    .history
                    .iter()
                    .rev()
                    .find(|r| r.status == ReloadStatus::InProgress)
                    .map(|r| r.id.clone())
                    .unwrap_or_else(|| Self::next_id(&mut loaded));
                tracing::warn!(
                    id,
                    "the last run stopped before HAProxy loaded the file; reloading"
                );
                if !loaded.history.iter().any(|r| r.id == id) {
                    loaded.history.push_back(Reload {
                        id: id.clone(),
                        status: ReloadStatus::InProgress,
                        response: String::new(),
                        timestamp: now(),
                    });
                }
                loaded.pending = Some((id, previous));
            }
            loaded.runtime_in_flight = false;
            // Reloads begun but not the one carried out now never ended.
            let pending = loaded.pending.as_ref().map(|(id, _)| id.clone());
            for r in loaded.history.iter_mut() {
                if r.status == ReloadStatus::InProgress && Some(&r.id) != pending.as_ref() {
                    r.status = ReloadStatus::Failed;
                    r.response = "haplane stopped before the outcome was known".into();
                }
            }
            state = loaded;
        }
        ReloadAgent {
            method: settings.reload.clone(),
            delay: settings.reload_delay,
            timeout: settings.reload_timeout,
            state: Mutex::new(state),
            store,
        }
    }

    /// Keeps the state on disk; the caller holds the lock.
    fn save(&self, state: &State) {
        self.store.save(state);
    }

    /// Marks a runtime change in flight (durably) or done.
    pub(crate) fn runtime_in_flight(&self, in_flight: bool) {
        let mut state = self.state.lock().expect("reload state");
        if state.runtime_in_flight != in_flight {
            state.runtime_in_flight = in_flight;
            self.save(&state);
        }
    }

    /// Whether a reload waits to be carried out.
    pub(crate) fn has_pending(&self) -> bool {
        self.state.lock().expect("reload state").pending.is_some()
    }

    fn next_id(state: &mut State) -> String {
        state.counter += 1;
        let date = time::OffsetDateTime::now_utc().date();
        format!("{date}-{}", state.counter)
    }

    fn record(&self, reload: Reload) {
        let mut state = self.state.lock().expect("reload state");
        if let Some(existing) = state.history.iter_mut().find(|r| r.id == reload.id) {
            *existing = reload;
        } else {
            state.history.push_back(reload);
            while state.history.len() > HISTORY {
                state.history.pop_front();
            }
        }
        self.save(&state);
    }

    pub(crate) fn list(&self) -> Vec<Reload> {
        self.state
            .lock()
            .expect("reload state")
            .history
            .iter()
            .cloned()
            .collect()
    }

    pub(crate) fn get(&self, id: &str) -> Option<Reload> {
        self.state
            .lock()
            .expect("reload state")
            .history
            .iter()
            .find(|r| r.id == id)
            .cloned()
    }

    /// Asks for a reload after a commit. Forced: done now, outcome known.
    /// Otherwise queued (joined to a queued one if any) and done after the
    /// delay. `previous` is the configuration before the commit.
    pub(crate) async fn request(
        &self,
        dp: &Dataplane,
        previous: Arc<Snapshot>,
        force: bool,
    ) -> Option<Reload> {
        if self.method == ReloadMethod::None {
            return None;
        }
        if force {
            let id = {
                let mut state = self.state.lock().expect("reload state");
                // A forced reload also does the queued one.
                match state.pending.take() {
                    Some((id, _)) => id,
                    None => Self::next_id(&mut state),
                }
            };
            return Some(self.perform(dp, id, previous).await);
        }
        let (reload, spawn) = {
            let mut state = self.state.lock().expect("reload state");
            match &state.pending {
                Some((id, _)) => (state.history.iter().find(|r| &r.id == id).cloned(), false),
                None => {
                    let id = Self::next_id(&mut state);
                    self.store.save_previous(&previous);
                    state.pending = Some((id.clone(), previous));
                    let reload = Reload {
                        id,
                        status: ReloadStatus::InProgress,
                        response: String::new(),
                        timestamp: now(),
                    };
                    (Some(reload), true)
                }
            }
        };
        if let (Some(reload), true) = (&reload, spawn) {
            self.record(reload.clone());
            let weak: Weak<Dataplane> = dp.weak();
            let delay = self.delay;
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Some(dp) = weak.upgrade() {
                    dp.run_pending_reload().await;
                }
            });
        }
        reload
    }

    /// Reloads and verifies; on failure restores `previous` and reloads again.
    async fn perform(&self, dp: &Dataplane, id: String, previous: Arc<Snapshot>) -> Reload {
        let timestamp = now();
        self.record(Reload {
            id: id.clone(),
            status: ReloadStatus::InProgress,
            response: String::new(),
            timestamp,
        });
        let (ok, response) = self.reload_once().await;
        dp.metrics.reloaded(ok);
        // Open runtime connections lead to the old worker now.
        dp.reset_runtime();
        let reload = if ok {
            tracing::info!(id, "reload succeeded");
            Reload {
                id,
                status: ReloadStatus::Succeeded,
                response,
                timestamp,
            }
        } else {
            tracing::warn!(
                id,
                response,
                "reload failed; restoring the previous configuration"
            );
            let restored = match dp.restore(&previous) {
                Ok(()) => {
                    let (again, _) = self.reload_once().await;
                    if again {
                        let version = dp.current_snapshot().version;
                        dp.history.update(version, |e| {
                            e.applied = crate::history::AppliedBy::Reload;
                        });
                        "the previous configuration was restored and reloaded".to_owned()
                    } else {
                        "the previous configuration was restored but could not be reloaded"
                            .to_owned()
                    }
                }
                Err(e) => format!("the previous configuration could not be restored: {e}"),
            };
            Reload {
                id,
                status: ReloadStatus::Failed,
                response: format!("{response}; {restored}"),
                timestamp,
            }
        };
        self.record(reload.clone());
        // The copy kept for the queued reload is spent: a later reload
        // redone after a crash must not put it back.
        self.store.forget_previous();
        reload
    }

    async fn reload_once(&self) -> (bool, String) {
        match &self.method {
            ReloadMethod::None => (true, String::new()),
            ReloadMethod::Command(cmd) => {
                let cmd = cmd.clone();
                tokio::task::spawn_blocking(move || haplane_haproxy::run_shell(&cmd))
                    .await
                    .unwrap_or_else(|e| (false, format!("reload task: {e}")))
            }
            ReloadMethod::MasterSocket(path) => self.reload_master(&MasterCli::new(path)).await,
        }
    }

    async fn reload_master(&self, master: &MasterCli) -> (bool, String) {
        let deadline = Instant::now() + self.timeout;
        // A master still busy with the last reload (it re-executes itself)
        // drops connections for a moment: ask again until the deadline.
        let before = loop {
            match master.show_proc().await {
                Ok(p) => break p,
                Err(e) if Instant::now() >= deadline => {
                    return (false, format!("cannot read the master's state: {e}"))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        if let Err(e) = master.reload().await {
            return (false, format!("cannot ask the master to reload: {e}"));
        }
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let Ok(after) = master.show_proc().await else {
                continue;
            };
            if after.failed > before.failed {
                return (
                    false,
                    format!(
                        "HAProxy refused the new configuration (reload failures: {})",
                        after.failed
                    ),
                );
            }
            if after.reloads > before.reloads && !after.workers.is_empty() {
                let pids: Vec<String> = after.workers.iter().map(|w| w.pid.to_string()).collect();
                return (true, format!("reloaded; workers {}", pids.join(", ")));
            }
        }
        (
            false,
            format!(
                "the reload did not show in `show proc` within {:?}",
                self.timeout
            ),
        )
    }
}

impl Dataplane {
    /// Runs the queued reload, if there still is one.
    pub(crate) async fn run_pending_reload(self: Arc<Self>) {
        let _writer = self.writer.lock().await;
        let pending = self
            .reloads
            .state
            .lock()
            .expect("reload state")
            .pending
            .take();
        if let Some((id, previous)) = pending {
            self.reloads.perform(&self, id, previous).await;
        }
    }

    /// Carries out at once the reload the last run left unfinished (see
    /// [`ReloadAgent::new`]); nothing when there is none.
    pub async fn finish_interrupted(self: Arc<Self>) {
        if self.reloads.has_pending() {
            self.run_pending_reload().await;
        }
    }

    /// The reloads done or queued, oldest first.
    pub fn reloads(&self) -> Vec<Reload> {
        self.reloads.list()
    }

    pub fn reload(&self, id: &str) -> Option<Reload> {
        self.reloads.get(id)
    }
}
