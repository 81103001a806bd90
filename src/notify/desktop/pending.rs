//! The notifications still on screen that a click may refer to, capped: when full, the oldest is
//! forgotten (a click on it is then ignored), so a server that never reports closures cannot make
//! the table grow without end.

use std::collections::{BTreeMap, HashMap};

/// Server notification id → what a click on it means, oldest-first eviction.
#[derive(Debug)]
pub(crate) struct Pending<T> {
    cap: usize,
    next_seq: u64,
    by_id: HashMap<u32, (u64, T)>,
    order: BTreeMap<u64, u32>,
}

impl<T> Pending<T> {
    /// An empty table holding at most `cap` entries (at least one).
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            next_seq: 0,
            by_id: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    /// Remembers `value` for `id` (replacing, and refreshing the age of, an earlier entry). Returns
    /// what was forgotten to make room.
    pub(crate) fn insert(&mut self, id: u32, value: T) -> Vec<(u32, T)> {
        if let Some((seq, _)) = self.by_id.remove(&id) {
            self.order.remove(&seq);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_id.insert(id, (seq, value));
        self.order.insert(seq, id);
        let mut evicted = Vec::new();
        while self.by_id.len() > self.cap {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some((_, value)) = self.by_id.remove(&oldest) {
                evicted.push((oldest, value));
            }
        }
        evicted
    }

    /// Forgets `id`, returning its value.
    pub(crate) fn remove(&mut self, id: u32) -> Option<T> {
        let (seq, value) = self.by_id.remove(&id)?;
        self.order.remove(&seq);
        Some(value)
    }

    /// The first id whose value matches.
    pub(crate) fn find(&self, mut matches: impl FnMut(&T) -> bool) -> Option<u32> {
        self.by_id
            .iter()
            .find(|(_, (_, value))| matches(value))
            .map(|(id, _)| *id)
    }

    /// How many are remembered.
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_is_forgotten_first_and_reinsert_refreshes() {
        let mut p = Pending::new(3);
        assert!(p.insert(1, "a").is_empty());
        p.insert(2, "b");
        p.insert(3, "c");
        p.insert(1, "a2"); // 1 is now the newest
        assert_eq!(p.insert(4, "d"), vec![(2, "b")]);
        assert_eq!(p.len(), 3);
        assert_eq!(p.remove(2), None);
        assert_eq!(p.remove(1), Some("a2"));
        assert_eq!(p.find(|v| *v == "d"), Some(4));
        for id in 10..1000 {
            p.insert(id, "x");
        }
        assert_eq!(p.len(), 3);
        assert_eq!(p.order.len(), 3);
    }
}
