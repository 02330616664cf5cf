//! Client for HAProxy's runtime API: the stats socket (kept open in prompt
//! mode, commands pipelined) and the master CLI (`@1` for worker 1). Each
//! command has a typed function and a parser for its answer; HAProxy's
//! error answers become [`RuntimeError::Refused`] with its own words.

mod acme;
mod client;
mod master;
mod patterns;
mod servers;
mod socket;
mod ssl;
mod stats;
mod tables;

pub use acme::{parse_acme_status, AcmeCertificate};
pub use client::{Endpoint, Runtime};
pub use master::{parse_show_proc, MasterCli, Proc, ProcList};
pub use patterns::{
    parse_pattern_entries, parse_pattern_files, PatternEntry, PatternFile, Patterns,
};
pub use servers::{
    parse_backends, parse_servers_state, AdminState, OperationalState, ServerChange, ServerState,
};
pub use socket::{arg, command, Refusal, RuntimeError};
pub use ssl::{
    parse_crl, parse_crt_list, parse_ssl_details, parse_ssl_files, CrlInfo, CrtListEntry,
    SslDetails, SslFile, SslStore,
};
pub use stats::{parse_info, parse_stat, StatRow};
pub use tables::{parse_entries, parse_tables, StickTable, TableEntry, TableFilter};
