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
    match value {
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push('=');
                render(item, out);
            }
            out.push('}');
        }
        scalar => {
            let _ = write!(out, "{scalar}");
        }
    }
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
pub fn format(args: Args<'_>) -> Result<Value, String> {
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
pub fn string_split(args: Args<'_>) -> Result<Value, String> {
    let text = string_arg(&args, 0)?;
    let delimiters = string_arg(&args, 1)?;
    // a set, so that a long delimiter string costs O(1) per character
    let delimiters: std::collections::HashSet<char> = delimiters.chars().collect();
    Ok(Value::Array(
        text.split(|c| delimiters.contains(&c))
            .filter(|piece| !piece.is_empty())
            .map(|piece| Value::String(piece.to_owned()))
            .collect(),
    ))
}
