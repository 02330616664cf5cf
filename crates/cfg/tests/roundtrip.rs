//! `print(parse(s)) == s`, on real configurations, hand-made awkward files,
//! and generated inputs.

use std::path::{Path, PathBuf};

use haplane_cfg::{Document, LineKind};
use proptest::prelude::*;

fn cfg_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cfg"))
        .collect();
    files.sort();
    files
}

/// Parses and prints `bytes`; checks the round trip and that every line of
/// the input landed in exactly one place of the tree.
fn assert_round_trip(name: &str, bytes: &[u8]) -> Document {
    let doc = Document::parse(bytes.to_vec());
    assert!(doc.to_bytes() == bytes, "round trip changed {name}");
    let lines = doc.preamble().count() + doc.sections().map(|s| 1 + s.len()).sum::<usize>();
    let expected = if bytes.is_empty() {
        0
    } else {
        bytes.split(|&b| b == b'\n').count() - bytes.ends_with(b"\n") as usize
    };
    assert_eq!(lines, expected, "line count of {name}");
    doc
}

#[test]
fn corpus_round_trips() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/haproxy-tests");
    // The corpus lives beside the checkout; a clone alone skips it with one
    // line, unless HAPLANE_REQUIRE_REFERENCE is set (CI sets it).
    if !dir.is_dir() {
        assert!(
            std::env::var_os("HAPLANE_REQUIRE_REFERENCE").is_none(),
            "HAPLANE_REQUIRE_REFERENCE is set but {} is missing",
            dir.display()
        );
        // Written past the test harness's capture, so it shows in the run.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "skipped: no corpus at {}", dir.display());
        });
        return;
    }
    let files = cfg_files(&dir);
    assert_eq!(files.len(), 327, "the corpus holds 327 configurations");
    let mut sections = 0;
    for path in &files {
        let bytes = std::fs::read(path).expect("read corpus file");
        let doc = assert_round_trip(&path.display().to_string(), &bytes);
        sections += doc.sections().count();
        // A keyword before any section would mean a header was not recognised.
        assert!(
            doc.preamble().all(|l| l.kind() != LineKind::Keyword),
            "{} has keywords outside sections:\n{}",
            path.display(),
            doc.outline()
        );
    }
    assert!(
        sections > 1000,
        "the corpus parses into sections ({sections})"
    );
}

#[test]
fn haproxy_examples_round_trip() {
    let dir = Path::new("/usr/share/doc/haproxy/examples");
    let files = cfg_files(dir);
    assert!(
        !files.is_empty(),
        "haproxy's examples are installed with the haproxy package"
    );
    for path in files {
        let bytes = std::fs::read(&path).expect("read example");
        assert_round_trip(&path.display().to_string(), &bytes);
    }
}

#[test]
fn fixtures_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let files = cfg_files(&dir);
    assert!(files.len() >= 6);
    for path in files {
        let bytes = std::fs::read(&path).expect("read fixture");
        assert_round_trip(&path.display().to_string(), &bytes);
    }
}

/// Lines that look like configuration, including the awkward parts.
fn config_line() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        "[a-z_.-]{1,12}",
        "\"[^\"\\\\\n]{0,10}\"",
        "'[^'\n]{0,10}'",
        Just("\\ ".to_string()),
        Just("${VAR}".to_string()),
        Just("%[req.hdr(host),regsub(\\\"a\\\",b,g)]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\"unterminated".to_string()),
    ];
    let keyword = prop_oneof![
        Just("global"),
        Just("defaults"),
        Just("frontend"),
        Just("backend"),
        Just("listen"),
        Just("server"),
        Just("bind"),
        Just("mode"),
        Just("acl"),
        Just("http-request"),
        Just(".if"),
        Just(".endif"),
        Just(".else"),
        Just("# comment"),
        Just(""),
        Just("userlist"),
        Just("peers"),
        Just("resolvers"),
        Just("ring"),
        Just("program"),
    ];
    (
        "[ \t]{0,3}",
        keyword,
        proptest::collection::vec(word, 0..5),
        prop_oneof![Just(""), Just(" # trailing"), Just("#x")],
    )
        .prop_map(|(indent, kw, words, comment)| {
            format!("{indent}{kw} {}{comment}", words.join(" "))
        })
}

fn config_text() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(
            (config_line(), prop_oneof![Just("\n"), Just("\r\n")]),
            0..40,
        ),
        any::<bool>(),
    )
        .prop_map(|(lines, final_newline)| {
            let mut s: String = lines.iter().map(|(l, e)| format!("{l}{e}")).collect();
            if !final_newline {
                s.pop();
            }
            s
        })
}

/// The length of the longest common subsequence of two lists of lines.
fn common_subsequence(a: &[&str], b: &[&str]) -> usize {
    let mut row = vec![0; b.len() + 1];
    for x in a {
        let mut diagonal = 0;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let doc = Document::parse(bytes.clone());
        prop_assert_eq!(doc.to_bytes(), bytes);
    }

    #[test]
    fn config_like_text_round_trips(text in config_text()) {
        let doc = Document::parse(text.clone().into_bytes());
        prop_assert_eq!(doc.to_text(), text);
    }

    /// The cheap test before a split never turns a line away whose first
    /// word is the one asked for, however it is quoted or escaped.
    #[test]
    fn a_line_whose_first_word_is_asked_for_may_start_with_it(
        word in prop::sample::select(vec!["server", "http-request", "bind", "no"]),
        quoting in proptest::collection::vec(0..5u8, 12),
        indent in "[ \t]{0,3}",
        rest in "[ \t]{0,2}[a-z0-9 ]{0,8}",
    ) {
        let spelled: String = word
            .chars()
            .zip(quoting.iter().cycle())
            .map(|(c, how)| match how {
                1 => format!("\"{c}\""),
                2 => format!("'{c}'"),
                3 => format!("\\{c}"),
                _ => c.to_string(),
            })
            .collect();
        let line = format!("{indent}{spelled}{rest}");
        let doc = Document::parse(format!("backend b\n{line}\n").into_bytes());
        let section = doc.sections().next().unwrap();
        for (_, l) in section.keyword_lines() {
            let first = l.words().first().map(|w| w.value.to_string());
            if first.as_deref() == Some(word) {
                prop_assert!(l.may_start_with(word), "{:?} starts with {}", line, word);
            }
        }
    }

    /// After any edit, every line the edit did not name is still there, in order.
    #[test]
    fn edits_keep_other_lines(text in config_text(), pick in any::<prop::sample::Index>(), op in 0..4u8) {
        let mut doc = Document::parse(text.clone().into_bytes());
        let ids: Vec<_> = doc.sections().map(|s| s.id()).collect();
        prop_assume!(!ids.is_empty());
        let id = ids[pick.index(ids.len())];
        let before = doc.to_text();
        match op {
            0 => { doc.push_words(id, &["new", "line with space"]); }
            1 if !doc.section(id).is_empty() => {
                let i = pick.index(doc.section(id).len());
                doc.replace_words(id, i, &["replaced"]);
            }
            2 if !doc.section(id).is_empty() => {
                let i = pick.index(doc.section(id).len());
                doc.remove_line(id, i);
            }
            _ => { doc.insert_section(Some(id), &["backend", "added"]); }
        }
        let after = doc.to_text();
        // Untouched lines keep their order: the lines of `before` that are
        // found in order in `after` miss at most the edited line and the
        // comments attached to it.
        let old: Vec<&str> = before.lines().collect();
        let missing = old.len() - common_subsequence(&old, &after.lines().collect::<Vec<_>>());
        let comments = before.lines().filter(|l| l.trim_start().starts_with('#')).count();
        prop_assert!(missing <= 1 + comments, "edit lost lines:\n{}\n---\n{}", before, after);
        // The edited document still round-trips.
        let reparsed = Document::parse(after.clone().into_bytes());
        prop_assert_eq!(reparsed.to_text(), after);
    }
}
