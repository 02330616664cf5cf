//! The registry: every configuration resource of the API, described once.
//!
//! A row says what a resource is called (its collection's path segment, its
//! schema, the nouns of its operation ids), its shape (the one section of
//! its kind, named sections, one line per item, an ordered rule list), its
//! parents and where it nests in a parent's full section. The router, the
//! OpenAPI operations and schemas, the generic handlers and the fixture
//! tests all come from [`RESOURCES`]; nothing else lists resources.

use std::borrow::{Borrow, Cow};

use haplane_cfg::{Document, SectionKind};
use serde_json::{json, Map, Value};

use crate::child::ChildKind;
use crate::error::ModelError;
use crate::line::LineSpec;
use crate::resource::{self as res, ResourceError};
use crate::rule::{self, RuleKind};
use crate::template;

/// What kind of thing a resource is in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// The one section of its kind, read and replaced whole (`global`).
    Singleton(SectionKind),
    /// The one section of its kind, which a file may lack (`traces`):
    /// created, read, replaced and deleted without a name.
    Single(SectionKind),
    /// The items of a list field of its parent singleton, added at the end
    /// and deleted by value (`traces/entries`: the body names the item).
    Entry(&'static str),
    /// Named sections: listed, added, read, replaced, deleted.
    Section(SectionKind),
    /// One line per item inside its parent, found by its key field.
    Line(LineKind),
    /// The ordered lines of one rule keyword, found by index.
    Rules(RuleKind),
    /// A frontend and the backends it uses, seen as one (`site.rs`).
    Site,
}

/// The kinds of one-line resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind {
    Child(ChildKind),
    Template,
    /// A line wholly described by a param table.
    Words(&'static LineSpec),
}

/// How operation ids are spelled: `getAllServerBackend` (the parent's noun
/// at the end, for resources several kinds of section hold) or
/// `getServerTemplates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Naming {
    PerParent,
    Plain,
}

/// An operation on a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// GET the collection.
    List,
    /// POST a new item (on the collection; for rules, at an index).
    Create,
    /// GET one item (the singleton: the collection path).
    Get,
    /// PUT one item (the singleton: the collection path).
    Replace,
    /// DELETE one item.
    Delete,
    /// PUT the whole list (rules).
    ReplaceAll,
    /// PUT on the collection adds an item, as POST does (`defaults`).
    CreateOnList,
    /// POST on the collection of an indexed list adds an item at its end
    /// (`force_be_switches`).
    Append,
}

impl Action {
    /// Whether the action changes the configuration.
    pub fn writes(self) -> bool {
        !matches!(self, Action::List | Action::Get)
    }
}

/// One configuration resource of the API.
#[derive(Debug)]
pub struct Resource {
    /// The path segment of its collection (`servers`, `global`).
    pub collection: &'static str,
    /// The name of one item's schema (`server`).
    pub schema: &'static str,
    /// The noun of its operation ids (`Server`, `HTTPRequestRule`).
    noun: &'static str,
    /// The noun its children's ids end with (`Backend`); sections only.
    owner: &'static str,
    pub(crate) shape: Shape,
    /// The collections of the sections that hold it.
    parents: &'static [&'static str],
    /// The field of a parent's full section (`full_section=true`) that
    /// holds its items: a list (rules) or an object by key (lines).
    pub full: Option<&'static str>,
    /// That field under the parents that name it otherwise
    /// (`healthchecks`: `tcp_check_list`).
    full_under: &'static [(&'static str, &'static str)],
    naming: Naming,
    /// Operation ids the reference spells otherwise than `naming` says.
    ids: &'static [(Action, &'static str)],
    /// The query parameter that names the parent section, when the path
    /// does not (`/nameservers?resolver=NAME`).
    pub parent_query: Option<&'static str>,
    /// Actions the reference does not have for it.
    without: &'static [Action],
    /// Words for the operation summaries: what one item is.
    pub title: &'static str,
    /// The path segment of a section when it is a parent, when it is not
    /// its collection's (`peers/{parent_name}/servers`, `peer_section`).
    as_parent: Option<&'static str>,
    /// The path parameter that names the parent, when it is not
    /// `parent_name` (`crt_stores/{crt_store}/crt_loads`).
    pub parent_param: Option<&'static str>,
    /// The first HAProxy version that has it (`(3, 0)` for `crt-store`).
    pub since: Option<(u32, u32)>,
    /// Fields shown after the others, in this order (the reference shows a
    /// server's params first, then its address, name and port).
    pub shown_last: &'static [&'static str],
    /// Where its collection lives under `/v3` (configuration resources,
    /// but the sites view is a service of its own).
    base: &'static str,
}

/// What a row says unless it says otherwise.
const ROW: Resource = Resource {
    collection: "",
    schema: "",
    noun: "",
    owner: "",
    shape: Shape::Singleton(SectionKind::Global),
    parents: &[],
    full: None,
    full_under: &[],
    naming: Naming::Plain,
    ids: &[],
    parent_query: None,
    without: &[],
    title: "",
    as_parent: None,
    parent_param: None,
    since: None,
    shown_last: &[],
    base: CONFIGURATION,
};

const fn section(
    collection: &'static str,
    schema: &'static str,
    noun: &'static str,
    kind: SectionKind,
    title: &'static str,
) -> Resource {
    Resource {
        collection,
        schema,
        noun,
        owner: noun,
        shape: Shape::Section(kind),
        title,
        ..ROW
    }
}

const fn rules(
    collection: &'static str,
    schema: &'static str,
    noun: &'static str,
    kind: RuleKind,
    full: &'static str,
    parents: &'static [&'static str],
    title: &'static str,
) -> Resource {
    Resource {
        collection,
        schema,
        noun,
        shape: Shape::Rules(kind),
        parents,
        full: Some(full),
        naming: Naming::PerParent,
        title,
        ..ROW
    }
}

/// A line wholly described by its param table, in a section named by a
/// query parameter (`/nameservers?resolver=NAME`) or by the path.
const fn words(
    collection: &'static str,
    schema: &'static str,
    noun: &'static str,
    spec: &'static LineSpec,
    parent: &'static [&'static str],
    query: Option<&'static str>,
    title: &'static str,
) -> Resource {
    Resource {
        collection,
        schema,
        noun,
        shape: Shape::Line(LineKind::Words(spec)),
        parents: parent,
        parent_query: query,
        full: Some(collection),
        title,
        ..ROW
    }
}

const FBD: &[&str] = &["frontends", "backends", "defaults"];
const BD: &[&str] = &["backends", "defaults"];
/// Where health checks are written: proxies, and `healthcheck` sections (3.3).
const CHECKS: &[&str] = &["backends", "defaults", "healthchecks"];

const USER: LineSpec = LineSpec::new("user", "user", "username", false);
const GROUP: LineSpec = LineSpec::new("group", "group", "name", false);
const NAMESERVER: LineSpec = LineSpec::new("nameserver", "nameserver", "name", false);
const MAILER: LineSpec = LineSpec::new("mailer", "mailer_entry", "name", false);
const PEER: LineSpec = LineSpec::new("peer", "peer_entry", "name", false);
const TABLE: LineSpec = LineSpec::new("table", "table", "name", false);
const CRT_LOAD: LineSpec = LineSpec::new("load", "crt_load", "certificate", false);
const DGRAM_BIND: LineSpec = LineSpec::new("dgram-bind", "dgram_bind", "name", true);

/// Every configuration resource, in the order the specification lists them.
pub static RESOURCES: &[Resource] = &[
    Resource {
        collection: "global",
        schema: "global",
        noun: "Global",
        owner: "Global",
        title: "the global section",
        ..ROW
    },
    Resource {
        ids: &[
            (Action::List, "getDefaultsSections"),
            (Action::Create, "addDefaultsSection"),
            (Action::CreateOnList, "createDefaultsSection"),
        ],
        owner: "Defaults",
        ..section(
            "defaults",
            "defaults",
            "DefaultsSection",
            SectionKind::Defaults,
            "defaults section",
        )
    },
    section(
        "frontends",
        "frontend",
        "Frontend",
        SectionKind::Frontend,
        "frontend",
    ),
    section(
        "backends",
        "backend",
        "Backend",
        SectionKind::Backend,
        "backend",
    ),
    Resource {
        without: &[Action::Replace],
        ..section(
            "userlists",
            "userlist",
            "Userlist",
            SectionKind::Userlist,
            "userlist",
        )
    },
    section(
        "resolvers",
        "resolver",
        "Resolver",
        SectionKind::Resolvers,
        "resolvers section",
    ),
    Resource {
        ids: &[(Action::Replace, "editMailersSection")],
        ..section(
            "mailers_section",
            "mailers_section",
            "MailersSection",
            SectionKind::Mailers,
            "mailers section",
        )
    },
    Resource {
        ids: &[
            (Action::List, "getPeerSections"),
            (Action::Create, "createPeer"),
            (Action::Delete, "deletePeer"),
        ],
        owner: "Peer",
        without: &[Action::Replace],
        as_parent: Some("peers"),
        ..section(
            "peer_section",
            "peer_section",
            "PeerSection",
            SectionKind::Peers,
            "peers section",
        )
    },
    section("caches", "cache", "Cache", SectionKind::Cache, "cache"),
    section(
        "http_errors_sections",
        "http_errors_section",
        "HTTPErrorsSection",
        SectionKind::HttpErrors,
        "http-errors section",
    ),
    section("rings", "ring", "Ring", SectionKind::Ring, "ring"),
    Resource {
        since: Some((3, 1)),
        ids: &[(Action::Replace, "editLogProfile")],
        ..section(
            "log_profiles",
            "log_profile",
            "LogProfile",
            SectionKind::LogProfile,
            "log profile",
        )
    },
    Resource {
        since: Some((3, 2)),
        ids: &[
            (Action::List, "getAcmeProviders"),
            (Action::Replace, "editAcmeProvider"),
        ],
        ..section(
            "acme",
            "acme_provider",
            "AcmeProvider",
            SectionKind::Acme,
            "ACME provider",
        )
    },
    Resource {
        since: Some((3, 3)),
        owner: "Healthcheck",
        ..section(
            "healthchecks",
            "healthcheck",
            "HealthCheck",
            SectionKind::Healthcheck,
            "health check section",
        )
    },
    Resource {
        since: Some((3, 1)),
        shape: Shape::Single(SectionKind::Traces),
        ..section(
            "traces",
            "traces",
            "Traces",
            SectionKind::Traces,
            "traces section",
        )
    },
    Resource {
        collection: "entries",
        schema: "trace_entry",
        noun: "TraceEntry",
        shape: Shape::Entry("entries"),
        parents: &["traces"],
        since: Some((3, 1)),
        title: "trace entry",
        ..ROW
    },
    section(
        "log_forwards",
        "log_forward",
        "LogForward",
        SectionKind::LogForward,
        "log-forward section",
    ),
    section(
        "fcgi_apps",
        "fcgi_app",
        "FCGIApp",
        SectionKind::FcgiApp,
        "FastCGI application",
    ),
    Resource {
        ids: &[(Action::Replace, "editCrtStore")],
        since: Some((3, 0)),
        ..section(
            "crt_stores",
            "crt_store",
            "CrtStore",
            SectionKind::CrtStore,
            "certificate store",
        )
    },
    Resource {
        collection: "sites",
        schema: "site",
        noun: "Site",
        shape: Shape::Site,
        title: "site",
        base: "/services/haproxy",
        ..ROW
    },
    Resource {
        collection: "servers",
        schema: "server",
        noun: "Server",
        shape: Shape::Line(LineKind::Child(ChildKind::Server)),
        parents: &["backends", "peer_section", "rings"],
        full: Some("servers"),
        shown_last: &["address", "id", "metadata", "name", "port"],
        naming: Naming::PerParent,
        title: "server",
        ..ROW
    },
    Resource {
        collection: "server_templates",
        schema: "server_template",
        noun: "ServerTemplate",
        shape: Shape::Line(LineKind::Template),
        parents: &["backends"],
        full: Some("server_templates"),
        shown_last: &["fqdn", "id", "metadata", "num_or_range", "port", "prefix"],
        title: "server template",
        ..ROW
    },
    Resource {
        collection: "binds",
        schema: "bind",
        noun: "Bind",
        shape: Shape::Line(LineKind::Child(ChildKind::Bind)),
        parents: &["frontends", "log_forwards", "peer_section"],
        full: Some("binds"),
        shown_last: &["address", "metadata", "name", "port", "port-range-end"],
        naming: Naming::PerParent,
        title: "bind",
        ..ROW
    },
    words(
        "users",
        "user",
        "User",
        &USER,
        &["userlists"],
        Some("userlist"),
        "user",
    ),
    words(
        "groups",
        "group",
        "Group",
        &GROUP,
        &["userlists"],
        Some("userlist"),
        "group",
    ),
    words(
        "nameservers",
        "nameserver",
        "Nameserver",
        &NAMESERVER,
        &["resolvers"],
        Some("resolver"),
        "nameserver",
    ),
    words(
        "mailer_entries",
        "mailer_entry",
        "MailerEntry",
        &MAILER,
        &["mailers_section"],
        Some("mailers_section"),
        "mailer",
    ),
    words(
        "peer_entries",
        "peer_entry",
        "PeerEntry",
        &PEER,
        &["peer_section"],
        Some("peer_section"),
        "peer",
    ),
    words(
        "tables",
        "table",
        "Table",
        &TABLE,
        &["peer_section"],
        None,
        "stick table",
    ),
    Resource {
        parent_param: Some("crt_store"),
        since: Some((3, 0)),
        ..words(
            "crt_loads",
            "crt_load",
            "CrtLoad",
            &CRT_LOAD,
            &["crt_stores"],
            None,
            "certificate load",
        )
    },
    words(
        "dgram_binds",
        "dgram_bind",
        "DgramBind",
        &DGRAM_BIND,
        &["log_forwards"],
        None,
        "datagram bind",
    ),
    Resource {
        since: Some((3, 3)),
        naming: Naming::Plain,
        ids: &[
            (Action::List, "getAllForceBeSwitches"),
            (Action::Append, "createForceBeSwitch"),
        ],
        without: &[Action::Create, Action::ReplaceAll],
        ..rules(
            "force_be_switches",
            "force_be_switch",
            "ForceBeSwitch",
            RuleKind::ForceBeSwitch,
            "force_be_switch_list",
            &["frontends"],
            "forced backend switch",
        )
    },
    Resource {
        since: Some((3, 1)),
        ..rules(
            "quic_initial_rules",
            "quic_initial_rule",
            "QUICInitialRule",
            RuleKind::QuicInitial,
            "quic_initial_rule_list",
            &["frontends", "defaults"],
            "QUIC initial rule",
        )
    },
    rules(
        "acls",
        "acl",
        "Acl",
        RuleKind::Acl,
        "acl_list",
        &["frontends", "backends", "defaults", "fcgi_apps"],
        "ACL",
    ),
    Resource {
        naming: Naming::Plain,
        ..rules(
            "backend_switching_rules",
            "backend_switching_rule",
            "BackendSwitchingRule",
            RuleKind::BackendSwitching,
            "backend_switching_rule_list",
            &["frontends"],
            "backend switching rule",
        )
    },
    Resource {
        naming: Naming::Plain,
        ..rules(
            "server_switching_rules",
            "server_switching_rule",
            "ServerSwitchingRule",
            RuleKind::ServerSwitching,
            "server_switching_rule_list",
            &["backends"],
            "server switching rule",
        )
    },
    rules(
        "http_request_rules",
        "http_request_rule",
        "HTTPRequestRule",
        RuleKind::HttpRequest,
        "http_request_rule_list",
        FBD,
        "HTTP request rule",
    ),
    rules(
        "http_response_rules",
        "http_response_rule",
        "HTTPResponseRule",
        RuleKind::HttpResponse,
        "http_response_rule_list",
        FBD,
        "HTTP response rule",
    ),
    rules(
        "http_after_response_rules",
        "http_after_response_rule",
        "HTTPAfterResponseRule",
        RuleKind::HttpAfterResponse,
        "http_after_response_rule_list",
        FBD,
        "HTTP after-response rule",
    ),
    Resource {
        // The reference shows the reply's headers first.
        shown_last: &[
            "return_content",
            "return_content_format",
            "return_content_type",
            "status",
            "type",
        ],
        ..rules(
            "http_error_rules",
            "http_error_rule",
            "HTTPErrorRule",
            RuleKind::HttpError,
            "http_error_rule_list",
            FBD,
            "HTTP error rule",
        )
    },
    rules(
        "tcp_request_rules",
        "tcp_request_rule",
        "TCPRequestRule",
        RuleKind::TcpRequest,
        "tcp_request_rule_list",
        FBD,
        "TCP request rule",
    ),
    rules(
        "tcp_response_rules",
        "tcp_response_rule",
        "TCPResponseRule",
        RuleKind::TcpResponse,
        "tcp_response_rule_list",
        BD,
        "TCP response rule",
    ),
    rules(
        "http_checks",
        "http_check",
        "HTTPCheck",
        RuleKind::HttpCheck,
        "http_check_list",
        CHECKS,
        "HTTP check",
    ),
    Resource {
        full_under: &[("healthchecks", "tcp_check_list")],
        ..rules(
            "tcp_checks",
            "tcp_check",
            "TCPCheck",
            RuleKind::TcpCheck,
            "tcp_check_rule_list",
            CHECKS,
            "TCP check",
        )
    },
    Resource {
        since: Some((3, 2)),
        naming: Naming::Plain,
        ids: &[
            (Action::List, "getAllSSLFrontUses"),
            (Action::Append, "createSSLFrontUse"),
        ],
        without: &[Action::Create, Action::ReplaceAll],
        ..rules(
            "ssl_front_uses",
            "ssl_front_use",
            "SSLFrontUse",
            RuleKind::SslFrontUse,
            "ssl_front_use_list",
            &["frontends"],
            "certificate of the frontend",
        )
    },
    rules(
        "filters",
        "filter",
        "Filter",
        RuleKind::Filter,
        "filter_list",
        &["frontends", "backends"],
        "filter",
    ),
    Resource {
        naming: Naming::Plain,
        ..rules(
            "stick_rules",
            "stick_rule",
            "StickRule",
            RuleKind::Stick,
            "stick_rule_list",
            &["backends"],
            "stick rule",
        )
    },
    rules(
        "log_targets",
        "log_target",
        "LogTarget",
        RuleKind::LogTarget,
        "log_target_list",
        &[
            "frontends",
            "backends",
            "defaults",
            "global",
            "log_forwards",
            "peer_section",
        ],
        "log target",
    ),
    Resource {
        naming: Naming::Plain,
        ..rules(
            "captures",
            "capture",
            "DeclareCapture",
            RuleKind::Capture,
            "capture_list",
            &["frontends"],
            "capture",
        )
    },
];

/// Where configuration resources live under `/v3`.
pub const CONFIGURATION: &str = "/services/haproxy/configuration";

/// The line table of a section kind that is not a proxy: its schema's name.
pub(crate) fn section_table(kind: SectionKind) -> Option<&'static str> {
    RESOURCES
        .iter()
        .find(|r| r.shape == Shape::Section(kind) || r.shape == Shape::Single(kind))
        .map(|r| r.schema)
}

/// Whether the section schema `schema` is of the one section of its kind
/// that has no name (`traces`).
pub(crate) fn unnamed_section(schema: &str) -> bool {
    RESOURCES
        .iter()
        .any(|r| r.schema == schema && matches!(r.shape, Shape::Single(_)))
}

/// The resource whose collection is `collection`.
pub fn resource(collection: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.collection == collection)
}

impl Resource {
    /// The field of `parent`'s full section that holds its items.
    pub fn full_field(&self, parent: &Resource) -> Option<&'static str> {
        let under = self
            .full_under
            .iter()
            .find(|(p, _)| *p == parent.collection);
        under.map(|(_, field)| *field).or(self.full)
    }

    /// The sections that hold it (none for sections).
    pub fn parents(&self) -> impl Iterator<Item = &'static Resource> + '_ {
        self.parents
            .iter()
            .map(|p| resource(p).expect("parents name resources of the registry"))
    }

    /// The resources a section holds.
    pub fn children(&'static self) -> impl Iterator<Item = &'static Resource> {
        RESOURCES
            .iter()
            .filter(move |r| r.parents.contains(&self.collection))
    }

    /// The configuration section kind of a section resource.
    pub(crate) fn section_kind(&self) -> Option<SectionKind> {
        match self.shape {
            Shape::Singleton(kind) | Shape::Single(kind) | Shape::Section(kind) => Some(kind),
            _ => None,
        }
    }

    /// Whether a POST may add a list of items at once: named one-line
    /// children (servers, binds, templates, nameservers...).
    pub fn takes_many(&self) -> bool {
        matches!(self.shape, Shape::Line(_))
    }

    /// Whether it is a section (named, or the one of its kind).
    pub fn is_section(&self) -> bool {
        self.section_kind().is_some()
    }

    /// Whether it is the one section of its kind, addressed without a name.
    pub fn is_singleton(&self) -> bool {
        matches!(self.shape, Shape::Singleton(_) | Shape::Single(_))
    }

    /// Whether a DELETE names its item by the body rather than the path
    /// (`traces/entries`).
    pub fn deletes_by_value(&self) -> bool {
        matches!(self.shape, Shape::Entry(_))
    }

    /// Whether its items are addressed by index (rules).
    pub fn is_indexed(&self) -> bool {
        matches!(self.shape, Shape::Rules(_))
    }

    /// The path parameter of one item: `name`, `prefix` or `index`; none
    /// for the singleton.
    pub fn key(&self) -> Option<&'static str> {
        match self.shape {
            Shape::Singleton(_) | Shape::Single(_) | Shape::Entry(_) => None,
            Shape::Line(LineKind::Template) => Some("prefix"),
            Shape::Line(LineKind::Words(spec)) => Some(spec.key),
            Shape::Rules(_) => Some("index"),
            _ => Some("name"),
        }
    }

    /// The operations it has.
    pub fn actions(&self) -> Vec<Action> {
        use Action::*;
        let mut actions = match self.shape {
            Shape::Singleton(_) => vec![Get, Replace],
            Shape::Single(_) => vec![Get, Create, Replace, Delete],
            Shape::Entry(_) => vec![Create, Delete],
            Shape::Section(_) | Shape::Line(_) | Shape::Site => {
                vec![List, Create, Get, Replace, Delete]
            }
            Shape::Rules(_) => vec![List, ReplaceAll, Get, Create, Replace, Delete],
        };
        for extra in [CreateOnList, Append] {
            if self.ids.iter().any(|(a, _)| *a == extra) {
                actions.push(extra);
            }
        }
        actions.retain(|a| !self.without.contains(a));
        actions
    }

    /// Whether reads and writes take `full_section` (sections with children).
    pub fn has_full_section(&self) -> bool {
        self.is_section()
            && RESOURCES
                .iter()
                .any(|r| r.parents.contains(&self.collection))
    }

    /// The path of its collection under `parent` (`{parent_name}` in it
    /// when the parent is a named section).
    pub fn collection_path(&self, parent: Option<&Resource>) -> String {
        match parent {
            None => format!("{}/{}", self.base, self.collection),
            Some(_) if self.parent_query.is_some() => {
                format!("{}/{}", self.base, self.collection)
            }
            Some(p) if p.is_singleton() => {
                format!("{CONFIGURATION}/{}/{}", p.collection, self.collection)
            }
            Some(p) => format!(
                "{CONFIGURATION}/{}/{{{}}}/{}",
                p.as_parent.unwrap_or(p.collection),
                self.parent_param.unwrap_or("parent_name"),
                self.collection
            ),
        }
    }

    /// The path of one item (the collection's for the singleton).
    pub fn item_path(&self, parent: Option<&Resource>) -> String {
        let collection = self.collection_path(parent);
        match self.key() {
            Some(key) => format!("{collection}/{{{key}}}"),
            None => collection,
        }
    }

    /// The operation id of `action` under `parent`, as the reference spells it.
    pub fn operation_id(&self, action: Action, parent: Option<&Resource>) -> String {
        if let Some((_, id)) = self.ids.iter().find(|(a, _)| *a == action) {
            return (*id).to_owned();
        }
        let noun = self.noun;
        let owner = parent.map(|p| p.owner).unwrap_or_default();
        match (self.naming, action) {
            (Naming::PerParent, Action::List) => format!("getAll{noun}{owner}"),
            (Naming::PerParent, Action::ReplaceAll) => format!("replaceAll{noun}{owner}"),
            (Naming::PerParent, action) => format!("{}{noun}{owner}", verb(action)),
            (Naming::Plain, Action::List) => format!("get{noun}s"),
            (Naming::Plain, Action::ReplaceAll) => format!("replace{noun}s"),
            (Naming::Plain, action) => format!("{}{noun}", verb(action)),
        }
    }

    /// The JSON schema of one item, from the keyword tables.
    pub fn item_schema(&self) -> Value {
        match self.shape {
            Shape::Rules(kind) => crate::schema::rule_schema(kind),
            Shape::Site => crate::schema::site_schema(),
            _ => crate::schema::resource_schema(self.schema),
        }
    }

    /// The schema of its full form (`full_section=true`): its own fields and
    /// each child's field.
    pub fn full_schema(&'static self) -> Value {
        let mut schema = self.item_schema();
        if let Some(properties) = schema["properties"].as_object_mut() {
            for child in self.children() {
                let (Some(field), item) = (child.full_field(self), schema_ref(child.schema)) else {
                    continue;
                };
                let nested = match child.is_indexed() {
                    true => json!({"type": "array", "items": item}),
                    false => json!({"type": "object", "additionalProperties": item}),
                };
                properties.insert(field.into(), nested);
            }
        }
        schema
    }
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::List | Action::Get => "get",
        Action::Create | Action::CreateOnList | Action::Append => "create",
        Action::Replace | Action::ReplaceAll => "replace",
        Action::Delete => "delete",
    }
}

/// One operation of the registry: an action of a resource under one parent.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub resource: &'static Resource,
    pub parent: Option<&'static Resource>,
    pub action: Action,
    /// `get`, `post`, `put`, `delete`.
    pub method: &'static str,
    pub path: String,
    pub id: String,
}

/// Every operation on configuration resources.
pub fn endpoints() -> Vec<Endpoint> {
    let mut out = Vec::new();
    for resource in RESOURCES {
        let parents: Vec<Option<&'static Resource>> = match resource.parents.is_empty() {
            true => vec![None],
            false => resource.parents().map(Some).collect(),
        };
        for parent in parents {
            for action in resource.actions() {
                let on_item = match action {
                    Action::List | Action::ReplaceAll | Action::CreateOnList | Action::Append => {
                        false
                    }
                    Action::Create => resource.is_indexed(),
                    Action::Get | Action::Replace | Action::Delete => true,
                };
                let method = match action {
                    Action::List | Action::Get => "get",
                    Action::Create | Action::Append => "post",
                    Action::Replace | Action::ReplaceAll | Action::CreateOnList => "put",
                    Action::Delete => "delete",
                };
                let path = match on_item {
                    true => resource.item_path(parent),
                    false => resource.collection_path(parent),
                };
                out.push(Endpoint {
                    resource,
                    parent,
                    action,
                    method,
                    path,
                    id: resource.operation_id(action, parent),
                });
            }
        }
    }
    out
}

/// Where an operation happens: the resource and, for a child, its parent
/// section and that section's name (empty for the singleton).
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub resource: &'static Resource,
    pub parent: Option<(&'static Resource, &'a str)>,
}

impl Place<'_> {
    /// The parent's section kind and name.
    fn parent(&self) -> Result<(SectionKind, &str), ResourceError> {
        let Some((parent, name)) = self.parent else {
            let message = format!("{} needs a parent section", self.resource.collection);
            return Err(ModelError::invalid("parent_name", message).into());
        };
        match parent.shape {
            Shape::Singleton(kind) | Shape::Single(kind) | Shape::Section(kind) => Ok((kind, name)),
            _ => unreachable!("parents are sections"),
        }
    }
}

/// A rule's index from its path.
fn index(key: &str) -> Result<usize, ResourceError> {
    key.parse().map_err(|_| {
        ModelError::invalid("index", format!("'{key}' is not an index (0, 1, ...)")).into()
    })
}

/// The items of a collection (`full`: sections with their children).
pub fn list(
    doc: &Document,
    place: Place<'_>,
    full: bool,
) -> Result<Vec<Map<String, Value>>, ResourceError> {
    match place.resource.shape {
        Shape::Site => crate::site::list_sites(doc),
        Shape::Singleton(_) | Shape::Single(_) => Ok(vec![get(doc, place, "", full)?]),
        Shape::Entry(field) => Ok(entries(doc, place, field)?.unwrap_or_default()),
        Shape::Section(kind) => {
            let sections = res::list_sections(doc, kind);
            if !full {
                return Ok(sections);
            }
            sections
                .into_iter()
                .map(|s| {
                    let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
                    get(doc, place, name, true)
                })
                .collect()
        }
        Shape::Line(LineKind::Child(child)) => {
            let (kind, name) = place.parent()?;
            res::list_children(doc, kind, name, child)
        }
        Shape::Line(LineKind::Template) => template::list_templates(doc, place.parent()?.1),
        Shape::Line(LineKind::Words(spec)) => {
            let (kind, name) = place.parent()?;
            spec.list(doc, kind, name)
        }
        Shape::Rules(rules) => {
            let (kind, name) = place.parent()?;
            rule::list_rules(doc, kind, name, rules)
        }
    }
}

/// One item (`key`: its name, prefix or index; ignored for the singleton).
pub fn get(
    doc: &Document,
    place: Place<'_>,
    key: &str,
    full: bool,
) -> Result<Map<String, Value>, ResourceError> {
    let mut value = match place.resource.shape {
        Shape::Site => crate::site::get_site(doc, key)?,
        Shape::Singleton(_) => res::get_global(doc),
        Shape::Single(kind) => res::get_single(doc, kind)?,
        Shape::Entry(_) => {
            let message = format!("{} are added and deleted only", place.resource.collection);
            return Err(ResourceError::Conflict(message));
        }
        Shape::Section(kind) => res::get_section(doc, kind, key)?,
        Shape::Line(LineKind::Child(child)) => {
            let (kind, name) = place.parent()?;
            res::get_child(doc, kind, name, child, key)?
        }
        Shape::Line(LineKind::Template) => template::get_template(doc, place.parent()?.1, key)?,
        Shape::Line(LineKind::Words(spec)) => {
            let (kind, name) = place.parent()?;
            spec.get(doc, kind, name, key)?
        }
        Shape::Rules(rules) => {
            let (kind, name) = place.parent()?;
            rule::get_rule(doc, kind, name, rules, index(key)?)?
        }
    };
    if full && place.resource.is_section() {
        nest(doc, place.resource, key, &mut value)?;
    }
    Ok(value)
}

/// Adds each child collection of section `name` to its full form.
fn nest(
    doc: &Document,
    section: &'static Resource,
    name: &str,
    value: &mut Map<String, Value>,
) -> Result<(), ResourceError> {
    // A file without the singleton section has no children to show.
    if let Shape::Singleton(kind) | Shape::Single(kind) = section.shape {
        if doc.sections_of(kind).next().is_none() {
            return Ok(());
        }
    }
    for child in section.children() {
        let Some(field) = child.full_field(section) else {
            continue;
        };
        let place = Place {
            resource: child,
            parent: Some((section, name)),
        };
        let items = list(doc, place, false)?;
        if items.is_empty() {
            continue;
        }
        let nested = match child.key() {
            Some("index") => Value::Array(items.into_iter().map(Value::Object).collect()),
            key => {
                let key = key.unwrap_or("name");
                let by_key = items.into_iter().map(|item| {
                    let k = item.get(key).and_then(Value::as_str).unwrap_or_default();
                    (k.to_owned(), Value::Object(item))
                });
                Value::Object(by_key.collect())
            }
        };
        value.insert(field.into(), nested);
    }
    Ok(())
}

/// The children of a full section's value, taken out of it: each child
/// collection with its items (none when its field is absent).
/// The children a full section's JSON gives, by resource: borrowed from
/// the body, copied only when an item lacks its key field.
type Nested<'v> = Vec<(&'static Resource, Vec<Cow<'v, Map<String, Value>>>)>;

fn take_nested<'v>(
    section: &'static Resource,
    value: &'v Map<String, Value>,
) -> Result<(Map<String, Value>, Nested<'v>), ResourceError> {
    let fields: Vec<(&'static Resource, &str)> = section
        .children()
        .filter_map(|child| child.full_field(section).map(|field| (child, field)))
        .collect();
    let own: Map<String, Value> = value
        .iter()
        .filter(|(k, _)| !fields.iter().any(|(_, field)| field == k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut nested = Vec::new();
    for (child, field) in fields {
        let items = match (value.get(field), child.key()) {
            (None | Some(Value::Null), _) => vec![],
            (Some(Value::Array(items)), Some("index")) => items
                .iter()
                .map(|item| match item {
                    Value::Object(o) => Ok(Cow::Borrowed(o)),
                    other => Err(ModelError::invalid(
                        field,
                        format!("items must be objects, got {other}"),
                    )),
                })
                .collect::<Result<_, _>>()?,
            (Some(Value::Object(by_key)), Some(key)) if key != "index" => by_key
                .iter()
                .map(|(k, item)| match item {
                    Value::Object(o) if o.contains_key(key) => Ok(Cow::Borrowed(o)),
                    Value::Object(o) => {
                        let mut o = o.clone();
                        o.insert(key.to_owned(), json!(k));
                        Ok(Cow::Owned(o))
                    }
                    other => Err(ModelError::invalid(
                        field,
                        format!("{k}: expected an object, got {other}"),
                    )),
                })
                .collect::<Result<_, _>>()?,
            (Some(other), key) => {
                let expected = match key {
                    Some("index") => "an array".to_owned(),
                    _ => format!("an object by {}", key.unwrap_or("name")),
                };
                let message = format!("expected {expected}, got {other}");
                return Err(ModelError::invalid(field, message).into());
            }
        };
        nested.push((child, items));
    }
    Ok((own, nested))
}

/// Makes the children of section `name` exactly those of `nested`.
fn write_nested(
    doc: &mut Document,
    section: &'static Resource,
    name: &str,
    nested: &Nested<'_>,
) -> Result<(), ResourceError> {
    for (child, wanted) in nested {
        let place = Place {
            resource: child,
            parent: Some((section, name)),
        };
        if child.is_indexed() {
            replace_all(doc, place, wanted)?;
            continue;
        }
        // Servers and binds: in one pass over the section.
        if let Shape::Line(LineKind::Child(kind)) = child.shape {
            let (parent_kind, parent_name) = place.parent()?;
            res::set_children(doc, parent_kind, parent_name, kind, wanted)?;
            continue;
        }
        let key = child.key().unwrap_or("name");
        let key_of = |item: &Map<String, Value>| {
            item.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        // Read once, by key: an item given as it is costs nothing more.
        let wanted_keys: std::collections::HashSet<String> =
            wanted.iter().map(|item| key_of(item)).collect();
        let existing: Vec<Map<String, Value>> = list(doc, place, false)?;
        let by_key: std::collections::HashMap<String, &Map<String, Value>> =
            existing.iter().map(|item| (key_of(item), item)).collect();
        for gone in existing
            .iter()
            .map(key_of)
            .filter(|k| !wanted_keys.contains(k))
        {
            delete(doc, place, &gone)?;
        }
        for item in wanted {
            let item: &Map<String, Value> = item;
            let k = key_of(item);
            match by_key.get(&k) {
                Some(old) if *old == item => {}
                Some(_) => replace(doc, place, &k, item, false)?,
                None => create(doc, place, None, item, false)?,
            }
        }
    }
    Ok(())
}

/// Adds an item (`at`: a rule's index; `full`: a section with its children).
pub fn create(
    doc: &mut Document,
    place: Place<'_>,
    at: Option<&str>,
    value: &Map<String, Value>,
    full: bool,
) -> Result<(), ResourceError> {
    match place.resource.shape {
        Shape::Site => crate::site::create_site(doc, value),
        Shape::Singleton(_) => replace(doc, place, "", value, full),
        Shape::Single(kind) => {
            let (own, nested) = take_nested(place.resource, value)?;
            let mut scratch = doc.clone();
            res::create_single(&mut scratch, kind, &own)?;
            write_nested(&mut scratch, place.resource, "", &nested)?;
            *doc = scratch;
            Ok(())
        }
        Shape::Entry(field) => {
            // The section is made for its first entry.
            let mut items = entries(doc, place, field)?.unwrap_or_default();
            items.push(value.clone());
            set_entries(doc, place, field, items)
        }
        Shape::Section(kind) => {
            if !full {
                return res::create_section(doc, kind, value);
            }
            let (own, nested) = take_nested(place.resource, value)?;
            let mut scratch = doc.clone();
            res::create_section(&mut scratch, kind, &own)?;
            let name = own.get("name").and_then(Value::as_str).unwrap_or_default();
            write_nested(&mut scratch, place.resource, name, &nested)?;
            *doc = scratch;
            Ok(())
        }
        Shape::Line(LineKind::Child(child)) => {
            let (kind, name) = place.parent()?;
            res::create_child(doc, kind, name, child, value)
        }
        Shape::Line(LineKind::Template) => template::create_template(doc, place.parent()?.1, value),
        Shape::Line(LineKind::Words(spec)) => {
            let (kind, name) = place.parent()?;
            spec.create(doc, kind, name, value)
        }
        Shape::Rules(rules) => {
            let (kind, name) = place.parent()?;
            // No index: at the end.
            let at = match at {
                Some(at) => index(at)?,
                None => rule::list_rules(doc, kind, name, rules)?.len(),
            };
            rule::insert_rule(doc, kind, name, rules, at, value)
        }
    }
}

/// Replaces an item (`full`: a section and all its children: children
/// absent from `value` are removed).
pub fn replace(
    doc: &mut Document,
    place: Place<'_>,
    key: &str,
    value: &Map<String, Value>,
    full: bool,
) -> Result<(), ResourceError> {
    match place.resource.shape {
        Shape::Singleton(_) | Shape::Single(_) | Shape::Section(_) if full => {
            let (own, nested) = take_nested(place.resource, value)?;
            let mut scratch = doc.clone();
            replace(&mut scratch, place, key, &own, false)?;
            let name = own.get("name").and_then(Value::as_str).unwrap_or(key);
            write_nested(&mut scratch, place.resource, name, &nested)?;
            *doc = scratch;
            Ok(())
        }
        Shape::Site => crate::site::replace_site(doc, key, value),
        Shape::Singleton(_) => res::replace_global(doc, value),
        Shape::Single(kind) => res::replace_single(doc, kind, value),
        Shape::Entry(_) => {
            let message = format!("{} are added and deleted only", place.resource.collection);
            Err(ResourceError::Conflict(message))
        }
        Shape::Section(kind) => res::replace_section(doc, kind, key, value),
        Shape::Line(LineKind::Child(child)) => {
            let (kind, name) = place.parent()?;
            res::replace_child(doc, kind, name, child, key, value)
        }
        Shape::Line(LineKind::Template) => {
            template::replace_template(doc, place.parent()?.1, key, value)
        }
        Shape::Line(LineKind::Words(spec)) => {
            let (kind, name) = place.parent()?;
            spec.replace(doc, kind, name, key, value)
        }
        Shape::Rules(rules) => {
            let (kind, name) = place.parent()?;
            rule::replace_rule(doc, kind, name, rules, index(key)?, value)
        }
    }
}

/// Removes an item.
pub fn delete(doc: &mut Document, place: Place<'_>, key: &str) -> Result<(), ResourceError> {
    match place.resource.shape {
        Shape::Site => crate::site::delete_site(doc, key),
        Shape::Singleton(_) => {
            let message = format!("{} cannot be deleted", place.resource.title);
            Err(ResourceError::Conflict(message))
        }
        Shape::Single(kind) => res::delete_single(doc, kind),
        Shape::Entry(_) => {
            let message = format!("{} are deleted by value", place.resource.collection);
            Err(ResourceError::Conflict(message))
        }
        Shape::Section(kind) => res::delete_section(doc, kind, key),
        Shape::Line(LineKind::Child(child)) => {
            let (kind, name) = place.parent()?;
            res::delete_child(doc, kind, name, child, key)
        }
        Shape::Line(LineKind::Template) => template::delete_template(doc, place.parent()?.1, key),
        Shape::Line(LineKind::Words(spec)) => {
            let (kind, name) = place.parent()?;
            spec.delete(doc, kind, name, key)
        }
        Shape::Rules(rules) => {
            let (kind, name) = place.parent()?;
            rule::delete_rule(doc, kind, name, rules, index(key)?)
        }
    }
}

/// The items of entry field `field` of the parent singleton (None when the
/// file lacks the section).
fn entries(
    doc: &Document,
    place: Place<'_>,
    field: &str,
) -> Result<Option<Vec<Map<String, Value>>>, ResourceError> {
    let section = match res::get_single(doc, entries_section(place)) {
        Ok(section) => section,
        Err(ResourceError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let items = match section.get(field) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).cloned().collect(),
        _ => vec![],
    };
    Ok(Some(items))
}

/// The section kind of the singleton that holds an entry list.
fn entries_section(place: Place<'_>) -> SectionKind {
    match place.parent.map(|(parent, _)| parent.shape) {
        Some(Shape::Single(kind)) => kind,
        _ => unreachable!("entries belong to a singleton that may be absent"),
    }
}

/// Makes the entry list `field` exactly `items`, creating the section when
/// the file lacks it.
fn set_entries(
    doc: &mut Document,
    place: Place<'_>,
    field: &str,
    items: Vec<Map<String, Value>>,
) -> Result<(), ResourceError> {
    let kind = entries_section(place);
    let list = Value::Array(items.into_iter().map(Value::Object).collect());
    let mut scratch = doc.clone();
    match res::get_single(doc, kind) {
        Ok(mut section) => {
            section.insert(field.into(), list);
            res::replace_single(&mut scratch, kind, &section)?;
        }
        Err(ResourceError::NotFound(_)) => {
            let section = Map::from_iter([(field.to_owned(), list)]);
            res::create_single(&mut scratch, kind, &section)?;
        }
        Err(e) => return Err(e),
    }
    *doc = scratch;
    Ok(())
}

/// Whether `item` is the one `value` names: each field `value` gives
/// (metadata aside) is the item's, words compared as HAProxy splits them.
fn names_item(value: &Map<String, Value>, item: &Map<String, Value>) -> bool {
    let words = |v: &Value| match v {
        Value::String(s) => Value::String(s.split_whitespace().collect::<Vec<_>>().join(" ")),
        other => other.clone(),
    };
    let given: Vec<_> = value.iter().filter(|(k, _)| *k != "metadata").collect();
    !given.is_empty()
        && given
            .iter()
            .all(|(k, v)| item.get(*k).is_some_and(|have| words(have) == words(v)))
}

/// Deletes the item `value` names from an entry list (`traces/entries`):
/// the first equal one.
pub fn delete_value(
    doc: &mut Document,
    place: Place<'_>,
    value: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let Shape::Entry(field) = place.resource.shape else {
        return delete(doc, place, "");
    };
    let not_found = || ResourceError::NotFound(format!("{} {value:?}", place.resource.title));
    let mut items = entries(doc, place, field)?.ok_or_else(not_found)?;
    let at = items
        .iter()
        .position(|item| names_item(value, item))
        .ok_or_else(not_found)?;
    items.remove(at);
    set_entries(doc, place, field, items)
}

/// Replaces a whole rule list.
pub fn replace_all<M: Borrow<Map<String, Value>> + Sync>(
    doc: &mut Document,
    place: Place<'_>,
    items: &[M],
) -> Result<(), ResourceError> {
    match place.resource.shape {
        Shape::Rules(rules) => {
            let (kind, name) = place.parent()?;
            rule::replace_rules(doc, kind, name, rules, items)
        }
        _ => {
            let message = format!("{} is not a list", place.resource.collection);
            Err(ResourceError::Conflict(message))
        }
    }
}
