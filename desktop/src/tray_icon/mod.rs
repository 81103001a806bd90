//! The tray icon and its menu, without a web engine.
//!
//! The tray process must stay small and long-lived, so it cannot use Tauri's tray (which brings
//! GTK and a webview along). This module owns the icon, its tooltip and its menu, and reports
//! clicks as [`TrayInput`] on a channel; the caller decides what a click means.
//!
//! The API is the same everywhere; only the [`TrayBackend`] handed to [`TrayIcon::start`] differs:
//!
//! - **Linux/BSD** (`sni`): a `StatusNotifierItem` with a `com.canonical.dbusmenu` menu, served
//!   with zbus on a session-bus connection, at the object paths libayatana-appindicator used, so
//!   panels (and the end-to-end tests) find it where they found the Tauri app's tray. The module
//!   also follows the `StatusNotifierWatcher` and reports through [`TrayIcon::host`] whether any
//!   panel can show the icon at all (issue 18: without one the app must not hide in the tray).
//! - **Windows/macOS** (`native`): the `tray-icon`/`muda` crates on a tao event loop that owns
//!   the main thread.

#[cfg(any(windows, target_os = "macos"))]
pub mod native;

#[cfg(all(unix, not(target_os = "macos")))]
mod menu;
#[cfg(all(unix, not(target_os = "macos")))]
mod sni;
#[cfg(all(unix, not(target_os = "macos")))]
mod watcher;

#[cfg(all(test, unix, not(target_os = "macos")))]
mod sni_tests;

#[cfg(all(unix, not(target_os = "macos")))]
pub use sni::TrayIcon;

#[cfg(any(windows, target_os = "macos"))]
pub use native::TrayIcon;

/// Where the tray icon lives: the session bus on Linux/BSD.
#[cfg(all(unix, not(target_os = "macos")))]
pub type TrayBackend = zbus::Connection;

/// Where the tray icon lives: the main thread's event loop on Windows/macOS (see
/// [`native::run_main_loop`]).
#[cfg(any(windows, target_os = "macos"))]
pub type TrayBackend = native::MainLoop;

/// Everything the tray shows. [`TrayIcon::update`] compares it with what is shown and only
/// tells the desktop about the differences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrayLook {
    /// Square icon, RGBA8 rows top to bottom, `icon_size * icon_size * 4` bytes.
    pub icon_rgba: Vec<u8>,
    /// Width and height of the icon in pixels.
    pub icon_size: u32,
    /// Text shown when hovering the icon.
    pub tooltip: String,
    /// The menu, top to bottom.
    pub menu: Vec<MenuEntry>,
}

/// One entry of the tray menu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuEntry {
    /// A clickable item; a click is reported as [`TrayInput::Menu`] with its `id`.
    Item {
        /// Stable identifier, unique within the menu; reported back on click.
        id: String,
        /// Text shown. On Linux an `_` marks a mnemonic for most panels (write `__` for a literal
        /// underscore).
        label: String,
        /// A disabled item is shown greyed out and never reported.
        enabled: bool,
    },
    /// A horizontal line between groups of items.
    Separator,
    /// A nested menu.
    Submenu {
        /// Text shown; also identifies the submenu between updates.
        label: String,
        /// Entries of the nested menu.
        children: Vec<MenuEntry>,
    },
}

/// What the user did with the tray icon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrayInput {
    /// A menu item was clicked: its [`MenuEntry::Item`] id.
    Menu(String),
    /// The icon itself was activated (usually a left click).
    Activate,
}

/// Whether a panel can show the icon at all.
///
/// On Linux/BSD this follows the `StatusNotifierWatcher` on the session bus; on Windows/macOS the
/// system tray is always there, so every field is `true`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrayHost {
    /// A `StatusNotifierWatcher` owns its name on the bus.
    pub watcher: bool,
    /// The watcher says a host (a panel that draws items) is registered with it.
    pub host: bool,
    /// Our item is registered with the current watcher.
    pub registered: bool,
}

impl TrayHost {
    /// True when the icon is registered with a watcher that has a host, i.e. it is on screen.
    pub fn shows_icon(&self) -> bool {
        self.watcher && self.host && self.registered
    }
}

/// Why the tray icon could not be started or updated.
#[derive(Debug, thiserror::Error)]
pub enum TrayError {
    /// `icon_rgba` does not hold `icon_size * icon_size` RGBA pixels.
    #[error("the tray icon has {len} bytes, {size}x{size} RGBA needs {expected}")]
    BadIcon {
        /// Bytes given.
        len: usize,
        /// Side given.
        size: u32,
        /// Bytes needed.
        expected: u64,
    },
    /// A D-Bus call or registration failed.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[error("tray icon D-Bus error: {0}")]
    Bus(#[from] zbus::Error),
    /// This connection already serves a tray icon.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[error("this D-Bus connection already serves a tray icon")]
    AlreadyServed,
    /// The platform tray refused the icon or menu.
    #[cfg(any(windows, target_os = "macos"))]
    #[error("tray icon error: {0}")]
    Native(String),
    /// The main thread's event loop has ended.
    #[cfg(any(windows, target_os = "macos"))]
    #[error("the tray's event loop has ended")]
    MainLoopGone,
}

impl TrayLook {
    /// Checks that the icon bytes match the size.
    fn check_icon(&self) -> Result<(), TrayError> {
        let expected = u64::from(self.icon_size) * u64::from(self.icon_size) * 4;
        if self.icon_size == 0 || self.icon_rgba.len() as u64 != expected {
            return Err(TrayError::BadIcon {
                len: self.icon_rgba.len(),
                size: self.icon_size,
                expected,
            });
        }
        Ok(())
    }
}
