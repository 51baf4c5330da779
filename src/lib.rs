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
//! history ([`HistoryEvent`]), and [`TimeOverrides`] (Wait durations and
//! retry intervals by state name, a time scale). Its [`ExecutionHandle`]
//! aborts the execution and completes `.waitForTaskToken` tasks.
//!
//! An execution can be watched while it runs: an [`EventObserver`]
//! ([`Execution::with_observer`]) or the handle's [`EventStream`]
//! ([`ExecutionHandle::events`]) sees every history event as it happens,
//! exactly as the final history holds them (even with the history off), and
//! the handle reports the [status](ExecutionHandle::status) and the
//! [states in flight](ExecutionHandle::states_in_flight) ([`StateInFlight`],
//! with the Map iteration or Parallel branch each runs in). An execution
//! nobody watches builds no events for it. With feature `tracing`, a run
//! reports to the embedder's `tracing` subscriber: spans `execution`
//! (`name`, `arn`) and `state` (`name`, `type`, `attempt`; nested in the
//! span of the Map or Parallel state they run in), and events `task_call`
//! (`resource`, `attempt`), `retry` (`error`, `attempt`, `delay_ms`) and
//! `catch` (`error`, `next`), all at level `INFO` with target `stepfn`.
//!
//! The seams are [`TaskExecutor`] (see the [`executor`] guide) and
//! [`Clock`]. The JSONPath language is public for tooling and benchmarks:
//! [`jsonpath`] (Reference Paths and JSONPath, payload templates, intrinsic
//! calls, Choice rules), each compiled once and evaluated against an
//! [`Env`](jsonpath::Env).
//! [`jsonata`] is the JSONata 2.0.6 evaluator (over borrowed `serde_json`
//! values) that runs the `{% %}` fields of JSONata states.
//!
//! [`durable`] is the third, optional seam: [`durable::ExecutionStore`], where
//! durable executions keep a checkpoint per transition, with an in-memory
//! store, (feature `sqlite`) a SQLite one and (feature `postgres`) a
//! PostgreSQL one that many worker processes share.
//!
//! # Durable executions
//!
//! [`durable::Durable`] runs executions that survive their process: it
//! starts them in an [`ExecutionStore`](durable::ExecutionStore)
//! (StartExecution, idempotent by name) and works on them as a worker,
//! claiming each due execution under a lease, committing a checkpoint with
//! the history events of every transition (the transitions through states
//! that do no work, Pass, Choice, Succeed and Fail, share the next commit),
//! and ending it. A Wait, or a
//! retry's back-off, *parks* the execution: its end time is committed as
//! the time the execution is next due, the worker lets go of it, and
//! nothing is held in memory until a worker (any worker sharing the store)
//! picks it up when it is due. A worker that dies leaves its execution
//! claimed until its lease ends; then another worker resumes it from its
//! last commit, and the first one's late commits are refused (fencing).
//! The resumed history continues with the same event ids and events as an
//! uninterrupted run.
//!
//! ```
//! # futures::executor::block_on(async {
//! use serde_json::json;
//! use stepfn::durable::{Durable, MemoryStore, StartExecution, WorkResult};
//! use stepfn::{sync_task_fn, StateMachine, Status, VirtualClock};
//!
//! let machine: StateMachine = r#"{"StartAt": "Nap", "States": {
//!     "Nap": {"Type": "Wait", "Seconds": 86400, "Next": "Done"},
//!     "Done": {"Type": "Pass", "Result": "rested", "End": true}}}"#.parse()?;
//! let clock = VirtualClock::new();
//! let durable = Durable::new(MemoryStore::new()).with_clock(clock.clone());
//! durable.start(&machine, StartExecution {
//!     state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:Nap".into(),
//!     name: "first".into(),
//!     input: json!({}),
//! }).await?;
//!
//! let executor = sync_task_fn(|request| Ok(request.parameters));
//! // the Wait parks the execution; a virtual clock jumps to its end
//! let worked = durable.run_until_idle(&executor).await?;
//! assert!(matches!(worked[0].result, WorkResult::Parked(_)));
//! assert_eq!(worked[1].result, WorkResult::Ended(Status::Succeeded));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Task calls are *at-least-once*: a worker that died between calling its
//! executor and committing the answer leaves the call to be made again by
//! the worker that resumes the execution, with the same
//! [`TaskRequest::idempotency_key`]. What runs durably so far: Pass, Task,
//! Choice, Wait, Succeed and Fail, with Retry and Catch, Parallel and
//! inline Map states, and top-level Task states that wait for a callback
//! (`.waitForTaskToken`): the call is made with the token (opened in the
//! store just before it), then the execution parks with the token and the
//! attempt's absolute `TimeoutSeconds`/`HeartbeatSeconds` deadlines, and
//! SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat written to the
//! store from any process
//! ([`ExecutionStore::signal`](durable::ExecutionStore::signal), or `stepfn
//! send-task-*`) make it due; the worker that claims it judges each answer
//! by the time it arrived, as the in-memory wait does (`TaskSucceeded`,
//! `TaskFailed`, `TaskTimedOut`, a heartbeat timeout that retriers of
//! `States.HeartbeatTimeout` take). Every line of states is checkpointed:
//! the top level, each Parallel branch and each inline Map iteration (a
//! line of its own, `/State/index` below its parent), so a worker that dies
//! inside a Parallel or Map resumes each branch or iteration where it was,
//! a Wait, back-off or callback inside one parks its line, and the
//! execution parks once every line waits (due when the first wakes). The
//! child executions of a distributed Map are lines too (each with its own
//! history, as on AWS); a redrive reruns the failed ones from their start. A StopExecution sent through the
//! store ends the execution ABORTED: at once when it is parked, at the
//! next transition of the worker running it, or, during a task call, at
//! the next renewal of the worker's lease (the call is dropped). A worker
//! renews its lease every third of it while a task call runs, and drops
//! the call and its result when another worker has claimed the execution
//! meanwhile. RedriveExecution
//! ([`ExecutionStore::redrive`](durable::ExecutionStore::redrive)) reopens a
//! failed, aborted or timed-out execution; the next worker to claim it
//! enters the state it stopped in again, with that state's input and the
//! variables of the time, its retriers from zero, the definition's
//! `TimeoutSeconds` counted from the redrive, the history continuing after
//! `ExecutionRedriven`, and `$$.Execution.RedriveCount` / `RedriveTime` in
//! the context object.
//!
//! # Testing definitions offline
//!
//! [`testing`] reads Step Functions Local mock configs and serves them as a
//! [`TaskExecutor`], offers a scriptable executor for Rust tests, and
//! evaluates single states as AWS's TestState API does. [`Router`] routes
//! tasks to closures by state name, Lambda function or resource, and
//! [`lambda_fn`] runs a Lambda-style function behind `lambda:invoke`
//! (unwrapping `Payload`, wrapping the answer as AWS does). The `stepfn` binary
//! (feature `cli`) wraps all of it: `stepfn validate`, `stepfn run`,
//! `stepfn test-state`, `stepfn graph`, and runs durable executions over a
//! SQLite or PostgreSQL store (`stepfn start`, `worker`, `describe`,
//! `history`, `list`, `stop`, `redrive`, `send-task-*`).
//!
//! # Pictures
//!
//! [`graph`] draws a definition as a Mermaid flowchart or a Graphviz DOT
//! graph: every state shaped by its type, its transitions (`Next`, Choice
//! rules with their conditions in short, `Default`, `Catch` edges naming
//! their errors), Parallel branches and Map item processors as nested
//! groups. [`graph::Marks`] reads a history (an [`Outcome`]'s, or AWS's
//! `GetExecutionHistory` JSON) and colours the states the execution
//! passed, caught and failed.
//!
//! ```
//! use stepfn::graph::{self, Format, Marks};
//! # let machine = stepfn::StateMachine::from_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#)?;
//! # let outcome = futures::executor::block_on(machine.execution().with_history(true)
//! #     .run(&stepfn::sync_task_fn(|r| Ok(r.parameters)), serde_json::json!({})));
//! let marks = Marks::from_history(outcome.history.as_deref().unwrap_or_default());
//! let picture = graph::render(&machine, Format::Mermaid, Some(&marks));
//! assert!(picture.contains("\n    class s0 passed\n"));
//! # Ok::<(), stepfn::Error>(())
//! ```
//!
//! # Compatibility
//!
//! AWS's recorded behaviour is the reference; these are the places where
//! stepfn knowingly differs, or where AWS's behaviour is not recorded and
//! stepfn had to choose. Each is also pinned by a test that says so.
//!
//! **Durable task calls.** AWS says of Standard workflows that tasks are
//! never run more than once unless a Retry says so. A durable stepfn
//! execution calls a task again when its worker died (or lost its lease)
//! between the call and the commit of its answer: at-least-once, with the
//! same [`TaskRequest::idempotency_key`], as Temporal, Restate and Durable
//! Functions do with their activities; a `.waitForTaskToken` call made
//! again carries the same task token, and its answer is taken once.
//! Pinned by `tests/durable/driver.rs`
//! (`a_dead_worker_is_replaced_once_its_lease_ends`) and
//! `tests/durable/callback.rs` (`an_answer_before_the_heir_resumes_is_kept`).
//! An answer that reaches the store at the very instant a callback's
//! deadline passes is late (the task times out), as the in-memory engine's
//! timer fires before a message sent at its deadline.
//!
//! **Execution stores.** AWS's messages for `ExecutionNotRedrivable` and for
//! a paging token it did not hand out are not recorded: a refused redrive's
//! text is AWS's documented `redriveStatusReason` (`Execution is SUCCEEDED
//! and cannot be redriven`, `Execution redrivable period exceeded`, ...),
//! a bad paging token is `InvalidToken` with `Invalid Token: '<token>'`.
//! The `ExecutionRedriven` event a redrive appends follows the last event
//! (`previousEventId`), and the state entered again follows
//! `ExecutionRedriven`; AWS's documentation shows neither link. A Wait
//! that a redrive restarts (the execution timed out or was stopped in it)
//! is entered again and waits its whole time again, as any state AWS
//! "reruns"; how AWS treats a Wait is not recorded. Both pinned by
//! `tests/durable/redrive.rs`. A redriven Parallel or inline Map state
//! goes on with the branches and iterations that had not succeeded (those
//! that had keep their results), as AWS documents; a branch or iteration
//! cancelled by its sibling's failure runs again too, from the state it
//! was cancelled in (`tests/durable/lines.rs`). The branches and iterations
//! of a durable run are lines of their own, each resumed where its last
//! commit left it: after a worker died, their events interleave as they
//! happen to run, so the ids differ from an uninterrupted run's while
//! each line's own events are the same (item 5(a) compares them so,
//! `tests/durable/interrupted.rs`). A task call in flight when its worker
//! died is made again with the whole of its `TimeoutSeconds`. An answer
//! to a callback Task inside a branch or iteration, written to the store
//! while other lines of the execution still run, is taken when the
//! execution next parks (every line waits) and is resumed; AWS delivers
//! it at once. The
//! redrive rules are read as: the 14 days run from the stop date, the year
//! from the start date, and a history of 25,000 events (the highest id)
//! is at the limit. When the store's database fails (an I/O error, a
//! PostgreSQL server that closed the connection) the request fails with
//! stepfn's own `StoreFailure` and the database's words; AWS answers a
//! failure of its own with a server error whose name and text are not
//! recorded. A store compares leases and due times on the `now` its
//! callers pass, so workers on several hosts rely on their clocks agreeing
//! (AWS keeps one service clock).
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
//! **Workflow variables.** The limits AWS documents (256 KiB per variable,
//! 256 KiB for all the values one `Assign` sets, 10 MiB for the variables
//! of an execution: [`Limits::max_variable_bytes`],
//! [`Limits::max_assign_bytes`], [`Limits::max_variables_total_bytes`]) are
//! measured on the compact JSON text of the values (names not counted). A
//! Choice rule's `Assign` counts with its state's; the execution's total
//! counts every scope alive (the top level and the running Parallel
//! branches and Map iterations, which give their variables back when they
//! end). Passing one fails the state with `States.DataLimitExceeded`
//! (terminal) and a cause of ours, AWS's wording not being recorded:
//! `The state/task 'S' assigned the variable 'x' a value with a size
//! exceeding the maximum of 262144 bytes.`, `... assigned variables with a
//! combined size exceeding the maximum of 262144 bytes.`, `... assigned
//! variables that would bring the variables of the execution to a size
//! exceeding the maximum of 10485760 bytes.` Which limit AWS reports when
//! several are passed, and whether it counts a branch's variables in the
//! execution's total, is not recorded either.
//!
//! **Values built within a state.** A payload template (`Parameters`,
//! `ItemSelector`, `ResultSelector`), the intrinsic calls inside it (their
//! intermediate values too) and the results a Map or Parallel collects
//! fail with `States.DataLimitExceeded` and the cause of a state output
//! over the limit (`The state/task 'S' returned a result with a size
//! exceeding the maximum number of bytes service limit.`, terminal) as soon
//! as they pass four times the payload limit (at least 1 MiB), even where
//! ResultPath or OutputPath would have dropped them; an intrinsic call that
//! would build more fails that way too, not with `States.IntrinsicFailure`.
//! Below that cap only state outputs and task results are judged, as
//! before. A Map (inline or distributed) whose running iterations' inputs
//! together pass the cap starts no further iteration until one ends, so
//! fewer iterations may run at once than `MaxConcurrency` allows; so does a
//! Parallel state whose branches' copies of its input pass it. AWS's behaviour for a value past its limit inside a state is not
//! recorded (a Task's parameters over 256 KiB are publicly reported to fail
//! with `... provided parameters with a size exceeding the maximum number
//! of bytes service limit.`, which stepfn does not raise).
//!
//! **Not supported yet.** Distributed Map runs its items from
//! `ItemsPath` as in-process child executions. A Map with `ItemReader`,
//! `ItemBatcher` or `ResultWriter` loads and validates, as on AWS, but fails
//! at run time after `MapStateStarted` with `States.Runtime` (`ItemReader is
//! not supported by this version of stepfn`), which no Retry or Catch takes,
//! so it cannot pass for a failure the workflow handles; their
//! `MaxItemsPath`, `MaxItemsPerBatchPath` and `MaxInputBytesPerBatchPath`
//! are therefore never evaluated. Activities are tasks like any other
//! (the executor answers them). A Map whose items are a JSON object fails
//! with `States.Runtime` (`Map state input must be an array but was: …`):
//! AWS's guide now describes one
//! iteration per key-value pair, but no recording shows the shape of the
//! pair an iteration receives.
//!
//! **Test conveniences.** They are stepfn's, not AWS's, and change nothing
//! unless used. [`TimeOverrides`] changes how long Waits and retry
//! back-offs last (not what is evaluated: a Wait's `SecondsPath` is still
//! read, where aws-local-stepfunctions skips it; pinned by
//! `tests/engine/time.rs`, `a_wait_override_still_evaluates_the_path`).
//! [`Router`] fails a task no handler takes with `States.Runtime`, a
//! setup mistake no Retry or Catch may hide, as a missing mock does.
//! [`lambda_fn`] answers `lambda:invoke` with the field set AWS records,
//! but the request id, trace id and `Date` are stepfn's, derived from the
//! request so runs repeat; an absent `Payload` gives the function a `null`
//! event (as `stepfn run --task-command` does; what AWS's runtime passes
//! then is not recorded); for `.waitForTaskToken` the function's result
//! also completes the callback (on AWS the function would send the token
//! back itself). Pinned in `tests/testing.rs`
//! (`lambda_invoke_answers_as_aws_integration_does`,
//! `lambda_fn_passes_the_payload_or_the_parameters`,
//! `a_task_no_route_takes_fails_uncaught_with_states_runtime`).
//!
//! **Definitions.**
//! * Malformed JSON is reported with serde_json's message and position, not
//!   Jackson's (`[Source: ...]`).
//! * Nesting deeper than 128 levels is `TOO_DEEPLY_NESTED` (AWS's limit is
//!   not recorded).
//! * Where AWS's wording is not recorded, messages are ours (states with
//!   neither `Next` nor `End`, enum values, `States.ALL` placement, state
//!   names, `NO_DOLLAR`, `PASS_RESULT_IS_STATIC`, Map `Label` rules).
//! * Not checked: `HeartbeatSeconds` < `TimeoutSeconds`, `NO_PATH`, the ARN format of `Resource` (placeholder ARNs such as the
//!   tutorials' `YOUR_REGION` load), and `ExecutionType` on DISTRIBUTED maps.
//! * A service integration AWS does not offer is refused with the message
//!   AWS recorded for `arn:aws:states:::dynamodb:query` (`The resource
//!   provided … is not recognized. The value is not a valid resource ARN, or
//!   the resource is not available in this region.` at `/States/<name>/Resource`).
//!   That an unknown optimized service, an unknown action of a known one, a
//!   pattern the service does not offer (`lambda:invoke.sync`) and `.sync`
//!   on an AWS SDK integration get the same message is inferred. The table
//!   of actions comes from AWS's integration pages; patterns are checked per
//!   action for Athena, CodeBuild and EMR (whose pages say so) and per
//!   service elsewhere, so e.g. `sagemaker:createModel.sync` loads. The
//!   action's case and AWS SDK service and action names are not checked.
//! * A Wait `Timestamp` must be an RFC 3339 date-time: `T` or `t` (a space
//!   is refused, as AWS recorded), seconds, an optional fraction of one or
//!   more digits, `Z`/`z` or `±hh:mm`; a leap second (`:60`) loads. Only the
//!   space, a missing zone and impossible dates are recorded.
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
//! * Map `MaxConcurrencyPath`, `ToleratedFailureCountPath` and
//!   `ToleratedFailurePercentagePath` accept a string holding the number, as
//!   AWS does for `"1"` (recorded). The rest is inferred from AWS's wording
//!   (`not a valid integer`/`float`: Java's `Integer.parseInt`/
//!   `Double.parseDouble` read the value's text): an integer is an optional
//!   sign and ASCII digits within 32 bits (`"1.5"`, `" 1"`, `1.0` and
//!   `"2147483648"` are not integers; `"-1"` reaches the range check); a
//!   percentage is a decimal number, whitespace around it ignored (`NaN` and
//!   `Infinity` fail the range check).
//! * A negative `MaxConcurrency` from `MaxConcurrencyPath` fails the Map
//!   before `MapStateStarted` with `States.Runtime` (`MaxConcurrency cannot
//!   be negative.`): AWS's execution stalls (recorded) and stepfn does not
//!   wait forever.
//! * A Task timeout that a Catch takes gives the catcher `{"Error":
//!   "States.Timeout", "Cause": ""}` (recorded for `lambda:invoke` with
//!   `TimeoutSeconds`), while the history and an uncaught failure keep no
//!   cause. The same for Lambda function ARNs, activities, heartbeats and a
//!   `States.Timeout` (or `States.HeartbeatTimeout`) an executor or mock
//!   raises without a cause is inferred. A Map or Parallel that catches a
//!   timeout from inside still gives `"Cause": null` (not recorded).
//! * A Wait `TimestampPath` value (and a `Timestamp` at run time) is read
//!   as Java's ISO offset date-time, which AWS's error names: a space
//!   instead of `T` is refused (recorded); the rest is inferred from that
//!   format: `t`/`z` are accepted, seconds are optional (`…T01:59Z`), 1 to 9
//!   fraction digits, offsets `±hh:mm` or `±hh:mm:ss` up to 18 hours, no
//!   leap second, a year past 9999 only with `+`. A `Timestamp` that loads
//!   but fails these rules (`:60`, a 23-hour offset) fails at run time.
//! * A Distributed Map's `MapStateExited` follows `MapRunStarted`, as every
//!   AWS recording since November 2024 shows; older recordings follow
//!   `MapRunSucceeded` (they are marked superseded in the conformance list).
//! * Callback answers ([`ExecutionHandle::send_task_success`] and its
//!   siblings, [`CallbackSender`]) are refused as AWS's SendTask* APIs
//!   refuse them: a task takes one success or failure, and a second
//!   answer, an answer for a task that timed out or was aborted, and one
//!   after the execution ended are [`CallbackError::TaskTimedOut`] (AWS's
//!   answer to a reused token, "Provided task does not exist anymore", in
//!   public reports; its reference describes the error as a token whose
//!   task is closed). A token the execution never issued is
//!   [`CallbackError::InvalidToken`], as AWS recorded for a made-up token.
//!   Not recorded, chosen: a heartbeat after the answer is refused too; a
//!   made-up token that starts with the execution's token prefix is
//!   `TaskTimedOut`; a handle answers only its own execution's tokens
//!   (another execution's is `InvalidToken`); `TaskDoesNotExist` (AWS: an
//!   activity that does not exist) is never returned.
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
//! * Mocked responses are counted per state name over the whole execution,
//!   as Step Functions Local does: retries, loops, Map iterations and
//!   Parallel branches share the count (each branch's states have their own
//!   names, hence their own count). Concurrent Map iterations make their
//!   first calls in index order and a retry calls when its wait ends (the
//!   order Step Functions Local counts in is the order of the calls;
//!   inferred). A Distributed Map's children share their parent's count too,
//!   as in Step Functions Local and localstack; on AWS they are separate
//!   executions, whose calls no recording shows.
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
//!   tolerated failures are not evaluated). It measures no output against the
//!   payload limit, but builds its templates, intrinsic calls and `Assign`
//!   within AWS's default limits, as an execution does (see **Values built
//!   within a state**).
//!
//! **JSONata states.**
//! * An expression that does not parse is `INVALID_JSONATA_EXPRESSION` with
//!   the evaluator's message, located at the field and, inside a template,
//!   the JSON Pointer of the string (`/States/S/Output/a`); AWS's location
//!   inside a template is not recorded. `??` and `?:` (JSONata 2.1) do not
//!   parse: `The symbol "?" cannot be used as a unary operator` (or `":"`);
//!   AWS refuses them too, in words not recorded.
//! * `$$` where the missing input would be read (as for a bare field name)
//!   is `UNSUPPORTED_JSONATA_EXPRESSION` `Reference to '$$' is not
//!   supported.`, as AWS words it; inside a predicate or a step after the
//!   first it loads (AWS's answer there is not recorded).
//! * `$states.errorOutput` outside a catcher's Output and Assign is
//!   `UNSUPPORTED_JSONATA_EXPRESSION` `Field '$states.errorOutput' does not
//!   exist.`, as AWS words it, wherever the expression reads it (AWS's
//!   answer is recorded for a whole-field read); an expression that binds
//!   `$states` itself (`$states := ...`, a parameter, a path variable) is
//!   not checked. `$states.result` outside the Output and Assign of a Task,
//!   Parallel or Map, and names `$states` does not have, load (AWS accepts
//!   `$states.error`; its answer for `result` there is not recorded) and
//!   read nothing at run time (`... returned nothing (undefined).`).
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
//! * An evaluation in a state may build arrays of at most a million items
//!   (`U1002` past that; the evaluator's own default is ten million), and
//!   strings, and a result copied out of its input, of at most four times
//!   the payload limit (at least 1 MiB; the larger variable limit for an
//!   `Assign`): past that the state fails with `States.DataLimitExceeded`
//!   and the payload-size cause, as a JSONPath payload template does. AWS
//!   would fail such a state when its output is measured, or run out of
//!   memory first; the cap stops it before it takes much memory (with the
//!   payload limit off, strings are held to a million characters).
//! * A failing `ItemSelector` of a JSONata Map records `EvaluationFailed`
//!   (location `ItemSelector/<key>`) then `MapStateFailed`, as AWS records a
//!   failing `Items`; AWS's recordings hold no failing ItemSelector (in
//!   either language), so that it follows the Map's last event, with no
//!   `MapIterationStarted` for the item, is inferred. Iterations already
//!   started in the same batch end there without further events.
//! * A failing Output or Assign of a Task goes to the Task's catchers
//!   without being retried (AWS's choice is not recorded). `EvaluationFailed`
//!   is recorded for a caught error too.
//!
//! **JSONata, the language** ([`jsonata`], the 2.0.6 suite passes but for
//! the two cases holding lone UTF-16 surrogates, which no Rust string can
//! hold, and `$eval`, which AWS does not offer: the name is unbound, so a
//! call is `T1006` `Attempted to invoke a non-function`, AWS's answer; a
//! definition calling it loads, as on AWS).
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
//! * Regular expressions run on the evaluation's step budget (8 matcher
//!   steps per evaluation step, at most 2^20 backtracking points per match):
//!   one that backtracks catastrophically (`/(a+)+$/` on forty `a`s and a
//!   `!`) ends with `U1001` (`Expression evaluation timeout: the regular
//!   expression /(a+)+$/ ran out of evaluation steps on this input (it
//!   backtracks too much)`) where jsonata-js runs until AWS's own timeout. So can a merely quadratic search over a long string (`/.*x/`
//!   over 100,000 characters without an `x`). Patterns are JavaScript's
//!   without the `u` flag, read by code point as before; groups or
//!   quantifiers nested more than 64 levels deep are refused (`S0303`).
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
// layer 4': durable executions over a store
pub mod durable;
// layer 4'': pictures of a definition and of an execution's path
pub mod graph;
// layer 5: offline testing
pub mod testing;

pub use clock::{Clock, SystemClock, VirtualClock};
pub use engine::{
    EventObserver, EventStream, Execution, ExecutionHandle, ExecutionIdentity, HistoryEvent,
    Limits, Outcome, Place, StateInFlight, Status, TimeOverrides,
};
pub use error::{Diagnostic, Error, ErrorKind, ErrorName, Severity, StatesError};
pub use executor::{
    lambda_fn, sync_task_fn, task_fn, CallbackError, CallbackSender, LambdaFn, Router,
    TaskExecutor, TaskRequest, TaskResult,
};
pub use state_machine::{StateMachine, Validation};

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
