//! Subscription secrets against a real Secret Service: `gnome-keyring-daemon`, started by the test
//! with its home, data and runtime directories in a temp dir (so no real keyring is read or
//! written) and unlocked with a throwaway password.
//!
//! Run under a private bus: `dbus-run-session -- cargo test --test secrets`. Without a session
//! bus the test fails on purpose (it never skips). Needs `gnome-keyring` and `dbus-bin` (for
//! `dbus-daemon` and `dbus-send`) installed.
//!
//! The "no Secret Service" cases need a bus where the keyring is *not* D-Bus-activatable (the
//! `dbus-run-session` bus would start the system's gnome-keyring on first use, with the real
//! home directory): they run in a child process of this test binary, on a `dbus-daemon` of the
//! test's own with no service directories.

#![cfg(all(unix, not(target_os = "macos")))]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sse_tray::config::{Auth, SecretLocation, SubscriptionConfig};
use sse_tray::config_service::{ConfigService, Watching};
use sse_tray::engine::ConnectionSpec;
use sse_tray::secrets::{CredentialError, KeyringStatus, SecretStore, with_credentials};
use sse_tray::settings::{AuthForm, SettingsEditor, SubscriptionForm};
use sse_tray::{Error, SubscriptionId};
use tempfile::TempDir;

const NEEDS_BUS: &str = "tests/secrets.rs needs a private D-Bus session bus: run it as \
                         `dbus-run-session -- cargo test --test secrets` (scripts/test.sh does)";

/// The env var that tells the helper test which scenario to play (set by the parent only).
const SCENARIO: &str = "SSE_TRAY_SECRETS_SCENARIO";

/// Set by `scripts/with-keyring.sh` when it started a throwaway keyring on this bus.
const SCRIPT_KEYRING: &str = "SSE_TRAY_TEST_KEYRING";

/// A `gnome-keyring-daemon` serving `org.freedesktop.secrets` on the current session bus, its
/// `login` collection created and unlocked in a temp dir. Killed on drop (`None`: the
/// throwaway keyring of `scripts/with-keyring.sh`, left running).
struct GnomeKeyring(Option<(Child, TempDir)>);

impl GnomeKeyring {
    fn start() -> Self {
        assert!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "{NEEDS_BUS}"
        );
        if secret_service_on_bus() {
            // `--replace` below would take over a desktop's own keyring daemon: only a keyring
            // the script started for tests may be used as it is.
            assert!(
                std::env::var_os(SCRIPT_KEYRING).is_some(),
                "a Secret Service already runs on this session bus (your desktop's?); {NEEDS_BUS}"
            );
            return GnomeKeyring(None);
        }
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "data", "runtime"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let stderr = std::fs::File::create(dir.path().join("daemon.log")).unwrap();
        let mut child = Command::new("gnome-keyring-daemon")
            .args([
                "--foreground",
                "--replace",
                "--unlock",
                "--components=secrets",
            ])
            .env("HOME", dir.path().join("home"))
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", dir.path().join("runtime"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run gnome-keyring-daemon ({e}): apt-get install gnome-keyring")
            });
        // The password of the new `login` collection; EOF ends it.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"throwaway-test-password").unwrap();
        drop(stdin);
        let keyring = GnomeKeyring(Some((child, dir)));
        let deadline = Instant::now() + Duration::from_secs(15);
        while !secret_service_on_bus() {
            assert!(
                Instant::now() < deadline,
                "org.freedesktop.secrets did not appear on the bus within 15 s; daemon log:\n{}",
                keyring.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        keyring
    }

    fn log(&self) -> String {
        self.0
            .as_ref()
            .and_then(|(_, dir)| std::fs::read_to_string(dir.path().join("daemon.log")).ok())
            .unwrap_or_default()
    }
}

impl Drop for GnomeKeyring {
    fn drop(&mut self) {
        if let Some((child, _)) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether `org.freedesktop.secrets` has an owner on the session bus (asking the bus itself, so
/// nothing gets activated).
fn secret_service_on_bus() -> bool {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .expect("dbus-send (package dbus-bin) must be installed");
    assert!(
        out.status.success(),
        "dbus-send failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).contains("boolean true")
}

/// A service name no other test run (nor the real app) uses.
fn test_store() -> SecretStore {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    SecretStore::with_service(format!("sse-tray-test-{}-{nanos}", std::process::id()))
}

fn subscription(id: &str, auth: Auth) -> SubscriptionConfig {
    let mut spec =
        SubscriptionConfig::adhoc("https://events.example.com/stream", Some(id)).unwrap();
    assert_eq!(spec.id.as_str(), id);
    spec.headers = vec![("Accept-Language".into(), "en".into())];
    spec.auth = auth;
    spec
}

fn header<'a>(spec: &'a ConnectionSpec, name: &str) -> Option<&'a str> {
    spec.headers()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Asserts that none of `texts` contains `secret`.
fn assert_secret_absent(secret: &str, texts: &[String]) {
    for text in texts {
        assert!(!text.contains(secret), "the secret leaked into: {text}");
    }
}

#[test]
fn secrets_round_trip_and_become_headers_on_a_real_secret_service() {
    let _keyring = GnomeKeyring::start();
    let store = test_store();
    assert_eq!(store.availability(), KeyringStatus::Available);

    // set / get / replace / delete.
    let id = SubscriptionId::new("round-trip");
    assert_eq!(store.get(&id).unwrap(), None);
    store.set(&id, "first-sécret 🔑").unwrap();
    assert_eq!(store.get(&id).unwrap().as_deref(), Some("first-sécret 🔑"));
    store.set(&id, "second-secret").unwrap();
    // Replaced in place: a duplicate item would make the read ambiguous and fail.
    assert_eq!(store.get(&id).unwrap().as_deref(), Some("second-secret"));
    // Another service (another profile, the real app) sees nothing of it.
    assert_eq!(test_store().get(&id).unwrap(), None);
    assert_eq!(
        SecretStore::with_service("sse-tray-test-other")
            .get(&id)
            .unwrap(),
        None
    );
    store.delete(&id).unwrap();
    assert_eq!(store.get(&id).unwrap(), None);
    store.delete(&id).unwrap(); // absent is fine

    // The credential header of each kind, its secret read from the keyring.
    let token = "tok-3f9a7c";
    let password = "pa55:w0rd with spaces";
    let api_key = "key-71be";
    store.set(&SubscriptionId::new("bearer"), token).unwrap();
    store.set(&SubscriptionId::new("basic"), password).unwrap();
    store.set(&SubscriptionId::new("header"), api_key).unwrap();
    let keyring = || SecretLocation::Keyring;
    let bearer = subscription("bearer", Auth::Bearer { secret: keyring() });
    let basic = subscription(
        "basic",
        Auth::Basic {
            username: "alice".into(),
            secret: keyring(),
        },
    );
    let custom = subscription(
        "header",
        Auth::Header {
            name: "X-Api-Key".into(),
            secret: keyring(),
        },
    );
    let bearer_run = with_credentials(&bearer, &store).unwrap();
    assert_eq!(
        header(&bearer_run, "authorization"),
        Some("Bearer tok-3f9a7c")
    );
    let basic_run = with_credentials(&basic, &store).unwrap();
    // base64("alice:pa55:w0rd with spaces"), computed independently.
    assert_eq!(
        header(&basic_run, "authorization"),
        Some("Basic YWxpY2U6cGE1NTp3MHJkIHdpdGggc3BhY2Vz")
    );
    let custom_run = with_credentials(&custom, &store).unwrap();
    assert_eq!(header(&custom_run, "x-api-key"), Some(api_key));
    for run in [&bearer_run, &basic_run, &custom_run] {
        // The configured headers are kept beside the credential.
        assert_eq!(header(run, "accept-language"), Some("en"));
        assert_eq!(run.headers().count(), 2);
        // The saved part is the spec the config holds, untouched: the secret lives beside it.
        assert!(
            run.subscription()
                .headers
                .iter()
                .all(|(name, _)| name == "Accept-Language")
        );
    }
    assert!(
        bearer
            .headers
            .iter()
            .all(|(name, _)| name != "Authorization")
    );

    // A secret saved nowhere: the error says what is missing and what to do.
    let nothing = subscription("nothing-saved", Auth::Bearer { secret: keyring() });
    let err = with_credentials(&nothing, &store).unwrap_err();
    assert!(matches!(err, CredentialError::Missing { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "no token saved for subscription `nothing-saved` — open Settings and enter it"
    );
    let nothing_basic = subscription(
        "nothing-saved",
        Auth::Basic {
            username: "bob".into(),
            secret: keyring(),
        },
    );
    let err_basic = with_credentials(&nothing_basic, &store).unwrap_err();
    assert!(
        err_basic.to_string().starts_with("no password saved"),
        "{err_basic}"
    );
    // An empty secret is as good as none.
    store
        .set(&SubscriptionId::new("nothing-saved"), "")
        .unwrap();
    let err_empty = with_credentials(&nothing, &store).unwrap_err();
    assert!(
        matches!(err_empty, CredentialError::Missing { .. }),
        "{err_empty:?}"
    );

    // A saved secret that cannot go in a header is refused without being quoted.
    let injected = "tok-inject\r\nX-Evil: 1";
    store.set(&SubscriptionId::new("bearer"), injected).unwrap();
    let err_injected = with_credentials(&bearer, &store).unwrap_err();
    assert!(
        matches!(err_injected, CredentialError::InvalidValue { .. }),
        "{err_injected:?}"
    );

    // No secret in any Debug output or error text.
    let texts = vec![
        format!("{store:?}"),
        format!("{bearer_run:?}"),
        format!("{basic_run:?}"),
        format!("{custom_run:?}"),
        format!("{:?}", basic_run.subscription().auth),
        format!("{err:?}"),
        err.to_string(),
        format!("{err_injected:?}"),
        err_injected.to_string(),
    ];
    for secret in [token, password, api_key, "tok-inject", "YWxpY2U6"] {
        assert_secret_absent(secret, &texts);
    }

    for id in ["bearer", "basic", "header", "nothing-saved"] {
        store.delete(&SubscriptionId::new(id)).unwrap();
        assert_eq!(store.get(&SubscriptionId::new(id)).unwrap(), None);
    }
}

/// A `dbus-daemon` of the test's own, with no service directories: nothing can be activated on it.
struct PrivateBus {
    child: Child,
    address: String,
    _dir: TempDir,
}

impl PrivateBus {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, bus_config(dir.path())).unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus-bin) must be installed");
        let mut address = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_owned();
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon printed {address:?}"
        );
        PrivateBus {
            child,
            address,
            _dir: dir,
        }
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bus_config(dir: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        dir.display()
    )
}

/// Runs [`scenario_in_child`] in a child process of this test binary with `env` applied (the
/// session bus address cannot be changed inside this process: `set_var` needs `unsafe`).
fn run_scenario(scenario: &str, env: &[(&str, &str)], remove: &[&str]) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["scenario_in_child", "--exact", "--ignored", "--nocapture"])
        .env(SCENARIO, scenario);
    for (key, value) in env {
        command.env(key, value);
    }
    for key in remove {
        command.env_remove(key);
    }
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "scenario {scenario:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn without_a_secret_service_everything_says_so_and_recovers_once_it_starts() {
    let bus = PrivateBus::start();
    run_scenario(
        "no-secret-service",
        &[("DBUS_SESSION_BUS_ADDRESS", &bus.address)],
        &[],
    );
}

#[test]
fn without_a_session_bus_availability_says_so() {
    let runtime = tempfile::tempdir().unwrap();
    let runtime = runtime.path().to_str().unwrap();
    run_scenario(
        "no-bus",
        &[("XDG_RUNTIME_DIR", runtime)],
        &["DBUS_SESSION_BUS_ADDRESS", "DISPLAY"],
    );
}

/// Not a test of its own: the other tests run it in a child process with the session bus
/// address they chose (see [`run_scenario`]).
#[test]
#[ignore = "run in a child process by the tests above"]
fn scenario_in_child() {
    let scenario = std::env::var(SCENARIO).unwrap_or_else(|_| {
        panic!("{SCENARIO} is not set: run the tests of tests/secrets.rs, which run this helper")
    });
    let store = test_store();
    let secret = "hunter2-never-shown";
    match scenario.as_str() {
        "no-secret-service" => {
            assert!(!secret_service_on_bus());
            let KeyringStatus::Unavailable { reason } = store.availability() else {
                panic!("available without a Secret Service");
            };
            assert_eq!(
                reason,
                "no Secret Service is running (install and unlock GNOME Keyring or KWallet)"
            );
            let id = SubscriptionId::new("ci");
            let err = store.set(&id, secret).unwrap_err();
            assert!(
                matches!(err, Error::Keyring { action: "save", .. }),
                "{err:?}"
            );
            assert!(err.is_retryable());
            assert_eq!(
                err.to_string(),
                format!("could not save the secret of `ci` in the OS keyring: {reason}")
            );
            let read = store.get(&id).unwrap_err();
            assert!(
                read.to_string()
                    .starts_with("could not read the secret of `ci`"),
                "{read}"
            );
            assert!(store.delete(&id).is_err());
            let spec = subscription(
                "ci",
                Auth::Bearer {
                    secret: SecretLocation::Keyring,
                },
            );
            let cred = with_credentials(&spec, &store).unwrap_err();
            assert!(cred.is_retryable());
            assert_eq!(
                cred.to_string(),
                format!(
                    "the keyring is unavailable, so the secret of `ci` cannot be read: {reason}"
                )
            );
            assert_secret_absent(
                secret,
                &[format!("{err:?}"), err.to_string(), format!("{store:?}")],
            );

            // The settings window refuses to keep the secret in the file without the opt-in…
            let dir = tempfile::tempdir().unwrap();
            let paths = sse_tray::paths::AppPaths::under(dir.path());
            let service = ConfigService::open_with(paths.config_file(), Watching::Off).unwrap();
            let editor = SettingsEditor::new(Arc::new(service), test_store());
            let mut form = SubscriptionForm {
                name: "Feed".into(),
                url: "https://feed.example.com/events".into(),
                enabled: true,
                auth: AuthForm {
                    kind: "bearer".into(),
                    secret: Some(secret.into()),
                    ..AuthForm::default()
                },
                ..SubscriptionForm::default()
            };
            let refused = editor.save_subscription(1, &form).unwrap_err();
            assert_eq!(refused.fields[0].field, "auth.secret", "{refused:?}");
            assert!(
                refused.message.contains("keyring is unavailable")
                    && refused.message.contains("plain text"),
                "{refused:?}"
            );
            assert!(
                !paths.config_file().exists(),
                "a refused save wrote the file"
            );
            // … and keeps it there once the person opts in.
            form.auth.plaintext = true;
            let (snapshot, saved) = editor.save_subscription(1, &form).unwrap();
            let text = std::fs::read_to_string(paths.config_file()).unwrap();
            assert!(text.contains("store = \"plaintext\"") && text.contains(secret));

            // The keyring starts later: the same store notices without a restart.
            let _keyring = GnomeKeyring::start();
            // Saving again without the opt-in moves the secret out of the file into the keyring.
            let mut moved = SubscriptionForm::from_config(&saved, true);
            moved.auth.plaintext = false;
            editor.save_subscription(snapshot.revision, &moved).unwrap();
            let text = std::fs::read_to_string(paths.config_file()).unwrap();
            assert!(
                !text.contains(secret) && text.contains("store = \"keyring\""),
                "{text}"
            );
            assert_eq!(
                editor.secrets().get(&saved.id).unwrap().as_deref(),
                Some(secret)
            );
            editor.secrets().delete(&saved.id).unwrap();
            assert_eq!(store.availability(), KeyringStatus::Available);
            store.set(&id, secret).unwrap();
            let run = with_credentials(&spec, &store).unwrap();
            assert_eq!(
                header(&run, "Authorization"),
                Some("Bearer hunter2-never-shown")
            );
            store.delete(&id).unwrap();
        }
        "no-bus" => {
            let KeyringStatus::Unavailable { reason } = store.availability() else {
                panic!("available without a session bus");
            };
            assert!(
                reason.starts_with("no D-Bus session bus was found"),
                "{reason}"
            );
            let err = store.get(&SubscriptionId::new("ci")).unwrap_err();
            assert!(err.to_string().contains(&reason), "{err}");
        }
        other => panic!("unknown scenario {other:?}"),
    }
}
