//! What the settings window does to the configuration, headless so it is tested without a
//! webview: save, delete, enable a subscription, change notification preferences, import and
//! export. The app's commands only call these and then apply the returned [`Config`].
//!
//! The rules that matter to a person live here:
//! - a form is validated exactly as `config.toml` is, and every error comes back next to the
//!   field that caused it ([`FormErrors`]);
//! - a secret goes to the OS keyring and never into `config.toml`, unless the keyring is
//!   unavailable *and* the person ticked the plain-text opt-in for that subscription; a secret
//!   is never sent back to the window, only "saved";
//! - every change goes through the [`ConfigService`] and names the revision the window loaded:
//!   a change started before another save or a hand edit is refused ("changed elsewhere —
//!   reload") instead of overwriting it; what is saved is written atomically before it is
//!   applied, so what runs is always what a restart would run;
//! - an export never contains a secret (plain-text secrets and credential-looking headers are
//!   left out and listed).

pub mod form;

use crate::config::{self, Auth, Config, SecretLocation, SubscriptionConfig};
use crate::config_service::{ConfigService, ConfigSnapshot};
use crate::notify::NotificationPrefs;
use crate::notify::schedule::{QuietHours, TimeOfDay};
use crate::secrets::{KeyringStatus, SecretStore};
use crate::{Error, SubscriptionId};
pub use form::{
    AuthForm, HeaderForm, IdleTimeoutForm, NotificationsForm, QuietHoursForm, ResumeForm,
    SubscriptionForm, field_of_key,
};
use serde::Serialize;
use std::sync::Arc;

/// Why a form was not saved: a message, and the fields to mark.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{message}")]
pub struct FormErrors {
    /// The whole story in one sentence (shown when no field matches).
    pub message: String,
    /// Errors to show next to their fields.
    pub fields: Vec<FieldError>,
    /// The change started from an old revision of the configuration: the window should reload
    /// (and offer to keep the person's unsaved edits) before trying again.
    pub stale: bool,
}

/// One field's error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FieldError {
    /// The form field (`url`, `auth.secret`, `titleTemplate` …).
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl FormErrors {
    /// An error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        FormErrors {
            message: message.clone(),
            fields: vec![FieldError {
                field: field.to_owned(),
                message,
            }],
            stale: false,
        }
    }

    /// An error about no field in particular.
    pub fn general(message: impl Into<String>) -> Self {
        FormErrors {
            message: message.into(),
            fields: Vec::new(),
            stale: false,
        }
    }
}

impl From<Error> for FormErrors {
    fn from(error: Error) -> Self {
        match error {
            Error::ConfigInvalid { key, reason } => {
                let field = field_of_key(&key);
                let message = format!("{key}: {reason}");
                if field.is_empty() {
                    FormErrors::general(message)
                } else {
                    FormErrors::field(field, reason)
                }
            }
            stale @ Error::ConfigStale { .. } => FormErrors {
                stale: true,
                ..FormErrors::general(stale.to_string())
            },
            other => FormErrors::general(other.to_string()),
        }
    }
}

/// The settings a window edits: the configuration (through its one service) and the secrets.
pub struct SettingsEditor {
    config: Arc<ConfigService>,
    secrets: SecretStore,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    /// The configuration now saved, and its revision.
    #[serde(skip)]
    pub saved: ConfigSnapshot,
    /// How many subscriptions it has.
    pub imported: usize,
    /// Names of subscriptions whose secret must be entered before they can connect.
    pub need_secrets: Vec<String>,
}

/// What an export produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exported {
    /// The TOML, without secrets.
    pub toml: String,
    /// What was left out because it was (or looked like) a secret: `"<subscription>: <what>"`.
    pub left_out: Vec<String>,
}

/// Header names whose values are credentials in practice; an export leaves them out.
fn looks_secret(header: &str) -> bool {
    let lower = header.to_ascii_lowercase();
    [
        "authorization",
        "cookie",
        "token",
        "secret",
        "key",
        "password",
        "auth",
    ]
    .iter()
    .any(|word| lower.contains(word))
}

impl SettingsEditor {
    /// An editor saving through `config`, keeping secrets in `secrets`.
    pub fn new(config: Arc<ConfigService>, secrets: SecretStore) -> Self {
        SettingsEditor { config, secrets }
    }

    /// The configuration service saves go through.
    pub fn config(&self) -> &Arc<ConfigService> {
        &self.config
    }

    /// The secret store (the app resolves credentials with it).
    pub fn secrets(&self) -> &SecretStore {
        &self.secrets
    }

    /// Whether a secret is stored for `spec` (in the keyring or, opted in, in the file).
    /// Blocking (the keyring is asked).
    pub fn secret_saved(&self, spec: &SubscriptionConfig) -> bool {
        match spec.auth.secret() {
            None => false,
            Some(SecretLocation::Plaintext(_)) => true,
            Some(SecretLocation::Keyring) => {
                matches!(self.secrets.get(&spec.id), Ok(Some(_)))
            }
        }
    }

    /// Every subscription as a form. Blocking.
    pub fn forms(&self, config: &Config) -> Vec<SubscriptionForm> {
        config
            .subscriptions
            .iter()
            .map(|s| SubscriptionForm::from_config(s, self.secret_saved(s)))
            .collect()
    }

    /// Validates `form` into a subscription of `current` without saving anything: the id it
    /// would get and where its secret would come from. Used by "Test connection" (with the
    /// secret resolved) and by [`Self::save_subscription`].
    pub fn validate(
        &self,
        current: &Config,
        form: &SubscriptionForm,
    ) -> Result<(SubscriptionConfig, SecretPlan), FormErrors> {
        let previous = match &form.id {
            Some(id) => Some(
                current
                    .subscription(&SubscriptionId::new(id.as_str()))
                    .ok_or_else(|| {
                        FormErrors::general(
                            "this subscription no longer exists (config.toml changed meanwhile); \
                             reload the settings",
                        )
                    })?,
            ),
            None => None,
        };
        let id = match previous {
            Some(p) => p.id.clone(),
            None => current.new_subscription_id(&form.name, &form.url),
        };
        let plan = self.secret_plan(form, previous)?;
        let plaintext = match &plan {
            SecretPlan::Plaintext(secret) => Some(secret.as_str()),
            _ => None,
        };
        let table = form.to_table(id.as_str(), plaintext, previous);
        let spec = config::parse_subscription(table).map_err(FormErrors::from)?;
        if let Some(path) = &spec.tls_ca_file
            && !path.is_file()
        {
            return Err(FormErrors::field(
                "tlsCaFile",
                format!("{} is not a readable file", path.display()),
            ));
        }
        Ok((spec, plan))
    }

    /// Where the secret of a submitted form comes from.
    fn secret_plan(
        &self,
        form: &SubscriptionForm,
        previous: Option<&SubscriptionConfig>,
    ) -> Result<SecretPlan, FormErrors> {
        let kind = form.auth.kind.as_str();
        if kind.is_empty() || kind == "none" {
            return Ok(SecretPlan::None);
        }
        let what = match kind {
            "basic" => "password",
            "header" => "header value",
            _ => "token",
        };
        let entered = form.auth.secret.clone().filter(|s| !s.is_empty());
        // A saved token is not a password: switching the kind asks for the new secret.
        let previous_secret = previous
            .filter(|p| p.auth.kind() == kind)
            .and_then(|p| p.auth.secret());
        if form.auth.plaintext {
            return match (entered, previous_secret) {
                (Some(secret), _) => Ok(SecretPlan::Plaintext(secret)),
                (None, Some(SecretLocation::Plaintext(old))) => {
                    Ok(SecretPlan::Plaintext(old.clone()))
                }
                (None, _) => Err(FormErrors::field(
                    "auth.secret",
                    format!("enter the {what} to keep it in config.toml"),
                )),
            };
        }
        let keyring_down = match self.secrets.availability() {
            KeyringStatus::Available => None,
            KeyringStatus::Unavailable { reason } => Some(reason),
        };
        match (entered, previous_secret) {
            (Some(secret), _) => match keyring_down {
                None => Ok(SecretPlan::Keyring(Some(secret))),
                Some(reason) => Err(FormErrors::field(
                    "auth.secret",
                    format!(
                        "the OS keyring is unavailable ({reason}), so the {what} cannot be \
                         stored safely; tick \u{201c}store in config.toml in plain text\u{201d} to \
                         keep it there anyway"
                    ),
                )),
            },
            // Moving an opted-in plain-text secret into the keyring once it is available.
            (None, Some(SecretLocation::Plaintext(old))) => match keyring_down {
                None => Ok(SecretPlan::Keyring(Some(old.clone()))),
                Some(reason) => Err(FormErrors::field(
                    "auth.secret",
                    format!("the OS keyring is unavailable ({reason})"),
                )),
            },
            (None, Some(SecretLocation::Keyring))
                if previous.is_some_and(|p| self.secret_saved(p)) =>
            {
                Ok(SecretPlan::Keyring(None))
            }
            (None, _) => Err(FormErrors::field(
                "auth.secret",
                format!("enter the {what}"),
            )),
        }
    }

    /// Saves a subscription form on top of revision `base`: validates, stores its secret,
    /// writes `config.toml`, and returns the new configuration and the saved subscription.
    /// Blocking.
    pub fn save_subscription(
        &self,
        base: u64,
        form: &SubscriptionForm,
    ) -> Result<(ConfigSnapshot, SubscriptionConfig), FormErrors> {
        let mut saved = None;
        let snapshot = self.config.save(base, |current| {
            let (next, spec) = self.next_with_subscription(current, form)?;
            saved = Some(spec);
            Ok::<_, FormErrors>(next)
        })?;
        let saved = saved.ok_or_else(|| FormErrors::general("the save did not run"))?;
        Ok((snapshot, saved))
    }

    /// The step of [`Self::save_subscription`] that runs under the config lock.
    fn next_with_subscription(
        &self,
        current: &Config,
        form: &SubscriptionForm,
    ) -> Result<(Config, SubscriptionConfig), FormErrors> {
        let (spec, plan) = self.validate(current, form)?;
        let mut next = current.clone();
        match next.subscriptions.iter_mut().find(|s| s.id == spec.id) {
            Some(slot) => *slot = spec.clone(),
            None => next.subscriptions.push(spec.clone()),
        }
        // Checked before the keyring is touched, so a refused save changes nothing.
        config::to_toml_string(&next).map_err(FormErrors::from)?;
        match &plan {
            SecretPlan::Keyring(Some(secret)) => self
                .secrets
                .set(&spec.id, secret)
                .map_err(|e| FormErrors::field("auth.secret", e.to_string()))?,
            SecretPlan::Keyring(None) => {}
            SecretPlan::None | SecretPlan::Plaintext(_) => {
                // A secret the subscription no longer uses is not left behind in the keyring.
                let had_keyring_secret = current
                    .subscription(&spec.id)
                    .is_some_and(|p| p.auth.secret() == Some(&SecretLocation::Keyring));
                if had_keyring_secret && let Err(error) = self.secrets.delete(&spec.id) {
                    tracing::warn!(%error, "could not remove the unused keyring entry");
                }
            }
        }
        Ok((next, spec))
    }

    /// Removes a subscription, on top of revision `base`, and then its keyring entry. Its
    /// history stays. Blocking.
    pub fn delete_subscription(
        &self,
        base: u64,
        id: &SubscriptionId,
    ) -> Result<ConfigSnapshot, FormErrors> {
        let mut had_keyring_secret = false;
        let snapshot = self.config.save(base, |current| {
            let removed = current
                .subscription(id)
                .ok_or_else(|| FormErrors::general("no such subscription"))?;
            had_keyring_secret = removed.auth.secret() == Some(&SecretLocation::Keyring);
            let mut next = current.clone();
            next.subscriptions.retain(|s| &s.id != id);
            Ok::<_, FormErrors>(next)
        })?;
        // Only once the file no longer refers to it: a failed save keeps a working secret.
        if had_keyring_secret && let Err(error) = self.secrets.delete(id) {
            tracing::warn!(%error, subscription = %id, "could not remove the keyring entry");
        }
        Ok(snapshot)
    }

    /// Turns a subscription on or off, on top of revision `base`. Blocking.
    pub fn set_enabled(
        &self,
        base: u64,
        id: &SubscriptionId,
        enabled: bool,
    ) -> Result<ConfigSnapshot, FormErrors> {
        self.config.save(base, |current| {
            let mut next = current.clone();
            let spec = next
                .subscriptions
                .iter_mut()
                .find(|s| &s.id == id)
                .ok_or_else(|| FormErrors::general("no such subscription"))?;
            spec.enabled = enabled;
            Ok(next)
        })
    }

    /// Saves the global notification settings on top of revision `base`. Blocking.
    pub fn save_notifications(
        &self,
        base: u64,
        form: &NotificationsForm,
    ) -> Result<ConfigSnapshot, FormErrors> {
        self.config.save(base, |current| {
            let prefs = notification_prefs(&current.notifications, form)?;
            let mut next = current.clone();
            next.notifications = prefs;
            Ok(next)
        })
    }

    /// Replaces the configuration with an imported TOML document, on top of revision `base`
    /// (an import replaces everything, so a hand edit made meanwhile must be seen first).
    /// Blocking.
    pub fn import(&self, base: u64, text: &str) -> Result<Imported, FormErrors> {
        let config = config::parse_str(text).map_err(|error| match error {
            Error::ConfigInvalid { key, reason } => FormErrors {
                message: format!("{key}: {reason}"),
                fields: vec![FieldError {
                    field: key,
                    message: reason,
                }],
                stale: false,
            },
            other => FormErrors::general(other.to_string()),
        })?;
        let saved = self.config.save(base, |_| Ok::<_, FormErrors>(config))?;
        let need_secrets = saved
            .config
            .subscriptions
            .iter()
            .filter(|s| s.auth.secret().is_some() && !self.secret_saved(s))
            .map(|s| s.name.clone())
            .collect();
        Ok(Imported {
            imported: saved.config.subscriptions.len(),
            need_secrets,
            saved,
        })
    }
}

/// Where a saved subscription's secret goes.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretPlan {
    /// It has none.
    None,
    /// In the keyring: a new value to store, or `None` to keep the stored one.
    Keyring(Option<String>),
    /// In `config.toml`, opted in.
    Plaintext(String),
}

impl std::fmt::Debug for SecretPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SecretPlan::None => "None",
            SecretPlan::Keyring(Some(_)) => "Keyring(new)",
            SecretPlan::Keyring(None) => "Keyring(kept)",
            SecretPlan::Plaintext(_) => "Plaintext(<redacted>)",
        })
    }
}

impl SecretPlan {
    /// The secret to use for a test connection before anything is saved, if the plan has one
    /// in hand (`Keyring(None)` means "look it up").
    pub fn secret_in_hand(&self) -> Option<&str> {
        match self {
            SecretPlan::Keyring(Some(s)) | SecretPlan::Plaintext(s) => Some(s),
            _ => None,
        }
    }
}

/// The configuration without secrets, as TOML: opted-in plain-text secrets become "in the
/// keyring" (the importer enters them), credential-looking headers are dropped; both are listed.
pub fn export(config: &Config) -> crate::Result<Exported> {
    let mut clean = config.clone();
    let mut left_out = Vec::new();
    for spec in &mut clean.subscriptions {
        let name = spec.name.clone();
        match &mut spec.auth {
            Auth::Bearer { secret } | Auth::Basic { secret, .. } | Auth::Header { secret, .. }
                if matches!(secret, SecretLocation::Plaintext(_)) =>
            {
                *secret = SecretLocation::Keyring;
                left_out.push(format!("{name}: its {} secret", spec.auth.kind()));
            }
            _ => {}
        }
        spec.headers.retain(|(header, _)| {
            let secret = looks_secret(header);
            if secret {
                left_out.push(format!("{name}: header {header}"));
            }
            !secret
        });
    }
    Ok(Exported {
        toml: config::to_toml_string(&clean)?,
        left_out,
    })
}

/// Applies the notification form to `prefs` (fields the form does not show are kept).
pub fn notification_prefs(
    prefs: &NotificationPrefs,
    form: &NotificationsForm,
) -> Result<NotificationPrefs, FormErrors> {
    if !(1..=1000).contains(&form.burst) {
        return Err(FormErrors::field("burst", "must be from 1 to 1000"));
    }
    if !(1..=86_400).contains(&form.interval_secs) {
        return Err(FormErrors::field(
            "intervalSecs",
            "must be from 1 to 86400 seconds",
        ));
    }
    let quiet_hours = match &form.quiet_hours {
        None => None,
        Some(q) => {
            let time = |field: &str, text: &str| {
                text.trim()
                    .parse::<TimeOfDay>()
                    .map_err(|e| FormErrors::field(field, format!("{e} (use HH:MM, e.g. 22:00)")))
            };
            let start = time("quietHours.start", &q.start)?;
            let end = time("quietHours.end", &q.end)?;
            if start == end {
                return Err(FormErrors::field(
                    "quietHours.end",
                    "must differ from the start",
                ));
            }
            Some(QuietHours {
                start,
                end,
                days: prefs
                    .quiet_hours
                    .as_ref()
                    .map(|q| q.days.clone())
                    .unwrap_or_default(),
            })
        }
    };
    Ok(NotificationPrefs {
        enabled: form.enabled,
        min_priority: form.min_priority,
        burst: form.burst,
        interval_secs: form.interval_secs,
        quiet_hours,
        ..prefs.clone()
    })
}

/// What a sample event would do under a form's notification settings: the settings window's
/// "Test rules" box. Nothing is shown or stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RuleTestView {
    /// The rule that matched, in words ("rule 2, quiet greens"), or `None`.
    pub rule: Option<String>,
    /// What would happen, in words.
    pub outcome: String,
    /// The notification's title and body.
    pub title: String,
    /// The notification's body.
    pub body: String,
    /// Its priority after the rule.
    pub priority: crate::notify::Priority,
    /// Whether the event would be stored as read.
    pub mark_read: bool,
}

impl SettingsEditor {
    /// Runs a pasted payload (`event_type`, `message` when blank) through the form's rules and
    /// filters as they would be saved, with `current`'s global notification settings. Errors
    /// are the form's own (a rule that does not validate is named, as on save).
    pub fn test_rules(
        &self,
        current: &Config,
        form: &SubscriptionForm,
        payload: &str,
        event_type: &str,
    ) -> Result<RuleTestView, FormErrors> {
        let (spec, _) = self.validate(current, form)?;
        let event_type = Some(event_type.trim())
            .filter(|t| !t.is_empty())
            .unwrap_or("message");
        let tested = crate::notify::policy::test_rules(
            &current.notifications,
            &spec.notify,
            payload,
            event_type,
        );
        let rule = tested.matched.as_ref().map(|m| match &m.name {
            Some(name) => format!("rule {}, {name}", m.index + 1),
            None => format!("rule {}", m.index + 1),
        });
        let outcome = match &tested.suppressed {
            None => "shown as a notification".to_owned(),
            Some(reason) => format!("no notification: {}", suppressed_words(reason)),
        };
        Ok(RuleTestView {
            rule,
            outcome,
            title: tested.title,
            body: tested.body,
            priority: tested.priority,
            mark_read: tested.mark_read,
        })
    }
}

fn suppressed_words(reason: &crate::notify::policy::Suppressed) -> &'static str {
    use crate::notify::policy::Suppressed as S;
    match reason {
        S::Disabled => "notifications are switched off",
        S::Muted => "the subscription is muted",
        S::TypeFiltered => "its event type is filtered out",
        S::BelowMinPriority => "below the minimum priority",
        S::Throttled => "held back by the throttle",
        S::Quiet => "quiet hours or do not disturb",
        S::RuleMuted => "muted by the rule",
        S::RuleSkipped => "skipped by the rule",
    }
}

/// The subscriptions to run for `config`: the enabled ones with their credentials resolved,
/// and — apart — those whose secret could not be had, with the reason in words. Blocking (the
/// keyring is asked).
pub fn runtime_specs(
    config: &Config,
    secrets: &SecretStore,
) -> (
    Vec<crate::engine::ConnectionSpec>,
    Vec<(SubscriptionConfig, String)>,
) {
    let mut running = Vec::new();
    let mut unresolved = Vec::new();
    for spec in config.subscriptions.iter().filter(|s| s.enabled) {
        match crate::secrets::with_credentials(spec, secrets) {
            Ok(resolved) => running.push(resolved),
            Err(error) => unresolved.push((spec.clone(), error.to_string())),
        }
    }
    (running, unresolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config_service::Watching;
    use crate::notify::SubscriptionNotifyPrefs;
    use crate::paths::AppPaths;

    fn editor() -> (tempfile::TempDir, SettingsEditor) {
        let dir = tempfile::tempdir().unwrap();
        let file = AppPaths::under(dir.path()).config_file();
        let service = ConfigService::open_with(file, Watching::Off).unwrap();
        let editor = SettingsEditor::new(
            Arc::new(service),
            SecretStore::with_service("sse-tray-unit-tests"),
        );
        (dir, editor)
    }

    fn on_disk(editor: &SettingsEditor) -> Config {
        config::load_file(editor.config().path()).unwrap().config
    }

    fn form(name: &str, url: &str) -> SubscriptionForm {
        SubscriptionForm {
            name: name.into(),
            url: url.into(),
            enabled: true,
            auth: AuthForm {
                kind: "none".into(),
                ..AuthForm::default()
            },
            resume: ResumeForm {
                mode: "header".into(),
                param: String::new(),
            },
            idle_timeout: IdleTimeoutForm {
                auto: true,
                seconds: None,
            },
            ..SubscriptionForm::default()
        }
    }

    fn fields(errors: &FormErrors) -> Vec<&str> {
        errors.fields.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_save_from_the_window_keeps_notification_settings_the_form_does_not_show() {
        let dir = tempfile::tempdir().unwrap();
        let file = AppPaths::under(dir.path()).config_file();
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            &file,
            r#"
[[subscription]]
id = "backups"
url = "https://b.example/events"
[subscription.notify]
burst = 2
allow_http_images = true
images = false
sound = "message-new-instant"
replace_key = "job.id"
[subscription.notify.sounds]
urgent = "alarm-clock-elapsed"
[[subscription.notify.rule]]
name = "quiet greens"
field = "status"
equals = "passed"
mute = true
[subscription.notify.watchdog]
every = "26h"
event_type = "backup.done"
"#,
        )
        .unwrap();
        let service = ConfigService::open_with(file, Watching::Off).unwrap();
        let base = service.snapshot().revision;
        let before = service.snapshot().config.subscriptions[0].notify.clone();
        assert!(before.watchdog.is_some() && before.rule.len() == 1);
        let editor = SettingsEditor::new(
            Arc::new(service),
            SecretStore::with_service("sse-tray-unit-tests"),
        );
        let mut form = SubscriptionForm::from_config(
            &editor.config().snapshot().config.subscriptions[0],
            false,
        );
        form.name = "Nightly backups".into();
        form.mute = true;
        let (snapshot, saved) = editor.save_subscription(base, &form).expect("saved");
        assert_eq!(saved.name, "Nightly backups");
        assert_eq!(
            saved.notify,
            SubscriptionNotifyPrefs {
                mute: true,
                ..before
            },
            "the form's fields changed, everything else was kept"
        );
        assert_eq!(on_disk(&editor), snapshot.config);
    }

    #[test]
    fn a_page_that_does_not_send_markdown_keeps_the_saved_setting() {
        let (_dir, editor) = editor();
        let mut new = form("Docs", "https://docs.example/events");
        new.markdown = Some(true);
        let (snapshot, saved) = editor.save_subscription(1, &new).expect("saved");
        let on = SubscriptionForm::from_config(&saved, false);
        assert_eq!(on.markdown, Some(true));
        let json = serde_json::to_value(&on).expect("json");
        assert_eq!(json["markdown"], true, "the page's field is `markdown`");

        // A page from before the setting sends the form without the field.
        let mut old_page = json;
        old_page
            .as_object_mut()
            .expect("an object")
            .remove("markdown");
        old_page["name"] = "Docs, renamed".into();
        let old_page: SubscriptionForm = serde_json::from_value(old_page).expect("still reads");
        assert_eq!(old_page.markdown, None);
        let (snapshot, kept) = editor
            .save_subscription(snapshot.revision, &old_page)
            .expect("saved");
        assert_eq!(kept.name, "Docs, renamed");
        assert!(
            kept.notify.markdown,
            "not turned off by a page that does not know it"
        );

        // Unticked on a page that knows it: off, and left out of the file.
        let off = SubscriptionForm {
            markdown: Some(false),
            ..SubscriptionForm::from_config(&kept, false)
        };
        let (_, off) = editor.save_subscription(snapshot.revision, &off).unwrap();
        assert!(!off.notify.markdown);
        let text = std::fs::read_to_string(editor.config().path()).unwrap();
        assert!(!text.contains("markdown"), "{text}");
    }

    #[test]
    fn rules_are_edited_as_text_and_tested_on_a_pasted_payload() {
        let (_dir, editor) = editor();
        let mut f = form("Builds", "https://ci.example.com/events");
        f.rules = "[[rule]]\nname = \"quiet greens\"\nfield = \"status\"\nequals = \"passed\"\nmute = true\n".into();
        let current = Config::default();
        let hit = editor
            .test_rules(
                &current,
                &f,
                r#"{"title":"Build 7","status":"passed"}"#,
                "build",
            )
            .unwrap();
        assert_eq!(hit.rule.as_deref(), Some("rule 1, quiet greens"));
        assert_eq!(hit.outcome, "no notification: muted by the rule");
        let miss = editor
            .test_rules(&current, &f, r#"{"title":"Build 8","status":"failed"}"#, "")
            .unwrap();
        assert_eq!((miss.rule, miss.title.as_str()), (None, "Build 8"));
        assert_eq!(miss.outcome, "shown as a notification");
        let (_, saved) = editor.save_subscription(1, &f).unwrap();
        assert_eq!(saved.notify.rule.len(), 1);
        let back = SubscriptionForm::from_config(&saved, false);
        assert!(back.rules.contains("[[rule]]") && back.rules.contains("quiet greens"));
        let check = |rules: &str| {
            let mut f = form("A", "https://h/");
            f.rules = rules.into();
            let errors = editor.validate(&current, &f).unwrap_err();
            assert_eq!(fields(&errors), vec!["rules"], "{errors:?}");
        };
        check("[[rule]]\nregex = \"(\"\nmute = true\n");
        check("this is not toml");
        check("[rule]\nmute = true\n");
    }

    #[test]
    fn a_saved_form_is_written_and_reads_back_as_the_same_form() {
        let (_dir, editor) = editor();
        let mut new = form("Build events", "https://ci.example.com/events");
        new.resume = ResumeForm {
            mode: "query".into(),
            param: "since".into(),
        };
        new.idle_timeout = IdleTimeoutForm {
            auto: false,
            seconds: Some(45),
        };
        new.headers = vec![HeaderForm {
            name: "X-Team".into(),
            value: "ops".into(),
        }];
        new.include_types = vec!["build".into(), " ".into()];
        new.min_priority = Some(crate::notify::Priority::High);
        new.title_template = "{data.repo}".into();
        new.tls_ca_file = String::new();
        new.method = "POST".into();
        new.body = r#"{"topic":"builds"}"#.into();
        new.body_content_type = "application/vnd.api+json".into();
        new.max_event_mib = Some(64);
        new.sound = "message-new-instant".into();
        new.watchdog_every = "26h".into();
        new.watchdog_event_type = "backup.done".into();
        new.markdown = Some(true);
        let (snapshot, saved) = editor.save_subscription(1, &new).expect("saved");
        assert!(saved.notify.markdown);
        assert_eq!(saved.id.as_str(), "build-events");
        assert_eq!(on_disk(&editor), snapshot.config);
        let back = SubscriptionForm::from_config(&saved, false);
        let expected = SubscriptionForm {
            id: Some("build-events".into()),
            include_types: vec!["build".into()],
            ..new.clone()
        };
        assert_eq!(back, expected);
        // Saving the same name again makes a second subscription with its own id.
        let (snapshot, second) = editor.save_subscription(snapshot.revision, &new).unwrap();
        assert_eq!(second.id.as_str(), "build-events-2");
        assert_eq!(snapshot.config.subscriptions.len(), 2);
    }

    #[test]
    fn errors_are_reported_next_to_their_fields() {
        let (_dir, editor) = editor();
        let current = Config::default();
        let check = |f: SubscriptionForm, field: &str| {
            let errors = editor.validate(&current, &f).unwrap_err();
            assert_eq!(fields(&errors), vec![field], "{errors:?}");
        };
        check(form("A", "ftp://x/"), "url");
        check(form("A\u{7}B", "https://h/"), "name");
        check(form("", ""), "url");
        let mut f = form("A", "https://h/");
        f.resume = ResumeForm {
            mode: "query".into(),
            param: "a b".into(),
        };
        check(f, "resume.param");
        let mut f = form("A", "https://h/");
        f.idle_timeout = IdleTimeoutForm {
            auto: false,
            seconds: Some(0),
        };
        check(f, "idleTimeout");
        let mut f = form("A", "https://h/");
        f.headers = vec![HeaderForm {
            name: "Bad Name".into(),
            value: "x".into(),
        }];
        check(f, "headers");
        let mut f = form("A", "https://h/");
        f.title_template = "{data.".into();
        check(f, "titleTemplate");
        let mut f = form("A", "https://h/");
        f.tls_ca_file = "relative.pem".into();
        check(f, "tlsCaFile");
        let mut f = form("A", "https://h/");
        f.tls_ca_file = "/nonexistent/ca.pem".into();
        check(f, "tlsCaFile");
        let mut f = form("A", "https://h/");
        f.auth = AuthForm {
            kind: "basic".into(),
            plaintext: true,
            secret: Some("pw".into()),
            ..AuthForm::default()
        };
        check(f, "auth.username");
        let mut f = form("A", "https://h/");
        f.auth = AuthForm {
            kind: "bearer".into(),
            plaintext: true,
            ..AuthForm::default()
        };
        check(f, "auth.secret");
        let mut f = form("A", "https://h/");
        f.body = "{}".into();
        check(f, "body");
        let mut f = form("A", "https://h/");
        f.method = "NOT A METHOD".into();
        check(f, "method");
        let mut f = form("A", "https://h/");
        f.method = "POST".into();
        f.body = "{}".into();
        f.body_content_type = "json".into();
        check(f, "bodyContentType");
        let mut f = form("A", "https://h/");
        f.max_event_mib = Some(4096);
        check(f, "maxEventMib");
        let mut f = form("A", "https://h/");
        f.sound = "../../etc/passwd".into();
        check(f, "sound");
        let mut f = form("A", "https://h/");
        f.watchdog_every = "soon".into();
        check(f, "watchdogEvery");
        let mut f = form("A", "https://h/");
        f.watchdog_event_type = "backup.done".into();
        check(f, "watchdogEvery");
    }

    #[test]
    fn an_opted_in_plaintext_secret_is_kept_and_never_sent_back() {
        let (_dir, editor) = editor();
        let mut f = form("Feed", "https://h/");
        f.auth = AuthForm {
            kind: "bearer".into(),
            plaintext: true,
            secret: Some("s3cret-token".into()),
            ..AuthForm::default()
        };
        let (snapshot, saved) = editor.save_subscription(1, &f).unwrap();
        let text = std::fs::read_to_string(editor.config().path()).unwrap();
        assert!(text.contains("store = \"plaintext\""), "{text}");
        let back = SubscriptionForm::from_config(&saved, editor.secret_saved(&saved));
        assert!(back.auth.secret_saved && back.auth.secret.is_none());
        assert!(!serde_json::to_string(&back).unwrap().contains("s3cret"));
        // Saving again without retyping keeps it.
        let mut again = back.clone();
        again.name = "Feed 2".into();
        let (_, saved) = editor.save_subscription(snapshot.revision, &again).unwrap();
        assert_eq!(
            saved.auth.secret(),
            Some(&SecretLocation::Plaintext("s3cret-token".into()))
        );
        // The export leaves it out and says so.
        let exported = export(&snapshot.config).unwrap();
        assert!(!exported.toml.contains("s3cret"), "{}", exported.toml);
        assert_eq!(
            exported.left_out,
            vec!["Feed: its bearer secret".to_owned()]
        );
        assert!(config::parse_str(&exported.toml).is_ok());
    }

    #[test]
    fn export_drops_credential_headers_and_import_replaces_the_config() {
        let (_dir, editor) = editor();
        let mut f = form("Feed", "https://h/");
        f.headers = vec![
            HeaderForm {
                name: "X-Api-Key".into(),
                value: "k-123".into(),
            },
            HeaderForm {
                name: "X-Team".into(),
                value: "ops".into(),
            },
        ];
        let (snapshot, _) = editor.save_subscription(1, &f).unwrap();
        let exported = export(&snapshot.config).unwrap();
        assert!(!exported.toml.contains("k-123") && exported.toml.contains("X-Team"));
        let imported = editor.import(snapshot.revision, &exported.toml).unwrap();
        assert_eq!(imported.imported, 1);
        assert!(imported.need_secrets.is_empty());
        let revision = imported.saved.revision;
        let bad = editor
            .import(
                revision,
                "[[subscription]]\nid = \"x\"\nurl = \"gopher://h\"\n",
            )
            .unwrap_err();
        assert_eq!(fields(&bad), vec!["subscription[0].url"]);
        // A refused import leaves the saved file alone.
        assert_eq!(on_disk(&editor), imported.saved.config);
        // So does an import started from an older revision.
        let stale = editor.import(revision - 1, &exported.toml).unwrap_err();
        assert!(stale.stale && stale.message.contains("reload"), "{stale:?}");
    }

    #[test]
    fn delete_and_enable_change_only_their_subscription() {
        let (_dir, editor) = editor();
        let (snapshot, a) = editor
            .save_subscription(1, &form("A", "https://a/"))
            .unwrap();
        let (snapshot, b) = editor
            .save_subscription(snapshot.revision, &form("B", "https://b/"))
            .unwrap();
        let snapshot = editor.set_enabled(snapshot.revision, &a.id, false).unwrap();
        assert!(!snapshot.config.subscription(&a.id).unwrap().enabled);
        let snapshot = editor
            .delete_subscription(snapshot.revision, &a.id)
            .unwrap();
        assert_eq!(snapshot.config.subscriptions, vec![b]);
        assert!(
            editor
                .delete_subscription(snapshot.revision, &a.id)
                .is_err()
        );
        let mut stale = form("A", "https://a/");
        stale.id = Some(a.id.to_string());
        assert!(
            editor
                .validate(&snapshot.config, &stale)
                .unwrap_err()
                .message
                .contains("no longer exists")
        );
    }

    #[test]
    fn a_change_from_an_old_revision_is_refused_as_stale_and_writes_nothing() {
        let (_dir, editor) = editor();
        let (snapshot, a) = editor
            .save_subscription(1, &form("A", "https://a/"))
            .unwrap();
        let file = editor.config().path().to_path_buf();
        // A hand edit after the window loaded revision 2.
        let hand_edit = format!(
            "{}\n[[subscription]]\nid = \"by-hand\"\nurl = \"https://b/\"\n",
            std::fs::read_to_string(&file).unwrap()
        );
        std::fs::write(&file, &hand_edit).unwrap();
        let refused = editor
            .set_enabled(snapshot.revision, &a.id, false)
            .unwrap_err();
        assert!(refused.stale, "{refused:?}");
        assert!(refused.fields.is_empty());
        assert!(
            refused.message.contains("changed elsewhere"),
            "{}",
            refused.message
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), hand_edit);
        // Reloaded, the same change keeps the hand edit.
        let fresh = editor.config().snapshot();
        let saved = editor.set_enabled(fresh.revision, &a.id, false).unwrap();
        assert_eq!(saved.config.subscriptions.len(), 2);
        assert_eq!(on_disk(&editor), saved.config);
    }

    #[test]
    fn notification_form_checks_its_fields() {
        let prefs = NotificationPrefs::default();
        let mut form = NotificationsForm::from_prefs(&prefs);
        assert_eq!(notification_prefs(&prefs, &form).unwrap(), prefs);
        form.quiet_hours = Some(QuietHoursForm {
            start: "22:00".into(),
            end: "7:30".into(),
        });
        let quiet = notification_prefs(&prefs, &form).unwrap();
        assert_eq!(quiet.quiet_hours.unwrap().end.to_string(), "07:30");
        form.quiet_hours = Some(QuietHoursForm {
            start: "25:00".into(),
            end: "07:00".into(),
        });
        assert_eq!(
            fields(&notification_prefs(&prefs, &form).unwrap_err()),
            vec!["quietHours.start"]
        );
        form.quiet_hours = None;
        form.burst = 0;
        assert_eq!(
            fields(&notification_prefs(&prefs, &form).unwrap_err()),
            vec!["burst"]
        );
    }
}
