//! stepfn: run Amazon States Language state machines in Rust.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod choice;
pub mod data_flow;
pub mod definition;
mod error;
pub mod intrinsics;
pub mod path;
pub mod template;

pub use definition::StateMachine;
pub use error::{Diagnostic, Error, ErrorKind, ErrorName, Severity, StatesError};
