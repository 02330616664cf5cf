//! Group commit: guarded changes (they check their own precondition, HTTP
//! `If-Match` or `If-None-Match: *`, and carry no version) that arrive
//! while a commit holds the writer lock wait in a queue; the next holder
//! of the lock takes them all, applies them in arrival order, and commits
//! them with one validation and one write. Each is answered with the
//! version that holds it.
//!
//! A change that fails by itself (its precondition, a bad field) fails
//! alone and the others go on. When HAProxy refuses the group (or it would
//! write a read-only file), it is cut
//! in halves, committed one after the other, and so on down to the change
//! HAProxy refuses, which gets its own message: one refused change among
//! N costs about 2 log2(N) more validations. Changes asking for different reloads (queued, forced, skipped)
//! form separate groups, in the order their first one arrived.

use std::any::Any;
use std::sync::Arc;

use haplane_cfg::Document;
use haplane_model::ResourceError;

use crate::commit::Applied;
use crate::error::DataplaneError;
use crate::history::{acting_as, caller, Caller, Origin};
use crate::store::{Dataplane, ReloadMode};

type Change =
    Box<dyn Fn(&mut Document) -> Result<Box<dyn Any + Send>, ResourceError> + Send + Sync>;
type Reply = tokio::sync::oneshot::Sender<Result<(Box<dyn Any + Send>, Applied), DataplaneError>>;

/// A change waiting for the next group commit.
pub(crate) struct Queued {
    change: Change,
    reload: ReloadMode,
    caller: Caller,
    reply: Reply,
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queued")
            .field("reload", &self.reload)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

/// Who a group acts for: its callers, each named once.
fn callers(members: &[(Queued, Box<dyn Any + Send>)]) -> Caller {
    let join = |pick: fn(&Caller) -> Option<&String>| -> Option<String> {
        let mut names: Vec<&str> = Vec::new();
        for (m, _) in members {
            if let Some(name) = pick(&m.caller) {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        (!names.is_empty()).then(|| names.join(", "))
    };
    Caller {
        user: join(|c| c.user.as_ref()),
        client: join(|c| c.client.as_ref()),
    }
}

impl Dataplane {
    /// Queues `change` for the next group commit and waits for its answer.
    pub(crate) async fn edit_in_group<T, F>(
        &self,
        reload: ReloadMode,
        change: F,
    ) -> Result<(T, Applied), DataplaneError>
    where
        F: Fn(&mut Document) -> Result<T, ResourceError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let change: Change =
            Box::new(move |doc| change(doc).map(|v| Box::new(v) as Box<dyn Any + Send>));
        self.queue.lock().expect("queue lock").push(Queued {
            change,
            reload,
            caller: caller(),
            reply,
        });
        // The commit runs on its own task: a caller that goes away does
        // not stop it for the others.
        if let Some(dp) = self.weak().upgrade() {
            tokio::spawn(async move { dp.commit_queue().await });
        }
        let (value, applied) = answer
            .await
            .map_err(|_| DataplaneError::Internal("the group commit stopped".into()))??;
        let value = value.downcast::<T>().map_err(|_| {
            DataplaneError::Internal("a group commit answer of another type".into())
        })?;
        Ok((*value, applied))
    }

    /// Takes the writer lock and commits what is queued, if anything.
    async fn commit_queue(self: Arc<Self>) {
        let guard = self.writer.lock().await;
        let queued = std::mem::take(&mut *self.queue.lock().expect("queue lock"));
        let mut modes: Vec<ReloadMode> = Vec::new();
        for q in &queued {
            if !modes.contains(&q.reload) {
                modes.push(q.reload);
            }
        }
        let mut queued: Vec<Option<Queued>> = queued.into_iter().map(Some).collect();
        for mode in modes {
            let members: Vec<Queued> = queued
                .iter_mut()
                .filter(|q| q.as_ref().is_some_and(|q| q.reload == mode))
                .filter_map(Option::take)
                .collect();
            self.commit_group(&guard, mode, members).await;
        }
    }

    /// Commits `members` as one version, splitting the group as the module
    /// says when HAProxy refuses it.
    async fn commit_group(
        &self,
        guard: &tokio::sync::MutexGuard<'_, ()>,
        reload: ReloadMode,
        members: Vec<Queued>,
    ) {
        // Groups to commit, the last one first.
        let mut rounds = vec![members];
        while let Some(members) = rounds.pop() {
            let current = self.locked_snapshot(guard);
            let mut doc = current.doc.clone();
            let mut kept: Vec<(Queued, Box<dyn Any + Send>)> = Vec::new();
            for member in members {
                match (member.change)(&mut doc) {
                    Ok(value) => kept.push((member, value)),
                    Err(e) => {
                        let _ = member.reply.send(Err(e.into()));
                        // What it may have changed before failing goes.
                        doc = current.doc.clone();
                        for (k, _) in &kept {
                            let _ = (k.change)(&mut doc);
                        }
                    }
                }
            }
            if kept.is_empty() {
                continue;
            }
            let who = callers(&kept);
            let result = acting_as(
                who,
                self.commit(guard, current.version, doc, reload, false, Origin::Api),
            )
            .await;
            let refused = matches!(
                result,
                Err(DataplaneError::Invalid { .. })
                    | Err(DataplaneError::ReadOnly { .. })
                    | Err(DataplaneError::Resource(ResourceError::Invalid(_)))
            );
            match result {
                Ok(applied) => {
                    for (member, value) in kept {
                        let _ = member.reply.send(Ok((value, applied.clone())));
                    }
                }
                Err(_) if refused && kept.len() > 1 => {
                    // Halves, each committed on its own (the first first),
                    // down to the change HAProxy refuses, told alone.
                    let mut first: Vec<Queued> = kept.into_iter().map(|(m, _)| m).collect();
                    let second = first.split_off(first.len() / 2);
                    rounds.push(second);
                    rounds.push(first);
                }
                Err(e) => {
                    for (member, _) in kept {
                        let _ = member.reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }
}
