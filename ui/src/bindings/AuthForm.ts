// Generated from the Rust types by desktop/src/rpc/bindings.rs (ts-rs). Do not edit.
// Regenerate: UPDATE_UI_BINDINGS=1 cargo test -p sse-tray-desktop ui_bindings

/**
 * The credential part of [`SubscriptionForm`].
 */
export type AuthForm = { 
/**
 * `"none"`, `"bearer"`, `"basic"` or `"header"`.
 */
type: string, 
/**
 * Basic only.
 */
username: string, 
/**
 * Header only: the header's name.
 */
header: string, 
/**
 * Out only: a secret is stored for this subscription.
 */
secretSaved: boolean, 
/**
 * In only: a new secret; `None` keeps the saved one. Never sent back out.
 */
secret: string | null, 
/**
 * The person opted in to keeping the secret in `config.toml`.
 */
plaintext: boolean, };
