//! `States.Format`, `States.StringSplit`.

use super::{string_arg, type_name, Args};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt::Write;

/// Splits a `States.Format` template at its `{}` placeholders, resolving
/// the escapes `\{`, `\}`, `\'` and `\\`: `n` placeholders give `n + 1`
/// pieces of text.
pub(crate) fn template_pieces(template: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&e @ ('{' | '}' | '\\' | '\'')) => {
                    chars.next();
                    piece.push(e);
                }
                _ => piece.push('\\'),
            },
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                pieces.push(std::mem::take(&mut piece));
            }
            c => piece.push(c),
        }
    }
    pieces.push(piece);
    pieces
}

/// Fills the pieces of a template with `values` (one fewer than pieces).
pub(crate) fn format_pieces(pieces: &[String], values: &[Cow<'_, Value>]) -> Result<Value, String> {
    let placeholders = pieces.len().saturating_sub(1);
    if placeholders != values.len() {
        return Err(placeholder_mismatch(placeholders, values.len()));
    }
    let mut out =
        String::with_capacity(pieces.iter().map(String::len).sum::<usize>() + 16 * values.len());
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            render(&values[i - 1], &mut out);
        }
        out.push_str(piece);
    }
    Ok(Value::String(out))
}

pub(crate) fn placeholder_mismatch(placeholders: usize, values: usize) -> String {
    format!(
        "the template has {placeholders} placeholder{} but {values} value{} {} given",
        if placeholders == 1 { "" } else { "s" },
        if values == 1 { "" } else { "s" },
        if values == 1 { "was" } else { "were" },
    )
}

/// Writes a value as `States.Format` shows it: strings without quotes,
/// other scalars as JSON, arrays as `[a, b]` and objects as `{k=v, k2=v2}`
/// (the way Java prints collections).
fn render(value: &Value, out: &mut String) {
    let _ = render_into(value, out);
}

/// [`render`] into any writer; stops at the writer's first error.
fn render_into<W: Write>(value: &Value, out: &mut W) -> std::fmt::Result {
    match value {
        Value::String(s) => out.write_str(s),
        Value::Array(items) => {
            out.write_char('[')?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                render_into(item, out)?;
            }
            out.write_char(']')
        }
        Value::Object(map) => {
            out.write_char('{')?;
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                out.write_str(key)?;
                out.write_char('=')?;
                render_into(item, out)?;
            }
            out.write_char('}')
        }
        scalar => write!(out, "{scalar}"),
    }
}

/// Counts what is written, failing once it passes `cap` bytes.
struct Counter {
    written: usize,
    cap: usize,
}

impl Write for Counter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.written = self.written.saturating_add(s.len());
        if self.written > self.cap {
            return Err(std::fmt::Error);
        }
        Ok(())
    }
}

/// The length of the text [`format_pieces`] makes of `pieces` and
/// `values`, or `None` once it passes `cap` (nothing is built).
pub(crate) fn formatted_len(
    pieces: &[String],
    values: &[Cow<'_, Value>],
    cap: usize,
) -> Option<usize> {
    let mut counter = Counter { written: 0, cap };
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            if let Some(value) = values.get(i - 1) {
                render_into(value, &mut counter).ok()?;
            }
        }
        counter.write_str(piece).ok()?;
    }
    Some(counter.written)
}

/// `States.Format(template, value, ...)`: the template with each `{}`
/// replaced by the next value; there must be exactly as many values as
/// placeholders. Strings appear without quotes, objects as `{k=v, ...}`,
/// arrays as `[a, b]`. In the template, `\{`, `\}`, `\'` and `\\` stand for
/// the character itself.
///
/// ```text
/// input:  {"name": "Arnav", "tags": {"Arg1": 1, "Arg2": []}}
/// "greeting.$": "States.Format('Hello, my name is {}.', $.name)"
/// output: {"greeting": "Hello, my name is Arnav."}
/// "tags.$": "States.Format('tags={}', $.tags)"
/// output: {"tags": "tags={Arg1=1, Arg2=[]}"}
/// ```
pub fn format(args: &mut Args<'_>) -> Result<Value, String> {
    let template = match args.first().map(|a| a.as_ref()) {
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(format!(
                "the template (first argument) must be a string, got {}",
                type_name(other)
            ))
        }
        None => return Err("the template (first argument) is missing".to_owned()),
    };
    format_pieces(&template_pieces(template), &args[1..])
}

/// `States.StringSplit(string, delimiters)`: the string split at every
/// character of `delimiters`; empty pieces are dropped, blank ones kept.
///
/// ```text
/// input:  {"text": "1,2,,3", "separators": ","}
/// "parts.$": "States.StringSplit($.text, $.separators)"
/// output: {"parts": ["1", "2", "3"]}
/// "parts.$": "States.StringSplit('This.is+a,test=string', '.+,=')"
/// output: {"parts": ["This", "is", "a", "test", "string"]}
/// ```
pub fn string_split(args: &mut Args<'_>) -> Result<Value, String> {
    let text = string_arg(args, 0)?;
    let delimiters = string_arg(args, 1)?;
    // counted first: the array is allocated once, never grown (a string
    // of one-letter pieces makes many 32-byte values)
    let mut out = Vec::with_capacity(pieces(text, delimiters).count());
    out.extend(pieces(text, delimiters).map(|piece| Value::String(piece.to_owned())));
    Ok(Value::Array(out))
}

/// The pieces `States.StringSplit` cuts `text` into.
fn pieces<'t>(text: &'t str, delimiters: &str) -> impl Iterator<Item = &'t str> {
    // a set, so that a long delimiter string costs O(1) per character
    let delimiters: std::collections::HashSet<char> = delimiters.chars().collect();
    text.split(move |c| delimiters.contains(&c))
        .filter(|piece| !piece.is_empty())
}

/// The length of the compact JSON text of what `States.StringSplit` makes
/// of `text`, or `None` once it passes `cap` (nothing is built).
pub(crate) fn split_len(text: &str, delimiters: &str, cap: usize) -> Option<usize> {
    let mut budget = crate::json::Budget::new(Some(cap));
    // the brackets
    let mut count = 0usize;
    for piece in pieces(text, delimiters) {
        // the piece quoted, and a comma
        if !budget.take(crate::json::str_len(piece) + 1) {
            return None;
        }
        count += 1;
    }
    // n pieces have n - 1 commas, and the array two brackets
    let bytes = cap - budget.left() + 2 - count.min(1);
    (bytes <= cap).then_some(bytes)
}
