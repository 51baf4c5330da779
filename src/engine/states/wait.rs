//! The Wait state.

use crate::definition::Wait;
use crate::engine::io;
use crate::engine::walk::{Failure, StateCx, Step};
use crate::error::StatesError;
use crate::json::Payload;
use crate::jsonpath::data_flow;

/// Runs a Wait state on `input`: waits on the execution's clock, then
/// OutputPath.
pub(crate) async fn wait<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x Wait,
    input: Payload,
) -> Result<Step, Failure> {
    let bounds = cx.bounds();
    let computed = {
        let scope = cx.scope();
        (|| {
            let effective = data_flow::select_owned(bounds, s.io.input_path(), input, &scope)?;
            let now = cx.run.clock.now();
            let delay = io::wait_duration(&s.wait, &effective.value, &scope, now)?;
            let assigned = io::assign(s.assign.as_ref(), &effective.value, &scope)?;
            Ok::<_, StatesError>((effective, delay, assigned))
        })()
    };
    let (effective, delay, assigned) = computed.map_err(|e| cx.error(e))?;
    if !delay.is_zero() {
        cx.run.clock.sleep(delay).await;
    }
    let out = data_flow::select_owned(bounds, s.io.output_path(), effective, &cx.scope())
        .map_err(|e| cx.error(e))?;
    cx.finish(out, cx.plan.next, assigned)
}
