//! The tray icon on Linux/BSD: a `StatusNotifierItem` and its `com.canonical.dbusmenu` menu,
//! served with zbus on a session-bus connection.
//!
//! The object paths are the ones libayatana-appindicator used for the Tauri app, so panels and
//! the end-to-end tests (which introspect `/org/ayatana/NotificationItem` for a child and talk
//! to `<child>/Menu`) find the menu where they did. Both objects read one [`Shown`] under one
//! lock; [`TrayIcon::update`] swaps it and emits only the signals for what changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{mpsc, oneshot, watch};
use zbus::object_server::SignalEmitter;
use zbus::{Connection, OwnedObjectPath, OwnedVariant, fdo, interface};

use super::menu::{Ids, Kind, LayoutNode, MenuTree, ROOT};
use super::watcher::Watcher;
use super::{TrayError, TrayHost, TrayInput, TrayLook};

/// Where the item is served.
pub(super) const ITEM_PATH: &str = "/org/ayatana/NotificationItem/sse_tray";
/// Where the menu is served.
pub(super) const MENU_PATH: &str = "/org/ayatana/NotificationItem/sse_tray/Menu";

/// One icon image: width, height, ARGB32 pixels in network byte order (`(iiay)`).
type Pixmap = (i32, i32, Vec<u8>);

/// What the tray shows, read by both D-Bus objects.
struct Shown {
    look: TrayLook,
    pixmap: Pixmap,
    tree: MenuTree,
    /// Keeps menu item numbers stable for the life of the icon.
    ids: Ids,
    /// The menu layout revision, bumped on every structural change.
    revision: u32,
}

type Shared = Arc<Mutex<Shown>>;

/// The lock is never held across an `.await`, and a panic while holding it leaves a whole value.
fn lock(shared: &Shared) -> MutexGuard<'_, Shown> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Converts RGBA8 rows into the ARGB32 big-endian pixmap the SNI spec asks for.
fn argb_pixmap(rgba: &[u8], size: u32) -> Pixmap {
    let argb = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[3], p[0], p[1], p[2]])
        .collect();
    let side = i32::try_from(size).unwrap_or(i32::MAX);
    (side, side, argb)
}

/// The signals an update calls for.
#[derive(Debug, Default)]
struct Changes {
    icon: bool,
    tooltip: bool,
    /// New layout revision.
    layout: Option<u32>,
    /// Changed item properties.
    properties: Vec<(i32, HashMap<String, OwnedVariant>)>,
}

impl Shown {
    fn new(look: TrayLook) -> Shown {
        let mut ids = Ids::default();
        Shown {
            pixmap: argb_pixmap(&look.icon_rgba, look.icon_size),
            tree: MenuTree::build(&look.menu, &mut ids),
            ids,
            look,
            revision: 1,
        }
    }

    fn replace(&mut self, look: TrayLook) -> Changes {
        let mut changes = Changes {
            icon: look.icon_rgba != self.look.icon_rgba || look.icon_size != self.look.icon_size,
            tooltip: look.tooltip != self.look.tooltip,
            ..Changes::default()
        };
        if changes.icon {
            self.pixmap = argb_pixmap(&look.icon_rgba, look.icon_size);
        }
        if look.menu != self.look.menu {
            let tree = MenuTree::build(&look.menu, &mut self.ids);
            let diff = self.tree.diff(&tree);
            self.tree = tree;
            if diff.layout {
                self.revision = self.revision.wrapping_add(1);
                changes.layout = Some(self.revision);
            } else {
                changes.properties = diff
                    .properties
                    .into_iter()
                    .filter_map(|id| Some((id, self.tree.properties(id, &[])?)))
                    .collect();
            }
        }
        self.look = look;
        changes
    }
}

/// The tray icon, served while this handle lives; dropping it removes the icon.
pub struct TrayIcon {
    connection: Connection,
    shown: Shared,
    host: watch::Receiver<TrayHost>,
    /// Dropping it ends the watcher task, which then removes the objects.
    _stop: oneshot::Sender<()>,
}

impl TrayIcon {
    /// Serves the icon and its menu on `connection` (the session bus), registers it with the
    /// `StatusNotifierWatcher` if there is one, and keeps following the watcher. Clicks arrive on
    /// `input`.
    ///
    /// [`TrayIcon::host`] holds the watcher state as of this call when it returns.
    pub async fn start(
        connection: Connection,
        look: TrayLook,
        input: mpsc::UnboundedSender<TrayInput>,
    ) -> Result<TrayIcon, TrayError> {
        look.check_icon()?;
        let shown = Arc::new(Mutex::new(Shown::new(look)));
        let server = connection.object_server();
        let item = StatusNotifierItem {
            shown: shown.clone(),
            input: input.clone(),
        };
        if server.at(ITEM_PATH, item).await?.is_some() {
            return Err(TrayError::AlreadyServed);
        }
        let menu = DbusMenu {
            shown: shown.clone(),
            input,
        };
        let served = match server.at(MENU_PATH, menu).await {
            Ok(None) => Watcher::subscribe(&connection, ITEM_PATH).await,
            Ok(Some(_)) => Err(zbus::Error::NameTaken),
            Err(error) => Err(error),
        };
        let watcher = match served {
            Ok(watcher) => watcher,
            Err(error) => {
                remove_objects(&connection).await;
                return Err(match error {
                    zbus::Error::NameTaken => TrayError::AlreadyServed,
                    error => TrayError::Bus(error),
                });
            }
        };
        let (host_tx, host) = watch::channel(watcher.register().await);
        let (stop, stopped) = oneshot::channel();
        let task_connection = connection.clone();
        tokio::spawn(async move {
            watcher.run(stopped, host_tx).await;
            remove_objects(&task_connection).await;
        });
        Ok(TrayIcon {
            connection,
            shown,
            host,
            _stop: stop,
        })
    }

    /// Shows `look`, telling the panel only what changed: `NewIcon`, `NewToolTip`, and for the
    /// menu `LayoutUpdated` (items added, removed or moved) or `ItemsPropertiesUpdated` (labels
    /// or enabled states).
    pub async fn update(&self, look: TrayLook) -> Result<(), TrayError> {
        look.check_icon()?;
        let changes = lock(&self.shown).replace(look);
        let item = SignalEmitter::new(&self.connection, ITEM_PATH)?;
        if changes.icon {
            StatusNotifierItem::new_icon(&item).await?;
        }
        if changes.tooltip {
            StatusNotifierItem::new_tool_tip(&item).await?;
        }
        let menu = SignalEmitter::new(&self.connection, MENU_PATH)?;
        if let Some(revision) = changes.layout {
            DbusMenu::layout_updated(&menu, revision, ROOT).await?;
        }
        if !changes.properties.is_empty() {
            DbusMenu::items_properties_updated(&menu, changes.properties, Vec::new()).await?;
        }
        Ok(())
    }

    /// Whether a panel can show the icon, updated as watchers and hosts come and go.
    pub fn host(&self) -> watch::Receiver<TrayHost> {
        self.host.clone()
    }
}

async fn remove_objects(connection: &Connection) {
    let server = connection.object_server();
    let item = server.remove::<StatusNotifierItem, _>(ITEM_PATH).await;
    let menu = server.remove::<DbusMenu, _>(MENU_PATH).await;
    if let Err(error) = item.and(menu) {
        tracing::debug!(%error, "removing the tray icon objects");
    }
}

fn send(input: &mpsc::UnboundedSender<TrayInput>, what: TrayInput) {
    if input.send(what).is_err() {
        tracing::debug!("tray input dropped: nobody listens");
    }
}

/// `org.kde.StatusNotifierItem`: the icon, its tooltip and where its menu is.
struct StatusNotifierItem {
    shown: Shared,
    input: mpsc::UnboundedSender<TrayInput>,
}

#[interface(name = "org.kde.StatusNotifierItem", introspection_docs = false)]
impl StatusNotifierItem {
    #[zbus(property)]
    fn category(&self) -> String {
        "ApplicationStatus".into()
    }

    #[zbus(property)]
    fn id(&self) -> String {
        "sse-tray".into()
    }

    #[zbus(property)]
    fn title(&self) -> String {
        "SSE Tray".into()
    }

    #[zbus(property)]
    fn status(&self) -> String {
        "Active".into()
    }

    #[zbus(property)]
    fn window_id(&self) -> i32 {
        0
    }

    #[zbus(property)]
    fn icon_name(&self) -> String {
        String::new()
    }

    #[zbus(property)]
    fn icon_pixmap(&self) -> Vec<Pixmap> {
        vec![lock(&self.shown).pixmap.clone()]
    }

    #[zbus(property)]
    fn icon_theme_path(&self) -> String {
        String::new()
    }

    #[zbus(property)]
    fn overlay_icon_name(&self) -> String {
        String::new()
    }

    #[zbus(property)]
    fn overlay_icon_pixmap(&self) -> Vec<Pixmap> {
        Vec::new()
    }

    #[zbus(property)]
    fn attention_icon_name(&self) -> String {
        String::new()
    }

    #[zbus(property)]
    fn attention_icon_pixmap(&self) -> Vec<Pixmap> {
        Vec::new()
    }

    #[zbus(property)]
    fn attention_movie_name(&self) -> String {
        String::new()
    }

    /// `(icon name, icon pixmaps, title, description)`.
    #[zbus(property)]
    fn tool_tip(&self) -> (String, Vec<Pixmap>, String, String) {
        let tooltip = lock(&self.shown).look.tooltip.clone();
        (String::new(), Vec::new(), tooltip, String::new())
    }

    #[zbus(property)]
    fn item_is_menu(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn menu(&self) -> OwnedObjectPath {
        OwnedObjectPath::try_from(MENU_PATH).unwrap_or_default()
    }

    fn activate(&self, _x: i32, _y: i32) {
        send(&self.input, TrayInput::Activate);
    }

    fn secondary_activate(&self, _x: i32, _y: i32) {}

    fn context_menu(&self, _x: i32, _y: i32) {}

    fn scroll(&self, _delta: i32, _orientation: String) {}

    #[zbus(signal)]
    async fn new_title(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn new_icon(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn new_attention_icon(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn new_overlay_icon(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn new_tool_tip(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn new_status(emitter: &SignalEmitter<'_>, status: &str) -> zbus::Result<()>;
}

/// `com.canonical.dbusmenu`: the menu, as a tree of numbered items.
struct DbusMenu {
    shown: Shared,
    input: mpsc::UnboundedSender<TrayInput>,
}

impl DbusMenu {
    /// Handles one event; `false` if there is no item `id`.
    fn handle(&self, id: i32, event: &str) -> bool {
        let shown = lock(&self.shown);
        let Some(node) = shown.tree.node(id) else {
            return false;
        };
        if let (Kind::Item(item), "clicked", true) = (&node.kind, event, node.enabled) {
            send(&self.input, TrayInput::Menu(item.clone()));
        }
        true
    }
}

#[interface(name = "com.canonical.dbusmenu", introspection_docs = false)]
impl DbusMenu {
    #[zbus(property)]
    fn version(&self) -> u32 {
        3
    }

    #[zbus(property)]
    fn text_direction(&self) -> String {
        "ltr".into()
    }

    #[zbus(property)]
    fn status(&self) -> String {
        "normal".into()
    }

    #[zbus(property)]
    fn icon_theme_path(&self) -> Vec<String> {
        Vec::new()
    }

    #[zbus(out_args("revision", "layout"))]
    fn get_layout(
        &self,
        parent_id: i32,
        recursion_depth: i32,
        property_names: Vec<String>,
    ) -> fdo::Result<(u32, LayoutNode)> {
        let shown = lock(&self.shown);
        let layout = shown
            .tree
            .layout(parent_id, recursion_depth, &property_names)
            .map_err(|error| fdo::Error::Failed(error.to_string()))?
            .ok_or_else(|| fdo::Error::InvalidArgs(format!("no menu item {parent_id}")))?;
        Ok((shown.revision, layout))
    }

    fn get_group_properties(
        &self,
        ids: Vec<i32>,
        property_names: Vec<String>,
    ) -> Vec<(i32, HashMap<String, OwnedVariant>)> {
        let shown = lock(&self.shown);
        ids.into_iter()
            .filter_map(|id| Some((id, shown.tree.properties(id, &property_names)?)))
            .collect()
    }

    fn get_property(&self, id: i32, name: String) -> fdo::Result<OwnedVariant> {
        let shown = lock(&self.shown);
        shown
            .tree
            .properties(id, std::slice::from_ref(&name))
            .and_then(|mut props| props.remove(&name))
            .ok_or_else(|| fdo::Error::InvalidArgs(format!("no property {name} on item {id}")))
    }

    fn event(
        &self,
        id: i32,
        event_id: String,
        _data: OwnedVariant,
        _timestamp: u32,
    ) -> fdo::Result<()> {
        if self.handle(id, &event_id) {
            Ok(())
        } else {
            Err(fdo::Error::InvalidArgs(format!("no menu item {id}")))
        }
    }

    /// Returns the ids that were not found.
    fn event_group(&self, events: Vec<(i32, String, OwnedVariant, u32)>) -> Vec<i32> {
        events
            .into_iter()
            .filter(|(id, event, _, _)| !self.handle(*id, event))
            .map(|(id, ..)| id)
            .collect()
    }

    /// The menu is always up to date, so no update is ever needed.
    fn about_to_show(&self, _id: i32) -> bool {
        false
    }

    #[zbus(out_args("updatesNeeded", "idErrors"))]
    fn about_to_show_group(&self, ids: Vec<i32>) -> (Vec<i32>, Vec<i32>) {
        let shown = lock(&self.shown);
        let missing = ids
            .into_iter()
            .filter(|id| shown.tree.node(*id).is_none())
            .collect();
        (Vec::new(), missing)
    }

    #[zbus(signal)]
    async fn layout_updated(
        emitter: &SignalEmitter<'_>,
        revision: u32,
        parent: i32,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn items_properties_updated(
        emitter: &SignalEmitter<'_>,
        updated_props: Vec<(i32, HashMap<String, OwnedVariant>)>,
        removed_props: Vec<(i32, Vec<String>)>,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn item_activation_requested(
        emitter: &SignalEmitter<'_>,
        id: i32,
        timestamp: u32,
    ) -> zbus::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgba_becomes_big_endian_argb() {
        let rgba = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(argb_pixmap(&rgba, 1), (1, 1, vec![4, 1, 2, 3, 8, 5, 6, 7]));
    }
}
