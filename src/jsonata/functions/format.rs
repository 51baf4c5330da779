//! Picture-string number functions: `$formatNumber`, `$formatInteger`,
//! `$parseInteger`, `$formatBase`.
//!
//! REGISTRATION POINT: the four pure functions below are placeholders with
//! the final signatures; the implementations written separately replace their
//! bodies (this file), and the table needs no change.

use super::{arg, num_arg, str_arg, Args, Entry, FnError, Focus};
use crate::jsonata::eval::value::{to_json, Val};
use crate::jsonata::eval::{Ev, R};
use serde_json::{Map, Value};

pub(crate) const TABLE: &[Entry] = &[
    ("formatNumber", "<n-so?:s>", 3, format_number_fn),
    ("formatInteger", "<n-s:s>", 2, format_integer_fn),
    ("parseInteger", "<s-s:n>", 2, parse_integer_fn),
    ("formatBase", "<n-n?:s>", 2, format_base_fn),
];

fn not_yet(name: &str) -> FnError {
    FnError {
        code: "D3199",
        message: format!("${name}() is not yet available in stepfn"),
    }
}

/// `$formatNumber(value, picture, options)`.
pub(crate) fn format_number(
    _value: f64,
    _picture: &str,
    _options: Option<&Map<String, Value>>,
) -> Result<String, FnError> {
    Err(not_yet("formatNumber"))
}

/// `$formatInteger(value, picture)`.
pub(crate) fn format_integer(_value: f64, _picture: &str) -> Result<String, FnError> {
    Err(not_yet("formatInteger"))
}

/// `$parseInteger(string, picture)`.
pub(crate) fn parse_integer(_s: &str, _picture: &str) -> Result<f64, FnError> {
    Err(not_yet("parseInteger"))
}

/// `$formatBase(value, radix)`.
pub(crate) fn format_base(_value: f64, _radix: Option<f64>) -> Result<String, FnError> {
    Err(not_yet("formatBase"))
}

fn format_number_fn<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = num_arg(&args, 0) else {
        return Ok(None);
    };
    let picture = str_arg(&args, 1).unwrap_or_default();
    let options = arg(&args, 2).and_then(|o| to_json(o, 0));
    let options = match &options {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    Ok(Some(Val::str(format_number(v, &picture, options)?)))
}

fn format_integer_fn<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = num_arg(&args, 0) else {
        return Ok(None);
    };
    let picture = str_arg(&args, 1).unwrap_or_default();
    Ok(Some(Val::str(format_integer(v, &picture)?)))
}

fn parse_integer_fn<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let picture = str_arg(&args, 1).unwrap_or_default();
    Ok(Some(Val::Num(parse_integer(&s, &picture)?)))
}

fn format_base_fn<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = num_arg(&args, 0) else {
        return Ok(None);
    };
    Ok(Some(Val::str(format_base(v, num_arg(&args, 1))?)))
}
