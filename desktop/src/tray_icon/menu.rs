//! The dbusmenu model: the caller's [`MenuEntry`] tree numbered the way `com.canonical.dbusmenu`
//! needs it, with no I/O.
//!
//! dbusmenu names items by `i32`, and a host caches items by that number between
//! `LayoutUpdated` signals, so a number must keep meaning the same item across updates. [`Ids`]
//! keeps that mapping for the life of the icon: an item is known by its string id, a submenu by
//! its label path, a separator by its place. [`MenuTree::diff`] then tells a structural change
//! (which needs `LayoutUpdated`) from a label or enabled change (`ItemsPropertiesUpdated`).

use std::collections::{BTreeMap, HashMap, HashSet};

use zbus::{OwnedVariant, Str, Variant};

use super::MenuEntry;

/// The root item's id, fixed by the protocol.
pub(super) const ROOT: i32 = 0;

/// A layout node as `GetLayout` returns it: `(id, properties, children)`, each child a variant
/// holding another node.
pub(super) type LayoutNode = (i32, HashMap<String, OwnedVariant>, Vec<OwnedVariant>);

/// What an item is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// The invisible root holding the top-level entries.
    Root,
    /// A clickable item with the caller's id.
    Item(String),
    /// A separator line.
    Separator,
    /// A nested menu.
    Submenu,
}

/// One numbered item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Node {
    pub kind: Kind,
    pub label: String,
    pub enabled: bool,
    pub children: Vec<i32>,
}

/// The numbers handed out so far, by key; they are never reused.
#[derive(Debug, Default)]
pub(super) struct Ids {
    by_key: HashMap<String, i32>,
    last: i32,
}

impl Ids {
    fn get(&mut self, key: String) -> i32 {
        *self.by_key.entry(key).or_insert_with(|| {
            self.last += 1;
            self.last
        })
    }
}

/// A whole menu, numbered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct MenuTree {
    nodes: BTreeMap<i32, Node>,
}

/// What changed between two trees.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Diff {
    /// Items were added, removed, moved or changed kind: the host must re-read the layout.
    pub layout: bool,
    /// Items (present in both trees) whose label or enabled state changed.
    pub properties: Vec<i32>,
}

impl MenuTree {
    /// Numbers `entries`, reusing the numbers `ids` gave the same items before.
    pub fn build(entries: &[MenuEntry], ids: &mut Ids) -> MenuTree {
        let mut tree = MenuTree::default();
        let mut used = HashSet::from([ROOT]);
        let children = tree.add_children(entries, "", ids, &mut used);
        tree.nodes.insert(
            ROOT,
            Node {
                kind: Kind::Root,
                label: String::new(),
                enabled: true,
                children,
            },
        );
        tree
    }

    fn add_children(
        &mut self,
        entries: &[MenuEntry],
        parent_key: &str,
        ids: &mut Ids,
        used: &mut HashSet<i32>,
    ) -> Vec<i32> {
        let mut numbers = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let (key, node) = match entry {
                MenuEntry::Item { id, label, enabled } => (
                    format!("item:{id}"),
                    Node {
                        kind: Kind::Item(id.clone()),
                        label: label.clone(),
                        enabled: *enabled,
                        children: Vec::new(),
                    },
                ),
                MenuEntry::Separator => (
                    format!("separator:{parent_key}/{index}"),
                    Node {
                        kind: Kind::Separator,
                        label: String::new(),
                        enabled: true,
                        children: Vec::new(),
                    },
                ),
                MenuEntry::Submenu { label, children } => {
                    let key = format!("submenu:{parent_key}/{label}");
                    let children = self.add_children(children, &key, ids, used);
                    (
                        key,
                        Node {
                            kind: Kind::Submenu,
                            label: label.clone(),
                            enabled: true,
                            children,
                        },
                    )
                }
            };
            let mut number = ids.get(key.clone());
            // A repeated id or label must not make two items share a number.
            let mut copy = 1;
            while !used.insert(number) {
                number = ids.get(format!("{key}#{copy}"));
                copy += 1;
            }
            self.nodes.insert(number, node);
            numbers.push(number);
        }
        numbers
    }

    /// The item numbered `id`.
    pub fn node(&self, id: i32) -> Option<&Node> {
        self.nodes.get(&id)
    }

    /// What a host must be told to go from `self` to `new`.
    pub fn diff(&self, new: &MenuTree) -> Diff {
        let same_shape = self.nodes.len() == new.nodes.len()
            && self.nodes.iter().all(|(id, old)| {
                new.nodes
                    .get(id)
                    .is_some_and(|n| n.kind == old.kind && n.children == old.children)
            });
        if !same_shape {
            return Diff {
                layout: true,
                properties: Vec::new(),
            };
        }
        let properties = self
            .nodes
            .iter()
            .filter(|(id, old)| {
                new.nodes
                    .get(id)
                    .is_some_and(|n| n.label != old.label || n.enabled != old.enabled)
            })
            .map(|(id, _)| *id)
            .collect();
        Diff {
            layout: false,
            properties,
        }
    }

    /// The properties of item `id`, only those named in `filter` unless it is empty.
    ///
    /// The names and values are the ones libdbusmenu (behind libayatana-appindicator) exported,
    /// except that `enabled` and `visible` are always sent so simple hosts need no defaults.
    pub fn properties(&self, id: i32, filter: &[String]) -> Option<HashMap<String, OwnedVariant>> {
        let node = self.nodes.get(&id)?;
        let text = |s: &str| OwnedVariant::from(Str::from(s.to_owned()));
        let mut props: Vec<(&str, OwnedVariant)> = Vec::new();
        match &node.kind {
            Kind::Root => props.push(("children-display", text("submenu"))),
            Kind::Separator => {
                props.push(("type", text("separator")));
                props.push(("visible", OwnedVariant::from(true)));
            }
            Kind::Item(_) | Kind::Submenu => {
                props.push(("label", text(&node.label)));
                props.push(("enabled", OwnedVariant::from(node.enabled)));
                props.push(("visible", OwnedVariant::from(true)));
                if node.kind == Kind::Submenu {
                    props.push(("children-display", text("submenu")));
                }
            }
        }
        Some(
            props
                .into_iter()
                .filter(|(name, _)| filter.is_empty() || filter.iter().any(|f| f == name))
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        )
    }

    /// The layout below `parent`, `depth` levels deep (`-1`: all), as `GetLayout` returns it;
    /// `None` if there is no such item.
    pub fn layout(
        &self,
        parent: i32,
        depth: i32,
        filter: &[String],
    ) -> zbus::Result<Option<LayoutNode>> {
        let (Some(node), Some(properties)) =
            (self.nodes.get(&parent), self.properties(parent, filter))
        else {
            return Ok(None);
        };
        let mut children = Vec::new();
        if depth != 0 {
            for child in &node.children {
                if let Some(child) = self.layout(*child, depth - 1, filter)? {
                    // A structure in a variant: `av` can nest what a static type cannot.
                    children.push(OwnedVariant::try_from(Variant::from(child))?);
                }
            }
        }
        Ok(Some((parent, properties, children)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, label: &str, enabled: bool) -> MenuEntry {
        MenuEntry::Item {
            id: id.into(),
            label: label.into(),
            enabled,
        }
    }

    fn menu(dnd_label: &str) -> Vec<MenuEntry> {
        vec![
            item("open", "Open", true),
            MenuEntry::Separator,
            MenuEntry::Submenu {
                label: "Do not disturb".into(),
                children: vec![
                    item("dnd-1h", dnd_label, true),
                    item("dnd-off", "Off", false),
                ],
            },
            item("quit", "Quit", true),
        ]
    }

    #[test]
    fn numbers_stay_with_their_items_across_builds() {
        let mut ids = Ids::default();
        let first = MenuTree::build(&menu("For 1 hour"), &mut ids);
        let mut reordered = menu("For 1 hour");
        reordered.swap(0, 3);
        let second = MenuTree::build(&reordered, &mut ids);
        let number_of = |tree: &MenuTree, id: &str| {
            tree.nodes
                .iter()
                .find(|(_, n)| n.kind == Kind::Item(id.into()))
                .map(|(number, _)| *number)
        };
        for id in ["open", "dnd-1h", "dnd-off", "quit"] {
            assert_eq!(number_of(&first, id), number_of(&second, id), "{id}");
        }
        assert!(first.diff(&second).layout, "a reorder is a layout change");
    }

    #[test]
    fn a_label_change_is_a_property_change_only() {
        let mut ids = Ids::default();
        let before = MenuTree::build(&menu("For 1 hour"), &mut ids);
        let after = MenuTree::build(&menu("For 2 hours"), &mut ids);
        let diff = before.diff(&after);
        assert!(!diff.layout);
        assert_eq!(diff.properties.len(), 1);
        let changed = after.node(diff.properties[0]).map(|n| n.label.as_str());
        assert_eq!(changed, Some("For 2 hours"));
        assert_eq!(before.diff(&before.clone()), Diff::default());
    }

    #[test]
    fn repeated_ids_get_distinct_numbers() {
        let mut ids = Ids::default();
        let tree = MenuTree::build(
            &[item("a", "A", true), item("a", "A again", true)],
            &mut ids,
        );
        let root = tree
            .node(ROOT)
            .map(|n| n.children.clone())
            .unwrap_or_default();
        assert_eq!(root.len(), 2);
        assert_ne!(root[0], root[1]);
    }

    #[test]
    fn the_property_filter_keeps_only_named_properties() {
        let mut ids = Ids::default();
        let tree = MenuTree::build(&menu("x"), &mut ids);
        let first = tree.node(ROOT).map(|n| n.children[0]).unwrap_or_default();
        let props = tree
            .properties(first, &["label".into()])
            .unwrap_or_default();
        assert_eq!(props.keys().collect::<Vec<_>>(), vec!["label"]);
    }
}
