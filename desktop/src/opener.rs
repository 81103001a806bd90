//! Opening a link in the user's browser, from a notification click or the windows. The URL is
//! untrusted event data: only http(s) is opened, and it is handed to the OS opener as one
//! argument (no shell ever sees it).

/// Opens `url` if it is an http(s) URL; otherwise says why not. The URL itself is never logged.
pub fn open_web_url(url: &str) -> Result<(), String> {
    let url = sse_tray::untrusted::web_url(url).map_err(|refusal| refusal.to_string())?;
    open::that_detached(String::from(url))
        .map_err(|error| format!("could not open the link: {error}"))
}
