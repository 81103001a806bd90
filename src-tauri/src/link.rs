//! This process's end of the link to the tray process ([`sse_tray::window_link`]): calls go out
//! as lines on stdout and wait for the reply of the same id, which the stdin reader
//! ([`crate::follow_parent`]) hands back. Nothing else may write to stdout.

use serde_json::Value;
use sse_tray::window_link::{self, FromWindows};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::oneshot;

/// Locks a mutex; a panic elsewhere while holding it leaves plain data that is still usable.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Calls waiting for the tray process.
#[derive(Default)]
pub struct Link {
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Result<Value, Value>>>>,
    stdout: Mutex<()>,
}

impl Link {
    /// Asks the tray process to run `method` with `args`; resolves with its answer, or an error
    /// when the tray process is gone.
    pub async fn call(&self, method: &str, args: Value) -> Result<Value, Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, answer) = oneshot::channel();
        lock(&self.pending).insert(id, sender);
        let line = window_link::to_line(&FromWindows::Call {
            id,
            method: method.to_owned(),
            args,
        });
        let written = {
            let _one_writer = lock(&self.stdout);
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(line.as_bytes())
                .and_then(|()| stdout.flush())
        };
        if let Err(error) = written {
            lock(&self.pending).remove(&id);
            return Err(Value::String(format!("the app is not running ({error})")));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(Value::String("the app stopped before answering".into())))
    }

    /// Hands a reply to the call that waits for it.
    pub fn complete(&self, id: u64, ok: Option<Value>, err: Option<Value>) {
        if let Some(waiting) = lock(&self.pending).remove(&id) {
            let _ = waiting.send(match err {
                Some(err) => Err(err),
                None => Ok(ok.unwrap_or(Value::Null)),
            });
        }
    }
}
