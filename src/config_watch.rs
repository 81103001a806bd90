//! Notices hand edits of `config.toml` while the app runs, so a person who prefers an editor to
//! the settings window does not have to restart anything.
//!
//! Editors save in many ways — in place, truncate then several writes, or a temp file renamed
//! over the original (which replaces the inode a file watch would hold) — so the *directory* is
//! watched (with the `notify` crate) and only events naming the file are kept. After a
//! quiet [`WatchSettings::debounce`] the file is read once and its content compared, by hash,
//! with the content last seen: a save that wrote the same bytes, a `touch`, or the app's own save
//! (announced with [`ConfigWatcher::note_own_write`]) is not reported. If the platform watch
//! cannot be set up, the file is polled instead.
//!
//! The watcher only notices; it never writes. The app's one writer of `config.toml` is
//! [`crate::config_service`], which starts a watcher and decides what a change means.
//!
//! What is reported differs from [`config::load_file`] on purpose in one case: a file that is not
//! TOML at all (a half-typed edit) is reported as [`Error::ConfigInvalid`] naming the line, and
//! left where it is — moving a file aside while the person's editor has it open would be rude, and
//! the app keeps running on its last good config as for any invalid edit. Bytes that are not UTF-8
//! are [`Error::Corrupt`]; a deleted file is an empty config, as at startup.
//!
//! Start the watcher *before* loading the config at startup: the content present when it starts
//! is the baseline (not reported), so an edit between the load and the start cannot be missed.

use crate::config::{self, Config, LoadedConfig};
use crate::{Error, Result};
use ::notify::event::{AccessKind, AccessMode};
use ::notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::ffi::OsString;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Timing of a [`ConfigWatcher`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchSettings {
    /// Quiet time after the last file event before the file is read (editors write in steps).
    pub debounce: Duration,
    /// Longest delay from the first event to the read, even if events keep coming.
    pub max_delay: Duration,
    /// How often the file is read when the platform watch is unavailable.
    pub poll_interval: Duration,
    /// Poll even if the platform watch would work (tests, network file systems).
    pub force_poll: bool,
}

impl Default for WatchSettings {
    fn default() -> Self {
        Self {
            debounce: Duration::from_millis(300),
            max_delay: Duration::from_secs(2),
            poll_interval: Duration::from_secs(2),
            force_poll: false,
        }
    }
}

/// How a [`ConfigWatcher`] learns of changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchMode {
    /// The platform's file events (inotify, FSEvents, ReadDirectoryChangesW).
    Events,
    /// Reading the file every so often: the platform watch failed or polling was asked for.
    Poll(Duration),
}

/// Watches one config file and calls back with the freshly loaded config after each real change.
/// Dropping it stops the watch and waits for the worker thread (unless dropped from within the
/// callback).
pub struct ConfigWatcher {
    path: PathBuf,
    shared: Arc<Shared>,
    mode: WatchMode,
    // Dropped first, so no more file events are queued once `drop` runs.
    watcher: Option<RecommendedWatcher>,
    wake: mpsc::Sender<Msg>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ConfigWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigWatcher")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// State the worker and the owner both touch.
struct Shared {
    /// Fingerprint of the content last reported, noted as our own, or seen at start.
    last: Mutex<u64>,
    /// Reads done so far (lets tests wait for "the watcher looked and stayed quiet").
    checks: AtomicU64,
}

impl Shared {
    fn last(&self) -> std::sync::MutexGuard<'_, u64> {
        // A plain number cannot be left half-updated: a poisoned lock is still good.
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

enum Msg {
    /// Something happened to the file (or the watch lost track): read it after the debounce.
    Touched,
    Stop,
}

impl ConfigWatcher {
    /// Starts watching `path` with [`WatchSettings::default`]. `on_change` runs on the watcher's
    /// own thread, once per real change of content, with what loading the new file gives.
    pub fn start(
        path: PathBuf,
        on_change: impl Fn(Result<LoadedConfig>) + Send + 'static,
    ) -> Result<ConfigWatcher> {
        Self::start_with(path, WatchSettings::default(), on_change)
    }

    /// [`start`](Self::start) with explicit timing. Fails only if the worker thread cannot be
    /// spawned; a platform watch that cannot be set up falls back to polling (see
    /// [`mode`](Self::mode)).
    pub fn start_with(
        path: PathBuf,
        settings: WatchSettings,
        on_change: impl Fn(Result<LoadedConfig>) + Send + 'static,
    ) -> Result<ConfigWatcher> {
        let shared = Arc::new(Shared {
            last: Mutex::new(read(&path).0),
            checks: AtomicU64::new(0),
        });
        let (wake, inbox) = mpsc::channel();
        let watcher = if settings.force_poll {
            None
        } else {
            match watch(&path, wake.clone()) {
                Ok(watcher) => Some(watcher),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e,
                        "cannot watch the config directory; polling the file instead");
                    None
                }
            }
        };
        let mode = match watcher {
            Some(_) => WatchMode::Events,
            None => WatchMode::Poll(settings.poll_interval),
        };
        let worker = Worker {
            path: path.clone(),
            shared: Arc::clone(&shared),
            settings,
            polling: watcher.is_none(),
            on_change,
        };
        let worker = std::thread::Builder::new()
            .name("config-watch".into())
            .spawn(move || worker.run(inbox))
            .map_err(|source| Error::Io {
                action: "starting a thread to watch",
                path: path.clone(),
                source,
            })?;
        Ok(ConfigWatcher {
            path,
            shared,
            mode,
            watcher,
            wake,
            worker: Some(worker),
        })
    }

    /// The file watched.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether file events or polling are in use.
    pub fn mode(&self) -> WatchMode {
        self.mode
    }

    /// Tells the watcher that the app itself is about to write `content` to the file, so that
    /// write is not reported back as a hand edit. Call it *before* writing. (If a hand edit lands
    /// in the moment between, the next differing content is reported as usual.)
    pub fn note_own_write(&self, content: &str) {
        *self.shared.last() = fingerprint_bytes(content.as_bytes());
    }

    /// Reads done so far (tests wait for "the watcher looked and stayed quiet").
    #[cfg(test)]
    pub(crate) fn checks(&self) -> u64 {
        self.shared.checks.load(Ordering::SeqCst)
    }
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        drop(self.watcher.take());
        // The worker may already be gone (it panicked in the callback): nothing to stop then.
        let _ = self.wake.send(Msg::Stop);
        if let Some(worker) = self.worker.take()
            && worker.thread().id() != std::thread::current().id()
        {
            let _ = worker.join();
        }
    }
}

/// Watches the directories holding `path` (and, for a symlink, its target) without recursion,
/// passing on events that name the file.
fn watch(path: &Path, wake: mpsc::Sender<Msg>) -> ::notify::Result<RecommendedWatcher> {
    let mut places = vec![path.to_path_buf()];
    if let Ok(target) = std::fs::canonicalize(path)
        && target != path
    {
        places.push(target);
    }
    let names: Vec<OsString> = places
        .iter()
        .filter_map(|p| p.file_name().map(OsString::from))
        .collect();
    let mut watcher =
        ::notify::recommended_watcher(move |event: ::notify::Result<::notify::Event>| {
            let relevant = match &event {
                // The watch itself had trouble (e.g. an event queue overflow): look again.
                Err(_) => true,
                Ok(event) => {
                    let reads = matches!(event.kind, EventKind::Access(kind)
                    if kind != AccessKind::Close(AccessMode::Write));
                    event.need_rescan()
                        || (!reads
                            && event.paths.iter().any(|p| {
                                p.file_name().is_some_and(|n| names.iter().any(|m| m == n))
                            }))
                }
            };
            if relevant {
                let _ = wake.send(Msg::Touched);
            }
        })?;
    for place in &places {
        let dir = match place.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        // The config directory may not exist before the first save; it is ours to create
        // (private, like the files it will hold).
        let _ = crate::paths::create_private_dir(dir);
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
    }
    Ok(watcher)
}

struct Worker<F> {
    path: PathBuf,
    shared: Arc<Shared>,
    settings: WatchSettings,
    polling: bool,
    on_change: F,
}

impl<F: Fn(Result<LoadedConfig>)> Worker<F> {
    fn run(self, inbox: mpsc::Receiver<Msg>) {
        let mut first_touch: Option<Instant> = None;
        let mut due: Option<Instant> = None;
        loop {
            let msg = match (due, self.polling) {
                (Some(due), _) => inbox.recv_timeout(due.saturating_duration_since(Instant::now())),
                (None, true) => inbox.recv_timeout(self.settings.poll_interval),
                (None, false) => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match msg {
                Ok(Msg::Touched) => {
                    let now = Instant::now();
                    let first = *first_touch.get_or_insert(now);
                    due = Some((now + self.settings.debounce).min(first + self.settings.max_delay));
                }
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {
                    first_touch = None;
                    due = None;
                    self.check();
                }
            }
        }
    }

    fn check(&self) {
        let (seen, loaded) = read(&self.path);
        self.shared.checks.fetch_add(1, Ordering::SeqCst);
        {
            let mut last = self.shared.last();
            if *last == seen {
                return;
            }
            *last = seen;
        }
        match &loaded {
            Ok(_) => tracing::info!(file = %self.path.display(), "config file changed; reloaded"),
            Err(e) => tracing::warn!(file = %self.path.display(), error = %e,
                "config file changed but cannot be used"),
        }
        (self.on_change)(loaded);
    }
}

/// Reads the file once: its fingerprint and what it loads as (see the module docs).
pub(crate) fn read(path: &Path) -> (u64, Result<LoadedConfig>) {
    let loaded = |config| LoadedConfig {
        config,
        set_aside: None,
        set_aside_reason: None,
    };
    let read = std::fs::read(path);
    let seen = fingerprint_read(&read);
    match read {
        Ok(bytes) => {
            let result = match String::from_utf8(bytes) {
                Ok(text) => config::parse_str(&text).map(loaded),
                Err(e) => Err(Error::Corrupt {
                    path: path.to_path_buf(),
                    reason: format!(
                        "not UTF-8 text (bad byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                }),
            };
            (seen, result)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (seen, Ok(loaded(Config::default()))),
        Err(source) => (
            seen,
            Err(Error::Io {
                action: "reading",
                path: path.to_path_buf(),
                source,
            }),
        ),
    }
}

/// The fingerprint of one attempt to read the file: its content, "absent", or "unreadable".
pub(crate) fn fingerprint_read(read: &std::io::Result<Vec<u8>>) -> u64 {
    match read {
        Ok(bytes) => fingerprint_bytes(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fingerprint(&"absent"),
        Err(e) => fingerprint(&("unreadable", e.kind().to_string())),
    }
}

/// The fingerprint of file content (what [`ConfigWatcher::note_own_write`] records).
pub(crate) fn fingerprint_bytes(bytes: &[u8]) -> u64 {
    fingerprint(&("content", bytes))
}

/// A 64-bit hash, only ever compared within one process run.
fn fingerprint(value: &impl Hash) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atomic_file;
    use std::io::Write;

    /// Long enough for a loaded 2-core machine; a passing test never waits this long.
    const PATIENCE: Duration = Duration::from_secs(10);

    type Inbox = mpsc::Receiver<Result<LoadedConfig>>;

    fn config_text(id: &str) -> String {
        format!("[[subscription]]\nid = \"{id}\"\nurl = \"https://ci.example.com/{id}\"\n")
    }

    fn ids(loaded: &LoadedConfig) -> Vec<&str> {
        loaded
            .config
            .subscriptions
            .iter()
            .map(|s| s.id.as_str())
            .collect()
    }

    struct Setup {
        _dir: tempfile::TempDir,
        path: PathBuf,
        watcher: ConfigWatcher,
        inbox: Inbox,
    }

    fn setup_with(settings: WatchSettings) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config_text("first")).unwrap();
        let (tx, inbox) = mpsc::channel();
        let watcher = ConfigWatcher::start_with(path.clone(), settings, move |r| {
            let _ = tx.send(r);
        })
        .unwrap();
        Setup {
            _dir: dir,
            path,
            watcher,
            inbox,
        }
    }

    fn setup() -> Setup {
        let s = setup_with(WatchSettings::default());
        assert_eq!(
            s.watcher.mode(),
            WatchMode::Events,
            "inotify should work here"
        );
        s
    }

    fn next(inbox: &Inbox) -> Result<LoadedConfig> {
        inbox
            .recv_timeout(PATIENCE)
            .expect("the watcher reported a change")
    }

    /// Waits until the watcher has read the file at least `n` times, then a little longer so
    /// a late report would have arrived, and asserts nothing was reported.
    fn assert_quiet_after_checks(s: &Setup, n: u64) {
        let deadline = Instant::now() + PATIENCE;
        while s.watcher.checks() < n {
            assert!(
                Instant::now() < deadline,
                "the watcher never looked at the file"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        match s.inbox.try_recv() {
            Err(mpsc::TryRecvError::Empty) => {}
            other => panic!("expected no report, got {other:?}"),
        }
    }

    #[test]
    fn a_hand_edit_fires_once_with_the_new_config() {
        let s = setup();
        // Truncate, then write in pieces as some editors do.
        let text = config_text("second");
        let (a, b) = text.split_at(text.len() / 2);
        let mut file = std::fs::File::create(&s.path).unwrap();
        file.write_all(a.as_bytes()).unwrap();
        file.flush().unwrap();
        std::thread::sleep(Duration::from_millis(30));
        file.write_all(b.as_bytes()).unwrap();
        drop(file);

        let loaded = next(&s.inbox).unwrap();
        assert_eq!(ids(&loaded), ["second"]);
        assert_eq!(loaded.set_aside, None);
        let checks = s.watcher.checks();
        // Nothing more: a second report would be the same edit twice.
        std::thread::sleep(Duration::from_millis(800));
        assert!(
            s.inbox.try_recv().is_err(),
            "one edit, one report (checks: {checks})"
        );
    }

    #[test]
    fn an_atomic_replace_fires() {
        let s = setup();
        let temp = s.path.with_file_name(".config.toml.swp");
        std::fs::write(&temp, config_text("replaced")).unwrap();
        std::fs::rename(&temp, &s.path).unwrap();
        assert_eq!(ids(&next(&s.inbox).unwrap()), ["replaced"]);

        // The watch survives the replacement: a second replace is seen as well.
        std::fs::write(&temp, config_text("again")).unwrap();
        std::fs::rename(&temp, &s.path).unwrap();
        assert_eq!(ids(&next(&s.inbox).unwrap()), ["again"]);
    }

    #[test]
    fn an_invalid_edit_fires_with_the_error_and_the_file_stays() {
        let s = setup();
        std::fs::write(
            &s.path,
            "[[subscription]]\nid = \"x\"\nurl = \"ftp://example.com\"\n",
        )
        .unwrap();
        match next(&s.inbox) {
            Err(Error::ConfigInvalid { key, .. }) => assert_eq!(key, "subscription[0].url"),
            other => panic!("expected ConfigInvalid, got {other:?}"),
        }

        // Not TOML at all: still an error naming the line, and the file is not moved aside.
        std::fs::write(&s.path, "[[subscription]\nid = \"x\"\n").unwrap();
        match next(&s.inbox) {
            Err(Error::ConfigInvalid { key, .. }) => assert!(key.starts_with("line 1"), "{key}"),
            other => panic!("expected ConfigInvalid, got {other:?}"),
        }
        assert!(s.path.exists(), "a half-typed edit must not be set aside");

        // Fixing it fires again with the good config.
        std::fs::write(&s.path, config_text("fixed")).unwrap();
        assert_eq!(ids(&next(&s.inbox).unwrap()), ["fixed"]);
    }

    #[test]
    fn rewriting_identical_content_does_not_fire() {
        let s = setup();
        std::fs::write(&s.path, config_text("first")).unwrap();
        assert_quiet_after_checks(&s, 1);
        // Still watching: a real change is reported.
        std::fs::write(&s.path, config_text("changed")).unwrap();
        assert_eq!(ids(&next(&s.inbox).unwrap()), ["changed"]);
    }

    #[test]
    fn the_apps_own_write_does_not_fire() {
        let s = setup();
        let own = config_text("own");
        s.watcher.note_own_write(&own);
        atomic_file::write_atomic(&s.path, own.as_bytes()).unwrap();
        assert_quiet_after_checks(&s, 1);

        // Again with what `config_service` writes: the serialized config.
        let mut config = config::parse_str(&config_text("saved")).unwrap();
        config.subscriptions[0].name = "Saved".into();
        let text = config::to_toml_string(&config).unwrap();
        let before = s.watcher.checks();
        s.watcher.note_own_write(&text);
        atomic_file::write_atomic(&s.path, text.as_bytes()).unwrap();
        assert_quiet_after_checks(&s, before + 1);

        // A hand edit back to an earlier content is still a change.
        std::fs::write(&s.path, config_text("first")).unwrap();
        assert_eq!(ids(&next(&s.inbox).unwrap()), ["first"]);
    }

    #[test]
    fn other_files_in_the_directory_are_ignored() {
        let s = setup();
        let state = s.path.with_file_name("state.json");
        for i in 0..5 {
            std::fs::write(&state, format!("{{\"n\": {i}}}")).unwrap();
        }
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(s.watcher.checks(), 0, "the config file was not read");
    }

    #[test]
    fn deleting_and_recreating_the_file() {
        let s = setup();
        std::fs::remove_file(&s.path).unwrap();
        let loaded = next(&s.inbox).unwrap();
        assert!(
            loaded.config.subscriptions.is_empty(),
            "no file: empty config"
        );
        std::fs::write(&s.path, config_text("back")).unwrap();
        assert_eq!(ids(&next(&s.inbox).unwrap()), ["back"]);
    }

    #[test]
    fn not_utf8_is_reported_as_corrupt() {
        let s = setup();
        std::fs::write(&s.path, b"id = \"\xff\"\n").unwrap();
        match next(&s.inbox) {
            Err(Error::Corrupt { reason, .. }) => assert!(reason.contains("UTF-8"), "{reason}"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn polling_sees_edits_too() {
        let s = setup_with(WatchSettings {
            poll_interval: Duration::from_millis(100),
            force_poll: true,
            ..WatchSettings::default()
        });
        assert_eq!(
            s.watcher.mode(),
            WatchMode::Poll(Duration::from_millis(100))
        );
        assert_quiet_after_checks(&s, 2);
        std::fs::write(&s.path, config_text("polled")).unwrap();
        assert_eq!(ids(&next(&s.inbox).unwrap()), ["polled"]);
    }

    #[test]
    fn a_missing_directory_is_created_and_watched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config").join("config.toml");
        let (tx, inbox) = mpsc::channel();
        let watcher = ConfigWatcher::start(path.clone(), move |r| {
            let _ = tx.send(r);
        })
        .unwrap();
        assert_eq!(watcher.mode(), WatchMode::Events);
        std::fs::write(&path, config_text("fresh")).unwrap();
        assert_eq!(ids(&next(&inbox).unwrap()), ["fresh"]);
    }

    #[test]
    fn dropping_the_watcher_stops_it() {
        let s = setup();
        let Setup {
            _dir,
            path,
            watcher,
            inbox,
        } = s;
        drop(watcher);
        std::fs::write(&path, config_text("late")).unwrap();
        // The worker has exited and dropped the callback (and with it the sender).
        assert!(matches!(
            inbox.recv_timeout(PATIENCE),
            Err(mpsc::RecvTimeoutError::Disconnected)
        ));
    }

    #[test]
    fn the_callback_may_drop_the_watcher() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let slot: Arc<Mutex<Option<ConfigWatcher>>> = Arc::default();
        let (tx, inbox) = mpsc::channel();
        let in_callback = Arc::clone(&slot);
        let watcher = ConfigWatcher::start(path.clone(), move |r| {
            // Dropping from the worker thread must not deadlock on joining itself.
            drop(in_callback.lock().unwrap().take());
            let _ = tx.send(r.map(|l| l.config.subscriptions.len()));
        })
        .unwrap();
        *slot.lock().unwrap() = Some(watcher);
        std::fs::write(&path, config_text("bye")).unwrap();
        assert_eq!(inbox.recv_timeout(PATIENCE).unwrap().unwrap(), 1);
        assert!(slot.lock().unwrap().is_none());
    }
}
