//! Builds the pages (ui/, TypeScript through Vite into ui/dist, which `generate_context!` embeds),
//! then generates Tauri's context and one `allow-<command>` permission per IPC command, so the
//! capability file can grant the history window exactly the commands it uses and nothing else.
//!
//! The pages are built here rather than by a separate step so that every way of compiling the
//! windows process (`cargo build`, `clippy`, `test`, the packaging scripts) embeds pages built
//! from the sources next to it: a stale or missing ui/dist cannot be shipped by accident.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    build_pages();
    let commands = tauri_build::AppManifest::new().commands(&[
        "history_page",
        "history_event",
        "history_filters",
        "mark_read",
        "mark_all_read",
        "clear_history",
        "open_link",
        "run_action",
        "set_paused",
        "quit_app",
        "subscribe_updates",
        "open_settings",
        "settings_get",
        "settings_save_subscription",
        "settings_delete_subscription",
        "settings_set_enabled",
        "settings_test_connection",
        "settings_test_rules",
        "settings_save_notifications",
        "settings_set_dnd",
        "settings_set_autostart",
        "diagnostics",
        "reconnect_now",
        "settings_export",
        "settings_import",
    ]);
    if let Err(error) =
        tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands))
    {
        panic!("tauri-build failed: {error:#}");
    }
}

/// Runs `npm ci` when node_modules is missing or older than the lockfile, then `npm run build`
/// (type check, then Vite). `SSE_TRAY_UI_PREBUILT=1` skips it where ui/dist was built already
/// (a release job that ran the same build before).
fn build_pages() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for input in [
        "ui/src",
        "ui/styles",
        "ui/index.html",
        "ui/settings.html",
        "ui/vite.config.ts",
        "ui/tsconfig.json",
        "package.json",
        "package-lock.json",
    ] {
        println!("cargo:rerun-if-changed=../{input}");
    }
    println!("cargo:rerun-if-env-changed=SSE_TRAY_UI_PREBUILT");
    if std::env::var_os("SSE_TRAY_UI_PREBUILT").is_some_and(|v| v == "1") {
        assert!(
            root.join("ui/dist/index.html").is_file(),
            "SSE_TRAY_UI_PREBUILT=1 but ui/dist/index.html is missing: run `npm ci && npm run build`"
        );
        return;
    }
    let installed = root.join("node_modules/.package-lock.json");
    if modified(&installed) < modified(&root.join("package-lock.json")) {
        npm(&root, &["ci", "--no-audit", "--no-fund"]);
    }
    npm(&root, &["run", "--silent", "build"]);
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn npm(root: &Path, args: &[&str]) {
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let status = Command::new(npm).args(args).current_dir(root).status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "`npm {}` failed ({status}): the pages (ui/) could not be built; see the output above",
            args.join(" ")
        ),
        Err(error) => panic!(
            "could not run npm ({error}): building the windows process needs Node.js 18+ and npm \
             to build its pages (scripts/test-app.sh and scripts/run.sh install them)"
        ),
    }
}
