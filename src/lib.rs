//! stepfn: run Amazon States Language state machines in Rust.
//!
//! stepfn loads the AWS Step Functions definitions you already have, checks
//! them the way AWS does, and runs them inside your program, with your own
//! async Rust code standing in for the Lambda functions and services.
//!
//! ```
//! use serde_json::json;
//! use stepfn::{task_fn, StateMachine, Status, TaskRequest};
//!
//! // Load (parse, check, compile) once; share it with Arc; run it many times.
//! let machine = StateMachine::from_str(r#"{
//!     "StartAt": "Greet",
//!     "States": {
//!         "Greet": {
//!             "Type": "Task",
//!             "Resource": "arn:aws:lambda:us-east-1:123456789012:function:greet",
//!             "Parameters": {"who.$": "$.name"},
//!             "ResultPath": "$.greeting",
//!             "Next": "Done"
//!         },
//!         "Done": {"Type": "Succeed"}
//!     }
//! }"#)?;
//!
//! // The work of every Task state goes through one seam: a TaskExecutor.
//! let executor = task_fn(|request: TaskRequest<'_>| async move {
//!     Ok(json!(format!("Hello, {}!", request.parameters["who"].as_str().unwrap_or("?"))))
//! });
//!
//! // No runtime is imposed: block_on, tokio, anything that polls futures.
//! let outcome = futures::executor::block_on(machine.execute(&executor, json!({"name": "Ada"})));
//! assert_eq!(outcome.status, Status::Succeeded);
//! assert_eq!(outcome.output, Some(json!({"name": "Ada", "greeting": "Hello, Ada!"})));
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
//!
//! # Running
//!
//! [`StateMachine::execute`] runs one execution to its end and returns an
//! [`Outcome`] (status, output or error and cause). [`StateMachine::execution`]
//! configures one first: a [`Clock`] ([`VirtualClock`] makes Waits and
//! back-offs instant), [`Limits`] (payload size, history events, fuel), the
//! [`ExecutionIdentity`] seen through the context object, and AWS-shaped
//! history ([`HistoryEvent`]). Its [`ExecutionHandle`] aborts the execution
//! and completes `.waitForTaskToken` tasks.
//!
//! The seams are [`TaskExecutor`] (see the [`executor`] guide) and
//! [`Clock`]. The JSONPath language is public for tooling and benchmarks:
//! [`jsonpath`] (Reference Paths and JSONPath, payload templates, intrinsic
//! calls, Choice rules), each compiled once and evaluated against an
//! [`Env`](jsonpath::Env).
//! [`jsonata`] is the JSONata 2.0.6 evaluator (over borrowed `serde_json`
//! values) that runs the `{% %}` fields of JSONata states.
//!
//! # Testing definitions offline
//!
//! [`testing`] reads Step Functions Local mock configs and serves them as a
//! [`TaskExecutor`], offers a scriptable executor for Rust tests, and
//! evaluates single states as AWS's TestState API does. The `stepfn` binary
//! (feature `cli`) wraps all of it: `stepfn validate`, `stepfn run`,
//! `stepfn test-state`.
//!
//! # Compatibility
//!
//! AWS's recorded behaviour is the reference; these are the places where
//! stepfn knowingly differs, or where AWS's behaviour is not recorded and
//! stepfn had to choose. Each is also pinned by a test that says so.
//!
//! **Nesting depth.** A payload nested more than 1000 arrays/objects deep
//! (Jackson's default limit, which AWS runs on) fails with
//! `States.DataLimitExceeded` instead of overflowing the stack: as execution
//! input (the execution fails at once, with no history), as a task result
//! (a catchable task failure), as a state output (terminal) or as a value
//! assigned to a variable (terminal, with a cause of ours naming the
//! variable). The limit is [`Limits::max_depth`]; turned off, the depth of
//! what the embedder hands in is trusted.
//!
//! **Not supported yet.** Distributed Map runs its items from
//! `ItemsPath` as in-process child executions; `ItemReader` and
//! `ResultWriter` (S3) are not run. Activities are tasks like any other
//! (the executor answers them). A Map whose items are a JSON object fails
//! with `States.Runtime` (`Map state input must be an array but was: …`):
//! AWS's guide now describes one
//! iteration per key-value pair, but no recording shows the shape of the
//! pair an iteration receives.
//!
//! **Definitions.**
//! * Malformed JSON is reported with serde_json's message and position, not
//!   Jackson's (`[Source: ...]`).
//! * Nesting deeper than 128 levels is `TOO_DEEPLY_NESTED` (AWS's limit is
//!   not recorded).
//! * Where AWS's wording is not recorded, messages are ours (states with
//!   neither `Next` nor `End`, enum values, `States.ALL` placement, state
//!   names, `NO_DOLLAR`, `PASS_RESULT_IS_STATIC`, Map `Label` rules).
//! * Not checked: `HeartbeatSeconds` < `TimeoutSeconds`, a JSONata
//!   expression reading `$states.errorOutput` outside a catcher (AWS refuses
//!   it; its wording is not recorded), `NO_PATH`, the ARN format of `Resource` (placeholder ARNs such as the
//!   tutorials' `YOUR_REGION` load), and `ExecutionType` on DISTRIBUTED maps.
//! * Choice `Variable` and `...Path` operands accept full JSONPath; AWS's
//!   documentation asks for Reference Paths.
//!
//! **Paths.**
//! * Dot-notation field names are accepted as generously as AWS does
//!   (`$.delivery-partner`); quoted bracket names are taken literally.
//! * A step into a value of the wrong type, or an index out of range, fails
//!   with AWS's `No results for path` wording (AWS names Java classes).
//! * Negative indexes count from the end, as the Java library AWS runs on
//!   does (not recorded).
//! * A full JSONPath union `$['a','b']` yields an array of the values; the
//!   filter grammar is a documented subset (comparisons, `&&`, `||`).
//! * Full JSONPath is answered as Jayway JsonPath (the library AWS runs)
//!   answers it, by stepfn's own evaluator, except: a missing field in a
//!   non-definite path matches nothing, as AWS's recordings show (Jayway
//!   fails); a slice step is applied (Jayway ignores it); and after `..` an
//!   array step that is not the last applies to each array found (Jayway
//!   skips it). `fixtures/jsonpath-cases.json` gives the source of each
//!   answer.
//! * A path may have at most two recursive descents (`..`), and the matches
//!   of one full JSONPath at most 64 MiB of JSON text (`States.Runtime`)
//!   when they can hold a node twice (a descent, a union): on deeply nested
//!   data each descent copies every level again. Matches that are different
//!   nodes of the document add up to at most the document, and are not
//!   measured.
//! * ResultPath creates missing intermediate objects and may write into an
//!   existing array element; it never creates or extends arrays.
//! * The `States.ResultPathMatchFailure` cause is ours.
//!
//! **Intrinsic functions.**
//! * Failures at run time are `States.IntrinsicFailure` with a cause naming
//!   the function (AWS's recorded name for these is not known).
//! * An unknown escape in a string literal is a load-time error (AWS fails
//!   at run time).
//! * `States.ArrayContains`/`States.ArrayUnique` treat `1` and `1.0` as equal.
//! * `States.MathRandom` with a seed is repeatable, but not AWS's sequence.
//! * `States.Base64Encode` does not wrap lines; `States.Base64Decode` skips
//!   whitespace and replaces invalid UTF-8 with U+FFFD.
//! * Nesting is capped at 10 levels (AWS documents 10 calls per field).
//!
//! **Execution.**
//! * A task result over 256 KiB is a task failure Catch can take (as AWS
//!   recorded it); a state output over the limit is never caught.
//! * An execution input over 256 KiB is not refused up front (AWS refuses
//!   the `StartExecution` call); the first state whose output carries it
//!   fails with `States.DataLimitExceeded`.
//! * Heartbeat expiry is raised as `States.Timeout`, as AWS recorded it;
//!   `States.HeartbeatTimeout` in Retry/Catch matches it too.
//! * A TIMED_OUT outcome has no error or cause, as AWS recorded it.
//! * `.sync` tasks record `TaskSubmitted` with output `{}` (the executor
//!   returns only the job's final result).
//! * A variable assigned inside a Parallel branch or Map iteration shadows
//!   an outer one of the same name instead of failing.
//! * Running out of fuel and exceeding the history-event limit are
//!   `States.Runtime` with causes of our own.
//! * Concurrent Map iterations record their events in the order they ran,
//!   which can differ from AWS's interleaving.
//! * With a virtual clock, time does not advance while an executor call is
//!   pending, so a callback task with a timeout that nobody answers times
//!   out at once.
//! * A Wait `SecondsPath` of 2^31 seconds or more fails with `Wait state
//!   delay is too long.`, the limit AWS recorded for `Timestamp` (its limit
//!   for `SecondsPath` is not recorded).
//!
//! **Offline testing.**
//! * A state with no mocked response, or whose responses have run out, fails
//!   the execution with `States.Runtime` (never retried or caught) and a
//!   cause naming the test case, state and invocation; Step Functions Local
//!   would call the real service instead.
//! * A mocked `Throw` without `Error` raises an empty error name, as the
//!   recordings show.
//! * A mocked `.waitForTaskToken` task records `TaskSubmitted` with output
//!   `{}`: the mock holds the callback's answer, not the submit call's.
//! * TestState of a JSONata state reads `$now()` at the request; its
//!   `RETRIABLE` decision uses the
//!   retry count given in the request, and the reported back-off interval
//!   ignores jitter. A request nesting arrays/objects over 1000 levels is
//!   refused. The state is evaluated by the engine's code as in an
//!   execution starting at it (runtime-error causes say it was entered at
//!   event #2); a Wait state computes its delay without waiting; the mock
//!   of a Map or Parallel state stands for all its iterations or branches
//!   (its `ItemsPath`/`Items`, `ItemSelector`, `MaxConcurrency` and
//!   tolerated failures are not evaluated).
//!
//! **JSONata states.**
//! * An expression that does not parse is `INVALID_JSONATA_EXPRESSION` with
//!   the evaluator's message, located at the field and, inside a template,
//!   the JSON Pointer of the string (`/States/S/Output/a`); AWS's location
//!   inside a template is not recorded.
//! * `$now()` and `$millis()` read the time the state was entered, on the
//!   execution's clock (one value for the whole state, virtual time
//!   included); `$random()`, `$shuffle()` and `$uuid()` are seeded from the
//!   execution ARN and the state's entered event, each expression of a
//!   state differently.
//! * Causes AWS has not recorded are ours, in the shape of the recorded
//!   ones: a number field out of range (`... returned a value out of range.
//!   Expected an integer of at least 1, but was: 0`), a field of the wrong
//!   type (`... returned an unexpected result type. Expected 'integer', but
//!   was 'string' for value: "x"`; `'boolean'` for a Choice `Condition`,
//!   `'string'` for Fail `Error`/`Cause` and `Credentials.RoleArn`).
//! * An evaluation in a state may build values of at most a million items
//!   or characters (`U1002` past that; the evaluator's own default is ten
//!   million): a state's payload is at most 256 KiB, and a larger
//!   intermediate value would only cost memory.
//! * A failing Output or Assign of a Task goes to the Task's catchers
//!   without being retried (AWS's choice is not recorded). `EvaluationFailed`
//!   is recorded for a caught error too.
//!
//! **JSONata, the language** ([`jsonata`], the 2.0.6 suite passes but for
//! the two cases holding lone UTF-16 surrogates, which no Rust string can
//! hold, and `$eval`, which AWS does not offer: an error with code `D3202`
//! points to `$parse`).
//! * Runaway evaluations end with an error instead of jsonata-js's wall
//!   clock guard: `U1001` past the step, depth or stack budget, `U1002`
//!   past the size of a built value ([`jsonata::Limits`]). `U1003`: `$now`
//!   or `$millis` without a current time in the environment.
//! * Error codes of ours where jsonata-js has none: `$partition`/`$range`
//!   arguments `D3200`, `$parse` of text that is not JSON `D3201`.
//! * `$hash` without an algorithm uses SHA-256; `$range` rounds its
//!   arguments to integers, as `States.ArrayRange` does.
//! * Exponent pictures of `$formatNumber` give the XPath answer for zero and
//!   negative numbers, where jsonata-js 2.0.6 never returns.
//! * Objects keep their keys in insertion order.
//! * Not yet bounded: a regular expression that backtracks catastrophically
//!   (`/(a+)+$/` on a long run of `a`s followed by another character) can
//!   run for a very long time: the ECMAScript engine used (`regress`) has no
//!   backtracking limit.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

// layer 0: leaves
mod env;
mod error;
mod functions;
mod json;
mod resource;
mod timestamp;
// layer 1: the query languages
pub mod jsonata;
pub mod jsonpath;
// layer 1': the seams
pub mod clock;
pub mod executor;
// layer 2: load
pub mod definition;
// layer 3: run
mod engine;
// layer 4: the front door
mod state_machine;
// layer 5: offline testing
pub mod testing;

pub use clock::{Clock, SystemClock, VirtualClock};
pub use engine::{
    Execution, ExecutionHandle, ExecutionIdentity, HistoryEvent, Limits, Outcome, Status,
};
pub use error::{Diagnostic, Error, ErrorKind, ErrorName, Severity, StatesError};
pub use executor::{
    sync_task_fn, task_fn, CallbackError, CallbackSender, TaskExecutor, TaskRequest, TaskResult,
};
pub use state_machine::{StateMachine, Validation};

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
