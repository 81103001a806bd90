//! What the tray process (`sse-tray`) and the windows process it spawns (`sse-tray-windows`)
//! say to each other: JSON, one message per line, over the child's stdin (tray → windows) and
//! stdout (windows → tray).
//!
//! Why a pipe and not a socket: the parent creates it for its child, so nothing else on the
//! machine can reach it, it needs no path on disk to secure or clean up, it ends when either side
//! dies (the windows process exits when its stdin closes; the tray sees the child's stdout close),
//! and it works the same on Linux, Windows and macOS. JSON lines keep it readable in a log.
//!
//! The windows process holds no facts: every page request is a [`FromWindows::Call`] answered by
//! the tray process, which owns config, history, state and notifications. Payloads stay
//! [`serde_json::Value`] on this link so the windows process needs none of the tray's types: it
//! forwards the page's arguments and hands the answer back unchanged.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Set by the tray process in its windows process's environment. A windows process started
/// without it (an installer's Start-menu shortcut or `.app` that names the webview binary) is not
/// anyone's child: it hands over to the tray process beside it instead of opening windows.
pub const CHILD_ENV: &str = "SSE_TRAY_WINDOWS_CHILD";

/// The longest line the tray process accepts from the windows process. Page requests are small
/// (the largest is an imported config); a longer line is refused, not buffered.
pub const MAX_CALL_LINE_BYTES: usize = 4 * 1024 * 1024;

/// The windows the windows process can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// The event history (and its details pane).
    History,
    /// Settings and diagnostics.
    Settings,
}

/// Tray process → windows process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWindows {
    /// Show (build or focus) a window; for the history window, optionally focus something (an
    /// update the page understands, e.g. `{"type":"focus","key":7}`).
    Show {
        /// Which window.
        window: WindowKind,
        /// What the history page should show once it listens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        focus: Option<Value>,
    },
    /// The answer to a [`FromWindows::Call`]: exactly one of `ok` and `err`.
    Reply {
        /// The call's id.
        id: u64,
        /// The result, as the page expects it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ok: Option<Value>,
        /// The error, as the page expects it (a string or a form's field errors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        err: Option<Value>,
    },
    /// A live update for the history page (a stored event, the status line…).
    Push {
        /// The update, as the page expects it.
        update: Value,
    },
    /// The configuration changed (saved anywhere, or edited by hand) and was applied.
    ConfigChanged {
        /// Its revision now.
        revision: u64,
    },
    /// Close every window and exit (the tray quits).
    Quit,
}

/// Windows process → tray process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWindows {
    /// A page's command, to be answered with a [`ToWindows::Reply`] of the same id.
    Call {
        /// Chosen by the windows process, unique while the call is pending.
        id: u64,
        /// The command's name (`history_page`, `settings_get`, …).
        method: String,
        /// Its named arguments, as the page sent them.
        #[serde(default)]
        args: Value,
    },
}

/// One message as a line (with its `\n`).
///
/// # Panics
/// Never: these types always serialize.
pub fn to_line<T: Serialize>(message: &T) -> String {
    let mut line = serde_json::to_string(message).unwrap_or_else(|error| {
        // Unreachable for these types (string keys, no non-finite floats); kept total anyway.
        format!(r#"{{"type":"invalid","error":"{error}"}}"#)
    });
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_round_trip_as_single_lines() {
        let messages = [
            ToWindows::Show {
                window: WindowKind::History,
                focus: Some(json!({"type": "focus", "key": 7})),
            },
            ToWindows::Reply {
                id: 3,
                ok: Some(json!({"rows": ["a\nb"]})),
                err: None,
            },
            ToWindows::Push {
                update: json!({"type": "status"}),
            },
            ToWindows::ConfigChanged { revision: 9 },
            ToWindows::Quit,
        ];
        for message in messages {
            let line = to_line(&message);
            assert_eq!(line.matches('\n').count(), 1, "{line}");
            let back: ToWindows = serde_json::from_str(&line).expect("parses");
            assert_eq!(back, message);
        }
        let call: FromWindows =
            serde_json::from_str(r#"{"type":"call","id":1,"method":"history_page"}"#)
                .expect("args default to null");
        assert_eq!(
            call,
            FromWindows::Call {
                id: 1,
                method: "history_page".into(),
                args: Value::Null
            }
        );
    }
}
