//! What the engine shows of a state's evaluation when asked (TestState's
//! inspection data): a hook the state code calls at every step of the data
//! flow and at the retry/catch decision. Executions pass [`NoInspect`],
//! which the compiler removes.

use crate::jsonpath::data_flow;
use serde_json::{Map, Value};
use std::time::Duration;

/// A step of the data flow the [`Inspect`] hook is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// JSONata `Arguments` (Task, Parallel).
    AfterArguments,
    AfterInputPath,
    AfterParameters,
    Result,
    AfterResultSelector,
    AfterResultPath,
}

/// The [`Stage`] of a step of the effective input.
#[inline]
pub(crate) fn stage_after(after: data_flow::After) -> Stage {
    match after {
        data_flow::After::InputPath => Stage::AfterInputPath,
        data_flow::After::Parameters => Stage::AfterParameters,
    }
}

/// What the engine shows of one state's evaluation.
pub(crate) trait Inspect: Send + Sync {
    /// The payload after `stage`.
    fn step(&mut self, stage: Stage, value: &Value);
    /// The variables the state assigns (its `Assign`, a Choice rule's, a
    /// catcher's).
    fn assigned(&mut self, assigned: &Map<String, Value>);
    /// Retrier `index` takes the error and would run the state again after
    /// `backoff` (before jitter).
    fn retry(&mut self, index: usize, backoff: Duration);
    /// Catcher `index` takes the error.
    fn catch(&mut self, index: usize);
}

/// The hook of an execution: it shows nothing.
pub(crate) struct NoInspect;

impl Inspect for NoInspect {
    #[inline]
    fn step(&mut self, _: Stage, _: &Value) {}
    #[inline]
    fn assigned(&mut self, _: &Map<String, Value>) {}
    #[inline]
    fn retry(&mut self, _: usize, _: Duration) {}
    #[inline]
    fn catch(&mut self, _: usize) {}
}
