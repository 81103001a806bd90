//! `sse-tray`: the app's long-lived process. It owns everything that must keep running all
//! day — subscriptions, history, resume state, config, notifications and their clicks, the tray
//! icon — and links no web engine, so it stays small while no window is open. Windows are drawn
//! by a separate process it starts on demand ([`windows`]); see the README's architecture
//! section for why the app is split this way.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod autostart;
mod icon_art;
mod launch;
mod live;
mod no_tray;
mod opener;
mod rpc;
mod single_instance;
mod sink;
mod startup;
mod state;
mod tray;
mod tray_icon;
mod windows;

use crate::single_instance::Instance;
use crate::state::{AppState, UiUpdate, lock};
use sse_tray::notify::NotificationAction;
use sse_tray::paths::AppPaths;
use sse_tray::window_link::WindowKind;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The most Quit waits for subscriptions to stop and resume state to be flushed.
const QUIT_BUDGET: Duration = Duration::from_millis(1800);

/// What the tray icon runs on besides the async runtime: nothing on Linux/BSD (it is served on
/// the session bus), the main thread's event loop on Windows and macOS.
#[cfg(all(unix, not(target_os = "macos")))]
pub type NativeLoop = ();
/// What the tray icon runs on besides the async runtime: nothing on Linux/BSD (it is served on
/// the session bus), the main thread's event loop on Windows and macOS.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub type NativeLoop = tray_icon::native::MainLoop;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sse_tray=info")),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match launch::parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("sse-tray: {message}");
            return ExitCode::from(2);
        }
    };
    if options.version {
        println!("sse-tray {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let paths = match AppPaths::resolve() {
        Ok(paths) => paths,
        Err(error) => {
            eprintln!("sse-tray: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Two workers: the engine has its own writer thread, and nothing here is CPU-bound.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sse-tray")
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sse-tray: could not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    #[cfg(all(unix, not(target_os = "macos")))]
    return runtime.block_on(run(paths, options, args, ()));
    // Windows and macOS: the tray needs the main thread's event loop; the app runs beside it and
    // ends the loop (and so the process) when it is done.
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    tray_icon::native::run_main_loop(move |main_loop| {
        let spawned = std::thread::Builder::new()
            .name("sse-tray-app".into())
            .spawn(move || {
                let _ = runtime.block_on(run(paths, options, args, main_loop.clone()));
                main_loop.quit();
            });
        if let Err(error) = spawned {
            eprintln!("sse-tray: could not start: {error}");
            std::process::exit(1);
        }
    })
}

async fn run(
    paths: AppPaths,
    options: launch::LaunchOptions,
    args: Vec<String>,
    native: NativeLoop,
) -> ExitCode {
    let (launches, instance) = match single_instance::claim(args).await {
        Ok(Instance::Handed) => {
            tracing::info!("SSE Tray already runs: handed over to it");
            return ExitCode::SUCCESS;
        }
        Ok(Instance::First(launches, guard)) => (Some(launches), Some(guard)),
        Err(error) => {
            tracing::warn!(%error, "could not check for another instance; starting anyway");
            (None, None)
        }
    };
    let started = match startup::start(paths, options, windows::Windows::new()).await {
        Ok(started) => started,
        Err(error) => {
            eprintln!("sse-tray: could not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let state = started.state.clone();
    let (input, inputs) = mpsc::unbounded_channel();
    let tray = tray::start_icon(
        instance.as_ref(),
        native,
        tray::current_look(&state).1,
        input,
    )
    .await;
    tracing::info!(tray = tray.is_some(), "tray ready");
    match &tray {
        Some(icon) => {
            tokio::spawn(no_tray::follow(
                state.clone(),
                icon.host(),
                state.notifier.clone(),
                options.hidden,
            ));
        }
        None => lock(&state.model).tray_shown = false,
    }
    tokio::spawn(tray::run_refresher(state.clone(), tray));
    tokio::spawn(tray::handle_input(state.clone(), inputs));
    tokio::spawn(handle_clicks(state.clone(), started.actions));
    if let Some(launches) = launches {
        tokio::spawn(handle_launches(state.clone(), launches));
    }
    {
        let (state, changes, applied) = (
            state.clone(),
            started.config_changes,
            started.config_revision,
        );
        let spawned = std::thread::Builder::new()
            .name("config-apply".into())
            .spawn(move || live::follow_config(&state, &changes, applied));
        if let Err(error) = spawned {
            tracing::error!(%error, "could not start applying configuration changes");
        }
    }
    if options.settings {
        state.windows.show(&state, WindowKind::Settings, None);
    } else if !options.hidden {
        state.windows.show(&state, WindowKind::History, None);
    }
    tokio::select! {
        () = state.cancel.cancelled() => tracing::info!("quit from the tray"),
        () = sse_tray::platform::session_ending() => tracing::info!("the session is ending"),
    }
    quit(&state, started.demo).await;
    drop(instance);
    ExitCode::SUCCESS
}

/// A later launch of the app: show the window it asks for.
async fn handle_launches(state: Arc<AppState>, mut launches: mpsc::UnboundedReceiver<Vec<String>>) {
    loop {
        let args = tokio::select! {
            () = state.cancel.cancelled() => return,
            args = launches.recv() => match args { Some(a) => a, None => return },
        };
        let settings = launch::parse(&args).is_ok_and(|o| o.settings);
        tracing::info!(settings, "second launch: showing a window");
        let kind = if settings {
            WindowKind::Settings
        } else {
            WindowKind::History
        };
        state.windows.show(&state, kind, None);
    }
}

/// Notification clicks: open the event, the summarised list, or the link.
async fn handle_clicks(state: Arc<AppState>, mut actions: mpsc::Receiver<NotificationAction>) {
    loop {
        let action = tokio::select! {
            () = state.cancel.cancelled() => return,
            action = actions.recv() => match action { Some(a) => a, None => return },
        };
        tracing::info!(?action, "notification action");
        match action {
            NotificationAction::OpenEvent { event_key, .. } => state.windows.show(
                &state,
                WindowKind::History,
                Some(UiUpdate::Focus { key: event_key }),
            ),
            NotificationAction::OpenSummary { subscription, .. } => state.windows.show(
                &state,
                WindowKind::History,
                Some(UiUpdate::ShowList { subscription }),
            ),
            NotificationAction::OpenUrl(url) => {
                if let Err(refusal) = opener::open_web_url(&url) {
                    // The URL itself is not logged: it is untrusted text.
                    tracing::warn!(%refusal, "refused a link");
                }
            }
            NotificationAction::RunAction {
                event_key, index, ..
            } => {
                let outcome = state.actions.run(event_key, index, false).await;
                match outcome {
                    sse_tray::notify::ActionOutcome::Opened { url } => {
                        if let Err(refusal) = opener::open_web_url(&url) {
                            tracing::warn!(%refusal, "refused an action's link");
                        }
                    }
                    // The first request to a host is confirmed in the window, at that event.
                    sse_tray::notify::ActionOutcome::NeedsConfirmation { .. } => {
                        state.windows.show(
                            &state,
                            WindowKind::History,
                            Some(UiUpdate::Focus { key: event_key }),
                        )
                    }
                    other => tracing::info!(?other, "notification button"),
                }
            }
            NotificationAction::Dismissed(_) => {}
        }
    }
}

/// Quits: closes the windows, stops the subscriptions, lets the writer flush history and resume
/// state (within [`QUIT_BUDGET`]), stops the demo server.
async fn quit(state: &Arc<AppState>, demo: Option<sse_tray_server::DemoFeed>) {
    state.windows.quit();
    let engine = lock(&state.engine).take();
    if let Some(engine) = engine {
        match tokio::time::timeout(QUIT_BUDGET, engine.shutdown()).await {
            Ok(Ok(())) => tracing::info!("engine stopped; resume state flushed"),
            Ok(Err(error)) => tracing::error!(%error, "engine shutdown failed"),
            Err(_) => tracing::error!("engine did not stop within {QUIT_BUDGET:?}"),
        }
    }
    state.cancel.cancel();
    if let Some(demo) = demo {
        match tokio::time::timeout(Duration::from_millis(200), demo.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "the demo stream did not stop cleanly"),
            Err(_) => tracing::warn!("the demo stream did not stop within 200 ms"),
        }
    }
}
