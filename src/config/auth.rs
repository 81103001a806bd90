//! How a subscription authenticates, as the config file records it — *where* the secret lives,
//! never the secret itself unless the person opted in to plain text for that one subscription.
//!
//! The secret (token, password, header value) normally lives in the OS keyring
//! ([`crate::secrets`]); `config.toml` only says which kind of credential to build from it. A
//! plain-text secret is accepted only with `store = "plaintext"` written next to it, so a secret
//! never lands in the file by accident (a pasted example, a form that fell back silently).
//!
//! ```toml
//! [subscription.auth]
//! type = "bearer"            # "none" (default), "bearer", "basic", "header"
//! username = "alice"         # "basic" only
//! header = "X-Api-Key"       # "header" only: the header that carries the secret
//! store = "keyring"          # default; "plaintext" keeps `secret` in this file (opt-in)
//! secret = "…"               # only with store = "plaintext"
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;

/// The credential a subscription sends.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No credential (or only what `[subscription.headers]` sets).
    #[default]
    None,
    /// `Authorization: Bearer <secret>`.
    Bearer {
        /// Where the token lives.
        secret: SecretLocation,
    },
    /// `Authorization: Basic base64(<username>:<secret>)`.
    Basic {
        /// The user name (not secret; shown in the settings window).
        username: String,
        /// Where the password lives.
        secret: SecretLocation,
    },
    /// `<name>: <secret>`, for APIs that take a key in a header of their own.
    Header {
        /// The header's name.
        name: String,
        /// Where its value lives.
        secret: SecretLocation,
    },
}

impl Auth {
    /// Where the secret lives, if this kind has one.
    pub fn secret(&self) -> Option<&SecretLocation> {
        match self {
            Auth::None => None,
            Auth::Bearer { secret } | Auth::Basic { secret, .. } | Auth::Header { secret, .. } => {
                Some(secret)
            }
        }
    }

    /// The kind's name as written in the file (`"none"`, `"bearer"`, `"basic"`, `"header"`).
    pub fn kind(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Bearer { .. } => "bearer",
            Auth::Basic { .. } => "basic",
            Auth::Header { .. } => "header",
        }
    }

    /// The request header this credential sets, if any (checked against the headers table).
    pub fn header_name(&self) -> Option<&str> {
        match self {
            Auth::None => None,
            Auth::Bearer { .. } | Auth::Basic { .. } => Some("Authorization"),
            Auth::Header { name, .. } => Some(name),
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer { secret } => f.debug_struct("Bearer").field("secret", secret).finish(),
            Auth::Basic { username, secret } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("secret", secret)
                .finish(),
            Auth::Header { name, secret } => f
                .debug_struct("Header")
                .field("name", name)
                .field("secret", secret)
                .finish(),
        }
    }
}

/// Where a subscription's secret is kept.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum SecretLocation {
    /// In the OS keyring, under this subscription's id (the default, and what the settings
    /// window writes).
    #[default]
    Keyring,
    /// In `config.toml` itself, because the person opted in (no keyring on this machine).
    Plaintext(String),
}

impl fmt::Debug for SecretLocation {
    /// Never prints the secret: configs end up in logs and bug reports.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretLocation::Keyring => f.write_str("Keyring"),
            SecretLocation::Plaintext(_) => f.write_str("Plaintext(<redacted>)"),
        }
    }
}

/// `[subscription.auth]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawAuth {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub username: Option<String>,
    pub header: Option<String>,
    pub store: Option<String>,
    pub secret: Option<String>,
}

/// `[subscription.auth]` as saved.
#[derive(Debug, Serialize)]
pub(super) struct OutAuth<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<&'a str>,
    pub store: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<&'a str>,
}

impl<'a> OutAuth<'a> {
    /// `None` for [`Auth::None`], which is the default and not written.
    pub(super) fn from_auth(auth: &'a Auth) -> Option<Self> {
        let (username, header) = match auth {
            Auth::None => return None,
            Auth::Bearer { .. } => (None, None),
            Auth::Basic { username, .. } => (Some(username.as_str()), None),
            Auth::Header { name, .. } => (None, Some(name.as_str())),
        };
        let (store, secret) = match auth.secret() {
            Some(SecretLocation::Plaintext(s)) => ("plaintext", Some(s.as_str())),
            _ => ("keyring", None),
        };
        Some(OutAuth {
            kind: auth.kind(),
            username,
            header,
            store,
            secret,
        })
    }
}

/// Validates the table; errors are `(field, reason)` with the field inside `auth`.
pub(super) fn validate(raw: RawAuth) -> Result<Auth, (&'static str, String)> {
    let kind = raw.kind.as_deref().unwrap_or("none");
    let secret = match raw.store.as_deref().unwrap_or("keyring") {
        "keyring" => {
            if raw.secret.is_some() {
                return Err((
                    "secret",
                    "a secret in config.toml needs store = \"plaintext\" next to it (an explicit \
                     opt-in); otherwise save it in the settings window, which keeps it in the OS \
                     keyring"
                        .into(),
                ));
            }
            SecretLocation::Keyring
        }
        "plaintext" => match raw.secret {
            Some(secret) if !secret.is_empty() => {
                http::HeaderValue::from_str(&secret).map_err(|_| {
                    (
                        "secret",
                        "must not contain newlines or other control characters".to_owned(),
                    )
                })?;
                SecretLocation::Plaintext(secret)
            }
            _ => return Err(("secret", "is required with store = \"plaintext\"".into())),
        },
        other => {
            return Err((
                "store",
                format!("must be \"keyring\" or \"plaintext\" (got {other:?})"),
            ));
        }
    };
    let refuse = |field: &'static str, present: bool| {
        if present {
            Err((field, format!("does not apply to type = {kind:?}")))
        } else {
            Ok(())
        }
    };
    match kind {
        "none" => {
            refuse("username", raw.username.is_some())?;
            refuse("header", raw.header.is_some())?;
            refuse("store", raw.store.is_some())?;
            Ok(Auth::None)
        }
        "bearer" => {
            refuse("username", raw.username.is_some())?;
            refuse("header", raw.header.is_some())?;
            Ok(Auth::Bearer { secret })
        }
        "basic" => {
            refuse("header", raw.header.is_some())?;
            let username = raw
                .username
                .filter(|u| !u.is_empty())
                .ok_or(("username", "is required for type = \"basic\"".to_owned()))?;
            if username.contains(':') || username.chars().any(char::is_control) {
                return Err((
                    "username",
                    "must not contain `:` or control characters".into(),
                ));
            }
            Ok(Auth::Basic { username, secret })
        }
        "header" => {
            refuse("username", raw.username.is_some())?;
            let name = raw
                .header
                .ok_or(("header", "is required for type = \"header\"".to_owned()))?;
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                (
                    "header",
                    "is not a valid HTTP header name (letters, digits and `-`, no spaces)"
                        .to_owned(),
                )
            })?;
            Ok(Auth::Header { name, secret })
        }
        other => Err((
            "type",
            format!("must be \"none\", \"bearer\", \"basic\" or \"header\" (got {other:?})"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: &str) -> RawAuth {
        RawAuth {
            kind: Some(kind.into()),
            ..RawAuth::default()
        }
    }

    #[test]
    fn kinds_and_their_fields() {
        assert_eq!(
            validate(raw("bearer")),
            Ok(Auth::Bearer {
                secret: SecretLocation::Keyring
            })
        );
        assert_eq!(validate(RawAuth::default()), Ok(Auth::None));
        let basic = RawAuth {
            username: Some("alice".into()),
            ..raw("basic")
        };
        assert!(matches!(validate(basic), Ok(Auth::Basic { username, .. }) if username == "alice"));
        assert_eq!(validate(raw("basic")).unwrap_err().0, "username");
        assert_eq!(validate(raw("header")).unwrap_err().0, "header");
        let bad_header = RawAuth {
            header: Some("X Key".into()),
            ..raw("header")
        };
        assert_eq!(validate(bad_header).unwrap_err().0, "header");
        let stray = RawAuth {
            username: Some("a".into()),
            ..raw("bearer")
        };
        assert_eq!(validate(stray).unwrap_err().0, "username");
        assert_eq!(validate(raw("digest")).unwrap_err().0, "type");
    }

    #[test]
    fn a_secret_in_the_file_needs_the_opt_in() {
        let pasted = RawAuth {
            secret: Some("tok".into()),
            ..raw("bearer")
        };
        let (field, reason) = validate(pasted).unwrap_err();
        assert_eq!(field, "secret");
        assert!(reason.contains("plaintext"), "{reason}");
        let opted_in = RawAuth {
            secret: Some("tok".into()),
            store: Some("plaintext".into()),
            ..raw("bearer")
        };
        assert_eq!(
            validate(opted_in),
            Ok(Auth::Bearer {
                secret: SecretLocation::Plaintext("tok".into())
            })
        );
        let empty = RawAuth {
            store: Some("plaintext".into()),
            ..raw("bearer")
        };
        assert_eq!(validate(empty).unwrap_err().0, "secret");
        let injected = RawAuth {
            secret: Some("a\r\nX-Evil: 1".into()),
            store: Some("plaintext".into()),
            ..raw("bearer")
        };
        assert_eq!(validate(injected).unwrap_err().0, "secret");
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let auth = Auth::Basic {
            username: "alice".into(),
            secret: SecretLocation::Plaintext("hunter2".into()),
        };
        let printed = format!("{auth:?}");
        assert!(
            printed.contains("alice") && !printed.contains("hunter2"),
            "{printed}"
        );
    }
}
