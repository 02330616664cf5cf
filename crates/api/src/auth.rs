//! HTTP basic authentication against a HAProxy userlist.
//!
//! A userlist names users with `insecure-password TEXT` or `password HASH`
//! (crypt(3): `$1$` MD5, `$5$` SHA-256, `$6$` SHA-512). Clear passwords are
//! compared in constant time; hashes with crypt. A hash is slow on purpose,
//! so a successful check is remembered for the same user and password.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use haplane_dataplane::{acting_as, Caller, Dataplane, Snapshot};
use haplane_model::Document;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::AppState;

#[derive(Debug, Clone)]
enum Secret {
    Clear(String),
    Hash(String),
}

/// The users of a userlist (`None`: no such userlist) and the snapshot
/// they were read from.
type ReadFrom = (Arc<Snapshot>, Option<Arc<Users>>);

/// The users allowed to call the API.
#[derive(Debug, Default)]
pub struct Users {
    users: HashMap<String, Secret>,
    /// User -> password already checked against a hash.
    verified: Mutex<HashMap<String, String>>,
    /// The userlist of the configuration these users follow: each request
    /// is checked against the userlist as it is now.
    follows: Option<String>,
    /// The users of `follows` in the snapshot they were read from.
    current: Mutex<Option<ReadFrom>>,
}

impl Users {
    /// Reads `userlist NAME` of a configuration. `None` if there is no such
    /// userlist; an empty userlist gives no users (nobody gets in).
    pub fn from_userlist(doc: &Document, name: &str) -> Option<Users> {
        let users = haplane_model::userlist_users(doc, name)?
            .into_iter()
            .map(|u| {
                let secret = match u.hashed {
                    true => Secret::Hash(u.password),
                    false => Secret::Clear(u.password),
                };
                (u.name, secret)
            })
            .collect();
        Some(Users {
            users,
            ..Users::default()
        })
    }

    /// These users, following `userlist NAME` of the served configuration
    /// from now on: a user added or removed there can or cannot log in on
    /// the next request. Should the userlist go from the file (a hand
    /// edit), these users are the ones that count.
    pub fn following(mut self, name: &str) -> Users {
        self.follows = Some(name.to_owned());
        self
    }

    /// The userlist these users follow.
    pub fn follows(&self) -> Option<&str> {
        self.follows.as_deref()
    }

    /// Whether `user` with `password` may come in now.
    fn check_now(&self, dp: &Dataplane, user: &str, password: &str) -> bool {
        let Some(name) = &self.follows else {
            return self.check(user, password);
        };
        let snapshot = dp.snapshot();
        // Read once per snapshot; `None` when the file has no such userlist.
        let users = {
            let mut current = self.current.lock().expect("users lock");
            match current.as_ref() {
                Some((seen, users)) if Arc::ptr_eq(seen, &snapshot) => users.clone(),
                _ => {
                    let users = Users::from_userlist(&snapshot.doc, name).map(Arc::new);
                    *current = Some((Arc::clone(&snapshot), users.clone()));
                    users
                }
            }
        };
        match users {
            Some(users) => users.check(user, password),
            None => self.check(user, password),
        }
    }

    /// One user with a clear password (the demo's).
    pub fn single(user: &str, password: &str) -> Users {
        let users = HashMap::from([(user.to_owned(), Secret::Clear(password.to_owned()))]);
        Users {
            users,
            ..Users::default()
        }
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Whether `user` with `password` may come in.
    pub fn check(&self, user: &str, password: &str) -> bool {
        match self.users.get(user) {
            Some(Secret::Clear(expected)) => {
                bool::from(expected.as_bytes().ct_eq(password.as_bytes()))
            }
            Some(Secret::Hash(hash)) => {
                let cached = self.verified.lock().expect("auth cache").get(user).cloned();
                if let Some(known) = cached {
                    return bool::from(known.as_bytes().ct_eq(password.as_bytes()));
                }
                let ok = pwhash::unix::verify(password, hash);
                if ok {
                    self.verified
                        .lock()
                        .expect("auth cache")
                        .insert(user.to_owned(), password.to_owned());
                }
                ok
            }
            None => {
                // Spend the time a check would, so unknown users cannot be told apart.
                let _ = bool::from(b"unknown-user-padding".ct_eq(password.as_bytes()));
                false
            }
        }
    }
}

/// The subject of the certificate a TLS client gave (`CN=deploy,O=ops`),
/// put in the request's extensions by the TLS listener.
#[derive(Debug, Clone)]
pub struct ClientSubject(pub String);

fn credentials(request: &Request) -> Option<(String, String)> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Refuses requests without valid credentials: 401 with `WWW-Authenticate`.
pub async fn require_user(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let user = credentials(&request)
        .filter(|(user, password)| state.users.check_now(&state.dp, user, password))
        .map(|(user, _)| user);
    if let Some(user) = user {
        let caller = Caller {
            user: Some(user),
            client: request
                .extensions()
                .get::<ClientSubject>()
                .map(|c| c.0.clone()),
        };
        let mut response = acting_as(caller.clone(), next.run(request)).await;
        // For the access log.
        response.extensions_mut().insert(caller);
        return response;
    }
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "authentication required: give a user and password of the userlist (HTTP basic)",
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"haplane\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userlist_passwords() {
        // `openssl passwd -1 -salt abcdefgh secret`
        let md5 = "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1";
        let sha512 = pwhash::sha512_crypt::hash("other").unwrap();
        let text = format!(
            "userlist api\n    user admin insecure-password adminpw\n    user ops password {md5}\n    user dev password {sha512}\n    group g\n"
        );
        let users = Users::from_userlist(&Document::parse(text.into_bytes()), "api").unwrap();
        assert_eq!(users.len(), 3);
        assert!(users.check("admin", "adminpw"));
        assert!(!users.check("admin", "adminpw "));
        assert!(users.check("ops", "secret"));
        assert!(users.check("ops", "secret"), "cached");
        assert!(!users.check("ops", "wrong"));
        assert!(users.check("dev", "other"));
        assert!(!users.check("nobody", "x"));
        assert!(Users::from_userlist(&Document::parse(b"global\n".to_vec()), "api").is_none());
    }
}
