//! The kept pages within a memory budget: least recently used out first, and no owner holds
//! more than a share of the budget (one account cannot push everyone else's pages out).

use super::Page;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// (owner id, path).
pub type Key = (String, String);

/// The share of the budget one page, or one owner's pages, may take.
const PAGE_SHARE: usize = 8;
const OWNER_SHARE: usize = 16;

pub struct Shelf {
    budget: usize,
    pages: HashMap<Key, (Arc<Page>, u64)>,
    /// Keys by last use (a serial number), oldest first.
    by_use: BTreeMap<u64, Key>,
    /// Bytes held, in all and per owner.
    bytes: usize,
    per_owner: HashMap<String, usize>,
    serial: u64,
}

impl Shelf {
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            pages: HashMap::new(),
            by_use: BTreeMap::new(),
            bytes: 0,
            per_owner: HashMap::new(),
            serial: 0,
        }
    }

    /// The page kept for `key`, now the most recently used.
    pub fn get(&mut self, key: &Key) -> Option<Arc<Page>> {
        let serial = self.next_serial();
        let (page, used) = self.pages.get_mut(key)?;
        self.by_use.remove(used);
        *used = serial;
        self.by_use.insert(serial, key.clone());
        Some(page.clone())
    }

    /// Keeps `page` for `key` (in place of what was kept), then makes room.
    pub fn put(&mut self, key: Key, page: Page) {
        self.remove(&key);
        let size = page.size + key.0.len() + key.1.len();
        if size > self.budget / PAGE_SHARE {
            return;
        }
        let serial = self.next_serial();
        self.bytes += size;
        *self.per_owner.entry(key.0.clone()).or_default() += size;
        self.by_use.insert(serial, key.clone());
        let owner = key.0.clone();
        self.pages.insert(key, (Arc::new(Page { size, ..page }), serial));
        while self.per_owner.get(&owner).is_some_and(|&b| b > self.budget / OWNER_SHARE) {
            let oldest =
                self.by_use.values().find(|k| k.0 == owner).cloned().expect("the owner has pages");
            self.remove(&oldest);
        }
        while self.bytes > self.budget {
            let oldest = self.by_use.values().next().cloned().expect("bytes are held by pages");
            self.remove(&oldest);
        }
    }

    /// Forgets what is kept for `key` (a page that can no longer be kept as it was).
    pub fn remove(&mut self, key: &Key) {
        if let Some((page, used)) = self.pages.remove(key) {
            self.by_use.remove(&used);
            self.bytes -= page.size;
            if let Some(owner) = self.per_owner.get_mut(&key.0) {
                *owner -= page.size;
                if *owner == 0 {
                    self.per_owner.remove(&key.0);
                }
            }
        }
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    #[cfg(test)]
    fn held(&self) -> (usize, usize, usize) {
        (self.pages.len(), self.by_use.len(), self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(size: usize) -> Page {
        Page {
            headers: Default::default(),
            policy: Vec::new(),
            body: Vec::new(),
            reads: Vec::new(),
            size,
        }
    }

    fn key(owner: &str, path: &str) -> Key {
        (owner.to_owned(), path.to_owned())
    }

    #[test]
    fn keeping_the_same_page_again_holds_nothing_more() {
        let mut shelf = Shelf::new(1 << 20);
        for _ in 0..1000 {
            shelf.put(key("o", "/a"), page(100));
        }
        assert_eq!(shelf.held(), (1, 1, 100 + "o".len() + "/a".len()));
        shelf.remove(&key("o", "/a"));
        assert_eq!(shelf.held(), (0, 0, 0));
    }

    #[test]
    fn the_least_recently_used_page_goes_first() {
        let mut shelf = Shelf::new(16 * 4000);
        let owner = |n: usize| format!("owner{n:02}");
        for n in 0..16 {
            shelf.put(key(&owner(n), "/p"), page(3900));
        }
        assert!(shelf.get(&key(&owner(0), "/p")).is_some()); // now the most recently used
        shelf.put(key(&owner(16), "/p"), page(3900)); // over the budget: one page must go
        assert!(shelf.get(&key(&owner(0), "/p")).is_some());
        assert!(shelf.get(&key(&owner(1), "/p")).is_none(), "the least recently used");
        assert!(shelf.get(&key(&owner(16), "/p")).is_some());
        let (pages, order, bytes) = shelf.held();
        assert_eq!((pages, order), (16, 16));
        assert!(bytes <= 16 * 4000, "{bytes}");
    }

    #[test]
    fn one_owner_cannot_push_out_the_others() {
        let budget = 16 * 10_000;
        let mut shelf = Shelf::new(budget);
        shelf.put(key("other", "/p"), page(5000));
        for n in 0..1000 {
            shelf.put(key("greedy", &format!("/p{n}")), page(2000));
        }
        assert!(shelf.get(&key("other", "/p")).is_some());
        assert!(shelf.per_owner["greedy"] <= budget / OWNER_SHARE);
        // A page over an eighth of the budget is not kept, and what was kept for it goes.
        shelf.put(key("other", "/p"), page(budget));
        assert!(shelf.get(&key("other", "/p")).is_none());
    }
}
