//! A least-recently-used cache bounded by bytes rather than entries: a downloaded photo is tens of
//! kilobytes, an encoded kitty preview megabytes, so counting entries would say nothing about
//! memory. [`ByteLru::len_bytes`] never exceeds [`ByteLru::budget`].

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// Default budget for the pipeline's cache.
pub const DEFAULT_BUDGET: usize = 64 * 1024 * 1024;

#[derive(Debug)]
struct Entry<V> {
    value: V,
    bytes: usize,
    stamp: u64,
}

#[derive(Debug)]
pub struct ByteLru<K, V> {
    map: HashMap<K, Entry<V>>,
    /// Use order: oldest stamp first.
    order: BTreeMap<u64, K>,
    clock: u64,
    used: usize,
    budget: usize,
}

impl<K: Clone + Eq + Hash, V> ByteLru<K, V> {
    pub fn new(budget: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: BTreeMap::new(),
            clock: 0,
            used: 0,
            budget,
        }
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Bytes held now (the sum of the sizes given to [`ByteLru::insert`]).
    pub fn len_bytes(&self) -> usize {
        self.used
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Looks `key` up and marks it most recently used.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        let stamp = self.tick();
        let entry = self.map.get_mut(key)?;
        self.order.remove(&entry.stamp);
        entry.stamp = stamp;
        self.order.insert(stamp, key.clone());
        Some(&entry.value)
    }

    /// Looks without touching the use order.
    pub fn peek(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|e| &e.value)
    }

    pub fn contains(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    /// Inserts (or replaces) `key`, evicting the least recently used entries until it fits.
    /// Returns `false`, storing nothing, when `bytes` alone exceeds the budget.
    pub fn insert(&mut self, key: K, value: V, bytes: usize) -> bool {
        self.remove(&key);
        if bytes > self.budget {
            return false;
        }
        while self.used + bytes > self.budget {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(e) = self.map.remove(&oldest) {
                self.used -= e.bytes;
            }
        }
        let stamp = self.tick();
        self.order.insert(stamp, key.clone());
        self.map.insert(
            key,
            Entry {
                value,
                bytes,
                stamp,
            },
        );
        self.used += bytes;
        true
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let e = self.map.remove(key)?;
        self.order.remove(&e.stamp);
        self.used -= e.bytes;
        Some(e.value)
    }

    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
        self.used = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used() {
        let mut c = ByteLru::new(100);
        assert!(c.insert("a", 1, 40));
        assert!(c.insert("b", 2, 40));
        assert_eq!(c.get(&"a"), Some(&1));
        assert!(c.insert("c", 3, 40));
        assert!(c.contains(&"a"));
        assert!(!c.contains(&"b"));
        assert_eq!(c.len_bytes(), 80);
        assert!(!c.insert("huge", 4, 101));
        assert_eq!(c.len_bytes(), 80);
        assert!(c.insert("a", 5, 10));
        assert_eq!(c.len_bytes(), 50);
    }
}
