//! Images in notifications: an event's `icon` URL or image attachment (chosen by
//! [`super::payload::event_image`], allowed by the subscription's `images` and
//! `allow_http_images`, see [`super::SubscriptionNotifyPrefs::image_to_fetch`]) is fetched by the
//! app, checked, cached and handed to the notification server as a local file.
//!
//! Why the app and not the notification server: the server would fetch with the desktop's
//! identity, from any scheme, and decode anything; here the URL is judged (http(s), no
//! credentials in it, https unless allowed), the download is capped at [`MAX_IMAGE_BYTES`] and
//! [`FETCH_TIMEOUT`] and carries no credentials ([`fetch`]), and only a PNG, JPEG, WebP or GIF
//! that decodes within limits is kept ([`decode`]), in a private cache under a byte budget
//! ([`cache`]).
//!
//! Only events the policy decided to *show* carry an image URL ([`super::Notice::image`]), so a
//! muted, skipped, filtered, throttled or quiet-hours event never causes a request. The fetch
//! runs on the tokio runtime, never on the engine's writer thread: the notification waits for its
//! image at most [`SHOW_WAIT`] and is then shown without it, while the download may go on and
//! fill the cache for the history window. Other events are not held up by a slow image host; the
//! price is that a notification with an image can appear after one that came later without.

mod cache;
mod decode;
mod fetch;

pub use cache::{CachedFile, DEFAULT_BUDGET, ImageCache, over_budget};
pub use decode::{ImageKind, MAX_DECODE_ALLOC, MAX_SIDE, check};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use url::Url;

use super::notifier::{NotificationRequest, Notifier};
use super::policy::Notice;
use crate::engine::transport::{HttpClient, HttpSetup, TransportSettings};

/// The largest image body read, in bytes; a longer one is dropped unread.
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// The most time one download may take, connecting included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a notification waits for its image before it is shown without one.
pub const SHOW_WAIT: Duration = Duration::from_secs(3);
/// Downloads at once; the throttle already bounds how many shown events can ask.
const PARALLEL_FETCHES: usize = 4;

/// Why an event's image is not shown (logged, never fatal: the notification goes out without).
#[derive(Debug, thiserror::Error)]
pub enum ImageRefused {
    /// The URL did not parse (it was judged before, so this is a bug or a changed judge).
    #[error("not a usable URL")]
    BadUrl,
    /// The server's answer was not 2xx (redirects are not followed).
    #[error("the image server answered HTTP {0}")]
    Status(u16),
    /// Connecting or reading failed.
    #[error("fetching the image failed: {0}")]
    Http(String),
    /// The download took longer than [`FETCH_TIMEOUT`].
    #[error("fetching the image took longer than {} s", FETCH_TIMEOUT.as_secs())]
    TimedOut,
    /// The body is larger than [`MAX_IMAGE_BYTES`].
    #[error("the image is larger than {} MiB", MAX_IMAGE_BYTES >> 20)]
    TooLarge,
    /// The body is not PNG, JPEG, WebP or GIF.
    #[error("not a PNG, JPEG, WebP or GIF image")]
    NotAnImage,
    /// It claims to be one but does not decode within the limits.
    #[error("the image does not decode: {0}")]
    Undecodable(String),
    /// The checked image could not be written to the cache.
    #[error("caching the image failed: {0}")]
    Cache(#[from] crate::Error),
    /// The blocking check or write was cancelled (the runtime is shutting down).
    #[error("the image check was interrupted")]
    Interrupted,
}

/// Fetches, checks and caches event images, and shows an event's notification with its image.
/// Cheap to clone.
#[derive(Clone)]
pub struct NotifyImages {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    cache: ImageCache,
    runtime: Handle,
    fetches: Semaphore,
    show_wait: Duration,
}

impl NotifyImages {
    /// The images of an app whose data directory is `data_dir` (cache in `<data_dir>/images`),
    /// fetched on the current tokio runtime: call it from inside one.
    pub fn start(data_dir: &Path) -> std::io::Result<Self> {
        Self::with_cache(ImageCache::in_data_dir(data_dir), SHOW_WAIT)
    }

    /// The same with a cache of one's own and another wait (tests).
    pub fn with_cache(cache: ImageCache, show_wait: Duration) -> std::io::Result<Self> {
        let runtime = Handle::try_current().map_err(std::io::Error::other)?;
        let setup = HttpSetup::new(TransportSettings {
            connect_timeout: FETCH_TIMEOUT,
            ..TransportSettings::default()
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http: setup.client()?,
                cache,
                runtime,
                fetches: Semaphore::new(PARALLEL_FETCHES),
                show_wait,
            }),
        })
    }

    /// The cache the images go to (the history window looks images up there).
    pub fn cache(&self) -> &ImageCache {
        &self.inner.cache
    }

    /// The checked, cached file of `url`'s image: from the cache when it is there, else fetched
    /// (see [`fetch`]), checked ([`check`]) and stored.
    pub async fn image_for(&self, url: &str) -> Result<PathBuf, ImageRefused> {
        // A few stat calls and a timestamp update: still file I/O, so not on a runtime thread.
        let cache = self.inner.cache.clone();
        let key = url.to_owned();
        let cached = tokio::task::spawn_blocking(move || cache.use_cached(&key))
            .await
            .map_err(|_| ImageRefused::Interrupted)?;
        if let Some(path) = cached {
            return Ok(path);
        }
        let parsed = Url::parse(url).map_err(|_| ImageRefused::BadUrl)?;
        let bytes = {
            let _permit = self
                .inner
                .fetches
                .acquire()
                .await
                .map_err(|_| ImageRefused::Interrupted)?;
            tokio::time::timeout(
                FETCH_TIMEOUT,
                fetch::fetch(self.inner.http.reqwest(), &parsed, MAX_IMAGE_BYTES),
            )
            .await
            .map_err(|_| ImageRefused::TimedOut)??
        };
        let cache = self.inner.cache.clone();
        let url = url.to_owned();
        tokio::task::spawn_blocking(move || -> Result<PathBuf, ImageRefused> {
            let kind = check(&bytes)?;
            Ok(cache.store(&url, kind, &bytes)?)
        })
        .await
        .map_err(|_| ImageRefused::Interrupted)?
    }

    /// Shows `notice` on `notifier` with its image: waits for [`Self::image_for`] at most the
    /// show wait, then shows it with the image or without. Returns at once; the work runs on
    /// the runtime.
    pub fn show_with_image(&self, notice: Notice, notifier: Arc<dyn Notifier>) {
        let Some(url) = notice.image.clone() else {
            notifier.show(NotificationRequest::for_event(&notice));
            return;
        };
        let this = self.clone();
        self.inner.runtime.spawn(async move {
            // Its own task: the download goes on (and fills the cache) after the wait ends.
            let download = this.inner.runtime.spawn({
                let this = this.clone();
                async move { this.image_for(&url).await }
            });
            let image = match tokio::time::timeout(this.inner.show_wait, download).await {
                Ok(Ok(Ok(path))) => Some(path),
                Ok(Ok(Err(refused))) => {
                    tracing::info!(%refused, event_key = notice.event_key, "notification shown without its image");
                    None
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "the image download task failed");
                    None
                }
                Err(_) => {
                    tracing::info!(
                        event_key = notice.event_key,
                        "the image was not ready in time; notification shown without it"
                    );
                    None
                }
            };
            let mut request = NotificationRequest::for_event(&notice);
            request.image = image;
            notifier.show(request);
        });
    }
}
