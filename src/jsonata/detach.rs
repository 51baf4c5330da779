//! An evaluation's result as owned JSON, for a caller that owns some of the
//! values the expression read (a state's input or its task result, which
//! the state gives up once its output is built): the parts of the result
//! that are those values, or their direct members, are left as holes and
//! moved in afterwards ([`Detached::fill`]) instead of being copied. Any
//! other borrowed part is copied, each measured first against the byte
//! budget of the evaluation ([`Limits::max_bytes`](super::Limits::max_bytes)).

use super::error::Raw;
use super::eval::value::{num_json, Val};
use crate::json::{add, Measure};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// One part of the result to move (or copy) from a source.
#[derive(Debug)]
struct Hole {
    /// Where the hole is in the result: the position of each step down
    /// (an array's index, the how-manieth member of an object).
    at: At,
    /// Which source.
    source: usize,
    /// The position of the member among the source's top-level members
    /// (`None`: the source itself).
    member: Option<usize>,
}

/// A result with holes where values of the caller's sources go.
#[derive(Debug)]
pub(crate) struct Detached {
    value: Value,
    holes: Vec<Hole>,
    /// An upper bound of the filled result's size and depth, when the
    /// conversion kept one (see [`Conv::keep_bound`]).
    bound: Option<Measure>,
}

/// What a budget-checked conversion found past the budget.
pub(crate) fn over_budget(max: usize) -> Raw {
    Raw::new("U1004").msg(format!("Evaluation built a value of more than {max} bytes"))
}

/// Objects with more members than this get an index of their members'
/// addresses (once per conversion) instead of a scan per lookup.
const SCAN_MEMBERS: usize = 32;

/// The state of one conversion.
pub(crate) struct Conv<'s> {
    sources: &'s [&'s Value],
    indexes: Vec<Option<HashMap<usize, usize>>>,
    holes: Vec<Hole>,
    /// The position of the node being converted.
    path: PathStack,
    /// The bounds of the sources, when the result's is kept.
    source_bounds: Option<&'s [Measure]>,
    /// The result's bound so far.
    bound: Measure,
    /// The parts of the sources the holes so far take.
    taken: Vec<(usize, Option<usize>)>,
    /// Bytes the copies may still take (`usize::MAX`: unbounded).
    left: usize,
    max: usize,
}

impl<'s> Conv<'s> {
    /// A conversion moving from `sources`, copies held to `max_bytes`.
    pub(crate) fn new(sources: &'s [&'s Value], max_bytes: usize) -> Conv<'s> {
        Conv {
            sources,
            indexes: Vec::new(),
            holes: Vec::new(),
            path: PathStack::default(),
            source_bounds: None,
            bound: Measure { bytes: 0, depth: 0 },
            taken: Vec::new(),
            left: max_bytes,
            max: max_bytes,
        }
    }

    /// Keeps an upper bound of the result's size and depth, the sources
    /// bounded by `bounds` (in their order): the caller need not measure
    /// the result.
    pub(crate) fn keep_bound(&mut self, bounds: &'s [Measure]) {
        self.source_bounds = Some(bounds);
    }

    /// Adds `bytes` at the current depth plus `depth` to the bound.
    fn grow(&mut self, bytes: usize, depth: usize) {
        if self.source_bounds.is_some() {
            self.bound.bytes = add(self.bound.bytes, bytes);
            self.bound.depth = self.bound.depth.max(add(self.path.len(), depth));
        }
    }

    fn take(&mut self, bytes: usize) -> Result<(), Raw> {
        if self.left == usize::MAX {
            return Ok(());
        }
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(over_budget(self.max)),
        }
    }

    /// The source and member `r` is, when it is one of the sources or a
    /// direct member of one.
    fn locate(&mut self, r: &Value) -> Option<(usize, Option<usize>)> {
        for (i, s) in self.sources.iter().enumerate() {
            if std::ptr::eq(*s, r) {
                return Some((i, None));
            }
        }
        let addr = r as *const Value as usize;
        for i in 0..self.sources.len() {
            match self.sources[i] {
                Value::Array(items) => {
                    let range = items.as_ptr_range();
                    let start = range.start as usize;
                    if addr >= start && addr < range.end as usize {
                        let index = (addr - start) / std::mem::size_of::<Value>();
                        if items.get(index).is_some_and(|v| std::ptr::eq(v, r)) {
                            return Some((i, Some(index)));
                        }
                    }
                }
                Value::Object(m) if m.len() <= SCAN_MEMBERS => {
                    if let Some(at) = m.values().position(|v| std::ptr::eq(v, r)) {
                        return Some((i, Some(at)));
                    }
                }
                Value::Object(m) => {
                    if self.indexes.len() < self.sources.len() {
                        self.indexes.resize_with(self.sources.len(), || None);
                    }
                    let index = self.indexes[i].get_or_insert_with(|| {
                        m.values()
                            .enumerate()
                            .map(|(at, v)| (v as *const Value as usize, at))
                            .collect()
                    });
                    if let Some(at) = index.get(&addr) {
                        return Some((i, Some(*at)));
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// `r` as a hole at `at` when it can be moved, else a copy.
    fn borrowed(&mut self, r: &Value) -> Result<Value, Raw> {
        let movable = matches!(r, Value::String(_) | Value::Array(_) | Value::Object(_));
        if movable && !self.sources.is_empty() {
            if let Some((source, member)) = self.locate(r) {
                // parts of one source taken once each are disjoint and
                // moved; a part taken again, or beside the whole source,
                // is copied when the holes are filled: it is measured now
                let again = self.taken.len() > 16
                    || self.taken.iter().any(|(s, m)| {
                        *s == source && (m.is_none() || member.is_none() || *m == member)
                    });
                if again && self.left != usize::MAX {
                    match crate::json::len_within(r, self.left) {
                        Some(bytes) => self.take(bytes)?,
                        None => return Err(over_budget(self.max)),
                    }
                }
                if let Some(bounds) = self.source_bounds {
                    // together the moved parts are at most the source
                    let whole = bounds.get(source).copied().unwrap_or(Measure::UNKNOWN);
                    let first = !self.taken.iter().any(|(s, _)| *s == source);
                    let bytes = if again || first { whole.bytes } else { 0 };
                    self.grow(bytes, whole.depth);
                }
                self.taken.push((source, member));
                self.holes.push(Hole {
                    at: At::new(self.path.as_slice()),
                    source,
                    member,
                });
                return Ok(Value::Null);
            }
        }
        let container = matches!(r, Value::Array(_) | Value::Object(_));
        if self.source_bounds.is_some() {
            let m = if container {
                crate::json::measure_exact(r)
            } else {
                Measure {
                    bytes: crate::json::scalar_len(r),
                    depth: 0,
                }
            };
            if m.bytes > self.left {
                return Err(over_budget(self.max));
            }
            let copied = match r {
                Value::String(s) => s.len() + 2,
                _ if container => m.bytes,
                _ => 8,
            };
            self.take(copied)?;
            self.grow(m.bytes, m.depth);
        } else if self.left != usize::MAX {
            // what the copy takes: a string its bytes, a scalar a few, an
            // array or object measured (stopping past what is left)
            let bytes = match r {
                Value::String(s) => Some(s.len() + 2),
                Value::Array(_) | Value::Object(_) => crate::json::len_within(r, self.left),
                _ => Some(8),
            };
            match bytes {
                Some(bytes) => self.take(bytes)?,
                None => return Err(over_budget(self.max)),
            }
        }
        Ok(r.clone())
    }

    /// Converts `v` (`None`: a number that is not finite, or nesting past
    /// what can be converted).
    pub(crate) fn convert(&mut self, v: &Val<'_>) -> Result<Detached, Raw> {
        let value = self.value(v, 0)?;
        Ok(Detached {
            value,
            holes: std::mem::take(&mut self.holes),
            bound: self.source_bounds.map(|_| self.bound),
        })
    }

    /// A borrowed value found without evaluating (a simple path).
    pub(crate) fn convert_ref(&mut self, r: &Value) -> Result<Detached, Raw> {
        let value = self.borrowed(r)?;
        Ok(Detached {
            value,
            holes: std::mem::take(&mut self.holes),
            bound: self.source_bounds.map(|_| self.bound),
        })
    }

    fn value(&mut self, v: &Val<'_>, depth: usize) -> Result<Value, Raw> {
        if depth > 10_000 {
            return Err(Raw::new("D1001").val(Value::Null));
        }
        if let Val::Ref(r) = v {
            return self.borrowed(r);
        }
        let value = match v {
            Val::Null => {
                self.take(4)?;
                Value::Null
            }
            Val::Bool(b) => {
                self.take(5)?;
                Value::Bool(*b)
            }
            Val::Num(n) => {
                self.take(8)?;
                num_json(*n).ok_or_else(|| Raw::new("D1001").val(Value::Null))?
            }
            Val::Str(s) => {
                self.take(s.len() + 2)?;
                Value::String(s.to_string())
            }
            Val::Ref(_) => Value::Null,
            Val::Arr(a) => {
                return self.array(a.items.iter(), a.items.len(), depth);
            }
            Val::Tuples(ts) => {
                return self.array(ts.iter().map(|t| &t.at), ts.len(), depth);
            }
            Val::Obj(o) => {
                self.take(2)?;
                self.grow(2 + o.len().saturating_sub(1), 1);
                let mut m = Map::with_capacity(o.len());
                for (i, (k, item)) in o.iter().enumerate() {
                    self.take(k.len() + 4)?;
                    if self.source_bounds.is_some() {
                        self.grow(crate::json::str_len(k) + 1, 0);
                    }
                    self.path.push(i);
                    let x = self.value(item, depth + 1);
                    self.path.pop();
                    m.insert(k.to_string(), x?);
                }
                return Ok(Value::Object(m));
            }
            Val::Func(_) => {
                self.take(2)?;
                Value::String(String::new())
            }
        };
        if self.source_bounds.is_some() {
            self.grow(crate::json::scalar_len(&value), 0);
        }
        Ok(value)
    }

    fn array<'v, 'x: 'v>(
        &mut self,
        items: impl Iterator<Item = &'v Val<'x>>,
        n: usize,
        depth: usize,
    ) -> Result<Value, Raw> {
        self.take(n + 2)?;
        self.grow(2 + n.saturating_sub(1), 1);
        let mut out = Vec::with_capacity(n);
        for (i, item) in items.enumerate() {
            self.path.push(i);
            let x = self.value(item, depth + 1);
            self.path.pop();
            out.push(x?);
        }
        Ok(Value::Array(out))
    }
}

impl Detached {
    /// A value with no holes.
    pub(crate) fn from_value(value: Value) -> Detached {
        Detached {
            value,
            holes: Vec::new(),
            bound: None,
        }
    }

    /// The bound of the filled result, when the conversion kept one.
    pub(crate) fn bound(&self) -> Option<Measure> {
        self.bound
    }

    /// Puts `part` at the JSON pointer `pointer` of this value (nothing
    /// when no node is there), with its holes.
    pub(crate) fn put(&mut self, pointer: &str, part: Detached) {
        let mut at = Vec::new();
        let mut node = &mut self.value;
        for token in pointer.split('/').skip(1) {
            let token: std::borrow::Cow<'_, str> = if token.contains('~') {
                token.replace("~1", "/").replace("~0", "~").into()
            } else {
                token.into()
            };
            let next = match node {
                Value::Array(items) => match token.parse::<usize>() {
                    Ok(i) => {
                        at.push(i);
                        items.get_mut(i)
                    }
                    Err(_) => None,
                },
                Value::Object(m) => {
                    let i = m.keys().position(|k| *k == *token);
                    at.extend(i);
                    i.and_then(|i| m.values_mut().nth(i))
                }
                _ => None,
            };
            let Some(next) = next else {
                return;
            };
            node = next;
        }
        *node = part.value;
        self.bound = None;
        self.holes.extend(part.holes.into_iter().map(|mut h| {
            let mut full = at.clone();
            full.extend_from_slice(h.at.as_slice());
            h.at = At::new(&full);
            h
        }));
    }

    /// The result, every hole filled from `sources` (the ones the
    /// conversion was given, in the same order): a part appearing once is
    /// moved out of its source (leaving `null` there), one appearing more
    /// than once or inside another part that is moved is copied.
    pub(crate) fn fill(self, sources: &mut [&mut Value]) -> Value {
        let Detached {
            mut value, holes, ..
        } = self;
        if holes.is_empty() {
            return value;
        }
        if holes.len() <= FEW_HOLES {
            fill_few(&mut value, &holes, sources);
        } else {
            fill_many(&mut value, &holes, sources);
        }
        value
    }
}

/// Two holes that take the same part of the same source.
fn same(x: &Hole, y: &Hole) -> bool {
    x.source == y.source && x.member == y.member
}

/// [`Detached::fill`] of at most [`FEW_HOLES`] holes, without allocating.
fn fill_few(value: &mut Value, holes: &[Hole], sources: &mut [&mut Value]) {
    // a part taken by several holes moves into the last of them
    // (the others copy it, first), a member of a source taken
    // whole is copied
    let mut moving = [false; FEW_HOLES];
    for (i, h) in holes.iter().enumerate() {
        let taken_later = holes[i + 1..].iter().any(|o| same(o, h));
        let inside_whole = h.member.is_some()
            && holes
                .iter()
                .any(|o| o.source == h.source && o.member.is_none());
        moving[i] = !taken_later && !inside_whole;
    }
    for moves in [false, true] {
        for (i, h) in holes.iter().enumerate() {
            if moving[i] != moves {
                continue;
            }
            let Some(root) = sources.get_mut(h.source) else {
                continue;
            };
            let node = match h.member {
                None => Some(&mut **root),
                Some(m) => child(root, m),
            };
            let Some(node) = node else {
                continue;
            };
            let part = if moves {
                std::mem::take(node)
            } else {
                node.clone()
            };
            let mut slot = Some(&mut *value);
            for step in h.at.as_slice() {
                slot = slot.and_then(|n| child(n, *step));
            }
            if let Some(slot) = slot {
                *slot = part;
            }
        }
    }
}

/// Which of many holes take their part by moving it (the others copy
/// it): not one whose part a later hole takes too, not a member of a
/// source another hole takes whole.
fn moving_of_many(holes: &[Hole]) -> Vec<bool> {
    // as `fill_few` decides, without its quadratic scans past 16 holes
    let mut whole: Vec<usize> = Vec::new();
    for h in holes {
        if h.member.is_none() && !whole.contains(&h.source) {
            whole.push(h.source);
        }
    }
    let mut moving: Vec<bool> = holes
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let taken_later = if holes.len() <= 16 {
                holes[i + 1..].iter().any(|o| same(o, h))
            } else {
                false
            };
            let inside_whole = h.member.is_some() && whole.contains(&h.source);
            !taken_later && !inside_whole
        })
        .collect();
    if holes.len() > 16 {
        // the same with the holes sorted by the part they take
        let mut order: Vec<usize> = (0..holes.len()).collect();
        order.sort_by(|a, b| {
            let (x, y) = (&holes[*a], &holes[*b]);
            (x.source, &x.member, a).cmp(&(y.source, &y.member, b))
        });
        for (n, i) in order.iter().enumerate() {
            let later = order
                .get(n + 1)
                .is_some_and(|j| same(&holes[*j], &holes[*i]));
            if later {
                moving[*i] = false;
            }
        }
    }
    moving
}

/// The part of each of many holes, each source's members found in one
/// pass over them.
fn parts_of_many(
    holes: &[Hole],
    moving: &[bool],
    sources: &mut [&mut Value],
) -> Vec<Option<Value>> {
    // the copies first, from sources still whole
    let mut parts: Vec<Option<Value>> = (0..holes.len()).map(|_| None).collect();
    for moves in [false, true] {
        for (s, source) in sources.iter_mut().enumerate() {
            let mut wanted: Vec<(Option<usize>, usize)> = holes
                .iter()
                .enumerate()
                .filter(|(i, h)| h.source == s && moving[*i] == moves)
                .map(|(i, h)| (h.member, i))
                .collect();
            if wanted.is_empty() {
                continue;
            }
            wanted.sort_unstable();
            let grab = |node: &mut Value| {
                if moves {
                    std::mem::take(node)
                } else {
                    node.clone()
                }
            };
            let mut members = Vec::with_capacity(wanted.len());
            for (member, i) in wanted {
                match member {
                    None => parts[i] = Some(grab(source)),
                    Some(m) => members.push((m, i)),
                }
            }
            match &mut **source {
                Value::Array(items) => {
                    for (m, i) in members {
                        if let Some(node) = items.get_mut(m) {
                            parts[i] = Some(grab(node));
                        }
                    }
                }
                Value::Object(map) => {
                    let mut next = members.iter().peekable();
                    for (at, node) in map.values_mut().enumerate() {
                        while let Some((_, i)) = next.next_if(|(m, _)| *m == at) {
                            parts[*i] = Some(grab(node));
                        }
                        if next.peek().is_none() {
                            break;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    parts
}

/// [`Detached::fill`] of more than [`FEW_HOLES`] holes, each container
/// walked once.
fn fill_many(value: &mut Value, holes: &[Hole], sources: &mut [&mut Value]) {
    let moving = moving_of_many(holes);
    let parts = parts_of_many(holes, &moving, sources);
    let mut placed: Vec<Placed<'_>> = holes
        .iter()
        .zip(parts)
        .filter_map(|(h, p)| p.map(|p| (h.at.as_slice(), p)))
        .collect();
    placed.sort_by(|x, y| x.0.cmp(y.0));
    place(value, 0, &mut placed);
}

/// A part and where it goes in the result.
type Placed<'p> = (&'p [usize], Value);

/// Puts each part at its path below `node` (the paths sorted, `depth`
/// steps of each already taken): one pass over each container on the way.
fn place(node: &mut Value, depth: usize, parts: &mut [Placed<'_>]) {
    if let [(at, part)] = parts {
        if at.len() == depth {
            *node = std::mem::take(part);
            return;
        }
    }
    // the parts below each child, children in order
    let mut groups: Vec<(usize, &mut [Placed<'_>])> = Vec::new();
    let mut rest = parts;
    while let Some(first) = rest.first() {
        let Some(&child) = first.0.get(depth) else {
            return;
        };
        let n = rest
            .iter()
            .take_while(|p| p.0.get(depth) == Some(&child))
            .count();
        let (group, tail) = std::mem::take(&mut rest).split_at_mut(n);
        groups.push((child, group));
        rest = tail;
    }
    match node {
        Value::Array(items) => {
            for (child, group) in groups {
                if let Some(item) = items.get_mut(child) {
                    place(item, depth + 1, group);
                }
            }
        }
        Value::Object(map) => {
            let mut next = groups.into_iter().peekable();
            for (at, item) in map.values_mut().enumerate() {
                if let Some((_, group)) = next.next_if(|(c, _)| *c == at) {
                    place(item, depth + 1, group);
                }
                if next.peek().is_none() {
                    break;
                }
            }
        }
        _ => {}
    }
}

/// Up to this many holes are filled one by one; more, in one pass over
/// each container they are in.
const FEW_HOLES: usize = 8;

/// The `i`th item of an array or member of an object.
fn child(node: &mut Value, i: usize) -> Option<&mut Value> {
    match node {
        Value::Array(items) => items.get_mut(i),
        Value::Object(m) => m.values_mut().nth(i),
        _ => None,
    }
}

/// A path in the result: inline while short (most holes are a few steps
/// down), on the heap past that.
#[derive(Debug)]
enum At {
    Inline(u8, [usize; 4]),
    Heap(Vec<usize>),
}

impl At {
    fn new(path: &[usize]) -> At {
        match path.len() {
            n if n <= 4 => {
                let mut steps = [0; 4];
                steps[..n].copy_from_slice(path);
                At::Inline(n as u8, steps)
            }
            _ => At::Heap(path.to_vec()),
        }
    }

    fn as_slice(&self) -> &[usize] {
        match self {
            At::Inline(n, steps) => &steps[..usize::from(*n)],
            At::Heap(v) => v,
        }
    }
}

/// The path of the node being converted: inline for the first levels.
#[derive(Default)]
struct PathStack {
    inline: [usize; 8],
    len: usize,
    /// The whole path once it is deeper than `inline` holds.
    spill: Vec<usize>,
}

impl PathStack {
    fn push(&mut self, step: usize) {
        if self.len < self.inline.len() {
            self.inline[self.len] = step;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline);
            }
            self.spill.push(step);
        }
        self.len += 1;
    }

    fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
        if !self.spill.is_empty() {
            self.spill.pop();
            if self.len <= self.inline.len() {
                self.spill.clear();
            }
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn as_slice(&self) -> &[usize] {
        if self.spill.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }
}
