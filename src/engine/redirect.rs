//! Which redirects a subscription follows, decided hop by hop (the HTTP client follows none by
//! itself), so the engine and "Test connection" always agree.
//!
//! Credentials are a subscription's own headers (its authentication and any extra header: any of
//! them may be a secret) and a `user:password@` in its URL. The rules:
//! - same origin (scheme, host and port): followed, with everything;
//! - another origin: followed only by a subscription that sends no credentials; one that does
//!   stops with "redirected to another origin" and the new URL, because stripping its headers
//!   would just turn into a confusing 401 there, and sending them would hand a secret to a host
//!   nobody chose. A person who trusts the new host puts its URL in the subscription;
//! - `https` → `http`: refused, whatever the subscription sends (a downgrade exposes the stream
//!   itself);
//! - anything but http(s), no `Location`, or more than [`MAX_REDIRECTS`] hops: refused.
//!
//! Relative `Location` values resolve against the URL that answered. A 303 (and a 301/302 to a
//! request that is not a GET, as browsers do) continues as a GET without a body; 307/308 keep the
//! method and body. A 301/308 on the first hop is reported so diagnostics can name the URL to
//! adopt.

use std::fmt;
use url::Url;

/// The most hops followed for one connection.
pub const MAX_REDIRECTS: usize = 10;

/// Why a redirect is not followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedirectRefusal {
    /// The answer had no usable `Location`.
    NoLocation,
    /// The target is not an http(s) URL.
    NotHttp {
        /// What the server sent (made printable by the caller's display).
        location: String,
    },
    /// From https to plain http.
    Downgrade {
        /// The target URL.
        to: String,
    },
    /// To another origin, from a subscription that sends credentials.
    OtherOrigin {
        /// The target URL.
        to: String,
    },
    /// More than [`MAX_REDIRECTS`] hops.
    TooMany,
}

impl fmt::Display for RedirectRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedirectRefusal::NoLocation => f.write_str("the server redirected without a location"),
            RedirectRefusal::NotHttp { location } => {
                write!(f, "the server redirected to a non-http(s) URL ({location})")
            }
            RedirectRefusal::Downgrade { to } => write!(
                f,
                "refused a redirect from https to plain http ({to}): the stream would travel \
                 unencrypted"
            ),
            RedirectRefusal::OtherOrigin { to } => write!(
                f,
                "redirected to another origin ({to}); credentials are not sent there — put that \
                 URL in the subscription if you trust it"
            ),
            RedirectRefusal::TooMany => {
                write!(f, "more than {MAX_REDIRECTS} redirects in a row")
            }
        }
    }
}

/// Where one redirect leads, if it is followed.
pub fn next_hop(
    from: &Url,
    location: Option<&str>,
    sends_credentials: bool,
) -> Result<Url, RedirectRefusal> {
    let location = location
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .ok_or(RedirectRefusal::NoLocation)?;
    let to = from.join(location).map_err(|_| RedirectRefusal::NotHttp {
        location: location.to_owned(),
    })?;
    if !matches!(to.scheme(), "http" | "https") || to.host_str().is_none() {
        return Err(RedirectRefusal::NotHttp {
            location: location.to_owned(),
        });
    }
    if from.scheme() == "https" && to.scheme() == "http" {
        return Err(RedirectRefusal::Downgrade { to: to.to_string() });
    }
    if sends_credentials && from.origin() != to.origin() {
        return Err(RedirectRefusal::OtherOrigin { to: to.to_string() });
    }
    Ok(to)
}

/// Whether a status redirects (the ones with a `Location` to follow).
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Whether a status says the resource moved for good.
pub fn is_permanent(status: u16) -> bool {
    matches!(status, 301 | 308)
}

/// Whether the next hop continues as a GET without a body.
pub fn becomes_get(status: u16, method: &str) -> bool {
    status == 303 || (matches!(status, 301 | 302) && method != "GET" && method != "HEAD")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn relative_locations_resolve_against_the_answering_url() {
        let from = url("https://a.example/v1/stream?x=1");
        assert_eq!(
            next_hop(&from, Some("/v2/stream"), true),
            Ok(url("https://a.example/v2/stream"))
        );
        assert_eq!(
            next_hop(&from, Some("other"), true),
            Ok(url("https://a.example/v1/other"))
        );
    }

    #[test]
    fn credentials_never_leave_the_origin() {
        let from = url("https://a.example/s");
        for target in [
            "https://b.example/s",
            "https://a.example:8443/s",
            "//b.example/s",
        ] {
            assert!(
                matches!(
                    next_hop(&from, Some(target), true),
                    Err(RedirectRefusal::OtherOrigin { .. })
                ),
                "{target}"
            );
        }
        assert_eq!(
            next_hop(&from, Some("https://b.example/s"), false),
            Ok(url("https://b.example/s"))
        );
    }

    #[test]
    fn downgrades_and_strange_targets_are_refused() {
        let from = url("https://a.example/s");
        assert!(matches!(
            next_hop(&from, Some("http://a.example/s"), false),
            Err(RedirectRefusal::Downgrade { .. })
        ));
        for target in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "ftp://a.example/",
        ] {
            assert!(
                matches!(
                    next_hop(&from, Some(target), false),
                    Err(RedirectRefusal::NotHttp { .. })
                ),
                "{target}"
            );
        }
        assert_eq!(
            next_hop(&from, None, false),
            Err(RedirectRefusal::NoLocation)
        );
        assert_eq!(
            next_hop(&from, Some("  "), false),
            Err(RedirectRefusal::NoLocation)
        );
        // Plain http upgrading to https on the same host is another origin: only without
        // credentials.
        let plain = url("http://a.example/s");
        assert_eq!(
            next_hop(&plain, Some("https://a.example/s"), false),
            Ok(url("https://a.example/s"))
        );
    }

    #[test]
    fn method_rules() {
        assert!(becomes_get(303, "POST"));
        assert!(becomes_get(302, "POST"));
        assert!(!becomes_get(307, "POST"));
        assert!(!becomes_get(308, "REPORT"));
        assert!(!becomes_get(301, "GET"));
        assert!(is_permanent(308) && is_permanent(301) && !is_permanent(307));
    }
}
