//! Checks on the codebase itself: crate dependencies point one way.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// What each workspace crate may depend on (normal dependencies), as in
/// ARCHITECTURE.md. Crates not yet in the workspace are listed so that the
/// rule is written once.
const ALLOWED: &[(&str, &[&str])] = &[
    ("haplane-cfg", &[]),
    ("haplane-model", &["haplane-cfg"]),
    ("haplane-haproxy", &[]),
    ("haplane-runtime", &[]),
    (
        "haplane-dataplane",
        &[
            "haplane-model",
            "haplane-cfg",
            "haplane-haproxy",
            "haplane-runtime",
        ],
    ),
    // The fleet drives its node's engine from what etcd holds.
    ("haplane-fleet", &["haplane-dataplane", "haplane-runtime"]),
    // The API speaks in model terms: resources from the registry, never
    // the syntax tree.
    (
        "haplane-api",
        &[
            "haplane-dataplane",
            "haplane-fleet",
            "haplane-model",
            "haplane-runtime",
        ],
    ),
    (
        "haplane",
        &[
            "haplane-api",
            "haplane-dataplane",
            "haplane-fleet",
            "haplane-model",
            "haplane-cfg",
            "haplane-haproxy",
            "haplane-runtime",
        ],
    ),
];

/// Test-only edges: a crate's tests may run HAProxy's checker.
const ALLOWED_DEV: &[&str] = &["haplane-haproxy"];

#[test]
fn crate_dependencies_point_one_way() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let packages = metadata["packages"].as_array().expect("packages");
    assert!(packages.len() >= 4, "the workspace has its crates");
    let mut violations = Vec::new();
    for package in packages {
        let name = package["name"].as_str().expect("name");
        let rule = allowed
            .get(name)
            .unwrap_or_else(|| panic!("crate {name} is not in the dependency rules of tidy.rs"));
        for dep in package["dependencies"].as_array().expect("dependencies") {
            let dep_name = dep["name"].as_str().expect("dependency name");
            if !dep_name.starts_with("haplane") {
                continue;
            }
            let dev = dep["kind"].as_str() == Some("dev");
            if !(rule.contains(&dep_name) || dev && ALLOWED_DEV.contains(&dep_name)) {
                violations.push(format!(
                    "{name} -> {dep_name}{}",
                    if dev { " (dev)" } else { "" }
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "forbidden dependency edges: {violations:?}"
    );
}

#[test]
fn the_rules_reject_a_backward_edge() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    assert!(!allowed["haplane-cfg"].contains(&"haplane-model"));
    assert!(!allowed["haplane-model"].contains(&"haplane-haproxy"));
    assert!(
        !allowed["haplane-api"].contains(&"haplane-haproxy"),
        "api never spawns processes"
    );
    assert!(
        !allowed["haplane-api"].contains(&"haplane-cfg"),
        "api goes through the model"
    );
}
