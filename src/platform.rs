//! The few things the OS asks of a desktop process that are not notifications or storage: its
//! identity (the app id under which Windows and macOS attribute notifications) and the signal
//! that the session is ending, so the shell can flush before it is killed.
//!
//! Each platform block is small and cfg-gated. The Windows and macOS blocks are not compiled on
//! the Linux machines this is developed on; the README's "Windows and macOS" section says what was
//! checked against which crate source.

/// The app's identifier: the bundle id on macOS and the AppUserModelID on Windows. Must equal
/// `identifier` in `src-tauri/tauri.conf.json` (a unit test checks), because the installers
/// stamp that one on the app bundle and the Start-menu shortcut.
pub const APP_ID: &str = "dev.ssetray.app";

/// The name Windows shows on toasts from [`APP_ID`] when no installed shortcut names it.
pub const APP_DISPLAY_NAME: &str = "SSE Tray";

/// Resolves when the OS says this session is ending: SIGTERM on Unix (logout, `kill`, systemd);
/// a console close, logoff or shutdown event on Windows. The shell awaits it and then quits as
/// gracefully as its Quit menu item, so history and resume state are flushed.
///
/// If the listener cannot be installed this logs why and never resolves (the process then simply
/// has no graceful path for that event, as before).
///
/// Windows: the events come through `SetConsoleCtrlHandler` (tokio). Windows gives the process
/// a few seconds after the event, and tokio's handler keeps it alive meanwhile, so the flush must
/// fit in that time. A process that has loaded `user32.dll` (any process with a window or tray
/// icon) is not sent logoff/shutdown this way: it gets `WM_ENDSESSION`, which the Tauri event
/// loop (tao) turns into its exit event right before `exit(0)`; the shell flushes there too.
pub async fn session_ending() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
                tracing::info!("SIGTERM: the session is ending");
                return;
            }
            Err(error) => tracing::warn!(%error, "cannot listen for SIGTERM"),
        }
    }
    #[cfg(windows)]
    {
        use tokio::signal::windows::{ctrl_close, ctrl_logoff, ctrl_shutdown};
        match (ctrl_close(), ctrl_logoff(), ctrl_shutdown()) {
            (Ok(mut close), Ok(mut logoff), Ok(mut shutdown)) => {
                let event = tokio::select! {
                    _ = close.recv() => "console closed",
                    _ = logoff.recv() => "user logging off",
                    _ = shutdown.recv() => "system shutting down",
                };
                tracing::info!(event, "the session is ending");
                return;
            }
            (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
                tracing::warn!(%error, "cannot listen for console close, logoff or shutdown");
            }
        }
    }
    std::future::pending::<()>().await;
}

/// Registers [`APP_ID`] as an AppUserModelID for the current user, so toasts sent with it show
/// "SSE Tray" (and `icon`, if given: an absolute path to a `.png` or `.ico`) instead of being
/// refused or shown as another app. Writes `HKCU\Software\Classes\AppUserModelId\dev.ssetray.app`
/// with `DisplayName` and `IconUri`, the registration Windows reads for unpackaged apps; an
/// installed copy is also named by its Start-menu shortcut, and writing the key again is harmless.
///
/// Call once at startup, before the first notification. A failure is returned for the shell to
/// log: toasts may then not appear or carry the wrong name, nothing else is affected.
#[cfg(windows)]
pub fn register_app_user_model_id(icon: Option<&std::path::Path>) -> windows_registry::Result<()> {
    let key = windows_registry::CURRENT_USER
        .create(format!(r"Software\Classes\AppUserModelId\{APP_ID}"))?;
    key.set_string("DisplayName", APP_DISPLAY_NAME)?;
    if let Some(icon) = icon {
        key.set_string("IconUri", icon.to_string_lossy())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_id_is_the_one_the_installers_stamp() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src-tauri/tauri.conf.json");
        let text = std::fs::read_to_string(path).expect("tauri.conf.json is readable");
        let conf: serde_json::Value = serde_json::from_str(&text).expect("tauri.conf.json is JSON");
        assert_eq!(conf["identifier"], APP_ID);
        assert_eq!(conf["productName"], APP_DISPLAY_NAME);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn sigterm_ends_the_session() {
        let mut ending = Box::pin(session_ending());
        // The first poll installs the listener (so the signal below cannot kill the test binary).
        assert!(futures::poll!(&mut ending).is_pending());
        let pid = std::process::id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
        tokio::time::timeout(std::time::Duration::from_secs(5), ending)
            .await
            .expect("resolves on SIGTERM");
    }
}
