//! Where SSE Tray keeps its files. The platform directories come from `directories`; the
//! `SSE_TRAY_CONFIG_DIR` / `SSE_TRAY_DATA_DIR` overrides exist so tests and portable installs never
//! touch a person's real profile.

use crate::{Error, Result};
use std::path::PathBuf;

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
