//! Splits one configuration line into words with HAProxy's quoting rules.
//!
//! The rules are those of configuration.txt section 2.2: spaces and tabs
//! separate words; `'...'` quotes strongly (nothing is interpreted inside);
//! `"..."` quotes weakly (backslash escapes work, `$VAR` would be expanded by
//! HAProxy); a backslash outside single quotes escapes the next character
//! (`\ `, `\#`, `\\`, `\'`, `\"`, `\n`, `\r`, `\t`, `\xNN`, and `\$` inside double
//! quotes only: HAProxy keeps it as written elsewhere); an unquoted,
//! unescaped `#` starts a comment that runs to the end of the line.
//!
//! Environment variables are *not* expanded: a word's value keeps `${NAME}` as
//! written, because the configuration is edited, not executed. This module
//! only reads; it never changes a byte of the line.

use std::borrow::Cow;

/// One word of a line: where it stands and what HAProxy reads from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word<'a> {
    /// Byte offset of the word's first byte in the line.
    pub start: usize,
    /// The word as written, quotes and backslashes included.
    pub raw: &'a [u8],
    /// The word with quotes removed and escapes resolved (lossy UTF-8).
    pub value: Cow<'a, str>,
}

/// A quoting error found while splitting a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// Byte offset of the opening quote that is never closed.
    pub offset: usize,
    pub message: &'static str,
}

/// A line split into words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lexed<'a> {
    /// Length in bytes of the leading spaces and tabs.
    pub indent: usize,
    pub words: Vec<Word<'a>>,
    /// Byte offset where a trailing or full-line comment starts (at its `#`).
    pub comment: Option<usize>,
    pub error: Option<LexError>,
}

/// What separates words: HAProxy's `isspace` (space, tab, vertical tab,
/// form feed, carriage return) outside quotes.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x0b | 0x0c | b'\r')
}

/// Splits `line` (without its end of line) into words.
pub fn lex(line: &[u8]) -> Lexed<'_> {
    let mut out = Lexed::default();
    let mut pos = 0;
    while pos < line.len() && is_blank(line[pos]) {
        pos += 1;
    }
    out.indent = pos;
    while pos < line.len() {
        if is_blank(line[pos]) {
            pos += 1;
            continue;
        }
        if line[pos] == b'#' {
            out.comment = Some(pos);
            break;
        }
        let (word, end, error) = lex_word(line, pos);
        out.words.push(word);
        if error.is_some() {
            out.error = error;
        }
        pos = end;
        if pos < line.len() && line[pos] == b'#' {
            out.comment = Some(pos);
            break;
        }
    }
    out
}

/// Reads one word starting at `start`; returns it, the offset after it and a
/// quoting error if a quote is left open.
fn lex_word(line: &[u8], start: usize) -> (Word<'_>, usize, Option<LexError>) {
    // Fast path: a word without quotes or backslashes is its own value.
    let mut pos = start;
    while pos < line.len() {
        match line[pos] {
            b'#' => break,
            b if is_blank(b) => break,
            b'\'' | b'"' | b'\\' => return lex_quoted_word(line, start),
            _ => pos += 1,
        }
    }
    let raw = &line[start..pos];
    let word = Word {
        start,
        raw,
        value: String::from_utf8_lossy(raw),
    };
    (word, pos, None)
}

fn lex_quoted_word(line: &[u8], start: usize) -> (Word<'_>, usize, Option<LexError>) {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single(usize),
        Double(usize),
    }
    let mut value = Vec::new();
    let mut quote = Quote::None;
    let mut pos = start;
    while pos < line.len() {
        let c = line[pos];
        match quote {
            Quote::Single(_) => {
                if c == b'\'' {
                    quote = Quote::None;
                } else {
                    value.push(c);
                }
                pos += 1;
            }
            Quote::Double(_) if c == b'"' => {
                quote = Quote::None;
                pos += 1;
            }
            Quote::Double(_) | Quote::None if c == b'\\' => {
                let double = matches!(quote, Quote::Double(_));
                pos = unescape(line, pos, double, &mut value);
            }
            Quote::Double(_) => {
                value.push(c);
                pos += 1;
            }
            Quote::None => match c {
                b'#' => break,
                c if is_blank(c) => break,
                b'\'' => {
                    quote = Quote::Single(pos);
                    pos += 1;
                }
                b'"' => {
                    quote = Quote::Double(pos);
                    pos += 1;
                }
                _ => {
                    value.push(c);
                    pos += 1;
                }
            },
        }
    }
    let error = match quote {
        Quote::None => None,
        Quote::Single(offset) => Some(LexError {
            offset,
            message: "unterminated single quote (') in this word",
        }),
        Quote::Double(offset) => Some(LexError {
            offset,
            message: "unterminated double quote (\") in this word",
        }),
    };
    let value = match String::from_utf8(value) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    };
    (
        Word {
            start,
            raw: &line[start..pos],
            value,
        },
        pos,
        error,
    )
}

/// Resolves the escape sequence whose backslash is at `pos`; returns the
/// offset after it. `\$` is an escape only inside double quotes (`double`),
/// where `$` would expand: outside them HAProxy keeps both characters.
fn unescape(line: &[u8], pos: usize, double: bool, value: &mut Vec<u8>) -> usize {
    let Some(&next) = line.get(pos + 1) else {
        value.push(b'\\');
        return pos + 1;
    };
    let resolved = match next {
        b' ' | b'#' | b'\\' | b'\'' | b'"' => next,
        b'$' if double => next,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'x' => {
            let hex = line
                .get(pos + 2..pos + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                value.push(byte);
                return pos + 4;
            }
            value.extend_from_slice(b"\\x");
            return pos + 2;
        }
        // HAProxy keeps the backslash of any other pair and reads the next
        // character as usual (a tab after it still separates words).
        _ => {
            value.push(b'\\');
            return pos + 1;
        }
    };
    value.push(resolved);
    pos + 2
}

/// Marks a word that is already written as a configuration word
/// (`"text/plain"`, quotes included): the line writer puts it in the file as
/// it is instead of quoting it. `word` must be exactly one word as [`lex`]
/// reads it, not empty, with no control character but tab and no `$` that HAProxy
/// would expand (an unescaped `$` in double quotes); anything else is quoted like any value. The mark is a
/// NUL byte, which no value carries (see [`quote`]).
pub fn verbatim(word: &str) -> String {
    if is_one_word(word) {
        format!("\0{word}")
    } else {
        word.to_owned()
    }
}

/// Whether `text` is exactly one configuration word, as written, that
/// expands no environment variable.
fn is_one_word(text: &str) -> bool {
    // Followed by another word, as it will be in a line: a trailing
    // backslash would escape the space.
    let line = format!("{text} x");
    let lexed = lex(line.as_bytes());
    match lexed.words.as_slice() {
        [one, _] => {
            lexed.error.is_none()
                && lexed.comment.is_none()
                && one.start == 0
                && one.raw.len() == text.len()
                && !one.value.is_empty()
                && !text.bytes().any(|b| b != b'\t' && b.is_ascii_control())
                && !expands(text.as_bytes())
                && !bad_hex_escape(text.as_bytes())
        }
        _ => false,
    }
}

/// Whether a word as written has a `\x` not followed by two hex digits
/// outside single quotes, which HAProxy refuses ("truncated or invalid
/// hexadecimal sequence") where this lexer keeps it as written.
fn bad_hex_escape(word: &[u8]) -> bool {
    let mut single = false;
    let mut at = 0;
    while at < word.len() {
        match word[at] {
            b'\\' if !single => {
                if word.get(at + 1) == Some(&b'x') {
                    let hex = word.get(at + 2..at + 4);
                    if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        return true;
                    }
                }
                at += 2;
                continue;
            }
            b'\'' => single = !single,
            _ => {}
        }
        at += 1;
    }
    false
}

/// Whether a word as written has a `$` HAProxy expands: unescaped, inside
/// double quotes.
fn expands(word: &[u8]) -> bool {
    let (mut single, mut double) = (false, false);
    let mut bytes = word.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' if !single => {
                bytes.next();
            }
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'$' if double => return true,
            _ => {}
        }
    }
    false
}

/// Writes `value` as one configuration word that HAProxy reads back as
/// exactly `value`, quoting only when it must.
///
/// Plain words stay bare. A word with spaces, `#`, quotes or backslashes is
/// put in single quotes when it can be (nothing is interpreted there, so a
/// regular expression stays readable), otherwise in double quotes, where
/// `"`, `\\` and `$` are escaped (HAProxy would expand `$NAME`) and control
/// characters other than tab are written as `\n`, `\r` or `\xNN`. An empty value
/// becomes `""`. NUL has no spelling HAProxy keeps: callers refuse it.
pub fn quote(value: &str) -> Cow<'_, str> {
    if let Some(word) = value.strip_prefix('\0').filter(|w| is_one_word(w)) {
        // Marked by `verbatim`: already one word.
        return Cow::Borrowed(word);
    }
    let special = |b: u8| matches!(b, b' ' | b'#' | b'\'' | b'"' | b'\\') || b.is_ascii_control();
    if !value.is_empty() && !value.bytes().any(special) {
        return Cow::Borrowed(value);
    }
    // Strong quotes take everything but the single quote itself and the
    // characters only an escape can give (line breaks and the like).
    let strong = !value.is_empty()
        && value
            .bytes()
            .all(|b| b != b'\'' && (b == b'\t' || !b.is_ascii_control()));
    if strong && value.bytes().any(|b| b == b'$' || b == b'\\') {
        return Cow::Owned(format!("'{value}'"));
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push('\t'),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            _ => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn check(line: &str, expect: Expect) {
        let lexed = lex(line.as_bytes());
        let mut out = String::new();
        for w in &lexed.words {
            out.push_str(&format!("[{}]", w.value));
        }
        if let Some(c) = lexed.comment {
            out.push_str(&format!(" comment@{c}"));
        }
        if let Some(e) = lexed.error {
            out.push_str(&format!(" error@{}: {}", e.offset, e.message));
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn words_and_comments() {
        check(
            "  server s1 127.0.0.1:80 check",
            expect!["[server][s1][127.0.0.1:80][check]"],
        );
        check("\tmode http # trailing", expect!["[mode][http] comment@11"]);
        check("# full line", expect![" comment@0"]);
        check(
            "acl a path_beg /x#y",
            expect!["[acl][a][path_beg][/x] comment@17"],
        );
        check("", expect![""]);
    }

    #[test]
    fn quoting_and_escapes() {
        check(r#"log-format "%ci %t""#, expect!["[log-format][%ci %t]"]);
        check(r"log-format %ci\ %t", expect!["[log-format][%ci %t]"]);
        check(r#"x a\$b "a\$b""#, expect![r"[x][a\$b][a$b]"]);
        check("x a\\\tb \"a\\\tb\"", expect!["[x][a\\][b][a\\\tb]"]);
        check(r#"x '%[a] "b"' c"#, expect![[r#"[x][%[a] "b"][c]"#]]);
        check(r#"x "a"'b'\ c"#, expect!["[x][ab c]"]);
        check(r"x \# \\ \x41 \q", expect![r"[x][#][\][A][\q]"]);
        check(r#"x "${HOME}/y" ${A}"#, expect!["[x][${HOME}/y][${A}]"]);
        check(
            r#"x "open"#,
            expect![r#"[x][open] error@2: unterminated double quote (") in this word"#],
        );
        check(
            "x 'open",
            expect!["[x][open] error@2: unterminated single quote (') in this word"],
        );
        check("x \"#\" y", expect!["[x][#][y]"]);
    }

    #[test]
    fn a_verbatim_word_is_written_as_it_is_and_anything_else_quoted() {
        let written = |w: &str| quote(&verbatim(w)).into_owned();
        assert_eq!(written(r#""text/plain""#), r#""text/plain""#);
        assert_eq!(written(r#"{"ip":"%[src]"}"#), r#"{"ip":"%[src]"}"#);
        assert_eq!(written("'a b'"), "'a b'");
        // Not one word: the text itself, quoted.
        assert_eq!(written("a b"), r#""a b""#);
        assert_eq!(written(r#""open"#), r#""\"open""#);
        assert_eq!(written("a #b"), r#""a #b""#);
        assert_eq!(written(" lead"), r#"" lead""#);
        assert_eq!(written(r#""$HOME""#), r#"'"$HOME"'"#);
        assert_eq!(written(r#""\$HOME""#), r#""\$HOME""#);
        assert_eq!(written("'$HOME'"), "'$HOME'");
        assert_eq!(written("$HOME"), "$HOME");
        assert_eq!(written("a\\"), r#"'a\'"#);
        // A `\x` without two hex digits is refused by HAProxy: quoted, it
        // reads back as the text itself.
        assert_eq!(written(r"a\x41"), r"a\x41");
        let bad = written(r"(\x中");
        assert_ne!(bad, r"(\x中");
        assert_eq!(lex(bad.as_bytes()).words[0].value, r"(\x中");
        // HAProxy takes an empty word for a missing one.
        assert_eq!(written("''"), r#""''""#);
        // Line breaks only ever reach the file escaped.
        assert_eq!(written("'a\nb'"), r#""'a\nb'""#);
        // A mark on anything but one word is no licence: still one word.
        assert_eq!(lex(quote("\0a b\nc").as_bytes()).words.len(), 1);
    }

    #[test]
    fn quote_round_trips_through_lex() {
        for v in [
            "plain",
            "two words",
            "",
            "a\"b",
            "back\\slash",
            "#hash",
            "it's",
            "${VAR}",
            "it's $HOME",
            "a\x0bbackup\x0bdisabled",
            "tab\there",
            "v\r\nX-Smuggled: yes",
            "\x7f",
            "'",
            "\\",
        ] {
            let q = quote(v);
            let lexed = lex(q.as_bytes());
            assert_eq!(lexed.words.len(), 1, "{q}");
            assert_eq!(lexed.words[0].value, v, "{q}");
        }
    }
}
