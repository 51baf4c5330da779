//! `States.StringToJson`, `States.JsonToString`, `States.JsonMerge`.

use super::{arg, string_arg, wrong_type, Args};
use serde_json::Value;

/// `States.StringToJson(string)`: parses JSON text. An empty or blank
/// string gives `null`.
///
/// ```text
/// input:  {"escaped": "{\"foo\": \"bar\"}"}
/// "unescaped.$": "States.StringToJson($.escaped)"
/// output: {"unescaped": {"foo": "bar"}}
/// ```
pub fn string_to_json(args: &mut Args<'_>) -> Result<Value, String> {
    let text = string_arg(args, 0)?.trim();
    if text.is_empty() {
        return Ok(Value::Null);
    }
    let value = crate::json::from_text(text, crate::json::MAX_TEXT_DEPTH)
        .map_err(|e| format!("the string is not valid JSON: {e}"))?;
    Ok(match value {
        // `-0` parses as the float -0.0; AWS answers 0
        Value::Number(n)
            if n.as_f64() == Some(0.0) && n.is_f64() && !text.contains(['.', 'e', 'E']) =>
        {
            Value::from(0)
        }
        other => other,
    })
}

/// `States.JsonToString(value)`: the value as compact JSON text, object keys
/// in their order.
///
/// ```text
/// input:  {"unescaped": {"foo": "bar", "n": [1, 2]}}
/// "escaped.$": "States.JsonToString($.unescaped)"
/// output: {"escaped": "{\"foo\":\"bar\",\"n\":[1,2]}"}
/// ```
pub fn json_to_string(args: &mut Args<'_>) -> Result<Value, String> {
    let value = arg(args, 0)?;
    serde_json::to_string(value)
        .map(Value::String)
        .map_err(|e| format!("the value cannot be written as JSON: {e}"))
}

/// `States.JsonToString` with its text held to `cap` bytes: `None` when
/// the text would pass them (the writing stops there: no text longer than
/// `cap` is ever held, and the value is walked once), else the result.
pub(crate) fn json_to_string_within(args: &Args<'_>, cap: usize) -> Result<Option<Value>, String> {
    let value = arg(args, 0)?;
    let mut out = Capped {
        text: Vec::new(),
        cap,
    };
    match serde_json::to_writer(&mut out, value) {
        Ok(()) => {}
        Err(e) if e.is_io() => return Ok(None),
        Err(e) => return Err(format!("the value cannot be written as JSON: {e}")),
    }
    String::from_utf8(out.text)
        .map(|text| Some(Value::String(text)))
        .map_err(|e| format!("the value cannot be written as JSON: {e}"))
}

/// A byte buffer that refuses to grow past `cap` bytes.
struct Capped {
    text: Vec<u8>,
    cap: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if buf.len() > self.cap - self.text.len() {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        self.text.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `States.JsonMerge(left, right, false)`: a shallow merge of two objects;
/// on a key present in both, the right value wins (in the left key's
/// position). The third argument must be `false`: deep merging is not
/// supported. The arguments are not modified.
///
/// ```text
/// input:  {"a": {"x": 1, "both": "left"}, "b": {"both": "right", "y": 2}}
/// "merged.$": "States.JsonMerge($.a, $.b, false)"
/// output: {"merged": {"x": 1, "both": "right", "y": 2}}
/// ```
pub fn json_merge(args: &mut Args<'_>) -> Result<Value, String> {
    match arg(args, 2)? {
        Value::Bool(false) => {}
        Value::Bool(true) => {
            return Err(
                "only shallow merging is supported: the third argument must be false".to_owned(),
            )
        }
        other => return Err(wrong_type(2, "a boolean", other)),
    }
    for index in [0, 1] {
        let value = arg(args, index)?;
        if !value.is_object() {
            return Err(wrong_type(index, "an object", value));
        }
    }
    let mut take = |index: usize| args.get_mut(index).map(|a| std::mem::take(a).into_owned());
    match (take(0), take(1)) {
        (Some(Value::Object(mut left)), Some(Value::Object(right))) => {
            for (key, value) in right {
                left.insert(key, value);
            }
            Ok(Value::Object(left))
        }
        _ => Err("both arguments must be objects".to_owned()),
    }
}
