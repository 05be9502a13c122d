//! A map kept in memory under a byte budget, shared by the store's caches of opened configs.
//! Past the budget it starts over: no bookkeeping per read, and whatever was dropped is read
//! (and opened) again from the database on its next use.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

pub(super) struct BudgetMap<K, V>(Arc<Mutex<Entries<K, V>>>);

struct Entries<K, V> {
    map: HashMap<K, (V, usize)>,
    bytes: usize,
    budget: usize,
}

/// Counts only: the values may hold opened secrets (redacted by their own types, but a cache's
/// URLs and names have no business in a log line either).
impl<K, V> std::fmt::Debug for BudgetMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.0.lock().expect("never poisoned: no panics while held");
        f.debug_struct("BudgetMap")
            .field("entries", &entries.map.len())
            .field("bytes", &entries.bytes)
            .finish()
    }
}

impl<K, V> Clone for BudgetMap<K, V> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<K: Eq + Hash, V: Clone> BudgetMap<K, V> {
    pub(super) fn new(budget: usize) -> Self {
        Self(Arc::new(Mutex::new(Entries { map: HashMap::new(), bytes: 0, budget })))
    }

    pub(super) fn get<Q: Eq + Hash + ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.0
            .lock()
            .expect("never poisoned: no panics while held")
            .map
            .get(key)
            .map(|(value, _)| value.clone())
    }

    /// Keeps `value` (about `size` bytes) under `key`, in place of what was there.
    pub(super) fn insert(&self, key: K, value: V, size: usize) {
        let mut entries = self.0.lock().expect("never poisoned: no panics while held");
        if let Some((_, old)) = entries.map.remove(&key) {
            entries.bytes -= old;
        }
        if entries.bytes + size > entries.budget {
            entries.map.clear();
            entries.bytes = 0;
        }
        entries.map.insert(key, (value, size));
        entries.bytes += size;
    }

    pub(super) fn remove<Q: Eq + Hash + ?Sized>(&self, key: &Q)
    where
        K: Borrow<Q>,
    {
        let mut entries = self.0.lock().expect("never poisoned: no panics while held");
        if let Some((_, size)) = entries.map.remove(key) {
            entries.bytes -= size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BudgetMap;

    #[test]
    fn replacing_an_entry_counts_its_size_once_and_the_budget_starts_over() {
        let map = BudgetMap::new(100);
        map.insert("a", 1, 40);
        map.insert("a", 2, 40);
        map.insert("b", 3, 40);
        assert_eq!((map.get(&"a"), map.get(&"b")), (Some(2), Some(3)), "80 of 100: both kept");
        map.insert("c", 4, 40);
        assert_eq!(
            (map.get(&"a"), map.get(&"b"), map.get(&"c")),
            (None, None, Some(4)),
            "over: started over"
        );
        map.remove(&"c");
        map.insert("d", 5, 100);
        assert_eq!(map.get(&"d"), Some(5), "a removed entry's size no longer counts");
        assert_eq!(
            format!("{map:?}"),
            "BudgetMap { entries: 1, bytes: 100 }",
            "counts, never values"
        );
    }
}
