//! Edits: insert, replace, move and remove lines and sections, and set the
//! version line.
//!
//! Every edit touches only the lines it names (and the comments attached to
//! them); all other lines keep their bytes. New lines take the indentation of
//! their section and the document's end of line.
//!
//! # Which comments go with a removed or moved line
//!
//! A full-line comment is *attached* to the line directly below it when no
//! blank line separates them and they have the same indentation; a run of such
//! comments is attached as a whole. Such a run describes the block of lines
//! below it, so it goes with a line only when that line is the last of its
//! block: the next line is blank, a comment, of another indentation, or the
//! end of the section. A comment above `server a` in
//!
//! ```text
//!     # web servers
//!     server a 10.0.0.1:80
//!     server b 10.0.0.2:80
//! ```
//!
//! stays when `server a` is removed. For a section, the attached run is the
//! comments directly above its header at the header's indentation; they
//! always go with the section.

use std::sync::Arc;

use crate::document::{Document, Eol, Line, LineKind, LineRef, SectionId};
use crate::lexer::quote;
use crate::section::SectionKind;

/// Renders words as one line: `indent` then the words, quoted where needed,
/// separated by single spaces.
pub fn render_line(indent: &[u8], words: &[&str]) -> Vec<u8> {
    let mut out = indent.to_vec();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(quote(word).as_bytes());
    }
    out
}

/// The bytes of `old` with its words replaced by `words`, keeping its
/// indentation and its trailing comment (and the spacing before it).
fn rewrite(old: LineRef<'_>, words: &[&str]) -> Vec<u8> {
    let mut text = render_line(old.indent(), words);
    // Without a `#` there is no comment to keep (nor to look for).
    if !old.bytes().contains(&b'#') {
        return text;
    }
    let lexed = old.lexed();
    if let Some(comment) = lexed.comment {
        let bytes = old.bytes();
        let gap_start = lexed
            .words
            .last()
            .map_or(lexed.indent, |w| w.start + w.raw.len());
        let gap = &bytes[gap_start..comment];
        text.extend_from_slice(if gap.is_empty() { b" " } else { gap });
        text.extend_from_slice(&bytes[comment..]);
    }
    text
}

impl LineRef<'_> {
    /// This line with its words replaced by `words`, keeping its
    /// indentation and its trailing comment: what
    /// [`Document::replace_words`] writes, for [`Document::set_line`].
    pub fn rewritten(&self, words: &[&str]) -> Vec<u8> {
        rewrite(*self, words)
    }
}

impl Document {
    /// Sets the `# _version=N` first line, inserting it if the file has none.
    pub fn set_version(&mut self, version: u64) {
        let text = format!("# _version={version}");
        let eol = self.eol;
        let preamble = &mut Arc::make_mut(&mut self.sections[0]).lines;
        let mut line = Line::owned(text.as_bytes(), eol);
        line.kind = LineKind::Version;
        match preamble.first_mut() {
            Some(first) if first.kind == LineKind::Version => {
                line.eol = first.eol;
                *first = line;
            }
            _ => preamble.insert(0, line),
        }
        self.terminate_inner_lines();
    }

    /// Inserts raw `text` (without end of line) before line `index` of a section.
    pub fn insert_line(&mut self, id: SectionId, index: usize, text: &str) {
        let line = Line::owned(text.as_bytes(), self.eol);
        Arc::make_mut(&mut self.sections[id.0])
            .lines
            .insert(index, line);
        self.terminate_inner_lines();
    }

    /// Inserts a keyword line made of `words` before line `index`, indented
    /// like the section.
    pub fn insert_words(&mut self, id: SectionId, index: usize, words: &[&str]) {
        let text = render_line(self.section(id).indent(), words);
        let line = Line::owned(&text, self.eol);
        Arc::make_mut(&mut self.sections[id.0])
            .lines
            .insert(index, line);
        self.terminate_inner_lines();
    }

    /// Appends a keyword line after the last keyword or directive line of the
    /// section (before trailing blank lines and comments, which usually
    /// introduce the next section). Returns the new line's index.
    pub fn push_words(&mut self, id: SectionId, words: &[&str]) -> usize {
        let index = self.sections[id.0]
            .lines
            .iter()
            .rposition(|l| matches!(l.kind, LineKind::Keyword | LineKind::Directive))
            .map_or(0, |i| i + 1);
        self.insert_words(id, index, words);
        index
    }

    /// Replaces line `index` with raw `text`.
    pub fn replace_line(&mut self, id: SectionId, index: usize, text: &str) {
        let line = &mut Arc::make_mut(&mut self.sections[id.0]).lines[index];
        *line = Line::owned(text.as_bytes(), line.eol);
    }

    /// Replaces the words of line `index`, keeping its indentation and its
    /// trailing comment.
    pub fn replace_words(&mut self, id: SectionId, index: usize, words: &[&str]) {
        let old = self.section(id).line(index).expect("line index in range");
        let text = rewrite(old, words);
        self.set_line(id, index, text);
    }

    /// Makes line `index` of a section `text` (a [`LineRef::rewritten`]
    /// of it), keeping its end of line.
    pub fn set_line(&mut self, id: SectionId, index: usize, text: Vec<u8>) {
        let line = &mut Arc::make_mut(&mut self.sections[id.0]).lines[index];
        *line = Line::owned_from(text, line.eol);
    }

    /// Removes line `index` and the comments attached to it (see the module
    /// documentation). Returns how many lines were removed.
    pub fn remove_line(&mut self, id: SectionId, index: usize) -> usize {
        let start = self.attached_start(id, index);
        Arc::make_mut(&mut self.sections[id.0])
            .lines
            .drain(start..=index);
        self.terminate_inner_lines();
        index + 1 - start
    }

    /// Moves line `from`, with its attached comments, before the line now at
    /// index `to` (or to the end when `to` is the section's length). Returns
    /// the line's new index.
    pub fn move_line(&mut self, id: SectionId, from: usize, to: usize) -> usize {
        let start = self.attached_start(id, from);
        if (start..=from + 1).contains(&to) {
            return from;
        }
        let lines = &mut Arc::make_mut(&mut self.sections[id.0]).lines;
        let block: Vec<Line> = lines.drain(start..=from).collect();
        let count = block.len();
        let at = if to > from { to - count } else { to };
        lines.splice(at..at, block);
        self.terminate_inner_lines();
        at + count - 1
    }

    /// Where the run of full-line comments directly above line `index`, at
    /// its indentation, starts: the place to insert a line "before" it
    /// without separating it from its comments.
    pub fn comments_above(&self, id: SectionId, index: usize) -> usize {
        let section = self.section(id);
        let Some(line) = section.line(index) else {
            return index;
        };
        let indent = line.indent();
        let mut start = index;
        while start > 0 {
            let above = section.line(start - 1).expect("index in range");
            if above.kind() != LineKind::Comment || above.indent() != indent {
                break;
            }
            start -= 1;
        }
        start
    }

    /// Where the run of comments attached to line `index` starts (`index`
    /// itself when none is attached).
    fn attached_start(&self, id: SectionId, index: usize) -> usize {
        let section = self.section(id);
        let Some(line) = section.line(index) else {
            return index;
        };
        let indent = line.indent();
        let ends_block = match section.line(index + 1) {
            None => true,
            Some(next) => next.kind() != line.kind() || next.indent() != indent,
        };
        if !ends_block {
            return index;
        }
        self.comments_above(id, index)
    }

    /// Inserts a new section whose header is `header` (e.g. `["backend",
    /// "web"]`) before section `before`, or at the end of the file. A blank
    /// line separates it from what comes before. Returns its id.
    pub fn insert_section(&mut self, before: Option<SectionId>, header: &[&str]) -> SectionId {
        self.names = Arc::default();
        // The end of the file appended sections go to: the start of the next.
        let before = before.or_else(|| {
            let files = self.files();
            let next = files.get(self.append_to? + 1)?;
            Some(SectionId(next.1.start))
        });
        let at = before.map_or(self.sections.len(), |id| id.0);
        let kind = header.first().and_then(|k| self.dialect.header(k));
        let kind = kind.unwrap_or(SectionKind::Other);
        let mut header_line = Line::owned(&render_line(b"", header), self.eol);
        header_line.kind = LineKind::Header;
        let mut section = crate::document::Section {
            kind,
            header: Some(header_line),
            lines: vec![],
        };
        // The comments introducing the section we insert before stay with it.
        // Before another file's start, the section ends its file.
        let before = before.filter(|id| !self.starts_file(id.0));
        let moved = match before {
            Some(id) => self.take_section_comments(id),
            None => Vec::new(),
        };
        // A blank line separates the new section from the one that follows.
        if before.is_some() {
            section.lines.push(Line::owned(b"", self.eol));
            section.lines.extend(moved);
        }
        let eol = self.eol;
        let previous = &self.sections[at - 1];
        let ends_blank = previous.lines.last().map(|l| l.kind == LineKind::Blank);
        let needs_blank = match ends_blank {
            Some(blank) => !blank,
            None => previous.header.is_some(),
        };
        if needs_blank {
            let previous = Arc::make_mut(&mut self.sections[at - 1]);
            previous.lines.push(Line::owned(b"", eol));
        }
        self.sections.insert(at, Arc::new(section));
        self.terminate_inner_lines();
        SectionId(at)
    }

    /// Sections inserted at the end go to the end of file `file` (its index
    /// in [`Document::files`]) instead of the last one; `None` sets it back.
    pub fn append_to_file(&mut self, file: Option<usize>) {
        self.append_to = file;
    }

    /// Removes the run of comments attached to a section's header from the
    /// end of the section before it, and returns them.
    fn take_section_comments(&mut self, id: SectionId) -> Vec<Line> {
        if self.starts_file(id.0) {
            // The end of a file: its comments are its own.
            return Vec::new();
        }
        let indent = self.section(id).header().indent().to_vec();
        let previous = id.0 - 1;
        let lines = &self.sections[previous].lines;
        let mut start = lines.len();
        while start > 0 {
            let line = self.line_ref(&lines[start - 1]);
            if line.kind() != LineKind::Comment || line.indent() != indent.as_slice() {
                break;
            }
            start -= 1;
        }
        if start == lines.len() {
            return Vec::new();
        }
        Arc::make_mut(&mut self.sections[previous])
            .lines
            .split_off(start)
    }

    /// Removes a section with the comments attached to its header.
    pub fn remove_section(&mut self, id: SectionId) {
        self.names = Arc::default();
        self.take_section_comments(id);
        self.sections.remove(id.0);
        if id.0 == self.sections.len() || self.starts_file(id.0) {
            // The last section (of its file) went: drop the blank lines that
            // separated it.
            let last = &mut self.sections[id.0 - 1];
            if last.lines.last().is_some_and(|l| l.kind == LineKind::Blank) {
                let last = Arc::make_mut(last);
                while last.lines.last().is_some_and(|l| l.kind == LineKind::Blank) {
                    last.lines.pop();
                }
            }
        }
        self.terminate_inner_lines();
    }

    /// Moves a section, with its attached comments, before section `before`
    /// (or to the end). Returns its new id.
    pub fn move_section(&mut self, id: SectionId, before: Option<SectionId>) -> SectionId {
        self.names = Arc::default();
        if before == Some(id) {
            return id;
        }
        let comments = self.take_section_comments(id);
        let mut section = Arc::unwrap_or_clone(self.sections.remove(id.0));
        let at = match before {
            Some(b) if b.0 > id.0 => b.0 - 1,
            Some(b) => b.0,
            None => self.sections.len(),
        };
        let eol = self.eol;
        // The comments introducing the section we move before stay with it,
        // after the moved section, which keeps a blank line to separate them.
        if at < self.sections.len() && !self.starts_file(at) {
            let next_comments = self.take_section_comments(SectionId(at));
            if section
                .lines
                .last()
                .is_some_and(|l| l.kind != LineKind::Blank)
            {
                section.lines.push(Line::owned(b"", eol));
            }
            section.lines.extend(next_comments);
        }
        let previous = Arc::make_mut(&mut self.sections[at - 1]);
        if previous
            .lines
            .last()
            .is_some_and(|l| l.kind != LineKind::Blank)
        {
            previous.lines.push(Line::owned(b"", eol));
        }
        previous.lines.extend(comments);
        self.sections.insert(at, Arc::new(section));
        self.terminate_inner_lines();
        SectionId(at)
    }

    /// Whether section `index` is the start of another file.
    fn starts_file(&self, index: usize) -> bool {
        self.sections
            .get(index)
            .is_some_and(|s| s.kind == SectionKind::File)
    }

    /// Gives an end of line to every line that has none but is no longer the
    /// last one (the file had no final newline and an edit added after it).
    /// Only a source without a final end of line has such a line.
    fn terminate_inner_lines(&mut self) {
        if !self.open_end {
            return;
        }
        let eol = self.eol;
        // (section, line) of every line without an end but the last line.
        let mut open: Vec<(usize, Option<usize>)> = Vec::new();
        let mut last: Option<(usize, Option<usize>)> = None;
        for (s, section) in self.sections.iter().enumerate() {
            let lines = section.header.iter().map(|l| (None, l));
            let lines = lines.chain(section.lines.iter().enumerate().map(|(i, l)| (Some(i), l)));
            for (i, line) in lines {
                open.extend(last.take());
                if line.eol == Eol::None {
                    last = Some((s, i));
                }
            }
        }
        for (s, i) in open {
            let section = Arc::make_mut(&mut self.sections[s]);
            let line = match i {
                None => section.header.as_mut().expect("a header line"),
                Some(i) => &mut section.lines[i],
            };
            line.eol = eol;
        }
    }
}

impl Document {
    /// Replaces a section's header words (`backend old` -> `backend new`),
    /// keeping its trailing comment.
    pub fn replace_header(&mut self, id: SectionId, words: &[&str]) {
        self.names = Arc::default();
        let text = rewrite(self.section(id).header(), words);
        let header = Arc::make_mut(&mut self.sections[id.0])
            .header
            .as_mut()
            .expect("sections have headers");
        let mut line = Line::owned(&text, header.eol);
        line.kind = LineKind::Header;
        *header = line;
    }
}
