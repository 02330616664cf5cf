//! Hand edits of the configuration file, followed as they happen (the Go
//! program watches the file with inotify; here its length and modification
//! time are looked at every interval). A changed file that `haproxy -c`
//! accepts is read and HAProxy reloaded at once, and the runtime client
//! follows the socket the new file names; one that it refuses is read (the
//! API shows the file as it is) but not deployed.

use std::sync::Arc;
use std::time::Duration;

use crate::store::Dataplane;

impl Dataplane {
    /// Follows the configuration file until the engine is dropped.
    pub async fn follow_file(self: Arc<Self>, every: Duration) {
        let weak = Arc::downgrade(&self);
        drop(self);
        loop {
            tokio::time::sleep(every).await;
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
