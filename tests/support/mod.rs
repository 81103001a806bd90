//! Shared test support: a scriptable SSE server, an engine harness, and a recording
//! notification server for the D-Bus session bus.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

pub mod engine_harness;
#[cfg(all(unix, not(target_os = "macos")))]
pub mod notification_server;
pub mod sse_server;
pub mod tls_sse;
