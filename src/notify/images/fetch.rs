//! One image download: a plain GET with no credentials, no cookies, no referrer and no redirects
//! followed, reading at most [`super::MAX_IMAGE_BYTES`] and stopping as soon as the body says or
//! shows it is larger. The caller bounds the time.
//!
//! Nothing of the subscription's request (its `Authorization`, its extra headers) is sent, even
//! when the image is on the subscription's own host: an image URL comes from the event data, and
//! "same origin" would have to survive redirects, proxies and look-alike ports to be safe. ntfy
//! serves attachments and icons without authentication, so nothing is lost for it; a host that
//! wants credentials for its images simply gets no image shown.

use reqwest::header::ACCEPT;
use url::Url;

use super::ImageRefused;

/// GETs `url` and returns its body if it is a 2xx answer of at most `max_bytes`.
pub(super) async fn fetch(
    client: &reqwest::Client,
    url: &Url,
    max_bytes: usize,
) -> Result<Vec<u8>, ImageRefused> {
    // The whole chain ("error sending request" alone says nothing), without the URL: it is
    // untrusted text and the log line names the event instead.
    let http = |error: reqwest::Error| {
        ImageRefused::Http(crate::untrusted::error_chain(&error.without_url()))
    };
    let mut response = client
        .get(url.clone())
        .header(ACCEPT, "image/png, image/jpeg, image/webp, image/gif")
        .send()
        .await
        .map_err(http)?;
    let status = response.status();
    if !status.is_success() {
        return Err(ImageRefused::Status(status.as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|length| length > max_bytes as u64)
    {
        return Err(ImageRefused::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(ImageRefused::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
