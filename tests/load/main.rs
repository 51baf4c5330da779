//! Loading a definition: the model, its validation report, and the
//! verdicts AWS gave on the conformance corpus.

mod definition;
mod validation;
