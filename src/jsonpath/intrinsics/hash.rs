//! `States.Hash`.

use super::encoding::check_length;
use super::{string_arg, Args};
use md5::Md5;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The algorithm names `States.Hash` accepts, as written in ASL.
pub const ALGORITHMS: [&str; 5] = ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"];

/// `States.Hash(data, algorithm)`: the lowercase hex digest of the UTF-8
/// bytes of `data` (a string of at most 10,000 characters); `algorithm` is
/// one of `MD5`, `SHA-1`, `SHA-256`, `SHA-384`, `SHA-512`.
///
/// ```text
/// input:  {"data": "input data", "algorithm": "MD5"}
/// "output.$": "States.Hash($.data, $.algorithm)"
/// output: {"output": "812f45842bc6d66ee14572ce20db8e86"}
/// ```
pub fn hash(args: Args<'_>) -> Result<Value, String> {
    let data = string_arg(&args, 0)?;
    let algorithm = string_arg(&args, 1)?;
    check_length(data)?;
    let bytes = data.as_bytes();
    let digest = match algorithm {
        "MD5" => Md5::digest(bytes).to_vec(),
        "SHA-1" => Sha1::digest(bytes).to_vec(),
        "SHA-256" => Sha256::digest(bytes).to_vec(),
        "SHA-384" => Sha384::digest(bytes).to_vec(),
        "SHA-512" => Sha512::digest(bytes).to_vec(),
        other => {
            return Err(format!(
                "unsupported algorithm `{other}`; expected one of {}",
                ALGORITHMS.join(", ")
            ))
        }
    };
    Ok(Value::String(hex(&digest)))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}
