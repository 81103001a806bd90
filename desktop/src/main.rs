//! `sse-tray`: the long-lived desktop process (work in progress: the process split).

fn main() {}
