//! Reading JSON text to any depth up to a limit, without overflowing the
//! stack: shallow text is parsed where it is (the common case, one pass),
//! deep text on a thread with a stack sized for it.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::Cell;
use std::fmt;

/// Why JSON text could not be read.
#[derive(Debug)]
pub(crate) enum TextError {
    /// Arrays/objects nested deeper than the limit (given).
    TooDeep(usize),
    /// Not JSON.
    Syntax(serde_json::Error),
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::TooDeep(max) => write!(
                f,
                "arrays and objects are nested more than {max} levels deep"
            ),
            TextError::Syntax(e) => e.fmt(f),
        }
    }
}

/// Reads JSON text nested up to `max_depth` levels (serde_json alone stops
/// at 128). Text nested up to [`INLINE_PARSE_DEPTH`] levels is parsed on
/// the caller's stack in one pass, the parser stopping at the first level
/// past it. Any other text (deeper, or not JSON) is first scanned for its
/// depth without recursion: past `max_depth` it is refused before the
/// recursive parser sees it (even when it is not JSON either), and deeper
/// text within the limit is parsed on a thread with a stack sized for it.
pub(crate) fn from_text(text: &str, max_depth: usize) -> Result<Value, TextError> {
    let past = Cell::new(false);
    let inline = parse_within(text, max_depth.min(INLINE_PARSE_DEPTH), &past);
    if let Ok(value) = inline {
        return Ok(value);
    }
    let depth = text_depth(text.as_bytes(), max_depth).ok_or(TextError::TooDeep(max_depth))?;
    if !past.get() {
        // not JSON, and not too deep: the parser's own error
        return inline.map_err(TextError::Syntax);
    }
    // serde_json's parser recurses per level (a few KiB each in a debug
    // build): deep text is read on a thread with a stack sized for it
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("stepfn-json".into())
            .stack_size(PARSE_STACK_BASE + depth * PARSE_STACK_PER_LEVEL)
            .spawn_scoped(scope, || {
                parse_within(text, depth, &Cell::new(false)).map_err(TextError::Syntax)
            })
            .map_err(|e| {
                TextError::Syntax(de::Error::custom(format!(
                    "cannot start a parser thread: {e}"
                )))
            })?
            .join()
            .unwrap_or_else(|_| {
                Err(TextError::Syntax(de::Error::custom(
                    "the JSON parser failed",
                )))
            })
    })
}

/// Text nested up to this depth is parsed on the caller's stack.
const INLINE_PARSE_DEPTH: usize = 64;
/// The stack of a parser thread: a base and a share per level of nesting.
const PARSE_STACK_BASE: usize = 1 << 20;
const PARSE_STACK_PER_LEVEL: usize = 16 << 10;

/// Parses `text` as one JSON value whose arrays and objects nest up to
/// `levels` deep; at the first level past it the parse stops with an error
/// and `past` is set.
fn parse_within(text: &str, levels: usize, past: &Cell<bool>) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    // the levels are counted here, not by serde_json (which stops at 128)
    de.disable_recursion_limit();
    let value = Within { levels, past }.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Builds a [`Value`] as serde_json's own deserializer does, with `levels`
/// levels of arrays and objects still allowed.
#[derive(Clone, Copy)]
struct Within<'a> {
    levels: usize,
    past: &'a Cell<bool>,
}

impl Within<'_> {
    /// The seed of the values one level down, or the error of going past
    /// the last level.
    fn down<E: de::Error>(self) -> Result<Self, E> {
        match self.levels.checked_sub(1) {
            Some(levels) => Ok(Within { levels, ..self }),
            None => {
                self.past.set(true);
                Err(E::custom("nested too deep"))
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for Within<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Within<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.down()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let inner = self.down()?;
        let mut map = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            let value = entries.next_value_seed(inner)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// How deep `[`/`{` nest in `text`, outside strings, or `None` past `max`
/// (the text need not be valid JSON: the parser judges that afterwards).
pub(super) fn text_depth(text: &[u8], max: usize) -> Option<usize> {
    let mut deepest = 0usize;
    let mut depth = 0usize;
    // one pass, no state kept between bytes: a string is skipped in a loop
    // of its own
    let mut bytes = text.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'"' => {
                while let Some(&c) = bytes.next() {
                    match c {
                        b'"' => break,
                        b'\\' => {
                            bytes.next();
                        }
                        _ => {}
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return None;
                }
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Some(deepest)
}
