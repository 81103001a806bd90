//! The tray menu as a desktop's tray host sees it: libayatana-appindicator exports it on the
//! session bus as `com.canonical.dbusmenu` at `/org/ayatana/NotificationItem/<id>/Menu`. A test
//! lists it with `GetLayout` and clicks with `Event(id, "clicked", ...)`, exactly as a panel does.

use std::collections::HashMap;
use std::time::Duration;
use zbus::Connection;
use zbus::{OwnedVariant as OwnedValue, Variant as Value};

const IFACE: &str = "com.canonical.dbusmenu";

/// A layout node as `GetLayout` returns it: `(id, properties, children)`.
type Node = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

/// One menu item.
#[derive(Clone, Debug)]
pub struct Item {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
    pub children: Vec<Item>,
}

impl Item {
    /// Depth-first search by label.
    pub fn find(&self, label: &str) -> Option<&Item> {
        if self.label == label {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(label))
    }
}

/// A tray menu found on the bus.
pub struct TrayMenu {
    connection: Connection,
    owner: String,
    path: String,
}

async fn call_string(
    connection: &Connection,
    dest: &str,
    path: &str,
    iface: &str,
    method: &str,
) -> Option<String> {
    // Some connections of the app never answer (no object server); don't wait on them forever.
    let call = connection.call_method(Some(dest), path, Some(iface), method, &());
    let reply = tokio::time::timeout(Duration::from_secs(1), call)
        .await
        .ok()?
        .ok()?;
    reply.body().deserialize::<String>().ok()
}

impl TrayMenu {
    /// Finds the menu of the process with the given pid, waiting up to `secs`.
    pub async fn find(connection: &Connection, pid: u32, secs: u64) -> TrayMenu {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(menu) = Self::try_find(connection, pid).await {
                return menu;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no tray menu of pid {pid} on the session bus"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn try_find(connection: &Connection, pid: u32) -> Option<TrayMenu> {
        let names: Vec<String> = connection
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "ListNames",
                &(),
            )
            .await
            .ok()?
            .body()
            .deserialize()
            .ok()?;
        for name in names.into_iter().filter(|n| n.starts_with(':')) {
            let owner_pid: Option<u32> = connection
                .call_method(
                    Some("org.freedesktop.DBus"),
                    "/org/freedesktop/DBus",
                    Some("org.freedesktop.DBus"),
                    "GetConnectionUnixProcessID",
                    &(name.as_str(),),
                )
                .await
                .ok()
                .and_then(|m| m.body().deserialize().ok());
            if owner_pid != Some(pid) {
                continue;
            }
            let root = "/org/ayatana/NotificationItem";
            let Some(xml) = call_string(
                connection,
                &name,
                root,
                "org.freedesktop.DBus.Introspectable",
                "Introspect",
            )
            .await
            else {
                continue;
            };
            for chunk in xml.split("<node name=\"").skip(1) {
                let child = chunk.split('"').next().unwrap_or_default();
                if !child.is_empty() {
                    return Some(TrayMenu {
                        connection: connection.clone(),
                        owner: name.clone(),
                        path: format!("{root}/{child}/Menu"),
                    });
                }
            }
        }
        None
    }

    /// The whole menu tree.
    pub async fn layout(&self) -> Item {
        let reply = self
            .connection
            .call_method(
                Some(self.owner.as_str()),
                self.path.as_str(),
                Some(IFACE),
                "GetLayout",
                &(0i32, -1i32, Vec::<String>::new()),
            )
            .await
            .expect("GetLayout");
        let (_revision, root): (u32, Node) = reply.body().deserialize().expect("GetLayout reply");
        item(root.0, &root.1, &root.2)
    }

    /// Clicks the item labelled `label`.
    pub async fn click(&self, label: &str) {
        let layout = self.layout().await;
        let item = layout
            .find(label)
            .unwrap_or_else(|| panic!("no tray item `{label}` in {layout:#?}"));
        assert!(item.enabled, "tray item `{label}` is disabled");
        self.connection
            .call_method(
                Some(self.owner.as_str()),
                self.path.as_str(),
                Some(IFACE),
                "Event",
                &(item.id, "clicked", Value::from(0i32), 0u32),
            )
            .await
            .expect("Event clicked");
    }
}

fn item(id: i32, props: &HashMap<String, OwnedValue>, children: &[OwnedValue]) -> Item {
    let label = props
        .get("label")
        .and_then(|v| String::try_from(v.try_clone().ok()?).ok())
        .unwrap_or_default();
    let enabled = props
        .get("enabled")
        .and_then(|v| bool::try_from(v).ok())
        .unwrap_or(true);
    Item {
        id,
        label,
        enabled,
        children: children.iter().filter_map(|c| child(c)).collect(),
    }
}

fn child(value: &Value<'_>) -> Option<Item> {
    match value {
        Value::Variant(inner) => child(inner),
        Value::Structure(s) => {
            let fields = s.fields();
            let Value::I32(id) = fields.first()? else {
                return None;
            };
            let props: HashMap<String, OwnedValue> = match fields.get(1)? {
                Value::Dict(d) => HashMap::try_from(d.try_clone().ok()?).ok()?,
                _ => return None,
            };
            let kids: Vec<OwnedValue> = match fields.get(2)? {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|v| OwnedValue::try_from(v.try_clone().ok()?).ok())
                    .collect(),
                _ => return None,
            };
            Some(item(*id, &props, &kids))
        }
        _ => None,
    }
}
