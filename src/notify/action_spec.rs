//! The action buttons an event offers (ntfy's `actions`), read from its JSON. Pure: text in,
//! checked values out; nothing here opens or sends anything (that is [`super::actions`]).
//!
//! ntfy's JSON form is understood:
//!
//! ```json
//! "actions": [
//!   {"action": "view", "label": "Open portal", "url": "https://home.example/"},
//!   {"action": "http", "label": "Close door", "url": "https://api.example/door",
//!    "method": "PUT", "headers": {"X-Token": "abc"}, "body": "{\"open\":false}"},
//!   {"action": "clear", "label": "Done"}
//! ]
//! ```
//!
//! The data is untrusted, so: at most [`MAX_ACTIONS`] actions (ntfy's own limit), labels are one
//! line without hidden characters ([`crate::untrusted::one_line`]), URLs pass
//! [`crate::untrusted::web_url`] or the action is dropped, methods come from a short list, and
//! header names and values must be valid HTTP (hop-by-hop headers, `Host` and `Content-Length`
//! are dropped: the HTTP client owns them). Anything else (ntfy's `broadcast`, its short text
//! form, unknown kinds) is ignored, and an action that fails a check is dropped rather than
//! repaired; the remaining actions keep their order, and their index in the returned list is what
//! a button click names.

use serde::Serialize;
use serde_json::Value;

use crate::untrusted::{one_line, web_url};

/// ntfy allows three actions per message; so do we.
pub const MAX_ACTIONS: usize = 3;
/// Longest label, in characters (a button is small).
const LABEL_CHARS: usize = 40;
/// Most headers one `http` action may carry.
const MAX_HEADERS: usize = 16;
/// Longest `http` body, in bytes (ntfy messages are at most 4 KiB anyway).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Methods an `http` action may use.
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
/// Headers the HTTP client sets itself; an action may not.
const CLIENT_HEADERS: [&str; 9] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
];

/// One checked action of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventAction {
    /// The button's text.
    pub label: String,
    /// What it does.
    pub kind: ActionKind,
}

/// What an action does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// Open an http(s) URL in the browser (normalized by [`web_url`]).
    View {
        /// The URL.
        url: String,
    },
    /// Send one HTTP request; never without the user's confirmation for its host.
    Http {
        /// `GET`, `POST` (ntfy's default), …
        method: String,
        /// The http(s) URL (normalized).
        url: String,
        /// The action's own headers, name and value; nothing of the subscription's.
        headers: Vec<(String, String)>,
        /// The request body (may be empty).
        body: String,
    },
    /// Dismiss the notification and mark the event read.
    Clear,
}

/// An action as the history window shows it: enough to draw the button and to say what it will
/// do, without the request's headers and body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ActionSummary {
    /// Its position: what `run_action` is called with.
    pub index: usize,
    /// The button's text.
    pub label: String,
    /// `view`, `http` or `clear`.
    #[ts(type = r#""view" | "http" | "clear""#)]
    pub kind: &'static str,
    /// `view`: the URL that opens.
    pub url: Option<String>,
    /// `http`: the method.
    pub method: Option<String>,
    /// `http`: the host (with a port when it is not the default) the request goes to.
    pub host: Option<String>,
}

impl EventAction {
    /// What the window shows of the action at `index`.
    pub fn summary(&self, index: usize) -> ActionSummary {
        let (kind, url, method, host) = match &self.kind {
            ActionKind::View { url } => ("view", Some(url.clone()), None, None),
            ActionKind::Http { method, url, .. } => {
                ("http", None, Some(method.clone()), host_of(url))
            }
            ActionKind::Clear => ("clear", None, None, None),
        };
        ActionSummary {
            index,
            label: self.label.clone(),
            kind,
            url,
            method,
            host,
        }
    }
}

/// `host[:port]` of an http(s) URL; the port only when it is not the scheme's default.
pub fn host_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// The checked actions of an event's data (empty when it has none or is not JSON).
pub fn event_actions(data: &str) -> Vec<EventAction> {
    super::payload::parse_json(data)
        .as_ref()
        .and_then(Value::as_object)
        .map(actions_in)
        .unwrap_or_default()
}

/// The checked actions of a parsed payload object.
pub(crate) fn actions_in(object: &serde_json::Map<String, Value>) -> Vec<EventAction> {
    let Some(Value::Array(items)) = object.get("actions") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .filter_map(action_of)
        .take(MAX_ACTIONS)
        .collect()
}

fn action_of(item: &serde_json::Map<String, Value>) -> Option<EventAction> {
    let text = |name: &str| item.get(name).and_then(Value::as_str);
    let kind = text("action")?.trim().to_ascii_lowercase();
    let url = || web_url(text("url")?).ok().map(String::from);
    let kind = match kind.as_str() {
        "view" => ActionKind::View { url: url()? },
        "http" => {
            let method = match text("method") {
                None => "POST".to_owned(),
                Some(method) => {
                    let method = method.trim().to_ascii_uppercase();
                    METHODS.contains(&method.as_str()).then_some(method)?
                }
            };
            let body = text("body").unwrap_or_default();
            if body.len() > MAX_BODY_BYTES {
                return None;
            }
            ActionKind::Http {
                method,
                url: url()?,
                headers: headers_of(item.get("headers")),
                body: body.to_owned(),
            }
        }
        "clear" => ActionKind::Clear,
        _ => return None,
    };
    let label = one_line(text("label").unwrap_or_default(), LABEL_CHARS);
    let label = if label.is_empty() {
        match &kind {
            ActionKind::View { .. } => "Open".to_owned(),
            ActionKind::Http { .. } => "Send".to_owned(),
            ActionKind::Clear => "Clear".to_owned(),
        }
    } else {
        label
    };
    Some(EventAction { label, kind })
}

fn headers_of(value: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Object(map)) = value else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(name, value)| {
            let value = value.as_str()?;
            let name_ok = http::HeaderName::from_bytes(name.as_bytes()).ok()?;
            http::HeaderValue::from_str(value).ok()?;
            (!CLIENT_HEADERS.contains(&name_ok.as_str()))
                .then(|| (name_ok.as_str().to_owned(), value.to_owned()))
        })
        .take(MAX_HEADERS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntfy_actions_are_read_in_order_and_checked() {
        let actions = event_actions(
            r#"{"actions":[
                {"action":"view","label":"Open portal","url":"HTTPS://Home.example/x"},
                {"action":"http","label":"Close door","url":"https://api.example:8443/door",
                 "method":"put","headers":{"X-Token":"abc","Host":"evil.example"},"body":"{}"},
                {"action":"clear","label":"Done"}
            ]}"#,
        );
        assert_eq!(
            actions,
            vec![
                EventAction {
                    label: "Open portal".into(),
                    kind: ActionKind::View {
                        url: "https://home.example/x".into()
                    }
                },
                EventAction {
                    label: "Close door".into(),
                    kind: ActionKind::Http {
                        method: "PUT".into(),
                        url: "https://api.example:8443/door".into(),
                        headers: vec![("x-token".into(), "abc".into())],
                        body: "{}".into(),
                    }
                },
                EventAction {
                    label: "Done".into(),
                    kind: ActionKind::Clear
                },
            ]
        );
        assert_eq!(
            actions[1].summary(1).host.as_deref(),
            Some("api.example:8443")
        );
        assert_eq!(
            actions[1].summary(1).url,
            None,
            "the window is not given it"
        );
    }

    #[test]
    fn only_web_urls_and_known_methods_pass_and_three_at_most() {
        let actions = event_actions(
            r#"{"actions":[
                {"action":"view","label":"js","url":"javascript:alert(1)"},
                {"action":"view","label":"file","url":"file:///etc/passwd"},
                {"action":"http","label":"odd","url":"https://a.example/","method":"CONNECT"},
                {"action":"broadcast","label":"android"},
                {"action":"http","label":"a","url":"https://a.example/"},
                {"action":"view","label":"b\u202e\nc","url":"http://b.example/"},
                {"action":"clear"},
                {"action":"clear","label":"fourth"}
            ]}"#,
        );
        let labels: Vec<_> = actions.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["a", "b c", "Clear"]);
        assert!(
            matches!(&actions[0].kind, ActionKind::Http { method, .. } if method == "POST"),
            "ntfy's default method"
        );
        assert!(event_actions("plain text").is_empty());
        assert!(event_actions(r#"{"actions":"view, Open, https://x"}"#).is_empty());
    }
}
