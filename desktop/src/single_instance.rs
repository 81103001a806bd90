//! One app per user session: a second launch (the menu entry again, `sse-tray --settings`) hands
//! its arguments to the running tray process, which shows the asked-for window, and exits.
//!
//! On Linux and the BSDs the session bus is the rendezvous: the first instance owns a well-known
//! name and serves `Activate(args)` at a fixed path; the bus daemon makes owning the name atomic
//! and releases it when the process dies, however it dies. Windows and macOS have no session bus:
//! there a per-user local socket (a named pipe; a Unix socket in the 0700 data directory) carries
//! the same message (that code is compiled by the Windows/macOS CI only).

use tokio::sync::mpsc;

/// The name the first instance owns on the session bus (the app's identifier).
pub const BUS_NAME: &str = "dev.ssetray.app";
#[cfg(all(unix, not(target_os = "macos")))]
const OBJECT_PATH: &str = "/dev/ssetray/app";
#[cfg(all(unix, not(target_os = "macos")))]
const INTERFACE: &str = "dev.ssetray.app.Instance";

/// What starting up found.
pub enum Instance {
    /// This is the only instance: later launches' arguments arrive here.
    First(mpsc::UnboundedReceiver<Vec<String>>, Guard),
    /// Another instance runs and has been handed the arguments: exit.
    Handed,
}

/// Keeps the instance's claim (the bus connection or the listener) alive.
pub struct Guard {
    #[cfg(all(unix, not(target_os = "macos")))]
    connection: zbus::Connection,
}

impl Guard {
    /// The session bus connection that owns the instance's name (the tray icon is served on it
    /// too: one connection for the whole process).
    #[cfg(all(unix, not(target_os = "macos")))]
    pub fn connection(&self) -> &zbus::Connection {
        &self.connection
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
struct Activation(mpsc::UnboundedSender<Vec<String>>);

#[cfg(all(unix, not(target_os = "macos")))]
#[zbus::interface(name = "dev.ssetray.app.Instance")]
impl Activation {
    /// A later launch's arguments.
    fn activate(&self, args: Vec<String>) {
        let _ = self.0.send(args);
    }
}

/// Claims the session for this instance, or hands `args` to the one that has it.
#[cfg(all(unix, not(target_os = "macos")))]
pub async fn claim(args: Vec<String>) -> Result<Instance, String> {
    let connection = zbus::Connection::session()
        .await
        .map_err(|e| format!("no D-Bus session bus ({e})"))?;
    let (sender, receiver) = mpsc::unbounded_channel();
    // Served before the name is owned, so a launch that sees the name finds the method.
    connection
        .object_server()
        .at(OBJECT_PATH, Activation(sender))
        .await
        .map_err(|e| e.to_string())?;
    // Not `request_name`: its defaults let a later instance take the name over.
    let claimed = connection
        .request_name_with_flags(BUS_NAME, zbus::fdo::RequestNameFlags::DO_NOT_QUEUE)
        .await;
    match claimed {
        Ok(
            zbus::fdo::RequestNameReply::PrimaryOwner | zbus::fdo::RequestNameReply::AlreadyOwner,
        ) => Ok(Instance::First(receiver, Guard { connection })),
        Ok(zbus::fdo::RequestNameReply::Exists | zbus::fdo::RequestNameReply::InQueue)
        | Err(zbus::Error::NameTaken) => {
            connection
                .call_method(
                    Some(BUS_NAME),
                    OBJECT_PATH,
                    Some(INTERFACE),
                    "Activate",
                    &(args,),
                )
                .await
                .map_err(|e| format!("another SSE Tray runs but did not answer ({e})"))?;
            Ok(Instance::Handed)
        }
        Err(error) => Err(error.to_string()),
    }
}

/// Claims the session for this instance, or hands `args` to the one that has it.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub async fn claim(args: Vec<String>) -> Result<Instance, String> {
    local::claim(args).await
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
mod local {
    //! Windows and macOS: one JSON line of arguments over a per-user local socket.
    use super::{Guard, Instance};
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::sync::mpsc;

    const MAX_LINE: usize = 64 * 1024;

    async fn forward<S>(stream: S, sender: mpsc::UnboundedSender<Vec<String>>)
    where
        S: tokio::io::AsyncRead + Unpin,
    {
        let mut line = String::new();
        let mut reader = BufReader::new(stream).take(MAX_LINE as u64);
        if reader.read_line(&mut line).await.is_ok()
            && let Ok(args) = serde_json::from_str::<Vec<String>>(&line)
        {
            let _ = sender.send(args);
        }
    }

    fn message(args: &[String]) -> Vec<u8> {
        let mut line = serde_json::to_vec(args).unwrap_or_default();
        line.push(b'\n');
        line
    }

    #[cfg(windows)]
    pub async fn claim(args: Vec<String>) -> Result<Instance, String> {
        use tokio::net::windows::named_pipe::{ClientOptions, ServerOptions};
        let user = std::env::var("USERNAME").unwrap_or_default();
        let name = format!(r"\\.\pipe\{}-{user}", super::BUS_NAME);
        match ServerOptions::new()
            .first_pipe_instance(true)
            .reject_remote_clients(true)
            .create(&name)
        {
            Ok(mut server) => {
                let (sender, receiver) = mpsc::unbounded_channel();
                tokio::spawn(async move {
                    loop {
                        if server.connect().await.is_err() {
                            return;
                        }
                        let Ok(next) = ServerOptions::new().create(&name) else {
                            return;
                        };
                        let connected = std::mem::replace(&mut server, next);
                        tokio::spawn(forward(connected, sender.clone()));
                    }
                });
                Ok(Instance::First(receiver, Guard {}))
            }
            Err(_) => {
                let mut client = ClientOptions::new()
                    .open(&name)
                    .map_err(|e| format!("another SSE Tray runs but did not answer ({e})"))?;
                client
                    .write_all(&message(&args))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Instance::Handed)
            }
        }
    }

    #[cfg(unix)]
    pub async fn claim(args: Vec<String>) -> Result<Instance, String> {
        use tokio::net::{UnixListener, UnixStream};
        let paths = sse_tray::paths::AppPaths::resolve().map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&paths.data_dir).map_err(|e| e.to_string())?;
        let socket = paths.data_dir.join("instance.sock");
        if let Ok(mut stream) = UnixStream::connect(&socket).await {
            stream
                .write_all(&message(&args))
                .await
                .map_err(|e| e.to_string())?;
            return Ok(Instance::Handed);
        }
        // Nobody answers: a socket left by a crash is stale.
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket).map_err(|e| e.to_string())?;
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(forward(stream, sender.clone()));
            }
        });
        Ok(Instance::First(receiver, Guard {}))
    }
}
