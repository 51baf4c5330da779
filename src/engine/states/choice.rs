//! The Choice state.

use crate::definition::Choice;
use crate::engine::inspect::{Inspect, NoInspect, Stage};
use crate::engine::io::{self, Assigned};
use crate::engine::jsonata;
use crate::engine::plan::Next;
use crate::engine::walk::{Failure, StateCx, Step};
use crate::error::{ErrorName, StatesError};
use crate::json::{Bounds, Payload};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::Scope;

/// Runs a Choice state on `input`: the first matching rule (or the
/// default) names the next state.
pub(crate) fn choice(
    cx: &mut StateCx<'_, '_>,
    s: &Choice,
    input: Payload,
) -> Result<Step, Failure> {
    let plan = cx.plan;
    let r = if plan.jsonata {
        jsonata::choice(s, cx.bounds(), &cx.jx(), input)
    } else {
        decide(s, cx.bounds(), &cx.scope(), input, &mut NoInspect)
    };
    match r {
        Ok((out, rule, assigned)) => {
            let next = match rule {
                Some(i) => plan.choice_next.get(i).copied(),
                None => plan.default,
            };
            cx.finish(out, next.unwrap_or(Next::Missing), assigned)
        }
        Err(e) if e.name == ErrorName::NoChoiceMatched => {
            // AWS reports it without the runtime prefix
            Err(Failure::new(e, cx.th.cursor))
        }
        Err(e) => Err(cx.error(e)),
    }
}

/// What a Choice state decides on `input`: its output, the index of the
/// matching rule (`None`: the `Default`), and the variables to assign (the
/// state's `Assign`, the rule's on top); `States.NoChoiceMatched` when
/// nothing matches and there is no default. `hook` sees the effective
/// input.
pub(crate) fn decide<I: Inspect + ?Sized>(
    s: &Choice,
    bounds: Bounds,
    scope: &Scope<'_>,
    input: Payload,
    hook: &mut I,
) -> Result<(Payload, Option<usize>, Assigned), StatesError> {
    let effective = data_flow::select_owned(bounds, s.io.input_path(), input, scope)?;
    hook.step(Stage::AfterInputPath, &effective.value);
    let (rule, rule_assign) = match io::choose(s, &scope.env(&effective.value))? {
        Some((i, assigned)) => (Some(i), assigned),
        None if s.default.is_some() => (None, None),
        None => return Err(StatesError::new(ErrorName::NoChoiceMatched, "No Matches!")),
    };
    let assigned = io::assign(s.assign.as_ref(), &effective.value, scope)?;
    let assigned = io::merge_assign(assigned, rule_assign);
    let out = data_flow::select_owned(bounds, s.io.output_path(), effective, scope)?;
    Ok((out, rule, assigned))
}
