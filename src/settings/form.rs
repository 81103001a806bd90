//! The settings window's forms as plain data, and their two mappings: a saved subscription
//! becomes a form (the secret reduced to "saved: yes/no"), and a submitted form becomes a TOML
//! table that goes through the very validation `config.toml` goes through — so the window and a
//! hand edit can never disagree about what is valid, and every error names a key that
//! [`field_of_key`] turns into the form field to show it next to.

use crate::config::{Auth, IdleTimeout, ResumeMode, SecretLocation, SubscriptionConfig};
use crate::notify::{NotificationPrefs, Priority};
use serde::{Deserialize, Serialize};

/// One subscription as the form shows and submits it. Missing fields take the defaults of a
/// new subscription (enabled, automatic idle timeout, `Last-Event-ID`, no credential).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, rename_all = "camelCase")]
pub struct SubscriptionForm {
    /// `None` for a new subscription; fixed once saved (it keys history and resume state).
    pub id: Option<String>,
    /// Display name.
    pub name: String,
    /// Stream URL.
    pub url: String,
    /// Whether it connects.
    pub enabled: bool,
    /// The credential.
    pub auth: AuthForm,
    /// How reconnects resume.
    pub resume: ResumeForm,
    /// Dead-link detection.
    pub idle_timeout: IdleTimeoutForm,
    /// Extra request headers (not secrets: those belong in `auth`).
    pub headers: Vec<HeaderForm>,
    /// Only these event types notify (empty: all).
    pub include_types: Vec<String>,
    /// These event types never notify.
    pub exclude_types: Vec<String>,
    /// `None` uses the global minimum.
    pub min_priority: Option<Priority>,
    /// Store events without notifying.
    pub mute: bool,
    /// Notification title template; empty for the default.
    pub title_template: String,
    /// Notification body template; empty for the default.
    pub body_template: String,
    /// Extra CA file; empty for none.
    pub tls_ca_file: String,
    /// The request method; empty for `GET`.
    pub method: String,
    /// A request body sent with every (re)connect; empty for none.
    pub body: String,
    /// The body's media type; empty for `application/json`.
    pub body_content_type: String,
    /// The event size cap in MiB; `None` for the default (16 MiB).
    pub max_event_mib: Option<u32>,
    /// The notification sound (a sound theme name); empty for none.
    pub sound: String,
    /// The watchdog's period (`26h`, `45m`, seconds); empty for no watchdog.
    pub watchdog_every: String,
    /// The event type the watchdog waits for; empty for any event.
    pub watchdog_event_type: String,
    /// The notification rules as TOML `[[rule]]` tables (what `config.toml` holds under
    /// `[[subscription.notify.rule]]`); empty for none.
    pub rules: String,
    /// Treat every message as Markdown (`notify.markdown`). `None` (a page that does not send
    /// it) keeps the saved value, so a save from such a page does not turn it off.
    pub markdown: Option<bool>,
}

/// The credential part of [`SubscriptionForm`].
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthForm {
    /// `"none"`, `"bearer"`, `"basic"` or `"header"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Basic only.
    pub username: String,
    /// Header only: the header's name.
    pub header: String,
    /// Out only: a secret is stored for this subscription.
    pub secret_saved: bool,
    /// In only: a new secret; `None` keeps the saved one. Never sent back out.
    pub secret: Option<String>,
    /// The person opted in to keeping the secret in `config.toml`.
    pub plaintext: bool,
}

impl std::fmt::Debug for AuthForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthForm")
            .field("kind", &self.kind)
            .field("username", &self.username)
            .field("header", &self.header)
            .field("secret_saved", &self.secret_saved)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("plaintext", &self.plaintext)
            .finish()
    }
}

/// The resume part of [`SubscriptionForm`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, rename_all = "camelCase")]
pub struct ResumeForm {
    /// `"header"`, `"query"` or `"none"`.
    pub mode: String,
    /// The query parameter, for `"query"`.
    pub param: String,
}

/// The idle-timeout part of [`SubscriptionForm`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, rename_all = "camelCase")]
pub struct IdleTimeoutForm {
    /// Let the engine decide.
    pub auto: bool,
    /// Fixed seconds when not automatic.
    pub seconds: Option<i64>,
}

impl Default for IdleTimeoutForm {
    fn default() -> Self {
        IdleTimeoutForm {
            auto: true,
            seconds: None,
        }
    }
}

impl Default for SubscriptionForm {
    fn default() -> Self {
        SubscriptionForm {
            id: None,
            name: String::new(),
            url: String::new(),
            enabled: true,
            auth: AuthForm::default(),
            resume: ResumeForm::default(),
            idle_timeout: IdleTimeoutForm::default(),
            headers: Vec::new(),
            include_types: Vec::new(),
            exclude_types: Vec::new(),
            min_priority: None,
            mute: false,
            title_template: String::new(),
            body_template: String::new(),
            tls_ca_file: String::new(),
            method: String::new(),
            body: String::new(),
            body_content_type: String::new(),
            max_event_mib: None,
            sound: String::new(),
            watchdog_every: String::new(),
            watchdog_event_type: String::new(),
            rules: String::new(),
            markdown: None,
        }
    }
}

/// One extra header row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct HeaderForm {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// The `[subscription.notify]` keys the form does not show, carried over from the saved
/// subscription on every save.
const NOTIFY_KEYS_NOT_IN_FORM: &[&str] = &[
    "burst",
    "interval_secs",
    "sounds",
    "replace_key",
    "images",
    "allow_http_images",
];

/// Rules as the form's text: `[[rule]]` tables, as a person would write them.
fn rules_as_toml(rules: &[crate::notify::rules::Rule]) -> String {
    #[derive(Serialize)]
    struct Rules<'a> {
        rule: &'a [crate::notify::rules::Rule],
    }
    if rules.is_empty() {
        return String::new();
    }
    toml::to_string(&Rules { rule: rules }).unwrap_or_default()
}

/// The global notification settings as the form shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, rename_all = "camelCase")]
pub struct NotificationsForm {
    /// Master switch.
    pub enabled: bool,
    /// Events below it are stored silently.
    pub min_priority: Priority,
    /// Notifications allowed per interval before a summary.
    pub burst: u32,
    /// The throttle's interval in seconds.
    pub interval_secs: u64,
    /// Quiet hours, if any.
    pub quiet_hours: Option<QuietHoursForm>,
}

/// Quiet hours as two `HH:MM` times.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct QuietHoursForm {
    /// When they start.
    pub start: String,
    /// When they end.
    pub end: String,
}

impl SubscriptionForm {
    /// The form for a saved subscription; `secret_saved` says whether its secret exists.
    pub fn from_config(spec: &SubscriptionConfig, secret_saved: bool) -> Self {
        let (username, header) = match &spec.auth {
            Auth::Basic { username, .. } => (username.clone(), String::new()),
            Auth::Header { name, .. } => (String::new(), name.clone()),
            _ => (String::new(), String::new()),
        };
        let (mode, param) = match &spec.resume {
            ResumeMode::Header => ("header", String::new()),
            ResumeMode::QueryParam(p) => ("query", p.clone()),
            ResumeMode::None => ("none", String::new()),
        };
        SubscriptionForm {
            id: Some(spec.id.as_str().to_owned()),
            name: spec.name.clone(),
            url: spec.url.clone(),
            enabled: spec.enabled,
            auth: AuthForm {
                kind: spec.auth.kind().to_owned(),
                username,
                header,
                secret_saved,
                secret: None,
                plaintext: matches!(spec.auth.secret(), Some(SecretLocation::Plaintext(_))),
            },
            resume: ResumeForm {
                mode: mode.to_owned(),
                param,
            },
            idle_timeout: match spec.idle_timeout {
                IdleTimeout::Auto => IdleTimeoutForm {
                    auto: true,
                    seconds: None,
                },
                IdleTimeout::Fixed(d) => IdleTimeoutForm {
                    auto: false,
                    seconds: i64::try_from(d.as_secs()).ok(),
                },
            },
            headers: spec
                .headers
                .iter()
                .map(|(name, value)| HeaderForm {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            include_types: spec.notify.include_types.clone(),
            exclude_types: spec.notify.exclude_types.clone(),
            min_priority: spec.notify.min_priority,
            mute: spec.notify.mute,
            title_template: spec
                .notify
                .title_template
                .as_ref()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            body_template: spec
                .notify
                .body_template
                .as_ref()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            tls_ca_file: spec
                .tls_ca_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            method: Some(spec.method.as_str())
                .filter(|m| *m != crate::config::DEFAULT_METHOD)
                .unwrap_or_default()
                .to_owned(),
            body: spec
                .body
                .as_ref()
                .map(|b| b.content.clone())
                .unwrap_or_default(),
            body_content_type: spec
                .body
                .as_ref()
                .map(|b| b.content_type.as_str())
                .filter(|t| *t != crate::config::DEFAULT_BODY_CONTENT_TYPE)
                .unwrap_or_default()
                .to_owned(),
            max_event_mib: Some(spec.max_event_bytes)
                .filter(|n| *n != crate::engine::decoder::DEFAULT_MAX_EVENT_BYTES)
                .map(|n| u32::try_from(n.div_ceil(1 << 20)).unwrap_or(u32::MAX)),
            sound: spec
                .notify
                .sound
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            watchdog_every: spec
                .notify
                .watchdog
                .as_ref()
                .map(|w| w.every.to_string())
                .unwrap_or_default(),
            watchdog_event_type: spec
                .notify
                .watchdog
                .as_ref()
                .and_then(|w| w.event_type.clone())
                .unwrap_or_default(),
            rules: rules_as_toml(&spec.notify.rule),
            markdown: Some(spec.notify.markdown),
        }
    }

    /// The `[[subscription]]` table this form stands for, under `id`, with the secret stored
    /// as `store`/`secret` say (`secret` only for plain text). Fields the form does not show
    /// (`notify.burst`, `notify.interval_secs`) are carried over from `previous`.
    pub(super) fn to_table(
        &self,
        id: &str,
        plaintext_secret: Option<&str>,
        previous: Option<&SubscriptionConfig>,
    ) -> toml::Table {
        use toml::Value;
        let strings = |list: &[String]| {
            Value::Array(
                list.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            )
        };
        let mut table = toml::Table::new();
        table.insert("id".into(), Value::String(id.to_owned()));
        // A blank name falls back to the id, as in the file.
        if !self.name.trim().is_empty() {
            table.insert("name".into(), Value::String(self.name.trim().to_owned()));
        }
        table.insert("url".into(), Value::String(self.url.trim().to_owned()));
        table.insert("enabled".into(), Value::Boolean(self.enabled));
        let resume = match self.resume.mode.as_str() {
            "query" => format!("query:{}", self.resume.param.trim()),
            "none" => "none".to_owned(),
            _ => "header".to_owned(),
        };
        table.insert("resume".into(), Value::String(resume));
        let idle = match (self.idle_timeout.auto, self.idle_timeout.seconds) {
            (false, Some(secs)) => Value::Integer(secs),
            (false, None) => Value::String(String::new()),
            (true, _) => Value::String("auto".into()),
        };
        table.insert("idle_timeout".into(), idle);
        let mut headers = toml::Table::new();
        for row in &self.headers {
            if row.name.trim().is_empty() && row.value.trim().is_empty() {
                continue;
            }
            headers.insert(row.name.trim().to_owned(), Value::String(row.value.clone()));
        }
        if !headers.is_empty() {
            table.insert("headers".into(), Value::Table(headers));
        }
        let mut notify = toml::Table::new();
        notify.insert("mute".into(), Value::Boolean(self.mute));
        if let Some(priority) = self.min_priority
            && let Ok(value) = Value::try_from(priority)
        {
            notify.insert("min_priority".into(), value);
        }
        notify.insert("include_types".into(), strings(&self.include_types));
        notify.insert("exclude_types".into(), strings(&self.exclude_types));
        for (key, text) in [
            ("title_template", &self.title_template),
            ("body_template", &self.body_template),
        ] {
            if !text.trim().is_empty() {
                notify.insert(key.into(), Value::String(text.clone()));
            }
        }
        if !self.sound.trim().is_empty() {
            notify.insert("sound".into(), Value::String(self.sound.trim().to_owned()));
        }
        let markdown = self
            .markdown
            .unwrap_or_else(|| previous.is_some_and(|p| p.notify.markdown));
        notify.insert("markdown".into(), Value::Boolean(markdown));
        if !self.watchdog_every.trim().is_empty() || !self.watchdog_event_type.trim().is_empty() {
            let mut watchdog = toml::Table::new();
            watchdog.insert(
                "every".into(),
                Value::String(self.watchdog_every.trim().to_owned()),
            );
            if !self.watchdog_event_type.trim().is_empty() {
                watchdog.insert(
                    "event_type".into(),
                    Value::String(self.watchdog_event_type.trim().to_owned()),
                );
            }
            notify.insert("watchdog".into(), Value::Table(watchdog));
        }
        if let Some(rules) = self.rules_value() {
            notify.insert("rule".into(), rules);
        }
        // What the form does not show is kept as it was: a save from the window must not drop
        // rules or a watchdog written in config.toml.
        if let Some(previous) = previous
            && let Ok(Value::Table(kept)) = Value::try_from(&previous.notify)
        {
            for (key, value) in kept {
                if NOTIFY_KEYS_NOT_IN_FORM.contains(&key.as_str()) {
                    notify.insert(key, value);
                }
            }
        }
        table.insert("notify".into(), Value::Table(notify));
        let kind = match self.auth.kind.as_str() {
            "" => "none",
            other => other,
        };
        if kind != "none" {
            let mut auth = toml::Table::new();
            auth.insert("type".into(), Value::String(kind.to_owned()));
            if kind == "basic" {
                auth.insert(
                    "username".into(),
                    Value::String(self.auth.username.trim().to_owned()),
                );
            }
            if kind == "header" {
                auth.insert(
                    "header".into(),
                    Value::String(self.auth.header.trim().to_owned()),
                );
            }
            match plaintext_secret {
                Some(secret) => {
                    auth.insert("store".into(), Value::String("plaintext".into()));
                    auth.insert("secret".into(), Value::String(secret.to_owned()));
                }
                None => {
                    auth.insert("store".into(), Value::String("keyring".into()));
                }
            }
            table.insert("auth".into(), Value::Table(auth));
        }
        if !self.tls_ca_file.trim().is_empty() {
            table.insert(
                "tls_ca_file".into(),
                Value::String(self.tls_ca_file.trim().to_owned()),
            );
        }
        if !self.method.trim().is_empty() {
            table.insert(
                "method".into(),
                Value::String(self.method.trim().to_ascii_uppercase()),
            );
        }
        if !self.body.is_empty() {
            table.insert("body".into(), Value::String(self.body.clone()));
        }
        if !self.body_content_type.trim().is_empty() {
            table.insert(
                "body_content_type".into(),
                Value::String(self.body_content_type.trim().to_owned()),
            );
        }
        if let Some(mib) = self.max_event_mib {
            table.insert(
                "max_event_bytes".into(),
                Value::Integer(i64::from(mib) << 20),
            );
        }
        table
    }
}

impl SubscriptionForm {
    /// The form's rules text as the `rule` array of `[subscription.notify]`: `None` when empty.
    /// Text that is not TOML becomes a value of the wrong type, so validation names the key
    /// (`notify.rule`) and the window shows the parser's words next to the rules.
    fn rules_value(&self) -> Option<toml::Value> {
        if self.rules.trim().is_empty() {
            return None;
        }
        match self.rules.parse::<toml::Table>() {
            Ok(mut table) => Some(
                table
                    .remove("rule")
                    .unwrap_or_else(|| toml::Value::String("write each rule as [[rule]]".into())),
            ),
            Err(error) => Some(toml::Value::String(format!(
                "not TOML: {}",
                error.message()
            ))),
        }
    }
}

impl NotificationsForm {
    /// The form for the current preferences.
    pub fn from_prefs(prefs: &NotificationPrefs) -> Self {
        NotificationsForm {
            enabled: prefs.enabled,
            min_priority: prefs.min_priority,
            burst: prefs.burst,
            interval_secs: prefs.interval_secs,
            quiet_hours: prefs.quiet_hours.as_ref().map(|q| QuietHoursForm {
                start: q.start.to_string(),
                end: q.end.to_string(),
            }),
        }
    }
}

/// The form field a config key belongs to (`notify.title_template` → `titleTemplate`).
pub fn field_of_key(key: &str) -> &'static str {
    let head = key.split(['.', '[']).next().unwrap_or_default();
    match head {
        "id" | "name" => "name",
        "url" => "url",
        "resume" => "resume.param",
        "idle_timeout" => "idleTimeout",
        "headers" => "headers",
        "tls_ca_file" => "tlsCaFile",
        "method" => "method",
        "body" => "body",
        "body_content_type" => "bodyContentType",
        "max_event_bytes" => "maxEventMib",
        "auth" => match key.split('.').nth(1).unwrap_or_default() {
            "username" => "auth.username",
            "header" => "auth.header",
            "secret" | "store" => "auth.secret",
            _ => "auth.type",
        },
        "notify" => match key.split(['.', '[']).nth(1).unwrap_or_default() {
            "title_template" => "titleTemplate",
            "body_template" => "bodyTemplate",
            "include_types" => "includeTypes",
            "exclude_types" => "excludeTypes",
            "min_priority" => "minPriority",
            "sound" => "sound",
            "markdown" => "markdown",
            "rule" => "rules",
            "watchdog" => match key.split('.').nth(2).unwrap_or_default() {
                "event_type" => "watchdogEventType",
                _ => "watchdogEvery",
            },
            _ => "mute",
        },
        _ => "",
    }
}
