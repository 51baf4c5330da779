//! The compiled form of a full JSONPath and its evaluator.
//!
//! [`super::check`] parses a path into a [`Query`]: a list of [`Step`]s,
//! each a [`Selector`] that may follow a recursive descent (`..`). The
//! evaluator walks the data once, collecting references to the matches in
//! document order; nothing is copied until the caller has measured them.
//!
//! The answers follow Jayway JsonPath, the library AWS Step Functions
//! evaluates paths with, except where AWS's recordings say otherwise
//! (a missing field in a non-definite path matches nothing; Jayway fails)
//! and where Jayway's answer is an artefact of its implementation (see
//! `fixtures/jsonpath-cases.json` for every decision and its source):
//!
//! * a name, an index, a union, a slice or a wildcard that does not fit the
//!   value (a name on an array, an index on an object, an index out of
//!   range) matches nothing;
//! * an index counts from the end when negative;
//! * a slice `[start:end]` reads as Jayway reads it: `[s:]` and `[:e]` count
//!   a negative bound from the end; in `[s:e]` a negative `e` selects
//!   nothing and each index from `s` up to `e` is taken as an index (so a
//!   negative `s` counts from the end). A step (`[s:e:k]`, `[::k]`), which
//!   Jayway ignores or rejects, takes every k-th of those indexes;
//! * a filter on an array keeps the items that pass; on an object it keeps
//!   the object itself when it passes (Jayway), on anything else nothing;
//! * `..` visits the value it starts from and every array and object below
//!   it, parents before children, in document order, and applies the next
//!   selector to each: a filter after `..` keeps every object that passes,
//!   and the items of every array that itself passes (Jayway's scan).

use serde_json::{Map, Number, Value};
use std::cmp::Ordering;

/// A parsed non-definite JSONPath: the steps after its root.
#[derive(Clone, Debug)]
pub(crate) struct Query {
    pub(crate) steps: Box<[Step]>,
}

/// One step: a selector, applied to the current value (`.x`, `[..]`) or to
/// it and every array and object below it (`..x`, `..[..]`).
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub(crate) descend: bool,
    pub(crate) selector: Selector,
}

/// What one step selects.
#[derive(Clone, Debug)]
pub(crate) enum Selector {
    /// `.name`, `['name']`
    Name(Box<str>),
    /// `['a','b']`: each name present, in the order written.
    Names(Box<[Box<str>]>),
    /// `.*`, `[*]`: every member of an object or item of an array.
    Wildcard,
    /// `[i]`
    Index(i64),
    /// `[i,j]`: each index in range, in the order written.
    Indexes(Box<[i64]>),
    /// `[start:end:step]`
    Slice(Slice),
    /// `[?(...)]`
    Filter(Box<Expr>),
}

/// `[start:end:step]`; the step is at least 1.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slice {
    pub(crate) start: Option<i64>,
    pub(crate) end: Option<i64>,
    pub(crate) step: i64,
}

/// A filter expression.
#[derive(Clone, Debug)]
pub(crate) enum Expr {
    /// `a || b || ...`
    Or(Box<[Expr]>),
    /// `a && b && ...`
    And(Box<[Expr]>),
    /// `left op right`
    Compare(Box<(Operand, Op, Operand)>),
    /// A lone operand: a path exists, a group holds, `true`.
    Test(Operand),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One side of a comparison.
#[derive(Clone, Debug)]
pub(crate) enum Operand {
    /// `@` followed by field names.
    Current(Box<[Box<str>]>),
    /// `$` followed by field names: the root the whole path started from.
    Root(Box<[Box<str>]>),
    /// A number, a string, `true` or `false`.
    Literal(Value),
    /// `( expr )`: its truth as a boolean.
    Group(Box<Expr>),
}

static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

/// The matches of a query, in document order, or `None` once they add up
/// to more than `max_bytes` of JSON text (each is measured by `measure`
/// as it is found, so a runaway descent stops early).
pub(crate) fn select<'v>(
    query: &Query,
    root: &'v Value,
    max_bytes: usize,
    measure: impl Fn(&Value, usize) -> Option<usize>,
) -> Option<Vec<&'v Value>> {
    let mut run = Run {
        steps: &query.steps,
        root,
        found: Vec::with_capacity(8),
        budget: max_bytes,
        measure: &measure,
        too_big: false,
    };
    run.step(0, root);
    if run.too_big {
        None
    } else {
        Some(run.found)
    }
}

/// One evaluation: the query, the root for `$` in filters, and the matches
/// so far with what is left of the byte budget.
struct Run<'q, 'v, 'm> {
    steps: &'q [Step],
    root: &'v Value,
    found: Vec<&'v Value>,
    budget: usize,
    measure: &'m dyn Fn(&Value, usize) -> Option<usize>,
    too_big: bool,
}

impl<'v> Run<'_, 'v, '_> {
    /// Applies the steps from `index` on to `value`. Recursion is bounded by
    /// the number of steps (at most `check::MAX_NESTING`).
    fn step(&mut self, index: usize, value: &'v Value) {
        if self.too_big {
            return;
        }
        let Some(step) = self.steps.get(index) else {
            match (self.measure)(value, self.budget) {
                Some(bytes) => {
                    self.budget -= bytes.min(self.budget);
                    self.found.push(value);
                }
                None => self.too_big = true,
            }
            return;
        };
        if step.descend {
            self.descend(index, &step.selector, value);
        } else {
            self.select(index, &step.selector, value);
        }
    }

    /// Applies `selector` (step `index`) to `value`, then the rest of the
    /// steps to each match.
    fn select(&mut self, index: usize, selector: &Selector, value: &'v Value) {
        let next = index + 1;
        match (selector, value) {
            (Selector::Name(name), Value::Object(map)) => {
                if let Some(member) = member(map, name) {
                    self.step(next, member);
                }
            }
            (Selector::Names(names), Value::Object(map)) => {
                for name in names.iter() {
                    if let Some(member) = member(map, name) {
                        self.step(next, member);
                    }
                }
            }
            (Selector::Wildcard, Value::Object(map)) => {
                for member in map.values() {
                    self.step(next, member);
                }
            }
            (Selector::Wildcard, Value::Array(items)) => {
                for item in items {
                    self.step(next, item);
                }
            }
            (Selector::Index(i), Value::Array(items)) => {
                if let Some(item) = at(items, *i) {
                    self.step(next, item);
                }
            }
            (Selector::Indexes(indexes), Value::Array(items)) => {
                for &i in indexes.iter() {
                    if let Some(item) = at(items, i) {
                        self.step(next, item);
                    }
                }
            }
            (Selector::Slice(slice), Value::Array(items)) => {
                let (from, to) = slice.bounds(items.len());
                let mut i = from;
                // Indexes before -len select nothing: skip them (keeping
                // the step's rhythm), or `[-2147483648:1]` would count
                // through two billion of them.
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                if i < -len {
                    let jumps = (-len - i).saturating_add(slice.step - 1) / slice.step;
                    i = i.saturating_add(jumps.saturating_mul(slice.step));
                }
                while i < to {
                    if let Some(item) = at(items, i) {
                        self.step(next, item);
                    }
                    i = i.saturating_add(slice.step);
                }
            }
            (Selector::Filter(filter), Value::Array(items)) => {
                for item in items {
                    if self.test(filter, item) {
                        self.step(next, item);
                    }
                }
            }
            (Selector::Filter(filter), Value::Object(_)) if self.test(filter, value) => {
                self.step(next, value);
            }
            _ => {}
        }
    }

    /// `..selector`: `value` and every array and object below it, parents
    /// first, in document order; an explicit stack, so deep data cannot
    /// overflow ours.
    fn descend(&mut self, index: usize, selector: &Selector, value: &'v Value) {
        let mut stack = Vec::with_capacity(32);
        stack.push(value);
        while let Some(node) = stack.pop() {
            if self.too_big {
                return;
            }
            match (selector, node) {
                // Jayway's scan only expands an array whose filter holds for
                // the array itself; an object that passes is the match.
                (Selector::Filter(filter), Value::Array(_)) => {
                    if self.test(filter, node) {
                        self.select(index, selector, node);
                    }
                }
                (Selector::Filter(filter), Value::Object(_)) => {
                    if self.test(filter, node) {
                        self.step(index + 1, node);
                    }
                }
                _ => self.select(index, selector, node),
            }
            match node {
                Value::Object(map) => {
                    stack.extend(map.values().rev().filter(|v| v.is_object() || v.is_array()))
                }
                Value::Array(items) => {
                    stack.extend(items.iter().rev().filter(|v| v.is_object() || v.is_array()))
                }
                _ => {}
            }
        }
    }

    /// Whether `item` passes a filter.
    fn test(&self, expr: &Expr, item: &Value) -> bool {
        match expr {
            Expr::Or(any) => any.iter().any(|e| self.test(e, item)),
            Expr::And(all) => all.iter().all(|e| self.test(e, item)),
            Expr::Compare(comparison) => {
                let (left, op, right) = &**comparison;
                compare(self.operand(left, item), *op, self.operand(right, item))
            }
            Expr::Test(Operand::Literal(literal)) => *literal == TRUE,
            Expr::Test(operand) => self
                .operand(operand, item)
                .is_some_and(|v| !matches!(operand, Operand::Group(_)) || *v == TRUE),
        }
    }

    /// The value of an operand for `item`; `None` when a path leads nowhere.
    fn operand<'a>(&'a self, operand: &'a Operand, item: &'a Value) -> Option<&'a Value> {
        match operand {
            Operand::Current(names) => walk(item, names),
            Operand::Root(names) => walk(self.root, names),
            Operand::Literal(literal) => Some(literal),
            Operand::Group(expr) => Some(if self.test(expr, item) { &TRUE } else { &FALSE }),
        }
    }
}

/// The item at index `i`, counted from the end when negative.
fn at(items: &[Value], i: i64) -> Option<&Value> {
    let index = if i < 0 {
        i64::try_from(items.len()).ok()?.checked_add(i)?
    } else {
        i
    };
    items.get(usize::try_from(index).ok()?)
}

impl Slice {
    /// The indexes to walk, `from..to` (each taken as an index, so a
    /// negative one counts from the end), as Jayway's ArraySliceToken
    /// computes them for an array of `len` items.
    fn bounds(&self, len: usize) -> (i64, i64) {
        let len = i64::try_from(len).unwrap_or(i64::MAX);
        let from_end = |n: i64| if n < 0 { len.saturating_add(n) } else { n };
        match (self.start, self.end) {
            // [s:]
            (Some(start), None) => (from_end(start).max(0), len),
            // [:e]
            (None, Some(end)) => (0, from_end(end).min(len)),
            // [s:e]: Jayway leaves both as written.
            (Some(start), Some(end)) => (start, end.min(len)),
            // [:] and [::k]
            (None, None) => (0, len),
        }
    }
}

/// Follows field names from `value`.
fn walk<'a>(mut value: &'a Value, names: &[Box<str>]) -> Option<&'a Value> {
    for name in names {
        value = member(value.as_object()?, name)?;
    }
    Some(value)
}

/// The member `name` of an object. A small object is searched in order,
/// which is cheaper than hashing the name.
fn member<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if map.len() <= 8 {
        let name = name.as_bytes();
        map.iter()
            .find(|(key, _)| same(key.as_bytes(), name))
            .map(|(_, value)| value)
    } else {
        map.get(name)
    }
}

/// `a == b`, byte by byte: field names are short, and a call to `memcmp`
/// for each key of the same length costs more than the comparison.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A comparison as Jayway's evaluators make it: `==` and `!=` compare
/// equal types (a number and a string are equal when the string spells the
/// number), the order operators numbers with numbers and strings with
/// strings (by UTF-16 code units, as Java does); anything involving a path
/// that leads nowhere is false for all but `!=`.
fn compare(left: Option<&Value>, op: Op, right: Option<&Value>) -> bool {
    match op {
        Op::Eq => equal(left, right),
        Op::Ne => !equal(left, right),
        Op::Lt => order(left, right) == Some(Ordering::Less),
        Op::Le => matches!(order(left, right), Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => order(left, right) == Some(Ordering::Greater),
        Op::Ge => matches!(
            order(left, right),
            Some(Ordering::Greater | Ordering::Equal)
        ),
    }
}

fn equal(left: Option<&Value>, right: Option<&Value>) -> bool {
    let (Some(left), Some(right)) = (left, right) else {
        return false;
    };
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => numbers(a, b) == Some(Ordering::Equal),
        // Jayway: a string on the left compares with the number's text, a
        // number on the left with the string read as a decimal.
        (Value::String(a), Value::Number(b)) => *a == b.to_string(),
        (Value::Number(a), Value::String(b)) => {
            decimal(b).is_some_and(|b| numbers(a, &b) == Some(Ordering::Equal))
        }
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Null, Value::Null) => true,
        (Value::Array(_) | Value::Object(_), Value::Array(_) | Value::Object(_)) => left == right,
        _ => false,
    }
}

fn order(left: Option<&Value>, right: Option<&Value>) -> Option<Ordering> {
    match (left?, right?) {
        (Value::Number(a), Value::Number(b)) => numbers(a, b),
        (Value::String(a), Value::String(b)) => Some(a.encode_utf16().cmp(b.encode_utf16())),
        _ => None,
    }
}

/// Two numbers in order: integers exactly, anything else as f64.
fn numbers(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// A string read as Java's `BigDecimal` reads it (sign, digits with an
/// optional fraction, optional exponent), or `None`.
fn decimal(text: &str) -> Option<Number> {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut count = digits(&mut i);
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        count += digits(&mut i);
    }
    if count == 0 {
        return None;
    }
    let integer = i == bytes.len();
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    let text = text.strip_prefix('+').unwrap_or(text);
    if integer {
        if let Ok(n) = text.parse::<i64>() {
            return Some(Number::from(n));
        }
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}
