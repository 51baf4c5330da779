//! AWS Step Functions' own JSONata functions (../shared/reference/jsonata-aws.md,
//! ../shared/reference/asl-semantics.md §1.10): `$partition`, `$range`,
//! `$hash`, `$uuid`, `$parse`. `$eval`, which AWS does not offer, is not
//! bound at all: calling it is `T1006` (`Attempted to invoke a
//! non-function`), as AWS answers it (floci issue #2737, measured).
//! (`$random([seed])` is in numeric.rs.)

use super::{arg, num_arg, str_arg, Args, Entry, Focus};
use crate::jsonata::error::Raw;
use crate::jsonata::eval::value::{Obj, Val};
use crate::jsonata::eval::{Ev, R};
use serde_json::Value;

pub(crate) const TABLE: &[Entry] = &[
    ("partition", "<an:a>", 2, partition),
    ("range", "<nnn?:a>", 3, range),
    ("hash", "<s-s?:s>", 2, hash),
    ("uuid", "<:s>", 0, uuid),
    ("parse", "<s-:j>", 1, parse),
];

fn bad(message: String) -> Raw {
    Raw::new("D3200").msg(message)
}

/// `$partition(array, size)`: chunks of `size`, the last one possibly shorter
/// (AWS: `$partition([0,1,2,3],4)` → `[[0,1,2,3]]`).
fn partition<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(arr) = arg(&args, 0) else {
        return Ok(None);
    };
    let size = num_arg(&args, 1).unwrap_or(0.0);
    if !(size >= 1.0 && size.fract() == 0.0) {
        return Err(bad(format!(
            "The size argument of $partition must be a positive integer, but was {size}"
        )));
    }
    let items = arr.items();
    ev.check_size(items.len())?;
    let size = size.min(items.len().max(1) as f64) as usize;
    let chunks = crate::functions::partition(&items, size)
        .into_iter()
        .map(Val::array)
        .collect();
    Ok(Some(Val::array(chunks)))
}

/// `$range(start, end, step)`: end inclusive, negative steps allowed; a single
/// number comes back as a scalar (AWS: `$range(1,9,9)` → `1`).
/// `$range(start, end, step)`: as `States.ArrayRange`, integers from
/// `start` towards `end` by `step` (default 1), `end` included when a step
/// lands on it (AWS: `$range(0,10,3)` → `[0,3,6,9]`); arguments are rounded
/// to integers, as ArrayRange rounds them.
fn range<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let (Some(start), Some(end)) = (num_arg(&args, 0), num_arg(&args, 1)) else {
        return Ok(None);
    };
    let step = num_arg(&args, 2).unwrap_or(1.0);
    let integer = |x: f64| (x.is_finite() && x.abs() < 9.0e15).then(|| x.round() as i64);
    let (Some(start), Some(end), Some(step)) = (integer(start), integer(end), integer(step)) else {
        return Err(bad(format!(
            "The arguments of $range must be finite numbers, but were {start}, {end} and {step}"
        )));
    };
    if step == 0 {
        return Err(bad(
            "The step argument of $range must be a non-zero number, but was 0".to_owned(),
        ));
    }
    let count = crate::functions::range_len(start, end, step);
    if count == 0 {
        return Ok(None);
    }
    ev.check_size(usize::try_from(count).unwrap_or(usize::MAX))?;
    let out = crate::functions::range(start, end, step)
        .map(|n| Val::Num(n as f64))
        .collect();
    Ok(Some(Val::seq(out)))
}

fn hash<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let alg = str_arg(&args, 1).unwrap_or_else(|| "SHA-256".into());
    match crate::functions::hash_hex(&alg, v.as_bytes()) {
        Some(out) => Ok(Some(Val::str(out))),
        None => Err(bad(format!(
            "The hashing algorithm {alg:?} is not supported; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
        ))),
    }
}

/// `$uuid()`: a version 4 UUID from the evaluation's random source.
fn uuid<'a>(ev: &Ev<'a>, _: &Focus<'a>, _: Args<'a>) -> R<Option<Val<'a>>> {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&ev.next_u64().to_le_bytes());
    b[8..].copy_from_slice(&ev.next_u64().to_le_bytes());
    Ok(Some(Val::str(crate::functions::uuid_v4(b))))
}

pub(crate) fn from_json<'a>(v: &Value, depth: usize) -> R<Val<'a>> {
    if depth > 1_000 {
        return Err(bad("$parse: the JSON is nested too deeply".into()));
    }
    Ok(match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Val::str(s.as_str()),
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for i in a {
                out.push(from_json(i, depth + 1)?);
            }
            Val::array(out)
        }
        Value::Object(m) => {
            let mut o = Obj::with_capacity(m.len());
            for (k, i) in m {
                o.insert(k.clone(), from_json(i, depth + 1)?);
            }
            Val::obj(o)
        }
    })
}

/// `$parse(json)`: the value a JSON string holds (AWS's replacement for `$eval`).
fn parse<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(s) = str_arg(&args, 0) else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(&s) {
        Ok(v) => Ok(Some(from_json(&v, 0)?)),
        Err(e) => Err(Raw::new("D3201").msg(format!(
            "Unable to parse the argument of $parse as JSON: {e}"
        ))),
    }
}
