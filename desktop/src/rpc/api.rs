//! The command table: every call the tray process answers for the windows, declared once with
//! its name, its arguments, what it answers and how it fails. [`super::dispatch`] matches the
//! table's [`Call`] exhaustively and deserializes each call's declared [`Command::Args`]; the
//! compiler holds each handler to the declared output and error. The same table writes the
//! pages' TypeScript (`ui/src/bindings/`, [`super::bindings`]), so the table, the handlers and
//! the pages cannot drift apart.
//!
//! Argument names are the link's (snake_case, what the windows process forwards); a page passes
//! them to Tauri's `invoke` in camelCase (`eventType`), which Tauri converts, so the TypeScript
//! says camelCase.

use super::history::{CommandError, Filters, Hello, PageRequest};
use super::settings::{
    AutostartView, DiagnosticsPoll, DndRequest, ExportView, ProbeView, SettingsView,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sse_tray::notify::ActionOutcome;
use sse_tray::notify::feed::{FeedDetails, FeedPage};
use sse_tray::settings::{FormErrors, Imported, NotificationsForm, RuleTestView, SubscriptionForm};
use ts_rs::TS;

/// One command of the table. Implemented by a marker type per command (made by `commands!`).
// `DOC`, `FROM_PAGE` and `FIELDS` are read by the bindings generator, which only tests build.
#[cfg_attr(not(test), allow(dead_code))]
pub trait Command {
    /// The name the page calls and the link carries.
    const NAME: &'static str;
    /// The command's doc comment (the TypeScript repeats it).
    const DOC: &'static str;
    /// Whether a page calls it (forwarded by the windows process); `false` for calls the windows
    /// process makes itself (`hello`).
    const FROM_PAGE: bool;
    /// Its argument names, as the link carries them.
    const FIELDS: &'static [&'static str];
    /// Its named arguments.
    type Args: DeserializeOwned + TS + 'static;
    /// What the page gets.
    type Output: Serialize + TS + 'static;
    /// What the page's promise rejects with, besides a string when the call itself failed (bad
    /// arguments, a task that panicked, the tray process gone).
    type Error: Serialize + TS + 'static;
}

/// The arguments of a command that takes none: accepts whatever comes (`{}` from a page, `null`
/// from the windows process's own `hello`), as the dispatcher always has.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoArgs;

impl<'de> Deserialize<'de> for NoArgs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| NoArgs)
    }
}

impl TS for NoArgs {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "Record<string, never>".to_owned()
    }
    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

/// The error of a command whose handler cannot fail (only the call itself can).
#[derive(Clone, Copy, Debug)]
pub enum Never {}

impl Serialize for Never {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

impl TS for Never {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "never".to_owned()
    }
    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

/// Visits the commands of the table, as types.
pub trait CommandVisitor {
    /// Called once per command, in table order.
    fn visit<C: Command>(&mut self);
}

/// The arguments type of one command: [`NoArgs`], or a struct of its named arguments.
macro_rules! args_type {
    ($name:ident) => {
        #[doc = concat!("`", stringify!($name), "` takes no arguments.")]
        pub type Args = super::NoArgs;
    };
    ($name:ident $( $field:ident : $ty:ty ),+) => {
        #[doc = concat!("The named arguments of `", stringify!($name), "`.")]
        #[derive(Debug, serde::Deserialize, ts_rs::TS)]
        #[ts(rename_all = "camelCase")]
        // Each is named as in the page's call; the command's doc says what they mean.
        #[allow(missing_docs)]
        pub struct Args {
            $( pub $field: $ty ),+
        }
    };
}

macro_rules! from_page {
    () => {
        true
    };
    (link_only) => {
        false
    };
}

/// Declares the table: per command a marker type implementing [`Command`], a module named as the
/// command holding its `Args`, a [`Call`] variant, and an entry of [`visit_commands`].
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident : $marker:ident ( $( $field:ident : $ty:ty ),* ) -> $out:ty, $err:ty
            $(, $flag:ident)? ;
    )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Clone, Copy, Debug)]
            pub struct $marker;

            #[doc = concat!("The arguments of `", stringify!($name), "`.")]
            pub mod $name {
                #[allow(unused_imports)]
                use super::*;
                args_type!($name $( $field : $ty ),*);
            }

            impl Command for $marker {
                const NAME: &'static str = stringify!($name);
                const DOC: &'static str = concat!($( $doc, "\n" ),*);
                const FROM_PAGE: bool = from_page!($($flag)?);
                const FIELDS: &'static [&'static str] = &[$( stringify!($field) ),*];
                type Args = $name::Args;
                type Output = $out;
                type Error = $err;
            }
        )*

        /// A call by name, to match exhaustively: a command of the table that no arm answers
        /// does not compile.
        #[derive(Clone, Copy, Debug)]
        pub enum Call {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                $marker($marker),
            )*
        }

        impl Call {
            /// The command called `name`, if the table has one.
            pub fn named(name: &str) -> Option<Call> {
                match name {
                    $( stringify!($name) => Some(Call::$marker($marker)), )*
                    _ => None,
                }
            }
        }

        /// Visits every command of the table, in order.
        #[cfg_attr(not(test), allow(dead_code))]
        pub fn visit_commands(visitor: &mut impl CommandVisitor) {
            $( visitor.visit::<$marker>(); )*
        }
    };
}

commands! {
    /// The status and startup notices, when the history page starts listening (the windows
    /// process asks, then adds any pending focus: `subscribe_updates`).
    hello: HelloCall() -> Hello, Never, link_only;
    /// A page of the feed, newest first: each row mapped as its notification was.
    history_page: HistoryPage(query: PageRequest) -> FeedPage, CommandError;
    /// One event for the details pane; `null` when it is gone.
    history_event: HistoryEvent(key: i64) -> Option<FeedDetails>, CommandError;
    /// Subscriptions and known event types, for the filter controls.
    history_filters: HistoryFilters() -> Filters, CommandError;
    /// Marks rows read; answers the new unread count.
    mark_read: MarkRead(keys: Vec<i64>) -> u64, CommandError;
    /// Marks everything (of one subscription) read; answers the new unread count.
    mark_all_read: MarkAllRead(subscription: Option<String>) -> u64, CommandError;
    /// Deletes history (of one subscription); answers how many rows went.
    clear_history: ClearHistory(subscription: Option<String>) -> usize, CommandError;
    /// Opens an http(s) URL in the browser; anything else is refused.
    open_link: OpenLink(url: String) -> (), CommandError;
    /// Runs one of an event's action buttons.
    run_action: RunAction(key: i64, index: usize, confirmed: bool) -> ActionOutcome, Never;
    /// Pauses or resumes everything (the tray menu's entry, from a window); answers `paused`.
    set_paused: SetPaused(paused: bool) -> bool, Never;
    /// Quits the app (from a window, when no tray shows the icon).
    quit_app: QuitApp() -> (), Never;
    /// Everything the settings page shows when it loads.
    settings_get: SettingsGet() -> SettingsView, FormErrors;
    /// Saves one subscription (new or edited) on top of `revision`; answers it as saved.
    settings_save_subscription: SettingsSaveSubscription(form: SubscriptionForm, revision: u64)
        -> SubscriptionForm, FormErrors;
    /// Removes a subscription (its history stays), on top of `revision`.
    settings_delete_subscription: SettingsDeleteSubscription(id: String, revision: u64)
        -> (), FormErrors;
    /// Turns a subscription on or off, on top of `revision`.
    settings_set_enabled: SettingsSetEnabled(id: String, enabled: bool, revision: u64)
        -> (), FormErrors;
    /// "Test connection": one request with the form's settings, before anything is saved.
    settings_test_connection: SettingsTestConnection(form: SubscriptionForm)
        -> ProbeView, FormErrors;
    /// A pasted payload through the form's rules and filters, before anything is saved.
    settings_test_rules: SettingsTestRules(form: SubscriptionForm, payload: String, event_type: String)
        -> RuleTestView, FormErrors;
    /// Saves throttle, quiet hours and the master switch, on top of `revision`.
    settings_save_notifications: SettingsSaveNotifications(form: NotificationsForm, revision: u64)
        -> (), FormErrors;
    /// Sets do-not-disturb, as in the tray menu.
    settings_set_dnd: SettingsSetDnd(choice: DndRequest) -> (), FormErrors;
    /// Turns start-at-login on or off; answers the new state (and why it failed, if it did).
    settings_set_autostart: SettingsSetAutostart(enabled: bool) -> AutostartView, FormErrors;
    /// Live facts per subscription (polled every second while the page is visible).
    diagnostics: Diagnostics() -> DiagnosticsPoll, FormErrors;
    /// "Reconnect now": skips the backoff, or restarts a stopped subscription.
    reconnect_now: ReconnectNow(id: String) -> (), FormErrors;
    /// The configuration as TOML without secrets, also saved to the Downloads folder.
    settings_export: SettingsExport() -> ExportView, FormErrors;
    /// Replaces the configuration with an imported one, on top of `revision`.
    settings_import: SettingsImport(text: String, revision: u64) -> Imported, FormErrors;
}
