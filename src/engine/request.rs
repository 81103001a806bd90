//! One request for a stream, the same for the engine and for "Test connection": the method, body
//! and headers of a subscription, the resume point, and the redirects [`super::redirect`] allows,
//! followed hop by hop.

use super::connection::ConnectionSpec;
use super::redirect::{self, RedirectRefusal};
use super::transport::HttpClient;
use crate::config::ResumeMode;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use url::Url;

/// A subscription's request, checked once when its task starts.
#[derive(Clone, Debug)]
pub struct StreamRequest {
    url: Url,
    method: Method,
    headers: HeaderMap,
    body: Option<(bytes::Bytes, HeaderValue)>,
    resume: ResumeMode,
    sends_credentials: bool,
}

/// A response that opened (any status but a redirect), and what the redirects said.
#[derive(Debug)]
pub struct Opened {
    /// The answer.
    pub response: reqwest::Response,
    /// Where a permanent redirect (301/308) on the first hop pointed: the URL to adopt.
    pub moved_permanently: Option<Url>,
}

/// Why no response was had.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The request failed (connect, TLS, a broken response head).
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// A redirect was not followed.
    #[error("{0}")]
    Redirect(RedirectRefusal),
}

impl StreamRequest {
    /// The request of `spec`, or why it cannot be made (the message names no header value: it
    /// may be a credential).
    pub fn new(connection: &ConnectionSpec) -> Result<Self, String> {
        let spec = connection.subscription();
        let url = Url::parse(&spec.url).map_err(|err| format!("the URL is not valid: {err}"))?;
        let method = Method::from_bytes(spec.method.as_bytes())
            .map_err(|_| format!("`{}` is not an HTTP method", spec.method))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
        for (name, value) in connection.headers() {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`{name}` is not a valid header name"))?;
            if name == "last-event-id" {
                continue;
            }
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| format!("the value of header `{name}` is not valid"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let body = match &spec.body {
            Some(body) => Some((
                bytes::Bytes::from(body.content.clone()),
                HeaderValue::from_str(&body.content_type)
                    .map_err(|_| "the body's content type is not valid".to_owned())?,
            )),
            None => None,
        };
        Ok(Self {
            url,
            method,
            headers,
            body,
            resume: spec.resume.clone(),
            sends_credentials: connection.sends_credentials() || !url_is_anonymous(&spec.url),
        })
    }

    /// Whether the subscription sends anything that may be a credential: a header of its own,
    /// or a user name or password in its URL.
    pub fn sends_credentials(&self) -> bool {
        self.sends_credentials
    }

    /// The configured URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The first URL requested: the configured one, plus the resume parameter when resuming by
    /// query.
    fn first_url(&self, last_event_id: Option<&str>) -> Url {
        match (&self.resume, last_event_id) {
            (ResumeMode::QueryParam(param), Some(id)) if !id.is_empty() => {
                with_query_param(&self.url, param, id)
            }
            _ => self.url.clone(),
        }
    }

    /// Sends the request (resuming from `last_event_id` as the subscription says; `None` never
    /// resumes) and follows the redirects that are allowed.
    pub async fn open(
        &self,
        client: &HttpClient,
        last_event_id: Option<&str>,
    ) -> Result<Opened, OpenError> {
        let mut headers = self.headers.clone();
        if let (ResumeMode::Header, Some(id)) = (&self.resume, last_event_id)
            && !id.is_empty()
        {
            match HeaderValue::from_str(id) {
                Ok(value) => {
                    headers.insert("last-event-id", value);
                }
                Err(_) => tracing::warn!(
                    "the last event id cannot be sent as a header; resuming without it"
                ),
            }
        }
        let mut url = self.first_url(last_event_id);
        let mut method = self.method.clone();
        let mut body = self.body.clone();
        let mut moved_permanently = None;
        for hop in 0..=redirect::MAX_REDIRECTS {
            let mut request = client
                .reqwest()
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some((content, content_type)) = &body {
                request = request
                    .header(http::header::CONTENT_TYPE, content_type.clone())
                    .body(content.clone());
            }
            let response = request.send().await?;
            let status = response.status().as_u16();
            if !redirect::is_redirect(status) {
                return Ok(Opened {
                    response,
                    moved_permanently,
                });
            }
            let location = response
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            let next = redirect::next_hop(&url, location, self.sends_credentials())
                .map_err(OpenError::Redirect)?;
            if hop == 0 && redirect::is_permanent(status) {
                moved_permanently = Some(next.clone());
            }
            if redirect::becomes_get(status, method.as_str()) {
                method = Method::GET;
                body = None;
            }
            tracing::debug!(status, to = %next, "following a redirect");
            url = next;
        }
        Err(OpenError::Redirect(RedirectRefusal::TooMany))
    }
}

/// Whether a URL carries no user name or password.
fn url_is_anonymous(url: &str) -> bool {
    Url::parse(url).is_ok_and(|url| url.username().is_empty() && url.password().is_none())
}

/// `url` with `param=value` set (replacing an existing value of that parameter).
pub fn with_query_param(url: &Url, param: &str, value: &str) -> Url {
    let mut url = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| name != param)
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(param, value);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_param_is_added_or_replaced() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            with_query_param(&url("http://h/e"), "since", "a b").as_str(),
            "http://h/e?since=a+b"
        );
        assert_eq!(
            with_query_param(&url("http://h/e?topic=x&since=1"), "since", "2").as_str(),
            "http://h/e?topic=x&since=2"
        );
    }
}
