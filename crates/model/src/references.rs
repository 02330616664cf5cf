//! References between sections, checked before HAProxy is asked: a
//! `default_backend` or a `use_backend` naming a backend that does not
//! exist, a `use-server` naming a server its backend does not have. The
//! error names the resource and the field; `haproxy -c` stays the final
//! judge of everything else.

use std::collections::HashSet;

use haplane_cfg::{Document, SectionKind, SectionRef};

use crate::error::ModelError;

fn group(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Frontend => "frontends",
        SectionKind::Backend => "backends",
        SectionKind::Defaults => "defaults",
        _ => "listen",
    }
}

/// The lines of `section` whose first word is `keyword`, as words; the
/// bytes are looked at before a line is split.
fn lines_of(section: &SectionRef<'_>, keyword: &str) -> Vec<Vec<String>> {
    section
        .keyword_lines()
        .filter(|(_, l)| l.bytes().trim_ascii_start().starts_with(keyword.as_bytes()))
        .map(|(_, l)| {
            l.words()
                .iter()
                .map(|w| w.value.to_string())
                .collect::<Vec<_>>()
        })
        .filter(|w| w.first().is_some_and(|k| k == keyword))
        .collect()
}

/// Checks every reference of the configuration.
pub fn check_references(doc: &Document) -> Result<(), ModelError> {
    let backends: HashSet<String> = doc
        .sections()
        .filter(|s| matches!(s.kind(), SectionKind::Backend | SectionKind::Listen))
        .filter_map(|s| s.name())
        .collect();
    for section in doc.sections() {
        let kind = section.kind();
        if !matches!(
            kind,
            SectionKind::Frontend | SectionKind::Listen | SectionKind::Backend
        ) {
            continue;
        }
        let name = section.name().unwrap_or_default();
        let at = |field: String| format!("{}/{name}: {field}", group(kind));
        if kind != SectionKind::Backend {
            for words in lines_of(&section, "default_backend") {
                if let Some(target) = words.get(1) {
                    if !target.contains('%') && !backends.contains(target) {
                        return Err(ModelError::invalid(
                            at("default_backend".into()),
                            format!("there is no backend '{target}'"),
                        ));
                    }
                }
            }
            // A name with a log-format expression is resolved per request.
            for (index, words) in lines_of(&section, "use_backend").iter().enumerate() {
                if let Some(target) = words.get(1) {
                    if !target.contains('%') && !backends.contains(target) {
                        return Err(ModelError::invalid(
                            at(format!("backend_switching_rules[{index}].name")),
                            format!("there is no backend '{target}'"),
                        ));
                    }
                }
            }
        }
        let rules = match kind {
            SectionKind::Frontend => Vec::new(),
            _ => lines_of(&section, "use-server"),
        };
        if !rules.is_empty() {
            let servers: HashSet<String> = lines_of(&section, "server")
                .into_iter()
                .filter_map(|w| w.get(1).cloned())
                .collect();
            for (index, words) in rules.iter().enumerate() {
                if let Some(target) = words.get(1) {
                    if !target.contains('%') && !servers.contains(target) {
                        return Err(ModelError::invalid(
                            at(format!("server_switching_rules[{index}].target_server")),
                            format!("there is no server '{target}' in {name}"),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), String> {
        check_references(&Document::parse(text.as_bytes().to_vec())).map_err(|e| e.to_string())
    }

    #[test]
    fn references() {
        let ok = "frontend fe\n    default_backend be\n    use_backend app if TRUE\n    use_backend %[req.hdr(host)]\nbackend be\n    server s1 127.0.0.1:80\n    use-server s1 if TRUE\nlisten app\n    bind :81\n";
        assert_eq!(check(ok), Ok(()));
        assert_eq!(
            check(&ok.replace("default_backend be", "default_backend nope")),
            Err("field 'frontends/fe: default_backend': there is no backend 'nope'".into())
        );
        assert_eq!(
            check(&ok.replace("use_backend app", "use_backend nope")),
            Err(
                "field 'frontends/fe: backend_switching_rules[0].name': there is no backend 'nope'"
                    .into()
            )
        );
        assert_eq!(
            check(&ok.replace("use-server s1", "use-server s9")),
            Err("field 'backends/be: server_switching_rules[0].target_server': there is no server 's9' in be".into())
        );
    }
}
