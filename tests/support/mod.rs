//! Shared test support: a scriptable SSE server and an engine harness.
#![allow(dead_code, missing_docs, clippy::unwrap_used)]

pub mod engine_harness;
pub mod sse_server;
