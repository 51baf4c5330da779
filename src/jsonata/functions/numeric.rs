//! Numeric functions: `$number`, `$floor`, `$ceil`, `$round`, `$abs`, `$sqrt`,
//! `$power`, `$random` (with AWS's optional seed).

use super::{arg, num, num_arg, Args, Entry, Focus};
use crate::jsonata::error::Raw;
use crate::jsonata::eval::value::{js_number, Val};
use crate::jsonata::eval::{Ev, R};
use serde_json::Value;

pub(crate) const TABLE: &[Entry] = &[
    ("number", "<(nsb)-:n>", 1, number),
    ("floor", "<n-:n>", 1, floor),
    ("ceil", "<n-:n>", 1, ceil),
    ("round", "<n-n?:n>", 2, round),
    ("abs", "<n-:n>", 1, abs),
    ("sqrt", "<n-:n>", 1, sqrt),
    ("power", "<n-n:n>", 2, power),
    // AWS Step Functions: `$random([seed])`, the same seed giving the same number
    // (../shared/reference/jsonata-aws.md).
    ("random", "<n?:n>", 0, random),
];

fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == f {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    i == b.len()
}

fn radix_literal(s: &str) -> Option<f64> {
    let (radix, digits) = match s.get(..2)? {
        "0x" | "0X" => (16, &s[2..]),
        "0o" | "0O" => (8, &s[2..]),
        "0b" | "0B" => (2, &s[2..]),
        _ => return None,
    };
    if digits.is_empty() {
        return None;
    }
    let mut n = 0f64;
    for c in digits.chars() {
        n = n * radix as f64 + c.to_digit(radix)? as f64;
    }
    Some(n)
}

fn number<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = arg(&args, 0) else {
        return Ok(None);
    };
    if let Some(n) = v.as_num() {
        return num(n);
    }
    if let Some(b) = v.as_bool() {
        return num(if b { 1.0 } else { 0.0 });
    }
    if let Some(s) = v.as_str() {
        if is_decimal(s) {
            if let Ok(n) = s.parse::<f64>() {
                if n.is_finite() {
                    return num(n);
                }
            }
        }
        if let Some(n) = radix_literal(s) {
            return num(n);
        }
    }
    Err(Raw::new("D3030").idx(1).val(v.to_json_lossy()))
}

fn unary<'a>(args: &Args<'a>, f: fn(f64) -> f64) -> R<Option<Val<'a>>> {
    match num_arg(args, 0) {
        Some(n) => num(f(n)),
        None => Ok(None),
    }
}

fn floor<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    unary(&args, f64::floor)
}

fn ceil<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    unary(&args, f64::ceil)
}

fn abs<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    unary(&args, f64::abs)
}

fn sqrt<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(n) = num_arg(&args, 0) else {
        return Ok(None);
    };
    if n < 0.0 {
        return Err(Raw::new("D3060").idx(1).val(Value::from(n)));
    }
    num(n.sqrt())
}

fn power<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(b) = num_arg(&args, 0) else {
        return Ok(None);
    };
    let e = num_arg(&args, 1).unwrap_or(f64::NAN);
    let r = b.powf(e);
    if !r.is_finite() {
        return Err(Raw::new("D3061")
            .idx(1)
            .val(Value::from(b))
            .val2(Value::from(e)));
    }
    num(r)
}

/// `Number(mantissa + "e" + (exponent + shift))`, JavaScript's decimal shift.
fn shift(x: f64, by: f64) -> f64 {
    let s = js_number(x);
    let (m, e) = match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<f64>().unwrap_or(0.0)),
        None => (s, 0.0),
    };
    format!("{m}e{}", e + by).parse().unwrap_or(f64::NAN)
}

/// Round half to even at `precision` decimal places, as jsonata-js does.
pub(crate) fn round_half_even(arg: f64, precision: f64) -> f64 {
    let p = precision.trunc();
    let mut x = arg;
    if p != 0.0 {
        x = shift(x, p);
    }
    let mut r = (x + 0.5).floor();
    let diff = r - x;
    if diff.abs() == 0.5 && (r % 2.0).abs() == 1.0 {
        r -= 1.0;
    }
    if p != 0.0 {
        r = shift(r, -p);
    }
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

fn round<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(n) = num_arg(&args, 0) else {
        return Ok(None);
    };
    num(round_half_even(n, num_arg(&args, 1).unwrap_or(0.0)))
}

fn random<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match num_arg(&args, 0) {
        Some(seed) => {
            let mut z = seed.to_bits().wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            num((z >> 11) as f64 / (1u64 << 53) as f64)
        }
        None => num(ev.next_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_even() {
        assert_eq!(round_half_even(2.5, 0.0), 2.0);
        assert_eq!(round_half_even(3.5, 0.0), 4.0);
        assert_eq!(round_half_even(-0.5, 0.0), 0.0);
        assert_eq!(round_half_even(1.23456, 2.0), 1.23);
        assert_eq!(round_half_even(12345.0, -2.0), 12300.0);
        assert_eq!(round_half_even(4.525, 2.0), 4.52);
    }
}
