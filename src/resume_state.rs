//! Where each subscription left off: the last stored event ID (the resume point), the server's
//! `retry:` and when we last connected or failed, kept in `state.json` in the config dir.
//!
//! It exists apart from history so the resume point can only move *after* the event is in
//! history (design invariant 1: nothing lost, nothing twice) and apart from the config so a
//! person editing `config.toml` never sees it churn. The store only touches the disk on
//! [`ResumeStore::flush`]; debouncing flushes is the caller's job. Writes are atomic, a corrupt
//! file is moved aside rather than overwritten, and unknown fields are ignored so an older build
//! can read a newer build's file.

use crate::atomic_file;
use crate::{Error, Result, SubscriptionId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file format version written by this build.
pub const STATE_VERSION: u32 = 1;

/// What is remembered about one subscription between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SubscriptionResume {
    /// The ID of the last event stored in history: sent as `Last-Event-ID` (or the configured
    /// query parameter) on the next connect.
    pub last_event_id: Option<String>,
    /// The server's last `retry:` value, in milliseconds.
    pub server_retry_ms: Option<u64>,
    /// When a connection last opened successfully (Unix ms).
    pub last_connected_at: Option<i64>,
    /// When a connection last failed (Unix ms).
    pub last_error_at: Option<i64>,
    /// What that failure was, for the UI.
    pub last_error: Option<String>,
    /// The URL the resume point belongs to. An id from one server means nothing to another, so
    /// a subscription whose URL changed — even by a hand edit while the app was closed — starts
    /// fresh. Absent in files written before it existed (then the point is kept).
    pub url: Option<String>,
}

/// The file as stored.
#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    /// Required: a JSON object without it is not our file.
    version: u32,
    #[serde(default)]
    subscriptions: BTreeMap<SubscriptionId, SubscriptionResume>,
}

/// The resume state of every subscription, in memory, written to disk on [`flush`](Self::flush).
#[derive(Debug)]
pub struct ResumeStore {
    path: PathBuf,
    entries: BTreeMap<SubscriptionId, SubscriptionResume>,
    dirty: bool,
}

impl ResumeStore {
    /// Opens the state at `path` (normally [`crate::paths::AppPaths::state_file`]).
    ///
    /// Temp files left by a process that died while flushing are removed. A missing file gives
    /// an empty store. A file that is not UTF-8, not JSON or not shaped like
    /// our state is renamed to `<name>.corrupt-<unix seconds>` and the store starts empty; the
    /// second value says where the file went, so the caller can tell the user. A file that cannot
    /// be read at all (permissions, a directory in its place) is [`Error::Io`].
    pub fn open(path: impl Into<PathBuf>) -> Result<(Self, Option<PathBuf>)> {
        let path = path.into();
        // A writer killed mid-flush leaves its temp file behind; the state itself is whole.
        atomic_file::remove_stale_temps(&path);
        let empty = |path| Self {
            path,
            entries: BTreeMap::new(),
            dirty: false,
        };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((empty(path), None)),
            Err(source) => {
                return Err(Error::Io {
                    action: "reading",
                    path,
                    source,
                });
            }
        };
        match serde_json::from_slice::<StateFile>(&bytes) {
            Ok(file) => {
                if file.version > STATE_VERSION {
                    tracing::warn!(file = %path.display(), version = file.version,
                        "resume state written by a newer version; reading what this version knows");
                }
                Ok((
                    Self {
                        path,
                        entries: file.subscriptions,
                        dirty: false,
                    },
                    None,
                ))
            }
            Err(e) => {
                let aside = atomic_file::set_aside(&path, atomic_file::now_unix_secs())?;
                tracing::warn!(file = %path.display(), set_aside = %aside.display(), reason = %e,
                    "resume state is not readable; moved aside, starting empty");
                Ok((empty(path), Some(aside)))
            }
        }
    }

    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state of one subscription, if any was ever recorded.
    pub fn get(&self, id: &SubscriptionId) -> Option<&SubscriptionResume> {
        self.entries.get(id)
    }

    /// Every subscription with recorded state, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&SubscriptionId, &SubscriptionResume)> {
        self.entries.iter()
    }

    /// Changes one subscription's state (creating a default entry first if needed). The store
    /// becomes dirty only if something actually changed.
    pub fn update(&mut self, id: &SubscriptionId, change: impl FnOnce(&mut SubscriptionResume)) {
        match self.entries.get_mut(id) {
            Some(entry) => {
                let before = entry.clone();
                change(entry);
                self.dirty |= *entry != before;
            }
            None => {
                let mut entry = SubscriptionResume::default();
                change(&mut entry);
                self.entries.insert(id.clone(), entry);
                self.dirty = true;
            }
        }
    }

    /// Forgets a subscription (it was deleted from the config); returns what was stored.
    pub fn remove(&mut self, id: &SubscriptionId) -> Option<SubscriptionResume> {
        let removed = self.entries.remove(id);
        self.dirty |= removed.is_some();
        removed
    }

    /// Forgets every subscription for which `keep` is false (e.g. ids no longer in the config).
    pub fn retain(&mut self, mut keep: impl FnMut(&SubscriptionId) -> bool) {
        let before = self.entries.len();
        self.entries.retain(|id, _| keep(id));
        self.dirty |= self.entries.len() != before;
    }

    /// Whether there are changes not yet on disk.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Writes the state atomically if it changed since the last successful flush (creating the
    /// directory if missing). On failure — a full disk, a read-only directory — it returns the
    /// retryable [`Error::Io`], the old file is intact and the store stays dirty so a later
    /// flush tries again.
    pub fn flush(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let file = StateFileRef {
            version: STATE_VERSION,
            subscriptions: &self.entries,
        };
        atomic_file::write_atomic_with(&self.path, |f| {
            let mut w = std::io::BufWriter::new(f);
            serde_json::to_writer_pretty(&mut w, &file)?;
            std::io::Write::write_all(&mut w, b"\n")?;
            std::io::Write::flush(&mut w)
        })?;
        self.dirty = false;
        Ok(())
    }
}

/// [`StateFile`] by reference, so flushing does not clone the map.
#[derive(Serialize)]
struct StateFileRef<'a> {
    version: u32,
    subscriptions: &'a BTreeMap<SubscriptionId, SubscriptionResume>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> SubscriptionId {
        SubscriptionId::new(s)
    }

    #[test]
    fn update_marks_dirty_only_on_change() {
        let tmp = tempfile::TempDir::new().unwrap();
        let (mut store, aside) = ResumeStore::open(tmp.path().join("state.json")).unwrap();
        assert!(aside.is_none());
        assert!(!store.is_dirty());
        store.update(&id("a"), |r| r.last_event_id = Some("1".into()));
        assert!(store.is_dirty());
        store.flush().unwrap();
        assert!(!store.is_dirty());
        store.update(&id("a"), |r| r.last_event_id = Some("1".into()));
        assert!(!store.is_dirty(), "same value is not a change");
        store.update(&id("a"), |r| r.server_retry_ms = Some(3000));
        assert!(store.is_dirty());
        store.flush().unwrap();
        assert!(store.remove(&id("nope")).is_none());
        assert!(!store.is_dirty());
        assert_eq!(store.remove(&id("a")).unwrap().server_retry_ms, Some(3000));
        assert!(store.is_dirty());
    }

    #[test]
    fn flush_without_changes_writes_nothing() {
        let tmp = tempfile::TempDir::new().unwrap();
        let path = tmp.path().join("cfg/state.json");
        let (mut store, _) = ResumeStore::open(&path).unwrap();
        store.flush().unwrap();
        assert!(!path.exists());
        assert!(!tmp.path().join("cfg").exists());
    }

    #[test]
    fn retain_drops_unknown_ids() {
        let tmp = tempfile::TempDir::new().unwrap();
        let (mut store, _) = ResumeStore::open(tmp.path().join("state.json")).unwrap();
        store.update(&id("a"), |_| {});
        store.update(&id("b"), |_| {});
        store.flush().unwrap();
        store.retain(|i| i.as_str() == "b");
        assert!(store.is_dirty());
        assert_eq!(
            store.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
    }

    #[test]
    fn wrong_shapes_are_corrupt() {
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"version\":\"1\"}",
            b"{\"version\":1,\"subscriptions\":[]}",
            b"{\"version\":1,\"subscriptions\":{\"a\":{\"last_event_id\":5}}}",
            b"\xff\xfe{",
            b"{\"version\":1",
        ] {
            let tmp = tempfile::TempDir::new().unwrap();
            let path = tmp.path().join("state.json");
            std::fs::write(&path, bad).unwrap();
            let (store, aside) = ResumeStore::open(&path).unwrap();
            let aside =
                aside.unwrap_or_else(|| panic!("{:?} accepted", String::from_utf8_lossy(bad)));
            assert_eq!(std::fs::read(aside).unwrap(), bad);
            assert_eq!(store.iter().count(), 0);
        }
    }
}
