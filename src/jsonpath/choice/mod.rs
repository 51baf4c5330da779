//! Choice rules: compiled from JSON when the definition is loaded, evaluated
//! against data, context object and variables.
//!
//! A JSONPath rule is either a *data test* (`Variable` plus exactly one of the
//! 39 comparison operators) or a boolean combination (`And`, `Or`, `Not`).
//! Everything that can be checked without data is checked by
//! [`ChoiceRule::compile`]: operand types, timestamp literals, paths and
//! `StringMatches` patterns are parsed once, so evaluation only walks data.
//!
//! AWS semantics kept here (recorded against AWS, see the conformance corpus):
//! a type mismatch makes a comparison false rather than failing; numbers
//! compare by value (`0 == 0.0`); strings compare by code points; a
//! `Variable` (or `...Path` operand) that matches nothing is `States.Runtime`,
//! except for `IsPresent`, which is what it tests.

use crate::error::{Diagnostic, ErrorName, StatesError};
use crate::jsonpath::path::{Env, Path, PathError};
use crate::jsonpath::template::PayloadTemplate;
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;
use time::OffsetDateTime;

/// The deepest `And`/`Or`/`Not` nesting accepted; deeper rules are a
/// definition error instead of a stack overflow.
pub const MAX_NESTING_DEPTH: usize = 64;

const SCHEMA: &str = "SCHEMA_VALIDATION_FAILED";

/// A boolean condition: a data test, `And`/`Or`/`Not`, or a JSONata `Condition`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    node: Node,
    /// `Comment` of a nested rule (top-level comments live in [`ChoiceRule`]).
    comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Test(Box<DataTest>),
    /// A JSONata `Condition`: `true`, `false` or a `{% %}` string, as written.
    Jsonata(Value),
}

#[derive(Clone, Debug, PartialEq)]
struct DataTest {
    variable: Path,
    operator: &'static str,
    /// The operand as written.
    written: Value,
    test: Test,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Cmp {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Cmp::Eq => ordering == Ordering::Equal,
            Cmp::Lt => ordering == Ordering::Less,
            Cmp::Gt => ordering == Ordering::Greater,
            Cmp::Le => ordering != Ordering::Greater,
            Cmp::Ge => ordering != Ordering::Less,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpKind {
    Compare(Family, Cmp, bool),
    Matches,
    Is(TypeTest),
}

/// The 39 operators: name, what they do (the bool says "operand is a Path").
const OPERATORS: [(&str, OpKind); 39] = {
    use Cmp::*;
    use Family::{Boolean, Numeric, String as Str, Timestamp};
    use OpKind::{Compare as C, Is, Matches};
    [
        ("StringEquals", C(Str, Eq, false)),
        ("StringEqualsPath", C(Str, Eq, true)),
        ("StringLessThan", C(Str, Lt, false)),
        ("StringLessThanPath", C(Str, Lt, true)),
        ("StringGreaterThan", C(Str, Gt, false)),
        ("StringGreaterThanPath", C(Str, Gt, true)),
        ("StringLessThanEquals", C(Str, Le, false)),
        ("StringLessThanEqualsPath", C(Str, Le, true)),
        ("StringGreaterThanEquals", C(Str, Ge, false)),
        ("StringGreaterThanEqualsPath", C(Str, Ge, true)),
        ("StringMatches", Matches),
        ("NumericEquals", C(Numeric, Eq, false)),
        ("NumericEqualsPath", C(Numeric, Eq, true)),
        ("NumericLessThan", C(Numeric, Lt, false)),
        ("NumericLessThanPath", C(Numeric, Lt, true)),
        ("NumericGreaterThan", C(Numeric, Gt, false)),
        ("NumericGreaterThanPath", C(Numeric, Gt, true)),
        ("NumericLessThanEquals", C(Numeric, Le, false)),
        ("NumericLessThanEqualsPath", C(Numeric, Le, true)),
        ("NumericGreaterThanEquals", C(Numeric, Ge, false)),
        ("NumericGreaterThanEqualsPath", C(Numeric, Ge, true)),
        ("BooleanEquals", C(Boolean, Eq, false)),
        ("BooleanEqualsPath", C(Boolean, Eq, true)),
        ("TimestampEquals", C(Timestamp, Eq, false)),
        ("TimestampEqualsPath", C(Timestamp, Eq, true)),
        ("TimestampLessThan", C(Timestamp, Lt, false)),
        ("TimestampLessThanPath", C(Timestamp, Lt, true)),
        ("TimestampGreaterThan", C(Timestamp, Gt, false)),
        ("TimestampGreaterThanPath", C(Timestamp, Gt, true)),
        ("TimestampLessThanEquals", C(Timestamp, Le, false)),
        ("TimestampLessThanEqualsPath", C(Timestamp, Le, true)),
        ("TimestampGreaterThanEquals", C(Timestamp, Ge, false)),
        ("TimestampGreaterThanEqualsPath", C(Timestamp, Ge, true)),
        ("IsNull", Is(TypeTest::Null)),
        ("IsPresent", Is(TypeTest::Present)),
        ("IsNumeric", Is(TypeTest::Numeric)),
        ("IsString", Is(TypeTest::String)),
        ("IsBoolean", Is(TypeTest::Boolean)),
        ("IsTimestamp", Is(TypeTest::Timestamp)),
    ]
};

fn operator(name: &str) -> Option<(&'static str, OpKind)> {
    OPERATORS.iter().find(|(n, _)| *n == name).copied()
}

#[derive(Clone, Debug, PartialEq)]
enum Test {
    Compare {
        family: Family,
        cmp: Cmp,
        operand: Operand,
    },
    Matches(Pattern),
    Is(TypeTest, bool),
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Path(Path),
    String(String),
    Number(Number),
    Boolean(bool),
    Timestamp(OffsetDateTime),
}

/// A compiled `StringMatches` pattern: literal pieces separated by `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    /// `pieces.len() == stars + 1`; a pattern without `*` has one piece.
    pieces: Vec<String>,
}

impl Pattern {
    /// `*` matches any run of characters; `\*` is a literal star and `\\` a
    /// literal backslash; any other backslash is kept as written.
    fn compile(text: &str) -> Pattern {
        let mut pieces = vec![String::new()];
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some('*') | Some('\\') => {
                        let escaped = chars.next().unwrap_or('\\');
                        push_char(&mut pieces, escaped);
                    }
                    _ => push_char(&mut pieces, '\\'),
                },
                '*' => pieces.push(String::new()),
                other => push_char(&mut pieces, other),
            }
        }
        Pattern { pieces }
    }

    fn matches(&self, text: &str) -> bool {
        let (first, rest) = match self.pieces.split_first() {
            Some(split) => split,
            None => return text.is_empty(),
        };
        if rest.is_empty() {
            return text == first;
        }
        let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        let (last, middle) = match rest.split_last() {
            Some(split) => split,
            None => return true,
        };
        // Each middle piece is matched at its leftmost occurrence (greedy
        // leftmost is optimal for `*`-only globs); the last must end the text.
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(at) => remaining = &remaining[at + piece.len()..],
                None => return false,
            }
        }
        remaining.len() >= last.len() && remaining.ends_with(last.as_str())
    }
}

fn push_char(pieces: &mut [String], c: char) {
    if let Some(last) = pieces.last_mut() {
        last.push(c);
    }
}

/// Compares two JSON numbers by value without losing precision: integers
/// exactly (as `i128`), an integer against a float exactly, floats as `f64`.
pub fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (int_of(a), int_of(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        (Some(x), None) => b.as_f64().map(|y| compare_int_float(x, y)),
        (None, Some(y)) => a.as_f64().map(|x| compare_int_float(y, x).reverse()),
        (None, None) => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn int_of(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// Exact comparison of an integer with a (finite) float.
fn compare_int_float(i: i128, f: f64) -> Ordering {
    // 2^100 is far beyond any u64/i64, so only the sign matters out there.
    const LIMIT: f64 = 1.2676506002282294e30;
    if f >= LIMIT {
        return Ordering::Less;
    }
    if f <= -LIMIT {
        return Ordering::Greater;
    }
    let floor = f.floor();
    // `floor` is integral and within i128 range here, so the cast is exact.
    let whole = floor as i128;
    match i.cmp(&whole) {
        Ordering::Equal if f > floor => Ordering::Less,
        other => other,
    }
}

fn is_timestamp(value: &Value) -> bool {
    value.as_str().and_then(crate::timestamp::parse).is_some()
}

/// `States.Runtime` for a choice path that matches nothing, as AWS words it.
fn invalid_path(path: &Path) -> StatesError {
    StatesError::runtime(format!(
        "Invalid path '{}': The choice state's condition path references an invalid value.",
        path.as_str()
    ))
}

/// Every way a choice path can miss (no results, a missing property on the
/// way, an undefined variable) is the same error on AWS.
fn lookup<'v>(path: &Path, env: &Env<'v>) -> Result<std::borrow::Cow<'v, Value>, StatesError> {
    path.eval(env).map_err(|e| match e {
        PathError::TooLarge { .. } => StatesError::runtime(e.to_string()),
        _ => invalid_path(path),
    })
}

impl Condition {
    /// Compiles a nested rule (no `Next`) found at `location`.
    pub fn compile(value: &Value, location: &str) -> Result<Condition, Vec<Diagnostic>> {
        let mut diagnostics = Vec::new();
        let condition = compile_condition(value, location, 1, false, &mut diagnostics);
        match condition {
            Some(c) if diagnostics.is_empty() => Ok(c),
            _ => Err(diagnostics),
        }
    }

    /// A JSONata `Condition` (`true`, `false` or a `{% %}` string), kept as written.
    pub fn jsonata(condition: Value) -> Condition {
        Condition {
            node: Node::Jsonata(condition),
            comment: None,
        }
    }

    /// True for a JSONata `Condition`.
    pub fn is_jsonata(&self) -> bool {
        matches!(self.node, Node::Jsonata(_))
    }

    /// Evaluates the condition (JSONPath rules; a JSONata condition is a
    /// `States.QueryEvaluationError` until JSONata is supported, except the
    /// literals `true` and `false`).
    pub fn eval(&self, env: &Env<'_>) -> Result<bool, StatesError> {
        match &self.node {
            Node::And(all) => {
                for c in all {
                    if !c.eval(env)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Node::Or(any) => {
                for c in any {
                    if c.eval(env)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Node::Not(inner) => Ok(!inner.eval(env)?),
            Node::Test(test) => test.eval(env),
            Node::Jsonata(Value::Bool(b)) => Ok(*b),
            Node::Jsonata(other) => Err(StatesError::new(
                ErrorName::QueryEvaluationError,
                format!(
                    "JSONata is not supported yet: cannot evaluate the Condition {}",
                    other
                ),
            )),
        }
    }

    /// The condition as written (a JSON object for JSONPath rules, the
    /// `Condition` value for JSONata).
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        self.write_into(&mut map);
        match &self.node {
            Node::Jsonata(v) => v.clone(),
            _ => Value::Object(map),
        }
    }

    fn write_into(&self, map: &mut Map<String, Value>) {
        match &self.node {
            Node::And(all) => {
                map.insert(
                    "And".into(),
                    Value::Array(all.iter().map(Condition::to_value).collect()),
                );
            }
            Node::Or(any) => {
                map.insert(
                    "Or".into(),
                    Value::Array(any.iter().map(Condition::to_value).collect()),
                );
            }
            Node::Not(inner) => {
                map.insert("Not".into(), inner.to_value());
            }
            Node::Test(test) => {
                map.insert(
                    "Variable".into(),
                    Value::String(test.variable.as_str().to_owned()),
                );
                map.insert(test.operator.into(), test.written.clone());
            }
            Node::Jsonata(v) => {
                map.insert("Condition".into(), v.clone());
            }
        }
        if let Some(comment) = &self.comment {
            map.insert("Comment".into(), Value::String(comment.clone()));
        }
    }
}

impl DataTest {
    fn eval(&self, env: &Env<'_>) -> Result<bool, StatesError> {
        if let Test::Is(TypeTest::Present, expected) = self.test {
            let present = match self.variable.eval(env) {
                Ok(_) => true,
                Err(e @ PathError::TooLarge { .. }) => {
                    return Err(StatesError::runtime(e.to_string()))
                }
                Err(_) => false,
            };
            return Ok(present == expected);
        }
        let value = lookup(&self.variable, env)?;
        let value: &Value = &value;
        Ok(match &self.test {
            Test::Is(kind, expected) => {
                let is = match kind {
                    TypeTest::Null => value.is_null(),
                    TypeTest::Present => true,
                    TypeTest::Numeric => value.is_number(),
                    TypeTest::String => value.is_string(),
                    TypeTest::Boolean => value.is_boolean(),
                    TypeTest::Timestamp => is_timestamp(value),
                };
                is == *expected
            }
            Test::Matches(pattern) => value.as_str().is_some_and(|s| pattern.matches(s)),
            Test::Compare {
                family,
                cmp,
                operand,
            } => match operand {
                Operand::Path(path) => {
                    let other = lookup(path, env)?;
                    compare_values(*family, value, &other).is_some_and(|o| cmp.holds(o))
                }
                Operand::String(s) => value.as_str().is_some_and(|v| cmp.holds(v.cmp(s.as_str()))),
                Operand::Number(n) => match value {
                    Value::Number(v) => compare_numbers(v, n).is_some_and(|o| cmp.holds(o)),
                    _ => false,
                },
                Operand::Boolean(b) => value.as_bool().is_some_and(|v| cmp.holds(v.cmp(b))),
                Operand::Timestamp(t) => value
                    .as_str()
                    .and_then(crate::timestamp::parse)
                    .is_some_and(|v| cmp.holds(v.cmp(t))),
            },
        })
    }
}

/// Compares two values of the operator's family; `None` when either is not
/// of that family (which makes the comparison false).
fn compare_values(family: Family, a: &Value, b: &Value) -> Option<Ordering> {
    match family {
        Family::String => Some(a.as_str()?.cmp(b.as_str()?)),
        Family::Numeric => match (a, b) {
            (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
            _ => None,
        },
        Family::Boolean => Some(a.as_bool()?.cmp(&b.as_bool()?)),
        Family::Timestamp => {
            Some(crate::timestamp::parse(a.as_str()?)?.cmp(&crate::timestamp::parse(b.as_str()?)?))
        }
    }
}

fn error(diagnostics: &mut Vec<Diagnostic>, message: impl Into<String>, location: &str) {
    diagnostics.push(Diagnostic::error(SCHEMA, message, location));
}

fn required(diagnostics: &mut Vec<Diagnostic>, field: &str, location: &str) {
    error(
        diagnostics,
        format!("These fields are required: [{field}]"),
        location,
    );
}

fn not_supported(diagnostics: &mut Vec<Diagnostic>, field: &str, location: &str) {
    error(
        diagnostics,
        format!("Field '{field}' is not supported"),
        location,
    );
}

/// Compiles one JSONPath rule (top-level when `top`); fields `Next` and
/// `Assign` of a top-level rule are handled by the caller.
fn compile_condition(
    value: &Value,
    location: &str,
    depth: usize,
    top: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Condition> {
    let Some(object) = value.as_object() else {
        error(diagnostics, "A Choice Rule must be a JSON object", location);
        return None;
    };
    if depth > MAX_NESTING_DEPTH {
        error(
            diagnostics,
            format!("Choice Rules are nested too deeply (the limit is {MAX_NESTING_DEPTH} levels)"),
            location,
        );
        return None;
    }
    let before = diagnostics.len();
    let mut comment = None;
    let mut variable = None;
    let mut operators: Vec<(&str, OpKind, &Value)> = Vec::new();
    let mut combinators: Vec<(&str, &Value)> = Vec::new();
    for (key, v) in object {
        match key.as_str() {
            "Comment" => match v.as_str() {
                Some(c) => comment = Some(c.to_owned()),
                None => error(
                    diagnostics,
                    "The value for the field 'Comment' must be a string",
                    &format!("{location}/Comment"),
                ),
            },
            "Variable" => variable = Some(v),
            "And" | "Or" | "Not" => combinators.push((key.as_str(), v)),
            "Next" | "Assign" if top => {}
            other => match operator(other) {
                Some((name, kind)) => operators.push((name, kind, v)),
                None => not_supported(diagnostics, other, location),
            },
        }
    }
    if operators.len() + combinators.len() > 1 {
        error(
            diagnostics,
            "Each Choice Rule can only have one comparison operator",
            location,
        );
        return None;
    }
    let node = if let Some((name, v)) = combinators.first() {
        if variable.is_some() {
            not_supported(diagnostics, "Variable", location);
        }
        let here = format!("{location}/{name}");
        if *name == "Not" {
            let inner = compile_condition(v, &here, depth + 1, false, diagnostics);
            inner.map(|c| Node::Not(Box::new(c)))
        } else {
            match v.as_array() {
                Some(items) if !items.is_empty() => {
                    let mut all = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        let at = format!("{here}[{i}]");
                        if let Some(c) = compile_condition(item, &at, depth + 1, false, diagnostics)
                        {
                            all.push(c);
                        }
                    }
                    if *name == "And" {
                        Some(Node::And(all))
                    } else {
                        Some(Node::Or(all))
                    }
                }
                _ => {
                    error(
                        diagnostics,
                        format!("The field '{name}' must be a non-empty array of Choice Rules"),
                        &here,
                    );
                    None
                }
            }
        }
    } else if let Some((name, kind, operand)) = operators.first() {
        let variable = match variable {
            None => {
                required(diagnostics, "Variable", location);
                None
            }
            Some(v) => compile_path(v, "Variable", location, diagnostics),
        };
        let test = compile_test(name, *kind, operand, location, diagnostics);
        match (variable, test) {
            (Some(variable), Some(test)) => Some(Node::Test(Box::new(DataTest {
                variable,
                operator: name,
                written: (*operand).clone(),
                test,
            }))),
            _ => None,
        }
    } else {
        error(
            diagnostics,
            "A Choice Rule must have a comparison operator or one of the fields [And, Or, Not]",
            location,
        );
        None
    };
    if diagnostics.len() > before {
        return None;
    }
    node.map(|node| Condition {
        node,
        comment: if top { None } else { comment },
    })
}

fn compile_path(
    value: &Value,
    field: &str,
    location: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Path> {
    let at = format!("{location}/{field}");
    match value.as_str().map(Path::parse) {
        Some(Ok(path)) => Some(path),
        _ => {
            error(
                diagnostics,
                format!("The value for the field '{field}' must be a valid JSONPath"),
                &at,
            );
            None
        }
    }
}

fn compile_test(
    name: &str,
    kind: OpKind,
    operand: &Value,
    location: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Test> {
    let at = format!("{location}/{name}");
    let wrong = |diagnostics: &mut Vec<Diagnostic>, expected: &str| {
        error(
            diagnostics,
            format!("The value for the field '{name}' must be {expected}"),
            &at,
        );
        None
    };
    match kind {
        OpKind::Is(test) => match operand.as_bool() {
            Some(b) => Some(Test::Is(test, b)),
            None => wrong(diagnostics, "a boolean"),
        },
        OpKind::Matches => match operand.as_str() {
            Some(s) => Some(Test::Matches(Pattern::compile(s))),
            None => wrong(diagnostics, "a string"),
        },
        OpKind::Compare(family, cmp, true) => {
            let path = compile_path(operand, name, location, diagnostics)?;
            Some(Test::Compare {
                family,
                cmp,
                operand: Operand::Path(path),
            })
        }
        OpKind::Compare(family, cmp, false) => {
            let literal = match family {
                Family::String => operand.as_str().map(|s| Operand::String(s.to_owned())),
                Family::Numeric => match operand {
                    Value::Number(n) => Some(Operand::Number(n.clone())),
                    _ => None,
                },
                Family::Boolean => operand.as_bool().map(Operand::Boolean),
                Family::Timestamp => match operand.as_str() {
                    Some(s) => match crate::timestamp::parse(s) {
                        Some(t) => Some(Operand::Timestamp(t)),
                        None => {
                            error(diagnostics, "String does not match RFC3339 timestamp", &at);
                            return None;
                        }
                    },
                    None => None,
                },
            };
            match literal {
                Some(operand) => Some(Test::Compare {
                    family,
                    cmp,
                    operand,
                }),
                None => wrong(
                    diagnostics,
                    match family {
                        Family::String | Family::Timestamp => "a string",
                        Family::Numeric => "a number",
                        Family::Boolean => "a boolean",
                    },
                ),
            }
        }
    }
}

/// One entry of a Choice state's `Choices`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChoiceRule {
    /// The condition.
    pub condition: Condition,
    /// Name of the state to go to when it matches.
    pub next: String,
    /// `Assign` of the rule (JSONPath template), applied when it matches.
    /// For a JSONata rule the `Assign` object is kept here as written
    /// (compiled as a literal template, JSONata is not evaluated yet).
    pub assign: Option<PayloadTemplate>,
    /// JSONata `Output` of the rule, kept as written.
    pub output: Option<Value>,
    /// `Comment`.
    pub comment: Option<String>,
}

impl ChoiceRule {
    /// Compiles one top-level rule found at `location`
    /// (`/States/C/Choices[0]`); `jsonata` selects the rule grammar.
    pub fn compile(
        value: &Value,
        location: &str,
        jsonata: bool,
    ) -> Result<ChoiceRule, Vec<Diagnostic>> {
        let mut diagnostics = Vec::new();
        let Some(object) = value.as_object() else {
            error(
                &mut diagnostics,
                "A Choice Rule must be a JSON object",
                location,
            );
            return Err(diagnostics);
        };
        let next = match object.get("Next") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => {
                error(
                    &mut diagnostics,
                    "The value for the field 'Next' must be a non-empty string",
                    &format!("{location}/Next"),
                );
                None
            }
            None => {
                required(&mut diagnostics, "Next", location);
                None
            }
        };
        let comment = match object.get("Comment") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                error(
                    &mut diagnostics,
                    "The value for the field 'Comment' must be a string",
                    &format!("{location}/Comment"),
                );
                None
            }
        };
        let assign = match object.get("Assign") {
            None => None,
            Some(v) => compile_assign(v, location, &mut diagnostics),
        };
        let mut output = None;
        let condition = if jsonata {
            for key in object.keys() {
                match key.as_str() {
                    "Condition" | "Next" | "Assign" | "Comment" => {}
                    "Output" => output = object.get("Output").cloned(),
                    other => not_supported(&mut diagnostics, other, location),
                }
            }
            match object.get("Condition") {
                None => {
                    required(&mut diagnostics, "Condition", location);
                    None
                }
                Some(c @ Value::Bool(_)) => Some(Condition::jsonata(c.clone())),
                Some(c @ Value::String(s)) if is_jsonata_expression(s) => {
                    Some(Condition::jsonata(c.clone()))
                }
                Some(_) => {
                    error(
                        &mut diagnostics,
                        "The value for the field 'Condition' must be a boolean or a JSONata expression enclosed in {% %}",
                        &format!("{location}/Condition"),
                    );
                    None
                }
            }
        } else {
            if object.contains_key("Output") {
                error(
                    &mut diagnostics,
                    "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage",
                    location,
                );
            }
            if object.contains_key("Condition") {
                error(
                    &mut diagnostics,
                    "The QueryLanguage is set to 'JSONPath', but field 'Condition' is only supported for the 'JSONata' QueryLanguage",
                    location,
                );
            }
            let filtered;
            let rule = if object.contains_key("Output") || object.contains_key("Condition") {
                let mut copy = object.clone();
                copy.remove("Output");
                copy.remove("Condition");
                filtered = Value::Object(copy);
                &filtered
            } else {
                value
            };
            compile_condition(rule, location, 1, true, &mut diagnostics)
        };
        match (condition, next) {
            (Some(condition), Some(next)) if diagnostics.is_empty() => Ok(ChoiceRule {
                condition,
                next,
                assign,
                output,
                comment,
            }),
            _ => Err(diagnostics),
        }
    }

    /// The rule as written.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        if self.condition.is_jsonata() {
            self.condition.write_into(&mut map);
        } else if let Value::Object(fields) = self.condition.to_value() {
            map.extend(fields);
        }
        map.insert("Next".into(), Value::String(self.next.clone()));
        if let Some(assign) = &self.assign {
            map.insert("Assign".into(), assign.to_value());
        }
        if let Some(output) = &self.output {
            map.insert("Output".into(), output.clone());
        }
        if let Some(comment) = &self.comment {
            map.insert("Comment".into(), Value::String(comment.clone()));
        }
        Value::Object(map)
    }

    /// Evaluates the rule's condition.
    pub fn matches(&self, env: &Env<'_>) -> Result<bool, StatesError> {
        self.condition.eval(env)
    }
}

fn is_jsonata_expression(text: &str) -> bool {
    let t = text.trim();
    t.len() >= 4 && t.starts_with("{%") && t.ends_with("%}")
}

fn compile_assign(
    value: &Value,
    location: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<PayloadTemplate> {
    let at = format!("{location}/Assign");
    if !value.is_object() {
        error(
            diagnostics,
            "The value for the field 'Assign' must be an object",
            &at,
        );
        return None;
    }
    match PayloadTemplate::compile(value) {
        Ok(template) => Some(template),
        Err(problems) => {
            for p in problems {
                error(diagnostics, p.message, &format!("{at}{}", p.location));
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let m = |p: &str, s: &str| Pattern::compile(p).matches(s);
        assert!(m("*", ""));
        assert!(m("*", "abc"));
        assert!(m("a*c", "abc"));
        assert!(m("a*c", "ac"));
        assert!(!m("a*c", "ab"));
        assert!(m("*.log", "x.log"));
        assert!(!m("*.log", "x.log1"));
        assert!(m("a*b*c", "aXbYbc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("aba*aba", "aba-aba"));
        assert!(!m("aba*aba", "aba"));
        assert!(m(r"a\*b", "a*b"));
        assert!(!m(r"a\*b", "axb"));
        assert!(m(r"a\\b", r"a\b"));
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abcd"));
    }

    #[test]
    fn numbers() {
        let n = |v: Value| match v {
            Value::Number(n) => n,
            _ => unreachable!(),
        };
        let c = |a: Value, b: Value| compare_numbers(&n(a), &n(b));
        assert_eq!(c(0.into(), 0.0.into()), Some(Ordering::Equal));
        assert_eq!(c(1.into(), 1.5.into()), Some(Ordering::Less));
        assert_eq!(c(2.into(), 1.5.into()), Some(Ordering::Greater));
        assert_eq!(c((-2).into(), (-1.5).into()), Some(Ordering::Less));
        assert_eq!(
            c(u64::MAX.into(), (u64::MAX - 1).into()),
            Some(Ordering::Greater)
        );
        assert_eq!(c(i64::MIN.into(), u64::MAX.into()), Some(Ordering::Less));
        assert_eq!(
            c(9007199254740993u64.into(), 9007199254740992.0.into()),
            Some(Ordering::Greater)
        );
        assert_eq!(c(1.0e300.into(), u64::MAX.into()), Some(Ordering::Greater));
    }
}

#[cfg(test)]
mod suite;
