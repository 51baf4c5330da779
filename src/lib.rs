//! stepfn: run Amazon States Language state machines in Rust.
//!
//! stepfn loads the AWS Step Functions definitions you already have, checks
//! them the way AWS does, and runs them inside your program, with your own
//! Rust code standing in for the Lambda functions and services.
//!
//! ```
//! use stepfn::definition::StateKind;
//! use stepfn::StateMachine;
//!
//! let machine = StateMachine::from_str(r#"{
//!     "StartAt": "Greet",
//!     "States": {
//!         "Greet": {
//!             "Type": "Pass",
//!             "Parameters": {"greeting.$": "States.Format('Hello, {}!', $.name)"},
//!             "Next": "Done"
//!         },
//!         "Done": {"Type": "Succeed"}
//!     }
//! }"#)?;
//!
//! let states = &machine.definition().machine;
//! assert_eq!(states.start_at, "Greet");
//! assert!(matches!(states.get("Done").map(|s| &s.kind), Some(StateKind::Succeed(_))));
//!
//! // A definition AWS would refuse is refused with every problem, located.
//! let err = StateMachine::from_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass"}}}"#)
//!     .unwrap_err();
//! let first = &err.diagnostics()[0];
//! assert_eq!(first.code, "SCHEMA_VALIDATION_FAILED");
//! assert_eq!(first.location.as_deref(), Some("/States/A"));
//! # Ok::<(), stepfn::Error>(())
//! ```
//!
//! # Loading and validating
//!
//! [`StateMachine::from_str`] (also `from_slice`, `from_value`) parses,
//! checks and compiles a definition once: every path, payload template,
//! intrinsic call and choice rule is parsed at load time, so a machine that
//! loads cannot fail later on syntax. [`StateMachine::validate`] answers as
//! AWS's `ValidateStateMachineDefinition` does, including the restrictions
//! of Express workflows; see [`definition`] for the diagnostics.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod choice;
pub mod clock;
pub mod data_flow;
pub mod definition;
mod engine;
mod error;
pub mod executor;
pub mod intrinsics;
pub mod path;
pub mod retry;
pub mod template;
pub mod testing;

pub use clock::{Clock, SystemClock, VirtualClock};
pub use definition::StateMachine;
pub use engine::{
    CallbackError, CallbackSender, Execution, ExecutionHandle, ExecutionIdentity, HistoryEvent,
    Limits, Outcome, Status,
};
pub use error::{Diagnostic, Error, ErrorKind, ErrorName, Severity, StatesError};
pub use executor::{sync_task_fn, task_fn, TaskExecutor, TaskRequest, TaskResult};

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
