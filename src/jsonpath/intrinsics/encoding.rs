//! `States.Base64Encode`, `States.Base64Decode`.

use super::{string_arg, Args};
use base64::DecodeError;
use serde_json::Value;

/// The longest string (in characters) the encoding functions accept.
pub const MAX_INPUT_CHARS: usize = 10_000;

pub(crate) fn check_length(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_INPUT_CHARS {
        return Err(format!(
            "the input has {chars} characters, more than the limit of {MAX_INPUT_CHARS}"
        ));
    }
    Ok(())
}

/// `States.Base64Encode(string)`: the UTF-8 bytes of a string (at most
/// 10,000 characters) in standard, padded base64.
///
/// ```text
/// input:  {"input": "Data to encode"}
/// "base64.$": "States.Base64Encode($.input)"
/// output: {"base64": "RGF0YSB0byBlbmNvZGU="}
/// ```
pub fn base64_encode(args: &mut Args<'_>) -> Result<Value, String> {
    let text = string_arg(args, 0)?;
    check_length(text)?;
    Ok(Value::String(crate::functions::base64_encode(
        text.as_bytes(),
    )))
}

/// `States.Base64Decode(string)`: decodes standard base64 (at most 10,000
/// characters; line breaks and other whitespace are skipped, as in MIME)
/// into a UTF-8 string; invalid UTF-8 sequences become U+FFFD.
///
/// ```text
/// input:  {"base64": "RGF0YSB0byBlbmNvZGU="}
/// "data.$": "States.Base64Decode($.base64)"
/// output: {"data": "Data to encode"}
/// ```
pub fn base64_decode(args: &mut Args<'_>) -> Result<Value, String> {
    let text = string_arg(args, 0)?;
    check_length(text)?;
    let bytes = crate::functions::base64_decode(text).map_err(|e| {
        let what = match e {
            DecodeError::InvalidByte(_, byte) => {
                format!("the character `{}` is not allowed", char::from(byte))
            }
            DecodeError::InvalidLength(_) => "its length is wrong".to_owned(),
            DecodeError::InvalidLastSymbol(_, _) | DecodeError::InvalidPadding => {
                "its padding is wrong".to_owned()
            }
        };
        format!("the input is not valid base64: {what}")
    })?;
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}
