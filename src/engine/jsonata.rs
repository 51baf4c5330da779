//! The JSONata side of the data flow, beside [`super::io`]'s JSONPath one:
//! every `{% %}` field of a JSONata state evaluated against `$states`
//! (`input`, `result`, `errorOutput`, `context`, each where AWS binds it)
//! and the workflow variables, with AWS's `States.QueryEvaluationError`
//! causes, and the flows of the states whose JSONata form differs from the
//! JSONPath one (Pass, Choice, Wait, Succeed, Fail; the result side of
//! Task, Parallel and Map; catchers).

use super::io::{Assigned, TaskSettings};
use super::walk::StateCx;
use crate::definition::{
    Assign, Catcher, Choice, ChoiceRules, Dynamic, Fail, Io, JsonataCondition, JsonataExpression,
    JsonataTemplate, Pass, Task, Wait, WaitFor,
};
use crate::error::{ErrorName, StatesError};
use crate::json::type_name;
use crate::json::{Bounds, Measure, Payload};
use crate::jsonata::{Detached, Env, Outcome};
use crate::jsonpath::path::Scope;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// What every JSONata expression of a state sees besides `$states`: the
/// context object and the variables, the time `$now()` reads (when the
/// state was entered) and the seed of `$random()`/`$uuid()`.
#[derive(Clone, Copy)]
pub(crate) struct Jx<'a> {
    pub scope: Scope<'a>,
    pub now_ms: i64,
    pub seed: u64,
}

impl<'a> Jx<'a> {
    /// The same with another context object (a task attempt's, a Map
    /// item's).
    pub(crate) fn with_context<'b>(&self, context: &'b Value) -> Jx<'b>
    where
        'a: 'b,
    {
        Jx {
            scope: Scope {
                context,
                variables: self.scope.variables,
            },
            now_ms: self.now_ms,
            seed: self.seed,
        }
    }
}

impl StateCx<'_, '_> {
    /// What the state's JSONata expressions see besides `$states`.
    pub(crate) fn jx(&self) -> Jx<'_> {
        let now = self.entered_time;
        let now_ms = crate::timestamp::unix_nanos(now) / 1_000_000;
        // a different seed for every state entered in every execution
        let seed = self.run.ident().seed;
        Jx {
            scope: self.scope(),
            now_ms: i64::try_from(now_ms).unwrap_or(0),
            seed: seed ^ self.entered.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        }
    }
}

/// The bounds of one evaluation in a state: the evaluator's, with at most
/// a million items in a value built during evaluation, and the bytes one
/// value may take (a string, or the result as it is copied out) held to
/// the build cap of the payload limit as the JSONPath side holds a payload
/// template: four times the limit, at least 1 MiB, unbounded when the
/// limit is off (an `Assign`: of the larger of the variable limits).
fn limits(jx: &Jx<'_>, field: &str) -> crate::jsonata::Limits {
    let build = jx.scope.variables.build_limits();
    let bytes = if field.ends_with("Assign") {
        build
            .variable_bytes
            .into_iter()
            .chain(build.assign_bytes)
            .max()
    } else {
        build.payload_bytes
    };
    crate::jsonata::Limits {
        max_steps: 5_000_000,
        max_depth: 10_000,
        max_stack_bytes: 160 * 1024,
        max_items: 1_000_000,
        max_value_depth: 200,
        max_bytes: bytes.map_or(usize::MAX, crate::json::build_cap),
    }
}

/// `$states` of one field: the members AWS binds there.
#[derive(Clone, Copy)]
pub(crate) struct States<'a> {
    pub input: &'a Value,
    pub result: Option<&'a Value>,
    pub error_output: Option<&'a Value>,
}

impl<'a> States<'a> {
    /// `$states.input` only (with `$states.context`).
    pub(crate) fn input(input: &'a Value) -> States<'a> {
        States {
            input,
            result: None,
            error_output: None,
        }
    }
}

/// A `States.QueryEvaluationError` of the expression `e` in `field`.
fn failed(e: &JsonataExpression, field: &str, what: &str) -> StatesError {
    StatesError::new(
        ErrorName::QueryEvaluationError,
        format!(
            "The JSONata expression '{}' specified for the field '{field}' {what}",
            e.source().trim()
        ),
    )
}

/// The EvaluationFailed `location` of a JSONata error's cause (`None` when
/// it names no field).
pub(crate) fn location_of(cause: &str) -> Option<&str> {
    if let Some((_, rest)) = cause.split_once("' specified for the field '") {
        return rest.split_once("' ").map(|(field, _)| field);
    }
    let (_, rest) = cause.split_once("). The ")?;
    let (field, _) = rest.split_once(" field cannot be parsed")?;
    (!field.contains(' ')).then_some(field)
}

/// "returned an unexpected result type" for `v`, `expected` being AWS's name.
fn unexpected(e: &JsonataExpression, field: &str, expected: &str, v: &Value) -> StatesError {
    failed(
        e,
        field,
        &format!(
            "returned an unexpected result type. Expected '{expected}', but was '{}' for value: {}",
            type_name(v),
            serde_json::to_string(v).unwrap_or_default()
        ),
    )
}

/// Evaluates one expression in `field`.
pub(crate) fn eval(
    e: &JsonataExpression,
    field: &str,
    states: States<'_>,
    jx: &Jx<'_>,
    salt: u64,
) -> Result<Value, StatesError> {
    Ok(eval_at(e, (field, ""), states, jx, salt, (&[], None))?.fill(&mut []))
}

/// Evaluates one expression at `pointer` inside `field` (the field's
/// name is made only for an error), the parts of its result that are
/// `sources` or their direct members left as holes (see
/// [`Detached::fill`]).
fn eval_at(
    e: &JsonataExpression,
    (field, pointer): (&str, &str),
    states: States<'_>,
    jx: &Jx<'_>,
    salt: u64,
    sources: (&[&Value], Option<&[Measure]>),
) -> Result<Detached, StatesError> {
    let failed =
        |e: &JsonataExpression, _: &str, what: &str| failed(e, &format!("{field}{pointer}"), what);
    let threw = |e: &JsonataExpression, err: crate::jsonata::Error| {
        if err.code() == "U1004" {
            // past the build cap: what the JSONPath side reports
            return crate::error::result_too_big();
        }
        failed(
            e,
            field,
            &format!(
                "threw an error during evaluation. {}: {}",
                err.code(),
                err.message()
            ),
        )
    };
    let expr = match e.compiled() {
        Ok(expr) => expr,
        Err(err) => return Err(threw(e, err.clone())),
    };
    let limits = limits(jx, field);
    if let Some((var, keys)) = expr.simple_path() {
        match read_simple(var, keys, states, jx) {
            Some(Some(v)) => {
                return crate::jsonata::Expression::detach_found(v, &limits, sources)
                    .map_err(|err| threw(e, err))
            }
            Some(None) => return Err(failed(e, field, "returned nothing (undefined).")),
            None => {}
        }
    }
    let mut env = Env::new();
    env.bind_states([
        Some(("input", states.input)),
        states.result.map(|r| ("result", r)),
        states.error_output.map(|r| ("errorOutput", r)),
        Some(("context", jx.scope.context)),
    ]);
    for name in expr.variables() {
        if name == "states" {
            continue;
        }
        if let Some(v) = jx.scope.variables.get(name) {
            env.bind(name, v);
        }
    }
    env.set_limits(limits)
        .set_now_millis(jx.now_ms)
        .set_seed(jx.seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    match expr.evaluate_detached(None, &env, sources) {
        Ok(Outcome::Value(v)) => Ok(v),
        Ok(Outcome::Undefined) => Err(failed(e, field, "returned nothing (undefined).")),
        Ok(Outcome::Function) => Err(failed(e, field, "returned an unsupported result type.")),
        Err(err) => Err(threw(e, err)),
    }
}

/// `$var.key...` read without evaluating (see
/// [`crate::jsonata::Expression::simple_path`]): `Some(None)` is undefined,
/// `None` leaves it to the evaluator (a step meets an array, or the variable
/// is not a workflow variable).
fn read_simple<'v>(
    var: &str,
    keys: &[String],
    states: States<'v>,
    jx: &Jx<'v>,
) -> Option<Option<&'v Value>> {
    let (mut node, keys) = if var == "states" {
        let (first, rest) = keys.split_first()?;
        let member = match first.as_str() {
            "input" => Some(states.input),
            "result" => states.result,
            "errorOutput" => states.error_output,
            "context" => Some(jx.scope.context),
            _ => None,
        };
        match member {
            Some(m) => (m, rest),
            None => return Some(None),
        }
    } else {
        (jx.scope.variables.get(var)?, keys)
    };
    for key in keys {
        node = match node {
            Value::Object(m) => match m.get(key.as_str()) {
                Some(v) => v,
                None => return Some(None),
            },
            Value::Array(_) => return None,
            _ => return Some(None),
        };
    }
    Some(Some(node))
}

/// Evaluates a template in `field`: every `{% %}` string replaced by its
/// value, in document order (an undefined value is an error).
pub(crate) fn template(
    t: &JsonataTemplate,
    field: &str,
    states: States<'_>,
    jx: &Jx<'_>,
) -> Result<Value, StatesError> {
    Ok(template_from(t, field, states, jx, (&[], None))?.fill(&mut []))
}

/// [`template`] for a caller that gives up `source` (`$states.input`, or
/// `$states.result` beside `input`) once it has the result: what the
/// result takes of it is moved, not copied. The output is bounded from
/// the source's bound where the evaluation kept one, else measured.
fn template_moving(
    (t, field): (&JsonataTemplate, &str),
    bounds: Bounds,
    jx: &Jx<'_>,
    source: Payload,
    input: Option<&Value>,
) -> Result<Payload, StatesError> {
    let Payload {
        value: mut source,
        bound,
    } = source;
    let states = match input {
        None => States::input(&source),
        Some(input) => States {
            input,
            result: Some(&source),
            error_output: None,
        },
    };
    let kept = [bound];
    let keep = (bounds != Bounds::OFF).then_some(&kept[..]);
    let detached = template_from(t, field, states, jx, (&[&source], keep))?;
    let out_bound = detached.bound();
    let value = detached.fill(&mut [&mut source]);
    Ok(match out_bound {
        Some(b) => Payload::new(value, b),
        None => bounds.measured(value),
    })
}

/// [`template`] with the parts of the result that are `sources` (or their
/// direct members) left as holes.
fn template_from(
    t: &JsonataTemplate,
    field: &str,
    states: States<'_>,
    jx: &Jx<'_>,
    sources: (&[&Value], Option<&[Measure]>),
) -> Result<Detached, StatesError> {
    let located = t.located();
    if let [(pointer, e)] = located {
        if pointer.is_empty() {
            return eval_at(e, (field, ""), states, jx, 0, sources);
        }
    }
    let mut out = Detached::from_value(t.to_value());
    for (i, (pointer, e)) in located.iter().enumerate() {
        let v = eval_at(e, (field, pointer), states, jx, i as u64 + 1, sources)?;
        out.put(pointer, v);
    }
    Ok(out)
}

/// An `Assign` of a JSONata state: the variables to set (every right-hand
/// side sees the values from before the assignment).
pub(crate) fn assign(
    a: Option<&Assign>,
    field: &str,
    states: States<'_>,
    jx: &Jx<'_>,
) -> Result<Assigned, StatesError> {
    let t = match a {
        None => return Ok(None),
        Some(Assign::Jsonata(t)) => t,
        Some(Assign::JsonPath(t)) => {
            // a JSONPath Assign in a JSONata state cannot load; kept total
            return match t.eval(&jx.scope.env(states.input))? {
                Value::Object(o) => Ok(Some(o)),
                _ => Ok(None),
            };
        }
    };
    template_assign(Some(t), field, states, jx)
}

fn template_assign(
    t: Option<&JsonataTemplate>,
    field: &str,
    states: States<'_>,
    jx: &Jx<'_>,
) -> Result<Assigned, StatesError> {
    match t {
        None => Ok(None),
        Some(t) => match template(t, field, states, jx)? {
            Value::Object(o) => Ok(Some(o)),
            _ => Ok(None),
        },
    }
}

/// `Output` of a state's [`Io`].
pub(crate) fn io_output(io: &Io) -> Option<&JsonataTemplate> {
    match io {
        Io::Jsonata { output, .. } => output.as_ref(),
        Io::JsonPath { .. } => None,
    }
}

/// `Arguments` of a state's [`Io`].
pub(crate) fn io_arguments(io: &Io) -> Option<&JsonataTemplate> {
    match io {
        Io::Jsonata { arguments, .. } => arguments.as_ref(),
        Io::JsonPath { .. } => None,
    }
}

/// `Arguments` over the state input (default: the input itself).
pub(crate) fn arguments(io: &Io, input: &Value, jx: &Jx<'_>) -> Result<Value, StatesError> {
    match io_arguments(io) {
        None => Ok(input.clone()),
        Some(t) => template(t, "Arguments", States::input(input), jx),
    }
}

/// A JSONata number field (`field`) that must give an integer in `range`.
pub(crate) fn integer(
    e: &JsonataExpression,
    field: &str,
    input: &Value,
    jx: &Jx<'_>,
    min: i64,
) -> Result<i64, StatesError> {
    let v = eval(e, field, States::input(input), jx, 0)?;
    match v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
            .map(|f| f as i64)
    }) {
        Some(n) if n >= min => Ok(n),
        Some(_) => Err(failed(
            e,
            field,
            &format!(
                "returned a value out of range. Expected an integer of at least {min}, but was: {}",
                serde_json::to_string(&v).unwrap_or_default()
            ),
        )),
        None => Err(unexpected(e, field, "integer", &v)),
    }
}

/// A JSONata field that must give a string.
pub(crate) fn string(
    e: &JsonataExpression,
    field: &str,
    input: &Value,
    jx: &Jx<'_>,
) -> Result<String, StatesError> {
    match eval(e, field, States::input(input), jx, 0)? {
        Value::String(s) => Ok(s),
        other => Err(unexpected(e, field, "string", &other)),
    }
}

/// A number field in either form for the JSONata side: `Some` when it is a
/// JSONata expression (evaluated over `input`).
pub(crate) fn dynamic_integer<T>(
    d: Option<&Dynamic<T>>,
    field: &str,
    input: &Value,
    jx: &Jx<'_>,
    min: i64,
) -> Option<Result<i64, StatesError>> {
    match d {
        Some(Dynamic::Jsonata(e)) => Some(integer(e, field, input, jx, min)),
        _ => None,
    }
}

// ------------------------------------------------------------------ states

/// A JSONata Pass state: Assign and Output over the input.
pub(crate) fn pass(
    s: &Pass,
    bounds: Bounds,
    jx: &Jx<'_>,
    input: Payload,
) -> Result<(Payload, Assigned), StatesError> {
    let assigned = assign(s.assign.as_ref(), "Assign", States::input(&input.value), jx)?;
    let out = match io_output(&s.io) {
        Some(t) => template_moving((t, "Output"), bounds, jx, input, None)?,
        None => match &s.result {
            Some(r) => bounds.measured(r.clone()),
            None => input,
        },
    };
    Ok((out, assigned))
}

/// The output of a JSONata Succeed or Wait state: its Output over the
/// input (default: the input).
pub(crate) fn succeed_output(
    t: Option<&JsonataTemplate>,
    bounds: Bounds,
    jx: &Jx<'_>,
    input: Payload,
) -> Result<Payload, StatesError> {
    match t {
        Some(t) => template_moving((t, "Output"), bounds, jx, input, None),
        None => Ok(input),
    }
}

/// The error a JSONata Fail state ends with.
pub(crate) fn fail(s: &Fail, input: &Value, jx: &Jx<'_>) -> Result<StatesError, StatesError> {
    let field = |f: &Option<Dynamic<String, crate::jsonpath::template::Expression>>,
                 name: &str|
     -> Result<Option<String>, StatesError> {
        match f {
            None => Ok(None),
            Some(Dynamic::Literal(s)) => Ok(Some(s.clone())),
            Some(Dynamic::Jsonata(e)) => string(e, name, input, jx).map(Some),
            Some(Dynamic::Path(_)) => Ok(None),
        }
    };
    let error = field(&s.error, "Error")?;
    let cause = field(&s.cause, "Cause")?;
    Ok(StatesError {
        name: match error {
            Some(t) => ErrorName::new(&t),
            None => ErrorName::Custom(String::new()),
        },
        cause,
    })
}

/// What a JSONata Choice state decides: its output, the matching rule
/// (`None`: the Default) and the variables (the state's Assign, the rule's
/// on top); `States.NoChoiceMatched` when nothing matches.
pub(crate) fn choice(
    s: &Choice,
    bounds: Bounds,
    jx: &Jx<'_>,
    input: Payload,
) -> Result<(Payload, Option<usize>, Assigned), StatesError> {
    let states = States::input(&input.value);
    let rules = match &s.choices {
        ChoiceRules::Jsonata(rules) => rules.as_slice(),
        ChoiceRules::JsonPath(_) => &[],
    };
    let mut matched = None;
    for (i, rule) in rules.iter().enumerate() {
        let yes = match &rule.condition {
            JsonataCondition::Literal(b) => *b,
            JsonataCondition::Expression(e) => {
                let field = format!("Choices[{i}]/Condition");
                match eval(e, &field, states, jx, 0)? {
                    Value::Bool(b) => b,
                    other => return Err(unexpected(e, &field, "boolean", &other)),
                }
            }
        };
        if yes {
            matched = Some(i);
            break;
        }
    }
    let rule = matched.and_then(|i| rules.get(i));
    if rule.is_none() && s.default.is_none() {
        return Err(StatesError::new(ErrorName::NoChoiceMatched, "No Matches!"));
    }
    let assigned = assign(s.assign.as_ref(), "Assign", states, jx)?;
    let rule_assigned = match (matched, rule) {
        (Some(i), Some(r)) => template_assign(
            r.assign.as_ref(),
            &format!("Choices[{i}]/Assign"),
            states,
            jx,
        )?,
        _ => None,
    };
    let assigned = super::io::merge_assign(assigned, rule_assigned);
    let out = match (matched, rule.and_then(|r| r.output.as_ref())) {
        (Some(i), Some(t)) => {
            bounds.measured(template(t, &format!("Choices[{i}]/Output"), states, jx)?)
        }
        _ => match io_output(&s.io) {
            Some(t) => bounds.measured(template(t, "Output", states, jx)?),
            None => input,
        },
    };
    Ok((out, matched, assigned))
}

const MAX_WAIT_SECONDS: i64 = 1 << 31;

/// How long a JSONata Wait state waits from `now`, and its variables.
pub(crate) fn wait_prepare(
    s: &Wait,
    jx: &Jx<'_>,
    input: &Value,
    now: SystemTime,
) -> Result<(Duration, Assigned), StatesError> {
    let delay = match &s.wait {
        WaitFor::Seconds(Dynamic::Jsonata(e)) => {
            let n = integer(e, "Seconds", input, jx, 0)?;
            if n >= MAX_WAIT_SECONDS {
                return Err(StatesError::runtime("Wait state delay is too long."));
            }
            Duration::from_secs(n.unsigned_abs())
        }
        WaitFor::Timestamp(Dynamic::Jsonata(e)) => {
            let text = match eval(e, "Timestamp", States::input(input), jx, 0)? {
                Value::String(t) => t,
                other => return Err(unexpected(e, "Timestamp", "string", &other)),
            };
            let Some(t) = crate::timestamp::parse_rfc3339_nanos(&text) else {
                return Err(StatesError::new(
                    ErrorName::QueryEvaluationError,
                    format!(
                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {text}"
                    ),
                ));
            };
            let ahead = (t - crate::timestamp::unix_nanos(now)).max(0);
            let seconds = u64::try_from(ahead / 1_000_000_000).unwrap_or(u64::MAX);
            if seconds >= MAX_WAIT_SECONDS as u64 {
                return Err(StatesError::runtime("Wait state delay is too long."));
            }
            Duration::new(seconds, (ahead % 1_000_000_000) as u32)
        }
        other => {
            // literal Seconds/Timestamp: the JSONPath reading
            return super::io::wait_duration(other, input, &jx.scope, now).and_then(|d| {
                let assigned = assign(s.assign.as_ref(), "Assign", States::input(input), jx)?;
                Ok((d, assigned))
            });
        }
    };
    let assigned = assign(s.assign.as_ref(), "Assign", States::input(input), jx)?;
    Ok((delay, assigned))
}

/// The end of a JSONata Task, Parallel or Map state once its work gave
/// `result`: Assign and Output over `$states.input` and `$states.result`
/// (Output defaults to the result).
pub(crate) fn result_output(
    bounds: Bounds,
    (a, output): (Option<&Assign>, Option<&JsonataTemplate>),
    (input, result): (&Value, Payload),
    jx: &Jx<'_>,
) -> Result<(Payload, Assigned), StatesError> {
    let states = States {
        input,
        result: Some(&result.value),
        error_output: None,
    };
    let assigned = assign(a, "Assign", states, jx)?;
    let out = match output {
        Some(t) => template_moving((t, "Output"), bounds, jx, result, Some(input))?,
        None => result,
    };
    Ok((out, assigned))
}

/// What a catcher of a JSONata state makes of the error output: its
/// Assign and Output over `$states.input` and `$states.errorOutput`
/// (Output defaults to the error output).
pub(crate) fn caught(
    bounds: Bounds,
    catcher: &Catcher,
    index: usize,
    (input, error_output): (&Value, Value),
    jx: &Jx<'_>,
) -> Result<(Payload, Assigned), StatesError> {
    let states = States {
        input,
        result: None,
        error_output: Some(&error_output),
    };
    let assigned = assign(
        catcher.assign.as_ref(),
        &format!("Catch[{index}]/Assign"),
        states,
        jx,
    )?;
    let out = match &catcher.output {
        Some(t) => template(t, &format!("Catch[{index}]/Output"), states, jx)?,
        None => error_output,
    };
    Ok((bounds.measured(out), assigned))
}

/// The role and timeouts of a JSONata Task that are expressions, over
/// its input, into `settings`.
pub(crate) fn task_settings(
    s: &Task,
    input: &Value,
    jx: &Jx<'_>,
    settings: &mut TaskSettings,
) -> Result<(), StatesError> {
    let seconds = |d: Option<&Dynamic<u64>>, field: &str| -> Result<Option<u64>, StatesError> {
        match dynamic_integer(d, field, input, jx, 1) {
            Some(r) => r.map(|n| Some(n.unsigned_abs())),
            None => Ok(None),
        }
    };
    if let Some(t) = seconds(s.timeout_seconds.as_ref(), "TimeoutSeconds")? {
        settings.timeout = Some(t);
    }
    if let Some(h) = seconds(s.heartbeat_seconds.as_ref(), "HeartbeatSeconds")? {
        settings.heartbeat = Some(h);
    }
    if let Some(Dynamic::Jsonata(e)) = s.credentials.as_ref().map(|c| &c.role_arn) {
        settings.role = Some(string(e, "Credentials/RoleArn", input, jx)?);
    }
    Ok(())
}

/// The items of a JSONata Map: `Items` (an array), else the input itself,
/// which must then be an array.
pub(crate) fn items(
    t: Option<&JsonataTemplate>,
    input: &Value,
    jx: &Jx<'_>,
) -> Result<Vec<Value>, StatesError> {
    let Some(t) = t else {
        return match input {
            Value::Array(a) => Ok(a.clone()),
            other => Err(StatesError::new(
                ErrorName::QueryEvaluationError,
                format!(
                    "Map state input must be an array but was: {}",
                    serde_json::to_string(other).unwrap_or_default()
                ),
            )),
        };
    };
    match template(t, "Items", States::input(input), jx)? {
        Value::Array(a) => Ok(a),
        other => {
            let e = t.located().first().map(|(_, e)| e);
            match e {
                Some(e) => Err(unexpected(e, "Items", "array", &other)),
                None => Err(StatesError::new(
                    ErrorName::QueryEvaluationError,
                    format!(
                        "Map state input must be an array but was: {}",
                        serde_json::to_string(&other).unwrap_or_default()
                    ),
                )),
            }
        }
    }
}

/// What a JSONata Map state computes before its iterations: the items,
/// MaxConcurrency (0: no limit) and the tolerances (`literal`: their
/// literal values, an error in them shows after MapStateStarted).
pub(crate) fn map_prepare(
    s: &crate::definition::Map,
    input: &Value,
    jx: &Jx<'_>,
    literal: super::states::map::Tolerance,
) -> Result<(Vec<Value>, u64, super::states::map::Tolerance), StatesError> {
    let items = items(s.items.as_ref(), input, jx)?;
    let max_concurrency = match &s.max_concurrency {
        None => 0,
        Some(Dynamic::Literal(n)) => *n,
        Some(Dynamic::Jsonata(e)) => integer(e, "MaxConcurrency", input, jx, 0)?.unsigned_abs(),
        Some(Dynamic::Path(_)) => 0,
    };
    let tolerance = literal.and_then(|(count, percentage)| {
        let count = match &s.tolerated_failure_count {
            Some(Dynamic::Jsonata(e)) => {
                Some(integer(e, "ToleratedFailureCount", input, jx, 0)?.unsigned_abs())
            }
            _ => count,
        };
        let percentage = match map_percentage(s.tolerated_failure_percentage.as_ref(), input, jx) {
            Some(p) => Some(p?),
            None => percentage,
        };
        Ok((count, percentage))
    });
    Ok((items, max_concurrency, tolerance))
}

/// ToleratedFailurePercentage when it is an expression.
fn map_percentage(
    d: Option<&Dynamic<f64>>,
    input: &Value,
    jx: &Jx<'_>,
) -> Option<Result<f64, StatesError>> {
    let Some(Dynamic::Jsonata(e)) = d else {
        return None;
    };
    let field = "ToleratedFailurePercentage";
    Some(
        eval(e, field, States::input(input), jx, 0).and_then(|v| match v.as_f64() {
            Some(p) if (0.0..=100.0).contains(&p) => Ok(p),
            Some(_) => Err(failed(
                e,
                field,
                &format!(
                    "returned a value out of range. Expected a number between 0 and 100, but was: {v}"
                ),
            )),
            None => Err(unexpected(e, field, "number", &v)),
        }),
    )
}

/// A Map iteration's input from a JSONata ItemSelector: `$states.input` is
/// the Map's input, the item is in `$states.context.Map.Item`.
pub(crate) fn item_selector(
    t: &JsonataTemplate,
    input: &Value,
    jx: &Jx<'_>,
) -> Result<Value, StatesError> {
    template(t, "ItemSelector", States::input(input), jx)
}

/// True when an expression may read `$states.context` (anything but
/// `$states.input`, `$states.result` and `$states.errorOutput`).
pub(crate) fn reads_context(e: &JsonataExpression) -> bool {
    let text = e.source();
    let mut rest = text;
    while let Some(at) = rest.find("$states") {
        let after = &rest[at + "$states".len()..];
        let member = after.trim_start();
        let known = ["input", "result", "errorOutput"].iter().any(|m| {
            member
                .strip_prefix('.')
                .map(str::trim_start)
                .is_some_and(|x| x.starts_with(m))
        });
        if !known {
            return true;
        }
        rest = after;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Variables;
    use serde_json::json;

    struct One(Value);
    impl Variables for One {
        fn get(&self, name: &str) -> Option<&Value> {
            (name == "x").then_some(&self.0)
        }
    }

    /// A simple path read without the evaluator gives what the evaluator
    /// gives, on every shape of document.
    #[test]
    fn simple_paths_read_as_the_evaluator_reads_them() {
        let docs = [
            json!({"a": {"b": 1}}),
            json!({"a": {"b": [1, [2]]}}),
            json!({"a": {"b": []}}),
            json!({"a": [{"b": 1}, {"b": 2}]}),
            json!({"a": "text"}),
            json!({"a": null}),
            json!({"a": {"b": null}}),
            json!([{"a": {"b": 3}}]),
            json!(5),
            json!({}),
        ];
        let paths = [
            "$x",
            "$x.a",
            "$x.a.b",
            "$x.a.b.c",
            "$states.input.a.b",
            "$states.context.a",
            "$states.result.a",
        ];
        for doc in &docs {
            let vars = One(doc.clone());
            let jx = Jx {
                scope: Scope {
                    context: doc,
                    variables: &vars,
                },
                now_ms: 0,
                seed: 0,
            };
            let states = States {
                input: doc,
                result: None,
                error_output: None,
            };
            for src in paths {
                let expr = crate::jsonata::Expression::parse(src).unwrap();
                let (var, keys) = expr.simple_path().unwrap();
                let Some(fast) = read_simple(var, keys, states, &jx) else {
                    continue;
                };
                let mut env = Env::new();
                env.bind("x", doc);
                env.bind_object("states", vec![("input", doc), ("context", doc)]);
                let full = expr.evaluate(None, &env).unwrap();
                assert_eq!(fast.cloned(), full, "{src} over {doc}");
            }
        }
    }
}
