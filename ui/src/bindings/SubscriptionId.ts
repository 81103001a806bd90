// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * A subscription's stable identifier (from `config.toml`): the key of its history rows and of its
 * resume state, so renaming a subscription loses neither.
 */
export type SubscriptionId = string;
