//! Shared test support: a scriptable SSE server and an engine harness.
#![allow(dead_code, missing_docs)]

pub mod engine_harness;
pub mod sse_server;
