//! Which strings may be handed to the system's URL opener: absolute http(s) URLs only. Event data
//! is hostile, so `file:`, `javascript:`, custom schemes and relative paths are refused here, in
//! Rust, whatever the page asks for.

/// Whether `candidate` is an absolute `http` or `https` URL with a host.
pub fn is_web_url(candidate: &str) -> bool {
    let trimmed = candidate.trim();
    if trimmed.len() != candidate.len() || trimmed.chars().any(char::is_control) {
        return false;
    }
    let Some((scheme, rest)) = trimmed.split_once("://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        && !host.is_empty()
        && !host.starts_with('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_pass() {
        for good in [
            "https://example.com",
            "http://ci.example.com/builds/42?x=1#y",
            "HTTPS://A.B",
        ] {
            assert!(is_web_url(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "ftp://example.com",
            "/relative",
            "https://",
            " https://example.com",
            "https://exa\nmple.com",
            "data:text/html,<b>",
            "sse-tray://x",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }
}
