//! Object functions: `$keys`, `$lookup`, `$spread`, `$merge`, `$each`,
//! `$sift`, `$type`, `$error`, `$assert`, `$clone`.

use super::{arg, str_arg, Args, Entry, Focus};
use crate::jsonata::error::Raw;
use crate::jsonata::eval::call::arity;
use crate::jsonata::eval::path::lookup as lookup_key;
use crate::jsonata::eval::transform::deep_copy;
use crate::jsonata::eval::value::{boolean, Obj, Val};
use crate::jsonata::eval::{Ev, R};

pub(crate) const TABLE: &[Entry] = &[
    ("keys", "<x-:a<s>>", 1, keys),
    ("lookup", "<x-s:x>", 2, lookup),
    ("spread", "<x-:a<o>>", 1, spread),
    ("merge", "<a<o>:o>", 1, merge),
    ("each", "<o-f:a>", 2, each),
    ("sift", "<o-f?:o>", 2, sift),
    ("type", "<x:s>", 1, type_),
    ("error", "<s?:x>", 1, error),
    ("assert", "<bs?:x>", 2, assert),
    ("clone", "<(oa)-:o>", 1, clone),
];

fn key_list(v: &Val<'_>, out: &mut Vec<String>) {
    if v.is_array() {
        for i in v.items() {
            if i.is_object() {
                for k in i.keys() {
                    if !out.contains(&k) {
                        out.push(k);
                    }
                }
            }
        }
    } else {
        out.extend(v.keys());
    }
}

fn keys<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let mut out = Vec::new();
    if let Some(v) = arg(&args, 0) {
        key_list(v, &mut out);
    }
    Ok(Some(Val::seq(
        out.into_iter().map(|k| Val::str(k.as_ref())).collect(),
    )))
}

fn lookup<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let key = str_arg(&args, 1).unwrap_or_default();
    Ok(lookup_key(arg(&args, 0), &key))
}

fn spread_one<'a>(v: &Val<'a>, out: &mut Vec<Val<'a>>) {
    if v.is_object() {
        for (k, m) in v.entries() {
            let mut o = Obj::new();
            o.insert(k, m);
            out.push(Val::obj(o));
        }
    } else {
        out.push(v.clone());
    }
}

fn spread<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = arg(&args, 0) else {
        return Ok(None);
    };
    if v.is_array() {
        let mut out = Vec::new();
        for i in v.items() {
            spread_one(&i, &mut out);
        }
        return Ok(Some(Val::array(out)));
    }
    if v.is_object() {
        let mut out = Vec::new();
        spread_one(v, &mut out);
        return Ok(Some(Val::seq(out)));
    }
    Ok(Some(v.clone()))
}

fn merge<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = arg(&args, 0) else {
        return Ok(None);
    };
    let mut o = Obj::new();
    let mut add = |i: &Val<'a>| match i {
        Val::Obj(m) => o.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
        Val::Ref(serde_json::Value::Object(m)) => {
            o.extend(m.iter().map(|(k, v)| (k.as_str(), Val::Ref(v))));
        }
        _ => {}
    };
    match v {
        Val::Arr(a) => a.items.iter().for_each(&mut add),
        Val::Ref(serde_json::Value::Array(items)) => {
            items.iter().for_each(|i| add(&Val::Ref(i)));
        }
        Val::Tuples(_) => v.items().iter().for_each(&mut add),
        _ => {}
    }
    Ok(Some(Val::obj(o)))
}

fn hof_args<'a>(
    f: &Val<'a>,
    value: Val<'a>,
    key: Val<'a>,
    whole: &Val<'a>,
) -> Vec<Option<Val<'a>>> {
    let n = arity(f);
    let mut a = vec![Some(value)];
    if n >= 2 {
        a.push(Some(key));
    }
    if n >= 3 {
        a.push(Some(whole.clone()));
    }
    a
}

fn each<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(o) = arg(&args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(&args, 1) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (k, v) in o.entries() {
        if let Some(r) = ev.call_fn(f, hof_args(f, v, Val::str(k.as_ref()), o), &focus.env)? {
            out.push(r);
        }
    }
    Ok(Some(Val::seq(out)))
}

fn sift<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(o) = arg(&args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(&args, 1) else {
        return Ok(None);
    };
    let mut out = Obj::new();
    for (k, v) in o.entries() {
        let r = ev.call_fn(
            f,
            hof_args(f, v.clone(), Val::str(k.as_ref()), o),
            &focus.env,
        )?;
        if boolean(r.as_ref()) == Some(true) {
            out.insert(k, v);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(Val::obj(out)))
}

fn type_<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = arg(&args, 0) else {
        return Ok(None);
    };
    let t = match v.type_symbol() {
        b'l' => "null",
        b'n' => "number",
        b's' => "string",
        b'b' => "boolean",
        b'a' => "array",
        b'f' => "function",
        _ => "object",
    };
    Ok(Some(Val::str(t)))
}

fn error<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let m = str_arg(&args, 0).unwrap_or_else(|| "$error() function evaluated".into());
    Err(Raw::new("D3137").msg(m))
}

fn assert<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    if arg(&args, 0).and_then(Val::as_bool) != Some(true) {
        let m = str_arg(&args, 1).unwrap_or_else(|| "$assert() statement failed".into());
        return Err(Raw::new("D3141").msg(m));
    }
    Ok(None)
}

fn clone<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match arg(&args, 0) {
        Some(v) => Ok(Some(deep_copy(v, 0, &mut ev.limits.max_items.clone())?)),
        None => Ok(None),
    }
}
