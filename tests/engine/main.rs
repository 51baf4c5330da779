//! The engine through the public API, one module per concern: every state
//! type, errors, history, payload limits (at their edges and adversarial),
//! control (abort, callbacks, concurrency), values nested too deeply for
//! recursion, and a smoke run over the conformance corpus.

#[path = "../common/mod.rs"]
mod common;

mod built_limits;
mod conformance_smoke;
mod control;
mod deep_values;
mod errors;
mod fidelity;
mod history;
mod jsonata;
mod limits;
mod limits_adversarial;
mod live;
mod states;
mod time;
