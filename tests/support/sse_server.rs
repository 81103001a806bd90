//! A real HTTP/1.1 server on 127.0.0.1 whose every connection follows a script written by the
//! test: what to send, when to pause, when to close or go silent. Raw TCP, so a test can do what
//! a misbehaving server does (withhold headers, break UTF-8, never end a line, vanish).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query, e.g. `/events?since=4`.
    pub target: String,
    /// The body (by `Content-Length`), empty when there is none.
    pub body: Vec<u8>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// When it arrived.
    pub at: Instant,
}

impl RecordedRequest {
    /// A header's value by (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One step of a connection's script.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Wait.
    Pause(Duration),
    /// Keep the connection open and say nothing, until the server is dropped.
    Hang,
}

/// Builds the script of a connection from its request and its index (0 for the first).
pub type Script = Arc<dyn Fn(&RecordedRequest, usize) -> Vec<Step> + Send + Sync>;

/// A running scripted server; stops (closing every connection) when dropped.
pub struct ScriptedServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    /// Starts on a free port.
    pub async fn start(
        script: impl Fn(&RecordedRequest, usize) -> Vec<Step> + Send + Sync + 'static,
    ) -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), Arc::new(script)).await
    }

    /// Starts on a given address (to restart a server on the same port).
    pub async fn start_on(addr: SocketAddr, script: Script) -> Self {
        let listener = bind_with_retry(addr).await;
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let accept_loop = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let script = script.clone();
                let recorded = recorded.clone();
                connections.spawn(async move { serve(socket, script, recorded).await });
            }
        });
        Self {
            addr,
            requests,
            accept_loop,
        }
    }

    /// `http://127.0.0.1:PORT/events`.
    pub fn url(&self) -> String {
        format!("http://{}/events", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// Stops accepting and drops every open connection, as a crashed server would.
    pub async fn stop(self) {
        self.accept_loop.abort();
        // Let the aborted accept loop drop its listener and connections before returning.
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn bind_with_retry(addr: SocketAddr) -> TcpListener {
    for _ in 0..50 {
        match TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("cannot bind {addr}");
}

async fn serve(mut socket: TcpStream, script: Script, recorded: Arc<Mutex<Vec<RecordedRequest>>>) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    let index = {
        let mut all = recorded.lock().unwrap();
        all.push(request.clone());
        all.len() - 1
    };
    for step in script(&request, index) {
        match step {
            Step::Send(bytes) => {
                if socket.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Step::Pause(duration) => tokio::time::sleep(duration).await,
            Step::Hang => std::future::pending::<()>().await,
        }
    }
    let _ = socket.shutdown().await;
}

async fn read_request(socket: &mut TcpStream) -> Option<RecordedRequest> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some(RecordedRequest {
        method,
        target,
        body,
        headers,
        at: Instant::now(),
    })
}

/// Response head of a healthy event stream (body delimited by connection close).
pub fn stream_head() -> Step {
    Step::Send(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
            .to_vec(),
    )
}

/// A bodiless response with a status and extra header lines.
pub fn status(code: u16, extra_headers: &[&str]) -> Step {
    let mut head = format!("HTTP/1.1 {code} Status\r\nContent-Length: 0\r\n");
    for header in extra_headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    Step::Send(head.into_bytes())
}

/// One frame: `event:`, `id:`, `data:`.
pub fn frame(id: u64, event: &str, data: &str) -> Step {
    Step::Send(format!("event: {event}\nid: {id}\ndata: {data}\n\n").into_bytes())
}

/// Raw bytes.
pub fn raw(bytes: impl Into<Vec<u8>>) -> Step {
    Step::Send(bytes.into())
}

/// The id a request resumes from (`Last-Event-ID`), as a number.
pub fn resumed_from(request: &RecordedRequest) -> u64 {
    request
        .header("last-event-id")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
