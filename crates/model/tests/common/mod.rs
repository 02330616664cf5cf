//! What the fixture tests share: loading a fixture with its files, asking
//! HAProxy, and reading resources through the registry.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use haplane_cfg::Document;
use haplane_model::registry::{self, Place, Resource};
use serde_json::{Map, Value};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture: its name, the resources it is for, and the HAProxy version it
/// needs (`# haproxy: 3.0` on its second line).
pub struct Fixture {
    pub name: String,
    pub resources: Vec<&'static Resource>,
    pub needs: Option<(u32, u32)>,
}

impl Fixture {
    /// Whether the `haproxy` on PATH is recent enough for it.
    pub fn runs_here(&self) -> bool {
        let Some(needs) = self.needs else { return true };
        running().is_some_and(|running| running >= needs)
    }

    /// The HAProxy that judges it: the one on PATH when it is recent
    /// enough, else the one `HAPLANE_HAPROXY_NEWER` names when that one is
    /// (`scripts/haproxy-3.4`). None when neither is.
    pub fn judge(&self) -> Option<PathBuf> {
        if self.runs_here() {
            return Some(PathBuf::from("haproxy"));
        }
        let newer = PathBuf::from(std::env::var_os("HAPLANE_HAPROXY_NEWER")?);
        let needs = self.needs?;
        version_of(&newer)
            .is_some_and(|v| v >= needs)
            .then_some(newer)
    }
}

/// The major and minor version of the `haproxy` on PATH.
pub fn running() -> Option<(u32, u32)> {
    version_of(Path::new("haproxy"))
}

/// The major and minor version of an HAProxy binary.
pub fn version_of(haproxy: &Path) -> Option<(u32, u32)> {
    let line = haplane_haproxy::version(haproxy).ok()?;
    haplane_haproxy::major_minor(&line)
}

/// The fixtures and the resources each is for.
pub fn fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
        .collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut lines = text.lines();
        let Some(list) = lines.next().and_then(|l| l.strip_prefix("# resources:")) else {
            panic!("{name}.cfg does not start with `# resources: ...`");
        };
        let resources = list
            .split_whitespace()
            .map(|c| registry::resource(c).unwrap_or_else(|| panic!("{name}: no resource {c}")))
            .collect();
        let needs = lines
            .next()
            .and_then(|l| l.strip_prefix("# haproxy:"))
            .map(|v| {
                let (major, minor) = v.trim().split_once('.').expect("# haproxy: X.Y");
                (major.parse().unwrap(), minor.parse().unwrap())
            });
        out.push(Fixture {
            name,
            resources,
            needs,
        });
    }
    out
}

/// The fixture's text, with `@FILES@` naming a directory holding the files
/// it refers to (a copy of `fixtures/files` with the same substitution,
/// plus the ones the rule fixtures name).
pub fn load(name: &str, dir: &Path) -> String {
    let files = dir.to_str().unwrap();
    copy_dir(&fixtures_dir().join("files"), dir, files);
    let text = std::fs::read_to_string(fixtures_dir().join(format!("{name}.cfg"))).unwrap();
    text.replace("@FILES@", files)
}

fn copy_dir(from: &Path, to: &Path, files: &str) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&path, &target, files);
            continue;
        }
        let text =
            String::from_utf8_lossy(&std::fs::read(&path).unwrap()).replace("@FILES@", files);
        std::fs::write(target, text).unwrap();
    }
}

pub fn haproxy_accepts(text: &str, dir: &Path) {
    accepted_by(Path::new("haproxy"), text, dir);
}

/// Panics unless `haproxy` accepts the configuration.
pub fn accepted_by(haproxy: &Path, text: &str, dir: &Path) {
    let target = dir.join("haproxy.cfg");
    if let Err(e) = haplane_haproxy::check_bytes(haproxy, &target, text.as_bytes()) {
        panic!("{} -c rejected:\n{e}\n---\n{text}", haproxy.display());
    }
}

/// Where a resource lives in a document: top level, or under each of its
/// parent sections that the document has.
pub fn places(
    doc: &Document,
    resource: &'static Resource,
) -> Vec<(Option<&'static Resource>, String)> {
    if resource.parents().next().is_none() {
        return vec![(None, String::new())];
    }
    let mut out = Vec::new();
    for parent in resource.parents() {
        let top = Place {
            resource: parent,
            parent: None,
        };
        let Ok(sections) = registry::list(doc, top, false) else {
            continue;
        };
        for section in sections {
            if parent.is_singleton() {
                out.push((Some(parent), String::new()));
            } else if let Some(name) = section.get("name").and_then(Value::as_str) {
                out.push((Some(parent), name.to_owned()));
            }
        }
    }
    out
}

pub fn place<'a>(
    resource: &'static Resource,
    parent: Option<&'static Resource>,
    name: &'a str,
) -> Place<'a> {
    Place {
        resource,
        parent: parent.map(|p| (p, name)),
    }
}

pub type Listing = BTreeMap<String, Vec<Map<String, Value>>>;

/// The items of `resources` everywhere in `doc`, by place.
pub fn read(doc: &Document, resources: &[&'static Resource]) -> Listing {
    let mut out = BTreeMap::new();
    for resource in resources {
        for (parent, name) in places(doc, resource) {
            let items = registry::list(doc, place(resource, parent, &name), false).unwrap();
            if items.is_empty() {
                continue;
            }
            let at = match parent {
                Some(p) => format!("{}/{name}/{}", p.collection, resource.collection),
                None => resource.collection.to_owned(),
            };
            out.insert(at, items);
        }
    }
    out
}
