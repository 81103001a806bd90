//! The server crate's one error type.
//!
//! Library callers (the desktop app embedding a demo server, the core's tests) match on variants;
//! the binary wraps them with `anyhow` context at its edge.

/// Everything that can go wrong inside the server library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The SQLite event or token store failed.
    #[error("sqlite store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A Redis command or the Redis connection failed.
    #[cfg(feature = "redis")]
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Binding the listener or another socket/file operation failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// An event (user, type or data) is not acceptable; the text says why.
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// An event's data is larger than the configured cap.
    #[error("event data is {bytes} bytes, over the {max}-byte cap")]
    EventTooLarge {
        /// Size of the (compacted) data.
        bytes: usize,
        /// The cap ([`crate::ServerConfig::max_event_bytes`]).
        max: usize,
    },
    /// A string is not an event id of the form `<unix ms>-<sequence>`.
    #[error("not an event id: {0:?}")]
    BadEventId(String),
    /// A background task panicked or was cancelled before it finished.
    #[error("background task failed: {0}")]
    Task(String),
    /// The server is shutting down and no longer accepts work.
    #[error("server is shutting down")]
    ShuttingDown,
}

impl Error {
    /// Whether trying the same operation again later may succeed (a store or network hiccup),
    /// as opposed to a request that will fail the same way every time.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            #[cfg(feature = "redis")]
            Error::Redis(e) => e.is_io_error() || e.is_timeout() || e.is_connection_dropped(),
            Error::Io(_) | Error::Task(_) => true,
            Error::InvalidEvent(_)
            | Error::EventTooLarge { .. }
            | Error::BadEventId(_)
            | Error::ShuttingDown => false,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
