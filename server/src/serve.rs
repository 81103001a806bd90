//! The accept loop: one task per TCP connection, each driving a hyper HTTP/1.1 connection that
//! serves the axum [`Router`].
//!
//! This replaces `axum::serve` because of what an idle SSE stream costs (10,000 open streams,
//! server RSS per stream, `cargo bench -p sse-tray-server --bench streams`): 21 KiB with
//! `axum::serve`, 12.6-13.5 KiB here. heaptrack showed where it went: `axum::serve` uses
//! hyper-util's auto (HTTP/1 or 2) connection, which sniffs the protocol by reading the first
//! 24 bytes and hands them to hyper on their own; hyper's second read then no longer fits its
//! 8 KiB read buffer and the buffer is reallocated to 16 KiB, copying (and so touching) the first
//! 8 KiB. Here hyper's HTTP/1 connection reads the request straight into one 8 KiB buffer whose
//! untouched pages never become resident. (`axum::serve` also rebuilds the router's route maps
//! for every connection, ~2.5 KiB of heap each; sharing the router instead, `Router::clone` is one
//! `Arc`, did not change RSS measurably but costs nothing.) HTTP/2 is not served: an SSE client
//! needs HTTP/1.1 only, and TLS or HTTP/2 belong in a reverse proxy in front.
//!
//! Shutdown: when the token is cancelled the loop stops accepting, every connection is told to
//! finish its current response and close (the event streams end on the same token, a body being
//! read is answered `503`), and the loop returns once all connection tasks ended — or, at the
//! latest, after the grace period: connections still open then (a client that stopped reading its
//! stream, so the final bytes cannot be written) are dropped. Whatever clients do, shutdown takes
//! at most the grace period.

use std::io;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Time limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// For a request head to arrive.
    pub head: Duration,
    /// For connections to close once shutdown began.
    pub shutdown_grace: Duration,
}

/// Accepts connections on `listener` until `shutdown` is cancelled, then waits (up to the grace
/// period) for the open connections to close. Each accepted socket goes through `configure`.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    configure: impl Fn(&TcpStream),
    timeouts: Timeouts,
    shutdown: CancellationToken,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    // A client that connects and never finishes its request head (slowloris) is dropped after
    // the head timeout instead of holding a stream's worth of memory forever; hyper applies the
    // timeout only when it has a timer. (The body has its own deadline where it is read.)
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeouts.head);
    let connections = TaskTracker::new();
    // Cancelled when the grace period is over: drops the connections still open.
    let force = CancellationToken::new();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let tcp = match accepted {
            Ok((tcp, _peer)) => tcp,
            Err(e) => {
                if accept_error_is_fatal_for_a_while(&e) {
                    // E.g. out of file descriptors: wait for some to close instead of spinning.
                    tracing::error!(error = %e, "accept failed; pausing accepts for 1 s");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
                continue;
            }
        };
        configure(&tcp);
        let conn = http.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(app.clone()));
        let (shutdown, force) = (shutdown.clone(), force.clone());
        connections.spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                () = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    tokio::select! {
                        result = conn.as_mut() => result,
                        () = force.cancelled() => return,
                    }
                }
            };
            if let Err(e) = result {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(timeouts.shutdown_grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            left = connections.len(),
            grace = ?timeouts.shutdown_grace,
            "connections still open after the shutdown grace period; dropping them"
        );
        force.cancel();
        connections.wait().await;
    }
}

/// `false` for errors about one connection (the peer reset it before we accepted it), which
/// say nothing about the next one; `true` for the rest (e.g. `EMFILE`), which will repeat at once.
fn accept_error_is_fatal_for_a_while(e: &io::Error) -> bool {
    !matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const TIMEOUTS: Timeouts = Timeouts {
        head: Duration::from_secs(30),
        shutdown_grace: Duration::from_secs(30),
    };

    async fn read_response(tcp: &mut TcpStream) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.ends_with(b"ok") {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8(got).unwrap()
    }

    /// Keep-alive works, every socket is configured, and shutdown returns promptly even with a
    /// connection that never sent a request and one idle between requests.
    #[tokio::test]
    async fn serves_keep_alive_and_shuts_down_with_idle_connections() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", axum::routing::get(async || "ok"));
        let configured = Arc::new(AtomicUsize::new(0));
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(serve(
            listener,
            app,
            {
                let configured = Arc::clone(&configured);
                move |_: &TcpStream| {
                    configured.fetch_add(1, Ordering::Relaxed);
                }
            },
            TIMEOUTS,
            shutdown.clone(),
        ));
        let _silent = TcpStream::connect(addr).await.unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        for _ in 0..2 {
            client
                .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                .await
                .unwrap();
            let response = read_response(&mut client).await;
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        }
        assert_eq!(configured.load(Ordering::Relaxed), 2);
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("shutdown waited for idle connections")
            .unwrap();
        let mut rest = Vec::new();
        assert_eq!(client.read_to_end(&mut rest).await.unwrap(), 0);
    }

    /// A response the client never reads (its socket buffers fill up) cannot hold shutdown past
    /// the grace period.
    #[tokio::test]
    async fn shutdown_drops_connections_still_open_after_the_grace_period() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let endless = async || {
            let chunk = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
            axum::body::Body::from_stream(futures::stream::repeat_with(move || {
                Ok::<_, std::convert::Infallible>(chunk.clone())
            }))
        };
        let app = Router::new().route("/", axum::routing::get(endless));
        let shutdown = CancellationToken::new();
        let grace = Duration::from_millis(200);
        let server = tokio::spawn(serve(
            listener,
            app,
            |_: &TcpStream| {},
            Timeouts {
                head: Duration::from_secs(30),
                shutdown_grace: grace,
            },
            shutdown.clone(),
        ));
        let mut client = TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 16];
        client.read_exact(&mut first).await.unwrap();
        assert!(first.starts_with(b"HTTP/1.1 200"));
        // The client stops reading; the server's writes soon block.
        tokio::time::sleep(Duration::from_millis(100)).await;
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("shutdown waited for a client that does not read")
            .unwrap();
    }
}
