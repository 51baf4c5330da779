//! The Reference Path parser and walker: `$`, `$$` or `$name`, then `.field`,
//! `['field']` and `[index]` steps. Hand-written, no allocation when a path is
//! evaluated successfully.

use super::Root;
use serde_json::Value;
use std::fmt;

/// One step of a Reference Path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// `.name`, `['name']` or `["name"]`.
    Field(String),
    /// `[n]`; a negative index counts from the end (`[-1]` is the last item).
    Index(i64),
}

impl Step {
    /// Writes the step in AWS's bracket form: `['name']` or `[0]`.
    pub(crate) fn write_bracketed(&self, out: &mut impl fmt::Write) -> fmt::Result {
        match self {
            Step::Field(name) => write!(out, "['{name}']"),
            Step::Index(index) => write!(out, "[{index}]"),
        }
    }
}

/// A JSONPath feature that a Reference Path does not allow but a full Path may.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Feature {
    Wildcard,
    RecursiveDescent,
    Filter,
    Slice,
    Union,
    Function,
}

impl Feature {
    pub(crate) fn reference_message(self) -> &'static str {
        match self {
            Feature::Wildcard => "wildcards are not allowed in a reference path",
            Feature::RecursiveDescent => {
                "recursive descent (`..`) is not allowed in a reference path"
            }
            Feature::Filter => "filters are not allowed in a reference path",
            Feature::Slice => "slices are not allowed in a reference path",
            Feature::Union => "unions are not allowed in a reference path",
            Feature::Function => "functions are not allowed in a reference path",
        }
    }
}

/// Why a text is not a Reference Path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Valid JSONPath, but not a Reference Path.
    Feature(Feature),
    /// Not valid at all.
    Syntax(String),
}

impl Failure {
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Feature(feature) => feature.reference_message().to_owned(),
            Failure::Syntax(message) => message.clone(),
        }
    }
}

fn syntax(message: impl Into<String>) -> Failure {
    Failure::Syntax(message.into())
}

/// True for a character that may start a variable name.
fn ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

/// True for a character that may continue a variable name.
fn ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Reads the root of a path. Returns the root and the byte offset where the
/// steps begin.
pub(crate) fn parse_root(text: &str) -> Result<(Root, usize), Failure> {
    let mut chars = text.char_indices();
    match chars.next() {
        Some((_, '$')) => {}
        _ => return Err(syntax("a path must start with `$`")),
    }
    match chars.next() {
        None | Some((_, '.')) | Some((_, '[')) => Ok((Root::Data, 1)),
        Some((_, '$')) => Ok((Root::Context, 2)),
        Some((_, c)) if ident_start(c) => {
            let end = chars
                .find(|&(_, c)| !ident_continue(c))
                .map_or(text.len(), |(i, _)| i);
            Ok((Root::Variable(text[1..end].to_owned()), end))
        }
        Some((_, c)) if c.is_ascii_digit() => {
            Err(syntax("a variable name must start with a letter or `_`"))
        }
        Some((_, c)) => Err(unexpected(c)),
    }
}

fn unexpected(c: char) -> Failure {
    match c {
        '*' => Failure::Feature(Feature::Wildcard),
        '?' | '@' => Failure::Feature(Feature::Filter),
        '(' => Failure::Feature(Feature::Function),
        c => syntax(format!("unexpected character `{}`", c.escape_debug())),
    }
}

/// Parses the steps of a Reference Path (the text after the root).
pub(crate) fn parse_steps(rest: &str) -> Result<Vec<Step>, Failure> {
    let bytes = rest.as_bytes();
    let mut steps = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        match bytes[pos] {
            b'.' => {
                pos += 1;
                match bytes.get(pos) {
                    None => return Err(syntax("expected a field name after `.`")),
                    Some(b'.') => return Err(Failure::Feature(Feature::RecursiveDescent)),
                    Some(b'*') => return Err(Failure::Feature(Feature::Wildcard)),
                    // `$.a.['b c']`: AWS documents this form.
                    Some(b'[') => {}
                    Some(_) => {
                        let (name, next) = dot_name(rest, pos)?;
                        steps.push(Step::Field(name.to_owned()));
                        pos = next;
                    }
                }
            }
            b'[' => {
                let (step, next) = bracket(rest, pos + 1)?;
                steps.push(step);
                pos = next;
            }
            _ => {
                let c = rest[pos..].chars().next().unwrap_or('\u{fffd}');
                return Err(unexpected(c));
            }
        }
    }
    Ok(steps)
}

/// Reads a dot-notation field name starting at `start`; returns it and the
/// offset after it. AWS (Jayway JsonPath) ends the name at `.` or `[` and
/// accepts most other characters (`$.delivery-partner` works on AWS).
fn dot_name(rest: &str, start: usize) -> Result<(&str, usize), Failure> {
    for (i, c) in rest[start..].char_indices() {
        match c {
            '.' | '[' => return Ok((&rest[start..start + i], start + i)),
            '(' => return Err(Failure::Feature(Feature::Function)),
            '*' => return Err(Failure::Feature(Feature::Wildcard)),
            c if c.is_whitespace() => {
                return Err(syntax(
                    "a field name containing whitespace needs bracket notation, e.g. `$['a b']`",
                ))
            }
            ')' | ']' | '?' | '@' | ',' | ':' | '\'' | '"' => {
                return Err(syntax(format!(
                    "`{c}` is not allowed in a dot-notation field name, use bracket notation, e.g. `$['a{c}b']`"
                )))
            }
            _ => {}
        }
    }
    Ok((&rest[start..], rest.len()))
}

fn skip_spaces(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && bytes[pos] == b' ' {
        pos += 1;
    }
    pos
}

/// Reads a bracket step; `pos` is just after `[`. Returns the step and the
/// offset after `]`.
fn bracket(rest: &str, pos: usize) -> Result<(Step, usize), Failure> {
    let bytes = rest.as_bytes();
    let pos = skip_spaces(bytes, pos);
    let Some(&first) = bytes.get(pos) else {
        return Err(syntax("unclosed `[`"));
    };
    match first {
        quote @ (b'\'' | b'"') => {
            // The name is the raw text between the quotes: a backslash keeps
            // the next character from closing the string but is not removed
            // (AWS: `$['Test\""Name"']` selects the key `Test\""Name"`).
            let start = pos + 1;
            let mut i = start;
            let end = loop {
                match bytes.get(i) {
                    None => return Err(syntax("unclosed quoted field name")),
                    Some(b'\\') => i += 2,
                    Some(&b) if b == quote => break i,
                    Some(_) => i += 1,
                }
            };
            let name = &rest[start..end];
            let after = skip_spaces(bytes, end + 1);
            match bytes.get(after) {
                Some(b']') => Ok((Step::Field(name.to_owned()), after + 1)),
                Some(b',') => Err(Failure::Feature(Feature::Union)),
                None => Err(syntax("unclosed `[`")),
                Some(_) => Err(syntax("expected `]` after a quoted field name")),
            }
        }
        b'-' | b'0'..=b'9' => {
            let start = pos;
            let mut i = pos + 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &rest[start..i];
            let after = skip_spaces(bytes, i);
            match bytes.get(after) {
                Some(b':') => return Err(Failure::Feature(Feature::Slice)),
                Some(b',') => return Err(Failure::Feature(Feature::Union)),
                Some(b']') => {}
                None => return Err(syntax("unclosed `[`")),
                Some(_) => return Err(syntax("an array index must be an integer")),
            }
            if digits == "-" {
                return Err(syntax("an array index must be an integer"));
            }
            let index = digits
                .parse::<i64>()
                .map_err(|_| syntax("array index out of range"))?;
            Ok((Step::Index(index), after + 1))
        }
        b':' => Err(Failure::Feature(Feature::Slice)),
        b'*' => Err(Failure::Feature(Feature::Wildcard)),
        b'?' => Err(Failure::Feature(Feature::Filter)),
        b'(' => Err(Failure::Feature(Feature::Filter)),
        b']' => Err(syntax("empty brackets")),
        _ => {
            let c = rest[pos..].chars().next().unwrap_or('\u{fffd}');
            Err(syntax(format!(
                "unexpected character `{}` after `[`",
                c.escape_debug()
            )))
        }
    }
}

/// Resolves an index against an array length (negative counts from the end).
pub(crate) fn resolve_index(index: i64, len: usize) -> Option<usize> {
    if index >= 0 {
        let i = usize::try_from(index).ok()?;
        (i < len).then_some(i)
    } else {
        let back = usize::try_from(index.unsigned_abs()).ok()?;
        len.checked_sub(back)
    }
}

/// Where a walk stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Miss {
    /// The step that found nothing.
    pub step: usize,
    /// The step is a field absent from an object.
    pub missing_field: bool,
}

/// Objects up to this size are searched by comparing keys, which beats
/// hashing the name for the small objects states pass around.
const SCAN_LIMIT: usize = 8;

/// The value of field `name` in `map`.
#[inline]
fn field<'v>(map: &'v serde_json::Map<String, Value>, name: &str) -> Option<&'v Value> {
    if map.len() <= SCAN_LIMIT {
        map.iter()
            .find(|(key, _)| key.as_str() == name)
            .map(|(_, v)| v)
    } else {
        map.get(name)
    }
}

/// Walks `steps` from `node`.
#[inline]
pub(crate) fn walk<'v>(steps: &[Step], mut node: &'v Value) -> Result<&'v Value, Miss> {
    for (i, step) in steps.iter().enumerate() {
        let next = match (step, node) {
            (Step::Field(name), Value::Object(map)) => field(map, name).ok_or(Miss {
                step: i,
                missing_field: true,
            })?,
            (Step::Index(index), Value::Array(items)) => resolve_index(*index, items.len())
                .map(|j| &items[j])
                .ok_or(Miss {
                    step: i,
                    missing_field: false,
                })?,
            _ => {
                return Err(Miss {
                    step: i,
                    missing_field: false,
                })
            }
        };
        node = next;
    }
    Ok(node)
}

/// Walks `steps` from `node`, mutably.
pub(crate) fn walk_mut<'v>(steps: &[Step], mut node: &'v mut Value) -> Option<&'v mut Value> {
    for step in steps {
        node = match (step, node) {
            (Step::Field(name), Value::Object(map)) => map.get_mut(name.as_str())?,
            (Step::Index(index), Value::Array(items)) => {
                let j = resolve_index(*index, items.len())?;
                &mut items[j]
            }
            _ => return None,
        };
    }
    Some(node)
}

/// Writes `value` at `steps` inside `target` as ResultPath does. Returns
/// false when it cannot.
pub(crate) fn write(steps: &[Step], target: &mut Value, value: Value) -> bool {
    // Check first so that a failed write leaves `target` untouched.
    if !writable(steps, target) {
        return false;
    }
    let Some((last, parents)) = steps.split_last() else {
        *target = value;
        return true;
    };
    let mut node = target;
    for step in parents {
        node = match (step, node) {
            (Step::Field(name), Value::Object(map)) => {
                if !map.contains_key(name.as_str()) {
                    map.insert(name.clone(), Value::Object(serde_json::Map::new()));
                }
                match map.get_mut(name.as_str()) {
                    Some(child) => child,
                    None => return false,
                }
            }
            (Step::Index(index), Value::Array(items)) => {
                let Some(j) = resolve_index(*index, items.len()) else {
                    return false;
                };
                &mut items[j]
            }
            _ => return false,
        };
    }
    match (last, node) {
        (Step::Field(name), Value::Object(map)) => {
            match map.get_mut(name.as_str()) {
                Some(slot) => *slot = value,
                None => {
                    map.insert(name.clone(), value);
                }
            }
            true
        }
        (Step::Index(index), Value::Array(items)) => match resolve_index(*index, items.len()) {
            Some(j) => {
                items[j] = value;
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// True when [`write()`] can succeed: every existing node on the way has the
/// right type, indexes are in range, and steps after the first missing field
/// are fields (only objects are created).
fn writable(steps: &[Step], target: &Value) -> bool {
    let Some((last, parents)) = steps.split_last() else {
        return true;
    };
    let mut node = target;
    for (i, step) in parents.iter().enumerate() {
        node = match (step, node) {
            (Step::Field(name), Value::Object(map)) => match map.get(name.as_str()) {
                Some(child) => child,
                None => return steps[i + 1..].iter().all(|s| matches!(s, Step::Field(_))),
            },
            (Step::Index(index), Value::Array(items)) => match resolve_index(*index, items.len()) {
                Some(j) => &items[j],
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, node) {
        (Step::Field(_), Value::Object(_)) => true,
        (Step::Index(index), Value::Array(items)) => resolve_index(*index, items.len()).is_some(),
        _ => false,
    }
}

/// `$` followed by the bracket form of `steps`.
pub(crate) fn bracketed(root: &str, steps: &[Step]) -> String {
    let mut out = String::from(root);
    for step in steps {
        // Writing to a String cannot fail.
        let _ = step.write_bracketed(&mut out);
    }
    out
}

/// Writes a root as written in a path.
pub(crate) fn write_root(root: &Root, out: &mut impl fmt::Write) -> fmt::Result {
    match root {
        Root::Data => out.write_char('$'),
        Root::Context => out.write_str("$$"),
        Root::Variable(name) => write!(out, "${name}"),
    }
}
