//! [`ActionRunner`]: carries out an event's action buttons (ntfy `view`, `http`, `clear`; see
//! [`super::action_spec`]) for the long-lived process, whether pressed on the notification or in
//! the history window.
//!
//! - `view` is not opened here: the outcome hands the URL (http(s) only, judged when the payload
//!   was read) to the shell, which owns the browser.
//! - `clear` marks the event read and closes its notification.
//! - `http` never fires by itself. The first time a subscription's action would send a request to
//!   a host, the outcome is [`ActionOutcome::NeedsConfirmation`]; only a call with
//!   `confirmed: true` (the person said yes in the window) sends it, and the (subscription, host)
//!   pair is remembered in `action-hosts.json` in the data directory (private, written
//!   atomically; an unreadable file is set aside and the app starts with nothing confirmed).
//!   The request carries only the action's own headers and body — never the subscription's
//!   credentials — is bounded by a timeout ([`DEFAULT_TIMEOUT`]), follows redirects only within
//!   the same origin, and reads at most [`MAX_RESPONSE_BYTES`] of the answer, which it discards.
//!   Its result (a status or an error, and the time) is kept in history
//!   ([`HistoryStore::record_action_result`]) and shown in the details pane.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::action_spec::{ActionKind, event_actions, host_of};
use super::pipeline::NotificationPipeline;
use crate::SubscriptionId;
use crate::engine::transport::{HttpClient, HttpSetup, TransportSettings};
use crate::history::{ActionResult, EventKey, HistoryStore, StoredEvent};

/// How long an `http` action may take, connection and answer included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an answer that is read (and thrown away) before the connection is dropped.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Same-origin redirects followed at most.
const MAX_REDIRECTS: usize = 5;
/// The file of confirmed (subscription, host) pairs, in the data directory.
pub const CONFIRMED_FILE: &str = "action-hosts.json";

/// What pressing an action did, or what must happen first. Serialized for the window as
/// `{"type": "needs_confirmation", "host": …, "method": …, "url": …}`, `{"type": "opened",
/// "url": …}`, `{"type": "sent", "status": 200}`, `{"type": "failed", "error": …}` or
/// `{"type": "cleared"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionOutcome {
    /// An `http` action to a host this subscription has not been allowed to send to: ask the
    /// person (naming the method and host), then call again with `confirmed: true`.
    NeedsConfirmation {
        /// Where the request would go (`host[:port]`).
        host: String,
        /// Its method.
        method: String,
        /// Its full URL.
        url: String,
    },
    /// A `view` action: the shell opens this http(s) URL in the browser.
    Opened {
        /// The URL, normalized.
        url: String,
    },
    /// The `http` request was answered with this status (kept in history).
    Sent {
        /// The HTTP status.
        status: u16,
    },
    /// The action could not be carried out; the sentence says why (kept in history for `http`).
    Failed {
        /// Why.
        error: String,
    },
    /// A `clear` action: the event is read and its notification closed.
    Cleared,
}

/// Carries out event actions. Cheap to clone; one per app.
#[derive(Clone)]
pub struct ActionRunner {
    inner: Arc<Inner>,
    timeout: Duration,
}

struct Inner {
    history: Mutex<HistoryStore>,
    confirmed: Mutex<Confirmed>,
    http: HttpClient,
    pipeline: Option<NotificationPipeline>,
}

impl ActionRunner {
    /// A runner keeping its confirmations in `data_dir` and its results in `history` (a handle
    /// of its own on the app's history file). With a `pipeline`, `clear` also closes the
    /// event's notification.
    pub fn new(
        data_dir: &Path,
        history: HistoryStore,
        pipeline: Option<NotificationPipeline>,
    ) -> crate::Result<Self> {
        let file = data_dir.join(CONFIRMED_FILE);
        let confirmed = Confirmed::load(file)?;
        let io = |source| crate::Error::Io {
            action: "setting up HTTP for",
            path: data_dir.join(CONFIRMED_FILE),
            source,
        };
        let setup = HttpSetup::new(TransportSettings {
            connect_timeout: DEFAULT_TIMEOUT,
            ..TransportSettings::default()
        })
        .map_err(io)?;
        Ok(Self {
            inner: Arc::new(Inner {
                history: Mutex::new(history),
                confirmed: Mutex::new(confirmed),
                http: setup.client().map_err(io)?,
                pipeline,
            }),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same runner with another bound on `http` requests (tests).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether `http` actions of `subscription` may go to `host` without asking.
    pub fn is_confirmed(&self, subscription: &SubscriptionId, host: &str) -> bool {
        self.confirmed().contains(subscription, host)
    }

    /// Carries out action `index` of the event stored under `event_key`. `confirmed`: the person
    /// has just said yes to an `http` action's host (after a
    /// [`ActionOutcome::NeedsConfirmation`]); ignored by other kinds.
    pub async fn run(&self, event_key: i64, index: usize, confirmed: bool) -> ActionOutcome {
        let key = EventKey(event_key);
        let event = match self.blocking(move |inner| inner.store().get(key)).await {
            Ok(Some(event)) => event,
            Ok(None) => return failed("This event is no longer in history."),
            Err(error) => return failed(&format!("History could not be read: {error}")),
        };
        let actions = event_actions(&event.data);
        let Some(action) = actions.into_iter().nth(index) else {
            return failed("This event has no such action.");
        };
        match action.kind {
            ActionKind::View { url } => match crate::untrusted::web_url(&url) {
                Ok(url) => ActionOutcome::Opened { url: url.into() },
                Err(refusal) => failed(&refusal.to_string()),
            },
            ActionKind::Clear => self.clear(&event).await,
            ActionKind::Http {
                method,
                url,
                headers,
                body,
            } => {
                let Some(host) = host_of(&url) else {
                    return failed("The action's URL names no host.");
                };
                if !self.is_confirmed(&event.subscription, &host) {
                    if !confirmed {
                        return ActionOutcome::NeedsConfirmation { host, method, url };
                    }
                    self.confirm(&event.subscription, &host);
                }
                let sent = self.send(&method, &url, &headers, body, &host).await;
                let result = ActionResult {
                    index,
                    at: crate::event::now_unix_ms(),
                    status: sent.as_ref().ok().copied(),
                    error: sent.as_ref().err().cloned(),
                };
                let kept = self
                    .blocking(move |inner| inner.store().record_action_result(key, &result))
                    .await;
                if let Err(error) = kept {
                    tracing::warn!(%error, event_key, "an action's result was not kept");
                }
                match sent {
                    Ok(status) => ActionOutcome::Sent { status },
                    Err(error) => ActionOutcome::Failed { error },
                }
            }
        }
    }

    async fn clear(&self, event: &StoredEvent) -> ActionOutcome {
        let key = event.key;
        if let Err(error) = self
            .blocking(move |inner| inner.store().mark_read(&[key]))
            .await
        {
            return failed(&format!("The event could not be marked read: {error}"));
        }
        if let Some(pipeline) = &self.inner.pipeline {
            pipeline.close_event(&event.subscription, key);
        }
        ActionOutcome::Cleared
    }

    fn confirm(&self, subscription: &SubscriptionId, host: &str) {
        let mut confirmed = self.confirmed();
        confirmed.insert(subscription, host);
        if let Err(error) = confirmed.save() {
            // Asked again after a restart; nothing worse.
            tracing::warn!(%error, "confirmed action hosts not saved");
        }
    }

    /// Sends the request, following same-origin redirects, within the timeout. `Ok`: the status
    /// of the final answer.
    async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: String,
        host: &str,
    ) -> Result<u16, String> {
        let exchange = async {
            let mut url =
                Url::parse(url).map_err(|_| "The action's URL is not valid.".to_owned())?;
            let mut method = reqwest::Method::from_bytes(method.as_bytes())
                .map_err(|_| "The action's method is not valid.".to_owned())?;
            let mut body = Some(body).filter(|b| !b.is_empty());
            for _ in 0..=MAX_REDIRECTS {
                let mut request = self
                    .inner
                    .http
                    .reqwest()
                    .request(method.clone(), url.clone());
                for (name, value) in headers {
                    request = request.header(name.as_str(), value.as_str());
                }
                if let Some(body) = &body {
                    request = request.body(body.clone());
                }
                let mut response = request
                    .send()
                    .await
                    .map_err(|error| crate::untrusted::error_chain(&error.without_url()))?;
                let status = response.status();
                let location = status
                    .is_redirection()
                    .then(|| response.headers().get(reqwest::header::LOCATION))
                    .flatten()
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| url.join(value).ok());
                let Some(next) = location else {
                    discard_body(&mut response).await;
                    return Ok(status.as_u16());
                };
                if next.origin() != url.origin() {
                    return Err(format!(
                        "{host} redirected the request to another site; it was not followed \
                         (status {})",
                        status.as_u16()
                    ));
                }
                let to_get = status == reqwest::StatusCode::SEE_OTHER
                    || (matches!(status.as_u16(), 301 | 302) && method == reqwest::Method::POST);
                if to_get {
                    method = reqwest::Method::GET;
                    body = None;
                }
                discard_body(&mut response).await;
                url = next;
            }
            Err(format!("{host} redirected the request too many times"))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "{host} did not answer within {}",
                span(self.timeout)
            )),
        }
    }

    fn confirmed(&self) -> std::sync::MutexGuard<'_, Confirmed> {
        self.inner
            .confirmed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a history call off the runtime's threads (SQLite may wait for a lock).
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> crate::Result<T> + Send + 'static,
    ) -> Result<T, String> {
        let inner = Arc::clone(&self.inner);
        match tokio::task::spawn_blocking(move || work(&inner)).await {
            Ok(result) => result.map_err(|error| error.to_string()),
            Err(_) => Err("interrupted".to_owned()),
        }
    }
}

impl Inner {
    fn store(&self) -> std::sync::MutexGuard<'_, HistoryStore> {
        self.history.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn failed(error: &str) -> ActionOutcome {
    ActionOutcome::Failed {
        error: error.to_owned(),
    }
}

/// "10 s", or "300 ms" below a second.
fn span(duration: Duration) -> String {
    if duration >= Duration::from_secs(1) && duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// Reads and drops at most [`MAX_RESPONSE_BYTES`] of the answer (so a keep-alive connection can
/// be reused when the answer is small); errors do not matter any more.
async fn discard_body(response: &mut reqwest::Response) {
    let mut read = 0;
    while read < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
}

/// The (subscription, host) pairs whose `http` actions were confirmed, and their file.
struct Confirmed {
    file: PathBuf,
    pairs: BTreeSet<(String, String)>,
}

#[derive(Serialize, Deserialize)]
struct ConfirmedFile {
    confirmed: Vec<ConfirmedPair>,
}

#[derive(Serialize, Deserialize)]
struct ConfirmedPair {
    subscription: String,
    host: String,
}

impl Confirmed {
    /// Reads `file`; a missing one is empty, an unreadable one is set aside (and empty).
    fn load(file: PathBuf) -> crate::Result<Self> {
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    file,
                    pairs: BTreeSet::new(),
                });
            }
            Err(source) => {
                return Err(crate::Error::Io {
                    action: "reading",
                    path: file,
                    source,
                });
            }
        };
        let pairs = match serde_json::from_slice::<ConfirmedFile>(&bytes) {
            Ok(parsed) => parsed
                .confirmed
                .into_iter()
                .map(|p| (p.subscription, p.host))
                .collect(),
            Err(error) => {
                let aside =
                    crate::atomic_file::set_aside(&file, crate::atomic_file::now_unix_secs())?;
                tracing::warn!(
                    file = %file.display(),
                    set_aside = %aside.display(),
                    %error,
                    "confirmed action hosts unreadable; set aside, every host asks again"
                );
                BTreeSet::new()
            }
        };
        Ok(Self { file, pairs })
    }

    fn contains(&self, subscription: &SubscriptionId, host: &str) -> bool {
        self.pairs
            .contains(&(subscription.as_str().to_owned(), host.to_owned()))
    }

    fn insert(&mut self, subscription: &SubscriptionId, host: &str) {
        self.pairs
            .insert((subscription.as_str().to_owned(), host.to_owned()));
    }

    fn save(&self) -> crate::Result<()> {
        let file = ConfirmedFile {
            confirmed: self
                .pairs
                .iter()
                .map(|(subscription, host)| ConfirmedPair {
                    subscription: subscription.clone(),
                    host: host.clone(),
                })
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&file).unwrap_or_default();
        crate::atomic_file::write_atomic(&self.file, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmations_survive_a_restart_and_a_corrupt_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(CONFIRMED_FILE);
        let builds = SubscriptionId::new("builds");
        let mut confirmed = Confirmed::load(file.clone()).unwrap();
        assert!(!confirmed.contains(&builds, "api.example"));
        confirmed.insert(&builds, "api.example");
        confirmed.save().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = Confirmed::load(file.clone()).unwrap();
        assert!(again.contains(&builds, "api.example"));
        assert!(!again.contains(&SubscriptionId::new("other"), "api.example"));

        std::fs::write(&file, b"{not json").unwrap();
        let fresh = Confirmed::load(file.clone()).unwrap();
        assert!(!fresh.contains(&builds, "api.example"));
        assert!(!file.exists(), "set aside");
        let aside = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().contains(".corrupt-"));
        assert!(aside);
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(Duration::from_secs(10)), "10 s");
        assert_eq!(span(Duration::from_millis(300)), "300 ms");
    }
}
