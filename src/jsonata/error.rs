//! JSONata errors: the code (S0xxx syntax, T0xxx/T1xxx/T2xxx type, D1xxx-D3xxx
//! dynamic, U1001 runaway), jsonata-js's message for that code, and where.

use serde_json::Value;
use std::fmt;

/// An error from parsing or evaluating a JSONata expression.
///
/// `code` is JSONata's own (for example `T2001`, `D3030`, `S0202`); the message
/// uses jsonata-js 2.0.6's wording for that code, so an AWS-shaped cause such as
/// `T1006: Attempted to invoke a non-function` can be built from
/// [`Error::code`] and [`Error::message`]. Runaway expressions end with `U1001`
/// (the evaluation-step budget or the recursion depth ran out), `U1002` (a
/// value grew past the size cap) or `U1004` (past the byte cap); those are
/// stepfn's bounds, not jsonata-js's.
#[derive(Clone, Debug, PartialEq)]
pub struct Error(Box<ErrorInner>);

#[derive(Clone, Debug, PartialEq)]
struct ErrorInner {
    code: &'static str,
    message: String,
    position: Option<usize>,
    token: Option<String>,
    value: Option<Value>,
}

impl Error {
    /// The JSONata error code, e.g. `"T2001"`.
    pub fn code(&self) -> &str {
        self.0.code
    }
    /// The message, in jsonata-js's wording for the code.
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// The character offset in the expression the error refers to, when known
    /// (jsonata-js's `position`: the offset just after the offending token).
    pub fn position(&self) -> Option<usize> {
        self.0.position
    }
    /// The token the error refers to (an operator, a function name), when known.
    pub fn token(&self) -> Option<&str> {
        self.0.token.as_deref()
    }
    /// The offending value, when the error carries one.
    pub fn value(&self) -> Option<&Value> {
        self.0.value.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)?;
        if let Some(p) = self.0.position {
            write!(f, " (at position {p})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// What an error is built from before its message is rendered. Boxed, so a
/// `Result` carrying one stays small on the evaluator's stack.
#[derive(Clone, Debug, Default)]
pub(crate) struct Raw(Box<RawInner>);

impl std::ops::Deref for Raw {
    type Target = RawInner;
    fn deref(&self) -> &RawInner {
        &self.0
    }
}

impl std::ops::DerefMut for Raw {
    fn deref_mut(&mut self) -> &mut RawInner {
        &mut self.0
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct RawInner {
    pub code: &'static str,
    pub position: Option<usize>,
    pub token: Option<String>,
    pub value: Option<Value>,
    pub value2: Option<Value>,
    pub index: Option<usize>,
    /// The message of `$error`/`$assert` and of a few free-form errors.
    pub message: Option<String>,
    /// The type in T0412.
    pub type_: Option<String>,
    /// The message is already written (errors of the picture-string functions).
    pub verbatim: bool,
}

impl Raw {
    pub fn new(code: &'static str) -> Raw {
        Raw(Box::new(RawInner {
            code,
            ..RawInner::default()
        }))
    }
    pub fn pos(mut self, p: usize) -> Raw {
        self.position = Some(p);
        self
    }
    pub fn tok(mut self, t: impl Into<String>) -> Raw {
        self.token = Some(t.into());
        self
    }
    pub fn val(mut self, v: Value) -> Raw {
        self.value = Some(v);
        self
    }
    pub fn val2(mut self, v: Value) -> Raw {
        self.value2 = Some(v);
        self
    }
    pub fn idx(mut self, i: usize) -> Raw {
        self.index = Some(i);
        self
    }
    pub fn msg(mut self, m: impl Into<String>) -> Raw {
        self.message = Some(m.into());
        self
    }

    /// Render the message and freeze the error.
    pub fn finish(self) -> Error {
        let message = match (&self.message, self.verbatim) {
            (Some(m), true) => m.clone(),
            _ => render(&self),
        };
        let inner = *self.0;
        Error(Box::new(ErrorInner {
            code: inner.code,
            message,
            position: inner.position,
            token: inner.token,
            value: inner.value,
        }))
    }
}

fn template(code: &str) -> &'static str {
    match code {
        "S0101" => "String literal must be terminated by a matching quote",
        "S0102" => "Number out of range: {{token}}",
        "S0103" => "Unsupported escape sequence: \\{{{token}}}",
        "S0104" => "The escape sequence \\u must be followed by 4 hex digits",
        "S0105" => "Quoted property name must be terminated with a backquote (`)",
        "S0106" => "Comment has no closing tag",
        "S0201" => "Syntax error: {{token}}",
        "S0202" => "Expected {{value}}, got {{token}}",
        "S0203" => "Expected {{value}} before end of expression",
        "S0204" => "Unknown operator: {{token}}",
        "S0205" => "Unexpected token: {{token}}",
        "S0206" => "Unknown expression type: {{token}}",
        "S0207" => "Unexpected end of expression",
        "S0208" => "Parameter {{value}} of function definition must be a variable name (start with $)",
        "S0209" => "A predicate cannot follow a grouping expression in a step",
        "S0210" => "Each step can only have one grouping expression",
        "S0211" => "The symbol {{token}} cannot be used as a unary operator",
        "S0212" => "The left side of := must be a variable name (start with $)",
        "S0213" => "The literal value {{value}} cannot be used as a step within a path expression",
        "S0214" => "The right side of {{token}} must be a variable name (start with $)",
        "S0215" => "A context variable binding must precede any predicates on a step",
        "S0216" => "A context variable binding must precede the 'order-by' clause on a step",
        "S0217" => "The object representing the 'parent' cannot be derived from this expression",
        "S0301" => "Empty regular expressions are not allowed",
        "S0302" => "No terminating / in regular expression",
        "S0303" => "Invalid regular expression: {{{message}}}",
        "S0402" => "Choice groups containing parameterized types are not supported",
        "S0401" => "Type parameters can only be applied to functions and arrays",
        "S0500" => "Attempted to evaluate an expression containing syntax error(s)",
        "T0410" => "Argument {{index}} of function {{token}} does not match function signature",
        "T0411" => "Context value is not a compatible type with argument {{index}} of function {{token}}",
        "T0412" => "Argument {{index}} of function {{token}} must be an array of {{type}}",
        "D1001" => "Number out of range: {{value}}",
        "D1002" => "Cannot negate a non-numeric value: {{value}}",
        "T1003" => "Key in object structure must evaluate to a string; got: {{value}}",
        "D1004" => "Regular expression matches zero length string",
        "T1005" => "Attempted to invoke a non-function. Did you mean ${{{token}}}?",
        "T1006" => "Attempted to invoke a non-function",
        "T1007" => "Attempted to partially apply a non-function. Did you mean ${{{token}}}?",
        "T1008" => "Attempted to partially apply a non-function",
        "D1009" => "Multiple key definitions evaluate to same key: {{value}}",
        "D1010" => "Attempted to access the Javascript object prototype",
        "T1010" => "The matcher function argument passed to function {{token}} does not return the correct object structure",
        "T2001" => "The left side of the {{token}} operator must evaluate to a number",
        "T2002" => "The right side of the {{token}} operator must evaluate to a number",
        "T2003" => "The left side of the range operator (..) must evaluate to an integer",
        "T2004" => "The right side of the range operator (..) must evaluate to an integer",
        "D2005" => "The left side of := must be a variable name (start with $)",
        "T2006" => "The right side of the function application operator ~> must be a function",
        "T2007" => "Type mismatch when comparing values {{value}} and {{value2}} in order-by clause",
        "T2008" => "The expressions within an order-by clause must evaluate to numeric or string values",
        "T2009" => "The values {{value}} and {{value2}} either side of operator {{token}} must be of the same data type",
        "T2010" => "The expressions either side of operator {{token}} must evaluate to numeric or string values",
        "T2011" => "The insert/update clause of the transform expression must evaluate to an object: {{value}}",
        "T2012" => "The delete clause of the transform expression must evaluate to a string or array of strings: {{value}}",
        "T2013" => "The transform expression clones the input object using the $clone() function.  This has been overridden in the current scope by a non-function.",
        "D2014" => "The size of the sequence allocated by the range operator (..) must not exceed 1e6.  Attempted to allocate {{value}}.",
        "D3001" => "Attempting to invoke string function on Infinity or NaN",
        "D3010" => "Second argument of replace function cannot be an empty string",
        "D3011" => "Fourth argument of replace function must evaluate to a positive number",
        "D3012" => "Attempted to replace a matched string with a non-string value",
        "D3020" => "Third argument of split function must evaluate to a positive number",
        "D3030" => "Unable to cast value to a number: {{value}}",
        "D3040" => "Third argument of match function must evaluate to a positive number",
        "D3050" => "The second argument of reduce function must be a function with at least two arguments",
        "D3060" => "The sqrt function cannot be applied to a negative number: {{value}}",
        "D3061" => "The power function has resulted in a value that cannot be represented as a JSON number: base={{value}}, exponent={{exp}}",
        "D3070" => "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function",
        "D3100" => "The radix of the formatBase function must be between 2 and 36.  It was given {{value}}",
        "D3110" => "Unable to parse ISO 8601 timestamp: {{value}}",
        "D3120" => "Syntax error in expression passed to function eval: {{value}}",
        "D3121" => "Dynamic error evaluating the expression passed to function eval: {{value}}",
        "D3137" | "D3141" | "U1001" | "U1002" | "U1004" | "D3199" | "D3198" => "{{{message}}}",
        "D3138" => "The $single() function expected exactly 1 matching result.  Instead it matched more.",
        "D3139" => "The $single() function expected exactly 1 matching result.  Instead it matched 0.",
        "D3140" => "Malformed URL passed to ${{{token}}}(): {{value}}",
        _ => "{{{message}}}",
    }
}

/// Fill `{{name}}` (JSON text of the field) and `{{{name}}}` (raw text).
fn render(e: &RawInner) -> String {
    let t = template(e.code);
    let mut out = String::with_capacity(t.len() + 16);
    let mut rest = t;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let raw = rest[i..].starts_with("{{{");
        let open = if raw { 3 } else { 2 };
        let after = &rest[i + open..];
        let close = if raw { "}}}" } else { "}}" };
        let Some(j) = after.find(close) else {
            out.push_str(&rest[i..]);
            return out;
        };
        let name = &after[..j];
        out.push_str(&field(e, name, raw));
        rest = &after[j + close.len()..];
    }
    out.push_str(rest);
    out
}

fn field(e: &RawInner, name: &str, raw: bool) -> String {
    let json = |v: &Option<Value>| match v {
        Some(Value::String(s)) if raw => s.clone(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
        None => String::new(),
    };
    match name {
        "token" => match &e.token {
            Some(t) if raw => t.clone(),
            Some(t) => serde_json::to_string(t).unwrap_or_default(),
            None => String::new(),
        },
        "value" => json(&e.value),
        "value2" | "exp" => json(&e.value2),
        "index" => e.index.map(|i| i.to_string()).unwrap_or_default(),
        "type" => e.type_.clone().unwrap_or_default(),
        "message" => e.message.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_json_and_raw_fields() {
        let e = Raw::new("S0202")
            .tok(")")
            .val(Value::String("]".into()))
            .finish();
        assert_eq!(e.message(), "Expected \"]\", got \")\"");
        let e = Raw::new("T1005").tok("sum").finish();
        assert_eq!(
            e.message(),
            "Attempted to invoke a non-function. Did you mean $sum?"
        );
    }
}
