//! `stepfn run --wait STATE=SECONDS --retry-interval STATE=SECONDS
//! --time-scale FACTOR`: the library's `TimeOverrides`, each state name
//! checked against the definition.

use std::time::Duration;
use stepfn::definition::{StateKind, SubMachine};
use stepfn::{StateMachine, TimeOverrides};

/// The overrides the flags ask for, or the message saying which flag is
/// wrong and why.
pub fn overrides(
    machine: &StateMachine,
    waits: &[String],
    retry_intervals: &[String],
    scale: Option<&str>,
) -> Result<TimeOverrides, String> {
    let mut overrides = TimeOverrides::new();
    for binding in waits {
        let (state, duration) = binding_of("--wait", binding)?;
        match kind_of(&machine.definition().machine, state) {
            Some(StateKind::Wait(_)) => {}
            Some(other) => {
                return Err(format!(
                    "--wait `{binding}`: `{state}` is a {} state, not a Wait state",
                    other.type_name()
                ))
            }
            None => return Err(format!("--wait `{binding}`: no state is named `{state}`")),
        }
        overrides = overrides.with_wait(state, duration);
    }
    for binding in retry_intervals {
        let (state, duration) = binding_of("--retry-interval", binding)?;
        match kind_of(&machine.definition().machine, state) {
            Some(StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_)) => {}
            Some(other) => {
                return Err(format!(
                    "--retry-interval `{binding}`: `{state}` is a {} state, which has no Retry",
                    other.type_name()
                ))
            }
            None => {
                return Err(format!(
                    "--retry-interval `{binding}`: no state is named `{state}`"
                ))
            }
        }
        overrides = overrides.with_retry_interval(state, duration);
    }
    if let Some(text) = scale {
        let factor = text
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("--time-scale `{text}` is not a number"))?;
        overrides = overrides
            .with_scale(factor)
            .map_err(|e| format!("--time-scale `{text}`: {}", e.detail()))?;
    }
    Ok(overrides)
}

/// `STATE=SECONDS`, split at the last `=` (a state name may hold one).
fn binding_of<'b>(flag: &str, binding: &'b str) -> Result<(&'b str, Duration), String> {
    let Some((state, seconds)) = binding.rsplit_once('=') else {
        return Err(format!("{flag} `{binding}` is not STATE=SECONDS"));
    };
    if state.is_empty() {
        return Err(format!("{flag} `{binding}` names no state"));
    }
    let duration = seconds
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| {
            format!("{flag} `{binding}`: `{seconds}` is not a number of seconds (0 or more)")
        })?;
    Ok((state, duration))
}

/// The kind of the state named `name`, anywhere in `machine` (Parallel
/// branches and Map item processors included).
fn kind_of<'m>(machine: &'m SubMachine, name: &str) -> Option<&'m StateKind> {
    let mut lines = vec![machine];
    while let Some(line) = lines.pop() {
        for state in &line.states {
            if state.name == name {
                return Some(&state.kind);
            }
            match &state.kind {
                StateKind::Parallel(p) => lines.extend(&p.branches),
                StateKind::Map(m) => lines.push(&m.item_processor),
                _ => {}
            }
        }
    }
    None
}
