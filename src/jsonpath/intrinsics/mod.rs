//! The 18 intrinsic functions (`States.Format`, `States.Hash`, ...): the
//! call grammar, one table of (name, arity, function), the functions.
//!
//! A call is parsed once, when the definition is loaded, into an
//! [`IntrinsicCall`]: the function is looked up in [`FUNCTIONS`], the number
//! of arguments is checked against its [`Arity`], and every argument is
//! already a literal [`Value`], a compiled [`Path`] or a nested call.
//! Evaluating the call then only resolves paths and runs the functions.
//!
//! # Grammar
//!
//! ```text
//! call     = "States." name "(" [ argument { "," argument } ] ")"
//! argument = call | path | string | number | "true" | "false" | "null"
//! path     = "$" ...            (a Path: `$.a`, `$$.Execution.Id`, `$var.x`, `$`)
//! string   = "'" { char | "\'" | "\{" | "\}" | "\\" } "'"
//! ```
//!
//! Whitespace is allowed around arguments. Calls nest at most
//! [`MAX_NESTING`] levels deep. In a string, a backslash must start one of
//! the four escapes (AWS reserves `'`, `{`, `}` and `\`); any other
//! backslash is a syntax error (AWS reports it only when the call runs).
//! Braces need no escape except in the template of `States.Format`, where
//! `\{` and `\}` keep a `{}` from being a placeholder.
//!
//! Where a function wants an integer (`ArrayPartition`, `ArrayRange`,
//! `ArrayGetItem`, `MathRandom`, `MathAdd`), other numbers are rounded as
//! Java's `Math.round` does: halves go up, towards positive infinity.
//!
//! # Errors
//!
//! A call that does not parse, names an unknown function or has the wrong
//! number of arguments is an [`IntrinsicSyntaxError`] at load time. A
//! function that fails at run time (an argument of the wrong type, an index
//! out of bounds, ...) fails the state with `States.IntrinsicFailure` and a
//! cause `<function name>: <what is wrong>`, for example
//! `States.ArrayGetItem: index 5 is out of bounds for an array of length 3`.
//! A path argument that matches nothing fails with `States.Runtime`, as for
//! any other path in a payload template.
//!
//! AWS documents `States.IntrinsicFailure` for failing intrinsics; no
//! recording shows which name real AWS reports, so this is a divergence
//! candidate.

mod array;
mod encoding;
mod hash;
mod json;
mod math;
mod string;
mod unique_id;

use crate::error::StatesError;
use crate::jsonpath::path::{Env, Path};
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::fmt;

/// An intrinsic call that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntrinsicSyntaxError {
    /// The call text.
    pub text: String,
    /// What is wrong, lowercase.
    pub message: String,
}

impl fmt::Display for IntrinsicSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid intrinsic function call `{}`: {}",
            self.text, self.message
        )
    }
}

impl std::error::Error for IntrinsicSyntaxError {}

/// The arguments a function receives: literals are borrowed from the
/// compiled call, path results are borrowed from the data where possible.
/// A function may take an argument's value (leaving a null behind).
pub type Args<'a> = [Cow<'a, Value>];

/// An intrinsic function: its evaluated arguments in, its result or a
/// lowercase description of what is wrong out.
pub type IntrinsicFn = fn(&mut Args<'_>) -> Result<Value, String>;

/// How many arguments a call keeps on the stack; a call with more (only
/// `States.Array` and `States.Format` take any number) puts them in a
/// vector.
const INLINE_ARGS: usize = 4;

/// How many arguments a function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exact(usize),
    /// From `.0` to `.1`, both included.
    Between(usize, usize),
    /// This many or more.
    AtLeast(usize),
}

impl Arity {
    /// True when `n` arguments are allowed.
    pub fn allows(self, n: usize) -> bool {
        match self {
            Arity::Exact(m) => n == m,
            Arity::Between(lo, hi) => (lo..=hi).contains(&n),
            Arity::AtLeast(m) => n >= m,
        }
    }
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match *self {
            Arity::Exact(n) => write!(f, "{n} {}", plural(n)),
            Arity::Between(lo, hi) => write!(f, "{lo} to {hi} arguments"),
            Arity::AtLeast(n) => write!(f, "at least {n} {}", plural(n)),
        }
    }
}

/// Every intrinsic function: name as written in ASL, arity, implementation.
pub static FUNCTIONS: [(&str, Arity, IntrinsicFn); 18] = [
    ("States.Format", Arity::AtLeast(1), string::format),
    ("States.StringToJson", Arity::Exact(1), json::string_to_json),
    ("States.JsonToString", Arity::Exact(1), json::json_to_string),
    ("States.Array", Arity::AtLeast(0), array::array),
    ("States.ArrayPartition", Arity::Exact(2), array::partition),
    ("States.ArrayContains", Arity::Exact(2), array::contains),
    ("States.ArrayRange", Arity::Exact(3), array::range),
    ("States.ArrayGetItem", Arity::Exact(2), array::get_item),
    ("States.ArrayLength", Arity::Exact(1), array::length),
    ("States.ArrayUnique", Arity::Exact(1), array::unique),
    (
        "States.Base64Encode",
        Arity::Exact(1),
        encoding::base64_encode,
    ),
    (
        "States.Base64Decode",
        Arity::Exact(1),
        encoding::base64_decode,
    ),
    ("States.Hash", Arity::Exact(2), hash::hash),
    ("States.JsonMerge", Arity::Exact(3), json::json_merge),
    ("States.MathRandom", Arity::Between(2, 3), math::random),
    ("States.MathAdd", Arity::Exact(2), math::add),
    ("States.StringSplit", Arity::Exact(2), string::string_split),
    ("States.UUID", Arity::Exact(0), unique_id::uuid),
];

/// How deep calls may nest inside one another (AWS: 10).
pub const MAX_NESTING: usize = 10;

const FORMAT: usize = 0;
const JSON_TO_STRING: usize = 2;
const ARRAY: usize = 3;
const ARRAY_PARTITION: usize = 4;
const JSON_MERGE: usize = 13;
const STRING_SPLIT: usize = 16;

/// A parsed intrinsic call, arguments included (nested calls, paths, literals).
#[derive(Clone, Debug, PartialEq)]
pub struct IntrinsicCall {
    text: String,
    call: Call,
}

#[derive(Clone, Debug, PartialEq)]
struct Call {
    /// Index into [`FUNCTIONS`].
    function: usize,
    args: Vec<Arg>,
    /// For `States.Format` with a literal template: the template split at
    /// its placeholders, so that evaluating does not scan it again.
    format_pieces: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq)]
enum Arg {
    Literal(Value),
    Path(Path),
    Call(Call),
}

impl IntrinsicCall {
    /// True when `text` is meant as an intrinsic call (starts with `States.`).
    pub fn looks_like_call(text: &str) -> bool {
        text.starts_with("States.")
    }

    /// Parses a call.
    pub fn parse(text: &str) -> Result<IntrinsicCall, IntrinsicSyntaxError> {
        let error = |message: String| IntrinsicSyntaxError {
            text: text.to_owned(),
            message,
        };
        let mut parser = Parser { text, pos: 0 };
        parser.skip_whitespace();
        let call = parser.call(1).map_err(error)?;
        parser.skip_whitespace();
        if parser.pos < text.len() {
            return Err(error(format!(
                "unexpected `{}` after the call at position {}",
                parser.rest_token(),
                parser.pos
            )));
        }
        Ok(IntrinsicCall {
            text: text.to_owned(),
            call,
        })
    }

    /// The call as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The function's name, e.g. `States.Format`.
    pub fn name(&self) -> &'static str {
        FUNCTIONS[self.call.function].0
    }

    /// Evaluates the call.
    pub fn eval(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        self.eval_for_field(env, &self.text)
    }

    /// Evaluates the call as the value of `field` (the key as written, e.g.
    /// `value.$`, or `ErrorPath`), which path failures name in their cause.
    ///
    /// Within the [`BuildLimits`](crate::jsonpath::BuildLimits) of `env`'s
    /// variables, no value past four times the payload limit (at least
    /// 1 MiB) is built, the result nor any intermediate one: the call fails
    /// with `States.DataLimitExceeded` instead.
    pub fn eval_for_field(&self, env: &Env<'_>, field: &str) -> Result<Value, StatesError> {
        let cap = crate::jsonpath::template::payload_cap(env).unwrap_or(usize::MAX);
        self.call.eval(env, field, cap).map(|(value, _)| value)
    }

    /// Evaluates the call with every value it builds (its result, the
    /// result of each nested call, and the arguments one call holds at
    /// once) held to `cap` bytes of compact JSON text; gives the result
    /// and its size.
    pub(crate) fn eval_bounded(
        &self,
        env: &Env<'_>,
        field: &str,
        cap: usize,
    ) -> Result<(Value, usize), StatesError> {
        self.call.eval(env, field, cap)
    }
}

impl Call {
    /// The result, and its size in bytes when `cap` bounds it (`cap` is
    /// `usize::MAX`: unbounded, nothing measured, the size is 0).
    fn eval(&self, env: &Env<'_>, field: &str, cap: usize) -> Result<(Value, usize), StatesError> {
        let bounded = cap != usize::MAX;
        // a precompiled template stands for the first argument
        let skip = usize::from(self.format_pieces.is_some());
        let given = self.args.get(skip..).unwrap_or_default();
        // borrowed nulls until filled: nothing to drop for the unused ones
        let mut inline: [Cow<'_, Value>; INLINE_ARGS] =
            [const { Cow::Borrowed(&Value::Null) }; INLINE_ARGS];
        let mut spilled = Vec::new();
        let args: &mut Args<'_> = match inline.get_mut(..given.len()) {
            Some(args) => args,
            None => {
                spilled.resize(given.len(), Cow::Borrowed(&Value::Null));
                &mut spilled
            }
        };
        // what the arguments built by this call hold
        let mut held = 0usize;
        for (slot, arg) in args.iter_mut().zip(given) {
            *slot = match arg {
                Arg::Literal(value) => Cow::Borrowed(value),
                Arg::Path(path) => {
                    let value = crate::jsonpath::template::path_within(path, env, field, cap)?;
                    if let (true, Cow::Owned(v)) = (bounded, &value) {
                        held = held.saturating_add(crate::json::json_len(v));
                    }
                    value
                }
                Arg::Call(call) => {
                    let (value, bytes) = call.eval(env, field, cap)?;
                    held = held.saturating_add(bytes);
                    Cow::Owned(value)
                }
            };
            if held > cap {
                return Err(crate::error::result_too_big());
            }
        }
        if bounded && !self.fits(args, cap) {
            return Err(crate::error::result_too_big());
        }
        let (name, _, function) = FUNCTIONS[self.function];
        let result = match &self.format_pieces {
            Some(pieces) => string::format_pieces(pieces, args),
            // its text is held to the cap while it is written
            None if bounded && self.function == JSON_TO_STRING => {
                match json::json_to_string_within(args, cap) {
                    Ok(Some(value)) => Ok(value),
                    Ok(None) => return Err(crate::error::result_too_big()),
                    Err(cause) => Err(cause),
                }
            }
            None => function(args),
        };
        let value = result.map_err(|cause| StatesError::intrinsic(format!("{name}: {cause}")))?;
        if !bounded {
            return Ok((value, 0));
        }
        match crate::json::len_within(&value, cap) {
            Some(bytes) => Ok((value, bytes)),
            None => Err(crate::error::result_too_big()),
        }
    }

    /// False when the result is known to pass `cap` bytes before it is
    /// built: the functions whose result can be much larger than their
    /// arguments, or much larger in memory than in JSON text, are measured
    /// first (any other result is measured once built). Arguments the
    /// function refuses pass: the function reports them.
    fn fits(&self, args: &Args<'_>, cap: usize) -> bool {
        let sum = |values: &[Cow<'_, Value>], overhead: usize| {
            let mut budget = crate::json::Budget::new(Some(cap));
            budget.take(overhead) && values.iter().all(|v| budget.take_value(v))
        };
        match self.function {
            ARRAY => sum(args, 1 + args.len().max(1)),
            ARRAY_PARTITION => match (args.first().map(|a| a.as_ref()), integer_arg(args, 1)) {
                (Some(Value::Array(items)), Ok(size)) if size > 0 && !items.is_empty() => {
                    let size = usize::try_from(size).unwrap_or(usize::MAX);
                    let chunks = items.len().div_ceil(size);
                    // outer brackets and commas, each chunk's brackets and
                    // commas, the items
                    let mut budget = crate::json::Budget::new(Some(cap));
                    budget.take((1 + chunks).saturating_add(chunks + items.len()))
                        && items.iter().all(|v| budget.take_value(v))
                }
                _ => true,
            },
            // written within the cap (see `json::json_to_string_within`)
            JSON_TO_STRING => true,
            STRING_SPLIT => match (string_arg(args, 0), string_arg(args, 1)) {
                (Ok(text), Ok(delimiters)) => string::split_len(text, delimiters, cap).is_some(),
                _ => true,
            },
            FORMAT => {
                let rendered = match &self.format_pieces {
                    Some(pieces) => string::formatted_len(pieces, args, cap),
                    None => match args.split_first() {
                        Some((template, values)) => match template.as_ref() {
                            Value::String(t) => {
                                string::formatted_len(&string::template_pieces(t), values, cap)
                            }
                            _ => Some(0),
                        },
                        None => Some(0),
                    },
                };
                // the string, quoted
                rendered.is_some_and(|n| n.saturating_add(2) <= cap)
            }
            _ => true,
        }
    }
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn rest_token(&self) -> &str {
        let rest = &self.text[self.pos..];
        let end = rest
            .char_indices()
            .nth(20)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        &rest[..end]
    }

    fn call(&mut self, depth: usize) -> Result<Call, String> {
        if depth > MAX_NESTING {
            return Err(format!(
                "intrinsic calls are nested more than {MAX_NESTING} levels deep"
            ));
        }
        let start = self.pos;
        if !self.text[self.pos..].starts_with("States.") {
            return Err(format!("expected `States.` at position {start}"));
        }
        self.pos += "States.".len();
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        let name = &self.text[start..self.pos];
        let function = FUNCTIONS
            .iter()
            .position(|(n, _, _)| *n == name)
            .ok_or_else(|| format!("unknown intrinsic function `{name}`"))?;
        self.skip_whitespace();
        if self.peek() != Some(b'(') {
            return Err(format!(
                "expected `(` after `{name}` at position {}",
                self.pos
            ));
        }
        self.pos += 1;
        self.skip_whitespace();
        let mut args = Vec::new();
        if self.peek() == Some(b')') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.peek().is_none() {
                    return Err(format!("missing `)` to close `{name}(`"));
                }
                let raw_string = function == FORMAT && args.is_empty();
                args.push(self.argument(depth, raw_string)?);
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    Some(_) => {
                        return Err(format!(
                            "expected `,` or `)` at position {}, found `{}`",
                            self.pos,
                            self.rest_token()
                        ))
                    }
                    None => return Err(format!("missing `)` to close `{name}(`")),
                }
            }
        }
        let (_, arity, _) = FUNCTIONS[function];
        if !arity.allows(args.len()) {
            return Err(format!("`{name}` takes {arity}, got {}", args.len()));
        }
        check_literals(function, &args)?;
        let format_pieces = match (function, args.first()) {
            (FORMAT, Some(Arg::Literal(Value::String(template)))) => {
                Some(string::template_pieces(template))
            }
            _ => None,
        };
        Ok(Call {
            function,
            args,
            format_pieces,
        })
    }

    fn argument(&mut self, depth: usize, raw_string: bool) -> Result<Arg, String> {
        let start = self.pos;
        match self.peek() {
            Some(b'\'') => self.string(raw_string).map(Arg::Literal),
            Some(b'$') => {
                let end = path_end(self.text, start);
                let text = self.text[start..end].trim_end();
                self.pos = end;
                Path::parse(text)
                    .map(Arg::Path)
                    .map_err(|e| format!("invalid path `{}`: {}", e.path, e.message))
            }
            Some(_) if self.text[start..].starts_with("States.") => {
                self.call(depth + 1).map(Arg::Call)
            }
            Some(b',' | b')') | None => Err(format!("expected an argument at position {start}")),
            Some(_) => {
                while self
                    .peek()
                    .is_some_and(|b| !matches!(b, b',' | b')') && !b.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
                let token = &self.text[start..self.pos];
                literal(token).ok_or_else(|| format!("unexpected argument `{token}`"))
            }
        }
    }

    /// A single-quoted string. `raw` keeps the escapes of `{`, `}` and `\`
    /// (for the template of `States.Format`, which interprets them).
    fn string(&mut self, raw: bool) -> Result<Value, String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.text[self.pos..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos += i + 1;
                    return Ok(Value::String(out));
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('\'' | '{' | '}' | '\\'))) => {
                        if raw && e != '\'' {
                            out.push('\\');
                        }
                        out.push(e);
                    }
                    Some((_, other)) => {
                        return Err(format!(
                            "invalid escape `\\{other}` in the string starting at position {start}: only \\', \\{{, \\}} and \\\\ are allowed"
                        ))
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(format!("unterminated string starting at position {start}"))
    }
}

/// Where a path argument starting at `start` ends: at the first `,` or `)`
/// outside brackets, parentheses and quotes.
fn path_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'\'' | b'"' if depth > 0 => quote = Some(b),
                b'[' | b'(' => depth += 1,
                b']' | b')' if depth > 0 => depth -= 1,
                b',' | b')' => return i,
                _ => {}
            },
        }
        i += 1;
    }
    bytes.len()
}

/// `true`, `false`, `null` or a JSON number.
fn literal(token: &str) -> Option<Arg> {
    let value = match token {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ if token.starts_with(|c: char| c == '-' || c.is_ascii_digit()) => {
            match serde_json::from_str::<Value>(token).ok()? {
                Value::Number(n) => Value::Number(n),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Arg::Literal(value))
}

/// Load-time checks of literal arguments that are certain to fail.
fn check_literals(function: usize, args: &[Arg]) -> Result<(), String> {
    match (function, args) {
        (FORMAT, [Arg::Literal(template), rest @ ..]) => {
            let Value::String(template) = template else {
                return Err(format!(
                    "the template of `States.Format` must be a string, got {}",
                    type_name(template)
                ));
            };
            let placeholders = string::template_pieces(template).len() - 1;
            if placeholders != rest.len() {
                return Err(string::placeholder_mismatch(placeholders, rest.len()));
            }
            Ok(())
        }
        (JSON_MERGE, [_, _, Arg::Literal(Value::Bool(true))]) => Err(
            "`States.JsonMerge` supports only shallow merging: its third argument must be `false`"
                .to_owned(),
        ),
        _ => Ok(()),
    }
}

// argument helpers shared by the functions

/// `"a string"`, `"an array"`, ... for messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn ordinal(index: usize) -> &'static str {
    match index {
        0 => "first",
        1 => "second",
        2 => "third",
        _ => "an",
    }
}

fn wrong_type(index: usize, expected: &str, got: &Value) -> String {
    format!(
        "the {} argument must be {expected}, got {}",
        ordinal(index),
        type_name(got)
    )
}

fn arg<'a>(args: &'a Args<'_>, index: usize) -> Result<&'a Value, String> {
    args.get(index)
        .map(|a| a.as_ref())
        .ok_or_else(|| format!("the {} argument is missing", ordinal(index)))
}

pub(crate) fn string_arg<'a>(args: &'a Args<'_>, index: usize) -> Result<&'a str, String> {
    match arg(args, index)? {
        Value::String(s) => Ok(s),
        other => Err(wrong_type(index, "a string", other)),
    }
}

pub(crate) fn array_arg<'a>(args: &'a Args<'_>, index: usize) -> Result<&'a [Value], String> {
    match arg(args, index)? {
        Value::Array(a) => Ok(a),
        other => Err(wrong_type(index, "an array", other)),
    }
}

pub(crate) fn number_arg(args: &Args<'_>, index: usize) -> Result<Number, String> {
    match arg(args, index)? {
        Value::Number(n) => Ok(n.clone()),
        other => Err(wrong_type(index, "a number", other)),
    }
}

/// An integer argument: a number rounded as Java's `Math.round` does
/// (halves towards positive infinity: `2.5` → `3`, `-2.5` → `-2`), which is
/// how AWS treats non-integer values where it wants integers.
pub(crate) fn integer_arg(args: &Args<'_>, index: usize) -> Result<i64, String> {
    let n = number_arg(args, index)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    let out_of_range = || format!("the {} argument {n} is out of range", ordinal(index));
    if n.is_u64() {
        return Err(out_of_range());
    }
    let f = n.as_f64().ok_or_else(out_of_range)?;
    let floor = f.floor();
    let rounded = if f - floor >= 0.5 { floor + 1.0 } else { floor };
    if rounded >= i64::MIN as f64 && rounded < i64::MAX as f64 {
        Ok(rounded as i64)
    } else {
        Err(out_of_range())
    }
}

/// Deep equality where numbers compare by value (`1` equals `1.0`).
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| deep_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod recorded;
#[cfg(test)]
mod tests;
