//! AWS Step Functions' own JSONata functions (../shared/reference/jsonata-aws.md,
//! ../shared/reference/asl-semantics.md §1.10): `$partition`, `$range`,
//! `$hash`, `$uuid`, `$parse`; and `$eval`, which AWS does not offer.
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
    ("eval", "<sx?:x>", 2, eval),
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
    let chunks = items
        .chunks(size.min(items.len().max(1) as f64) as usize)
        .map(|c| Val::array(c.to_vec()))
        .collect();
    Ok(Some(Val::array(chunks)))
}

/// `$range(start, end, step)`: end inclusive, negative steps allowed; a single
/// number comes back as a scalar (AWS: `$range(1,9,9)` → `1`).
fn range<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let (Some(start), Some(end)) = (num_arg(&args, 0), num_arg(&args, 1)) else {
        return Ok(None);
    };
    let step = num_arg(&args, 2).unwrap_or(1.0);
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
        return Err(bad(format!(
            "The step argument of $range must be a non-zero number, but was {step}"
        )));
    }
    let count = ((end - start) / step).floor();
    if count < 0.0 {
        return Ok(None);
    }
    ev.check_size(count as usize + 1)?;
    let out = (0..=count as usize)
        .map(|i| Val::Num(start + step * i as f64))
        .collect();
    Ok(Some(Val::seq(out)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `$hash(value, algorithm)`: MD5, SHA-1, SHA-256 (the default), SHA-384, SHA-512, as hex.
fn hash<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    use sha2::Digest;
    let Some(v) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let alg = str_arg(&args, 1).unwrap_or_else(|| "SHA-256".into());
    let b = v.as_bytes();
    let out = match alg.as_str() {
        "MD5" => hex(&md5::Md5::digest(b)),
        "SHA-1" => hex(&sha1::Sha1::digest(b)),
        "SHA-256" => hex(&sha2::Sha256::digest(b)),
        "SHA-384" => hex(&sha2::Sha384::digest(b)),
        "SHA-512" => hex(&sha2::Sha512::digest(b)),
        other => {
            return Err(bad(format!(
                "The hashing algorithm {other:?} is not supported; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
            )))
        }
    };
    Ok(Some(Val::str(out)))
}

/// `$uuid()`: a version 4 UUID from the evaluation's random source.
fn uuid<'a>(ev: &Ev<'a>, _: &Focus<'a>, _: Args<'a>) -> R<Option<Val<'a>>> {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&ev.next_u64().to_le_bytes());
    b[8..].copy_from_slice(&ev.next_u64().to_le_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    let s = format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    );
    Ok(Some(Val::str(s)))
}

/// Owned evaluator values for parsed JSON.
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

fn eval<'a>(_: &Ev<'a>, _: &Focus<'a>, _: Args<'a>) -> R<Option<Val<'a>>> {
    Err(Raw::new("D3202")
        .msg("The $eval function is not supported by AWS Step Functions; use $parse to read JSON"))
}
