//! Shared parts of the app's end-to-end tests: the running `sse-tray` process, a push-on-demand
//! SSE server, the tray menu over D-Bus (`com.canonical.dbusmenu`) and X11 window checks.

#![allow(dead_code)]

pub mod app;
pub mod axe;
pub mod dbusmenu;
pub mod fill;
#[path = "../../../tests/support/notification_server.rs"]
pub mod notification_server;
pub mod push_server;
#[path = "../../../tests/support/tls_sse.rs"]
pub mod tls_sse;
pub mod watcher;
pub mod webdriver;
