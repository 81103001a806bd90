//! `sse-tray`: the desktop tray app. This file builds the Tauri app and runs it; everything that
//! keeps subscriptions honest is in the core crate (`sse_tray`), started by [`startup`], and the
//! shell's parts each live in their own module (tray, window, commands, notification clicks).

mod commands;
mod icon_art;
mod launch;
mod live;
mod settings_commands;
mod sink;
mod startup;
mod state;
mod tray;
mod window;

use crate::state::{AppState, UiUpdate, lock};
use sse_tray::notify::NotificationAction;
use sse_tray::paths::AppPaths;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Manager, RunEvent};
use tokio::sync::mpsc;

/// The most Quit waits for subscriptions to stop and resume state to be flushed.
const QUIT_BUDGET: Duration = Duration::from_millis(1800);

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sse_tray=info")),
        )
        .init();
    let options = match launch::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("sse-tray: {message}");
            return ExitCode::from(2);
        }
    };
    let paths = match AppPaths::resolve() {
        Ok(paths) => paths,
        Err(error) => {
            eprintln!("sse-tray: {error}");
            return ExitCode::FAILURE;
        }
    };
    let app = tauri::Builder::default()
        // First, so a second launch hands over before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            let settings = launch::parse(args.iter().skip(1)).is_ok_and(|o| o.settings);
            tracing::info!(settings, "second launch: showing a window");
            if settings {
                window::show_kind(app, window::Kind::Settings);
            } else {
                window::show(app);
            }
        }))
        .plugin(tauri_plugin_opener::init())
        // The login item starts the app hidden, in the tray.
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ))
        .manage(window::Visibility::default())
        .invoke_handler(tauri::generate_handler![
            commands::history_page,
            commands::history_event,
            commands::history_filters,
            commands::mark_read,
            commands::mark_all_read,
            commands::clear_history,
            commands::open_link,
            commands::subscribe_updates,
            commands::open_settings,
            settings_commands::settings_get,
            settings_commands::settings_save_subscription,
            settings_commands::settings_delete_subscription,
            settings_commands::settings_set_enabled,
            settings_commands::settings_test_connection,
            settings_commands::settings_test_rules,
            settings_commands::settings_save_notifications,
            settings_commands::settings_set_dnd,
            settings_commands::settings_set_autostart,
            settings_commands::diagnostics,
            settings_commands::reconnect_now,
            settings_commands::settings_export,
            settings_commands::settings_import,
        ])
        .setup(move |app| {
            let started = tauri::async_runtime::block_on(startup::start(paths, options))?;
            let state = started.state.clone();
            app.manage(state.clone());
            if let Some(demo) = started.demo {
                app.manage(std::sync::Mutex::new(Some(demo)));
            }
            let tray = tray::build(app.handle(), &state)?;
            tracing::info!("tray ready");
            tauri::async_runtime::spawn(tray::run_refresher(
                app.handle().clone(),
                state.clone(),
                tray,
            ));
            tauri::async_runtime::spawn(handle_clicks(
                app.handle().clone(),
                state.clone(),
                started.actions,
            ));
            tauri::async_runtime::spawn(quit_on_signal(app.handle().clone()));
            {
                let (state, app, changes) =
                    (state.clone(), app.handle().clone(), started.config_changes);
                let applied = started.config_revision;
                std::thread::Builder::new()
                    .name("config-apply".into())
                    .spawn(move || live::follow_config(&state, &changes, &app, applied))?;
            }
            if options.settings {
                window::show_kind(app.handle(), window::Kind::Settings);
            } else if !options.hidden {
                window::show(app.handle());
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("sse-tray: could not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    app.run(|_app, event| {
        // The tray app lives on with no window; only Quit (an explicit exit code) ends it.
        if let RunEvent::ExitRequested {
            api, code: None, ..
        } = event
        {
            api.prevent_exit();
        }
    });
    ExitCode::SUCCESS
}

/// Notification clicks: open the event, the summarised list, or the link.
async fn handle_clicks(
    app: AppHandle,
    state: Arc<AppState>,
    mut actions: mpsc::Receiver<NotificationAction>,
) {
    loop {
        let action = tokio::select! {
            () = state.cancel.cancelled() => return,
            action = actions.recv() => match action { Some(a) => a, None => return },
        };
        tracing::info!(?action, "notification action");
        match action {
            NotificationAction::OpenEvent { event_key, .. } => {
                state.request_focus(UiUpdate::Focus { key: event_key });
                window::show(&app);
            }
            NotificationAction::OpenSummary { subscription, .. } => {
                state.request_focus(UiUpdate::ShowList { subscription });
                window::show(&app);
            }
            NotificationAction::OpenUrl(url) => match sse_tray::untrusted::web_url(&url) {
                Ok(url) => {
                    use tauri_plugin_opener::OpenerExt;
                    if let Err(error) = app.opener().open_url(String::from(url), None::<&str>) {
                        tracing::error!(%error, "could not open the link");
                    }
                }
                // The URL itself is not logged: it is untrusted text.
                Err(refusal) => tracing::warn!(%refusal, "refused a link"),
            },
            NotificationAction::Dismissed(_) => {}
        }
    }
}

/// SIGTERM (a logout, `kill`) quits as gracefully as the menu's Quit.
async fn quit_on_signal(app: AppHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            quit(app);
        }
    }
    #[cfg(not(unix))]
    drop(app);
}

/// Quits: stops the subscriptions, lets the writer flush history and resume state (within
/// [`QUIT_BUDGET`]), stops the demo server, then exits.
pub fn quit(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let state = app.state::<Arc<AppState>>().inner().clone();
        let engine = lock(&state.engine).take();
        if let Some(engine) = engine {
            match tokio::time::timeout(QUIT_BUDGET, engine.shutdown()).await {
                Ok(Ok(())) => tracing::info!("engine stopped; resume state flushed"),
                Ok(Err(error)) => tracing::error!(%error, "engine shutdown failed"),
                Err(_) => tracing::error!("engine did not stop within {QUIT_BUDGET:?}"),
            }
        }
        state.cancel.cancel();
        let demo = app
            .try_state::<std::sync::Mutex<Option<sse_tray_server::DemoFeed>>>()
            .and_then(|slot| lock(&slot).take());
        if let Some(demo) = demo {
            match tokio::time::timeout(Duration::from_millis(200), demo.shutdown()).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "the demo stream did not stop cleanly"),
                Err(_) => tracing::warn!("the demo stream did not stop within 200 ms"),
            }
        }
        app.exit(0);
    });
}
