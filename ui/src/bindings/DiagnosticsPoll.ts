// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { ConfigProblem } from "./ConfigProblem";
import type { DiagnosticsView } from "./DiagnosticsView";

/**
 * The diagnostics poll's answer. (Configuration changes are pushed as `config-changed`.)
 */
export type DiagnosticsPoll = { configError: ConfigProblem | null, 
/**
 * Where the app lives on this desktop: its tray icon, or (with no tray host) its windows.
 */
tray: string, subscriptions: Array<DiagnosticsView>, };
