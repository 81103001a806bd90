// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { ErrorView } from "./ErrorView";
import type { SubscriptionId } from "./SubscriptionId";

/**
 * One subscription's diagnostics for the page.
 */
export type DiagnosticsView = { id: SubscriptionId, name: string, summary: string, state: string, connectedSince: number | null, lastEventAt: number | null, lastError: ErrorView | null, nextRetryAt: number | null, events: number, bytes: number, heartbeatMs: number | null, resumePoint: string | null, serverRetryMs: number | null, reconnects: number, 
/**
 * The text of the server's last comment (heartbeat).
 */
lastComment: string | null, 
/**
 * The server has never sent a heartbeat.
 */
noHeartbeats: boolean, 
/**
 * What a person could do about the server's behaviour, a sentence each.
 */
advice: Array<string>, };
