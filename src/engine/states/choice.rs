//! The Choice state.

use crate::definition::Choice;
use crate::engine::io;
use crate::engine::plan::Next;
use crate::engine::walk::{Failure, StateCx, Step};
use crate::error::{ErrorName, StatesError};
use crate::json::Payload;
use crate::jsonpath::data_flow;

/// Runs a Choice state on `input`: the first matching rule (or the
/// default) names the next state.
pub(crate) fn choice(
    cx: &mut StateCx<'_, '_>,
    s: &Choice,
    input: Payload,
) -> Result<Step, Failure> {
    let bounds = cx.bounds();
    let plan = cx.plan;
    let scope = cx.scope();
    let r = (|| {
        let effective = data_flow::select_owned(bounds, s.io.input_path(), input, &scope)?;
        let (next, rule_assign) = match io::choose(s, &scope.env(&effective.value))? {
            Some((i, assigned)) => (
                plan.choice_next.get(i).copied().unwrap_or(Next::Missing),
                assigned,
            ),
            None => match plan.default {
                Some(d) => (d, None),
                None => {
                    return Err(StatesError::new(ErrorName::NoChoiceMatched, "No Matches!"));
                }
            },
        };
        let assigned = io::assign(s.assign.as_ref(), &effective.value, &scope)?;
        let assigned = io::merge_assign(assigned, rule_assign);
        let out = data_flow::select_owned(bounds, s.io.output_path(), effective, &scope)?;
        Ok((out, next, assigned))
    })();
    match r {
        Ok((out, next, assigned)) => cx.finish(out, next, assigned),
        Err(e) if e.name == ErrorName::NoChoiceMatched => {
            // AWS reports it without the runtime prefix
            Err(Failure::new(e, cx.th.cursor))
        }
        Err(e) => Err(cx.error(e)),
    }
}
