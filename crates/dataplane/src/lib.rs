//! The engine behind the API: the versioned configuration store,
//! transactions kept on disk, the commit pipeline (validate with
//! `haproxy -c`, write atomically, bump the version) and the reload agent.
//!
//! It knows nothing of HTTP: the `api` crate maps its results and errors to
//! responses.

pub mod certs;
mod commit;
mod error;
mod files;
mod group;
mod history;
pub mod live;
mod metrics;
mod reload;
mod settings;
mod sources;
mod spoe;
mod store;
mod transaction;
mod watch;

pub use commit::{remove_leftovers, write_atomic, write_atomic_like, Applied, Problem};
pub use error::DataplaneError;
pub use files::{
    crt_list_entries, map_entries, CrtListLine, FileApplied, FileKind, FileStore, StoredFile,
};
pub use history::{acting_as, checksum, unified_diff, AppliedBy, Caller, HistoryEntry, Origin};
pub use metrics::{Histogram, Metrics, BUCKETS};
pub use reload::{Reload, ReloadStatus};
pub use settings::{ReloadMethod, Settings};
pub use spoe::SpoeTarget;
pub use store::{
    read_configuration, ConfigFile, Dataplane, NewSections, ReloadMode, Snapshot, Target,
};
pub use transaction::{TransactionInfo, TransactionStatus};
