//! What `cargo test` cannot run on this OS, said out loud. The suites named below are compiled
//! only where they can run (their files start with `#![cfg(...)]`), so elsewhere their test
//! binaries report "0 tests": a silent pass. Here each shows up as ignored, with the reason.
//! (Single tests that cannot run here are ignored in place, e.g. in `tests/cli.rs`.)

#[cfg(not(all(unix, not(target_os = "macos"))))]
mod needs_linux_or_bsd {
    #[test]
    #[ignore = "tests/notify_dbus.rs needs a D-Bus session bus and a freedesktop notification server (Linux/BSD)"]
    fn notify_dbus() {}

    #[test]
    #[ignore = "tests/notify_e2e.rs needs a D-Bus session bus and a freedesktop notification server (Linux/BSD)"]
    fn notify_e2e() {}

    #[test]
    #[ignore = "tests/secrets.rs needs a D-Bus session bus and gnome-keyring's Secret Service (Linux/BSD)"]
    fn secrets() {}
}

#[cfg(not(target_os = "linux"))]
#[test]
#[ignore = "tests/hostile_memory.rs reads peak memory from /proc (Linux)"]
fn hostile_memory() {}

#[cfg(not(unix))]
#[test]
#[ignore = "tests/permissions.rs checks Unix file modes (0600 / 0700)"]
fn permissions() {}
