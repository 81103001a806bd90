//! What the app creates is private (Unix): history with its `-wal` / `-shm` files, the resume
//! state and the config are 0600 in 0700 directories, whatever the umask allows; files and
//! directories that already exist keep the permissions a person gave them.
#![cfg(unix)]

use sse_tray::config;
use sse_tray::history::HistoryStore;
use sse_tray::paths::AppPaths;
use sse_tray::resume_state::ResumeStore;
use sse_tray::{ReceivedEvent, SubscriptionId};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn config_with_one_subscription() -> config::Config {
    config::parse_str("[[subscription]]\nid = \"a\"\nurl = \"https://x/\"\n").expect("valid config")
}

#[test]
fn history_state_and_config_are_created_private() {
    let root = TempDir::new().unwrap();
    let paths = AppPaths::under(root.path().join("profile"));

    let history = paths.history_file();
    let mut store = HistoryStore::open(&history).unwrap();
    store
        .insert_batch(&[ReceivedEvent {
            subscription: SubscriptionId::new("a"),
            id: Some("1".into()),
            last_event_id: "1".into(),
            event_type: "t".into(),
            data: "secret-ish".into(),
            received_at: 1,
        }])
        .unwrap();
    // The store is open and has written: its WAL and shared-memory files exist now.
    assert_eq!(mode(&paths.data_dir), 0o700, "data dir");
    assert_eq!(mode(&root.path().join("profile")), 0o700, "created parent");
    assert_eq!(mode(&history), 0o600, "history.sqlite3");
    assert_eq!(mode(&with_suffix(&history, "-wal")), 0o600, "-wal");
    assert_eq!(mode(&with_suffix(&history, "-shm")), 0o600, "-shm");
    drop(store);

    let (mut resume, _) = ResumeStore::open(paths.state_file()).unwrap();
    resume.update(&SubscriptionId::new("a"), |s| {
        s.last_event_id = Some("1".into())
    });
    resume.flush().unwrap();
    assert_eq!(mode(&paths.config_dir), 0o700, "config dir");
    assert_eq!(mode(&paths.state_file()), 0o600, "state.json");

    config::save(&paths, &config_with_one_subscription()).unwrap();
    assert_eq!(mode(&paths.config_file()), 0o600, "config.toml");
}

#[test]
fn existing_files_and_directories_keep_their_permissions() {
    let root = TempDir::new().unwrap();
    let paths = AppPaths::under(root.path());
    for dir in [&paths.config_dir, &paths.data_dir] {
        fs::create_dir(dir).unwrap();
        fs::set_permissions(dir, fs::Permissions::from_mode(0o750)).unwrap();
    }
    fs::write(paths.config_file(), "").unwrap();
    fs::set_permissions(paths.config_file(), fs::Permissions::from_mode(0o640)).unwrap();

    config::save(&paths, &config_with_one_subscription()).unwrap();
    assert_eq!(
        mode(&paths.config_file()),
        0o640,
        "a chosen mode survives a save"
    );
    assert_eq!(mode(&paths.config_dir), 0o750);

    // A history file from an older build (or copied in by hand) is opened as it is.
    let history = paths.history_file();
    fs::write(&history, "").unwrap();
    fs::set_permissions(&history, fs::Permissions::from_mode(0o640)).unwrap();
    let store = HistoryStore::open(&history).unwrap();
    assert_eq!(store.total_count(None).unwrap(), 0);
    assert_eq!(mode(&history), 0o640);
    assert_eq!(mode(&paths.data_dir), 0o750);
}
