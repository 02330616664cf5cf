//! The kinds of sections a configuration can hold.

/// What a section header declares. `Preamble` is the pseudo-section of the
/// lines before the first header (the version line, leading comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    Preamble,
    Global,
    Defaults,
    Frontend,
    Backend,
    Listen,
    Userlist,
    Peers,
    Resolvers,
    Mailers,
    Cache,
    HttpErrors,
    Ring,
    LogForward,
    FcgiApp,
    Program,
    /// `crt-store` (HAProxy 3.0).
    CrtStore,
    /// `log-profile` (HAProxy 3.1).
    LogProfile,
    /// `traces` (HAProxy 3.1): no name.
    Traces,
    /// `acme` (HAProxy 3.2).
    Acme,
    /// `healthcheck` (HAProxy 3.3).
    Healthcheck,
    /// `[NAME]` in a SPOE file: the agents, messages and groups after it,
    /// up to the next scope, belong to it.
    SpoeScope,
    SpoeAgent,
    SpoeMessage,
    SpoeGroup,
    /// A section keyword this engine does not know: not produced by the
    /// haproxy dialect, kept for callers that name unknown sections.
    Other,
    /// The start of another file, in a configuration read from several:
    /// a [`FILE_MARKER`] line, which only joins files (no file holds one).
    /// Its lines are that file's lines before its first header; its name
    /// is the file's path.
    File,
}

/// The first bytes of the line that starts another file where several
/// files are read as one document (`# _haplane_file=PATH`). A comment to
/// HAProxy.
pub const FILE_MARKER: &str = "# _haplane_file=";

/// Header keywords and their kinds. The first group is every section of
/// HAProxy 2.6; the second, sections of later versions (`crt-store` from
/// 3.0, `log-profile` and `traces` from 3.1, `acme` from 3.2, `healthcheck`
/// from 3.3).
const HEADERS: &[(&str, SectionKind)] = &[
    ("global", SectionKind::Global),
    ("defaults", SectionKind::Defaults),
    ("frontend", SectionKind::Frontend),
    ("backend", SectionKind::Backend),
    ("listen", SectionKind::Listen),
    ("userlist", SectionKind::Userlist),
    ("peers", SectionKind::Peers),
    ("resolvers", SectionKind::Resolvers),
    ("mailers", SectionKind::Mailers),
    ("cache", SectionKind::Cache),
    ("http-errors", SectionKind::HttpErrors),
    ("ring", SectionKind::Ring),
    ("log-forward", SectionKind::LogForward),
    ("fcgi-app", SectionKind::FcgiApp),
    ("program", SectionKind::Program),
    ("crt-store", SectionKind::CrtStore),
    ("log-profile", SectionKind::LogProfile),
    ("traces", SectionKind::Traces),
    ("acme", SectionKind::Acme),
    ("healthcheck", SectionKind::Healthcheck),
];

/// The section keywords of a SPOE file (configuration of the `spoe`
/// filter); a `[NAME]` line is a scope.
const SPOE_HEADERS: &[(&str, SectionKind)] = &[
    ("spoe-agent", SectionKind::SpoeAgent),
    ("spoe-message", SectionKind::SpoeMessage),
    ("spoe-group", SectionKind::SpoeGroup),
];

/// Which language a file speaks: its section keywords differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// `haproxy.cfg`.
    #[default]
    Haproxy,
    /// A SPOE file: `[scope]`, `spoe-agent`, `spoe-message`, `spoe-group`.
    Spoe,
}

impl Dialect {
    /// The kind of section a line starting with `first` opens, if any.
    pub fn header(self, first: &str) -> Option<SectionKind> {
        match self {
            Dialect::Haproxy => SectionKind::from_keyword(first),
            Dialect::Spoe if first.starts_with('[') => Some(SectionKind::SpoeScope),
            Dialect::Spoe => SPOE_HEADERS
                .iter()
                .find(|(k, _)| *k == first)
                .map(|(_, kind)| *kind),
        }
    }
}

impl SectionKind {
    /// The kind a header keyword declares, if `keyword` starts a section.
    pub fn from_keyword(keyword: &str) -> Option<SectionKind> {
        HEADERS
            .iter()
            .find(|(k, _)| *k == keyword)
            .map(|(_, kind)| *kind)
    }

    /// The header keyword (`"http-errors"`); `None` for the preamble and for
    /// `Other`, whose keyword is read from the header itself.
    pub fn keyword(self) -> Option<&'static str> {
        HEADERS
            .iter()
            .chain(SPOE_HEADERS)
            .find(|(_, k)| *k == self && self != SectionKind::Other)
            .map(|(w, _)| *w)
    }

    /// Whether sections of this kind are proxies (hold `mode`, `timeout`, ...).
    pub fn is_proxy(self) -> bool {
        matches!(
            self,
            SectionKind::Defaults
                | SectionKind::Frontend
                | SectionKind::Backend
                | SectionKind::Listen
        )
    }
}
