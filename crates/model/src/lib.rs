//! Data Plane API resources and their mapping to configuration lines.
//!
//! The mapping is declarative: `tables/*.kw` name, for each JSON field, its
//! keyword and its value codec (see `tables/README.md`), and one engine reads
//! lines into JSON and writes JSON back as minimal edits of a
//! [`haplane_cfg::Document`]. Keywords the tables do not know are kept as
//! written.
//!
//! No I/O, no HTTP: this crate maps values, the `dataplane` crate decides
//! when to write.

mod changes;
mod child;
mod codec;
mod custom;
mod error;
mod line;
mod par;
mod params;
mod references;
mod site;
pub mod spoe;
mod validate;
pub use references::check_references;
mod section;
mod table;
mod template;
pub use template::{
    create_template, delete_template, get_template, list_templates, replace_template,
};
mod value;

pub use changes::changes;
pub use child::{children, find_child, read_child, render_child, ChildKind};
pub use error::ModelError;
pub use section::{read_section, write_section};
pub use table::{field_names, set_haproxy_version, write_aliases, Scope};

mod resource;
mod rule;
pub use rule::{
    delete_rule, get_rule, insert_rule, list_rules, replace_rule, replace_rules, rule_actions,
    RuleKind,
};
mod schema;
pub use resource::{
    create_child, create_section, delete_child, delete_section, get_child, get_global, get_section,
    list_children, list_sections, replace_child, replace_global, replace_section, valid_name,
    ResourceError,
};
pub mod registry;
mod userlist;
/// The configuration file the model reads and edits.
pub use haplane_cfg::Document;
pub use schema::{resource_schema, rule_schema, spoe_schema};
pub use userlist::{userlist_users, UserEntry};
pub use validate::{
    control_character, validate, Checked, SchemaBuilder, SchemaId, Schemas, Violation,
};
