//! Character sets as sorted code-point ranges, the class escapes of
//! ECMAScript (ASCII `\d` `\w`, Unicode `\s`), and the case folding of the `i`
//! flag in non-Unicode mode (ECMA-262 §22.2.2.7.3 Canonicalize: simple
//! uppercase, never mapping a non-ASCII character to an ASCII one).

use std::sync::OnceLock;

/// A set of code points: sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Set(Vec<(u32, u32)>);

const MAX: u32 = 0x10FFFF;

impl Set {
    pub fn empty() -> Set {
        Set(Vec::new())
    }

    pub fn from_ranges(r: &[(u32, u32)]) -> Set {
        let mut s = Set::empty();
        for &(a, b) in r {
            s.add_range(a, b);
        }
        s
    }

    pub fn add_range(&mut self, lo: u32, hi: u32) {
        let mut lo = lo;
        let mut hi = hi;
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut placed = false;
        for &(a, b) in &self.0 {
            if b.saturating_add(1) < lo {
                out.push((a, b));
            } else if hi.saturating_add(1) < a {
                if !placed {
                    out.push((lo, hi));
                    placed = true;
                }
                out.push((a, b));
            } else {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        if !placed {
            out.push((lo, hi));
        }
        self.0 = out;
    }

    pub fn union(&mut self, other: &Set) {
        for &(a, b) in &other.0 {
            self.add_range(a, b);
        }
    }

    pub fn complement(&self) -> Set {
        let mut out = Vec::new();
        let mut next = 0u32;
        for &(a, b) in &self.0 {
            if a > next {
                out.push((next, a - 1));
            }
            next = b + 1;
        }
        if next <= MAX {
            out.push((next, MAX));
        }
        Set(out)
    }

    pub fn contains(&self, c: u32) -> bool {
        self.0
            .binary_search_by(|&(a, b)| {
                if b < c {
                    std::cmp::Ordering::Less
                } else if a > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    /// Whether some member folds to the same character as `c` (the `i` flag).
    pub fn contains_folded(&self, c: char) -> bool {
        let k = canonicalize(c);
        if self.contains(k as u32) && canonicalize(k) == k {
            return true;
        }
        if self.contains(c as u32) {
            return true;
        }
        folds_to(k).iter().any(|m| self.contains(*m as u32))
    }
}

pub(crate) fn digit() -> Set {
    Set::from_ranges(&[(0x30, 0x39)])
}

pub(crate) fn word() -> Set {
    Set::from_ranges(&[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)])
}

/// WhiteSpace and LineTerminator: TAB VT FF SP NBSP ZWNBSP, the Zs category,
/// LF CR LS PS.
pub(crate) fn space() -> Set {
    Set::from_ranges(&[
        (0x09, 0x0D),
        (0x20, 0x20),
        (0xA0, 0xA0),
        (0x1680, 0x1680),
        (0x2000, 0x200A),
        (0x2028, 0x2029),
        (0x202F, 0x202F),
        (0x205F, 0x205F),
        (0x3000, 0x3000),
        (0xFEFF, 0xFEFF),
    ])
}

pub(crate) fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

pub(crate) fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Canonicalize(ch) without the `u` flag. JavaScript sees UTF-16 code units,
/// so a character outside the BMP (two units, each its own upper case) stays.
pub(crate) fn canonicalize(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if (c as u32) > 0xFFFF {
        return c;
    }
    let mut up = c.to_uppercase();
    let (Some(u), None) = (up.next(), up.next()) else {
        return c;
    };
    if (u as u32) > 0xFFFF || u.is_ascii() {
        return c;
    }
    u
}

/// Every BMP character other than `k` whose canonical form is `k` (built
/// once, about 1,400 pairs).
fn folds_to(k: char) -> &'static [char] {
    static TABLE: OnceLock<(Vec<char>, Vec<char>)> = OnceLock::new();
    let (keys, members) = TABLE.get_or_init(|| {
        let mut v: Vec<(char, char)> = (0u32..=0xFFFF)
            .filter_map(char::from_u32)
            .filter_map(|c| {
                let k = canonicalize(c);
                (k != c).then_some((k, c))
            })
            .collect();
        v.sort_unstable();
        v.into_iter().unzip()
    });
    let start = keys.partition_point(|&a| a < k);
    let end = keys.partition_point(|&a| a <= k);
    members.get(start..end).unwrap_or(&[])
}
