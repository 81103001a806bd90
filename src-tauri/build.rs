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
        "subscribe_updates",
    ]);
    if let Err(error) =
        tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands))
    {
        panic!("tauri-build failed: {error:#}");
    }
}
