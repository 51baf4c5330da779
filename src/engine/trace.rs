//! `tracing` spans and events of a run (feature `tracing`): a span per
//! execution and per state, events for task calls, retries and catches.
//! Without the feature every function here is a no-op the compiler
//! removes: the spans are zero-sized, futures are not wrapped.
//!
//! | name | kind | fields |
//! |---|---|---|
//! | `execution` | span | `name`, `arn` |
//! | `state` | span, in its execution's or its Map/Parallel state's | `name`, `type`, `attempt` (1, then recorded at each retry) |
//! | `task_call` | event, in the Task state's span | `resource`, `attempt` |
//! | `retry` | event, in the state's span | `error`, `attempt` (the one about to run), `delay_ms` |
//! | `catch` | event, in the state's span | `error`, `next` |
//!
//! All at level `INFO`, target `stepfn`.

use super::drive::Run;
use crate::definition::State;
use crate::error::StatesError;
use std::time::Duration;

#[cfg(feature = "tracing")]
mod on {
    use super::*;

    pub(crate) type Span = tracing::Span;

    pub(crate) fn execution(run: &Run<'_>) -> Span {
        let ident = run.ident();
        tracing::info_span!(
            target: "stepfn",
            "execution",
            name = ident.exec_name.as_str(),
            arn = ident.exec_arn.as_str()
        )
    }

    pub(crate) fn state(state: &State) -> Span {
        let ty = super::super::live::type_name(&state.kind);
        tracing::info_span!(
            target: "stepfn",
            "state",
            name = state.name.as_str(),
            r#type = ty,
            attempt = 1u64
        )
    }

    pub(crate) fn in_span<R>(span: &Span, f: impl FnOnce() -> R) -> R {
        span.in_scope(f)
    }

    pub(crate) fn task_call(resource: &str, retry_count: u32) {
        tracing::event!(
            name: "task_call",
            target: "stepfn",
            tracing::Level::INFO,
            resource = resource,
            attempt = u64::from(retry_count) + 1
        );
    }

    pub(crate) fn retry(error: &StatesError, retry_count: u32, delay: Duration) {
        let attempt = u64::from(retry_count) + 1;
        tracing::Span::current().record("attempt", attempt);
        tracing::event!(
            name: "retry",
            target: "stepfn",
            tracing::Level::INFO,
            error = error.name.as_str(),
            attempt = attempt,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)
        );
    }

    pub(crate) fn catch(error: &StatesError, next: &str) {
        tracing::event!(
            name: "catch",
            target: "stepfn",
            tracing::Level::INFO,
            error = error.name.as_str(),
            next = next
        );
    }
}

#[cfg(not(feature = "tracing"))]
mod on {
    use super::*;

    /// No span: nothing to carry.
    #[derive(Clone, Copy)]
    pub(crate) struct Span;

    #[inline(always)]
    pub(crate) fn execution(_: &Run<'_>) -> Span {
        Span
    }

    #[inline(always)]
    pub(crate) fn state(_: &State) -> Span {
        Span
    }

    #[inline(always)]
    pub(crate) fn in_span<R>(_: &Span, f: impl FnOnce() -> R) -> R {
        f()
    }

    #[inline(always)]
    pub(crate) fn task_call(_: &str, _: u32) {}

    #[inline(always)]
    pub(crate) fn retry(_: &StatesError, _: u32, _: Duration) {}

    #[inline(always)]
    pub(crate) fn catch(_: &StatesError, _: &str) {}
}

pub(crate) use on::*;
