//! Problems found while parsing, located by line and column.
//!
//! Parsing never fails: whatever the input, it yields a document that prints
//! back byte for byte, plus a list of these diagnostics.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, at a 1-based line and column (columns count bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{severity} at line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl Diagnostic {
    /// Renders the diagnostic like a compiler does: the message, the source
    /// line, and a caret under the column.
    pub fn render(&self, source_line: &str) -> String {
        let gutter = self.line.to_string();
        let pad = " ".repeat(gutter.len());
        let caret_pad: String = source_line
            .bytes()
            .take(self.column.saturating_sub(1))
            .map(|b| if b == b'\t' { '\t' } else { ' ' })
            .collect();
        format!("{self}\n{pad} |\n{gutter} | {source_line}\n{pad} | {caret_pad}^\n")
    }
}
