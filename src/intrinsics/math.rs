//! `States.MathAdd`, `States.MathRandom`.

use super::{number_arg, ordinal, Args};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// Rounds a number argument to an integer as Java's `Math.round` does:
/// halves go up, towards positive infinity (`2.5` → `3`, `-2.5` → `-2`).
fn rounded_arg(args: &Args<'_>, index: usize) -> Result<i64, String> {
    let n = number_arg(args, index)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    let too_big = || format!("the {} argument {n} is out of range", ordinal(index));
    if n.is_u64() {
        return Err(too_big());
    }
    let f = n.as_f64().ok_or_else(too_big)?;
    let floor = f.floor();
    let rounded = if f - floor >= 0.5 { floor + 1.0 } else { floor };
    if rounded >= i64::MIN as f64 && rounded < i64::MAX as f64 {
        Ok(rounded as i64)
    } else {
        Err(too_big())
    }
}

/// `States.MathAdd(a, b)`: the integer sum of two numbers, each first
/// rounded half up (towards positive infinity) to an integer.
///
/// ```text
/// input:  {"value": 111, "step": -1}
/// "sum.$": "States.MathAdd($.value, $.step)"
/// output: {"sum": 110}
/// "sum.$": "States.MathAdd(1.5, -2.5)"
/// output: {"sum": 0}
/// ```
pub fn add(args: Args<'_>) -> Result<Value, String> {
    let a = rounded_arg(&args, 0)?;
    let b = rounded_arg(&args, 1)?;
    a.checked_add(b)
        .map(Value::from)
        .ok_or_else(|| format!("the sum of {a} and {b} is out of range"))
}

/// `States.MathRandom(start, end[, seed])`: a random integer from `start`
/// (included) to `end` (excluded); non-integer bounds are rounded first. With
/// an integer `seed` the result is the same on every call (but not the number
/// AWS would pick for that seed).
///
/// ```text
/// input:  {"start": 1, "end": 999}
/// "random.$": "States.MathRandom($.start, $.end)"
/// output: {"random": 456}
/// ```
pub fn random(args: Args<'_>) -> Result<Value, String> {
    let start = rounded_arg(&args, 0)?;
    let end = rounded_arg(&args, 1)?;
    if start >= end {
        return Err(format!(
            "the start ({start}) must be less than the end ({end})"
        ));
    }
    let value = if args.len() > 2 {
        let seed = rounded_arg(&args, 2)?;
        StdRng::seed_from_u64(seed as u64).gen_range(start..end)
    } else {
        rand::thread_rng().gen_range(start..end)
    };
    Ok(Value::from(value))
}
