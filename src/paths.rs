//! Where SSE Tray keeps its files, and how they are created. The platform directories come from
//! `directories`; the `SSE_TRAY_CONFIG_DIR` / `SSE_TRAY_DATA_DIR` overrides exist so tests and
//! portable installs never touch a person's real profile.
//!
//! History, resume state and the config (which may hold request headers) are nobody else's
//! business, so on Unix what we create is private: directories 0700, files 0600, whatever the
//! umask. What already exists keeps its permissions: a person may have chosen them, and a
//! directory such as `~/.config` is not ours to lock down.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Environment variable overriding the config directory.
pub const CONFIG_DIR_ENV: &str = "SSE_TRAY_CONFIG_DIR";
/// Environment variable overriding the data directory.
pub const DATA_DIR_ENV: &str = "SSE_TRAY_DATA_DIR";

/// The two directories the app writes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppPaths {
    /// Holds `config.toml` and the resume state: small, human-relevant, worth backing up.
    pub config_dir: PathBuf,
    /// Holds the history database and logs: large, rebuildable.
    pub data_dir: PathBuf,
}

impl AppPaths {
    /// Resolves the directories: environment overrides first, then the platform's conventions.
    pub fn resolve() -> Result<Self> {
        let project = directories::ProjectDirs::from("dev", "SSE Tray", "sse-tray");
        let pick = |var: &str, platform: Option<PathBuf>| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or(platform)
                .ok_or(Error::NoDirectories)
        };
        Ok(Self {
            config_dir: pick(
                CONFIG_DIR_ENV,
                project.as_ref().map(|p| p.config_dir().to_path_buf()),
            )?,
            data_dir: pick(
                DATA_DIR_ENV,
                project.as_ref().map(|p| p.data_dir().to_path_buf()),
            )?,
        })
    }

    /// Both directories under one root (tests, portable mode).
    pub fn under(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Self {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
        }
    }

    /// `config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// The resume state file.
    pub fn state_file(&self) -> PathBuf {
        self.config_dir.join("state.json")
    }

    /// The history database.
    pub fn history_file(&self) -> PathBuf {
        self.data_dir.join("history.sqlite3")
    }
}

/// Creates `dir` and its missing parents, each private to the owner (0700 on Unix). Directories
/// that exist are left as they are.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `file` empty and private to the owner (0600 on Unix) unless it exists; an existing
/// file is left as it is. For files another library opens afterwards (SQLite creates its files
/// with the umask's permissions, and its `-wal` / `-shm` files with the database's).
pub fn create_private_file(file: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
