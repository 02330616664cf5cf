//! JSON the engine renders is configuration HAProxy accepts, and reads back
//! as the same JSON.
//!
//! Each fixture under `fixtures/` is a hand-written configuration that uses
//! the keywords of one table (HAProxy 2.6 accepts it). For each: read every
//! resource into JSON; remove from the file every line the tables know;
//! write the JSON back through the engine; `haproxy -c` must accept the
//! result, and reading it again must give the same JSON. The JSON is kept
//! as a snapshot, and the fixtures together must use every table field.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use expect_test::expect_file;
use haplane_cfg::{Document, SectionId, SectionKind};
use haplane_model::{
    children, field_names, read_section, render_child, write_aliases, write_section, ChildKind,
};
use serde_json::{Map, Value};

const FIXTURES: &[&str] = &["global", "proxies", "servers", "binds"];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture's text with `@FILES@` pointing at a temporary copy of
/// `fixtures/files` (certificates, error pages), which it returns too.
fn load(name: &str) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = dir.path().to_str().expect("utf-8 path").to_owned();
    copy_dir(&fixtures_dir().join("files"), dir.path(), &files);
    let text =
        std::fs::read_to_string(fixtures_dir().join(format!("{name}.cfg"))).expect("fixture");
    (text.replace("@FILES@", &files), dir)
}

/// Copies `from` into `to` (with subdirectories), with `@FILES@` replaced
/// in every file.
fn copy_dir(from: &Path, to: &Path, files: &str) {
    for entry in std::fs::read_dir(from).expect("fixture files") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).expect("fixture subdirectory");
            copy_dir(&path, &target, files);
            continue;
        }
        let text = std::fs::read(&path).expect("read fixture file");
        let text = String::from_utf8_lossy(&text).replace("@FILES@", files);
        std::fs::write(target, text).expect("copy fixture file");
    }
}

fn haproxy_accepts(text: &str, dir: &Path) {
    let target = dir.join("haproxy.cfg");
    if let Err(e) = haplane_haproxy::check_bytes(Path::new("haproxy"), &target, text.as_bytes()) {
        panic!("haproxy -c rejected:\n{e}\n---\n{text}");
    }
}

fn table_of(kind: SectionKind) -> Option<&'static str> {
    match kind {
        SectionKind::Global => Some("global"),
        k if k.is_proxy() => Some("proxy"),
        _ => None,
    }
}

/// Every modelled section: its JSON and its servers' and binds' JSON.
fn read_all(doc: &Document) -> Vec<(SectionId, Value)> {
    let mut out = Vec::new();
    for section in doc.sections() {
        let Some(table) = table_of(section.kind()) else {
            continue;
        };
        let id = section.id();
        let mut value = Map::new();
        value.insert(
            "settings".into(),
            Value::Object(read_section(doc, id, table)),
        );
        for kind in [ChildKind::Server, ChildKind::Bind] {
            let list: Vec<Value> = children(doc, id, kind)
                .into_iter()
                .map(|(_, v)| Value::Object(v))
                .collect();
            if !list.is_empty() {
                value.insert(kind.keyword().into(), Value::Array(list));
            }
        }
        out.push((id, Value::Object(value)));
    }
    out
}

/// Strips what the tables know from every modelled section, then writes
/// it back from `values`.
fn rebuild(doc: &mut Document, values: &[(SectionId, Value)]) {
    for (id, value) in values {
        let table = table_of(doc.section(*id).kind()).unwrap();
        write_section(doc, *id, table, &Map::new(), &[]).expect("clearing works");
        for kind in [ChildKind::Server, ChildKind::Bind] {
            while let Some((index, _)) = children(doc, *id, kind).first().cloned() {
                doc.remove_line(*id, index);
            }
        }
        let settings = value["settings"].as_object().unwrap();
        write_section(doc, *id, table, settings, &[])
            .unwrap_or_else(|e| panic!("cannot write {settings:?}: {e}"));
        for kind in [ChildKind::Server, ChildKind::Bind] {
            for child in value
                .get(kind.keyword())
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let words = render_child(kind, child.as_object().unwrap(), None)
                    .unwrap_or_else(|e| panic!("cannot render {child}: {e}"));
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                doc.push_words(*id, &words);
            }
        }
    }
}

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

fn run(name: &str, used: &mut BTreeSet<String>) {
    let (text, dir) = load(name);
    haproxy_accepts(&text, dir.path());
    let mut doc = Document::parse(text.clone().into_bytes());
    let values = read_all(&doc);
    rebuild(&mut doc, &values);
    let rebuilt = doc.to_text();
    haproxy_accepts(&rebuilt, dir.path());
    let again = read_all(&Document::parse(rebuilt.clone().into_bytes()));
    assert_eq!(
        again, values,
        "{name}: the rebuilt file reads back differently:\n{rebuilt}"
    );

    for (id, value) in &values {
        let kind = doc.section(*id).kind();
        let prefix = match kind {
            SectionKind::Global => "global",
            _ => "proxy",
        };
        let mut found = BTreeSet::new();
        paths(&value["settings"], "", &mut found);
        used.extend(found.iter().map(|p| format!("{prefix}:{p}")));
        for child in ["server", "bind"] {
            let mut found = BTreeSet::new();
            if let Some(v) = value.get(child) {
                paths(v, "", &mut found);
            }
            used.extend(found.iter().map(|p| format!("{child}:{p}")));
        }
    }
    let listing: Vec<Value> = values
        .iter()
        .map(|(id, v)| {
            let s = doc.section(*id);
            let mut v = v.clone();
            v["section"] =
                Value::String(format!("{} {}", s.header_args().len(), s.header().text()));
            v
        })
        .collect();
    let json = serde_json::to_string_pretty(&listing).unwrap();
    let json = json.replace(dir.path().to_str().unwrap(), "@FILES@");
    expect_file![format!("snapshots/{name}.json")].assert_eq(&json);
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
fn rendered_json_passes_haproxy_check_and_reads_back() {
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
