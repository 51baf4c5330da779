//! `States.MathAdd`, `States.MathRandom`.

use super::{integer_arg, ordinal, Args};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// An integer argument of `States.MathAdd`: rounded, and within the range
/// AWS documents (that of a 32-bit integer).
fn int32_arg(args: &Args<'_>, index: usize) -> Result<i64, String> {
    let n = integer_arg(args, index)?;
    if i32::try_from(n).is_err() {
        return Err(format!(
            "the {} argument {n} is out of range ({} to {})",
            ordinal(index),
            i32::MIN,
            i32::MAX
        ));
    }
    Ok(n)
}

/// `States.MathAdd(a, b)`: the integer sum of two numbers, each first
/// rounded half up (towards positive infinity) to an integer that must lie
/// within -2147483648 to 2147483647.
///
/// ```text
/// input:  {"value": 111, "step": -1}
/// "sum.$": "States.MathAdd($.value, $.step)"
/// output: {"sum": 110}
/// "sum.$": "States.MathAdd(1.5, -2.5)"
/// output: {"sum": 0}
/// ```
pub fn add(args: &mut Args<'_>) -> Result<Value, String> {
    let a = int32_arg(args, 0)?;
    let b = int32_arg(args, 1)?;
    Ok(Value::from(a + b))
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
pub fn random(args: &mut Args<'_>) -> Result<Value, String> {
    let start = integer_arg(args, 0)?;
    let end = integer_arg(args, 1)?;
    if start >= end {
        return Err(format!(
            "the start ({start}) must be less than the end ({end})"
        ));
    }
    let value = if args.len() > 2 {
        let seed = integer_arg(args, 2)?;
        StdRng::seed_from_u64(seed as u64).gen_range(start..end)
    } else {
        rand::thread_rng().gen_range(start..end)
    };
    Ok(Value::from(value))
}
