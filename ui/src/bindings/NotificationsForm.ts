// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { Priority } from "./Priority";
import type { QuietHoursForm } from "./QuietHoursForm";

/**
 * The global notification settings as the form shows them.
 */
export type NotificationsForm = { 
/**
 * Master switch.
 */
enabled: boolean, 
/**
 * Events below it are stored silently.
 */
minPriority: Priority, 
/**
 * Notifications allowed per interval before a summary.
 */
burst: number, 
/**
 * The throttle's interval in seconds.
 */
intervalSecs: number, 
/**
 * Quiet hours, if any.
 */
quietHours: QuietHoursForm | null, };
