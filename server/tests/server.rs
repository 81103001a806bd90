//! Integration tests: real sockets on 127.0.0.1, real SQLite files, a real redis-server.
//! One test binary with topic modules, so the suite links once.

// Helpers outside `#[test]` functions panic on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "it/contract.rs"]
mod contract;
#[path = "it/demo.rs"]
mod demo;
#[path = "it/redis.rs"]
mod redis_mode;
#[path = "it/redis_process.rs"]
mod redis_process;
#[path = "it/slow_clients.rs"]
mod slow_clients;
#[path = "it/sqlite.rs"]
mod sqlite;
#[path = "it/support.rs"]
mod support;
