//! Loading a definition: the model, its validation report, and the
//! verdicts AWS gave on the conformance corpus.

#[path = "../common/mod.rs"]
mod common;

mod definition;
mod fidelity;
mod validation;
