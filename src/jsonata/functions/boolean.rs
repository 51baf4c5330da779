//! Boolean functions: `$boolean`, `$not`, `$exists`.

use super::{arg, Args, Entry, Focus};
use crate::jsonata::eval::value::{boolean as truthy, Val};
use crate::jsonata::eval::{Ev, R};

pub(crate) const TABLE: &[Entry] = &[
    ("boolean", "<x-:b>", 1, boolean),
    ("not", "<x-:b>", 1, not),
    ("exists", "<x:b>", 1, exists),
];

fn boolean<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    Ok(truthy(arg(&args, 0)).map(Val::Bool))
}

fn not<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    Ok(truthy(arg(&args, 0)).map(|b| Val::Bool(!b)))
}

fn exists<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    Ok(Some(Val::Bool(arg(&args, 0).is_some())))
}
