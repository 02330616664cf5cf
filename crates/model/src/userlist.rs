//! The users of a `userlist` section, as the API's authentication needs
//! them: `user NAME password HASH` or `user NAME insecure-password TEXT`.

use haplane_cfg::{Document, SectionKind};

/// One user of a userlist and its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    pub name: String,
    pub password: String,
    /// The password is a crypt(3) hash (`password`), not the clear text
    /// (`insecure-password`).
    pub hashed: bool,
}

/// The users of `userlist NAME`; `None` if there is no such userlist.
/// Users without a password are left out.
pub fn userlist_users(doc: &Document, name: &str) -> Option<Vec<UserEntry>> {
    let id = doc.find_section(SectionKind::Userlist, name)?;
    let mut users = Vec::new();
    for (_, line) in doc.section(id).keyword_lines() {
        let words: Vec<String> = line.words().iter().map(|w| w.value.to_string()).collect();
        if let [keyword, user, kind, secret, ..] = words.as_slice() {
            let hashed = match (keyword.as_str(), kind.as_str()) {
                ("user", "insecure-password") => false,
                ("user", "password") => true,
                _ => continue,
            };
            users.push(UserEntry {
                name: user.clone(),
                password: secret.clone(),
                hashed,
            });
        }
    }
    Some(users)
}
