//! The document: a configuration file as sections of lines, each line keeping
//! its exact bytes.
//!
//! A line is stored as a range of the parsed source until an edit replaces it
//! with bytes of its own, so an unedited document costs one small record per
//! line on top of the source, and printing is a concatenation. Words are not
//! stored: [`LineRef::words`] splits a line when it is asked for.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::diagnostic::{Diagnostic, Severity};
use crate::lexer::{self, Lexed, Word};
use crate::section::{Dialect, SectionKind, FILE_MARKER};

/// How a line ends. Only the last line of a file can have no end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eol {
    Lf,
    CrLf,
    None,
}

impl Eol {
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Eol::Lf => b"\n",
            Eol::CrLf => b"\r\n",
            Eol::None => b"",
        }
    }
}

/// What a line is, decided from its first word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Empty or only spaces and tabs.
    Blank,
    /// A full-line comment.
    Comment,
    /// `# _version=N` on the first line of the file.
    Version,
    /// A conditional-block or message directive: `.if`, `.elif`, `.else`,
    /// `.endif`, `.diag`, `.notice`, `.warning`, `.alert`.
    Directive,
    /// A section header such as `backend web`.
    Header,
    /// Any other line: a keyword and its arguments.
    Keyword,
}

#[derive(Debug, Clone)]
enum Text {
    Source { start: usize, end: usize },
    Owned(Box<[u8]>),
}

#[derive(Debug, Clone)]
pub(crate) struct Line {
    text: Text,
    pub(crate) eol: Eol,
    pub(crate) kind: LineKind,
}

impl Line {
    pub(crate) fn owned_from(text: Vec<u8>, eol: Eol) -> Line {
        Line {
            kind: classify_standalone(&text),
            text: Text::Owned(text.into_boxed_slice()),
            eol,
        }
    }

    pub(crate) fn owned(text: &[u8], eol: Eol) -> Line {
        Line::owned_from(text.to_vec(), eol)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub(crate) kind: SectionKind,
    pub(crate) header: Option<Line>,
    pub(crate) lines: Vec<Line>,
}

/// The first section of each kind and name.
pub(crate) type NameIndex = HashMap<(SectionKind, String), usize>;

/// How one document's sections differ from another's (see
/// [`Document::section_change`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionChange {
    /// Sections both start with.
    pub keep: usize,
    /// How many of the old document's sections after those were replaced.
    pub drop: usize,
    /// The new document's sections that replace them (indexes for
    /// [`Document::section_bytes`]).
    pub inserted: std::ops::Range<usize>,
}

/// Index of a section in its document; the preamble is never one of them.
/// Valid until the next edit that inserts, moves or removes sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SectionId(pub(crate) usize);

impl SectionId {
    /// The section's index for [`Document::section_bytes`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// Where a line of the file is: in which section, and which of its lines
/// (`None` for the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub section: SectionId,
    pub index: Option<usize>,
}

/// A parsed configuration file.
#[derive(Debug, Clone)]
pub struct Document {
    source: Arc<[u8]>,
    /// `sections[0]` is the preamble: the lines before the first header.
    /// Shared between clones: an edit copies only the sections it changes
    /// (`Arc::make_mut`), so a clone costs one pointer per section.
    pub(crate) sections: Vec<Arc<Section>>,
    /// The source has a last line without an end of line: an edit that
    /// adds a line after it must end it (see `terminate_inner_lines`).
    pub(crate) open_end: bool,
    /// The sections by kind and name, built on the first lookup and shared
    /// between clones until an edit adds, removes, moves or renames a
    /// section (which drops it).
    pub(crate) names: Arc<OnceLock<NameIndex>>,
    /// The end of line new lines get: the one most lines of the source use.
    pub(crate) eol: Eol,
    diagnostics: Vec<Diagnostic>,
    pub(crate) dialect: Dialect,
    /// The file (index in [`Document::files`]) sections appended go to;
    /// `None`: the last one.
    pub(crate) append_to: Option<usize>,
}

const DIRECTIVES: &[&str] = &[
    ".if", ".elif", ".else", ".endif", ".diag", ".notice", ".warning", ".alert",
];

impl Document {
    /// Parses a configuration. Never fails: problems become diagnostics.
    pub fn parse(source: impl Into<Arc<[u8]>>) -> Document {
        Parser::new(source.into(), Dialect::Haproxy).run()
    }

    /// Parses a SPOE file (`[scope]`, `spoe-agent`, `spoe-message`,
    /// `spoe-group` sections).
    pub fn parse_spoe(source: impl Into<Arc<[u8]>>) -> Document {
        Parser::new(source.into(), Dialect::Spoe).run()
    }

    /// The language of the file.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The problems found while parsing.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The file as bytes: exactly the input when nothing was edited.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.source.len() + 64);
        self.for_each_line(|bytes, eol| {
            out.extend_from_slice(bytes);
            out.extend_from_slice(eol.as_bytes());
        });
        out
    }

    /// The file as text; invalid UTF-8 is replaced (use `to_bytes` to keep it).
    pub fn to_text(&self) -> String {
        match String::from_utf8(self.to_bytes()) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    fn for_each_line(&self, mut f: impl FnMut(&[u8], Eol)) {
        for section in &self.sections {
            for line in section.header.iter().chain(&section.lines) {
                f(self.bytes(line), line.eol);
            }
        }
    }

    /// How many sections the file holds, counting the preamble (index 0,
    /// the lines before the first header) as one.
    pub fn section_count(&self) -> usize {
        self.sections.len()
    }

    /// The bytes of section `index` (0 is the preamble), header and lines
    /// with their ends: the file is the concatenation of every section's.
    pub fn section_bytes(&self, index: usize) -> Vec<u8> {
        let section = &self.sections[index];
        let mut out = Vec::new();
        for line in section.header.iter().chain(&section.lines) {
            out.extend_from_slice(self.bytes(line));
            out.extend_from_slice(line.eol.as_bytes());
        }
        out
    }

    /// The bytes of section `index` in pieces, each line then its end of
    /// line: [`Document::section_bytes`] without the copy.
    pub fn section_pieces(&self, index: usize) -> impl Iterator<Item = &[u8]> + '_ {
        let section = &self.sections[index];
        section
            .header
            .iter()
            .chain(&section.lines)
            .flat_map(|line| [self.bytes(line), line.eol.as_bytes()])
    }

    /// The length of [`Document::section_bytes`] of section `index`.
    pub fn section_len(&self, index: usize) -> usize {
        let section = &self.sections[index];
        section
            .header
            .iter()
            .chain(&section.lines)
            .map(|line| self.bytes(line).len() + line.eol.as_bytes().len())
            .sum()
    }

    /// What changed from `before` to this document, in sections: both
    /// share the first `keep` sections and the last ones, and `before`'s
    /// `drop` sections after the first `keep` became this document's
    /// `inserted` ones. Sections count as shared when an edit of a clone
    /// left them untouched, so comparing costs one pointer per section.
    pub fn section_change(&self, before: &Document) -> SectionChange {
        let (old, new) = (&before.sections, &self.sections);
        let shared = |a: &Arc<Section>, b: &Arc<Section>| Arc::ptr_eq(a, b);
        let keep = old
            .iter()
            .zip(new.iter())
            .take_while(|(a, b)| shared(a, b))
            .count();
        let tail = old[keep..]
            .iter()
            .rev()
            .zip(new[keep..].iter().rev())
            .take_while(|(a, b)| shared(a, b))
            .count();
        SectionChange {
            keep,
            drop: old.len() - keep - tail,
            inserted: keep..new.len() - tail,
        }
    }

    pub(crate) fn bytes<'a>(&'a self, line: &'a Line) -> &'a [u8] {
        match &line.text {
            Text::Source { start, end } => &self.source[*start..*end],
            Text::Owned(bytes) => bytes,
        }
    }

    pub(crate) fn line_ref<'a>(&'a self, line: &'a Line) -> LineRef<'a> {
        LineRef {
            bytes: self.bytes(line),
            kind: line.kind,
            eol: line.eol,
        }
    }

    /// The lines before the first section header.
    pub fn preamble(&self) -> impl Iterator<Item = LineRef<'_>> {
        self.sections[0].lines.iter().map(|l| self.line_ref(l))
    }

    /// Every section, in file order.
    pub fn sections(&self) -> impl Iterator<Item = SectionRef<'_>> {
        (1..self.sections.len()).map(|i| SectionRef {
            doc: self,
            id: SectionId(i),
        })
    }

    /// The sections of a range of indexes (such as a [`SectionChange`]'s),
    /// in file order; the preamble (index 0) is not one of them.
    pub fn sections_at(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl Iterator<Item = SectionRef<'_>> {
        (range.start.max(1)..range.end.min(self.sections.len())).map(|i| SectionRef {
            doc: self,
            id: SectionId(i),
        })
    }

    /// The id of the section at `index` (as [`Document::files`] gives
    /// them); `None` for the preamble and past the end.
    pub fn section_id(&self, index: usize) -> Option<SectionId> {
        (index > 0 && index < self.sections.len()).then_some(SectionId(index))
    }

    /// The section `id` names. Panics if `id` does not belong to this document.
    pub fn section(&self, id: SectionId) -> SectionRef<'_> {
        assert!(id.0 > 0 && id.0 < self.sections.len(), "no section {id:?}");
        SectionRef { doc: self, id }
    }

    /// Sections of one kind, in file order.
    pub fn sections_of(&self, kind: SectionKind) -> impl Iterator<Item = SectionRef<'_>> {
        self.sections().filter(move |s| s.kind() == kind)
    }

    /// The first section of `kind` named `name`.
    pub fn find_section(&self, kind: SectionKind, name: &str) -> Option<SectionId> {
        let names = self.names.get_or_init(|| {
            let mut names = NameIndex::new();
            for section in self.sections() {
                if let Some(name) = section.name() {
                    names
                        .entry((section.kind(), name))
                        .or_insert(section.id().0);
                }
            }
            names
        });
        names.get(&(kind, name.to_owned())).map(|&i| SectionId(i))
    }

    /// The 1-based line number of a section's header or of one of its lines.
    pub fn line_number(&self, location: Location) -> usize {
        let before: usize = self.sections[..location.section.0]
            .iter()
            .map(|s| s.header.is_some() as usize + s.lines.len())
            .sum();
        let header = self.sections[location.section.0].header.is_some() as usize;
        match location.index {
            None => before + 1,
            Some(i) => before + header + i + 1,
        }
    }

    /// Where the 1-based line `number` is; `None` past the end or in the
    /// preamble.
    pub fn locate(&self, number: usize) -> Option<Location> {
        let mut first = 1;
        for (i, section) in self.sections.iter().enumerate() {
            let count = section.header.is_some() as usize + section.lines.len();
            if number < first + count {
                if i == 0 {
                    return None;
                }
                let offset = number - first;
                let index = if offset == 0 { None } else { Some(offset - 1) };
                return Some(Location {
                    section: SectionId(i),
                    index,
                });
            }
            first += count;
        }
        None
    }

    /// The files this document joins (see [`FILE_MARKER`]), in order: the
    /// path each one's marker names (`None` for the first, which has no
    /// marker) and the indexes of its sections (the first file's start
    /// with the preamble, another's with its marker section). A document
    /// read from one file is one file.
    pub fn files(&self) -> Vec<(Option<String>, std::ops::Range<usize>)> {
        let mut out = vec![(None, 0..self.sections.len())];
        for (i, section) in self.sections.iter().enumerate().skip(1) {
            if section.kind == SectionKind::File {
                out.last_mut().expect("the first file").1.end = i;
                let path = self.section(SectionId(i)).file_path();
                out.push((path, i..self.sections.len()));
            }
        }
        out
    }

    /// The bytes of the file whose sections are `range` (one of
    /// [`Document::files`]), without the marker that starts it.
    pub fn file_bytes(&self, range: std::ops::Range<usize>) -> Vec<u8> {
        let mut out = Vec::new();
        for index in range {
            let section = &self.sections[index];
            let header = section
                .header
                .iter()
                .filter(|_| section.kind != SectionKind::File);
            for line in header.chain(&section.lines) {
                out.extend_from_slice(self.bytes(line));
                out.extend_from_slice(line.eol.as_bytes());
            }
        }
        out
    }

    /// The line of the document that is line `line` (1-based) of the file
    /// whose sections start at `first` (one of [`Document::files`]).
    pub fn file_line(&self, first: usize, line: usize) -> usize {
        match first {
            0 => line,
            _ => {
                self.line_number(Location {
                    section: SectionId(first),
                    index: None,
                }) + line
            }
        }
    }

    /// The number `# _version=N` on the first line holds, if there is one.
    pub fn version(&self) -> Option<u64> {
        let first = self.sections[0].lines.first()?;
        if first.kind != LineKind::Version {
            return None;
        }
        parse_version_line(self.bytes(first))
    }
}

fn parse_version_line(bytes: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let rest = text.trim_end().strip_prefix("# _version=")?;
    rest.parse().ok()
}

/// Classifies a line on its own (no "first line" context).
fn classify_standalone(bytes: &[u8]) -> LineKind {
    classify(bytes, false, Dialect::Haproxy).0
}

/// Classifies a line; also returns the header keyword's kind for headers.
fn classify(bytes: &[u8], first_line: bool, dialect: Dialect) -> (LineKind, Option<SectionKind>) {
    let start = bytes.iter().position(|&b| b != b' ' && b != b'\t');
    let Some(start) = start else {
        return (LineKind::Blank, None);
    };
    match bytes[start] {
        b'#' if start == 0
            && dialect == Dialect::Haproxy
            && bytes.starts_with(FILE_MARKER.as_bytes()) =>
        {
            (LineKind::Header, Some(SectionKind::File))
        }
        b'#' => {
            if first_line && parse_version_line(bytes).is_some() {
                (LineKind::Version, None)
            } else {
                (LineKind::Comment, None)
            }
        }
        b'.' => (LineKind::Directive, None),
        _ => {
            let end = bytes[start..]
                .iter()
                .position(|&b| matches!(b, b' ' | b'\t' | b'#' | b'\'' | b'"' | b'\\'))
                .map_or(bytes.len(), |p| start + p);
            let quoted = end < bytes.len() && matches!(bytes[end], b'\'' | b'"' | b'\\');
            let first: Option<Cow<'_, str>> = if quoted {
                // A quoted or escaped first word: let the lexer read it.
                lexer::lex(bytes).words.into_iter().next().map(|w| w.value)
            } else {
                std::str::from_utf8(&bytes[start..end])
                    .ok()
                    .map(Cow::Borrowed)
            };
            match first.as_deref().and_then(|f| dialect.header(f)) {
                Some(kind) => (LineKind::Header, Some(kind)),
                None => (LineKind::Keyword, None),
            }
        }
    }
}

struct Parser {
    source: Arc<[u8]>,
    sections: Vec<Section>,
    diagnostics: Vec<Diagnostic>,
    /// Line numbers of the `.if` lines still open.
    open_ifs: Vec<usize>,
    lf: usize,
    crlf: usize,
    dialect: Dialect,
}

impl Parser {
    fn new(source: Arc<[u8]>, dialect: Dialect) -> Parser {
        let preamble = Section {
            kind: SectionKind::Preamble,
            header: None,
            lines: Vec::new(),
        };
        Parser {
            source,
            sections: vec![preamble],
            diagnostics: Vec::new(),
            open_ifs: Vec::new(),
            lf: 0,
            crlf: 0,
            dialect,
        }
    }

    fn run(mut self) -> Document {
        let source = Arc::clone(&self.source);
        let mut start = 0;
        let mut number = 0;
        while start < source.len() {
            number += 1;
            let (end, next, eol) = match memchr::memchr(b'\n', &source[start..]) {
                Some(p) if p > 0 && source[start + p - 1] == b'\r' => {
                    (start + p - 1, start + p + 1, Eol::CrLf)
                }
                Some(p) => (start + p, start + p + 1, Eol::Lf),
                None => (source.len(), source.len(), Eol::None),
            };
            self.line(number, start, end, eol);
            start = next;
        }
        for line in std::mem::take(&mut self.open_ifs) {
            self.error(line, 1, "this .if has no matching .endif");
        }
        let eol = if self.crlf > self.lf {
            Eol::CrLf
        } else {
            Eol::Lf
        };
        let open_end = !source.is_empty() && !source.ends_with(b"\n");
        Document {
            source,
            sections: self.sections.into_iter().map(Arc::new).collect(),
            open_end,
            names: Arc::default(),
            eol,
            diagnostics: self.diagnostics,
            dialect: self.dialect,
            append_to: None,
        }
    }

    fn line(&mut self, number: usize, start: usize, end: usize, eol: Eol) {
        match eol {
            Eol::Lf => self.lf += 1,
            Eol::CrLf => self.crlf += 1,
            Eol::None => {}
        }
        let source = Arc::clone(&self.source);
        let bytes = &source[start..end];
        let (kind, header) = classify(bytes, number == 1, self.dialect);
        if matches!(
            kind,
            LineKind::Keyword | LineKind::Header | LineKind::Directive
        ) && memchr::memchr2(b'\'', b'"', bytes).is_some()
        {
            if let Some(error) = lexer::lex(bytes).error {
                self.error(number, error.offset + 1, error.message);
            }
        }
        if std::str::from_utf8(bytes).is_err() {
            self.warning(number, 1, "this line is not valid UTF-8; it is kept as is");
        }
        if kind == LineKind::Directive {
            self.directive(number, bytes);
        }
        let line = Line {
            text: Text::Source { start, end },
            eol,
            kind,
        };
        match header {
            Some(kind) => self.sections.push(Section {
                kind,
                header: Some(line),
                lines: Vec::new(),
            }),
            None => {
                let outside = self.sections.len() == 1
                    || self
                        .sections
                        .last()
                        .is_some_and(|s| s.kind == SectionKind::File);
                if kind == LineKind::Keyword && outside {
                    let column = bytes
                        .iter()
                        .take_while(|&&b| b == b' ' || b == b'\t')
                        .count();
                    self.error(number, column + 1, "keyword outside of any section");
                }
                self.sections
                    .last_mut()
                    .expect("the preamble always exists")
                    .lines
                    .push(line);
            }
        }
    }

    fn directive(&mut self, number: usize, bytes: &[u8]) {
        let lexed: Lexed<'_> = lexer::lex(bytes);
        let Some(word) = lexed.words.first() else {
            return;
        };
        let column = word.start + 1;
        match &*word.value {
            ".if" => self.open_ifs.push(number),
            ".elif" | ".else" if self.open_ifs.is_empty() => {
                self.error(number, column, "this directive is outside any .if block")
            }
            ".endif" => self.close_if(number, column),
            name if !DIRECTIVES.contains(&name) => self.warning(
                number,
                column,
                "unknown directive; expected one of .if, .elif, .else, .endif, .diag, .notice, .warning, .alert",
            ),
            _ => {}
        }
    }

    fn close_if(&mut self, number: usize, column: usize) {
        if self.open_ifs.pop().is_none() {
            self.error(number, column, ".endif without a matching .if");
        }
    }

    fn error(&mut self, line: usize, column: usize, message: &str) {
        self.diagnostics.push(Diagnostic {
            line,
            column,
            severity: Severity::Error,
            message: message.to_owned(),
        });
    }

    fn warning(&mut self, line: usize, column: usize, message: &str) {
        self.diagnostics.push(Diagnostic {
            line,
            column,
            severity: Severity::Warning,
            message: message.to_owned(),
        });
    }
}

/// A read-only view of one section.
#[derive(Debug, Clone, Copy)]
pub struct SectionRef<'a> {
    doc: &'a Document,
    id: SectionId,
}

impl<'a> SectionRef<'a> {
    fn raw(&self) -> &'a Section {
        &self.doc.sections[self.id.0]
    }

    pub fn id(&self) -> SectionId {
        self.id
    }

    pub fn kind(&self) -> SectionKind {
        self.raw().kind
    }

    /// The header line.
    pub fn header(&self) -> LineRef<'a> {
        let header = self.raw().header.as_ref().expect("sections have headers");
        self.doc.line_ref(header)
    }

    /// The header's words after the section keyword (`web` in `backend web`).
    pub fn header_args(&self) -> Vec<String> {
        self.header()
            .words()
            .into_iter()
            .skip(1)
            .map(|w| w.value.into_owned())
            .collect()
    }

    /// The section's name: the first header argument, except for a
    /// `defaults from X` header, which has none.
    pub fn name(&self) -> Option<String> {
        if self.kind() == SectionKind::File {
            return self.file_path();
        }
        let args = self.header_args();
        let first = args.into_iter().next()?;
        (!(self.kind() == SectionKind::Defaults && first == "from")).then_some(first)
    }

    /// For a [`SectionKind::File`] section, the path its marker names.
    pub fn file_path(&self) -> Option<String> {
        let text = self.header().text();
        let path = text
            .strip_prefix(FILE_MARKER)?
            .trim_end_matches(['\r', '\n']);
        Some(path.to_owned())
    }

    /// For `defaults [NAME] from PARENT` and proxies with `from PARENT`: PARENT.
    pub fn from(&self) -> Option<String> {
        let args = self.header_args();
        let at = args.iter().position(|a| a == "from")?;
        args.get(at + 1).cloned()
    }

    /// The lines after the header, up to the next header.
    pub fn lines(&self) -> impl Iterator<Item = LineRef<'a>> + 'a {
        let doc = self.doc;
        self.raw().lines.iter().map(move |l| doc.line_ref(l))
    }

    /// The number of lines after the header.
    pub fn len(&self) -> usize {
        self.raw().lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw().lines.is_empty()
    }

    /// Line `index` after the header.
    pub fn line(&self, index: usize) -> Option<LineRef<'a>> {
        self.raw().lines.get(index).map(|l| self.doc.line_ref(l))
    }

    /// The keyword lines, with their index, in order.
    pub fn keyword_lines(&self) -> impl Iterator<Item = (usize, LineRef<'a>)> + 'a {
        self.lines()
            .enumerate()
            .filter(|(_, l)| l.kind() == LineKind::Keyword)
    }

    /// The indentation new lines of this section get: that of its first
    /// keyword line, or four spaces.
    pub fn indent(&self) -> &'a [u8] {
        self.keyword_lines()
            .next()
            .map(|(_, l)| l.indent())
            .unwrap_or(b"    ")
    }
}

/// A read-only view of one line.
#[derive(Debug, Clone, Copy)]
pub struct LineRef<'a> {
    bytes: &'a [u8],
    kind: LineKind,
    eol: Eol,
}

impl<'a> LineRef<'a> {
    /// The line's bytes, without its end of line.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The line's text, without its end of line.
    pub fn text(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.bytes)
    }

    pub fn kind(&self) -> LineKind {
        self.kind
    }

    pub fn eol(&self) -> Eol {
        self.eol
    }

    /// The leading spaces and tabs.
    pub fn indent(&self) -> &'a [u8] {
        let n = self
            .bytes
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        &self.bytes[..n]
    }

    /// Whether the line's first word may be `word`: it is, or it holds a
    /// quote or an escape, which only the full split reads. A test that
    /// costs a few bytes before `words` costs the line.
    pub fn may_start_with(&self, word: &str) -> bool {
        let rest = self.bytes.trim_ascii_start();
        let end = rest
            .iter()
            .position(|b| matches!(b, b' ' | b'\t'))
            .unwrap_or(rest.len());
        let first = &rest[..end];
        first == word.as_bytes() || first.iter().any(|b| matches!(b, b'"' | b'\'' | b'\\'))
    }

    /// The line split into words (comments excluded).
    pub fn words(&self) -> Vec<Word<'a>> {
        lexer::lex(self.bytes).words
    }

    /// The full split: indentation, words, comment and quoting error.
    pub fn lexed(&self) -> Lexed<'a> {
        lexer::lex(self.bytes)
    }

    /// The trailing comment, from its `#`, if the line has one.
    pub fn comment(&self) -> Option<&'a [u8]> {
        lexer::lex(self.bytes).comment.map(|c| &self.bytes[c..])
    }
}

impl Document {
    /// A human-readable outline: one line per section (line number, kind,
    /// name, number of keyword lines), then the diagnostics.
    pub fn outline(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        if let Some(v) = self.version() {
            let _ = writeln!(out, "version {v}");
        }
        for section in self.sections() {
            let line = self.line_number(Location {
                section: section.id(),
                index: None,
            });
            let keyword = section
                .header()
                .words()
                .first()
                .map(|w| w.value.to_string());
            let mut head = keyword.unwrap_or_default();
            if let Some(name) = section.name() {
                head = format!("{head} {name}");
            }
            if let Some(from) = section.from() {
                head = format!("{head} (from {from})");
            }
            let keywords = section.keyword_lines().count();
            let _ = writeln!(out, "{line:>6}  {head}: {keywords} keyword lines");
        }
        for d in &self.diagnostics {
            let _ = writeln!(out, "{d}");
        }
        out
    }
}
