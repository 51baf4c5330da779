//! The fields of a state read through its query language: the only module
//! of the engine that branches on it. JSONPath runs through
//! [`crate::jsonpath::data_flow`] (InputPath -> Parameters ->
//! ResultSelector -> ResultPath -> OutputPath, with size bounds) and the
//! compiled paths, templates and Choice rules; the JSONata side is its
//! sibling [`super::jsonata`], which the state handlers call for JSONata
//! states (a JSONata field never reaches the JSONPath functions here:
//! those that meet one leave it to the JSONata side).

use super::inspect::{Inspect, Stage};
use super::plan::{MoveField, MoveTemplate};
use crate::definition::{Assign, Choice, Dynamic, Task, WaitFor};
use crate::error::StatesError;
use crate::json::{add, Bounds, Built, Measure, Payload};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::{Path, ReferencePath, Scope};
use crate::jsonpath::template::{Expression, PayloadTemplate};
use crate::jsonpath::Env;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::time::{Duration, SystemTime};

/// The variables a state assigns (committed when it finishes).
pub(crate) type Assigned = Option<Map<String, Value>>;

/// What a JSONata field read by the JSONPath data flow fails with (the
/// handlers send JSONata states to [`super::jsonata`]: not reached).
fn wrong_language() -> StatesError {
    StatesError::runtime("a JSONata field was read by the JSONPath data flow")
}

/// Evaluates an `Assign` over `data` (committed when the state finishes).
#[inline]
pub(crate) fn assign(
    a: Option<&Assign>,
    data: &Value,
    scope: &Scope<'_>,
) -> Result<Assigned, StatesError> {
    match a {
        None => Ok(None),
        Some(Assign::JsonPath(t)) => match t.eval_assign(&scope.env(data))? {
            Value::Object(o) => Ok(Some(o)),
            _ => Ok(None),
        },
        Some(Assign::Jsonata(_)) => Err(wrong_language()),
    }
}

/// The state's `Assign` with a Choice rule's on top.
#[inline]
pub(crate) fn merge_assign(
    a: Option<Map<String, Value>>,
    b: Option<Map<String, Value>>,
) -> Option<Map<String, Value>> {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
    }
}

/// The first Choice rule matching `env`, with its `Assign` evaluated.
pub(crate) fn choose(s: &Choice, env: &Env<'_>) -> Result<Option<(usize, Assigned)>, StatesError> {
    for (i, rule) in s.choices.json_path().iter().enumerate() {
        if rule.condition.eval(env)? {
            let assigned = match &rule.assign {
                Some(t) => match t.eval_assign(env)? {
                    Value::Object(o) => Some(o),
                    _ => None,
                },
                None => None,
            };
            return Ok(Some((i, assigned)));
        }
    }
    Ok(None)
}

/// A Fail state's `Error`/`Cause` (`name` is `ErrorPath` or `CausePath`).
pub(crate) fn fail_field(
    f: &Option<Dynamic<String, Expression>>,
    name: &str,
    input: &Value,
    scope: &Scope<'_>,
) -> Result<Option<String>, StatesError> {
    match f {
        None => Ok(None),
        Some(Dynamic::Literal(s)) => Ok(Some(s.clone())),
        Some(Dynamic::Path(e)) => match e.eval(&scope.env(input), name)? {
            Value::String(s) => Ok(Some(s)),
            other => Err(StatesError::runtime(format!(
                "The {name} parameter must resolve to a string value: {}",
                serde_json::to_string(&other).unwrap_or_default()
            ))),
        },
        Some(Dynamic::Jsonata(_)) => Err(wrong_language()),
    }
}

/// A number field (`MaxConcurrency`, `ToleratedFailure*`, `TimeoutSeconds`,
/// `HeartbeatSeconds`) or its `...Path` (`field` names it) over `input`.
pub(crate) fn number_field<T: Copy, R>(
    n: Option<&Dynamic<T>>,
    (field, input, scope): (&str, &Value, &Scope<'_>),
    literal: impl Fn(T) -> R,
    read: impl Fn(&Value) -> Option<R>,
    kind: &str,
) -> Result<Option<R>, StatesError> {
    match n {
        None => Ok(None),
        Some(Dynamic::Literal(v)) => Ok(Some(literal(*v))),
        Some(Dynamic::Path(p)) => {
            let v = p
                .eval(&scope.env(input))
                .map_err(|e| StatesError::runtime(e.to_string()))?;
            match read(v) {
                Some(n) => Ok(Some(n)),
                None => Err(StatesError::runtime(format!(
                    "The {field} field refers to value \"{}\" which is not a valid {kind}: {}",
                    match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                    p.as_str()
                ))),
            }
        }
        // resolved by the JSONata side
        Some(Dynamic::Jsonata(_)) => Ok(None),
    }
}

/// A positive number of seconds (`TimeoutSeconds`, `HeartbeatSeconds`).
fn resolve_seconds(
    n: Option<&Dynamic<u64>>,
    field: &str,
    input: &Value,
    scope: &Scope<'_>,
) -> Result<Option<u64>, StatesError> {
    number_field(
        n,
        (field, input, scope),
        |v| v,
        |v| v.as_u64().filter(|&n| n > 0),
        "positive integer",
    )
}

/// What a Task resolves once, against its state input: the timeout, the
/// heartbeat and the role to assume.
pub(crate) struct TaskSettings {
    pub timeout: Option<u64>,
    pub heartbeat: Option<u64>,
    pub role: Option<String>,
}

/// The [`TaskSettings`] of `s` over the state input `raw`.
pub(crate) fn task_settings(
    s: &Task,
    raw: &Value,
    scope: &Scope<'_>,
) -> Result<TaskSettings, StatesError> {
    let needs_input = matches!(s.timeout_seconds, Some(Dynamic::Path(_)))
        || matches!(s.heartbeat_seconds, Some(Dynamic::Path(_)))
        || matches!(
            s.credentials.as_ref().map(|c| &c.role_arn),
            Some(Dynamic::Path(_))
        );
    let effective = if needs_input {
        data_flow::select(s.io.input_path(), raw, scope)?
    } else {
        Cow::Owned(Value::Null)
    };
    let timeout = resolve_seconds(
        s.timeout_seconds.as_ref(),
        "TimeoutSecondsPath",
        &effective,
        scope,
    )?;
    let heartbeat = resolve_seconds(
        s.heartbeat_seconds.as_ref(),
        "HeartbeatSecondsPath",
        &effective,
        scope,
    )?;
    let role = match s.credentials.as_ref().map(|c| &c.role_arn) {
        None => None,
        Some(Dynamic::Literal(r)) => Some(r.clone()),
        // resolved by the JSONata side
        Some(Dynamic::Jsonata(_)) => None,
        Some(Dynamic::Path(e)) => match e.eval(&scope.env(&effective), "RoleArn.$")? {
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        },
    };
    Ok(TaskSettings {
        timeout,
        heartbeat,
        role,
    })
}

const MAX_WAIT_SECONDS: u64 = 1 << 31;

/// How long a Wait state waits from `now`.
pub(crate) fn wait_duration(
    w: &WaitFor,
    input: &Value,
    scope: &Scope<'_>,
    now: SystemTime,
) -> Result<Duration, StatesError> {
    // in nanoseconds since the epoch: any RFC 3339 time compares with any
    // clock time, on any platform
    let until = |t: i128| {
        let ahead = (t - crate::timestamp::unix_nanos(now)).max(0);
        let seconds = u64::try_from(ahead / 1_000_000_000).unwrap_or(u64::MAX);
        delay(Duration::new(seconds, (ahead % 1_000_000_000) as u32))
    };
    match w {
        WaitFor::Seconds(Dynamic::Literal(n)) => delay(Duration::from_secs(*n)),
        WaitFor::Timestamp(Dynamic::Literal(t)) => match crate::timestamp::parse_iso_offset_nanos(t) {
            Some(t) => until(t),
            None => Err(StatesError::runtime(format!(
                "The Timestamp parameter does not reference a valid ISO-8601 extended offset date-time format string: {t}"
            ))),
        },
        WaitFor::Seconds(Dynamic::Path(p)) => seconds_path(p, input, scope),
        WaitFor::Timestamp(Dynamic::Path(p)) => {
            let v = p.eval(&scope.env(input)).map_err(|_| {
                StatesError::runtime(format!(
                    "The TimestampPath parameter does not reference an input value: {}",
                    p.as_str()
                ))
            })?;
            match v.as_str().and_then(crate::timestamp::parse_iso_offset_nanos) {
                Some(t) => until(t),
                None => Err(StatesError::runtime(format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                    p.as_str(),
                    shown(v)
                ))),
            }
        }
        WaitFor::Seconds(Dynamic::Jsonata(_)) | WaitFor::Timestamp(Dynamic::Jsonata(_)) => {
            Err(wrong_language())
        }
    }
}

fn delay(d: Duration) -> Result<Duration, StatesError> {
    if d.as_secs() >= MAX_WAIT_SECONDS {
        return Err(StatesError::runtime("Wait state delay is too long."));
    }
    Ok(d)
}

/// A value as AWS shows it in a cause: a string without quotes.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn seconds_path(
    p: &ReferencePath,
    input: &Value,
    scope: &Scope<'_>,
) -> Result<Duration, StatesError> {
    let v = p.eval(&scope.env(input)).map_err(|_| {
        StatesError::runtime(format!(
            "The SecondsPath parameter does not reference an input value: {}",
            p.as_str()
        ))
    })?;
    match v.as_i64() {
        Some(n) if n < 0 => Err(StatesError::runtime(format!(
            "The SecondsPath parameter references a negative value: {} == {}",
            p.as_str(),
            shown(v)
        ))),
        Some(n) => delay(Duration::from_secs(n.unsigned_abs())),
        // beyond a long (AWS parses a Java long) or not an integer
        None => Err(StatesError::runtime(format!(
            "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
            p.as_str(),
            shown(v)
        ))),
    }
}

/// ResultSelector over an owned result: with a [`MoveTemplate`] from the
/// plan, the values are taken out of the result (nothing reads it
/// afterwards) and bounded by the result's bound and the new object's own
/// bytes, without a walk (what is left of the result is dropped);
/// otherwise the template copies and the copy is measured.
pub(crate) fn select_result(
    bounds: Bounds,
    (selector, moving): (Option<&PayloadTemplate>, Option<&MoveTemplate>),
    result: Payload,
    scope: &Scope<'_>,
) -> Result<Payload, StatesError> {
    let Some(selector) = selector else {
        return Ok(result);
    };
    let Payload {
        value: mut result,
        bound,
    } = result;
    if let Some(m) = moving {
        if let Some(selected) = take_template(&mut result, m, None) {
            let bytes = if bounds.counts_bytes() {
                add(bound.bytes, m.skeleton_bytes)
            } else {
                usize::MAX
            };
            // an object of literals and values taken out of the result
            let depth = m.depth(bound.depth);
            return Ok(Payload::new(selected, Measure { bytes, depth }));
        }
    }
    Ok(bounds.counted(selector.eval_counted(&scope.env(&result))?))
}

/// The result-side fields of a Parallel or Map state.
pub(crate) struct ResultFields<'a> {
    pub assign: Option<&'a Assign>,
    pub result_selector: Option<&'a PayloadTemplate>,
    pub selector_move: Option<&'a MoveTemplate>,
    pub result_path: Option<&'a ReferencePath>,
    pub output_path: Option<&'a Path>,
    /// `Output` (JSONata states).
    pub output: Option<&'a crate::definition::JsonataTemplate>,
}

/// `Assign` over a raw result (a Task's, or the results of a Map or
/// Parallel), then ResultSelector (moving with a [`MoveTemplate`]); `hook`
/// sees the result and what ResultSelector made of it.
pub(crate) fn assign_and_select<I: Inspect + ?Sized>(
    bounds: Bounds,
    (a, selector, moving): (
        Option<&Assign>,
        Option<&PayloadTemplate>,
        Option<&MoveTemplate>,
    ),
    result: Payload,
    scope: &Scope<'_>,
    hook: &mut I,
) -> Result<(Payload, Assigned), StatesError> {
    hook.step(Stage::Result, &result.value);
    let assigned = assign(a, &result.value, scope)?;
    let selected = select_result(bounds, (selector, moving), result, scope)?;
    if selector.is_some() {
        hook.step(Stage::AfterResultSelector, &selected.value);
    }
    Ok((selected, assigned))
}

/// The end of a Parallel or Map state once its branches or iterations
/// produced `results`: Assign over the raw results, ResultSelector,
/// ResultPath into the raw input, OutputPath (`hook` sees each). Gives the
/// output and the variables to assign.
pub(crate) fn results_to_output<I: Inspect + ?Sized>(
    bounds: Bounds,
    fields: &ResultFields<'_>,
    (input, results): (Payload, Payload),
    scope: &Scope<'_>,
    hook: &mut I,
) -> Result<(Payload, Assigned), StatesError> {
    let selector = (fields.assign, fields.result_selector, fields.selector_move);
    let (selected, assigned) = assign_and_select(bounds, selector, results, scope, hook)?;
    let out = data_flow::result_path_bounded(bounds, fields.result_path, input, selected)?;
    hook.step(Stage::AfterResultPath, &out.value);
    let out = data_flow::select_owned(bounds, fields.output_path, out, scope)?;
    Ok((out, assigned))
}

/// Evaluates a [`MoveTemplate`] by moving its values out of `input`,
/// counting each taken value in `built` when given; `None` (input
/// untouched) when a path does not resolve, so that the regular evaluation
/// reports it.
pub(crate) fn take_template(
    input: &mut Value,
    m: &MoveTemplate,
    mut built: Option<&mut Built>,
) -> Option<Value> {
    let mut node = &mut *input;
    for step in &m.input {
        node = node.as_object_mut()?.get_mut(step.as_str())?;
    }
    let mut out = Map::with_capacity(m.fields.len());
    for (i, (key, field)) in m.fields.iter().enumerate() {
        let value = match field {
            MoveField::Literal(v) => v.clone(),
            MoveField::Take(steps) => match take_node(node, steps) {
                Some(v) => {
                    if let Some(b) = built.as_deref_mut() {
                        b.add(&v);
                    }
                    v
                }
                None => {
                    // put back what was taken: the input is as it was
                    for (key, field) in &m.fields[..i] {
                        if let MoveField::Take(steps) = field {
                            if let (Some(slot), Some(v)) =
                                (node_at_mut(node, steps), out.remove(key.as_str()))
                            {
                                *slot = v;
                            }
                        }
                    }
                    return None;
                }
            },
        };
        out.insert(key.clone(), value);
    }
    Some(Value::Object(out))
}

/// The node at `keys` (object steps) inside `value`, mutably.
fn node_at_mut<'v>(value: &'v mut Value, keys: &[String]) -> Option<&'v mut Value> {
    let mut node = value;
    for key in keys {
        node = node.as_object_mut()?.get_mut(key.as_str())?;
    }
    Some(node)
}

/// Moves the node at `steps` (object keys) out of `value`.
pub(crate) fn take_node(value: &mut Value, steps: &[String]) -> Option<Value> {
    node_at_mut(value, steps).map(std::mem::take)
}
