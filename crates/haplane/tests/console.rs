//! The web console in a real browser: Debian's Chromium, headless, driven
//! by Playwright (`tests/console/console.mjs`), against haplane and a real
//! HAProxy. A weight edited in the server's form reaches the file; a port
//! it cannot have is shown on the port field and changes nothing; a
//! transaction is started, shown as a diff and committed; a drain from the
//! live view reaches HAProxy; the history shows the diff.
//! On failure the script leaves a screenshot, named in the test's output.

mod common;

use std::path::Path;
use std::process::Command;

use common::World;

#[test]
fn the_console_edits_a_server_and_shows_errors_on_their_field() {
    let config =
        common::CONFIG.to_owned() + "\nbackend pool\n    server s1 127.0.0.1:@APP@ weight 10\n";
    let w = World::start_with(&config, &[]);
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console");
    assert!(
        here.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: `npm ci` in {} (scripts/setup --tests does it)",
        here.display()
    );
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let base = w.api.trim_end_matches("/v3").to_owned();
    let out = Command::new("node")
        .arg(here.join("console.mjs"))
        .arg(&base)
        .arg(&shots)
        .current_dir(&here)
        .output()
        .expect("node runs (the machine's Node.js)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{said}");
    assert!(out.status.success(), "{said}");
    assert!(said.contains("all steps passed"), "{said}");
    let file = w.config();
    assert!(file.contains("    server s1 127.0.0.1:"), "{file}");
    assert!(file.contains(" weight 43"), "{file}");
    assert!(!file.contains("99999"), "{file}");
    let (_, server, _) = w.send(
        "GET",
        "/services/haproxy/runtime/backends/pool/servers/s1",
        None,
    );
    assert_eq!(server["admin_state"], "drain", "{server}");
}
