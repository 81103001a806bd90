//! `config.toml`: which SSE endpoints to keep open and how, in a file people edit by hand.
//!
//! The file is parsed into loose serde structs (`raw`) and then validated into the typed
//! [`Config`] the engine relies on, so every mistake is reported once, at load time, with the key
//! to fix (`subscription[1].url: must start with http:// or https://`). Indexes in keys count
//! `[[subscription]]` tables from 0.
//!
//! Three outcomes of loading, on purpose different:
//! - no file: an empty config (nothing is written until the user saves);
//! - not UTF-8 or not TOML at all: the file is *corrupt* — it is renamed aside
//!   (`config.toml.corrupt-<unix seconds>`, never deleted or overwritten), loading starts from the
//!   defaults and [`LoadedConfig::set_aside`] tells the caller where it went;
//! - valid TOML that breaks a rule: [`Error::ConfigInvalid`], file untouched — a typo in a URL is
//!   the user's to fix, and the app keeps running on its last good config.
//!
//! Saving rewrites the whole file atomically (see [`crate::atomic_file`]); comments in a
//! hand-edited file are not preserved. Tables that only repeat the defaults (`[notifications]`, a
//! subscription's `notify`) are left out of the saved file to keep it short.
//!
//! The shape, every key but `id` and `url` optional:
//!
//! ```toml
//! [[subscription]]
//! id = "builds"                       # [a-z0-9_-], unique; keys history and resume state
//! name = "Builds"                     # shown to people; defaults to the id
//! url = "https://ci.example.com/events"
//! enabled = true
//! resume = "header"                   # or "none", or "query:since" (ntfy), "query:lastEventID"
//! idle_timeout = "auto"               # or whole seconds, 1 to 86400
//! [subscription.headers]
//! Authorization = "Bearer …"
//! [subscription.notify]               # this subscription's notification settings
//! min_priority = "low"
//! exclude_types = ["heartbeat"]
//! title_template = "{data.repo}: {data.status}"
//!
//! [notifications]                     # global notification settings
//! burst = 5
//! interval_secs = 10
//! [notifications.quiet_hours]
//! start = "22:00"
//! end = "07:00"
//!
//! [history]                           # how much history is kept; see `HistoryLimits`
//! max_bytes = 1073741824              # or "unlimited", like the other two
//! max_events = 250000
//! max_age_days = 180
//! ```
//!
//! The `[notifications]` table and each `notify` table are
//! [`NotificationPrefs`] and [`SubscriptionNotifyPrefs`]; [`crate::notify::prefs`] lists every key
//! and its default. Their mistakes are reported like the others
//! (`subscription[1].notify.title_template: unknown placeholder …`).

mod auth;
mod history;
mod raw;
mod validate;

pub use auth::{Auth, SecretLocation};
pub use history::{HistoryLimits, MAX_HISTORY_AGE_DAYS, MIN_HISTORY_BYTES};

use crate::atomic_file;
use crate::notify::{NotificationPrefs, SubscriptionNotifyPrefs};
use crate::paths::AppPaths;
use crate::{Error, Result, SubscriptionId};
use raw::RawError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The validated configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The subscriptions in file order; ids are unique.
    pub subscriptions: Vec<SubscriptionConfig>,
    /// The `[notifications]` table (defaults when absent).
    pub notifications: NotificationPrefs,
    /// The `[history]` table (defaults when absent).
    pub history: HistoryLimits,
}

impl Config {
    /// The subscription with this id, if any.
    pub fn subscription(&self, id: &SubscriptionId) -> Option<&SubscriptionConfig> {
        self.subscriptions.iter().find(|s| &s.id == id)
    }

    /// An id for a new subscription: the slug of its name (else of the URL's host and path),
    /// with `-2`, `-3`… appended when taken. Ids key history and resume state, so a new
    /// subscription must never inherit an old one's.
    pub fn new_subscription_id(&self, name: &str, url: &str) -> SubscriptionId {
        let from_url = || {
            url.parse::<http::Uri>()
                .map(|uri| {
                    validate::slugify(&format!("{}{}", uri.host().unwrap_or_default(), uri.path()))
                })
                .unwrap_or_default()
        };
        let mut base = Some(validate::slugify(name))
            .filter(|s| !s.is_empty())
            .or_else(|| Some(from_url()).filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "subscription".to_owned());
        base.truncate(validate::MAX_ID_LEN - 4);
        let base = base.trim_end_matches('-').to_owned();
        let taken = |id: &str| self.subscriptions.iter().any(|s| s.id.as_str() == id);
        let mut candidate = base.clone();
        let mut n = 2;
        while taken(&candidate) {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        SubscriptionId::new(candidate)
    }
}

/// One validated `[[subscription]]`. Its `Debug` output leaves header values out: they may be
/// credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct SubscriptionConfig {
    /// Stable key of history and resume state: `[a-z0-9_-]`, 1 to 64 characters, unique.
    pub id: SubscriptionId,
    /// Shown to people; defaults to the id.
    pub name: String,
    /// An absolute `http://` or `https://` URL with a host and no user name or password; kept as
    /// written (it parses as an [`http::Uri`]).
    pub url: String,
    /// Extra request headers: valid HTTP names (unique ignoring case) and values, sorted by name.
    pub headers: Vec<(String, String)>,
    /// How to tell the server where to resume.
    pub resume: ResumeMode,
    /// How long silence may last before the connection is presumed dead.
    pub idle_timeout: IdleTimeout,
    /// Whether the subscription is connected at all.
    pub enabled: bool,
    /// The subscription's `[subscription.notify]` table (defaults when absent).
    pub notify: SubscriptionNotifyPrefs,
    /// The `[subscription.auth]` table: which credential to send, and where its secret lives.
    pub auth: Auth,
    /// A PEM file of extra CA certificates trusted for this subscription only, on top of the
    /// operating system's store (a private CA, a self-signed server). An absolute path.
    pub tls_ca_file: Option<PathBuf>,
    /// The request method: `GET` (the default), `POST`, or another token such as `REPORT`, for
    /// APIs that stream the answer to a request with a body. Sent again on every reconnect.
    pub method: String,
    /// A body sent with every request (and every reconnect, with the resume point), when the
    /// method takes one.
    pub body: Option<RequestBody>,
    /// The largest event accepted, in bytes (its data, type and id together); a larger one is
    /// skipped with a marker in history, and the stream goes on.
    pub max_event_bytes: usize,
}

/// A request body and its media type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestBody {
    /// The text sent.
    pub content: String,
    /// Its `Content-Type` (`application/json` unless the file says otherwise).
    pub content_type: String,
}

/// The method of a subscription that names none.
pub const DEFAULT_METHOD: &str = "GET";
/// The media type of a body whose `body_content_type` is not given.
pub const DEFAULT_BODY_CONTENT_TYPE: &str = "application/json";

impl fmt::Debug for SubscriptionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("SubscriptionConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("headers (values redacted)", &header_names)
            .field("resume", &self.resume)
            .field("idle_timeout", &self.idle_timeout)
            .field("enabled", &self.enabled)
            .field("notify", &self.notify)
            .field("auth", &self.auth)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("method", &self.method)
            .field("body (bytes)", &self.body.as_ref().map(|b| b.content.len()))
            .field("max_event_bytes", &self.max_event_bytes)
            .finish()
    }
}

impl SubscriptionConfig {
    /// A subscription for the CLI's `listen <URL>`, validated like a config entry (errors name
    /// `url` or `name`). The id is the slug of `name` when given, else of the URL's host and
    /// path (`https://ci.example.com/events` → `ci-example-com-events`); the name defaults to
    /// the id; everything else takes its default (notify prefs included).
    pub fn adhoc(url: &str, name: Option<&str>) -> Result<Self> {
        let uri = validate::url_check(url).map_err(|reason| Error::ConfigInvalid {
            key: "url".into(),
            reason,
        })?;
        let from_url = || {
            let host = uri.host().unwrap_or_default();
            validate::slugify(&format!("{host}{}", uri.path()))
        };
        let id = name
            .map(validate::slugify)
            .filter(|s| !s.is_empty())
            .or_else(|| Some(from_url()).filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "listen".to_owned());
        let raw = raw::RawSubscription {
            id: Some(id),
            name: name.map(|n| n.trim().to_owned()),
            url: Some(url.to_owned()),
            ..raw::RawSubscription::default()
        };
        validate::subscription(raw, "")
    }
}

/// How a reconnect tells the server the last event seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum ResumeMode {
    /// The standard `Last-Event-ID` request header (`"header"`, the default).
    #[default]
    Header,
    /// A query parameter added to the URL, for servers that ignore the header
    /// (`"query:since"` on ntfy, `"query:lastEventID"` on Mercure).
    QueryParam(String),
    /// Never resume (`"none"`): every connection starts from "now".
    None,
}

impl FromStr for ResumeMode {
    type Err = Error;

    /// Parses `"header"`, `"none"` or `"query:<param>"`; errors are [`Error::ConfigInvalid`] at
    /// key `resume`.
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason: String| Error::ConfigInvalid {
            key: "resume".into(),
            reason,
        };
        match s {
            "header" => Ok(Self::Header),
            "none" => Ok(Self::None),
            _ => match s.strip_prefix("query:") {
                Some(param) => {
                    validate::query_param(param).map_err(invalid)?;
                    Ok(Self::QueryParam(param.to_owned()))
                }
                None => Err(invalid(format!(
                    "must be \"header\", \"none\" or \"query:<parameter>\" (got {s:?})"
                ))),
            },
        }
    }
}

impl fmt::Display for ResumeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header => f.write_str("header"),
            Self::None => f.write_str("none"),
            Self::QueryParam(p) => write!(f, "query:{p}"),
        }
    }
}

/// How long a connection may stay silent before it is dropped and reopened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IdleTimeout {
    /// Let the engine decide (e.g. from observed heartbeats); `"auto"`, the default.
    #[default]
    Auto,
    /// A fixed limit; from the file always whole seconds in `1..=`[`IdleTimeout::MAX_SECS`].
    Fixed(Duration),
}

impl IdleTimeout {
    /// The longest fixed timeout accepted, one day.
    pub const MAX_SECS: u64 = 86_400;
}

/// The result of [`load`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedConfig {
    /// What to run with: the file's content, or the defaults if there was no usable file.
    pub config: Config,
    /// Where a corrupt `config.toml` was moved; `Some` means the user must be told.
    pub set_aside: Option<PathBuf>,
    /// Why it was set aside (`line 3, column 7: …` or `not UTF-8 …`), when it was.
    pub set_aside_reason: Option<String>,
}

/// Parses and validates config text (tests, the settings UI). A TOML syntax error is reported as
/// [`Error::ConfigInvalid`] with key `line L, column C`.
pub fn parse_str(text: &str) -> Result<Config> {
    parse_document(text).map_err(|e| match e {
        RawError::Invalid(e) => e,
        RawError::Syntax(reason) => match reason.split_once(": ") {
            Some((at, why)) if at.starts_with("line ") => Error::ConfigInvalid {
                key: at.to_owned(),
                reason: why.to_owned(),
            },
            _ => Error::ConfigInvalid {
                key: "(document)".into(),
                reason,
            },
        },
    })
}

fn parse_document(text: &str) -> std::result::Result<Config, RawError> {
    // Editors on Windows may start the file with a byte-order mark; it is not part of the TOML.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw = raw::from_str(text)?;
    let mut subscriptions: Vec<SubscriptionConfig> = Vec::with_capacity(raw.subscription.len());
    for (i, sub) in raw.subscription.into_iter().enumerate() {
        let prefix = format!("subscription[{i}]");
        let sub = validate::subscription(sub, &prefix).map_err(RawError::Invalid)?;
        if let Some(first) = subscriptions.iter().position(|s| s.id == sub.id) {
            return Err(RawError::Invalid(Error::ConfigInvalid {
                key: format!("{prefix}.id"),
                reason: format!(
                    "duplicate id {:?} (already used by subscription[{first}])",
                    sub.id.as_str()
                ),
            }));
        }
        subscriptions.push(sub);
    }
    let history = history::validate(raw.history).map_err(RawError::Invalid)?;
    Ok(Config {
        subscriptions,
        notifications: raw.notifications,
        history,
    })
}

/// Validates one subscription given as a TOML table (what the settings window's form becomes);
/// errors name keys relative to the table (`url`, `auth.username`, `notify.title_template`).
pub fn parse_subscription(table: toml::Table) -> Result<SubscriptionConfig> {
    let raw = raw::subscription_from_value(toml::Value::Table(table))?;
    validate::subscription(raw, "")
}

/// The TOML [`save`] would write. Fails with [`Error::ConfigInvalid`] (naming the key) if the
/// config breaks a rule [`parse_str`] enforces — e.g. a settings form produced a duplicate id —
/// so a saved file always loads back to the same config (headers sorted by name).
pub fn to_toml_string(config: &Config) -> Result<String> {
    let out = raw::OutConfig {
        subscription: config
            .subscriptions
            .iter()
            .map(|s| raw::OutSubscription {
                id: s.id.as_str(),
                name: &s.name,
                url: &s.url,
                enabled: s.enabled,
                resume: s.resume.to_string(),
                idle_timeout: match s.idle_timeout {
                    IdleTimeout::Auto => toml::Value::String("auto".into()),
                    IdleTimeout::Fixed(d) => match i64::try_from(d.as_secs()) {
                        Ok(secs) if d.subsec_nanos() == 0 => toml::Value::Integer(secs),
                        // Not representable: written as a float so loading names the key.
                        _ => toml::Value::Float(d.as_secs_f64()),
                    },
                },
                // A map, so duplicate names collapse here and are caught by the check below.
                headers: s
                    .headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect(),
                notify: Some(&s.notify).filter(|n| **n != SubscriptionNotifyPrefs::default()),
                auth: auth::OutAuth::from_auth(&s.auth),
                tls_ca_file: s.tls_ca_file.as_deref().map(Path::to_string_lossy),
                method: Some(s.method.as_str()).filter(|m| *m != DEFAULT_METHOD),
                body: s.body.as_ref().map(|b| b.content.as_str()),
                body_content_type: s
                    .body
                    .as_ref()
                    .map(|b| b.content_type.as_str())
                    .filter(|t| *t != DEFAULT_BODY_CONTENT_TYPE),
                max_event_bytes: Some(s.max_event_bytes)
                    .filter(|n| *n != crate::engine::decoder::DEFAULT_MAX_EVENT_BYTES),
            })
            .collect(),
        notifications: Some(&config.notifications).filter(|n| **n != NotificationPrefs::default()),
        history: history::OutHistory::from_limits(&config.history),
    };
    let text = raw::to_string(&out)?;
    let reloaded = parse_str(&text)?;
    let mut expected = config.clone();
    for s in &mut expected.subscriptions {
        s.headers.sort();
    }
    if reloaded != expected {
        let key = expected
            .subscriptions
            .iter()
            .zip(&reloaded.subscriptions)
            .position(|(a, b)| a != b)
            .map(|i| format!("subscription[{i}]"))
            .or_else(|| {
                (reloaded.notifications != expected.notifications)
                    .then(|| "notifications".to_owned())
            })
            .or_else(|| (reloaded.history != expected.history).then(|| "history".to_owned()))
            .unwrap_or_else(|| "(document)".to_owned());
        return Err(Error::ConfigInvalid {
            key,
            reason: "would not load back the same (duplicate header names?)".into(),
        });
    }
    Ok(text)
}

/// Loads `config.toml` from `paths.config_dir`; see the module docs for the three outcomes.
/// Other read failures (permissions, a directory in its place) are [`Error::Io`].
pub fn load(paths: &AppPaths) -> Result<LoadedConfig> {
    load_file(&paths.config_file())
}

/// [`load`] for an explicit file (the CLI's `--config`).
pub fn load_file(path: &Path) -> Result<LoadedConfig> {
    load_read(path, std::fs::read(path))
}

/// [`load_file`] given the outcome of reading `path`, so a caller that must know exactly which
/// bytes were loaded (the config service fingerprints them) reads the file only once.
pub(crate) fn load_read(path: &Path, read: std::io::Result<Vec<u8>>) -> Result<LoadedConfig> {
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(LoadedConfig {
                config: Config::default(),
                set_aside: None,
                set_aside_reason: None,
            });
        }
        Err(source) => {
            return Err(Error::Io {
                action: "reading",
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let reason = match String::from_utf8(bytes) {
        Err(e) => format!(
            "not UTF-8 text (bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
        Ok(text) => match parse_document(&text) {
            Ok(config) => {
                return Ok(LoadedConfig {
                    config,
                    set_aside: None,
                    set_aside_reason: None,
                });
            }
            Err(RawError::Invalid(e)) => return Err(e),
            Err(RawError::Syntax(reason)) => reason,
        },
    };
    let aside = atomic_file::set_aside(path, atomic_file::now_unix_secs())?;
    tracing::warn!(file = %path.display(), set_aside = %aside.display(), %reason,
        "config is not readable TOML; moved aside, starting from defaults");
    Ok(LoadedConfig {
        config: Config::default(),
        set_aside: Some(aside),
        set_aside_reason: Some(reason),
    })
}

/// Writes `config.toml` atomically after checking it with [`to_toml_string`]; on any error the
/// old file is intact.
pub fn save(paths: &AppPaths, config: &Config) -> Result<()> {
    save_file(&paths.config_file(), config)
}

/// [`save`] to an explicit file.
pub fn save_file(path: &Path, config: &Config) -> Result<()> {
    let text = to_toml_string(config)?;
    atomic_file::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(text: &str) -> (String, String) {
        match parse_str(text) {
            Err(Error::ConfigInvalid { key, reason }) => (key, reason),
            other => panic!("expected ConfigInvalid for {text:?}, got {other:?}"),
        }
    }

    const FULL: &str = r#"
[[subscription]]
id = "builds"
name = "Builds"
url = "https://ci.example.com/events"
enabled = false
resume = "query:since"
idle_timeout = 45
[subscription.headers]
X-Team = "ops"
Accept-Language = "en"

[subscription.notify]
min_priority = "low"
exclude_types = ["heartbeat"]
title_template = "{data.repo}: {data.status}"
body_template = "{{ {data.message} }} from {subscription}"
interval_secs = 60
markdown = true

[[subscription]]
id = "alerts"
url = "http://127.0.0.1:8080/sse"
tls_ca_file = "/etc/ssl/private-ca.pem"
[subscription.auth]
type = "basic"
username = "alice"

[[subscription]]
id = "no-keyring"
url = "https://h/"
auth = { type = "header", header = "X-Api-Key", store = "plaintext", secret = "opted-in" }

[notifications]
burst = 3
interval_secs = 30
quiet_hours = { start = "22:00", end = "07:00", days = ["fri", "saturday"] }
"#;

    #[test]
    fn parses_full_example_with_defaults() {
        let config = parse_str(FULL).unwrap();
        assert_eq!(config.subscriptions.len(), 3);
        let b = &config.subscriptions[0];
        assert_eq!(b.id, SubscriptionId::new("builds"));
        assert_eq!(b.name, "Builds");
        assert!(!b.enabled);
        assert_eq!(b.resume, ResumeMode::QueryParam("since".into()));
        assert_eq!(b.idle_timeout, IdleTimeout::Fixed(Duration::from_secs(45)));
        assert_eq!(
            b.headers,
            [
                ("Accept-Language".to_owned(), "en".to_owned()),
                ("X-Team".to_owned(), "ops".to_owned())
            ]
        );
        let a = config.subscription(&SubscriptionId::new("alerts")).unwrap();
        assert_eq!(a.name, "alerts");
        assert!(a.enabled);
        assert_eq!(a.resume, ResumeMode::Header);
        assert_eq!(a.idle_timeout, IdleTimeout::Auto);
        assert!(a.headers.is_empty());
        assert_eq!(a.notify, SubscriptionNotifyPrefs::default());

        let n = &b.notify;
        assert_eq!(n.min_priority, Some(crate::notify::Priority::Low));
        assert_eq!(n.exclude_types, ["heartbeat"]);
        assert!(n.include_types.is_empty() && !n.mute);
        assert_eq!(
            n.title_template.as_ref().map(|t| t.as_str()),
            Some("{data.repo}: {data.status}")
        );
        assert_eq!(
            n.body_template.as_ref().map(|t| t.as_str()),
            Some("{{ {data.message} }} from {subscription}")
        );
        assert_eq!((n.burst, n.interval_secs), (None, Some(60)));
        assert!(
            n.markdown && !a.notify.markdown,
            "off unless the table says so"
        );

        let g = &config.notifications;
        assert_eq!((g.burst, g.interval_secs), (3, 30));
        assert!(g.enabled);
        assert_eq!(
            g.title_max_chars,
            NotificationPrefs::default().title_max_chars
        );
        let quiet = g.quiet_hours.as_ref().unwrap();
        assert_eq!(
            (quiet.start.to_string(), quiet.end.to_string()),
            ("22:00".to_owned(), "07:00".to_owned())
        );
        use crate::notify::Weekday;
        assert_eq!(quiet.days, [Weekday::Fri, Weekday::Sat]);
        // The per-subscription table overrides the global throttle where it says so.
        assert_eq!(n.throttle(g).burst, 3);
        assert_eq!(n.throttle(g).interval, Duration::from_secs(60));
    }

    #[test]
    fn empty_document_is_empty_config() {
        assert_eq!(parse_str("").unwrap(), Config::default());
        assert_eq!(
            parse_str("\u{feff}# only a comment\n").unwrap(),
            Config::default()
        );
    }

    #[test]
    fn resume_mode_text_round_trips() {
        for text in ["header", "none", "query:since", "query:lastEventID"] {
            assert_eq!(text.parse::<ResumeMode>().unwrap().to_string(), text);
        }
        for bad in ["", "Header", "query:", "query:a b", "query:a&b", "cookie"] {
            assert!(bad.parse::<ResumeMode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_rule_names_its_key() {
        let sub = |body: &str| format!("[[subscription]]\n{body}\n");
        let ok = "id = \"a\"\nurl = \"https://h/\"\n";
        let cases: Vec<(String, &str, &str)> = vec![
            (
                sub("url = \"https://h/\""),
                "subscription[0].id",
                "required",
            ),
            (
                sub("id = \"\"\nurl = \"https://h/\""),
                "subscription[0].id",
                "empty",
            ),
            (
                sub("id = \"Builds\"\nurl = \"https://h/\""),
                "subscription[0].id",
                "a-z",
            ),
            (sub("id = \"a\""), "subscription[0].url", "required"),
            (
                sub("id = \"a\"\nurl = \"ftp://h/\""),
                "subscription[0].url",
                "must start with http:// or https://",
            ),
            (
                sub(&format!("{ok}name = \" \"")),
                "subscription[0].name",
                "empty",
            ),
            (
                sub(&format!("{ok}name = \"a\\nb\"")),
                "subscription[0].name",
                "control",
            ),
            (
                sub(&format!("{ok}resume = \"query:\"")),
                "subscription[0].resume",
                "parameter name",
            ),
            (
                sub(&format!("{ok}resume = \"sometimes\"")),
                "subscription[0].resume",
                "\"header\"",
            ),
            (
                sub(&format!("{ok}idle_timeout = 0")),
                "subscription[0].idle_timeout",
                "1 to 86400",
            ),
            (
                sub(&format!("{ok}idle_timeout = \"soon\"")),
                "subscription[0].idle_timeout",
                "auto",
            ),
            (
                sub(&format!(
                    "{ok}[subscription.headers]\n\"Bad Header\" = \"x\""
                )),
                "subscription[0].headers.\"Bad Header\"",
                "header name",
            ),
            (
                sub(&format!("{ok}[subscription.headers]\nX-A = \"a\\nb\"")),
                "subscription[0].headers.X-A",
                "newlines",
            ),
            (
                sub(&format!(
                    "{ok}[subscription.headers]\nX-A = \"1\"\nx-a = \"2\""
                )),
                "subscription[0].headers.x-a",
                "duplicate header",
            ),
            (
                sub(&format!("{ok}[subscription.headers]\nX-A = 5")),
                "subscription[0].headers.X-A",
                "string",
            ),
            (
                sub(&format!("{ok}urll = \"x\"")),
                "subscription[0].urll",
                "unknown field",
            ),
            (
                sub(&format!("{ok}enabled = \"yes\"")),
                "subscription[0].enabled",
                "bool",
            ),
            (
                format!("{}{}", sub(ok), sub(ok)),
                "subscription[1].id",
                "duplicate id",
            ),
            (
                "[notification]\nx = 1\n".into(),
                "notification",
                "unknown field",
            ),
            (
                "[notifications]\nburst = -1\n".into(),
                "notifications.burst",
                "u32",
            ),
            (
                "[notifications]\nbrust = 3\n".into(),
                "notifications.brust",
                "unknown field",
            ),
            (
                "[notifications]\nmin_priority = \"loud\"\n".into(),
                "notifications.min_priority",
                "expected a priority",
            ),
            (
                "[notifications.quiet_hours]\nstart = \"25:00\"\nend = \"07:00\"\n".into(),
                "notifications.quiet_hours.start",
                "25:00",
            ),
            (
                "[notifications.quiet_hours]\nstart = \"22:00\"\n".into(),
                "notifications.quiet_hours.end",
                "missing field",
            ),
            (
                sub(&format!(
                    "{ok}[subscription.notify]\ntitle_template = \"{{dta.repo}}\""
                )),
                "subscription[0].notify.title_template",
                "unknown placeholder",
            ),
            (
                sub(&format!(
                    "{ok}[subscription.notify]\nbody_template = \"{{data\""
                )),
                "subscription[0].notify.body_template",
                "unclosed",
            ),
            (
                sub(&format!("{ok}[subscription.notify]\nmuted = true")),
                "subscription[0].notify.muted",
                "unknown field",
            ),
            (
                sub(&format!(
                    "{ok}[subscription.notify]\ninclude_types = \"build\""
                )),
                "subscription[0].notify.include_types",
                "sequence",
            ),
            (
                format!(
                    "{}{}",
                    sub(ok),
                    sub("id = \"b\"\nurl = \"https://h/\"\nnotify = { interval_secs = \"1m\" }")
                ),
                "subscription[1].notify.interval_secs",
                "u64",
            ),
            (
                sub(&format!(
                    "{ok}[[subscription.notify.rule]]\nevent_type = \"a\"\nmute = true\n\
                     [[subscription.notify.rule]]\nregex = \"b\"\nskip = true\n\
                     [[subscription.notify.rule]]\nregex = \"(unclosed\"\nmute = true\n"
                )),
                "subscription[0].notify.rule[2].regex",
                "invalid regex",
            ),
            (
                sub(&format!(
                    "{ok}[[subscription.notify.rule]]\nevent_type = \"a\"\n"
                )),
                "subscription[0].notify.rule[0]",
                "needs an action",
            ),
            (
                sub(&format!(
                    "{ok}[subscription.notify.watchdog]\nevery = \"26 weeks\"\n"
                )),
                "subscription[0].notify.watchdog.every",
                "unknown unit",
            ),
            (
                sub(&format!(
                    "{ok}[subscription.notify]\nsound = \"/home/me/x.wav\"\n"
                )),
                "subscription[0].notify.sound",
                "not a sound name",
            ),
            (
                sub(&format!(
                    "{ok}[subscription.notify]\nreplace_key = \"job..id\"\n"
                )),
                "subscription[0].notify.replace_key",
                "dotted path",
            ),
            (
                sub(&format!(
                    "{ok}[subscription.notify]\nallow_http_images = \"yes\"\n"
                )),
                "subscription[0].notify.allow_http_images",
                "boolean",
            ),
            (
                sub(&format!("{ok}[subscription.notify]\nmarkdown = \"yes\"\n")),
                "subscription[0].notify.markdown",
                "boolean",
            ),
            ("subscription = 3\n".into(), "subscription", "sequence"),
        ];
        for (text, key, reason) in cases {
            let (k, r) = invalid(&text);
            assert_eq!(k, key, "for {text:?}: {r}");
            assert!(
                r.contains(reason),
                "for {text:?}: reason {r:?} lacks {reason:?}"
            );
        }
    }

    #[test]
    fn serde_errors_carry_line_numbers_and_syntax_errors_name_the_line() {
        let (_, reason) =
            invalid("\n\n[[subscription]]\nid = \"a\"\nurl = \"https://h/\"\nbogus = 1\n");
        assert!(reason.contains("line 6"), "{reason}");
        let (key, reason) = invalid("[[subscription]]\nid = \"a\nurl = 1\n");
        assert!(key.starts_with("line 2"), "{key}: {reason}");
    }

    #[test]
    fn auth_and_ca_file_keys() {
        let config = parse_str(FULL).unwrap();
        assert_eq!(
            config.subscriptions[1].auth,
            Auth::Basic {
                username: "alice".into(),
                secret: SecretLocation::Keyring
            }
        );
        assert_eq!(
            config.subscriptions[1].tls_ca_file.as_deref(),
            Some(Path::new("/etc/ssl/private-ca.pem"))
        );
        let text = to_toml_string(&config).unwrap();
        assert!(!text.contains("store = \"keyring\"\nsecret"), "{text}");
        assert!(
            text.contains("opted-in"),
            "an opted-in secret is kept: {text}"
        );
        let (key, _) = invalid(
            "[[subscription]]\nid = \"a\"\nurl = \"https://h/\"\ntls_ca_file = \"ca.pem\"\n",
        );
        assert_eq!(key, "subscription[0].tls_ca_file");
        let (key, reason) = invalid(
            "[[subscription]]\nid = \"a\"\nurl = \"https://h/\"\n[subscription.headers]\n\
             authorization = \"x\"\n[subscription.auth]\ntype = \"bearer\"\n",
        );
        assert_eq!(key, "subscription[0].headers.authorization", "{reason}");
        let (key, _) = invalid(
            "[[subscription]]\nid = \"a\"\nurl = \"https://h/\"\n[subscription.auth]\n\
             type = \"bearer\"\nsecret = \"pasted\"\n",
        );
        assert_eq!(key, "subscription[0].auth.secret");
        let printed = format!("{:?}", config.subscriptions[2]);
        assert!(!printed.contains("opted-in"), "{printed}");
    }

    #[test]
    fn round_trips_through_toml() {
        let config = parse_str(FULL).unwrap();
        let text = to_toml_string(&config).unwrap();
        assert_eq!(parse_str(&text).unwrap(), config);
    }

    #[test]
    fn default_notification_tables_are_not_written() {
        let plain = "[[subscription]]\nid = \"a\"\nurl = \"https://h/\"\n";
        let config = parse_str(plain).unwrap();
        let text = to_toml_string(&config).unwrap();
        assert!(
            !text.contains("notify") && !text.contains("notifications"),
            "{text}"
        );

        // Written out in full as soon as one value differs, and read back the same.
        let mut config = parse_str(plain).unwrap();
        config.subscriptions[0].notify.mute = true;
        config.notifications.quiet_hours = Some(crate::notify::QuietHours {
            start: "23:30".parse().unwrap(),
            end: "06:00".parse().unwrap(),
            days: vec![crate::notify::Weekday::Sun],
        });
        let text = to_toml_string(&config).unwrap();
        assert!(text.contains("[subscription.notify]"), "{text}");
        assert!(text.contains("[notifications.quiet_hours]"), "{text}");
        assert_eq!(parse_str(&text).unwrap(), config);
    }

    #[test]
    fn refuses_to_write_what_would_not_load() {
        let mut config = parse_str(FULL).unwrap();
        config.subscriptions[1].id = SubscriptionId::new("builds");
        assert!(
            matches!(to_toml_string(&config), Err(Error::ConfigInvalid { key, .. }) if key == "subscription[1].id")
        );

        let mut config = parse_str(FULL).unwrap();
        config.subscriptions[0].idle_timeout = IdleTimeout::Fixed(Duration::from_millis(1500));
        assert!(
            matches!(to_toml_string(&config), Err(Error::ConfigInvalid { key, .. }) if key == "subscription[0].idle_timeout")
        );

        let mut config = parse_str(FULL).unwrap();
        config.subscriptions[0]
            .headers
            .push(("x-team".into(), "dev".into()));
        assert!(to_toml_string(&config).is_err());

        // Above i64::MAX is still written and read back (toml 0.9 reads it into a u64).
        let mut config = parse_str(FULL).unwrap();
        config.subscriptions[1].notify.interval_secs = Some(u64::MAX);
        config.notifications.summary_refresh_secs = u64::MAX;
        assert_eq!(
            parse_str(&to_toml_string(&config).unwrap()).unwrap(),
            config
        );

        let mut config = parse_str(FULL).unwrap();
        config.subscriptions[0].headers.reverse();
        let reloaded = parse_str(&to_toml_string(&config).unwrap()).unwrap();
        assert_eq!(reloaded.subscriptions[0].headers[0].0, "Accept-Language");
    }

    #[test]
    fn adhoc_ids() {
        let s = SubscriptionConfig::adhoc("https://ci.example.com/events", None).unwrap();
        assert_eq!(s.id.as_str(), "ci-example-com-events");
        assert_eq!(s.name, "ci-example-com-events");
        assert!(s.enabled);
        assert_eq!(s.resume, ResumeMode::Header);
        assert_eq!(s.idle_timeout, IdleTimeout::Auto);
        assert_eq!(s.notify, SubscriptionNotifyPrefs::default());

        let s = SubscriptionConfig::adhoc("http://127.0.0.1:9/x", Some(" My Builds ")).unwrap();
        assert_eq!(s.id.as_str(), "my-builds");
        assert_eq!(s.name, "My Builds");

        let s = SubscriptionConfig::adhoc("http://127.0.0.1:9/", Some("✓")).unwrap();
        assert_eq!(s.id.as_str(), "127-0-0-1");

        let err = SubscriptionConfig::adhoc("ws://h/", None).unwrap_err();
        assert!(
            matches!(&err, Error::ConfigInvalid { key, .. } if key == "url"),
            "{err}"
        );
        let err = SubscriptionConfig::adhoc("https://h/", Some("a\u{7}")).unwrap_err();
        assert!(
            matches!(&err, Error::ConfigInvalid { key, .. } if key == "name"),
            "{err}"
        );
    }
}
