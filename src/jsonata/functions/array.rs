//! Array functions: `$append`, `$reverse`, `$sort`, `$shuffle`, `$distinct`, `$zip`.

use super::{arg, Args, Entry, Focus};
use crate::jsonata::error::Raw;
use crate::jsonata::eval::path::{append as append_values, merge_sort};
use crate::jsonata::eval::value::{deep_equal, Val, SEQ};
use crate::jsonata::eval::{Ev, R};

pub(crate) const TABLE: &[Entry] = &[
    ("append", "<xx:a>", 2, append),
    ("reverse", "<a:a>", 1, reverse),
    ("sort", "<af?:a>", 2, sort),
    ("shuffle", "<a:a>", 1, shuffle),
    ("distinct", "<x:x>", 1, distinct),
    ("zip", "<a+>", 0, zip),
];

fn append<'a>(_: &Ev<'a>, _: &Focus<'a>, mut args: Args<'a>) -> R<Option<Val<'a>>> {
    args.resize(2, None);
    let b = args.pop().flatten();
    let a = args.pop().flatten();
    Ok(append_values(a, b))
}

fn reverse<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = arg(&args, 0) else {
        return Ok(None);
    };
    if v.len() <= 1 {
        return Ok(Some(v.clone()));
    }
    let mut items = v.items();
    items.reverse();
    Ok(Some(Val::array(items)))
}

/// JavaScript truthiness, for a comparator's result.
fn js_truthy(v: &Option<Val<'_>>) -> bool {
    match v {
        None => false,
        Some(v) => match v.norm() {
            Val::Null => false,
            Val::Bool(b) => b,
            Val::Num(n) => n != 0.0 && !n.is_nan(),
            Val::Str(s) => !s.is_empty(),
            _ => true,
        },
    }
}

fn sort<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = arg(&args, 0) else {
        return Ok(None);
    };
    if v.len() <= 1 {
        return Ok(Some(v.clone()));
    }
    let items = v.items();
    let sorted = match arg(&args, 1) {
        Some(f) => merge_sort(items, &mut |a: &Val<'a>, b: &Val<'a>| {
            let r = ev.call_fn(f, vec![Some(a.clone()), Some(b.clone())], &focus.env)?;
            Ok(js_truthy(&r))
        })?,
        None => {
            let all_nums = items.iter().all(|i| i.as_num().is_some());
            let all_strs = items.iter().all(|i| i.as_str().is_some());
            if !all_nums && !all_strs {
                return Err(Raw::new("D3070").idx(1));
            }
            merge_sort(items, &mut |a: &Val<'a>, b: &Val<'a>| {
                Ok(match (a.as_num(), b.as_num()) {
                    (Some(x), Some(y)) => x > y,
                    _ => {
                        a.as_str()
                            .unwrap_or("")
                            .encode_utf16()
                            .cmp(b.as_str().unwrap_or("").encode_utf16())
                            == std::cmp::Ordering::Greater
                    }
                })
            })?
        }
    };
    Ok(Some(Val::array(sorted)))
}

fn shuffle<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = arg(&args, 0) else {
        return Ok(None);
    };
    if v.len() <= 1 {
        return Ok(Some(v.clone()));
    }
    let mut items = v.items();
    for i in (1..items.len()).rev() {
        let j = (ev.next_f64() * (i + 1) as f64).floor() as usize;
        items.swap(i, j.min(i));
    }
    Ok(Some(Val::array(items)))
}

fn distinct<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = arg(&args, 0) else {
        return Ok(None);
    };
    if !v.is_array() || v.len() <= 1 {
        return Ok(Some(v.clone()));
    }
    let mut out: Vec<Val<'a>> = Vec::new();
    for i in v.items() {
        if !out.iter().any(|o| deep_equal(o, &i)) {
            out.push(i);
        }
    }
    Ok(Some(Val::flagged(
        out,
        if v.is_sequence() { SEQ } else { 0 },
    )))
}

fn zip<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let arrays: Vec<Vec<Val<'a>>> = args
        .iter()
        .map(|a| a.as_ref().map(Val::items).unwrap_or_default())
        .collect();
    let len = arrays.iter().map(Vec::len).min().unwrap_or(0);
    let out = (0..len)
        .map(|i| Val::array(arrays.iter().filter_map(|a| a.get(i).cloned()).collect()))
        .collect();
    Ok(Some(Val::array(out)))
}
