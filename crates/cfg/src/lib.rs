//! Lossless syntax tree of `haproxy.cfg`.
//!
//! [`Document::parse`] reads any bytes and never fails: it returns the
//! document plus [`Diagnostic`]s. Printing an unedited document gives back the
//! input byte for byte (`Document::parse(s).to_bytes() == s`). Edits (see
//! `edit.rs`) change only the lines they name.
//!
//! This crate does no I/O, knows nothing of JSON or HTTP, and does not know
//! what keywords mean: that is the `model` crate's job.

mod diagnostic;
mod document;
mod edit;
mod lexer;
mod section;

pub use diagnostic::{Diagnostic, Severity};
pub use document::{
    Document, Eol, LineKind, LineRef, Location, SectionChange, SectionId, SectionRef,
};
pub use edit::render_line;
pub use lexer::{lex, quote, verbatim, LexError, Lexed, Word};
pub use section::{Dialect, SectionKind, FILE_MARKER};

mod synthetic;
pub use synthetic::{bench_sizes, synthetic_bulk_config, synthetic_config};
