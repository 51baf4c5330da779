//! stepfn: run Amazon States Language state machines in Rust.
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

pub use clock::{Clock, SystemClock, VirtualClock};
pub use definition::StateMachine;
pub use engine::{
    CallbackError, CallbackSender, Execution, ExecutionHandle, ExecutionIdentity, HistoryEvent,
    Limits, Outcome, Status,
};
pub use error::{Diagnostic, Error, ErrorKind, ErrorName, Severity, StatesError};
pub use executor::{sync_task_fn, task_fn, TaskExecutor, TaskRequest, TaskResult};
