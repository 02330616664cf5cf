//! Client for HAProxy's runtime API: the master CLI (`-S` socket) and the
//! stats socket. One command per connection; every answer is text whose
//! meaning each command's parser decides.

mod master;
mod socket;

pub use master::{parse_show_proc, MasterCli, Proc, ProcList};
pub use socket::{command, RuntimeError};
