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
//! - every change is written atomically to `config.toml` before it is applied, so what runs is
//!   always what a restart would run;
//! - an export never contains a secret (plain-text secrets and credential-looking headers are
//!   left out and listed).

pub mod form;

use crate::config::{self, Auth, Config, SecretLocation, SubscriptionConfig};
use crate::notify::NotificationPrefs;
use crate::notify::schedule::{QuietHours, TimeOfDay};
use crate::paths::AppPaths;
use crate::secrets::{KeyringStatus, SecretStore};
use crate::{Error, SubscriptionId};
pub use form::{
    AuthForm, HeaderForm, IdleTimeoutForm, NotificationsForm, QuietHoursForm, ResumeForm,
    SubscriptionForm, field_of_key,
};
use serde::Serialize;

/// Why a form was not saved: a message, and the fields to mark.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct FormErrors {
    /// The whole story in one sentence (shown when no field matches).
    pub message: String,
    /// Errors to show next to their fields.
    pub fields: Vec<FieldError>,
}

/// One field's error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
        }
    }

    /// An error about no field in particular.
    pub fn general(message: impl Into<String>) -> Self {
        FormErrors {
            message: message.into(),
            fields: Vec::new(),
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
            other => FormErrors::general(other.to_string()),
        }
    }
}

/// The settings a window edits, tied to the files they live in.
pub struct SettingsEditor {
    paths: AppPaths,
    secrets: SecretStore,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    /// The configuration now saved.
    #[serde(skip)]
    pub config: Config,
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
    /// An editor for the files under `paths`, keeping secrets in `secrets`.
    pub fn new(paths: AppPaths, secrets: SecretStore) -> Self {
        SettingsEditor { paths, secrets }
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

    /// Saves a subscription form: validates, stores its secret, writes `config.toml`, and
    /// returns the new configuration. Blocking.
    pub fn save_subscription(
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
        self.write(&next)?;
        Ok((next, spec))
    }

    /// Removes a subscription and its keyring entry. Its history stays. Blocking.
    pub fn delete_subscription(
        &self,
        current: &Config,
        id: &SubscriptionId,
    ) -> Result<Config, FormErrors> {
        let removed = current
            .subscription(id)
            .ok_or_else(|| FormErrors::general("no such subscription"))?;
        let had_keyring_secret = removed.auth.secret() == Some(&SecretLocation::Keyring);
        let mut next = current.clone();
        next.subscriptions.retain(|s| &s.id != id);
        self.write(&next)?;
        if had_keyring_secret && let Err(error) = self.secrets.delete(id) {
            tracing::warn!(%error, subscription = %id, "could not remove the keyring entry");
        }
        Ok(next)
    }

    /// Turns a subscription on or off. Blocking.
    pub fn set_enabled(
        &self,
        current: &Config,
        id: &SubscriptionId,
        enabled: bool,
    ) -> Result<Config, FormErrors> {
        let mut next = current.clone();
        let spec = next
            .subscriptions
            .iter_mut()
            .find(|s| &s.id == id)
            .ok_or_else(|| FormErrors::general("no such subscription"))?;
        spec.enabled = enabled;
        self.write(&next)?;
        Ok(next)
    }

    /// Saves the global notification settings. Blocking.
    pub fn save_notifications(
        &self,
        current: &Config,
        form: &NotificationsForm,
    ) -> Result<Config, FormErrors> {
        let prefs = notification_prefs(&current.notifications, form)?;
        let mut next = current.clone();
        next.notifications = prefs;
        self.write(&next)?;
        Ok(next)
    }

    /// Replaces the configuration with an imported TOML document. Blocking.
    pub fn import(&self, text: &str) -> Result<Imported, FormErrors> {
        let config = config::parse_str(text).map_err(|error| match error {
            Error::ConfigInvalid { key, reason } => FormErrors {
                message: format!("{key}: {reason}"),
                fields: vec![FieldError {
                    field: key,
                    message: reason,
                }],
            },
            other => FormErrors::general(other.to_string()),
        })?;
        self.write(&config)?;
        let need_secrets = config
            .subscriptions
            .iter()
            .filter(|s| s.auth.secret().is_some() && !self.secret_saved(s))
            .map(|s| s.name.clone())
            .collect();
        Ok(Imported {
            imported: config.subscriptions.len(),
            need_secrets,
            config,
        })
    }

    /// Writes `config`. A hand edit on disk that does not load (the app kept running the last
    /// good configuration) would be overwritten by the save, so it is first copied aside to
    /// `config.toml.rejected-<unix seconds>`: a typo in a long hand edit is not lost to a click.
    fn write(&self, config: &Config) -> Result<(), FormErrors> {
        let file = self.paths.config_file();
        if let Ok(text) = std::fs::read_to_string(&file)
            && config::parse_str(&text).is_err()
        {
            let aside = file.with_extension(format!(
                "toml.rejected-{}",
                crate::event::now_unix_ms() / 1000
            ));
            std::fs::copy(&file, &aside).map_err(|e| {
                FormErrors::general(format!(
                    "config.toml has an unsaved hand edit with an error, and it could not be                      kept as {}: {e}; nothing was saved",
                    aside.display()
                ))
            })?;
            tracing::warn!(aside = %aside.display(), "kept the invalid hand edit of config.toml");
        }
        config::save(&self.paths, config).map_err(|e| {
            FormErrors::general(format!(
                "could not save {}: {e}",
                self.paths.config_file().display()
            ))
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

    fn editor() -> (tempfile::TempDir, SettingsEditor) {
        let dir = tempfile::tempdir().unwrap();
        let editor = SettingsEditor::new(
            AppPaths::under(dir.path()),
            SecretStore::with_service("sse-tray-unit-tests"),
        );
        (dir, editor)
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
        let (config, saved) = editor
            .save_subscription(&Config::default(), &new)
            .expect("saved");
        assert_eq!(saved.id.as_str(), "build-events");
        let on_disk = config::load(&editor.paths).unwrap().config;
        assert_eq!(on_disk, config);
        let back = SubscriptionForm::from_config(&saved, false);
        let expected = SubscriptionForm {
            id: Some("build-events".into()),
            include_types: vec!["build".into()],
            ..new.clone()
        };
        assert_eq!(back, expected);
        // Saving the same name again makes a second subscription with its own id.
        let (config, second) = editor.save_subscription(&config, &new).unwrap();
        assert_eq!(second.id.as_str(), "build-events-2");
        assert_eq!(config.subscriptions.len(), 2);
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
        let (config, saved) = editor.save_subscription(&Config::default(), &f).unwrap();
        let text = std::fs::read_to_string(editor.paths.config_file()).unwrap();
        assert!(text.contains("store = \"plaintext\""), "{text}");
        let back = SubscriptionForm::from_config(&saved, editor.secret_saved(&saved));
        assert!(back.auth.secret_saved && back.auth.secret.is_none());
        assert!(!serde_json::to_string(&back).unwrap().contains("s3cret"));
        // Saving again without retyping keeps it.
        let mut again = back.clone();
        again.name = "Feed 2".into();
        let (_, saved) = editor.save_subscription(&config, &again).unwrap();
        assert_eq!(
            saved.auth.secret(),
            Some(&SecretLocation::Plaintext("s3cret-token".into()))
        );
        // The export leaves it out and says so.
        let exported = export(&config).unwrap();
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
        let (config, _) = editor.save_subscription(&Config::default(), &f).unwrap();
        let exported = export(&config).unwrap();
        assert!(!exported.toml.contains("k-123") && exported.toml.contains("X-Team"));
        let imported = editor.import(&exported.toml).unwrap();
        assert_eq!(imported.imported, 1);
        assert!(imported.need_secrets.is_empty());
        let bad = editor
            .import("[[subscription]]\nid = \"x\"\nurl = \"gopher://h\"\n")
            .unwrap_err();
        assert_eq!(fields(&bad), vec!["subscription[0].url"]);
        // A refused import leaves the saved file alone.
        assert_eq!(config::load(&editor.paths).unwrap().config, imported.config);
    }

    #[test]
    fn delete_and_enable_change_only_their_subscription() {
        let (_dir, editor) = editor();
        let (config, a) = editor
            .save_subscription(&Config::default(), &form("A", "https://a/"))
            .unwrap();
        let (config, b) = editor
            .save_subscription(&config, &form("B", "https://b/"))
            .unwrap();
        let config = editor.set_enabled(&config, &a.id, false).unwrap();
        assert!(!config.subscription(&a.id).unwrap().enabled);
        let config = editor.delete_subscription(&config, &a.id).unwrap();
        assert_eq!(config.subscriptions, vec![b]);
        assert!(editor.delete_subscription(&config, &a.id).is_err());
        let mut stale = form("A", "https://a/");
        stale.id = Some(a.id.to_string());
        assert!(
            editor
                .validate(&config, &stale)
                .unwrap_err()
                .message
                .contains("no longer exists")
        );
    }

    #[test]
    fn saving_over_an_invalid_hand_edit_keeps_the_edit_aside() {
        let (dir, editor) = editor();
        let (config, _) = editor
            .save_subscription(&Config::default(), &form("A", "https://a/"))
            .unwrap();
        let file = editor.paths.config_file();
        let hand_edit = format!(
            "{}\n[[subscription]]\nid = \"typo\"\nurl = \"htp://b/\"\n",
            std::fs::read_to_string(&file).unwrap()
        );
        std::fs::write(&file, &hand_edit).unwrap();
        editor
            .set_enabled(&config, &config.subscriptions[0].id, false)
            .unwrap();
        let kept: Vec<_> = std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("config.toml.rejected-")
            })
            .collect();
        assert_eq!(kept.len(), 1, "{:?}", dir.path());
        assert_eq!(std::fs::read_to_string(kept[0].path()).unwrap(), hand_edit);
        assert!(config::load(&editor.paths).is_ok());
        // A valid file is simply replaced.
        editor
            .set_enabled(&config, &config.subscriptions[0].id, true)
            .unwrap();
        let count = std::fs::read_dir(file.parent().unwrap()).unwrap().count();
        assert_eq!(count, 2, "config.toml and the one kept edit");
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
