//! Generates Tauri's context and one `allow-<command>` permission per IPC command, so the
//! capability file can grant the history window exactly the commands it uses and nothing else.

fn main() {
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
