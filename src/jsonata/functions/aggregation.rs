//! Aggregation functions: `$sum`, `$count`, `$max`, `$min`, `$average`.

use super::{arg, num, Args, Entry, Focus};
use crate::jsonata::eval::value::Val;
use crate::jsonata::eval::{Ev, R};

pub(crate) const TABLE: &[Entry] = &[
    ("sum", "<a<n>:n>", 1, sum),
    ("count", "<a:n>", 1, count),
    ("max", "<a<n>:n>", 1, max),
    ("min", "<a<n>:n>", 1, min),
    ("average", "<a<n>:n>", 1, average),
];

fn nums(args: &Args<'_>) -> Option<Vec<f64>> {
    arg(args, 0).map(|v| v.items().iter().filter_map(Val::as_num).collect())
}

fn sum<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match nums(&args) {
        Some(v) => num(v.iter().sum()),
        None => Ok(None),
    }
}

fn count<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    num(arg(&args, 0).map(|v| v.len()).unwrap_or(0) as f64)
}

fn max<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match nums(&args) {
        Some(v) if !v.is_empty() => num(v.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        _ => Ok(None),
    }
}

fn min<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match nums(&args) {
        Some(v) if !v.is_empty() => num(v.iter().copied().fold(f64::INFINITY, f64::min)),
        _ => Ok(None),
    }
}

fn average<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match nums(&args) {
        Some(v) if !v.is_empty() => num(v.iter().sum::<f64>() / v.len() as f64),
        _ => Ok(None),
    }
}
