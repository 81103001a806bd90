// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings
import type { AutostartView } from "./AutostartView";
import type { ConfigProblem } from "./ConfigProblem";
import type { DndView } from "./DndView";
import type { KeyringView } from "./KeyringView";
import type { NotificationsForm } from "./NotificationsForm";
import type { SubscriptionForm } from "./SubscriptionForm";

/**
 * Everything the settings page shows when it loads.
 */
export type SettingsView = { revision: number, configPath: string, configError: ConfigProblem | null, keyring: KeyringView, autostart: AutostartView, dnd: DndView, demo: boolean, subscriptions: Array<SubscriptionForm>, notifications: NotificationsForm, };
