//! The one way the server's tests and benchmarks start `redis-server`: a child process on a free
//! loopback port with no persistence, in a temporary directory, killed on drop.
//!
//! Included by path from the library's unit tests (`src/store/redis.rs`), the integration tests
//! (`tests/it/support.rs`) and the benchmark (`benches/streams.rs`), so there is one copy.

// Each of the three targets uses a different part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` child process; killed on drop.
pub struct RedisProcess {
    child: Child,
    /// `redis://127.0.0.1:<port>/`.
    pub url: String,
    port: u16,
    dir: tempfile::TempDir,
}

impl RedisProcess {
    /// Starts one and waits until it answers `PING`; panics if it cannot (a failed setup is a
    /// failed test).
    pub fn start() -> Self {
        Self::try_start()
            .expect("redis-server must be installed (scripts/install-deps.sh redis-server)")
    }

    /// Like [`RedisProcess::start`], but says why it could not start instead of panicking.
    pub fn try_start() -> std::io::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = tempfile::tempdir()?;
        let child = Self::spawn(port, dir.path())?;
        Ok(Self {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
            port,
            dir,
        })
    }

    /// Kills the server and starts a new, empty one on the same port.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Self::spawn(self.port, self.dir.path()).expect("redis-server restarts");
    }

    /// Starts `redis-server` on `port` and waits (up to 10 s) until it answers `PING`.
    fn spawn(port: u16, dir: &Path) -> std::io::Result<Child> {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let url = format!("redis://127.0.0.1:{port}/");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(client) = redis::Client::open(url.as_str())
                && let Ok(mut conn) = client.get_connection()
                && redis::cmd("PING").query::<String>(&mut conn).is_ok()
            {
                return Ok(child);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(std::io::Error::other(
                    "redis-server did not answer PING in 10 s",
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
