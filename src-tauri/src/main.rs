//! `sse-tray-windows`: draws SSE Tray's history and settings windows. The tray process
//! (`sse-tray`) starts it when a window is asked for, talks to it over its stdin and stdout
//! ([`sse_tray::window_link`]), and answers every page request itself; this process holds no
//! facts and writes no files. It exits when its last window closes or when the tray process goes
//! away (its stdin ends), so a web engine is loaded only while someone looks at a window.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod link;
mod window;

use crate::commands::Page;
use crate::link::Link;
use serde_json::json;
use sse_tray::window_link::ToWindows;
use std::io::BufRead;
use std::process::ExitCode;
use tauri::{AppHandle, Emitter, Manager, RunEvent};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sse_tray=info")),
        )
        .init();
    if std::env::var_os(sse_tray::window_link::CHILD_ENV).is_none() {
        return hand_over_to_the_tray();
    }
    let app = tauri::Builder::default()
        .manage(Link::default())
        .manage(Page::default())
        .invoke_handler(tauri::generate_handler![
            commands::history_page,
            commands::history_event,
            commands::history_filters,
            commands::mark_read,
            commands::mark_all_read,
            commands::clear_history,
            commands::open_link,
            commands::run_action,
            commands::set_paused,
            commands::quit_app,
            commands::subscribe_updates,
            commands::open_settings,
            commands::settings_get,
            commands::settings_save_subscription,
            commands::settings_delete_subscription,
            commands::settings_set_enabled,
            commands::settings_test_connection,
            commands::settings_test_rules,
            commands::settings_save_notifications,
            commands::settings_set_dnd,
            commands::settings_set_autostart,
            commands::diagnostics,
            commands::reconnect_now,
            commands::settings_export,
            commands::settings_import,
        ])
        .setup(|app| {
            let handle = app.handle().clone();
            std::thread::Builder::new()
                .name("tray-link".into())
                .spawn(move || follow_parent(&handle))?;
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("sse-tray-windows: could not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    // With no window left, Tauri asks to exit (code None): this process is done.
    app.run(|_app, event| {
        if let RunEvent::ExitRequested { code: None, .. } = event {
            tracing::info!("last window closed");
        }
    });
    ExitCode::SUCCESS
}

/// Started directly (not by the tray process): start `sse-tray` beside this program with the same
/// arguments — it runs the app, or hands them to the instance that already does — and exit.
fn hand_over_to_the_tray() -> ExitCode {
    let tray = std::env::current_exe()
        .map(|exe| exe.with_file_name(format!("sse-tray{}", std::env::consts::EXE_SUFFIX)));
    let started = tray.and_then(|tray| {
        std::process::Command::new(tray)
            .args(std::env::args_os().skip(1))
            .spawn()
    });
    match started {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sse-tray-windows: could not start sse-tray beside this program: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the tray process's messages from stdin until it closes, then exits: a windows process
/// never outlives its tray.
fn follow_parent(app: &AppHandle) {
    let stdin = std::io::stdin().lock();
    for line in stdin.lines() {
        let Ok(line) = line else { break };
        let message = match serde_json::from_str::<ToWindows>(&line) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(%error, "ignored a line from the tray process");
                continue;
            }
        };
        match message {
            ToWindows::Show { window, focus } => {
                if let Some(focus) = focus {
                    app.state::<Page>().focus(focus);
                }
                window::show(app, window.into());
            }
            ToWindows::Reply { id, ok, err } => app.state::<Link>().complete(id, ok, err),
            ToWindows::Push { update } => app.state::<Page>().push(update),
            ToWindows::ConfigChanged { revision } => {
                if let Err(error) = app.emit("config-changed", json!({ "revision": revision })) {
                    tracing::warn!(%error, "could not tell the pages that the configuration changed");
                }
            }
            ToWindows::Quit => break,
        }
    }
    tracing::info!("the tray process is gone or quit: closing the windows");
    app.exit(0);
}
