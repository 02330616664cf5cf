//! What a change touched, as resource paths (`/backends/web/servers/s1`):
//! the sections whose bytes differ are found by hashing, and only those
//! are read, through the registry, to name the items that differ.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use haplane_cfg::{Document, LineKind as CfgLine, LineRef, SectionId, SectionKind};
use serde_json::{Map, Value};

use crate::registry::{self, LineKind, Place, Resource, Shape, RESOURCES};

/// The resources `new` changed from `old`, in path order, relative to the
/// configuration (`/global`, `/backends/web`, `/frontends/f/http_request_rules`).
/// A section added or removed is named alone; in a section changed, each
/// item of a named list that differs, each ordered list that differs, and
/// the section itself when its own fields (or only its comments) differ.
/// Sections registry rows do not describe show as their header
/// (`program api`).
pub fn changes(old: &Document, new: &Document) -> Vec<String> {
    // Only the sections between those both share can differ.
    let change = new.section_change(old);
    let before = sections(old, change.keep..change.keep + change.drop);
    let after = sections(new, change.inserted);
    let mut out = BTreeSet::new();
    for (key, (hash, _)) in &after {
        match before.get(key) {
            None => out.extend(section_paths(key)),
            Some((was, id)) if was != hash => {
                let ids = (*id, after[key].1);
                let lines = (keyword_lines(old, ids.0), keyword_lines(new, ids.1));
                changed_section(old, new, ids, key, &lines.0, &lines.1, &mut out)
            }
            Some(_) => {}
        }
    }
    for key in before.keys().filter(|k| !after.contains_key(*k)) {
        out.extend(section_paths(key));
    }
    out.into_iter().collect()
}

/// A section by kind and API name (its header's args when it has no
/// resource, `program api`).
type Key = (SectionKind, String);

/// The hash of each section of a range of indexes, and where it is.
fn sections(doc: &Document, range: std::ops::Range<usize>) -> HashMap<Key, (u64, SectionId)> {
    let mut out = HashMap::new();
    for section in doc.sections_at(range) {
        let described = RESOURCES
            .iter()
            .any(|r| r.section_kind() == Some(section.kind()))
            || section.kind() == SectionKind::Listen;
        let name = match crate::resource::section_name(doc, section.id()) {
            Some(name) if described => name,
            _ => section.header().text().trim().to_owned(),
        };
        let mut whole = DefaultHasher::new();
        section.header().bytes().hash(&mut whole);
        // Blank lines are layout, not changes.
        for line in section.lines().filter(|l| l.kind() != CfgLine::Blank) {
            line.bytes().hash(&mut whole);
        }
        out.insert((section.kind(), name), (whole.finish(), section.id()));
    }
    out
}

/// The hash of each keyword line of a section, with the line.
fn keyword_lines(doc: &Document, id: SectionId) -> Vec<(u64, LineRef<'_>)> {
    doc.section(id)
        .lines()
        .filter(|l| l.kind() == CfgLine::Keyword)
        .map(|line| {
            let mut one = DefaultHasher::new();
            line.bytes().trim_ascii().hash(&mut one);
            (one.finish(), line)
        })
        .collect()
}

/// A line's first words, as [`owns`] reads them.
fn first_words(line: &LineRef<'_>) -> Vec<String> {
    line.words()
        .iter()
        .take(3)
        .map(|w| w.value.to_string())
        .collect()
}

/// The section resources a section of `kind` is seen as (a `listen`
/// section is a frontend and a backend).
fn section_resources(kind: SectionKind) -> Vec<&'static Resource> {
    let kinds: &[SectionKind] = match kind {
        SectionKind::Listen => &[SectionKind::Frontend, SectionKind::Backend],
        _ => std::slice::from_ref(
            match RESOURCES.iter().any(|r| r.section_kind() == Some(kind)) {
                true => &kind,
                false => return vec![],
            },
        ),
    };
    RESOURCES
        .iter()
        .filter(|r| r.section_kind().is_some_and(|k| kinds.contains(&k)))
        .collect()
}

fn section_path(resource: &Resource, name: &str) -> String {
    match resource.is_singleton() {
        true => format!("/{}", resource.collection),
        false => format!("/{}/{name}", resource.collection),
    }
}

/// The paths of a whole section.
fn section_paths((kind, name): &Key) -> Vec<String> {
    let resources = section_resources(*kind);
    if resources.is_empty() {
        return vec![name.clone()];
    }
    resources.iter().map(|r| section_path(r, name)).collect()
}

/// Whether a keyword line (its first words) is one of `resource`'s lines,
/// and no other resource's: `resource` is a list of lines.
fn owns_only(resource: &Resource, words: &[String]) -> bool {
    matches!(resource.shape, Shape::Rules(_) | Shape::Line(_)) && owns(resource, words)
}

/// Whether a keyword line (its first words) is one of `resource`'s.
fn owns(resource: &Resource, first: &[String]) -> bool {
    let first_is = |word: &str| first.first().is_some_and(|f| f == word);
    match resource.shape {
        Shape::Rules(kind) => {
            let keyword = kind.keyword();
            let count = keyword.split(' ').count();
            let starts = count <= first.len() && keyword.split(' ').zip(first).all(|(k, w)| k == w);
            starts || (first_is("no") && keyword == "log")
        }
        Shape::Line(LineKind::Child(child)) => first_is(child.keyword()),
        Shape::Line(LineKind::Template) => first_is("server-template"),
        Shape::Line(LineKind::Words(spec)) => first_is(spec.keyword),
        _ => true,
    }
}

fn changed_section(
    old: &Document,
    new: &Document,
    ids: (SectionId, SectionId),
    key: &Key,
    before: &[(u64, LineRef<'_>)],
    after: &[(u64, LineRef<'_>)],
    out: &mut BTreeSet<String>,
) {
    let resources = section_resources(key.0);
    if resources.is_empty() {
        out.insert(key.1.clone());
        return;
    }
    // The keyword lines one side has and the other has not.
    let was: HashSet<u64> = before.iter().map(|(h, _)| *h).collect();
    let now: HashSet<u64> = after.iter().map(|(h, _)| *h).collect();
    let differing: Vec<Vec<String>> = before
        .iter()
        .filter(|(h, _)| !now.contains(h))
        .chain(after.iter().filter(|(h, _)| !was.contains(h)))
        .map(|(_, line)| first_words(line))
        .collect();
    let hashes =
        |lines: &[(u64, LineRef<'_>)]| -> Vec<u64> { lines.iter().map(|(h, _)| *h).collect() };
    let reordered = differing.is_empty() && hashes(before) != hashes(after);
    let same_header = old.section(ids.0).header().bytes() == new.section(ids.1).header().bytes();
    let name = key.1.as_str();
    let mut found = false;
    for resource in &resources {
        let base = section_path(resource, name);
        let place = Place {
            resource,
            parent: None,
        };
        let own = |doc| registry::get(doc, place, name, false).ok();
        // Lines that only children read cannot change the section's own
        // fields: reading those costs more than the children's lists.
        let only_children = same_header
            && !reordered
            && differing
                .iter()
                .all(|words| resource.children().any(|c| owns_only(c, words)));
        if !only_children && own(old) != own(new) {
            out.insert(base.clone());
            found = true;
        }
        for child in resource.children() {
            if !reordered && !differing.iter().any(|words| owns(child, words)) {
                continue;
            }
            // A server or a bind reads from its own line alone: only the
            // lines that differ need reading.
            if let (false, Shape::Line(LineKind::Child(kind))) = (reordered, child.shape) {
                let collection = format!("{base}/{}", child.collection);
                let read = |lines: &[(u64, LineRef<'_>)], other: &HashSet<u64>| {
                    let items = lines.iter().filter(|(h, _)| !other.contains(h));
                    items
                        .filter_map(|(_, line)| crate::child::read_child(kind, line))
                        .map(|item| {
                            let name = item.get("name").and_then(Value::as_str);
                            (name.unwrap_or_default().to_owned(), item)
                        })
                        .collect::<HashMap<String, Map<String, Value>>>()
                };
                let (was_items, now_items) = (read(before, &now), read(after, &was));
                for (item, value) in &now_items {
                    if was_items.get(item) != Some(value) {
                        out.insert(format!("{collection}/{item}"));
                        found = true;
                    }
                }
                for item in was_items.keys().filter(|k| !now_items.contains_key(*k)) {
                    out.insert(format!("{collection}/{item}"));
                    found = true;
                }
                continue;
            }
            // An ordered list is named whole: it changed when its lines, in
            // order, did (no need to read every rule).
            if child.is_indexed() {
                let lines = |side: &[(u64, LineRef<'_>)]| -> Vec<u64> {
                    let mine = side.iter().filter(|(_, l)| owns(child, &first_words(l)));
                    mine.map(|(h, _)| *h).collect()
                };
                if lines(before) != lines(after) {
                    out.insert(format!("{base}/{}", child.collection));
                    found = true;
                }
                continue;
            }
            let place = Place {
                resource: child,
                parent: Some((resource, name)),
            };
            let list = |doc| registry::list(doc, place, false).unwrap_or_default();
            let (was, now) = (list(old), list(new));
            if was == now {
                continue;
            }
            found = true;
            let collection = format!("{base}/{}", child.collection);
            match child.key().filter(|_| !child.is_indexed()) {
                Some(field) => {
                    let by_key = |items: Vec<Map<String, Value>>| -> HashMap<String, Value> {
                        items
                            .into_iter()
                            .map(|item| {
                                let key = match item.get(field) {
                                    Some(Value::String(s)) => s.clone(),
                                    Some(other) => other.to_string(),
                                    None => String::new(),
                                };
                                (key, Value::Object(item))
                            })
                            .collect()
                    };
                    let (was, now) = (by_key(was), by_key(now));
                    if was == now {
                        // The same items in another order.
                        out.insert(collection);
                        continue;
                    }
                    for (item, value) in &now {
                        if was.get(item) != Some(value) {
                            out.insert(format!("{collection}/{item}"));
                        }
                    }
                    for item in was.keys().filter(|k| !now.contains_key(*k)) {
                        out.insert(format!("{collection}/{item}"));
                    }
                }
                None => {
                    out.insert(collection);
                }
            }
        }
    }
    if !found {
        // Only comments, blank lines or what no resource shows.
        out.insert(section_path(resources[0], name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(text.as_bytes().to_vec())
    }

    const BASE: &str = "global\n    maxconn 100\n\ndefaults\n    mode http\n\nfrontend f\n    bind :80\n    http-request deny if { path /x }\n    default_backend web\n\nbackend web\n    balance roundrobin\n    server s1 127.0.0.1:8001 weight 10\n    server s2 127.0.0.1:8002\n";

    #[test]
    fn names_what_changed() {
        let old = doc(BASE);
        let same = changes(&old, &old);
        assert!(same.is_empty(), "{same:?}");
        let weight = doc(&BASE.replace("weight 10", "weight 20"));
        assert_eq!(changes(&old, &weight), ["/backends/web/servers/s1"]);
        let added = doc(&format!("{BASE}    server s3 127.0.0.1:8003\n"));
        assert_eq!(changes(&old, &added), ["/backends/web/servers/s3"]);
        assert_eq!(changes(&added, &old), ["/backends/web/servers/s3"]);
        let balance = doc(&BASE.replace("roundrobin", "leastconn"));
        assert_eq!(changes(&old, &balance), ["/backends/web"]);
        let rule = doc(&BASE.replace("/x", "/y"));
        assert_eq!(changes(&old, &rule), ["/frontends/f/http_request_rules"]);
        let global = doc(&BASE.replace("maxconn 100", "maxconn 200"));
        assert_eq!(changes(&old, &global), ["/global"]);
        let unnamed = doc(&BASE.replace("mode http", "mode tcp"));
        assert_eq!(changes(&old, &unnamed), ["/defaults/unnamed_defaults_1"]);
        let comment = doc(&BASE.replace("    balance", "    # note\n    balance"));
        assert_eq!(changes(&old, &comment), ["/backends/web"]);
        let new_backend = doc(&format!(
            "{BASE}\nbackend api\n    server a 127.0.0.1:9000\n"
        ));
        assert_eq!(changes(&old, &new_backend), ["/backends/api"]);
        assert_eq!(changes(&new_backend, &old), ["/backends/api"]);
        let swapped = doc(&BASE.replace(
            "    server s1 127.0.0.1:8001 weight 10\n    server s2 127.0.0.1:8002\n",
            "    server s2 127.0.0.1:8002\n    server s1 127.0.0.1:8001 weight 10\n",
        ));
        // The same servers in another order: the list changed, no server did.
        assert_eq!(changes(&old, &swapped), ["/backends/web/servers"]);
        let program = doc(&format!("{BASE}\nprogram api\n    command /bin/true\n"));
        assert_eq!(changes(&old, &program), ["program api"]);
        // A server and the section's own field: both are named.
        let both = doc(&BASE
            .replace("weight 10", "weight 20")
            .replace("roundrobin", "leastconn"));
        assert_eq!(
            changes(&old, &both),
            ["/backends/web", "/backends/web/servers/s1"]
        );
        // A server and the header's parent: the section changed too.
        let from = doc(&format!(
            "{}\ndefaults base\n    mode http\n",
            BASE.replace("\nbackend web\n", "\nbackend web from base\n")
                .replace("weight 10", "weight 20")
        ));
        let with_parent = doc(&format!("{BASE}\ndefaults base\n    mode http\n"));
        assert_eq!(
            changes(&with_parent, &from),
            ["/backends/web", "/backends/web/servers/s1"]
        );
    }

    #[test]
    fn an_ordered_list_is_named_when_its_lines_change_or_move() {
        let two = "frontend f\n    http-request deny if { path /a }\n    tcp-request content accept\n    http-request allow\n";
        let old = doc(two);
        let moved = doc(&two.replace(
            "    http-request deny if { path /a }\n    tcp-request content accept\n    http-request allow\n",
            "    http-request allow\n    tcp-request content accept\n    http-request deny if { path /a }\n",
        ));
        assert_eq!(changes(&old, &moved), ["/frontends/f/http_request_rules"]);
        let other = doc(&two.replace("content accept", "content reject"));
        assert_eq!(changes(&old, &other), ["/frontends/f/tcp_request_rules"]);
        let removed = doc(&two.replace("    http-request allow\n", ""));
        assert_eq!(changes(&old, &removed), ["/frontends/f/http_request_rules"]);
    }

    #[test]
    fn a_listen_section_is_a_frontend_and_a_backend() {
        let old = doc("listen both\n    bind :80\n    server s1 127.0.0.1:1\n");
        let new = doc("listen both\n    bind :80\n    server s1 127.0.0.1:2\n");
        assert_eq!(changes(&old, &new), ["/backends/both/servers/s1"]);
        let gone = doc("global\n");
        assert_eq!(
            changes(&old, &gone),
            ["/backends/both", "/frontends/both", "/global"]
        );
    }
}
