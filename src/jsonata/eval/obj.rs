//! The objects evaluation builds: members in insertion order, keys borrowed
//! where they can be (from the input's objects, from the expression's
//! literals), looked up by a scan while an object is small and through a
//! hash index once it grows.

use super::value::Val;
use indexmap::IndexMap;
use std::borrow::Cow;

/// A member name: borrowed from the input or the expression, or owned.
pub(crate) type Key<'a> = Cow<'a, str>;

/// Past this many members an object keeps a hash index.
const SCAN_MAX: usize = 12;

enum Repr<'a> {
    Small(Vec<(Key<'a>, Val<'a>)>),
    Large(IndexMap<Key<'a>, Val<'a>>),
}

/// An object built by evaluation.
pub(crate) struct Obj<'a>(Repr<'a>);

impl Default for Obj<'_> {
    fn default() -> Self {
        Obj::new()
    }
}

impl<'a> Obj<'a> {
    pub fn new() -> Obj<'a> {
        Obj(Repr::Small(Vec::new()))
    }

    pub fn with_capacity(n: usize) -> Obj<'a> {
        if n > SCAN_MAX {
            Obj(Repr::Large(IndexMap::with_capacity(n)))
        } else {
            Obj(Repr::Small(Vec::with_capacity(n)))
        }
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Small(v) => v.len(),
            Repr::Large(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets `key` (in place when it is already a member, else last).
    pub fn insert(&mut self, key: impl Into<Key<'a>>, value: Val<'a>) {
        let key = key.into();
        match &mut self.0 {
            Repr::Small(v) => {
                if let Some(slot) = v.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = value;
                    return;
                }
                if v.len() < SCAN_MAX {
                    v.push((key, value));
                    return;
                }
                let mut m: IndexMap<Key<'a>, Val<'a>> = IndexMap::with_capacity(2 * SCAN_MAX);
                m.extend(v.drain(..));
                m.insert(key, value);
                self.0 = Repr::Large(m);
            }
            Repr::Large(m) => {
                m.insert(key, value);
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Val<'a>> {
        match &self.0 {
            Repr::Small(v) => v.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Repr::Large(m) => m.get(key),
        }
    }

    /// Removes `key`, keeping the order of the others.
    pub fn shift_remove(&mut self, key: &str) {
        match &mut self.0 {
            Repr::Small(v) => v.retain(|(k, _)| k != key),
            Repr::Large(m) => {
                m.shift_remove(key);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key<'a>, &Val<'a>)> {
        let (small, large) = match &self.0 {
            Repr::Small(v) => (Some(v.iter().map(|(k, v)| (k, v))), None),
            Repr::Large(m) => (None, Some(m.iter())),
        };
        small
            .into_iter()
            .flatten()
            .chain(large.into_iter().flatten())
    }

    pub fn keys(&self) -> impl Iterator<Item = &Key<'a>> {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Val<'a>> {
        self.iter().map(|(_, v)| v)
    }
}

impl<'a, K: Into<Key<'a>>> Extend<(K, Val<'a>)> for Obj<'a> {
    fn extend<I: IntoIterator<Item = (K, Val<'a>)>>(&mut self, items: I) {
        for (k, v) in items {
            self.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_their_order_small_and_large() {
        for n in [3, 40] {
            let mut o = Obj::new();
            for i in 0..n {
                o.insert(format!("k{i}"), Val::Num(i as f64));
            }
            o.insert("k1", Val::Null);
            o.shift_remove("k0");
            assert_eq!(o.len(), n - 1);
            let keys: Vec<String> = o.keys().map(|k| k.to_string()).collect();
            let want: Vec<String> = (1..n).map(|i| format!("k{i}")).collect();
            assert_eq!(keys, want);
            assert!(matches!(o.get("k1"), Some(Val::Null)));
            assert!(matches!(o.get(&format!("k{}", n - 1)), Some(Val::Num(_))));
            assert!(o.get("k0").is_none());
        }
    }
}
