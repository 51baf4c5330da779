//! `States.Hash`.

use super::encoding::check_length;
use super::{string_arg, Args};
use crate::functions::HASH_ALGORITHMS as ALGORITHMS;
use serde_json::Value;

/// `States.Hash(data, algorithm)`: the lowercase hex digest of the UTF-8
/// bytes of `data` (a string of at most 10,000 characters); `algorithm` is
/// one of `MD5`, `SHA-1`, `SHA-256`, `SHA-384`, `SHA-512`.
///
/// ```text
/// input:  {"data": "input data", "algorithm": "MD5"}
/// "output.$": "States.Hash($.data, $.algorithm)"
/// output: {"output": "812f45842bc6d66ee14572ce20db8e86"}
/// ```
pub fn hash(args: &mut Args<'_>) -> Result<Value, String> {
    let data = string_arg(args, 0)?;
    let algorithm = string_arg(args, 1)?;
    check_length(data)?;
    crate::functions::hash_hex(algorithm, data.as_bytes())
        .map(Value::String)
        .ok_or_else(|| {
            format!(
                "unsupported algorithm `{algorithm}`; expected one of {}",
                ALGORITHMS.join(", ")
            )
        })
}
