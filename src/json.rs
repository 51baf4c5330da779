//! JSON values as payloads: their compact size and nesting depth (for the
//! payload limits), measured without recursion and with an early exit, and
//! taking apart values too deep for serde_json's recursive drop.

use serde_json::Value;

/// Drops `value` without recursion (serde_json's drop recurses per level).
pub(crate) fn dismantle(value: Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// The deepest nesting of arrays and objects JSON text may have: the payload
/// depth limit's default ([`Limits::max_depth`](crate::Limits::max_depth)),
/// which is Jackson's default too.
pub(crate) const MAX_TEXT_DEPTH: usize = 1000;

mod text;
pub(crate) use text::from_text;

/// An upper bound on the size of a payload: `bytes` of compact JSON text (as
/// `serde_json::to_string` writes it) and `depth`, the most arrays/objects
/// nested along one path (a scalar is 0, `[]` is 1, `[{}]` is 2).
/// `usize::MAX` stands for "not known": arithmetic keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Measure {
    pub bytes: usize,
    pub depth: usize,
}

impl Measure {
    /// Nothing known.
    pub(crate) const UNKNOWN: Measure = Measure {
        bytes: usize::MAX,
        depth: usize::MAX,
    };

    /// `{}`.
    pub(crate) const EMPTY_OBJECT: Measure = Measure { bytes: 2, depth: 1 };

    /// `null`.
    pub(crate) const NULL: Measure = Measure { bytes: 4, depth: 0 };
}

/// A payload moving from state to state: the value and an upper bound of
/// its [`Measure`] (never below the real size and depth; exact where the
/// engine knows it, [`Measure::UNKNOWN`] where it does not).
#[derive(Debug)]
pub(crate) struct Payload {
    pub value: Value,
    pub bound: Measure,
}

impl Payload {
    /// `value` bounded by `bound`.
    #[inline]
    pub(crate) fn new(value: Value, bound: Measure) -> Self {
        Payload { value, bound }
    }

    /// `value` with nothing known of its size (the bounds are off).
    pub(crate) fn unbounded(value: Value) -> Self {
        Payload {
            value,
            bound: Measure::UNKNOWN,
        }
    }

    /// `null`, exactly bounded.
    #[inline]
    pub(crate) fn null() -> Self {
        Payload {
            value: Value::Null,
            bound: Measure::NULL,
        }
    }
}

/// The payload limits a bound is kept for. With both off nothing is ever
/// measured and every bound is [`Measure::UNKNOWN`]: the same code runs
/// without bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub max_bytes: Option<usize>,
    pub max_depth: Option<usize>,
}

impl Bounds {
    /// No bounds kept.
    pub(crate) const OFF: Bounds = Bounds {
        max_bytes: None,
        max_depth: None,
    };

    /// The measure of a value just built by copying: exact within the
    /// limits, nothing traversed when both are off (see [`bound`]).
    #[inline]
    pub(crate) fn measure(&self, value: &Value) -> Measure {
        bound(value, self.max_bytes, self.max_depth)
    }

    /// True when the byte limit is on (lower bounds of what leaves a
    /// payload are worth measuring).
    #[inline]
    pub(crate) fn counts_bytes(&self) -> bool {
        self.max_bytes.is_some()
    }

    /// `value` with its [`measure`](Self::measure).
    #[inline]
    pub(crate) fn measured(&self, value: Value) -> Payload {
        let bound = self.measure(&value);
        Payload { value, bound }
    }

    /// `value` bounded by `bytes` of compact JSON text when they were
    /// counted while it was built (exact: only its depth is measured), else
    /// [`measured`](Self::measured).
    #[inline]
    pub(crate) fn counted(&self, (value, bytes): (Value, Option<usize>)) -> Payload {
        match bytes.filter(|_| self.counts_bytes()) {
            Some(bytes) => {
                debug_assert_eq!(bytes, json_len(&value), "bytes counted while built");
                let depth = match self.max_depth {
                    // every level of nesting takes two bytes (`[]`, `{}`): a
                    // short value is bounded without a walk (and the bound
                    // stays tight enough not to add up to the limit)
                    Some(max) if bytes <= SHORT_BYTES && bytes / 2 <= max => bytes / 2,
                    Some(max) => match walk::<false>(&value, usize::MAX, max) {
                        (_, _, Stop::Depth) => usize::MAX,
                        (_, depth, _) => depth,
                    },
                    None => usize::MAX,
                };
                Payload {
                    value,
                    bound: Measure { bytes, depth },
                }
            }
            None => self.measured(value),
        }
    }
}

/// A value built within this many bytes is bounded in depth by its size
/// (half of it) instead of walked: see [`Bounds::counted`].
const SHORT_BYTES: usize = 128;

/// `a + b`, with "not known" kept.
pub(crate) fn add(a: usize, b: usize) -> usize {
    a.saturating_add(b)
}

/// `a - b` where `b` is a lower bound of a part of what `a` bounds, with
/// "not known" kept.
pub(crate) fn sub(a: usize, b: usize) -> usize {
    if a == usize::MAX {
        a
    } else {
        a.saturating_sub(b)
    }
}

/// What [`scan`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Exact where it was measured and within the limits; `usize::MAX`
    /// where a limit was passed or not asked for.
    pub measure: Measure,
    /// The depth limit was passed (checked first: when it is, `too_big` is
    /// not known).
    pub too_deep: bool,
    /// The byte limit was passed.
    pub too_big: bool,
}

/// Measures `value` against the limits in one iterative pass (no
/// recursion), stopping as soon as the answer is known: the depth is only
/// measured with `max_depth`, the bytes only with `max_bytes`; with neither,
/// nothing is traversed.
pub(crate) fn scan(value: &Value, max_bytes: Option<usize>, max_depth: Option<usize>) -> Scan {
    let depth_limit = max_depth.unwrap_or(usize::MAX);
    match max_bytes {
        None if max_depth.is_none() => Scan {
            measure: Measure::UNKNOWN,
            too_deep: false,
            too_big: false,
        },
        None => {
            let (_, depth, stop) = walk::<false>(value, usize::MAX, depth_limit);
            let too_deep = stop == Stop::Depth;
            Scan {
                measure: Measure {
                    bytes: usize::MAX,
                    depth: if too_deep { usize::MAX } else { depth },
                },
                too_deep,
                too_big: false,
            }
        }
        Some(limit) => match walk::<true>(value, limit, depth_limit) {
            (bytes, depth, Stop::Done) => Scan {
                measure: Measure {
                    bytes,
                    depth: if max_depth.is_some() {
                        depth
                    } else {
                        usize::MAX
                    },
                },
                too_deep: false,
                too_big: false,
            },
            (_, _, Stop::Depth) => Scan {
                measure: Measure::UNKNOWN,
                too_deep: true,
                too_big: false,
            },
            (_, _, Stop::Bytes) => {
                // too big; the depth decides which limit is reported
                let (_, depth, stop) = match max_depth {
                    Some(d) => walk::<false>(value, usize::MAX, d),
                    None => (0, usize::MAX, Stop::Done),
                };
                let too_deep = stop == Stop::Depth;
                Scan {
                    measure: Measure {
                        bytes: usize::MAX,
                        depth: if too_deep { usize::MAX } else { depth },
                    },
                    too_deep,
                    too_big: !too_deep,
                }
            }
        },
    }
}

/// Like [`scan`] without deciding which limit a value passes: the exact
/// measure when it is within both limits, else [`Measure::UNKNOWN`] in
/// what is not known.
pub(crate) fn bound(value: &Value, max_bytes: Option<usize>, max_depth: Option<usize>) -> Measure {
    let depth_limit = max_depth.unwrap_or(usize::MAX);
    let (bytes, depth, stop) = match max_bytes {
        None if max_depth.is_none() => return Measure::UNKNOWN,
        None => walk::<false>(value, usize::MAX, depth_limit),
        Some(limit) => walk::<true>(value, limit, depth_limit),
    };
    if stop != Stop::Done {
        return Measure::UNKNOWN;
    }
    Measure {
        bytes: if max_bytes.is_some() {
            bytes
        } else {
            usize::MAX
        },
        depth: if max_depth.is_some() {
            depth
        } else {
            usize::MAX
        },
    }
}

/// The exact measure of `value`, however large.
pub(crate) fn measure_exact(value: &Value) -> Measure {
    let (bytes, depth, _) = walk::<true>(value, usize::MAX, usize::MAX);
    Measure { bytes, depth }
}

/// The exact length of the compact JSON text of `value` (iterative).
pub(crate) fn json_len(value: &Value) -> usize {
    walk::<true>(value, usize::MAX, usize::MAX).0
}

/// The length of the compact JSON text of `value` when it is at most
/// `max`, else `None` (measuring stops as soon as it passes `max`).
#[inline]
pub(crate) fn len_within(value: &Value, max: usize) -> Option<usize> {
    // a scalar (a template's field, an intrinsic's result) without the walk
    if !matches!(value, Value::Array(_) | Value::Object(_)) {
        let bytes = scalar_len(value);
        return (bytes <= max).then_some(bytes);
    }
    let (bytes, _, stop) = walk::<true>(value, max, usize::MAX);
    (stop == Stop::Done).then_some(bytes)
}

/// The most bytes of compact JSON text a value being built for a state may
/// reach under a limit of `limit` bytes: four times the limit, and at least
/// 1 MiB. A value past it is refused while it is built (a field's value,
/// an intrinsic call's intermediate values, a Map's or Parallel's results);
/// one past the limit but not past this is judged where the limit applies
/// (a state output, a variable), as before: ResultPath or OutputPath may
/// still drop it.
pub(crate) fn build_cap(limit: usize) -> usize {
    limit.saturating_mul(4).max(1 << 20)
}

/// The measure of an object being built from a template whose own text
/// (braces, keys, separators and literal values) is known beforehand: only
/// the values put in besides are measured, as they are put in, so the
/// object is not walked once built. Within the limits the result is the
/// object's exact measure, as [`Bounds::measure`] gives it (and
/// [`Measure::UNKNOWN`] in what passes them).
pub(crate) struct Built {
    bounds: Bounds,
    bytes: usize,
    depth: usize,
    over: bool,
}

impl Built {
    /// An object whose own text is `skeleton` bytes long, under `bounds`.
    pub(crate) fn new(bounds: Bounds, skeleton: usize) -> Built {
        Built {
            bounds,
            bytes: skeleton,
            depth: 1,
            over: bounds.max_depth == Some(0) || bounds.max_bytes.is_some_and(|max| skeleton > max),
        }
    }

    /// Counts `value`, one of the object's values not in its skeleton.
    #[inline]
    pub(crate) fn add(&mut self, value: &Value) {
        if self.over {
            return;
        }
        if !matches!(value, Value::Array(_) | Value::Object(_)) {
            self.bytes = add(self.bytes, scalar_len(value));
        } else {
            let Bounds {
                max_bytes,
                max_depth,
            } = self.bounds;
            let left = max_bytes.map(|max| max - self.bytes);
            let m = bound(value, left, max_depth.map(|max| max - 1));
            if m == Measure::UNKNOWN {
                self.over = true;
                return;
            }
            self.bytes = add(self.bytes, m.bytes);
            self.depth = self.depth.max(add(1, m.depth));
        }
        self.over = self.bounds.max_bytes.is_some_and(|max| self.bytes > max);
    }

    /// The object's measure.
    pub(crate) fn measure(&self) -> Measure {
        let Bounds {
            max_bytes,
            max_depth,
        } = self.bounds;
        if self.over || (max_bytes.is_none() && max_depth.is_none()) {
            return Measure::UNKNOWN;
        }
        Measure {
            bytes: if max_bytes.is_some() {
                self.bytes
            } else {
                usize::MAX
            },
            depth: if max_depth.is_some() {
                self.depth
            } else {
                usize::MAX
            },
        }
    }
}

/// What a value being built may still take, in bytes of compact JSON text:
/// a payload template or an intrinsic call takes each part it adds, and
/// stops when the budget runs out (a part is measured before it is copied).
/// An unbounded budget measures nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Budget {
    left: usize,
}

impl Budget {
    /// A budget of `max` bytes (`None`: unbounded).
    pub(crate) fn new(max: Option<usize>) -> Budget {
        Budget {
            left: max.unwrap_or(usize::MAX),
        }
    }

    /// True unless unbounded.
    #[inline]
    pub(crate) fn is_bounded(&self) -> bool {
        self.left != usize::MAX
    }

    /// The bytes left (`usize::MAX`: unbounded).
    #[inline]
    pub(crate) fn left(&self) -> usize {
        self.left
    }

    /// Takes `bytes`; false (nothing taken) when fewer are left.
    #[inline]
    pub(crate) fn take(&mut self, bytes: usize) -> bool {
        if !self.is_bounded() {
            return true;
        }
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                true
            }
            None => false,
        }
    }

    /// Measures `value`, stopping once it passes what is left, and takes
    /// its size; false (nothing taken) when it does not fit.
    #[inline]
    pub(crate) fn take_value(&mut self, value: &Value) -> bool {
        if !self.is_bounded() {
            return true;
        }
        match len_within(value, self.left) {
            Some(bytes) => self.take(bytes),
            None => false,
        }
    }
}

/// True when `value` nests arrays/objects more than `max` levels deep
/// (iterative, so safe on any value).
pub(crate) fn too_deep(value: &Value, max: usize) -> bool {
    walk::<false>(value, usize::MAX, max).2 == Stop::Depth
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Done,
    Bytes,
    Depth,
}

enum Frame<'a> {
    Array(std::slice::Iter<'a, Value>),
    Object(serde_json::map::Iter<'a>),
}

/// Open containers kept inline: payloads seldom nest deeper, and then
/// measuring allocates nothing.
const INLINE_FRAMES: usize = 8;

/// The open containers around the one [`walk`] is in: the first
/// [`INLINE_FRAMES`] inline, deeper ones in one growing vector.
struct Parents<'a> {
    inline: [Option<Frame<'a>>; INLINE_FRAMES],
    len: usize,
    spilled: Vec<Frame<'a>>,
}

impl<'a> Parents<'a> {
    fn new() -> Self {
        Parents {
            inline: Default::default(),
            len: 0,
            spilled: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, frame: Frame<'a>) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = Some(frame),
            None => self.spilled.push(frame),
        }
        self.len += 1;
    }

    fn pop(&mut self) -> Option<Frame<'a>> {
        self.len = self.len.checked_sub(1)?;
        match self.inline.get_mut(self.len) {
            Some(slot) => slot.take(),
            None => self.spilled.pop(),
        }
    }
}

/// The traversal behind [`scan`]: (bytes, depth, why it stopped). With
/// `BYTES` false only the depth is measured. Stops once `bytes > max_bytes`
/// or `depth > max_depth`; the counts are then partial (lower bounds).
///
/// The innermost open container is walked in a tight loop over its
/// scalars; only a nested container goes onto the stack.
fn walk<const BYTES: bool>(
    value: &Value,
    max_bytes: usize,
    max_depth: usize,
) -> (usize, usize, Stop) {
    let mut bytes = 0usize;
    // the root
    let mut current = match open::<BYTES>(value, &mut bytes) {
        None | Some(None) if BYTES && bytes > max_bytes => {
            return (
                bytes,
                usize::from(value.is_array() || value.is_object()),
                Stop::Bytes,
            )
        }
        None => return (bytes, 0, Stop::Done),
        Some(_) if max_depth == 0 => return (bytes, 1, Stop::Depth),
        Some(None) => return (bytes, 1, Stop::Done),
        Some(Some(frame)) => frame,
    };
    // the open containers around `current`
    let mut parents = Parents::new();
    let mut deepest = 1usize;
    loop {
        let child = match &mut current {
            Frame::Array(items) => loop {
                let Some(v) = items.next() else { break None };
                if let Some(frame) = open::<BYTES>(v, &mut bytes) {
                    break Some(frame);
                }
                if BYTES && bytes > max_bytes {
                    return (bytes, deepest, Stop::Bytes);
                }
            },
            Frame::Object(entries) => loop {
                let Some((k, v)) = entries.next() else {
                    break None;
                };
                if BYTES {
                    bytes += str_len(k);
                }
                if let Some(frame) = open::<BYTES>(v, &mut bytes) {
                    break Some(frame);
                }
                if BYTES && bytes > max_bytes {
                    return (bytes, deepest, Stop::Bytes);
                }
            },
        };
        match child {
            None => match parents.pop() {
                Some(parent) => current = parent,
                None => return (bytes, deepest, Stop::Done),
            },
            Some(opened) => {
                // `current` is at depth parents.len() + 1
                let depth = parents.len() + 2;
                if depth > deepest {
                    deepest = depth;
                    if depth > max_depth {
                        return (bytes, deepest, Stop::Depth);
                    }
                }
                if BYTES && bytes > max_bytes {
                    return (bytes, deepest, Stop::Bytes);
                }
                if let Some(frame) = opened {
                    parents.push(std::mem::replace(&mut current, frame));
                }
            }
        }
    }
}

/// Counts `value` itself: a scalar whole (`None`), a container's brackets
/// and separators (`Some`, with a frame for its children unless empty).
#[inline(always)]
fn open<'a, const BYTES: bool>(value: &'a Value, bytes: &mut usize) -> Option<Option<Frame<'a>>> {
    match value {
        Value::Array(items) => {
            if BYTES {
                *bytes += 1 + items.len().max(1);
            }
            Some((!items.is_empty()).then(|| Frame::Array(items.iter())))
        }
        Value::Object(map) => {
            if BYTES {
                // braces, commas and a colon per entry
                *bytes += 1 + map.len().max(1) + map.len();
            }
            Some((!map.is_empty()).then(|| Frame::Object(map.iter())))
        }
        scalar => {
            if BYTES {
                *bytes += scalar_len(scalar);
            }
            None
        }
    }
}

pub(crate) fn scalar_len(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_len(n),
        Value::String(s) => str_len(s),
        Value::Array(_) | Value::Object(_) => 0,
    }
}

/// The length of `s` as a JSON string literal (quotes and escapes included,
/// as serde_json escapes: `\"`, `\\`, `\b \f \n \r \t`, other control
/// characters as `\u00XX`).
pub(crate) fn str_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    if has_special(bytes) {
        bytes.len() + 2 + escapes(bytes)
    } else {
        bytes.len() + 2
    }
}

/// True when some byte needs an escape: eight bytes at a time (the last
/// word overlapping the one before), byte by byte below eight.
fn has_special(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // some byte of `x` is zero / below 0x20: exact for the whole word
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let special = |x: u64| {
        (x.wrapping_sub(ONES * 0x20) & !x & HIGH)
            | zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
    };
    let word = |chunk: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        u64::from_le_bytes(w)
    };
    if bytes.len() < 8 {
        return bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
    }
    let mut chunks = bytes.chunks_exact(8);
    if chunks.any(|chunk| special(word(chunk)) != 0) {
        return true;
    }
    special(word(&bytes[bytes.len() - 8..])) != 0
}

/// The bytes the escapes of `bytes` add: eight bytes at a time (quotes and
/// backslashes counted per word), byte by byte below eight bytes or when
/// there are control characters.
fn escapes(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let by_table = |bytes: &[u8]| {
        bytes
            .iter()
            .map(|&b| usize::from(ESCAPE_LEN[usize::from(b)]))
            .sum::<usize>()
    };
    if bytes.len() < 8 {
        return by_table(bytes);
    }
    // the high bit of every zero byte of `y` (exact: no carry crosses bytes)
    let zeros = |y: u64| !((y & LOW7).wrapping_add(LOW7) | y) & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut quoted = 0usize;
    let mut control = 0u64;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let marks = zeros(x ^ (ONES * u64::from(b'"'))) | zeros(x ^ (ONES * u64::from(b'\\')));
        quoted += marks.count_ones() as usize;
        // bytes below 0x20 have their three high bits clear
        control |= zeros(x & (ONES * 0xe0));
    }
    if control != 0 {
        return by_table(bytes);
    }
    quoted + by_table(chunks.remainder())
}

/// The bytes the escape of each byte adds: one for `"`, `\\` and the
/// control characters with a short escape, five for the other control
/// characters (`\u00XX`).
const ESCAPE_LEN: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = 5;
        b += 1;
    }
    table[b'"' as usize] = 1;
    table[b'\\' as usize] = 1;
    table[b'\n' as usize] = 1;
    table[b'\r' as usize] = 1;
    table[b'\t' as usize] = 1;
    table[0x08] = 1;
    table[0x0c] = 1;
    table
};

fn number_len(n: &serde_json::Number) -> usize {
    if let Some(u) = n.as_u64() {
        digits(u)
    } else if let Some(i) = n.as_i64() {
        digits(i.unsigned_abs()) + 1
    } else {
        // floats: as serde_json writes them, counted without a String
        struct Count(usize);
        impl std::fmt::Write for Count {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0 += s.len();
                Ok(())
            }
        }
        let mut count = Count(0);
        let _ = std::fmt::Write::write_fmt(&mut count, format_args!("{n}"));
        count.0
    }
}

fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// The JSON type name of `v` (`"null"`, `"boolean"`, `"number"`,
/// `"string"`, `"array"`, `"object"`), as AWS shows it in JSONata "unexpected
/// result type" causes and stepfn in definition errors.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests;
