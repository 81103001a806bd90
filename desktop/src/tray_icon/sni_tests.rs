//! Tests of the Linux tray icon against a real session bus (run them under `dbus-run-session`):
//! a second connection plays the panel, reading the menu the way the end-to-end tests'
//! `src-tauri/tests/support/dbusmenu.rs` does, and a small recording watcher plays the
//! `StatusNotifierWatcher`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use zbus::message::{Header, Type};
use zbus::object_server::SignalEmitter;
use zbus::{Connection, MatchRule, Message, MessageStream, OwnedVariant, Variant, interface};

use super::sni::{ITEM_PATH, MENU_PATH};
use super::watcher::{WATCHER_NAME, WATCHER_PATH};
use super::{MenuEntry, TrayError, TrayHost, TrayIcon, TrayInput, TrayLook};

const MENU_IFACE: &str = "com.canonical.dbusmenu";
const ITEM_IFACE: &str = "org.kde.StatusNotifierItem";
const WAIT: Duration = Duration::from_secs(5);

async fn session() -> Connection {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "DBUS_SESSION_BUS_ADDRESS is unset: run the tests under `dbus-run-session -- cargo test`"
    );
    Connection::session()
        .await
        .expect("connect to the session bus")
}

fn item(id: &str, label: &str, enabled: bool) -> MenuEntry {
    MenuEntry::Item {
        id: id.into(),
        label: label.into(),
        enabled,
    }
}

/// The app's menu shape: items, a separator, the three-item "Do not disturb" submenu.
fn look(dnd_label: &str, pixel: [u8; 4]) -> TrayLook {
    TrayLook {
        icon_rgba: pixel.repeat(4),
        icon_size: 2,
        tooltip: "SSE Tray".into(),
        menu: vec![
            item("open", "Open", true),
            MenuEntry::Separator,
            MenuEntry::Submenu {
                label: "Do not disturb".into(),
                children: vec![
                    item("dnd-1h", dnd_label, true),
                    item("dnd-tomorrow", "Until tomorrow", true),
                    item("dnd-off", "Off", false),
                ],
            },
            item("quit", "Quit", true),
        ],
    }
}

struct Fixture {
    tray: TrayIcon,
    input: mpsc::UnboundedReceiver<TrayInput>,
    /// The tray's unique name.
    owner: String,
    /// The panel's connection.
    client: Connection,
}

async fn start(look: TrayLook) -> Fixture {
    let server = session().await;
    let owner = server.unique_name().expect("unique name").to_string();
    let (tx, input) = mpsc::unbounded_channel();
    let tray = TrayIcon::start(server, look, tx)
        .await
        .expect("start the tray icon");
    Fixture {
        tray,
        input,
        owner,
        client: session().await,
    }
}

impl Fixture {
    async fn call<B>(
        &self,
        path: &str,
        iface: &str,
        method: &str,
        body: &B,
    ) -> zbus::Result<Message>
    where
        B: serde::Serialize + zbus::DynamicType,
    {
        self.client
            .call_method(Some(self.owner.as_str()), path, Some(iface), method, body)
            .await
    }

    async fn layout(&self) -> (u32, MenuItem) {
        let reply = self
            .call(
                MENU_PATH,
                MENU_IFACE,
                "GetLayout",
                &(0i32, -1i32, Vec::<String>::new()),
            )
            .await
            .expect("GetLayout");
        let (revision, root): (u32, Node) = reply.body().deserialize().expect("GetLayout reply");
        (revision, parse_item(root.0, &root.1, &root.2))
    }

    async fn click(&self, id: i32) -> zbus::Result<Message> {
        self.call(
            MENU_PATH,
            MENU_IFACE,
            "Event",
            &(id, "clicked", Variant::from(0i32), 0u32),
        )
        .await
    }

    async fn property(&self, path: &str, iface: &str, name: &str) -> OwnedVariant {
        self.call(
            path,
            "org.freedesktop.DBus.Properties",
            "Get",
            &(iface, name),
        )
        .await
        .expect("Properties.Get")
        .body()
        .deserialize()
        .expect("a variant")
    }

    /// The signals the tray emits while `action` runs, in order, by member name.
    async fn signals_during(&self, action: impl Future<Output = ()>) -> Vec<Message> {
        let rule = MatchRule::builder()
            .msg_type(Type::Signal)
            .sender(self.owner.as_str())
            .path_namespace("/org/ayatana/NotificationItem")
            .build()
            .expect("match rule");
        let mut stream = MessageStream::for_match_rule(rule, &self.client, None)
            .await
            .expect("subscribe");
        action.await;
        // The bus keeps one sender's messages in order: once this reply is in, so are the
        // signals sent before it.
        self.call(ITEM_PATH, "org.freedesktop.DBus.Peer", "Ping", &())
            .await
            .expect("Ping");
        let mut signals = Vec::new();
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_millis(300), stream.next()).await
        {
            signals.push(message);
        }
        signals
    }
}

fn members(signals: &[Message]) -> Vec<String> {
    signals
        .iter()
        .filter_map(|m| m.header().member().map(|m| m.to_string()))
        .collect()
}

// --- The test client's parser (src-tauri/tests/support/dbusmenu.rs), plus the item type. ---

type Node = (i32, HashMap<String, OwnedVariant>, Vec<OwnedVariant>);
type Properties = (i32, HashMap<String, OwnedVariant>);
type Pixmap = (i32, i32, Vec<u8>);

#[derive(Clone, Debug)]
struct MenuItem {
    id: i32,
    label: String,
    enabled: bool,
    kind: String,
    children: Vec<MenuItem>,
}

impl MenuItem {
    fn find(&self, label: &str) -> Option<&MenuItem> {
        if self.label == label {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(label))
    }

    fn labels(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.label.as_str()).collect()
    }
}

fn text(props: &HashMap<String, OwnedVariant>, name: &str) -> String {
    props
        .get(name)
        .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
        .unwrap_or_default()
}

fn parse_item(
    id: i32,
    props: &HashMap<String, OwnedVariant>,
    children: &[OwnedVariant],
) -> MenuItem {
    let enabled = props
        .get("enabled")
        .and_then(|v| bool::try_from(v).ok())
        .unwrap_or(true);
    MenuItem {
        id,
        label: text(props, "label"),
        enabled,
        kind: text(props, "type"),
        children: children.iter().filter_map(|c| parse_child(c)).collect(),
    }
}

fn parse_child(value: &Variant<'_>) -> Option<MenuItem> {
    match value {
        Variant::Variant(inner) => parse_child(inner),
        Variant::Structure(s) => {
            let fields = s.fields();
            let Variant::I32(id) = fields.first()? else {
                return None;
            };
            let props: HashMap<String, OwnedVariant> = match fields.get(1)? {
                Variant::Dict(d) => HashMap::try_from(d.try_clone().ok()?).ok()?,
                _ => return None,
            };
            let kids: Vec<OwnedVariant> = match fields.get(2)? {
                Variant::Array(a) => a
                    .iter()
                    .filter_map(|v| OwnedVariant::try_from(v.try_clone().ok()?).ok())
                    .collect(),
                _ => return None,
            };
            Some(parse_item(*id, &props, &kids))
        }
        _ => None,
    }
}

// --- Tests ---

#[tokio::test]
async fn the_menu_is_found_and_read_as_the_e2e_client_does() {
    let fixture = start(look("For 1 hour", [0; 4])).await;

    // Discovery as in the e2e client: a child node under the ayatana root, then `<child>/Menu`.
    let xml: String = fixture
        .call(
            "/org/ayatana/NotificationItem",
            "org.freedesktop.DBus.Introspectable",
            "Introspect",
            &(),
        )
        .await
        .expect("Introspect")
        .body()
        .deserialize()
        .expect("XML");
    let child = xml
        .split("<node name=\"")
        .nth(1)
        .and_then(|chunk| chunk.split('"').next());
    assert_eq!(child, Some("sse_tray"), "{xml}");

    let (_, root) = fixture.layout().await;
    assert_eq!(root.id, 0);
    assert_eq!(root.labels(), ["Open", "", "Do not disturb", "Quit"]);
    assert_eq!(root.children[1].kind, "separator");
    let dnd = root.find("Do not disturb").expect("submenu");
    assert_eq!(dnd.labels(), ["For 1 hour", "Until tomorrow", "Off"]);
    let enabled: Vec<bool> = dnd.children.iter().map(|c| c.enabled).collect();
    assert_eq!(enabled, [true, true, false]);
    let ids: std::collections::HashSet<i32> = root
        .children
        .iter()
        .chain(&dnd.children)
        .map(|c| c.id)
        .collect();
    assert_eq!(ids.len(), 7, "every item has its own id");

    let menu = fixture.property(ITEM_PATH, ITEM_IFACE, "Menu").await;
    assert_eq!(
        zbus::OwnedObjectPath::try_from(menu)
            .expect("object path")
            .as_str(),
        MENU_PATH
    );
    let version = fixture.property(MENU_PATH, MENU_IFACE, "Version").await;
    assert_eq!(u32::try_from(&version).ok(), Some(3));
}

#[tokio::test]
async fn clicked_delivers_the_item_id_and_activate_the_icon() {
    let mut fixture = start(look("For 1 hour", [0; 4])).await;
    let (_, root) = fixture.layout().await;

    let quit = root.find("Quit").expect("Quit").id;
    fixture.click(quit).await.expect("Event clicked");
    assert_eq!(
        fixture.input.try_recv().ok(),
        Some(TrayInput::Menu("quit".into()))
    );

    let nested = root.find("Until tomorrow").expect("nested item").id;
    fixture.click(nested).await.expect("Event clicked");
    assert_eq!(
        fixture.input.try_recv().ok(),
        Some(TrayInput::Menu("dnd-tomorrow".into()))
    );

    // A disabled item and a submenu are not reported; an unknown id is an error.
    for label in ["Off", "Do not disturb"] {
        let id = root.find(label).expect(label).id;
        fixture.click(id).await.expect("Event clicked");
    }
    assert!(fixture.input.try_recv().is_err(), "nothing reported");
    assert!(fixture.click(9999).await.is_err(), "unknown id");

    fixture
        .call(ITEM_PATH, ITEM_IFACE, "Activate", &(0i32, 0i32))
        .await
        .expect("Activate");
    assert_eq!(fixture.input.try_recv().ok(), Some(TrayInput::Activate));
}

#[tokio::test]
async fn a_label_change_emits_items_properties_updated_only() {
    let fixture = start(look("For 1 hour", [0; 4])).await;
    let (revision, before) = fixture.layout().await;
    let id = before.find("For 1 hour").expect("item").id;

    let signals = fixture
        .signals_during(async {
            let changed = look("For 2 hours", [0; 4]);
            fixture.tray.update(changed).await.expect("update");
        })
        .await;
    assert_eq!(members(&signals), ["ItemsPropertiesUpdated"]);
    let (updated, removed): (Vec<Properties>, Vec<(i32, Vec<String>)>) =
        signals[0].body().deserialize().expect("signal body");
    assert!(removed.is_empty());
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].0, id);
    assert_eq!(text(&updated[0].1, "label"), "For 2 hours");

    let (revision_after, after) = fixture.layout().await;
    assert_eq!(revision_after, revision, "same structure, same revision");
    assert_eq!(after.find("For 2 hours").map(|i| i.id), Some(id));

    // The same look again: nothing to say.
    let signals = fixture
        .signals_during(async {
            fixture
                .tray
                .update(look("For 2 hours", [0; 4]))
                .await
                .expect("update");
        })
        .await;
    assert_eq!(members(&signals), Vec::<String>::new());
}

#[tokio::test]
async fn a_structure_change_emits_layout_updated() {
    let fixture = start(look("For 1 hour", [0; 4])).await;
    let (revision, before) = fixture.layout().await;
    let open = before.find("Open").expect("Open").id;

    let mut shorter = look("For 1 hour", [0; 4]);
    shorter.menu.remove(3);
    let signals = fixture
        .signals_during(async {
            fixture.tray.update(shorter).await.expect("update");
        })
        .await;
    assert_eq!(members(&signals), ["LayoutUpdated"]);
    let (signalled, parent): (u32, i32) = signals[0].body().deserialize().expect("signal body");
    assert_eq!(parent, 0);

    let (revision_after, after) = fixture.layout().await;
    assert!(revision_after > revision);
    assert_eq!(signalled, revision_after);
    assert_eq!(after.labels(), ["Open", "", "Do not disturb"]);
    assert_eq!(
        after.find("Open").map(|i| i.id),
        Some(open),
        "ids are stable"
    );
}

#[tokio::test]
async fn an_icon_change_emits_new_icon_with_argb_pixels() {
    let fixture = start(look("For 1 hour", [0; 4])).await;
    let signals = fixture
        .signals_during(async {
            let red = look("For 1 hour", [0xff, 0x10, 0x20, 0x80]);
            fixture.tray.update(red).await.expect("update");
        })
        .await;
    assert_eq!(members(&signals), ["NewIcon"]);

    let pixmap = fixture.property(ITEM_PATH, ITEM_IFACE, "IconPixmap").await;
    let pixmaps: Vec<Pixmap> = pixmap.try_into().expect("a(iiay)");
    assert_eq!(pixmaps, [(2, 2, [0x80, 0xff, 0x10, 0x20].repeat(4))]);

    let signals = fixture
        .signals_during(async {
            let mut tooltip = look("For 1 hour", [0xff, 0x10, 0x20, 0x80]);
            tooltip.tooltip = "SSE Tray: 2 unread".into();
            fixture.tray.update(tooltip).await.expect("update");
        })
        .await;
    assert_eq!(members(&signals), ["NewToolTip"]);
    let tooltip = fixture.property(ITEM_PATH, ITEM_IFACE, "ToolTip").await;
    let (_, _, title, _): (String, Vec<Pixmap>, String, String) =
        tooltip.try_into().expect("(sa(iiay)ss)");
    assert_eq!(title, "SSE Tray: 2 unread");
}

#[tokio::test]
async fn a_bad_icon_is_refused() {
    let server = session().await;
    let mut bad = look("For 1 hour", [0; 4]);
    bad.icon_rgba.pop();
    let (tx, _rx) = mpsc::unbounded_channel();
    let result = TrayIcon::start(server, bad, tx).await;
    assert!(matches!(
        result,
        Err(TrayError::BadIcon {
            len: 15,
            size: 2,
            ..
        })
    ));
}

#[tokio::test]
async fn dropping_the_icon_removes_it_from_the_bus() {
    let fixture = start(look("For 1 hour", [0; 4])).await;
    fixture.layout().await;
    let Fixture {
        tray,
        owner,
        client,
        ..
    } = fixture;
    drop(tray);
    let gone = tokio::time::timeout(WAIT, async {
        loop {
            let reply = client
                .call_method(
                    Some(owner.as_str()),
                    MENU_PATH,
                    Some(MENU_IFACE),
                    "GetLayout",
                    &(0i32, -1i32, Vec::<String>::new()),
                )
                .await;
            if reply.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(gone.is_ok(), "the menu is still served after the drop");
}

/// A `StatusNotifierWatcher` that records who registered what.
struct RecordingWatcher {
    registrations: Arc<Mutex<Vec<(String, String)>>>,
    host: Arc<AtomicBool>,
}

#[interface(name = "org.kde.StatusNotifierWatcher")]
impl RecordingWatcher {
    fn register_status_notifier_item(&self, service: String, #[zbus(header)] header: Header<'_>) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.registrations
            .lock()
            .expect("registrations")
            .push((sender, service));
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        self.host.load(Ordering::SeqCst)
    }

    #[zbus(signal)]
    async fn status_notifier_host_unregistered(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;
}

async fn serve_watcher(
    registrations: &Arc<Mutex<Vec<(String, String)>>>,
    host: &Arc<AtomicBool>,
) -> Connection {
    // Fails with the clear message when there is no session bus.
    drop(session().await);
    let watcher = RecordingWatcher {
        registrations: registrations.clone(),
        host: host.clone(),
    };
    zbus::connection::Builder::session()
        .serve_at(WATCHER_PATH, watcher)
        .name(WATCHER_NAME)
        .build()
        .await
        .expect("serve the watcher")
}

async fn wait_for(host: &mut tokio::sync::watch::Receiver<TrayHost>, what: fn(&TrayHost) -> bool) {
    let matched = matches!(
        tokio::time::timeout(WAIT, host.wait_for(what)).await,
        Ok(Ok(_))
    );
    assert!(
        matched,
        "tray host state never matched; it is {:?}",
        *host.borrow()
    );
}

#[tokio::test]
async fn the_item_registers_with_each_watcher_and_follows_its_host() {
    let fixture = start(look("For 1 hour", [0; 4])).await;
    let mut host = fixture.tray.host();
    assert_eq!(*host.borrow(), TrayHost::default(), "no watcher yet");

    let registrations = Arc::new(Mutex::new(Vec::new()));
    let has_host = Arc::new(AtomicBool::new(true));
    let watcher = serve_watcher(&registrations, &has_host).await;
    wait_for(&mut host, TrayHost::shows_icon).await;
    // Other tests' trays on the same bus register too: only ours count.
    let ours = || {
        let all = registrations.lock().expect("registrations");
        all.iter()
            .filter(|(sender, _)| *sender == fixture.owner)
            .map(|(_, service)| service.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ours(), [ITEM_PATH]);

    // The panel goes, the watcher stays.
    has_host.store(false, Ordering::SeqCst);
    let emitter = SignalEmitter::new(&watcher, WATCHER_PATH).expect("emitter");
    RecordingWatcher::status_notifier_host_unregistered(&emitter)
        .await
        .expect("signal");
    wait_for(&mut host, |h| h.watcher && h.registered && !h.host).await;

    // The watcher goes.
    watcher.close().await.expect("close the watcher");
    wait_for(&mut host, |h| *h == TrayHost::default()).await;

    // A new watcher (a restarted panel) gets the item again.
    has_host.store(true, Ordering::SeqCst);
    let _watcher = serve_watcher(&registrations, &has_host).await;
    wait_for(&mut host, TrayHost::shows_icon).await;
    assert_eq!(ours(), [ITEM_PATH, ITEM_PATH]);
}
