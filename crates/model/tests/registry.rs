//! Every resource of the registry, through the registry's own operations:
//! a fixture holds it (its first line names the resources it is for,
//! `# resources: servers server_templates`), HAProxy accepts the fixture
//! (the one on PATH when it has what the fixture uses, `# haproxy: X.Y`,
//! else the newer one `HAPLANE_HAPROXY_NEWER` names; else it is only read
//! and rebuilt),
//! its JSON is kept as a snapshot, and the file rebuilt from that JSON
//! alone is accepted again and reads back the same. A resource no fixture
//! names fails the test.

mod common;

use common::{accepted_by, fixtures, load, place, places, read};
use expect_test::expect_file;
use haplane_cfg::Document;
use haplane_model::registry::{self, Resource, RESOURCES};
use serde_json::{json, Map, Value};

fn key_of(resource: &Resource, item: &Map<String, Value>) -> String {
    let key = resource.key().unwrap_or("name");
    item.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Writes every item of `resources` again from its JSON alone: sections
/// are emptied of what the tables know and written back, children are
/// deleted and created again.
fn rebuild(doc: &mut Document, resources: &[&'static Resource]) {
    for resource in resources.iter().filter(|r| r.is_section()) {
        let top = place(resource, None, "");
        for item in registry::list(doc, top, false).unwrap() {
            let key = key_of(resource, &item);
            let bare: Map<String, Value> = item
                .iter()
                .filter(|(k, _)| ["name", "from"].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            registry::replace(doc, top, &key, &bare, false).unwrap();
            registry::replace(doc, top, &key, &item, false)
                .unwrap_or_else(|e| panic!("{}: {item:?}: {e}", resource.collection));
        }
    }
    for resource in resources.iter().filter(|r| !r.is_section()) {
        for (parent, name) in places(doc, resource) {
            let at = place(resource, parent, &name);
            let items = registry::list(doc, at, false).unwrap();
            match resource.is_indexed() {
                true => registry::replace_all::<Map<String, Value>>(doc, at, &[]).unwrap(),
                false if resource.deletes_by_value() => {
                    for item in &items {
                        registry::delete_value(doc, at, item).unwrap();
                    }
                }
                false => {
                    for item in &items {
                        registry::delete(doc, at, &key_of(resource, item)).unwrap();
                    }
                }
            }
            // Lists added to at their end (no index) are rebuilt that way.
            let at_index =
                resource.is_indexed() && resource.actions().contains(&registry::Action::Create);
            for (i, item) in items.iter().enumerate() {
                let index = i.to_string();
                let index = at_index.then_some(index.as_str());
                registry::create(doc, at, index, item, false)
                    .unwrap_or_else(|e| panic!("{}: {item:?}: {e}", resource.collection));
            }
        }
    }
}

#[test]
fn every_resource_has_a_fixture_that_haproxy_accepts_and_that_rebuilds_from_json() {
    let fixtures = fixtures();
    let orphans: Vec<&str> = RESOURCES
        .iter()
        .filter(|r| {
            !fixtures
                .iter()
                .any(|f| f.resources.iter().any(|l| std::ptr::eq(*l, *r)))
        })
        .map(|r| r.collection)
        .collect();
    assert!(
        orphans.is_empty(),
        "resources no fixture holds: {orphans:?}"
    );
    for fixture in &fixtures {
        let (name, resources) = (&fixture.name, &fixture.resources);
        // Read and rebuilt whatever the version; judged by an HAProxy that
        // has what the fixture uses, when there is one.
        let judge = fixture.judge();
        if judge.is_none() {
            eprintln!("{name}.cfg needs a newer HAProxy than the one on PATH: not run by HAProxy");
        }
        let dir = tempfile::tempdir().unwrap();
        let text = load(name, dir.path());
        if let Some(judge) = &judge {
            accepted_by(judge, &text, dir.path());
        }
        let mut doc = Document::parse(text.into_bytes());
        let before = read(&doc, resources);
        for resource in resources {
            let held = before.keys().any(|k| k.ends_with(resource.collection));
            assert!(
                held,
                "{name}.cfg is for {} but holds none",
                resource.collection
            );
        }
        let snapshot = serde_json::to_string_pretty(&json!(before)).unwrap();
        let snapshot = snapshot.replace(dir.path().to_str().unwrap(), "@FILES@");
        expect_file![format!("snapshots/{name}.registry.json")].assert_eq(&snapshot);
        rebuild(&mut doc, resources);
        let rebuilt = doc.to_text();
        if let Some(judge) = &judge {
            accepted_by(judge, &rebuilt, dir.path());
        }
        let again = read(&Document::parse(rebuilt.clone().into_bytes()), resources);
        assert_eq!(
            again, before,
            "{name}: the rebuilt file reads back differently:\n{rebuilt}"
        );
    }
}
