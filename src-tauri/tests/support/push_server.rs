//! A real SSE server on 127.0.0.1:0 whose events the test publishes on demand. It records every
//! request and how many streams are open, which is how a test sees "no new requests" after Pause.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::broadcast;

pub struct PushServer {
    pub url: String,
    frames: broadcast::Sender<String>,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
    open: Arc<AtomicUsize>,
}

impl PushServer {
    pub async fn start() -> Self {
        Self::start_inner(None).await
    }

    /// A server that answers 401 unless the request carries `Authorization: Bearer <token>`.
    pub async fn start_with_token(token: &str) -> Self {
        Self::start_inner(Some(format!(
            "authorization: bearer {}",
            token.to_ascii_lowercase()
        )))
        .await
    }

    async fn start_inner(required: Option<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/events", listener.local_addr().expect("addr"));
        let (frames, _) = broadcast::channel::<String>(1024);
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let open = Arc::new(AtomicUsize::new(0));
        let (tx, reqs, open2) = (frames.clone(), requests.clone(), open.clone());
        let required = std::sync::Arc::new(required);
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (mut rx, reqs, open) = (tx.subscribe(), reqs.clone(), open2.clone());
                let required = required.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    reqs.lock().expect("requests").push(head.clone());
                    if let Some(required) = required.as_ref()
                        && !head.to_ascii_lowercase().contains(required.as_str())
                    {
                        let _ = socket
                            .write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .await;
                        return;
                    }
                    let response = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n:ok\n\n";
                    if socket.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                    open.fetch_add(1, Ordering::SeqCst);
                    loop {
                        tokio::select! {
                            frame = rx.recv() => match frame {
                                Ok(frame) => if socket.write_all(frame.as_bytes()).await.is_err() { break },
                                Err(_) => break,
                            },
                            read = socket.read(&mut buf) => if matches!(read, Ok(0) | Err(_)) { break },
                        }
                    }
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self {
            url,
            frames,
            requests,
            open,
        }
    }

    /// Sends one event to every open stream.
    pub fn publish(&self, id: &str, event: &str, data: &str) {
        let _ = self
            .frames
            .send(format!("id: {id}\nevent: {event}\ndata: {data}\n\n"));
    }

    /// Every request head received (request line and headers), in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }

    pub fn request_count(&self) -> usize {
        self.requests.lock().expect("requests").len()
    }

    pub fn open_streams(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Waits until `check` holds, up to `secs` seconds.
    pub async fn wait_until(&self, secs: u64, what: &str, check: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while !check(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting until {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
