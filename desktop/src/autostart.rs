//! Start at login: a login item that starts this (tray) executable with `--hidden`, so the app
//! comes up in the tray with no window. The `auto-launch` crate writes the OS's own kind of entry
//! (an XDG autostart `.desktop` file, a LaunchAgent, a Run key); it is the crate Tauri's autostart
//! plugin wraps, used directly because the tray process has no Tauri.

use auto_launch::{AutoLaunch, AutoLaunchBuilder};

/// The name of the login item.
const APP_NAME: &str = "SSE Tray";

fn entry() -> Result<AutoLaunch, String> {
    let exe = std::env::current_exe().map_err(|e| format!("where is this program? {e}"))?;
    // An AppImage runs from a temporary mount: the login item must start the image itself.
    let path = std::env::var_os("APPIMAGE")
        .filter(|p| cfg!(target_os = "linux") && !p.is_empty())
        .map_or_else(
            || exe.display().to_string(),
            |p| p.to_string_lossy().into_owned(),
        );
    let mut builder = AutoLaunchBuilder::new();
    builder
        .set_app_name(APP_NAME)
        .set_app_path(&path)
        .set_args(&["--hidden"]);
    builder.build().map_err(|e| e.to_string())
}

/// Whether the login item exists.
pub fn is_enabled() -> Result<bool, String> {
    entry()?.is_enabled().map_err(|e| e.to_string())
}

/// Creates or removes the login item. Removing one that is not there is not an error.
pub fn set_enabled(enabled: bool) -> Result<(), String> {
    let entry = entry()?;
    let result = if enabled {
        entry.enable()
    } else {
        entry.disable()
    };
    match result {
        Err(auto_launch::Error::Io(e)) if !enabled && e.kind() == std::io::ErrorKind::NotFound => {
            Ok(())
        }
        other => other.map_err(|e| e.to_string()),
    }
}
