//! `sse-tray`: the long-lived desktop process (work in progress: the process split).

// Wired up by the process split; until then only its tests use it.
#[allow(dead_code, unused_imports)]
mod tray_icon;

fn main() {}
