//! Subscription secrets (tokens, passwords, API keys) in the OS keyring, and the runtime copy of a
//! subscription with its credential header filled in.
//!
//! `config.toml` only says *which* credential a subscription sends ([`Auth`]); the secret itself
//! lives in the operating system's own store, so it is encrypted at rest, guarded by the login
//! session, and never ends up in a dotfile backup or a pasted bug report:
//!
//! - Linux and the BSDs: the freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC) over
//!   D-Bus, through the pure-Rust `zbus-secret-service-keyring-store`;
//! - macOS: the login Keychain; Windows: the Credential Manager.
//!
//! Each entry is keyed by a *service* (`"sse-tray"`, overridable so tests and a second profile
//! never touch the real entries) and a *user*, the subscription id.
//!
//! The store is reached through `keyring-core` and one store crate per OS rather than through
//! `keyring`'s all-in-one `v1` API: that API connects once per process and, if the keyring was
//! not running at that moment, stays unavailable until restart. [`SecretStore`] connects on first
//! use and reconnects after a failure, so starting or unlocking the keyring later is noticed.
//!
//! Every call here **blocks** (D-Bus round trips, and possibly a password prompt from the OS):
//! async callers wrap them in `tokio::task::spawn_blocking`.
//!
//! A secret never appears in an error message, a `Debug` output or a log line: errors are built
//! from fixed wording, and [`SubscriptionConfig`]'s `Debug` redacts header values.

use crate::config::{Auth, SecretLocation, SubscriptionConfig};
use crate::engine::ConnectionSpec;
use crate::error::{Error, Result};
use crate::event::SubscriptionId;
use base64::Engine as _;
use keyring_core::{CredentialStore, Entry};
use serde::Serialize;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// The keyring service name real entries are saved under.
pub const DEFAULT_SERVICE: &str = "sse-tray";

/// The user name [`SecretStore::availability`] looks up. Subscription ids are `[a-z0-9_-]`, so no
/// subscription can have this one.
const PROBE_USER: &str = ".availability-probe";

/// What a person is told when no Secret Service answers on the session bus.
const NO_SECRET_SERVICE: &str =
    "no Secret Service is running (install and unlock GNOME Keyring or KWallet)";

/// Whether the OS keyring can be used right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum KeyringStatus {
    /// The keyring answered; secrets can be saved and read.
    Available,
    /// The keyring cannot be used; `reason` says why and what to do, in plain words.
    Unavailable {
        /// E.g. "no Secret Service is running (install and unlock GNOME Keyring or KWallet)".
        reason: String,
    },
}

/// The OS keyring, holding one secret per subscription. Cheap to create: nothing connects until
/// the first call. Every method blocks (see the module docs).
pub struct SecretStore {
    service: String,
    /// The connected store, kept between calls; dropped after a failure so the next call
    /// reconnects (the keyring daemon may have been restarted or replaced).
    backend: Mutex<Option<Arc<CredentialStore>>>,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let connected = self
            .backend
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        f.debug_struct("SecretStore")
            .field("service", &self.service)
            .field("connected", &connected)
            .finish()
    }
}

impl Default for SecretStore {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretStore {
    /// The store of the real entries (service [`DEFAULT_SERVICE`]).
    pub fn new() -> Self {
        Self::with_service(DEFAULT_SERVICE)
    }

    /// A store whose entries live under another service name, so tests and a second profile
    /// never read or clobber the real ones.
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            backend: Mutex::new(None),
        }
    }

    /// The service name entries are saved under.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Whether the keyring answers: connects and looks up an entry no subscription uses. A
    /// keyring that is running but locked may still report `Available`; the first read or save
    /// then asks the OS to unlock it (or fails with the reason).
    pub fn availability(&self) -> KeyringStatus {
        let probe = SubscriptionId::new(PROBE_USER);
        match self.run(&probe, |entry| entry.get_password()) {
            Ok(_) | Err(keyring_core::Error::NoEntry) => KeyringStatus::Available,
            Err(err) => KeyringStatus::Unavailable {
                reason: describe(&err),
            },
        }
    }

    /// Saves (or replaces) the secret of subscription `id`.
    pub fn set(&self, id: &SubscriptionId, secret: &str) -> Result<()> {
        self.run(id, |entry| entry.set_password(secret))
            .map_err(|err| keyring_error("save", id, &err))
    }

    /// The secret of subscription `id`, or `None` if none is saved.
    pub fn get(&self, id: &SubscriptionId) -> Result<Option<String>> {
        match self.run(id, |entry| entry.get_password()) {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(err) => Err(keyring_error("read", id, &err)),
        }
    }

    /// Deletes the secret of subscription `id`; deleting one that is not there is not an error.
    pub fn delete(&self, id: &SubscriptionId) -> Result<()> {
        match self.run(id, |entry| entry.delete_credential()) {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(err) => Err(keyring_error("delete", id, &err)),
        }
    }

    /// Runs `op` on the entry of `id`, connecting first if needed; forgets the connection after
    /// any failure other than "no such entry".
    fn run<T>(
        &self,
        id: &SubscriptionId,
        op: impl FnOnce(&Entry) -> keyring_core::Result<T>,
    ) -> keyring_core::Result<T> {
        let backend = self.backend()?;
        let result = entry(&backend, &self.service, id).and_then(|entry| op(&entry));
        if matches!(&result, Err(err) if !matches!(err, keyring_core::Error::NoEntry)) {
            *self.backend.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
        result
    }

    fn backend(&self) -> keyring_core::Result<Arc<CredentialStore>> {
        let mut slot = self.backend.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(backend) = slot.as_ref() {
            return Ok(Arc::clone(backend));
        }
        let backend = connect()?;
        *slot = Some(Arc::clone(&backend));
        Ok(backend)
    }
}

/// Connects to this OS's native credential store.
fn connect() -> keyring_core::Result<Arc<CredentialStore>> {
    #[cfg(target_os = "macos")]
    {
        let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
        Ok(store)
    }
    #[cfg(windows)]
    {
        let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
        Ok(store)
    }
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
        Ok(store)
    }
    #[cfg(not(any(unix, windows)))]
    {
        Err(keyring_core::Error::NotSupportedByStore(
            "this operating system has no keyring SSE Tray can use".into(),
        ))
    }
}

/// The entry of subscription `id`. On the Secret Service it gets a label people recognise in
/// their keyring app (Seahorse, KWalletManager); the other stores take no label.
fn entry(
    store: &Arc<CredentialStore>,
    service: &str,
    id: &SubscriptionId,
) -> keyring_core::Result<Entry> {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let label = format!("SSE Tray: secret of subscription {id} ({service})");
        let modifiers = std::collections::HashMap::from([("label", label.as_str())]);
        Entry::new_in_store_with_modifiers(store, service, id.as_str(), &modifiers)
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        Entry::new_in_store(store, service, id.as_str())
    }
}

fn keyring_error(action: &'static str, id: &SubscriptionId, err: &keyring_core::Error) -> Error {
    Error::Keyring {
        action,
        subscription: id.to_string(),
        reason: describe(err),
    }
}

/// A keyring failure in words a person can act on. Built from fixed wording and the platform's
/// own error text only: the variants that carry secret bytes (`BadEncoding`, `BadDataFormat`)
/// are never formatted.
fn describe(err: &keyring_core::Error) -> String {
    use keyring_core::Error as K;
    match err {
        K::NoStorageAccess(_) => format!(
            "the keyring is locked or refused access ({})",
            unlock_hint()
        ),
        K::PlatformFailure(source) => {
            describe_platform_failure(&crate::untrusted::error_chain(source.as_ref()))
        }
        K::NoEntry => "no secret is saved".into(),
        K::BadEncoding(_) | K::BadDataFormat(..) => {
            "the saved secret is not readable text; open Settings and enter it again".into()
        }
        K::Ambiguous(entries) => format!(
            "the keyring holds {} entries for it; remove the extra ones in your keyring app",
            entries.len()
        ),
        K::NoDefaultStore => "no keyring has been set up".into(),
        other => other.to_string(),
    }
}

/// Turns the Secret Service / D-Bus failure texts we know into advice; anything else is passed
/// on as the platform said it (these texts name D-Bus objects and interfaces, never secrets).
fn describe_platform_failure(chain: &str) -> String {
    const NOT_ON_BUS: [&str; 4] = [
        "ServiceUnknown",
        "NameHasNoOwner",
        "not provided by any .service files",
        "no secret service provider",
    ];
    let no_bus = chain.contains("Failed to connect to address")
        || chain.contains("no secret service provider or dbus session found");
    if cfg!(all(unix, not(target_os = "macos")))
        && no_bus
        && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
    {
        return "no D-Bus session bus was found (DBUS_SESSION_BUS_ADDRESS is not set; start SSE \
                Tray from a desktop session)"
            .into();
    }
    if chain.contains("Failed to connect to address") {
        return format!("the D-Bus session bus cannot be reached ({chain})");
    }
    if NOT_ON_BUS.iter().any(|needle| chain.contains(needle)) {
        return NO_SECRET_SERVICE.into();
    }
    if chain.contains("Spawn.") {
        return format!("the Secret Service failed to start ({chain})");
    }
    if chain.contains("prompt dismissed") {
        return format!("unlocking the keyring was cancelled ({})", unlock_hint());
    }
    format!("the keyring failed: {chain}")
}

/// How to unlock this OS's keyring.
fn unlock_hint() -> &'static str {
    if cfg!(target_os = "macos") {
        "unlock the login keychain in Keychain Access and allow SSE Tray"
    } else if cfg!(windows) {
        "sign in to Windows again and retry"
    } else {
        "unlock it in your keyring app, e.g. Passwords and Keys, or by logging in to the desktop"
    }
}

/// Why a subscription's credential could not be put together. The texts say what to do; none
/// contains the secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    /// The subscription needs a secret from the keyring and none is saved there (or an empty one).
    #[error("no {what} saved for subscription `{subscription}` — open Settings and enter it")]
    Missing {
        /// The subscription.
        subscription: SubscriptionId,
        /// "token", "password" or "value for header `X-Api-Key`".
        what: String,
    },
    /// The keyring could not be read (not running, locked, access refused).
    #[error(
        "the keyring is unavailable, so the secret of `{subscription}` cannot be read: {reason}"
    )]
    KeyringUnavailable {
        /// The subscription.
        subscription: SubscriptionId,
        /// Why, in plain words (see [`KeyringStatus::Unavailable`]).
        reason: String,
    },
    /// The secret cannot be sent in an HTTP header.
    #[error(
        "the {what} of subscription `{subscription}` contains a newline or another control \
         character, which an HTTP header cannot carry — open Settings and enter it again"
    )]
    InvalidValue {
        /// The subscription.
        subscription: SubscriptionId,
        /// "token", "password" or "value for header `X-Api-Key`".
        what: String,
    },
}

impl CredentialError {
    /// Whether trying again later may succeed without the person changing anything (a keyring
    /// that is still starting or gets unlocked); a missing or invalid secret needs Settings.
    pub fn is_retryable(&self) -> bool {
        matches!(self, CredentialError::KeyringUnavailable { .. })
    }
}

/// The copy of `spec` the engine runs: its credential header (`Authorization: Bearer …`,
/// `Authorization: Basic base64(user:password)`, or `<name>: <secret>`) added to `headers`, the
/// secret read from `store` or, when the person opted in, from the config itself. A subscription
/// without auth comes back unchanged and the keyring is not touched. Blocks while reading the
/// keyring (see the module docs).
///
/// The result holds the secret beside the subscription, in a [`ConnectionSpec`] that nothing
/// saves: it cannot reach `config.toml` (its `Debug` redacts the values).
pub fn with_credentials(
    spec: &SubscriptionConfig,
    store: &SecretStore,
) -> Result<ConnectionSpec, CredentialError> {
    let (location, what) = match &spec.auth {
        Auth::None => return Ok(spec.into()),
        Auth::Bearer { secret } => (secret, "token".to_owned()),
        Auth::Basic { secret, .. } => (secret, "password".to_owned()),
        Auth::Header { name, secret } => (secret, format!("value for header `{name}`")),
    };
    let secret = match location {
        SecretLocation::Plaintext(secret) => secret.clone(),
        SecretLocation::Keyring => match store.get(&spec.id) {
            Ok(Some(secret)) => secret,
            Ok(None) => String::new(),
            Err(Error::Keyring { reason, .. }) => {
                return Err(CredentialError::KeyringUnavailable {
                    subscription: spec.id.clone(),
                    reason,
                });
            }
            Err(other) => {
                return Err(CredentialError::KeyringUnavailable {
                    subscription: spec.id.clone(),
                    reason: other.to_string(),
                });
            }
        },
    };
    if secret.is_empty() {
        return Err(CredentialError::Missing {
            subscription: spec.id.clone(),
            what,
        });
    }
    let invalid = || CredentialError::InvalidValue {
        subscription: spec.id.clone(),
        what: what.clone(),
    };
    let (name, value) = match &spec.auth {
        Auth::Bearer { .. } => ("Authorization", format!("Bearer {secret}")),
        Auth::Basic { username, .. } => {
            // Base64 would carry any byte, but a control character in a password is a paste
            // accident far more often than a real password.
            if secret.chars().any(char::is_control) {
                return Err(invalid());
            }
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{secret}"));
            ("Authorization", format!("Basic {encoded}"))
        }
        Auth::Header { name, .. } => (name.as_str(), secret),
        Auth::None => return Ok(spec.into()),
    };
    http::HeaderValue::from_str(&value).map_err(|_| invalid())?;
    Ok(ConnectionSpec::new(
        spec.clone(),
        vec![(name.to_owned(), value)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(auth: Auth) -> SubscriptionConfig {
        let mut spec = SubscriptionConfig::adhoc("https://ci.example.com/events", Some("ci"))
            .expect("valid ad-hoc subscription");
        spec.headers = vec![("X-Other".into(), "1".into())];
        spec.auth = auth;
        spec
    }

    fn headers(spec: &ConnectionSpec) -> Vec<(&str, &str)> {
        spec.headers().collect()
    }

    /// A store whose service nobody uses: the plain-text tests must never reach it.
    fn untouched_store() -> SecretStore {
        SecretStore::with_service("sse-tray-unit-test-never-used")
    }

    #[test]
    fn plaintext_secrets_become_the_right_header_without_the_keyring() {
        let store = untouched_store();
        let bearer = spec(Auth::Bearer {
            secret: SecretLocation::Plaintext("tok-123".into()),
        });
        let out = with_credentials(&bearer, &store).expect("bearer");
        assert_eq!(
            headers(&out),
            vec![("X-Other", "1"), ("Authorization", "Bearer tok-123")]
        );
        assert_eq!(
            out.subscription(),
            &bearer,
            "the secret stays out of the saved part"
        );
        let basic = spec(Auth::Basic {
            username: "Aladdin".into(),
            secret: SecretLocation::Plaintext("open sesame".into()),
        });
        let out = with_credentials(&basic, &store).expect("basic");
        // RFC 7617's example.
        assert!(headers(&out).contains(&("Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")));
        let header = spec(Auth::Header {
            name: "X-Api-Key".into(),
            secret: SecretLocation::Plaintext("k".into()),
        });
        let out = with_credentials(&header, &store).expect("header");
        assert!(headers(&out).contains(&("X-Api-Key", "k")));
        assert_eq!(format!("{store:?}"), format!("{:?}", untouched_store()));
        assert!(!format!("{store:?}").contains("connected: true"));
    }

    #[test]
    fn no_auth_is_returned_unchanged() {
        let plain = spec(Auth::None);
        assert_eq!(
            with_credentials(&plain, &untouched_store()),
            Ok(ConnectionSpec::from(plain))
        );
    }

    #[test]
    fn a_header_the_auth_sets_replaces_one_of_the_same_name() {
        let mut s = spec(Auth::Header {
            name: "x-other".into(),
            secret: SecretLocation::Plaintext("new".into()),
        });
        s.headers
            .push(("Accept".into(), "text/event-stream".into()));
        let out = with_credentials(&s, &untouched_store()).expect("header");
        assert_eq!(
            headers(&out),
            vec![("Accept", "text/event-stream"), ("x-other", "new")]
        );
    }

    #[test]
    fn control_characters_are_refused_without_quoting_the_secret() {
        for auth in [
            Auth::Bearer {
                secret: SecretLocation::Plaintext("hunter2\r\nX-Evil: 1".into()),
            },
            Auth::Basic {
                username: "u".into(),
                secret: SecretLocation::Plaintext("hunter2\n".into()),
            },
            Auth::Header {
                name: "X-Key".into(),
                secret: SecretLocation::Plaintext("hunter2\u{7f}".into()),
            },
        ] {
            let err = with_credentials(&spec(auth), &untouched_store()).expect_err("refused");
            assert!(
                matches!(err, CredentialError::InvalidValue { .. }),
                "{err:?}"
            );
            assert!(!err.is_retryable());
            assert!(err.to_string().contains("`ci`"), "{err}");
            for text in [err.to_string(), format!("{err:?}")] {
                assert!(!text.contains("hunter2"), "{text}");
            }
        }
    }

    #[test]
    fn platform_failures_read_as_advice() {
        let unknown = "zbus error: org.freedesktop.DBus.Error.ServiceUnknown: The name \
                       org.freedesktop.secrets was not provided by any .service files";
        assert_eq!(describe_platform_failure(unknown), NO_SECRET_SERVICE);
        let gone = "zbus error: Failed to connect to address `unix:path=/x/bus`: No such file";
        assert!(describe_platform_failure(gone).contains("session bus"));
        let odd = describe_platform_failure("zbus error: I/O error: broken pipe");
        assert!(odd.starts_with("the keyring failed: "), "{odd}");
        assert!(odd.contains("broken pipe"), "{odd}");
        let locked = describe(&keyring_core::Error::NoStorageAccess(Box::new(
            std::io::Error::other("locked"),
        )));
        assert!(locked.contains("locked"), "{locked}");
        let bytes = describe(&keyring_core::Error::BadEncoding(b"hunter2\xff".to_vec()));
        assert!(
            !bytes.contains("hunter2") && !bytes.contains("104"),
            "{bytes}"
        );
    }

    #[test]
    fn status_serializes_for_the_settings_window() {
        let status = KeyringStatus::Unavailable {
            reason: "why".into(),
        };
        assert_eq!(
            serde_json::to_string(&status).expect("json"),
            r#"{"status":"unavailable","reason":"why"}"#
        );
    }
}
