//! The service against real files in a temp dir and a real (inotify) watcher.

use super::*;
use crate::config::SubscriptionConfig;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Long enough for a loaded 2-core machine; a passing test never waits this long.
const PATIENCE: Duration = Duration::from_secs(10);

fn config_text(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| {
            format!("[[subscription]]\nid = \"{id}\"\nurl = \"https://ci.example.com/{id}\"\n")
        })
        .collect()
}

fn sub(id: &str) -> SubscriptionConfig {
    SubscriptionConfig::adhoc(&format!("https://ci.example.com/{id}"), Some(id)).unwrap()
}

fn ids(config: &Config) -> Vec<&str> {
    config.subscriptions.iter().map(|s| s.id.as_str()).collect()
}

fn on_disk(service: &ConfigService) -> Vec<String> {
    config::load_file(service.path())
        .unwrap()
        .config
        .subscriptions
        .iter()
        .map(|s| s.id.to_string())
        .collect()
}

/// A change that adds subscription `id`.
fn add(id: &str) -> impl FnOnce(&Config) -> Result<Config> + '_ {
    move |current| {
        let mut next = current.clone();
        next.subscriptions.push(sub(id));
        Ok(next)
    }
}

fn quick() -> WatchSettings {
    WatchSettings {
        debounce: Duration::from_millis(50),
        ..WatchSettings::default()
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    path: PathBuf,
    service: ConfigService,
    changes: mpsc::Receiver<ConfigChange>,
}

fn setup_with(initial: &[&str], watching: Watching) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config_text(initial)).unwrap();
    let service = ConfigService::open_with(path.clone(), watching).unwrap();
    let changes = service.subscribe();
    Setup {
        _dir: dir,
        path,
        service,
        changes,
    }
}

fn setup(initial: &[&str]) -> Setup {
    let s = setup_with(initial, Watching::Watch(quick()));
    assert_eq!(s.service.watch_mode(), Some(WatchMode::Events));
    s
}

fn next_change(changes: &mpsc::Receiver<ConfigChange>) -> ConfigChange {
    changes
        .recv_timeout(PATIENCE)
        .expect("a change was announced")
}

/// Waits until the watcher has read the file `n` times, then a little longer so a late report
/// would have arrived, and asserts that nothing more was announced.
fn assert_quiet_after_checks(s: &Setup, n: u64) {
    let watcher = s.service.watcher.as_ref().expect("watching");
    let deadline = Instant::now() + PATIENCE;
    while watcher.checks() < n {
        assert!(
            Instant::now() < deadline,
            "the watcher never looked at the file"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    if let Ok(change) = s.changes.try_recv() {
        panic!("expected no more changes, got {change:?}");
    }
}

fn assert_stale(error: &Error, base: u64, now: u64) {
    match error {
        Error::ConfigStale { base: b, current } => assert_eq!((*b, *current), (base, now)),
        other => panic!("expected ConfigStale, got {other:?}"),
    }
    assert!(
        error
            .to_string()
            .contains("changed elsewhere \u{2014} reload"),
        "{error}"
    );
    assert!(!error.is_retryable());
}

#[test]
fn two_concurrent_saves_from_one_revision_one_wins_and_the_other_is_told_to_reload() {
    let s = setup(&["a"]);
    let base = s.service.revision();
    let barrier = Barrier::new(2);
    let (left, right) = std::thread::scope(|scope| {
        let save = |id: &'static str| {
            let (service, barrier) = (&s.service, &barrier);
            scope.spawn(move || {
                barrier.wait();
                service.save(base, add(id))
            })
        };
        let (left, right) = (save("left"), save("right"));
        (left.join().unwrap(), right.join().unwrap())
    });
    let (won, lost, loser) = match (left, right) {
        (Ok(won), Err(lost)) => (won, lost, "right"),
        (Err(lost), Ok(won)) => (won, lost, "left"),
        other => panic!("exactly one save must win: {other:?}"),
    };
    assert_eq!(won.revision, base + 1);
    assert_stale(&lost, base, base + 1);
    assert_eq!(on_disk(&s.service).len(), 2, "the winner is on disk");
    assert!(!on_disk(&s.service).contains(&loser.to_owned()));

    // The loser reloads and saves again: both changes are kept.
    let fresh = s.service.snapshot();
    let again = s.service.save(fresh.revision, add(loser)).unwrap();
    assert_eq!(again.revision, base + 2);
    let mut kept = on_disk(&s.service);
    kept.sort();
    assert_eq!(kept, ["a", "left", "right"]);
    assert_eq!(next_change(&s.changes).snapshot.revision, base + 1);
    assert_eq!(next_change(&s.changes).snapshot.revision, base + 2);
}

#[test]
fn a_save_racing_a_hand_edit_is_refused_and_the_edit_is_kept() {
    // A debounce far longer than the test: the save itself must notice the edit on disk.
    let s = setup_with(
        &["a"],
        Watching::Watch(WatchSettings {
            debounce: Duration::from_secs(60),
            max_delay: Duration::from_secs(60),
            ..WatchSettings::default()
        }),
    );
    let base = s.service.revision();
    // The editor saves by renaming a temp file over the original, as many do.
    let temp = s.path.with_file_name(".config.toml.swp");
    std::fs::write(&temp, config_text(&["a", "by-hand"])).unwrap();
    std::fs::rename(&temp, &s.path).unwrap();

    let refused = s.service.save(base, add("from-window")).unwrap_err();
    assert_stale(&refused, base, base + 1);
    assert_eq!(on_disk(&s.service), ["a", "by-hand"], "the hand edit stays");
    let change = next_change(&s.changes);
    assert_eq!(change.cause, ChangeCause::File);
    assert_eq!(ids(&change.snapshot.config), ["a", "by-hand"]);

    // Redone on the fresh revision, the window's change joins the hand edit.
    let saved = s.service.save(base + 1, add("from-window")).unwrap();
    assert_eq!(ids(&saved.config), ["a", "by-hand", "from-window"]);
    assert_eq!(on_disk(&s.service), ["a", "by-hand", "from-window"]);
}

#[test]
fn a_hand_edit_reported_by_the_watcher_makes_an_older_save_stale() {
    let s = setup(&["a"]);
    let base = s.service.revision();
    std::fs::write(&s.path, config_text(&["a", "by-hand"])).unwrap();
    let change = next_change(&s.changes);
    assert_eq!(
        (change.cause, change.snapshot.revision),
        (ChangeCause::File, base + 1)
    );
    assert_stale(
        &s.service.save(base, add("late")).unwrap_err(),
        base,
        base + 1,
    );
    assert_eq!(on_disk(&s.service), ["a", "by-hand"]);
}

#[test]
fn the_apps_own_save_is_announced_once_and_never_again_by_the_watcher() {
    let s = setup(&["a"]);
    let saved = s.service.save(1, add("b")).unwrap();
    assert_eq!(saved.revision, 2);
    let change = next_change(&s.changes);
    assert_eq!(
        (change.cause, change.snapshot.revision),
        (ChangeCause::Saved, 2)
    );
    // The write produced file events; the watcher reads the file and nothing more is announced.
    assert_quiet_after_checks(&s, 1);
    assert_eq!(s.service.revision(), 2);
    // Saving the same configuration still counts (secrets live outside the file).
    let same = s.service.save(2, |c| Ok::<_, Error>(c.clone())).unwrap();
    assert_eq!(same.revision, 3);
    assert_eq!(next_change(&s.changes).cause, ChangeCause::Saved);
}

#[test]
fn an_edit_between_watch_start_and_load_is_loaded_and_not_applied_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config_text(&["before"])).unwrap();
    let service = ConfigService::open_between(path.clone(), Watching::Watch(quick()), || {
        std::fs::write(&path, config_text(&["during-startup"])).unwrap();
    })
    .unwrap();
    let changes = service.subscribe();
    let snapshot = service.snapshot();
    assert_eq!(ids(&snapshot.config), ["during-startup"]);
    assert_eq!(snapshot.revision, 1);
    let s = Setup {
        _dir: dir,
        path,
        service,
        changes,
    };
    // The watcher saw the write and read the file; the service already has it.
    assert_quiet_after_checks(&s, 1);
    assert_eq!(s.service.revision(), 1);
}

#[test]
fn an_edit_right_after_open_is_seen() {
    let s = setup(&["a"]);
    std::fs::write(&s.path, config_text(&["b"])).unwrap();
    let change = next_change(&s.changes);
    assert_eq!(ids(&change.snapshot.config), ["b"]);
    assert_eq!(s.service.revision(), 2);
}

#[test]
fn an_invalid_hand_edit_keeps_the_last_good_config_and_a_save_keeps_the_edit_aside() {
    let s = setup(&["a"]);
    let bad = format!(
        "{}[[subscription]]\nid = \"typo\"\nurl = \"htp://b/\"\n",
        config_text(&["a"])
    );
    std::fs::write(&s.path, &bad).unwrap();
    let change = next_change(&s.changes);
    assert_eq!(
        ids(&change.snapshot.config),
        ["a"],
        "the last good config runs"
    );
    let problem = change.snapshot.problem.expect("the error is reported");
    assert_eq!(problem.key, "subscription[1].url");
    assert_eq!(s.service.problem(), Some(problem));

    let saved = s.service.save(2, add("b")).unwrap();
    assert_eq!(saved.problem, None);
    assert_eq!(on_disk(&s.service), ["a", "b"]);
    let kept: Vec<_> = std::fs::read_dir(s.path.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("config.toml.rejected-")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read_to_string(kept[0].path()).unwrap(), bad);
    // A valid file is simply replaced: no second copy.
    s.service.save(3, add("c")).unwrap();
    assert_eq!(
        std::fs::read_dir(s.path.parent().unwrap()).unwrap().count(),
        2
    );
}

#[test]
fn an_edit_that_loads_to_the_same_config_bumps_nothing() {
    let s = setup(&["a"]);
    std::fs::write(&s.path, format!("# a comment\n{}", config_text(&["a"]))).unwrap();
    assert_quiet_after_checks(&s, 1);
    assert_eq!(s.service.revision(), 1);
    // And a save from revision 1 is still current.
    assert_eq!(s.service.save(1, add("b")).unwrap().revision, 2);
}

#[test]
fn a_failed_change_or_write_changes_nothing() {
    let s = setup_with(&["a"], Watching::Off);
    let refused: Result<ConfigSnapshot> = s.service.save(1, |_| {
        Err(Error::ConfigInvalid {
            key: "url".into(),
            reason: "no".into(),
        })
    });
    assert!(matches!(refused, Err(Error::ConfigInvalid { .. })));
    // A duplicate id does not serialize: refused before anything is written.
    let duplicate = s.service.save(1, add("a")).unwrap_err();
    assert!(
        matches!(duplicate, Error::ConfigInvalid { .. }),
        "{duplicate}"
    );
    assert_eq!(s.service.revision(), 1);
    assert_eq!(on_disk(&s.service), ["a"]);
    assert!(s.changes.try_recv().is_err());
}

#[test]
fn unwatched_saves_still_notice_hand_edits() {
    let s = setup_with(&["a"], Watching::Off);
    assert_eq!(s.service.watch_mode(), None);
    std::fs::write(&s.path, config_text(&["a", "by-hand"])).unwrap();
    assert_stale(&s.service.save(1, add("b")).unwrap_err(), 1, 2);
    assert_eq!(s.service.save(2, add("b")).unwrap().revision, 3);
    assert_eq!(on_disk(&s.service), ["a", "by-hand", "b"]);
}

#[test]
fn opening_an_invalid_or_unreadable_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    // Invalid values: nothing configured, the problem named, the file left alone.
    std::fs::write(&path, "[[subscription]]\nid = \"x\"\nurl = \"ftp://h/\"\n").unwrap();
    let service = ConfigService::open_with(path.clone(), Watching::Off).unwrap();
    let snapshot = service.snapshot();
    assert!(snapshot.config.subscriptions.is_empty());
    assert_eq!(snapshot.problem.unwrap().key, "subscription[0].url");
    assert!(service.set_aside_at_open().is_none() && path.exists());

    // Not TOML at all: moved aside at startup, and the next save does not count it as an edit.
    std::fs::write(&path, "[[subscription]\n").unwrap();
    let service = ConfigService::open_with(path.clone(), Watching::Off).unwrap();
    let aside = service.set_aside_at_open().expect("set aside").clone();
    assert!(aside.path.exists() && !path.exists());
    assert!(aside.reason.contains("line 1"), "{}", aside.reason);
    assert_eq!(service.save(1, add("a")).unwrap().revision, 2);

    // A directory where the file should be: an error, not a silent empty config.
    let blocked = dir.path().join("blocked.toml");
    std::fs::create_dir(&blocked).unwrap();
    assert!(matches!(
        ConfigService::open(blocked),
        Err(Error::Io { .. })
    ));
}

#[test]
fn readers_do_not_wait_for_a_save_in_progress() {
    let s = setup_with(&["a"], Watching::Off);
    let (entered_tx, entered) = mpsc::channel();
    let (release_tx, release) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let saving = scope.spawn(|| {
            s.service.save(1, move |current| {
                entered_tx.send(()).unwrap();
                // Like a keyring waiting for the person to unlock it.
                release.recv().unwrap();
                add("b")(current)
            })
        });
        entered.recv_timeout(PATIENCE).unwrap();
        let (read_tx, read) = mpsc::channel();
        let service = &s.service;
        scope.spawn(move || {
            let _ = read_tx.send((service.snapshot().revision, service.problem()));
        });
        let seen = read.recv_timeout(Duration::from_secs(2));
        release_tx.send(()).unwrap();
        assert_eq!(seen.expect("a reader waited for the save"), (1, None));
        assert_eq!(saving.join().unwrap().unwrap().revision, 2);
    });
    assert_eq!(s.service.snapshot().revision, 2);
}
