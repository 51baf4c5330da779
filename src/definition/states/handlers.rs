//! What Task, Parallel and Map states do with the result of their work and
//! when it fails (`ResultSelector`, `ResultPath`, `Retry`, `Catch`): the
//! model, the allowed fields of a retrier and a catcher, their parser. Their
//! serializer is in `ser.rs`, shared by the three state types.

use crate::definition::fields::{
    assign, field_object, float_field, int_field, opt_template, reference_field, DATA_ONLY,
};
use crate::definition::parse::Cx;
use crate::definition::raw::{RawCatcher, RawRetrier, RawState};
use crate::definition::{Assign, JsonataTemplate, QueryLanguage};
use crate::error::ErrorName;
use crate::jsonpath::path::ReferencePath;
use crate::jsonpath::template::PayloadTemplate;
use serde_json::Value;

/// `JitterStrategy` of a retrier.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum JitterStrategy {
    /// `NONE` (the default).
    #[default]
    None,
    /// `FULL`: a uniform random delay in `[0, interval]`.
    Full,
}

/// One entry of `Retry`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<ErrorName>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: u64,
    /// `MaxAttempts` (default 3; 0 = never retry).
    pub max_attempts: u64,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<u64>,
    /// `JitterStrategy`.
    pub jitter_strategy: JitterStrategy,
    /// `Comment`.
    pub comment: Option<String>,
}

/// One entry of `Catch`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<ErrorName>,
    /// `Next`.
    pub next: String,
    /// `ResultPath` (default `$`; `None` = `null`).
    pub result_path: Option<ReferencePath>,
    /// `Assign`.
    pub assign: Option<Assign>,
    /// JSONata `Output`.
    pub output: Option<JsonataTemplate>,
    /// `Comment`.
    pub comment: Option<String>,
}

impl Retrier {
    /// A retrier of `error_equals` with ASL's defaults: `IntervalSeconds`
    /// 1, `MaxAttempts` 3, `BackoffRate` 2.0, no `MaxDelaySeconds`, no
    /// jitter.
    pub fn new(error_equals: Vec<ErrorName>) -> Retrier {
        Retrier {
            error_equals,
            interval_seconds: 1,
            max_attempts: 3,
            backoff_rate: 2.0,
            max_delay_seconds: None,
            jitter_strategy: JitterStrategy::None,
            comment: None,
        }
    }
}

impl Catcher {
    /// A catcher of `error_equals` going to `next`, with ASL's defaults:
    /// `ResultPath` `$` (the error output replaces the input), no
    /// `Assign`, no `Output`.
    pub fn new(error_equals: Vec<ErrorName>, next: impl Into<String>) -> Catcher {
        Catcher {
            error_equals,
            next: next.into(),
            result_path: ReferencePath::parse("$").ok(),
            assign: None,
            output: None,
            comment: None,
        }
    }
}

/// What a Task, Parallel or Map state does with the result of its work and
/// when the work fails: `ResultSelector`, `ResultPath`, `Retry`, `Catch`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ResultHandling {
    /// `ResultSelector` (JSONPath states; always `None` in JSONata states).
    pub result_selector: Option<PayloadTemplate>,
    /// `ResultPath` (JSONPath states; default `$`, `None` = `null`; `$` in
    /// JSONata states, whose `Output` shapes the result instead).
    pub result_path: Option<ReferencePath>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

impl Default for ResultHandling {
    /// No selector, `ResultPath` `$`, no retrier, no catcher.
    fn default() -> ResultHandling {
        ResultHandling {
            result_selector: None,
            result_path: ReferencePath::parse("$").ok(),
            retry: Vec::new(),
            catch: Vec::new(),
        }
    }
}

pub(crate) const RETRIER: &[&str] = &[
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "JitterStrategy",
    "Comment",
];

pub(crate) const CATCHER: &[&str] = &[
    "ErrorEquals",
    "Next",
    "ResultPath",
    "Assign",
    "Output",
    "Comment",
];

/// `ResultSelector`, `ResultPath`, `Retry` and `Catch`; `None` when one of
/// them was reported.
pub(crate) fn result_handling(
    cx: &mut Cx,
    raw: &RawState,
    ql: QueryLanguage,
    loc: &str,
) -> Option<ResultHandling> {
    let result_selector = opt_template(
        cx,
        raw.result_selector.as_ref(),
        &format!("{loc}/ResultSelector"),
    );
    let result_path = reference_field(cx, raw.result_path.as_ref(), "ResultPath", DATA_ONLY, loc);
    let retry = handlers(cx, raw.retry.as_deref(), "Retry", loc, retrier);
    let catch = handlers(cx, raw.catch.as_deref(), "Catch", loc, |cx, v, last, at| {
        catcher(cx, v, last, ql, at)
    });
    Some(ResultHandling {
        result_selector: result_selector?,
        result_path: result_path?,
        retry: retry?,
        catch: catch?,
    })
}

pub(crate) fn error_equals(
    cx: &mut Cx,
    list: Option<&Vec<String>>,
    last: bool,
    loc: &str,
) -> Option<Vec<ErrorName>> {
    let at = format!("{loc}/ErrorEquals");
    let list = list?;
    if list.is_empty() {
        cx.schema(
            "Field 'ErrorEquals' must contain at least one error name",
            at,
        );
        return None;
    }
    let mut ok = true;
    if list.iter().any(|e| e == "States.ALL") {
        if list.len() > 1 {
            cx.schema("States.ALL must appear alone in ErrorEquals", at.clone());
            ok = false;
        }
        if !last {
            cx.schema("States.ALL must appear in the last retrier or catcher", at);
            ok = false;
        }
    }
    ok.then(|| list.iter().map(|e| ErrorName::new(e)).collect())
}

/// `Retry` or `Catch` (`field`): each entry read by `read`, which is told
/// whether the entry is the last; absent is an empty list.
pub(crate) fn handlers<T>(
    cx: &mut Cx,
    list: Option<&[Value]>,
    field: &str,
    loc: &str,
    mut read: impl FnMut(&mut Cx, &Value, bool, &str) -> Option<T>,
) -> Option<Vec<T>> {
    let Some(list) = list else {
        return Some(Vec::new());
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (i, v) in list.iter().enumerate() {
        match read(cx, v, i + 1 == list.len(), &format!("{loc}/{field}[{i}]")) {
            Some(entry) => out.push(entry),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

pub(crate) fn retrier(cx: &mut Cx, v: &Value, last: bool, loc: &str) -> Option<Retrier> {
    let (_, raw, ok) = field_object::<RawRetrier>(cx, v, &["ErrorEquals"], RETRIER, None, loc)?;
    let errors = error_equals(cx, raw.error_equals.as_ref(), last, loc);
    let number =
        |cx: &mut Cx, v: &Option<Value>, field: &str, min: u64, max: u64, default: Option<u64>| {
            match v {
                None => Some(default),
                Some(v) => int_field(cx, v, min, Some(max), &format!("{loc}/{field}")).map(Some),
            }
        };
    let interval = number(
        cx,
        &raw.interval_seconds,
        "IntervalSeconds",
        1,
        99_999_999,
        Some(1),
    );
    let attempts = number(cx, &raw.max_attempts, "MaxAttempts", 0, 99_999_999, Some(3));
    let max_delay = number(
        cx,
        &raw.max_delay_seconds,
        "MaxDelaySeconds",
        1,
        31_622_400,
        None,
    );
    let backoff = match &raw.backoff_rate {
        None => Some(2.0),
        Some(v) => float_field(cx, v, 1.0, None, &format!("{loc}/BackoffRate")),
    };
    let jitter = match raw.jitter_strategy.as_deref() {
        None | Some("NONE") => Some(JitterStrategy::None),
        Some("FULL") => Some(JitterStrategy::Full),
        Some(other) => {
            cx.schema(
                format!("Instance value (\"{other}\") not found in enum (possible values: [FULL, NONE])"),
                format!("{loc}/JitterStrategy"),
            );
            None
        }
    };
    if !ok {
        return None;
    }
    Some(Retrier {
        error_equals: errors?,
        interval_seconds: interval??,
        max_attempts: attempts??,
        backoff_rate: backoff?,
        max_delay_seconds: max_delay?,
        jitter_strategy: jitter?,
        comment: raw.comment,
    })
}

pub(crate) fn catcher(
    cx: &mut Cx,
    v: &Value,
    last: bool,
    ql: QueryLanguage,
    loc: &str,
) -> Option<Catcher> {
    let (_, raw, ok) =
        field_object::<RawCatcher>(cx, v, &["ErrorEquals", "Next"], CATCHER, Some(ql), loc)?;
    let errors = error_equals(cx, raw.error_equals.as_ref(), last, loc);
    let result_path = reference_field(cx, raw.result_path.as_ref(), "ResultPath", DATA_ONLY, loc);
    let assign = assign(cx, raw.assign.as_ref(), ql, loc);
    if !ok {
        return None;
    }
    Some(Catcher {
        error_equals: errors?,
        next: raw.next?,
        result_path: result_path?,
        assign: assign?,
        output: raw.output.map(JsonataTemplate::new),
        comment: raw.comment,
    })
}
