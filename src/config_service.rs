//! The one writer of `config.toml`, and the one place that knows which configuration is current.
//!
//! Two windows can save at once, and a person can edit the file by hand while a window is open.
//! Before this service, each save read the running config, changed a clone and wrote it, so two
//! saves (or a save and a hand edit) could silently drop one change; the app's own saves came back
//! through the file watcher and were applied twice; and the watcher started after the config was
//! loaded, so an edit in between was never seen. Here:
//!
//! - every change happens under one lock, in order, and bumps a **revision**;
//! - a save names the revision it started from ([`ConfigService::save`]); if the configuration
//!   changed since — another save, or a hand edit, even one the watcher has not reported yet
//!   because the file is re-read before every save — it is refused with
//!   [`Error::ConfigStale`] ("changed elsewhere — reload") and nothing is written;
//! - the service records the bytes it writes, so its own save is never taken for a hand edit;
//! - the watcher starts *before* the file is loaded, so an edit at startup cannot fall between
//!   the two;
//! - each change is announced, in revision order, to every [`ConfigService::subscribe`]r (the app
//!   applies it to the engine and tells its windows).
//!
//! A hand edit that does not load keeps the last good configuration running and records why
//! ([`ConfigSnapshot::problem`]); the next save keeps that edit aside as
//! `config.toml.rejected-<unix seconds>` before replacing it. A hand edit that loads to the same
//! configuration (a comment, reformatting) changes nothing and bumps no revision: a save started
//! before it would have written exactly the same configuration.
//!
//! One gap is left on purpose: a hand edit landing in the microseconds between the save's re-read
//! and its rename is replaced. Closing it would need the editor's cooperation (a file lock that
//! editors do not take).

use crate::config::{self, Config};
use crate::config_watch::{self, ConfigWatcher, WatchMode, WatchSettings};
use crate::{Error, Result, atomic_file};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};

/// Why the file on disk is not the configuration that runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ConfigProblem {
    /// The offending key (`subscription[0].url`, `line 3, column 7`), or `(file)` when the file
    /// as a whole could not be read.
    pub key: String,
    /// What is wrong, in words.
    pub reason: String,
}

impl ConfigProblem {
    fn of(error: &Error) -> Self {
        match error {
            Error::ConfigInvalid { key, reason } => ConfigProblem {
                key: key.clone(),
                reason: reason.clone(),
            },
            other => ConfigProblem {
                key: "(file)".into(),
                reason: other.to_string(),
            },
        }
    }
}

/// The current configuration and its revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigSnapshot {
    /// Bumps with every change; a save names the one it started from.
    pub revision: u64,
    /// The configuration that runs: the file's, or the last good one if the file does not load.
    pub config: Config,
    /// Why the file is not what runs, if it is not.
    pub problem: Option<ConfigProblem>,
}

/// Where a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeCause {
    /// The app saved (secrets may have changed too, even if the configuration did not).
    Saved,
    /// The file changed outside the app (a hand edit, another program, a deletion).
    File,
}

/// One change, as announced to subscribers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigChange {
    /// Where it came from.
    pub cause: ChangeCause,
    /// The state after it.
    pub snapshot: ConfigSnapshot,
}

/// Whether the service watches the file for hand edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Watching {
    /// Watch with these settings (the app).
    Watch(WatchSettings),
    /// Do not watch: hand edits are still noticed at the next save (tests, one-shot tools).
    Off,
}

/// A `config.toml` that was not readable TOML at startup and was moved aside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetAside {
    /// Where it went.
    pub path: PathBuf,
    /// Why it could not be read.
    pub reason: String,
}

/// Owns `config.toml`; see the module docs. Dropping it stops the watcher.
pub struct ConfigService {
    shared: Arc<Shared>,
    set_aside: Option<SetAside>,
    watcher: Option<ConfigWatcher>,
}

impl std::fmt::Debug for ConfigService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigService")
            .field("path", &self.shared.path)
            .field("revision", &self.revision())
            .finish_non_exhaustive()
    }
}

struct Shared {
    path: PathBuf,
    /// Held for a whole change, including a save's `change` closure (which may wait on the OS
    /// keyring).
    state: Mutex<State>,
    /// A copy of the current snapshot, replaced only while `state` is held, so readers (the tray,
    /// a window loading) never wait for a save in progress. Lock order: `state`, then this.
    published: Mutex<ConfigSnapshot>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below assigns whole fields after the fallible steps: a panic in a change
        // closure leaves the previous, consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn published(&self) -> MutexGuard<'_, ConfigSnapshot> {
        // Replaced whole, never half-updated.
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the state after a change current for readers and announces it. Called with the
    /// state lock held, so every subscriber sees changes in revision order.
    fn publish(&self, state: &mut State, cause: ChangeCause) {
        let snapshot = state.snapshot();
        *self.published() = snapshot.clone();
        let change = ConfigChange { cause, snapshot };
        state
            .subscribers
            .retain(|subscriber| subscriber.send(change.clone()).is_ok());
    }

    /// Reads the file and takes in what changed since it was last seen. Returns whether the
    /// revision moved.
    fn reconcile(&self, state: &mut State) -> bool {
        let path = &self.path;
        let (seen, loaded) = config_watch::read(path);
        if seen == state.seen {
            return false;
        }
        state.seen = seen;
        let (config, problem) = match loaded {
            Ok(loaded) => (loaded.config, None),
            Err(error) => {
                tracing::warn!(file = %path.display(), %error,
                    "config.toml changed but cannot be used; the previous configuration keeps running");
                (state.config.clone(), Some(ConfigProblem::of(&error)))
            }
        };
        if config == state.config && problem == state.problem {
            return false;
        }
        tracing::info!(file = %path.display(), "config.toml changed outside the app");
        state.config = config;
        state.problem = problem;
        state.revision += 1;
        self.publish(state, ChangeCause::File);
        true
    }
}

/// The one model, under the one lock.
struct State {
    revision: u64,
    config: Config,
    problem: Option<ConfigProblem>,
    /// Fingerprint of the file content that `config` and `problem` reflect.
    seen: u64,
    subscribers: Vec<mpsc::Sender<ConfigChange>>,
}

impl State {
    fn snapshot(&self) -> ConfigSnapshot {
        ConfigSnapshot {
            revision: self.revision,
            config: self.config.clone(),
            problem: self.problem.clone(),
        }
    }
}

impl ConfigService {
    /// Opens `path` and watches it with [`WatchSettings::default`]. Fails only if the file
    /// cannot be read at all (permissions, a directory in its place); an invalid file starts
    /// with the defaults and a [`ConfigSnapshot::problem`], a file that is not TOML is moved
    /// aside ([`set_aside_at_open`](Self::set_aside_at_open)) as [`config::load_file`] does.
    pub fn open(path: PathBuf) -> Result<ConfigService> {
        Self::open_with(path, Watching::Watch(WatchSettings::default()))
    }

    /// [`open`](Self::open), choosing whether and how to watch. A watcher that cannot start is
    /// logged and left out: the app still works, and hand edits are taken in at the next save.
    pub fn open_with(path: PathBuf, watching: Watching) -> Result<ConfigService> {
        Self::open_between(path, watching, || {})
    }

    /// `between` runs after the watcher started and before the file is read (the test of that
    /// order writes the file there).
    fn open_between(
        path: PathBuf,
        watching: Watching,
        between: impl FnOnce(),
    ) -> Result<ConfigService> {
        let state = State {
            revision: 1,
            config: Config::default(),
            problem: None,
            seen: 0,
            subscribers: Vec::new(),
        };
        let shared = Arc::new(Shared {
            path: path.clone(),
            published: Mutex::new(state.snapshot()),
            state: Mutex::new(state),
        });
        // Held until the file is loaded: a change the watcher reports meanwhile waits for it,
        // then is compared with what was loaded.
        let mut state = shared.lock();
        let watcher = match watching {
            Watching::Off => None,
            Watching::Watch(settings) => {
                let weak = Arc::downgrade(&shared);
                let started = ConfigWatcher::start_with(path.clone(), settings, move |_| {
                    // What the watcher loaded may be stale by now: read again under the lock.
                    if let Some(shared) = weak.upgrade() {
                        shared.reconcile(&mut shared.lock());
                    }
                });
                match started {
                    Ok(watcher) => Some(watcher),
                    Err(error) => {
                        tracing::warn!(%error, "not watching config.toml for hand edits");
                        None
                    }
                }
            }
        };
        between();
        let loaded = load(&path);
        let set_aside = match loaded {
            Ok((seen, config, problem, set_aside)) => {
                state.seen = seen;
                state.config = config;
                state.problem = problem;
                *shared.published() = state.snapshot();
                set_aside
            }
            Err(error) => {
                // The watcher's thread may be waiting for this lock: release it before the
                // watcher is dropped (and joined).
                drop(state);
                drop(watcher);
                return Err(error);
            }
        };
        drop(state);
        Ok(ConfigService {
            shared,
            set_aside,
            watcher,
        })
    }

    /// The file this service owns.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// How hand edits are noticed: `None` when they are not watched (then only at the next save).
    pub fn watch_mode(&self) -> Option<WatchMode> {
        self.watcher.as_ref().map(ConfigWatcher::mode)
    }

    /// Where an unreadable file went at startup, to tell the user.
    pub fn set_aside_at_open(&self) -> Option<&SetAside> {
        self.set_aside.as_ref()
    }

    /// The current configuration and its revision. Never waits for a save in progress (it
    /// answers with the state before it).
    pub fn snapshot(&self) -> ConfigSnapshot {
        self.shared.published().clone()
    }

    /// The current revision.
    pub fn revision(&self) -> u64 {
        self.shared.published().revision
    }

    /// Why the file on disk is not what runs, if it is not.
    pub fn problem(&self) -> Option<ConfigProblem> {
        self.shared.published().problem.clone()
    }

    /// Every change from now on, in revision order (take a [`snapshot`](Self::snapshot) after
    /// subscribing to start from). A dropped receiver is forgotten at the next change.
    pub fn subscribe(&self) -> mpsc::Receiver<ConfigChange> {
        let (tx, rx) = mpsc::channel();
        self.shared.lock().subscribers.push(tx);
        rx
    }

    /// Changes the configuration: `change` gets the current one and returns the next, which is
    /// written atomically, becomes the current configuration with a new revision, and is
    /// announced as [`ChangeCause::Saved`]. Saves are serialized; `change` runs under the lock
    /// (so it may do blocking work that must not interleave, such as storing a secret).
    ///
    /// Refused with [`Error::ConfigStale`], before `change` runs, if `base` is not the current
    /// revision — the file is read first, so a hand edit the watcher has not reported yet counts.
    /// Every save bumps the revision, even one that writes the same configuration: secrets kept
    /// outside the file may have changed with it.
    pub fn save<E: From<Error>>(
        &self,
        base: u64,
        change: impl FnOnce(&Config) -> std::result::Result<Config, E>,
    ) -> std::result::Result<ConfigSnapshot, E> {
        let path = &self.shared.path;
        let mut state = self.shared.lock();
        self.shared.reconcile(&mut state);
        if base != state.revision {
            return Err(Error::ConfigStale {
                base,
                current: state.revision,
            }
            .into());
        }
        let next = change(&state.config)?;
        let text = config::to_toml_string(&next)?;
        if state.problem.is_some() {
            keep_rejected_edit(path)?;
        }
        if let Some(watcher) = &self.watcher {
            watcher.note_own_write(&text);
        }
        atomic_file::write_atomic(path, text.as_bytes())?;
        state.seen = config_watch::fingerprint_bytes(text.as_bytes());
        state.config = next;
        state.problem = None;
        state.revision += 1;
        self.shared.publish(&mut state, ChangeCause::Saved);
        Ok(state.snapshot())
    }
}

/// Loads the file at startup: the fingerprint of what was read, the configuration, why the file
/// is not what runs, and where an unreadable file went.
fn load(path: &Path) -> Result<(u64, Config, Option<ConfigProblem>, Option<SetAside>)> {
    let read = std::fs::read(path);
    let seen = config_watch::fingerprint_read(&read);
    match config::load_read(path, read) {
        Ok(loaded) => match loaded.set_aside {
            Some(aside) => {
                let gone: std::io::Result<Vec<u8>> = Err(std::io::ErrorKind::NotFound.into());
                let set_aside = SetAside {
                    path: aside,
                    reason: loaded.set_aside_reason.unwrap_or_default(),
                };
                Ok((
                    config_watch::fingerprint_read(&gone),
                    loaded.config,
                    None,
                    Some(set_aside),
                ))
            }
            None => Ok((seen, loaded.config, None, None)),
        },
        Err(error @ Error::ConfigInvalid { .. }) => {
            tracing::warn!(file = %path.display(), %error,
                "config.toml has an error; starting with nothing configured");
            Ok((
                seen,
                Config::default(),
                Some(ConfigProblem::of(&error)),
                None,
            ))
        }
        Err(other) => Err(other),
    }
}

/// Before a save replaces a hand edit that does not load, copies it to
/// `config.toml.rejected-<unix seconds>[-n]` (never over an earlier copy): a typo in a long hand
/// edit is not lost to a click in a window.
fn keep_rejected_edit(path: &Path) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        // Unreadable or gone: there is nothing a person could get back from it.
        return Ok(());
    };
    if config::parse_str(&text).is_ok() {
        return Ok(());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = format!("{name}.rejected-{}", atomic_file::now_unix_secs());
    let aside = (0u32..)
        .map(|n| match n {
            0 => path.with_file_name(&base),
            n => path.with_file_name(format!("{base}-{n}")),
        })
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .unwrap_or_else(|| path.with_file_name(&base));
    std::fs::copy(path, &aside).map_err(|source| Error::Io {
        action: "keeping the invalid hand edit aside (nothing was saved) as",
        path: aside.clone(),
        source,
    })?;
    tracing::warn!(aside = %aside.display(), "kept the invalid hand edit of config.toml");
    Ok(())
}

#[cfg(test)]
mod tests;
