//! Replacing a small file so that a crash, a full disk or a power cut leaves either the old
//! content or the new one, never half of each — and keeping a file we cannot read aside instead
//! of overwriting it.
//!
//! The config and the resume state both live here because they share the same two rules from the
//! design notes: writes are atomic (temp file in the same directory, `sync_all`, rename over the
//! target, fsync the directory), and a corrupt file is never silently replaced.

use crate::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces `path` with `bytes` atomically. See [`write_atomic_with`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Replaces `path` with whatever `write` puts into a fresh temp file, atomically.
///
/// The temp file sits in the same directory (a rename is only atomic within one file system), is
/// `sync_all`ed before the rename, and the directory is fsynced after it (on Unix) so the rename
/// itself survives a power cut. The directory is created if missing. If anything fails — `write`
/// included — the temp file is removed, the old file is untouched, and the error is an
/// [`Error::Io`] naming the step, which [`Error::is_retryable`] calls retryable.
///
/// A new file is private to its owner on Unix (mode 0600: the config may hold request headers),
/// and so are the directories created for it (0700); an existing file keeps its permissions. If `path` is a symlink (a dotfiles repository), the
/// file it points to is replaced and the link is kept.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<()> {
    let resolved;
    let path = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            // A dangling link cannot be resolved: then the link itself is replaced.
            resolved = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            resolved.as_path()
        }
        _ => path,
    };
    let io_err = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Io {
            action,
            path: p,
            source,
        }
    };
    let dir = parent_dir(path);
    crate::paths::create_private_dir(dir).map_err(io_err("creating directory", dir))?;

    let (mut file, temp) = create_temp(path).map_err(io_err("creating a temp file for", path))?;
    let guard = RemoveOnDrop(Some(temp.clone()));

    if let Ok(meta) = fs::metadata(path)
        && meta.is_file()
    {
        file.set_permissions(meta.permissions())
            .map_err(io_err("copying permissions to", &temp))?;
    }
    write(&mut file).map_err(io_err("writing", &temp))?;
    file.sync_all().map_err(io_err("syncing", &temp))?;
    drop(file);
    fs::rename(&temp, path).map_err(io_err("replacing", path))?;
    guard.disarm();
    sync_dir(dir).map_err(io_err("syncing directory", dir))
}

/// Moves an unreadable file out of the way as `<name>.corrupt-<unix_secs>` in the same directory
/// and returns where it went. It is never deleted and never overwritten: if that name is taken
/// (two failures in one second), `-1`, `-2`, … are appended.
pub fn set_aside(path: &Path, unix_secs: u64) -> Result<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = parent_dir(path);
    let base = format!("{name}.corrupt-{unix_secs}");
    for n in 0u32.. {
        let candidate = if n == 0 {
            dir.join(&base)
        } else {
            dir.join(format!("{base}-{n}"))
        };
        // `symlink_metadata` so a dangling symlink still counts as taken.
        if fs::symlink_metadata(&candidate).is_ok() {
            continue;
        }
        fs::rename(path, &candidate).map_err(|source| Error::Io {
            action: "setting aside",
            path: path.to_path_buf(),
            source,
        })?;
        return Ok(candidate);
    }
    unreachable!("u32 ran out of suffixes")
}

/// Removes temp files that an earlier process left next to `path` when it died mid-write
/// (`.<name>.tmp-<pid>-<n>` with a pid other than ours). Best effort: failures are ignored, the
/// leftovers only waste space. Returns how many were removed.
pub fn remove_stale_temps(path: &Path) -> usize {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return 0;
    };
    let prefix = format!(".{name}.tmp-");
    let ours = format!("{prefix}{}-", std::process::id());
    let Ok(entries) = fs::read_dir(parent_dir(path)) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let file = e.file_name();
            let file = file.to_string_lossy();
            file.starts_with(&prefix) && !file.starts_with(&ours)
        })
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()) && fs::remove_file(e.path()).is_ok())
        .count()
}

/// The current wall-clock time in whole Unix seconds (the suffix of a set-aside file).
pub fn now_unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Creates `.<name>.tmp-<pid>-<n>` next to `path`; `create_new` so two writers never share one.
fn create_temp(path: &Path) -> io::Result<(File, PathBuf)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = parent_dir(path);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&temp) {
            Ok(file) => return Ok((file, temp)),
            // A stale temp file from a crashed run with the same pid: pick the next number.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        // Some file systems cannot fsync a directory; the rename has happened, nothing to retry.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Windows has no directory fsync; `MoveFileEx` replacement is as durable as it gets there.
    Ok(())
}

/// Removes the temp file unless the rename succeeded.
struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ignored = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn creates_directory_and_replaces_content() {
        let tmp = tempfile::TempDir::new().unwrap();
        let path = tmp.path().join("a/b/state.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(names(path.parent().unwrap()), ["state.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn new_file_is_private_and_existing_permissions_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::TempDir::new().unwrap();
        let path = tmp.path().join("config.toml");
        write_atomic(&path, b"x").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"y").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_file_is_replaced_through_the_link() {
        let tmp = tempfile::TempDir::new().unwrap();
        let real = tmp.path().join("dotfiles/config.toml");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, b"old").unwrap();
        let link = tmp.path().join("config.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn failing_writer_leaves_old_file_and_no_temp() {
        let tmp = tempfile::TempDir::new().unwrap();
        let path = tmp.path().join("state.json");
        fs::write(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |f| {
            f.write_all(b"half of the new")?;
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        })
        .unwrap_err();
        assert!(err.is_retryable());
        assert!(
            matches!(
                err,
                Error::Io {
                    action: "writing",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(names(tmp.path()), ["state.json"]);
    }

    #[test]
    fn failing_rename_leaves_no_temp() {
        let tmp = tempfile::TempDir::new().unwrap();
        let path = tmp.path().join("state.json");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"keep").unwrap();
        let err = write_atomic(&path, b"new").unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    action: "replacing",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(fs::read(path.join("inside")).unwrap(), b"keep");
        assert_eq!(names(tmp.path()), ["state.json"]);
    }

    #[test]
    fn directory_under_a_regular_file_fails_cleanly() {
        let tmp = tempfile::TempDir::new().unwrap();
        let file = tmp.path().join("plain");
        fs::write(&file, b"").unwrap();
        let err = write_atomic(&file.join("state.json"), b"new").unwrap_err();
        assert!(
            matches!(
                err,
                Error::Io {
                    action: "creating directory",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.is_retryable());
    }

    #[test]
    fn stale_temps_of_other_processes_are_removed() {
        let tmp = tempfile::TempDir::new().unwrap();
        let path = tmp.path().join("state.json");
        fs::write(&path, b"keep").unwrap();
        fs::write(tmp.path().join(".state.json.tmp-1-0"), b"stale").unwrap();
        let ours = tmp
            .path()
            .join(format!(".state.json.tmp-{}-9", std::process::id()));
        fs::write(&ours, b"in flight").unwrap();
        fs::write(tmp.path().join(".config.toml.tmp-1-0"), b"other file").unwrap();
        assert_eq!(remove_stale_temps(&path), 1);
        assert_eq!(
            names(tmp.path()),
            [
                ".config.toml.tmp-1-0".to_owned(),
                ours_name(&ours),
                "state.json".into()
            ]
        );
        assert_eq!(
            remove_stale_temps(&tmp.path().join("missing/state.json")),
            0
        );
    }

    fn ours_name(p: &Path) -> String {
        p.file_name().unwrap().to_string_lossy().into_owned()
    }

    #[test]
    fn set_aside_never_overwrites() {
        let tmp = tempfile::TempDir::new().unwrap();
        let path = tmp.path().join("state.json");
        fs::write(&path, b"first").unwrap();
        let a = set_aside(&path, 1_700_000_000).unwrap();
        fs::write(&path, b"second").unwrap();
        let b = set_aside(&path, 1_700_000_000).unwrap();
        assert_eq!(a, tmp.path().join("state.json.corrupt-1700000000"));
        assert_eq!(b, tmp.path().join("state.json.corrupt-1700000000-1"));
        assert_eq!(fs::read(&a).unwrap(), b"first");
        assert_eq!(fs::read(&b).unwrap(), b"second");
        assert!(!path.exists());
    }
}
