//! Higher-order functions: `$map`, `$filter`, `$single`, `$reduce`.

use super::{arg, Args, Entry, Focus};
use crate::jsonata::error::Raw;
use crate::jsonata::eval::call::arity;
use crate::jsonata::eval::value::{boolean, Val};
use crate::jsonata::eval::{Ev, R};

pub(crate) const TABLE: &[Entry] = &[
    ("map", "<af>", 2, map),
    ("filter", "<af>", 2, filter),
    ("single", "<af?>", 2, single),
    ("reduce", "<afj?:j>", 3, reduce),
];

fn hof_args<'a>(f: &Val<'a>, v: Val<'a>, i: usize, arr: &Val<'a>) -> Vec<Option<Val<'a>>> {
    let n = arity(f);
    let mut a = vec![Some(v)];
    if n >= 2 {
        a.push(Some(Val::Num(i as f64)));
    }
    if n >= 3 {
        a.push(Some(arr.clone()));
    }
    a
}

fn map<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(arr) = arg(&args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(&args, 1) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (i, v) in arr.items().into_iter().enumerate() {
        if let Some(r) = ev.call_fn(f, hof_args(f, v, i, arr), &focus.env)? {
            out.push(r);
        }
    }
    Ok(Some(Val::seq(out)))
}

fn filter<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(arr) = arg(&args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(&args, 1) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (i, v) in arr.items().into_iter().enumerate() {
        let r = ev.call_fn(f, hof_args(f, v.clone(), i, arr), &focus.env)?;
        if boolean(r.as_ref()) == Some(true) {
            out.push(v);
        }
    }
    Ok(Some(Val::seq(out)))
}

fn single<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(arr) = arg(&args, 0) else {
        return Ok(None);
    };
    let f = arg(&args, 1);
    let mut found = None;
    for (i, v) in arr.items().into_iter().enumerate() {
        let ok = match f {
            Some(f) => {
                boolean(
                    ev.call_fn(f, hof_args(f, v.clone(), i, arr), &focus.env)?
                        .as_ref(),
                ) == Some(true)
            }
            None => true,
        };
        if ok {
            if found.is_some() {
                return Err(Raw::new("D3138").idx(i));
            }
            found = Some(v);
        }
    }
    match found {
        Some(v) => Ok(Some(v)),
        None => Err(Raw::new("D3139")),
    }
}

fn reduce<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(arr) = arg(&args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(&args, 1) else {
        return Ok(None);
    };
    let n = arity(f);
    if n < 2 {
        return Err(Raw::new("D3050").idx(1));
    }
    let items = arr.items();
    let init = arg(&args, 2).cloned();
    let (mut acc, start) = match init {
        None if !items.is_empty() => (items.first().cloned(), 1),
        other => (other, 0),
    };
    for (i, v) in items.iter().enumerate().skip(start) {
        let mut a = vec![acc, Some(v.clone())];
        if n >= 3 {
            a.push(Some(Val::Num(i as f64)));
        }
        if n >= 4 {
            a.push(Some(arr.clone()));
        }
        acc = ev.call_fn(f, a, &focus.env)?;
    }
    Ok(acc)
}
