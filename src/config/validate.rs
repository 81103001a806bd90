//! The checks that turn a [`RawSubscription`] into a [`SubscriptionConfig`] the engine can trust.
//!
//! Each check returns the reason in words a person can act on; the caller attaches the key, so
//! the same checks serve `config.toml` (`subscription[2].url`) and the CLI's `listen <URL>`
//! (`url`).

use super::raw::{RawSubscription, push_key};
use super::{IdleTimeout, ResumeMode, SubscriptionConfig};
use crate::{Error, SubscriptionId};
use std::time::Duration;

/// Longest accepted id; it keys history rows and resume state, so it is kept short.
pub(super) const MAX_ID_LEN: usize = 64;
/// Longest accepted display name, in characters.
pub(super) const MAX_NAME_LEN: usize = 200;

/// Builds an error at `prefix` + `field`.
fn invalid(prefix: &str, field: &str, reason: impl Into<String>) -> Error {
    let mut key = prefix.to_owned();
    push_key(&mut key, field);
    Error::ConfigInvalid {
        key,
        reason: reason.into(),
    }
}

/// Validates one subscription; `prefix` is e.g. `subscription[0]` (or empty for ad-hoc ones).
pub(super) fn subscription(
    raw: RawSubscription,
    prefix: &str,
) -> crate::Result<SubscriptionConfig> {
    let id = raw.id.ok_or_else(|| invalid(prefix, "id", "is required"))?;
    let id = subscription_id(&id).map_err(|r| invalid(prefix, "id", r))?;
    let name = match raw.name {
        Some(name) => display_name(&name).map_err(|r| invalid(prefix, "name", r))?,
        None => id.as_str().to_owned(),
    };
    let url = raw
        .url
        .ok_or_else(|| invalid(prefix, "url", "is required"))?;
    url_check(&url).map_err(|r| invalid(prefix, "url", r))?;
    let resume = match raw.resume {
        Some(text) => text.parse::<ResumeMode>().map_err(|e| match e {
            Error::ConfigInvalid { reason, .. } => invalid(prefix, "resume", reason),
            other => other,
        })?,
        None => ResumeMode::Header,
    };
    let idle_timeout = match raw.idle_timeout {
        Some(value) => idle_timeout(&value).map_err(|r| invalid(prefix, "idle_timeout", r))?,
        None => IdleTimeout::Auto,
    };
    let mut headers_prefix = prefix.to_owned();
    push_key(&mut headers_prefix, "headers");
    let mut headers: Vec<(String, String)> = Vec::with_capacity(raw.headers.len());
    for (name, value) in raw.headers {
        header(&name, &value).map_err(|r| invalid(&headers_prefix, &name, r))?;
        if let Some((other, _)) = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            return Err(invalid(
                &headers_prefix,
                &name,
                format!("duplicate header (header names ignore case; `{other}` is already set)"),
            ));
        }
        headers.push((name, value));
    }
    let mut auth_prefix = prefix.to_owned();
    push_key(&mut auth_prefix, "auth");
    let auth = super::auth::validate(raw.auth.unwrap_or_default())
        .map_err(|(field, reason)| invalid(&auth_prefix, field, reason))?;
    if let Some(set_by_auth) = auth.header_name()
        && let Some((name, _)) = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(set_by_auth))
    {
        return Err(invalid(
            &headers_prefix,
            name,
            format!(
                "is also set by auth (type = \"{}\"); remove one of the two",
                auth.kind()
            ),
        ));
    }
    let tls_ca_file = match raw.tls_ca_file {
        Some(path) => Some(ca_file(&path).map_err(|r| invalid(prefix, "tls_ca_file", r))?),
        None => None,
    };
    let method = match raw.method {
        Some(method) => request_method(&method).map_err(|r| invalid(prefix, "method", r))?,
        None => super::DEFAULT_METHOD.to_owned(),
    };
    let body = match (raw.body, raw.body_content_type) {
        (Some(content), content_type) => {
            if matches!(method.as_str(), "GET" | "HEAD") {
                return Err(invalid(
                    prefix,
                    "body",
                    format!("a {method} request carries no body; set `method` (e.g. \"POST\")"),
                ));
            }
            let content_type = match content_type {
                Some(kind) => {
                    media_type(&kind).map_err(|r| invalid(prefix, "body_content_type", r))?
                }
                None => super::DEFAULT_BODY_CONTENT_TYPE.to_owned(),
            };
            Some(super::RequestBody {
                content,
                content_type,
            })
        }
        (None, Some(_)) => {
            return Err(invalid(
                prefix,
                "body_content_type",
                "is set but there is no `body`",
            ));
        }
        (None, None) => None,
    };
    let max_event_bytes = match raw.max_event_bytes {
        Some(bytes) => event_cap(bytes).map_err(|r| invalid(prefix, "max_event_bytes", r))?,
        None => crate::engine::decoder::DEFAULT_MAX_EVENT_BYTES,
    };
    Ok(SubscriptionConfig {
        id,
        name,
        url,
        headers,
        resume,
        idle_timeout,
        enabled: raw.enabled.unwrap_or(true),
        // Checked by serde while parsing (templates, priorities); nothing is left to check here.
        notify: raw.notify,
        auth,
        tls_ca_file,
        method,
        body,
        max_event_bytes,
    })
}

/// An HTTP method token (`POST`, `REPORT`); upper case is what servers expect, so it is kept
/// as written but must be a valid token.
fn request_method(method: &str) -> Result<String, String> {
    let method = method.trim();
    if method.is_empty() {
        return Err("must not be empty (GET, POST, or another method name)".into());
    }
    if method.len() > 32 || http::Method::from_bytes(method.as_bytes()).is_err() {
        return Err(format!("{method:?} is not an HTTP method name"));
    }
    Ok(method.to_owned())
}

/// A `Content-Type` value: a valid header value with a `type/subtype`.
fn media_type(value: &str) -> Result<String, String> {
    let value = value.trim();
    let essence = value.split(';').next().unwrap_or_default().trim();
    let valid = http::HeaderValue::from_str(value).is_ok()
        && essence
            .split_once('/')
            .is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty());
    if valid {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a media type such as \"application/json\""
        ))
    }
}

/// The smallest and largest event caps accepted.
const EVENT_CAP_RANGE: std::ops::RangeInclusive<i64> = 1024..=(1 << 30);

fn event_cap(bytes: i64) -> Result<usize, String> {
    if EVENT_CAP_RANGE.contains(&bytes) {
        usize::try_from(bytes).map_err(|_| "is too large for this computer".to_owned())
    } else {
        Err(format!(
            "must be between {} and {} bytes (got {bytes})",
            EVENT_CAP_RANGE.start(),
            EVENT_CAP_RANGE.end()
        ))
    }
}

/// An absolute path (the app's working directory is not something a person can predict).
/// Whether it exists and holds certificates is checked when connecting, where the error can
/// be shown next to the connection it broke.
fn ca_file(path: &str) -> Result<std::path::PathBuf, String> {
    let path = std::path::PathBuf::from(path);
    if path.as_os_str().is_empty() || !path.is_absolute() {
        return Err(format!(
            "must be an absolute path to a PEM file (got {:?})",
            path.display().to_string()
        ));
    }
    Ok(path)
}

/// `[a-z0-9_-]{1,64}`.
pub(super) fn subscription_id(id: &str) -> Result<SubscriptionId, String> {
    let ok_chars = id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if id.is_empty() {
        return Err("must not be empty".into());
    }
    if !ok_chars || id.len() > MAX_ID_LEN {
        return Err(format!(
            "must be 1 to {MAX_ID_LEN} characters from a-z, 0-9, `_` and `-` (got {id:?})"
        ));
    }
    Ok(SubscriptionId::new(id))
}

/// Non-blank, no control characters (it ends up in notifications and menus), bounded length.
fn display_name(name: &str) -> Result<String, String> {
    if name.trim().is_empty() {
        return Err("must not be empty (leave it out to use the id)".into());
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain newlines or other control characters".into());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("must be at most {MAX_NAME_LEN} characters"));
    }
    Ok(name.to_owned())
}

/// An absolute http(s) URL with a host and no credentials.
pub(super) fn url_check(url: &str) -> Result<http::Uri, String> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err("must start with http:// or https://".into());
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("is not a valid URL: {e}"))?;
    let authority = uri.authority().ok_or("must name a host")?;
    if authority.as_str().contains('@') {
        return Err(
            "must not contain a user name or password (they would be stored in plain text \
                    and are not sent); use a header instead"
                .into(),
        );
    }
    if authority.host().is_empty() {
        return Err("must name a host".into());
    }
    // `http::Uri` accepts any digits after the colon; only a real port can be connected to.
    let port = authority
        .as_str()
        .strip_prefix(authority.host())
        .unwrap_or_default();
    if !port.is_empty() && !matches!(authority.port_u16(), Some(1..)) {
        return Err(format!(
            "has an invalid port {:?} (1 to 65535)",
            port.trim_start_matches(':')
        ));
    }
    Ok(uri)
}

/// A valid HTTP header name and value (a newline would let a config smuggle in a second header).
fn header(name: &str, value: &str) -> Result<(), String> {
    http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        "is not a valid HTTP header name (letters, digits and `-`, no spaces)".to_owned()
    })?;
    http::HeaderValue::from_str(value).map_err(|_| {
        "header value must not contain newlines or other control characters".to_owned()
    })?;
    Ok(())
}

/// `"auto"` or a whole number of seconds in `1..=86400`.
fn idle_timeout(value: &toml::Value) -> Result<IdleTimeout, String> {
    let expected = || {
        format!(
            "must be \"auto\" or a whole number of seconds from 1 to {}",
            IdleTimeout::MAX_SECS
        )
    };
    match value {
        toml::Value::String(s) if s == "auto" => Ok(IdleTimeout::Auto),
        toml::Value::Integer(n) => match u64::try_from(*n) {
            Ok(secs @ 1..=IdleTimeout::MAX_SECS) => {
                Ok(IdleTimeout::Fixed(Duration::from_secs(secs)))
            }
            _ => Err(format!("{} (got {n})", expected())),
        },
        other => Err(format!("{} (got {other})", expected())),
    }
}

/// A query parameter name made of URL-unreserved characters, so it needs no escaping.
pub(super) fn query_param(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("`query:` needs a parameter name, e.g. \"query:since\"".into());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    {
        return Err(format!(
            "query parameter name {name:?} may only use letters, digits, `-`, `.`, `_` and `~`"
        ));
    }
    Ok(())
}

/// A readable id from free text: lower-case ASCII letters and digits, runs of anything else
/// become one `-`, at most [`MAX_ID_LEN`] long. May be empty.
pub(super) fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(MAX_ID_LEN);
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_cases() {
        assert_eq!(slugify("Builds"), "builds");
        assert_eq!(slugify("  My CI / builds!! "), "my-ci-builds");
        assert_eq!(slugify("ci.example.com/events/"), "ci-example-com-events");
        assert_eq!(slugify("déjà_vu"), "d-j-_vu");
        assert_eq!(slugify("✓✓"), "");
        let long = slugify(&"ab-".repeat(40));
        assert!(long.len() <= MAX_ID_LEN && !long.ends_with('-'), "{long}");
        assert!(subscription_id(&long).is_ok());
    }

    #[test]
    fn ids() {
        assert!(subscription_id("builds_2-x").is_ok());
        assert!(subscription_id(&"a".repeat(64)).is_ok());
        assert!(subscription_id(&"a".repeat(65)).is_err());
        assert!(subscription_id("").unwrap_err().contains("empty"));
        assert!(subscription_id("Builds").is_err());
        assert!(subscription_id("a b").is_err());
        assert!(subscription_id("é").is_err());
    }

    #[test]
    fn urls() {
        assert!(url_check("https://ci.example.com/events?x=1").is_ok());
        assert!(url_check("HTTP://127.0.0.1:8080/").is_ok());
        assert!(url_check("ftp://x/").unwrap_err().contains("http://"));
        assert!(
            url_check("file:///etc/passwd")
                .unwrap_err()
                .contains("http://")
        );
        assert!(
            url_check("javascript:alert(1)")
                .unwrap_err()
                .contains("http://")
        );
        assert!(url_check("https://").is_err());
        assert!(
            url_check("https://user:pw@host/")
                .unwrap_err()
                .contains("password")
        );
        assert!(
            url_check("https://host/a b")
                .unwrap_err()
                .contains("not a valid URL")
        );
        assert!(url_check("").is_err());
        assert!(url_check("https://h:99999/").unwrap_err().contains("port"));
        assert!(url_check("https://h:0/").unwrap_err().contains("port"));
        assert!(url_check("https://h:/").unwrap_err().contains("port"));
        assert!(url_check("http://[::1]:8080/").is_ok());
        assert!(url_check("http://[::1]/").is_ok());
        assert!(url_check("http://h:65535").is_ok());
    }

    #[test]
    fn headers() {
        assert!(header("X-Team", "ops").is_ok());
        assert!(
            header("Bad Header", "x")
                .unwrap_err()
                .contains("header name")
        );
        assert!(header("", "x").is_err());
        assert!(header("X", "a\nb").unwrap_err().contains("newlines"));
        assert!(header("X", "a\rb").is_err());
        assert!(header("X", "tab\tis fine").is_ok());
    }

    #[test]
    fn idle_timeouts() {
        let secs = |n: i64| idle_timeout(&toml::Value::Integer(n));
        assert_eq!(secs(1), Ok(IdleTimeout::Fixed(Duration::from_secs(1))));
        assert_eq!(
            secs(86_400),
            Ok(IdleTimeout::Fixed(Duration::from_secs(86_400)))
        );
        assert!(secs(0).is_err());
        assert!(secs(-5).is_err());
        assert!(secs(86_401).is_err());
        assert_eq!(
            idle_timeout(&toml::Value::String("auto".into())),
            Ok(IdleTimeout::Auto)
        );
        assert!(idle_timeout(&toml::Value::String("30".into())).is_err());
        assert!(
            idle_timeout(&toml::Value::Float(1.5))
                .unwrap_err()
                .contains("whole number")
        );
    }
}
