//! The crate's one error type, so callers decide what to do by asking (`is_retryable`) rather
//! than by downcasting, and so every failure a person may see has one wording.

use std::path::PathBuf;

/// Everything that can go wrong in the core library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file of ours (config, resume state, database directory) could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What we were doing, e.g. "reading" or "writing".
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is not valid; `key` names the offending key (`subscription[2].url`).
    #[error("invalid configuration at `{key}`: {reason}")]
    ConfigInvalid {
        /// Dotted path of the offending key.
        key: String,
        /// Why it was rejected, in words a person can act on.
        reason: String,
    },
    /// The configuration or state file is not parseable at all.
    #[error("{} is not readable: {reason}", path.display())]
    Corrupt {
        /// The file concerned.
        path: PathBuf,
        /// The parser's explanation.
        reason: String,
    },
    /// The history database failed.
    #[error("history database: {0}")]
    History(#[from] rusqlite::Error),
    /// A subscription cannot be turned into an HTTP request (bad URL, bad header).
    #[error("invalid request for subscription `{subscription}`: {reason}")]
    InvalidRequest {
        /// The subscription id.
        subscription: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No platform directory could be determined (no home directory) and no override was given.
    #[error("no config/data directory: set SSE_TRAY_CONFIG_DIR and SSE_TRAY_DATA_DIR")]
    NoDirectories,
    /// The history database was written by a newer version of SSE Tray (a higher schema version);
    /// it is left untouched rather than downgraded or set aside.
    #[error("{} was written by a newer SSE Tray (schema {found}, this build knows {supported})", path.display())]
    HistoryTooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version (`PRAGMA user_version`).
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// The OS keyring (Secret Service, macOS Keychain, Windows Credential Manager) could not
    /// save, read or delete a subscription's secret. `reason` is in words a person can act on
    /// ("no Secret Service is running …", "the keyring is locked …") and never holds the secret.
    #[error("could not {action} the secret of `{subscription}` in the OS keyring: {reason}")]
    Keyring {
        /// What we were doing: "save", "read" or "delete".
        action: &'static str,
        /// The subscription whose secret it is.
        subscription: String,
        /// Why it failed.
        reason: String,
    },
    /// A configuration change was based on a revision that is no longer current: the file was
    /// saved from elsewhere (another window) or edited by hand since the change started. Nothing
    /// was written; the caller reloads and makes the change again on the fresh configuration.
    #[error(
        "the configuration changed elsewhere \u{2014} reload and try again (this change started from revision {base}, the current one is {current})"
    )]
    ConfigStale {
        /// The revision the change started from.
        base: u64,
        /// The revision the configuration has now.
        current: u64,
    },
}

impl Error {
    /// Whether trying the same operation again later may succeed (I/O and database hiccups such
    /// as a full disk or a locked database), as opposed to input that will stay wrong.
    pub fn is_retryable(&self) -> bool {
        match self {
            // A keyring that is locked or not running yet may be unlocked or started later.
            Error::Io { .. } | Error::History(_) | Error::Keyring { .. } => true,
            Error::ConfigInvalid { .. }
            | Error::Corrupt { .. }
            | Error::InvalidRequest { .. }
            | Error::NoDirectories
            | Error::HistoryTooNew { .. }
            // The same change from the same revision fails again: it needs a reload first.
            | Error::ConfigStale { .. } => false,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
