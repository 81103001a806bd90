//! WAL checkpoints off the writer's thread.
//!
//! SQLite's automatic checkpoint runs inside the writer's commit and waits for two `fsync`s; on
//! this kind of machine (~3 ms per `fsync`) that halves the insert rate of a firehose. A handle
//! that writes batches therefore turns the automatic checkpoint off and, after each commit, wakes
//! a thread with its own connection that runs passive checkpoints, which never block the writer.
//!
//! A passive checkpoint copies pages back but cannot make the writer start the WAL over while the
//! writer keeps committing, so under a firehose the WAL would grow without end. When it holds
//! more than [`WAL_RESTART_FRAMES`] frames, the thread asks the writer to run one `RESTART`
//! checkpoint between two batches, the one moment no batch is in flight. The two take turns
//! through a mutex, because SQLite refuses (rather than waits for) a checkpoint while another
//! runs; measured, without these the WAL grew to 255 MB (1.5 GB with random ids). The restart
//! copies the few pages the passive checkpoints have not, so it is short, and the next commit
//! reuses the WAL from its start. On shutdown the WAL is
//! truncated so an idle app leaves a small file.

use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Past this many frames (pages) in the WAL, the next checkpoint makes the writer reuse it
/// (16,384 pages of 4 KiB = 64 MiB).
pub(super) const WAL_RESTART_FRAMES: i64 = 16_384;

/// The background checkpoint thread of one writing handle. Dropping it runs a last checkpoint and
/// joins the thread.
#[derive(Debug)]
pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Set by the thread when the WAL is over [`WAL_RESTART_FRAMES`].
    restart_wanted: Arc<AtomicBool>,
    /// Held by whoever is checkpointing (the thread or the writer).
    turn: Arc<Mutex<()>>,
}

impl Checkpointer {
    /// Opens a second connection on `db_path` and starts the thread.
    pub(super) fn start(db_path: &Path) -> std::io::Result<Self> {
        let conn = Connection::open(db_path).map_err(std::io::Error::other)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(std::io::Error::other)?;
        // One pending wake-up is enough: a checkpoint copies everything committed before it.
        let (wake, wakes) = mpsc::sync_channel(1);
        let restart_wanted = Arc::new(AtomicBool::new(false));
        let turn = Arc::new(Mutex::new(()));
        let (flag, thread_turn) = (Arc::clone(&restart_wanted), Arc::clone(&turn));
        let thread = std::thread::Builder::new()
            .name("history-checkpoint".into())
            .spawn(move || run(&conn, &wakes, &flag, &thread_turn))?;
        Ok(Self {
            wake: Some(wake),
            thread: Some(thread),
            restart_wanted,
            turn,
        })
    }

    /// Called by the writer between batches, on its own connection: restarts the WAL if the
    /// thread asked for it.
    pub(super) fn restart_if_wanted(&self, writer: &Connection) {
        if self.restart_wanted.swap(false, Ordering::Relaxed) {
            let _turn = take_turn(&self.turn);
            checkpoint(writer, "RESTART");
        }
    }

    /// Called after a commit: asks for a checkpoint (coalesced with one already asked for).
    pub(super) fn committed(&self) {
        if let Some(wake) = &self.wake {
            match wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    tracing::warn!("history checkpoint thread has stopped");
                }
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel ends the loop after a last checkpoint.
        self.wake = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("history checkpoint thread panicked");
        }
    }
}

fn run(conn: &Connection, wakes: &Receiver<()>, restart_wanted: &AtomicBool, turn: &Mutex<()>) {
    while wakes.recv().is_ok() {
        let frames = {
            let _turn = take_turn(turn);
            checkpoint(conn, "PASSIVE")
        };
        if frames.is_some_and(|frames| frames > WAL_RESTART_FRAMES) {
            restart_wanted.store(true, Ordering::Relaxed);
        }
    }
    let _turn = take_turn(turn);
    checkpoint(conn, "TRUNCATE");
}

/// The mutex guards no data, so a panic while it was held leaves nothing inconsistent.
fn take_turn(turn: &Mutex<()>) -> MutexGuard<'_, ()> {
    turn.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs one checkpoint; returns the number of frames in the WAL, or `None` if it failed (it is
/// tried again after the next commit).
fn checkpoint(conn: &Connection, mode: &str) -> Option<i64> {
    let sql = format!("PRAGMA wal_checkpoint({mode})");
    match conn.query_row(&sql, [], |row| row.get::<_, i64>(1)) {
        Ok(frames) => Some(frames),
        Err(error) => {
            tracing::debug!(%error, mode, "WAL checkpoint failed; tried again after a commit");
            None
        }
    }
}
