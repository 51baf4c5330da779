//! Picture-string number functions: `$formatNumber`, `$formatInteger`,
//! `$parseInteger`, `$formatBase`.
//!
//! The picture engines are in [`super::pictures`]; this file registers them
//! and converts the arguments.

use super::{arg, num_arg, str_arg, Args, Entry, Focus};
use crate::jsonata::eval::value::{to_json, Val};
use crate::jsonata::eval::{Ev, R};
use serde_json::Value;

pub(crate) const TABLE: &[Entry] = &[
    ("formatNumber", "<n-so?:s>", 3, format_number_fn),
    ("formatInteger", "<n-s:s>", 2, format_integer_fn),
    ("parseInteger", "<s-s:n>", 2, parse_integer_fn),
    ("formatBase", "<n-n?:s>", 2, format_base_fn),
];

use super::pictures::format::{format_base, format_integer, format_number, parse_integer};

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
    Ok(parse_integer(&s, &picture)?.map(Val::Num))
}

fn format_base_fn<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = num_arg(&args, 0) else {
        return Ok(None);
    };
    Ok(Some(Val::str(format_base(v, num_arg(&args, 1))?)))
}
