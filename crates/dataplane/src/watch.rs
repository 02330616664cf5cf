//! Hand edits of the configuration files, followed as they happen: inotify
//! on their directories (as the Go program does) wakes the follower at
//! once, and their length and modification time are also looked at every
//! interval. A changed file that `haproxy -c` accepts is read, kept in the
//! history and HAProxy reloaded at once, and the runtime client follows
//! the socket the new file names; one that it refuses is read (the API
//! shows the file as it is) but not deployed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use tokio::sync::Notify;

use crate::commit::TEMP_PREFIX;
use crate::store::Dataplane;

impl Dataplane {
    /// Follows the configuration files until the engine is dropped.
    pub async fn follow_file(self: Arc<Self>, every: Duration) {
        let changed = Arc::new(Notify::new());
        watch_dirs(self.sources.watch_dirs(), Arc::clone(&changed));
        let weak = Arc::downgrade(&self);
        drop(self);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = changed.notified() => {
                    // The rest of a burst (an editor's write, then rename).
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            let Some(dp) = weak.upgrade() else { return };
            dp.follow_once().await;
        }
    }

    /// Looks at the file once; reloads HAProxy if it changed by hand.
    pub async fn follow_once(self: &Arc<Self>) {
        // Not in the middle of a commit of ours.
        let writer = self.writer.lock().await;
        let previous = self.current_snapshot();
        if self.take_hand_edit().is_none() {
            return;
        }
        let fresh = self.locked_snapshot(&writer);
        if let Err(e) = self.validate(&fresh.doc).await {
            tracing::warn!(error = %e, "the configuration file was changed by hand and haproxy -c refuses it: not reloaded");
            return;
        }
        tracing::info!(
            version = fresh.version,
            "the configuration file was changed by hand; reloading HAProxy"
        );
        let reload = self.reloads.request(self, previous, true).await;
        if let Some(r) = &reload {
            self.history.reloaded(fresh.version, r);
        }
        // The runtime client is made for the socket the file now names.
        self.reset_runtime();
        let _ = self.runtime();
        match reload {
            Some(r) => {
                tracing::info!(id = %r.id, status = r.status.as_str(), "reload callback completed, runtime API reconfigured")
            }
            None => tracing::info!("runtime API reconfigured (no reload method)"),
        }
    }
}

/// Wakes `changed` whenever inotify tells of a change in one of `dirs`
/// (but to haplane's own temporary files), from a thread of its own. When
/// inotify cannot be used, the interval alone follows the files.
fn watch_dirs(dirs: Vec<PathBuf>, changed: Arc<Notify>) {
    let inotify = match Inotify::init(InitFlags::IN_CLOEXEC) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "inotify is not available; hand edits are seen within the interval");
            return;
        }
    };
    let flags = AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_ATTRIB;
    for dir in &dirs {
        if let Err(e) = inotify.add_watch(dir, flags) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the directory with inotify");
        }
    }
    let spawned = std::thread::Builder::new()
        .name("haplane-inotify".into())
        .spawn(move || loop {
            let Ok(events) = inotify.read_events() else {
                return;
            };
            let ours = |name: &std::ffi::OsStr| name.to_string_lossy().starts_with(TEMP_PREFIX);
            if events.iter().any(|e| !e.name.as_deref().is_some_and(ours)) {
                changed.notify_one();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the inotify thread");
    }
}
