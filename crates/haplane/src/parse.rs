//! `haplane parse FILE`: what haplane reads in a configuration.

use haplane_cfg::{Document, SectionKind};
use haplane_model::{children, read_section, ChildKind};
use serde_json::{json, Value};

pub fn show(bytes: Vec<u8>) {
    let doc = Document::parse(bytes);
    println!("Sections:\n{}", doc.outline());
    println!(
        "Resources:\n{}",
        serde_json::to_string_pretty(&resources(&doc)).unwrap_or_default()
    );
}

/// The JSON of every section the tables know, with servers and binds.
fn resources(doc: &Document) -> Value {
    let mut out = serde_json::Map::new();
    for section in doc.sections() {
        let id = section.id();
        let (group, table) = match section.kind() {
            SectionKind::Global => ("global", "global"),
            SectionKind::Defaults => ("defaults", "proxy"),
            SectionKind::Frontend => ("frontends", "proxy"),
            SectionKind::Backend => ("backends", "proxy"),
            SectionKind::Listen => ("listen", "proxy"),
            _ => continue,
        };
        let mut value = Value::Object(read_section(doc, id, table));
        if let Some(name) = section.name() {
            value["name"] = json!(name);
        }
        for (kind, key) in [(ChildKind::Server, "servers"), (ChildKind::Bind, "binds")] {
            let list: Vec<Value> = children(doc, id, kind)
                .into_iter()
                .map(|(_, v)| Value::Object(v))
                .collect();
            if !list.is_empty() {
                value[key] = Value::Array(list);
            }
        }
        match out.get_mut(group) {
            Some(Value::Array(items)) => items.push(value),
            _ if group == "global" => {
                out.insert(group.into(), value);
            }
            _ => {
                out.insert(group.into(), Value::Array(vec![value]));
            }
        }
    }
    Value::Object(out)
}
