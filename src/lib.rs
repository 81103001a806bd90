//! Core of SSE Tray: everything that keeps a Server-Sent Events subscription honest, with no GUI.
//!
//! The Tauri shell, the CLI and the tests all drive the same pieces: the subscription engine
//! ([`engine`]), the history store ([`history`]), the resume state ([`resume_state`]) and the
//! configuration ([`config`]). Keeping them free of any GUI toolkit is what lets the invariants
//! (nothing lost, nothing twice, dead links noticed, polite reconnects) be tested headless against
//! real servers.

pub mod atomic_file;
pub mod config;
pub mod config_service;
pub mod config_watch;
pub mod diagnostics;
pub mod engine;
pub mod error;
pub mod event;
pub mod history;
pub mod notify;
pub mod paths;
pub mod platform;
pub mod probe;
pub mod resume_state;
pub mod secrets;
pub mod settings;
pub mod tray_status;
pub mod untrusted;
pub mod window_link;

pub use error::{Error, Result};
pub use event::{GAP_EVENT_TYPE, ReceivedEvent, SKIPPED_EVENT_TYPE, SubscriptionId};
