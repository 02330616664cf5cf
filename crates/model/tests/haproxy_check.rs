//! Every field of the keyword tables is used by some fixture, so that the
//! registry's fixture test (tests/registry.rs: HAProxy accepts the file,
//! and the file rebuilt from its JSON) covers it.

mod common;

use std::collections::BTreeSet;

use haplane_cfg::Document;
use haplane_model::registry;
use haplane_model::{field_names, write_aliases};

use serde_json::Value;

const FIXTURES: &[&str] = &[
    "global",
    "global_28",
    "global_30",
    "global_30b",
    "global_33",
    "global_33b",
    "proxies",
    "proxies_30",
    "proxies_30b",
    "proxies_33",
    "proxies_33b",
    "servers",
    "binds",
    "binds_28",
    "binds_30",
    "binds_33",
    "servers_30",
    "servers_33",
];

/// Every dotted path present in `value` (array items share their array's path).
fn paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                paths(v, &path, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| paths(i, prefix, out)),
        _ => {}
    }
}

/// The fields a fixture uses, each named `TABLE:FIELD`.
fn run(name: &str, used: &mut BTreeSet<String>) {
    assert!(
        common::fixtures().iter().any(|f| f.name == name),
        "no fixture {name}"
    );
    let dir = tempfile::tempdir().unwrap();
    let doc = Document::parse(common::load(name, dir.path()).into_bytes());
    for (collection, table) in [
        ("global", "global"),
        ("defaults", "proxy"),
        ("frontends", "proxy"),
        ("backends", "proxy"),
        ("servers", "server"),
        ("binds", "bind"),
    ] {
        let resource = registry::resource(collection).unwrap();
        for items in common::read(&doc, &[resource]).values() {
            let mut found = BTreeSet::new();
            for item in items {
                paths(&Value::Object(item.clone()), "", &mut found);
            }
            used.extend(found.iter().map(|p| format!("{table}:{p}")));
        }
    }
}

/// Fields no fixture can hold, and why.
const UNTESTABLE: &[(&str, &str)] = &[
    (
        "server:force_sslv3",
        "Debian's OpenSSL 3 has no SSLv3: haproxy -c refuses it",
    ),
    (
        "bind:force_sslv3",
        "Debian's OpenSSL 3 has no SSLv3: haproxy -c refuses it",
    ),
    (
        "server:namespace",
        "needs a network namespace to exist on the machine",
    ),
    (
        "bind:namespace",
        "needs a network namespace to exist on the machine",
    ),
    (
        "server:log_proto",
        "only valid on servers of a ring section, not a backend",
    ),
];

#[test]
fn every_table_field_is_in_a_fixture() {
    let mut used = BTreeSet::new();
    for name in FIXTURES {
        run(name, &mut used);
    }
    // Every field of every table is exercised by some fixture. Server
    // params also stand on default-server lines, bind params on stats sockets.
    let aliases: Vec<String> = used
        .iter()
        .filter_map(|p| {
            p.strip_prefix("proxy:default_server.")
                .map(|f| format!("server:{f}"))
                .or_else(|| {
                    p.strip_prefix("global:runtime_apis.")
                        .map(|f| format!("bind:{f}"))
                })
        })
        .collect();
    used.extend(aliases);
    // An older spelling is covered by the field it reads back as
    // (tests/resource.rs writes them).
    for (kind, table, prefix) in [
        ("params", "server", "server:"),
        ("params", "bind", "bind:"),
        ("section", "proxy", "proxy:"),
    ] {
        for (alias, reads_as) in write_aliases(kind, table) {
            if used.contains(&format!("{prefix}{reads_as}")) {
                used.insert(format!("{prefix}{alias}"));
            }
        }
    }
    // Fields of newer HAProxy versions too: fixtures are read whatever
    // the version (tests/registry.rs has a newer HAProxy judge them).
    let mut unused = Vec::new();
    for (kind, table, prefix) in [
        ("section", "global", "global:"),
        ("section", "proxy", "proxy:"),
        ("params", "server", "server:"),
        ("params", "bind", "bind:"),
    ] {
        for (field, _) in field_names(kind, table) {
            let path = format!("{prefix}{field}");
            // default-server takes the server params, which servers.cfg covers.
            // default-server takes the server params, a stats socket the bind
            // params: servers.cfg and binds.cfg cover them.
            let path = if let Some(f) = path.strip_prefix("proxy:default_server.") {
                format!("server:{f}")
            } else if let Some(f) = path
                .strip_prefix("global:runtime_apis.")
                .filter(|f| *f != "address")
            {
                format!("bind:{f}")
            } else {
                path
            };
            if !used.contains(&path) && !UNTESTABLE.iter().any(|(p, _)| *p == path) {
                unused.push(path);
            }
        }
    }
    assert!(unused.is_empty(), "fields no fixture uses: {unused:#?}");
}
