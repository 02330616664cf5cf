//! Edits change only the lines they name: data-driven checks of the result.

use expect_test::{expect, Expect};
use haplane_cfg::{Document, SectionId, SectionKind};

/// Parses `input`, applies `edit`, and compares the printed result.
fn check(input: &str, edit: impl FnOnce(&mut Document), expect: Expect) {
    let mut doc = Document::parse(input.as_bytes().to_vec());
    edit(&mut doc);
    expect.assert_eq(&doc.to_text());
}

fn backend(doc: &Document, name: &str) -> SectionId {
    doc.find_section(SectionKind::Backend, name)
        .expect("backend exists")
}

const WEB: &str = r#"# _version=3
global
    maxconn 100

# the web tier
backend web
	balance roundrobin
	# primary
	server a 10.0.0.1:80 check # keep me
	# servers
	server b 10.0.0.2:80
	server c 10.0.0.3:80

# api
backend api
  server x 10.0.1.1:80
"#;

#[test]
fn new_lines_take_the_section_indentation() {
    check(
        WEB,
        |doc| {
            let id = backend(doc, "web");
            doc.push_words(id, &["server", "d", "10.0.0.4:80"]);
            let id = backend(doc, "api");
            doc.insert_words(id, 0, &["balance", "first"]);
        },
        expect![[r#"
            # _version=3
            global
                maxconn 100

            # the web tier
            backend web
            	balance roundrobin
            	# primary
            	server a 10.0.0.1:80 check # keep me
            	# servers
            	server b 10.0.0.2:80
            	server c 10.0.0.3:80
            	server d 10.0.0.4:80

            # api
            backend api
              balance first
              server x 10.0.1.1:80
        "#]],
    );
}

#[test]
fn replace_keeps_indentation_and_trailing_comment() {
    check(
        WEB,
        |doc| {
            let id = backend(doc, "web");
            doc.replace_words(id, 2, &["server", "a", "10.0.0.9:80", "weight", "5"]);
            doc.replace_words(id, 0, &["http-request", "set-header", "X-A", "a b"]);
        },
        expect![[r#"
            # _version=3
            global
                maxconn 100

            # the web tier
            backend web
            	http-request set-header X-A "a b"
            	# primary
            	server a 10.0.0.9:80 weight 5 # keep me
            	# servers
            	server b 10.0.0.2:80
            	server c 10.0.0.3:80

            # api
            backend api
              server x 10.0.1.1:80
        "#]],
    );
}

#[test]
fn removed_lines_take_only_clearly_attached_comments() {
    // `server a` is the last line of its block: its comment goes with it.
    // `server b` is followed by `server c`: "# servers" describes both, it stays.
    check(
        WEB,
        |doc| {
            let id = backend(doc, "web");
            assert_eq!(doc.remove_line(id, 4), 1, "server b alone");
            assert_eq!(doc.remove_line(id, 2), 2, "server a and # primary");
        },
        expect![[r#"
            # _version=3
            global
                maxconn 100

            # the web tier
            backend web
            	balance roundrobin
            	# servers
            	server c 10.0.0.3:80

            # api
            backend api
              server x 10.0.1.1:80
        "#]],
    );
}

#[test]
fn move_line_carries_its_comment() {
    check(
        WEB,
        |doc| {
            let id = backend(doc, "web");
            let at = doc.move_line(id, 2, 6);
            assert_eq!(
                doc.section(id).line(at).unwrap().text(),
                "\tserver a 10.0.0.1:80 check # keep me"
            );
        },
        expect![[r#"
            # _version=3
            global
                maxconn 100

            # the web tier
            backend web
            	balance roundrobin
            	# servers
            	server b 10.0.0.2:80
            	server c 10.0.0.3:80
            	# primary
            	server a 10.0.0.1:80 check # keep me

            # api
            backend api
              server x 10.0.1.1:80
        "#]],
    );
}

#[test]
fn sections_are_inserted_removed_and_moved_with_their_comments() {
    check(
        WEB,
        |doc| {
            let api = backend(doc, "api");
            let new = doc.insert_section(Some(api), &["backend", "static"]);
            doc.push_words(new, &["server", "s", "10.0.2.1:80"]);
            let web = backend(doc, "web");
            doc.remove_section(web);
        },
        expect![[r#"
            # _version=3
            global
                maxconn 100

            backend static
                server s 10.0.2.1:80

            # api
            backend api
              server x 10.0.1.1:80
        "#]],
    );
    check(
        WEB,
        |doc| {
            let api = backend(doc, "api");
            let web = backend(doc, "web");
            doc.move_section(api, Some(web));
            doc.insert_section(None, &["frontend", "main"]);
        },
        expect![[r#"
            # _version=3
            global
                maxconn 100

            # api
            backend api
              server x 10.0.1.1:80

            # the web tier
            backend web
            	balance roundrobin
            	# primary
            	server a 10.0.0.1:80 check # keep me
            	# servers
            	server b 10.0.0.2:80
            	server c 10.0.0.3:80

            frontend main
        "#]],
    );
}

#[test]
fn version_line_is_read_and_set() {
    let doc = Document::parse(WEB.as_bytes().to_vec());
    assert_eq!(doc.version(), Some(3));
    check(
        "# _version=3\nglobal\n",
        |doc| doc.set_version(4),
        expect![[r#"
        # _version=4
        global
    "#]],
    );
    check(
        "# hello\nglobal\n",
        |doc| doc.set_version(1),
        expect![[r#"
        # _version=1
        # hello
        global
    "#]],
    );
    // A version line that is not the first line is only a comment.
    assert_eq!(
        Document::parse(b"\n# _version=3\n".to_vec()).version(),
        None
    );
}

#[test]
fn end_of_lines_follow_the_file() {
    check(
        "global\n    daemon",
        |doc| {
            let id = doc.sections().next().unwrap().id();
            doc.push_words(id, &["maxconn", "10"]);
        },
        expect![[r#"
        global
            daemon
            maxconn 10
    "#]],
    );
    let mut doc = Document::parse(b"global\r\n    daemon\r\n".to_vec());
    let id = doc.sections().next().unwrap().id();
    doc.push_words(id, &["maxconn", "10"]);
    assert_eq!(
        doc.to_bytes(),
        b"global\r\n    daemon\r\n    maxconn 10\r\n"
    );
}

#[test]
fn outline_and_diagnostics() {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/awkward.cfg"
    ))
    .unwrap();
    let doc = Document::parse(text);
    expect![[r#"
        version 42
             5  global: 5 keyword lines
            17  defaults: 1 keyword lines
            19  defaults named (from named): 0 keyword lines
            20  defaults (from named): 0 keyword lines
            22  frontend quoted name: 5 keyword lines
            28  backend be: 1 keyword lines
            32  listen l: 1 keyword lines
            34  crt-store web: 1 keyword lines
            36  program api: 2 keyword lines
        error at line 38, column 14: unterminated single quote (') in this word
    "#]]
    .assert_eq(&doc.outline());
    let d = &doc.diagnostics()[0];
    expect![[r#"
        error at line 38, column 14: unterminated single quote (') in this word
           |
        38 | unterminated 'quote here
           |              ^
    "#]]
    .assert_eq(&d.render("unterminated 'quote here"));
}

#[test]
fn unbalanced_conditionals_are_reported() {
    let doc =
        Document::parse(b"global\n.if defined(X)\n    daemon\n.endif\n.endif\n.if 1\n".to_vec());
    let messages: Vec<String> = doc.diagnostics().iter().map(|d| d.to_string()).collect();
    expect![[r#"
        [
            "error at line 5, column 1: .endif without a matching .if",
            "error at line 6, column 1: this .if has no matching .endif",
        ]
    "#]]
    .assert_debug_eq(&messages);
}

/// The sections an edit of a clone changed, as `section_change` sees them,
/// with the bytes that replace them.
fn changed(before: &Document, edit: impl FnOnce(&mut Document)) -> (usize, usize, String) {
    let mut after = before.clone();
    edit(&mut after);
    let change = after.section_change(before);
    let inserted: Vec<u8> = change
        .inserted
        .clone()
        .flat_map(|i| after.section_bytes(i))
        .collect();
    // The change spliced into the old bytes gives the new ones.
    let offset: usize = (0..change.keep).map(|i| before.section_len(i)).sum();
    let dropped: usize = (change.keep..change.keep + change.drop)
        .map(|i| before.section_len(i))
        .sum();
    let mut bytes = before.to_bytes();
    bytes.splice(offset..offset + dropped, inserted.iter().copied());
    assert_eq!(bytes, after.to_bytes());
    (
        change.keep,
        change.drop,
        String::from_utf8(inserted).unwrap(),
    )
}

#[test]
fn an_edit_of_a_clone_changes_only_the_sections_it_touches() {
    let doc = Document::parse(WEB.as_bytes().to_vec());
    // Sections: preamble 0, global 1, web 2, api 3.
    let (keep, drop, inserted) = changed(&doc, |d| {
        let api = backend(d, "api");
        d.push_words(api, &["server", "y", "10.0.1.2:80"]);
    });
    assert_eq!((keep, drop), (3, 1));
    assert_eq!(
        inserted,
        "backend api\n  server x 10.0.1.1:80\n  server y 10.0.1.2:80\n"
    );
    // A new section before web takes web's comments, which ended global.
    let (keep, drop, inserted) = changed(&doc, |d| {
        let web = backend(d, "web");
        d.insert_section(Some(web), &["backend", "new"]);
    });
    assert_eq!((keep, drop), (1, 1));
    assert!(inserted.starts_with("global\n    maxconn 100\n\nbackend new\n\n# the web tier\n"));
    let (keep, drop, inserted) = changed(&doc, |d| d.set_version(4));
    assert_eq!((keep, drop, inserted.as_str()), (0, 1, "# _version=4\n"));
    let (keep, drop, inserted) = changed(&doc, |_| {});
    assert_eq!((keep, drop, inserted.as_str()), (4, 0, ""));
    // The original is untouched by its clone's edits.
    assert_eq!(doc.to_text(), WEB);
}

#[test]
fn an_edit_after_a_last_line_without_end_ends_it() {
    let doc = Document::parse(b"global\n    daemon\nbackend a\n    server x 1.2.3.4:80".to_vec());
    let (keep, drop, _) = changed(&doc, |d| {
        d.insert_section(None, &["backend", "b"]);
    });
    assert_eq!((keep, drop), (2, 1));
    let mut edited = doc.clone();
    edited.insert_section(None, &["backend", "b"]);
    assert_eq!(
        edited.to_text(),
        "global\n    daemon\nbackend a\n    server x 1.2.3.4:80\n\nbackend b\n"
    );
}

#[test]
fn sections_are_found_by_name_after_any_edit() {
    let mut doc = Document::parse(WEB.as_bytes().to_vec());
    let api = backend(&doc, "api");
    assert_eq!(doc.find_section(SectionKind::Backend, "none"), None);
    let before = doc.clone();
    doc.replace_header(api, &["backend", "api2"]);
    assert_eq!(doc.find_section(SectionKind::Backend, "api"), None);
    assert_eq!(doc.find_section(SectionKind::Backend, "api2"), Some(api));
    // The clone it came from still finds its own names.
    assert_eq!(before.find_section(SectionKind::Backend, "api"), Some(api));
    let new = doc.insert_section(Some(backend(&doc, "web")), &["backend", "first"]);
    assert_eq!(doc.find_section(SectionKind::Backend, "first"), Some(new));
    assert_ne!(backend(&doc, "web"), new);
    doc.remove_section(new);
    assert_eq!(doc.find_section(SectionKind::Backend, "first"), None);
    let web = backend(&doc, "web");
    let moved = doc.move_section(web, None);
    assert_eq!(doc.find_section(SectionKind::Backend, "web"), Some(moved));
    assert_eq!(doc.section(moved).name().as_deref(), Some("web"));
    // The first of two sections of one name is the one found.
    let mut twice = Document::parse(b"backend a\nbackend a\n".to_vec());
    let first = twice.sections().next().unwrap().id();
    assert_eq!(twice.find_section(SectionKind::Backend, "a"), Some(first));
    twice.remove_section(first);
    let left = twice.sections().next().unwrap().id();
    assert_eq!(twice.find_section(SectionKind::Backend, "a"), Some(left));
}

/// Two files joined as one document: `a.cfg` holds `web`, `b.cfg` `api`.
const JOINED: &str = "global\n    maxconn 100\n\nbackend web\n    server a 10.0.0.1:80\n# end of a\n# _haplane_file=/etc/haproxy/b.cfg\n# b's preamble\nbackend api\n    server x 10.0.1.1:80\n";

fn file_texts(doc: &Document) -> Vec<(Option<String>, String)> {
    doc.files()
        .into_iter()
        .map(|(path, range)| (path, String::from_utf8(doc.file_bytes(range)).unwrap()))
        .collect()
}

#[test]
fn joined_files_are_read_and_split_back() {
    let doc = Document::parse(JOINED.as_bytes().to_vec());
    assert_eq!(doc.to_text(), JOINED);
    let files = file_texts(&doc);
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].0, None);
    assert_eq!(
        files[0].1,
        "global\n    maxconn 100\n\nbackend web\n    server a 10.0.0.1:80\n# end of a\n"
    );
    assert_eq!(files[1].0.as_deref(), Some("/etc/haproxy/b.cfg"));
    assert_eq!(
        files[1].1,
        "# b's preamble\nbackend api\n    server x 10.0.1.1:80\n"
    );
    // Line 2 of b.cfg is `backend api`.
    let (_, b) = doc.files().remove(1);
    let line = doc.file_line(b.start, 2);
    let location = doc.locate(line).unwrap();
    assert_eq!(doc.section(location.section).name().as_deref(), Some("api"));
    // The marker is no backend and no keyword of the section above it.
    assert_eq!(doc.sections_of(SectionKind::Backend).count(), 2);
    assert_eq!(doc.section(backend(&doc, "web")).keyword_lines().count(), 1);
}

#[test]
fn a_section_inserted_before_the_next_file_ends_its_own() {
    let mut doc = Document::parse(JOINED.as_bytes().to_vec());
    let (_, b) = doc.files().remove(1);
    doc.insert_section(doc.section_id(b.start), &["backend", "new"]);
    let files = file_texts(&doc);
    assert_eq!(
        files[0].1,
        "global\n    maxconn 100\n\nbackend web\n    server a 10.0.0.1:80\n# end of a\n\nbackend new\n"
    );
    assert_eq!(
        files[1].1,
        "# b's preamble\nbackend api\n    server x 10.0.1.1:80\n"
    );
}

#[test]
fn removing_a_files_last_section_keeps_the_next_file() {
    let mut doc = Document::parse(JOINED.as_bytes().to_vec());
    doc.remove_section(backend(&doc, "web"));
    let files = file_texts(&doc);
    assert_eq!(files[0].1, "global\n    maxconn 100\n");
    assert_eq!(
        files[1].1,
        "# b's preamble\nbackend api\n    server x 10.0.1.1:80\n"
    );
    // Moved into the first file, before the second one's start.
    let mut doc = Document::parse(JOINED.as_bytes().to_vec());
    let (_, b) = doc.files().remove(1);
    let api = backend(&doc, "api");
    doc.move_section(api, doc.section_id(b.start));
    let files = file_texts(&doc);
    // The comment directly above `backend api` goes with it.
    assert!(files[0]
        .1
        .ends_with("# end of a\n\n# b's preamble\nbackend api\n    server x 10.0.1.1:80\n"));
    assert_eq!(files[1].1, "");
}

#[test]
fn a_first_word_is_told_from_its_bytes_unless_quoted() {
    let doc = Document::parse(
        b"backend b\n    server s1 a:1\n    servers x\n    \"server\" s2 a:2\n    ser\\ver x\n\tbind :80\n".to_vec(),
    );
    let section = doc.sections().next().unwrap();
    let may: Vec<bool> = section
        .keyword_lines()
        .map(|(_, l)| l.may_start_with("server"))
        .collect();
    assert_eq!(may, [true, false, true, true, false]);
}
