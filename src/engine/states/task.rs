//! The Task state: its settings resolved once, each attempt (the
//! parameters, the executor's call under the timeout, heartbeats and
//! callbacks, the task events), Retry and Catch around the attempts,
//! ResultSelector and ResultPath.

use crate::definition::Task;
use crate::engine::checkpoint::{
    self, CheckpointSink, Position, RetryPoint, RetryResume, UnderWay,
};
use crate::engine::drive::{BusyGuard, Exceeded, Run};
use crate::engine::events::{Scheduled, TaskEvents, TaskStep};
use crate::engine::handle::CallbackGuard;
use crate::engine::inspect::NoInspect;
use crate::engine::io::{self, Assigned, TaskSettings};
use crate::engine::jsonata;
use crate::engine::plan::{self, Move, TaskFamily, TaskNames};
use crate::engine::retry::{self, retry_loop};
use crate::engine::states::callback::{self, InFlight};
use crate::engine::walk::{Failure, StateCx, Step};
use crate::error::{ErrorName, StatesError};
use crate::executor::{CallbackMessage, CallbackSender, TaskRequest};
use crate::json::{add, Bounds, Measure, Payload};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::Scope;
use futures::future::{Either, FutureExt};
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

/// Runs a Task state on `input`; in a durable run, from the retry point of
/// a checkpoint when there is one (`resume`: the retriers' counters and the
/// end of the back-off it was in).
pub(crate) async fn task<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x Task,
    input: Payload,
    resume: Option<RetryResume>,
) -> Result<Step, Failure> {
    // resolve timeouts and credentials once, against the state input
    let mut settings = io::task_settings(s, &input.value, &cx.scope()).map_err(|e| cx.error(e))?;
    if cx.plan.jsonata {
        jsonata::task_settings(s, &input.value, &cx.jx(), &mut settings)
            .map_err(|e| cx.error(e))?;
    }
    // without Retry or Catch, the effective input can be moved out of the
    // state input when nothing reads it afterwards
    let Payload {
        value: mut input,
        bound,
    } = input;
    // a durable attempt checkpoints the state input: it is kept
    let durable = cx.run.checkpoints_on(cx.th).is_some();
    let mut taken = match &cx.plan.task_move {
        _ if durable => None,
        Some(Move::Whole) => Some(std::mem::take(&mut input)),
        Some(Move::Node(steps)) => io::take_node(&mut input, steps),
        None => None,
    };
    // a moved node leaves a null (4 bytes) behind
    let bound = if taken.is_some() {
        Measure {
            bytes: add(bound.bytes, 4),
            depth: bound.depth,
        }
    } else {
        bound
    };
    let mut resume = resume;
    // a resumed attempt goes on where it was
    let mut under_way = resume
        .as_mut()
        .map(|r| std::mem::replace(&mut r.under_way, UnderWay::Nothing));
    let outcome: Result<_, Failure> = {
        let raw = &input;
        let settings = &settings;
        let durable = cx
            .run
            .checkpoints_on(cx.th)
            .map(|_| RetryPoint { input: raw, resume });
        retry_loop!(cx, &s.result_handling.retry, None, durable, retry_count, counters => {
            let attempt = Attempt {
                raw,
                taken: taken.take(),
                retry_count,
                settings,
                counters: &counters,
                resumed: under_way.take().unwrap_or(UnderWay::Nothing),
            };
            task_attempt(cx, s, attempt).await
        })
    };
    let (selected, assigned) = match outcome {
        Ok(r) => r,
        Err(failure) => {
            let failure = failure.caught_timeout(&s.result_handling.catch);
            return retry::catch(cx, &s.result_handling.catch, (&input, bound), failure);
        }
    };
    let bounds = cx.bounds();
    if cx.plan.jsonata {
        let fields = (s.assign.as_ref(), jsonata::io_output(&s.io));
        return match jsonata::result_output(bounds, fields, (&input, selected), &cx.jx()) {
            Ok((out, assigned)) => cx.finish(out, cx.plan.next, assigned),
            Err(e) => {
                let failure = cx.error(e);
                retry::catch(cx, &s.result_handling.catch, (&input, bound), failure)
            }
        };
    }
    // ResultPath, written in place
    let mut out = Payload::new(input, bound);
    if let Err(e) = data_flow::result_path_into(
        bounds,
        s.result_handling.result_path.as_ref(),
        &mut out,
        selected,
    ) {
        let failure = cx.error(e);
        return retry::catch(
            cx,
            &s.result_handling.catch,
            (&out.value, out.bound),
            failure,
        );
    }
    let out = data_flow::select_owned(bounds, s.io.output_path(), out, &cx.scope())
        .map_err(|e| cx.error(e))?;
    cx.finish(out, cx.plan.next, assigned)
}

/// One attempt of a Task: the state input (`raw`), the effective input
/// when the plan moved it out, the retry count and the settings.
struct Attempt<'a> {
    raw: &'a Value,
    taken: Option<Value>,
    retry_count: u32,
    settings: &'a TaskSettings,
    /// The retriers' counters (a durable attempt checkpoints them).
    counters: &'a [u64],
    /// A durable attempt resumed from its checkpoint: a callback attempt
    /// (boxed: the attempt's future stays small without a store), or a
    /// call made again.
    resumed: UnderWay,
}

/// What a task attempt ends with.
enum TaskEnd {
    Done(Result<Value, StatesError>),
    TimedOutWith(StatesError),
    TimedOut { heartbeat: bool },
}

/// One call of the executor with its events; gives the selected result
/// and the variables to assign.
async fn task_attempt<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x Task,
    attempt: Attempt<'_>,
) -> Result<(Payload, Assigned), Failure> {
    let fallback;
    let names = match cx.plan.task.as_ref() {
        Some(n) => n,
        None => {
            fallback = plan::task_names(&s.resource);
            &fallback
        }
    };
    let (resumed, called) = match attempt.resumed {
        UnderWay::Callback(in_flight) => (Some(in_flight), None),
        UnderWay::Call(token) => (None, Some(token)),
        UnderWay::Nothing | UnderWay::Lines(_) => (None, None),
    };
    let token = match (&resumed, &called) {
        (Some(in_flight), _) => Some(in_flight.token.clone()),
        (None, Some(token)) => token.clone(),
        (None, None) => (names.callback || names.sync || names.family == TaskFamily::Activity)
            .then(|| cx.run.shared.new_token()),
    };
    // the context object of this attempt (RetryCount, Task.Token)
    let context = cx
        .context
        .as_ref()
        .map(|_| cx.context_with(Some(attempt.retry_count), token.as_deref(), None));
    let parameters = if cx.plan.jsonata {
        let jx = cx.jx();
        let jx = jx.with_context(context.as_ref().unwrap_or(&Value::Null));
        jsonata::arguments(&s.io, attempt.raw, &jx).map_err(|e| cx.error(e))?
    } else {
        let scope = Scope {
            context: context.as_ref().unwrap_or(&Value::Null),
            variables: &cx.th.vars,
        };
        match attempt.taken {
            Some(effective) => data_flow::apply_template(s.io.parameters(), effective, &scope),
            None => {
                let fields = (s.io.input_path(), s.io.parameters());
                let raw = (attempt.raw, Measure::UNKNOWN);
                data_flow::effective_input(Bounds::OFF, fields, raw, &scope).map(|p| p.value)
            }
        }
        .map_err(|e| cx.error(e))?
    };
    let events = TaskEvents { names };
    // a resumed attempt announced itself before its checkpoint
    if resumed.is_none() && called.is_none() {
        announce(cx, s, &events, (&parameters, attempt.settings));
    }
    if let Some(sink) = cx.run.checkpoints_on(cx.th).filter(|_| !names.callback) {
        // the call is in flight: a commit of another line meanwhile keeps
        // it as such (the call is made again, not announced again)
        let at = Position::Calling {
            state: cx.state.name.clone(),
            entered: cx.entered,
            before_entered: cx.before_entered,
            entered_time: cx.entered_time,
            counters: attempt.counters.to_vec(),
            retry_count: attempt.retry_count,
            token: token.clone(),
        };
        checkpoint::record(cx.run, sink, at, attempt.raw, cx.th);
    }
    let call = Call {
        parameters,
        token: token.as_deref(),
        retry_count: attempt.retry_count,
        context,
        settings: attempt.settings,
    };
    let end = match cx.run.checkpoints_on(cx.th).filter(|_| names.callback) {
        Some(sink) => {
            let durable = (sink, attempt.raw, attempt.counters, resumed);
            // boxed: a run without a store keeps the attempt's future as
            // small as before
            Box::pin(invoke_durable(cx, s, &events, call, durable)).await
        }
        None => invoke(cx, s, &events, call).await,
    };
    let (end, result_bound) = checked(cx.run, s, names, end);
    conclude(cx, s, &events, (end, result_bound))
}

/// Emits `...Scheduled` and `...Started`.
fn announce(
    cx: &mut StateCx<'_, '_>,
    s: &Task,
    events: &TaskEvents<'_>,
    (parameters, settings): (&Value, &TaskSettings),
) {
    let run = cx.run;
    let scheduled = Scheduled {
        resource_arn: s.resource.arn.as_str(),
        parameters,
        timeout: settings.timeout,
        heartbeat: settings.heartbeat,
        role: settings.role.as_deref(),
    };
    cx.emit_next(
        events.event_type(TaskStep::Scheduled),
        events.details_key(TaskStep::Scheduled),
        || events.scheduled(&scheduled, &run.ident().region),
    );
    cx.emit_next(
        events.event_type(TaskStep::Started),
        events.details_key(TaskStep::Started),
        || events.started(),
    );
}

/// The executor's call of one attempt.
struct Call<'a> {
    parameters: Value,
    token: Option<&'a str>,
    retry_count: u32,
    /// The context object, when the state reads it (else built when the
    /// executor asks for it).
    context: Option<Value>,
    settings: &'a TaskSettings,
}

/// Calls the executor (a panic is a `States.TaskFailed`), under the task's
/// timeout; a `.sync` job records its submission, a `.waitForTaskToken`
/// task then waits for its callback.
async fn invoke<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x Task,
    events: &TaskEvents<'_>,
    call: Call<'_>,
) -> TaskEnd {
    let run = cx.run;
    let names = events.names;
    let callback = names.callback;
    let token = call.token;
    let callback_sender = token.filter(|_| callback).map(|t| {
        run.shared.register(t);
        CallbackSender::new(run.shared.clone(), t)
    });
    let _unregister = token.filter(|_| callback).map(|t| CallbackGuard {
        shared: run.shared,
        token: t,
    });
    let timeout = call.settings.timeout;
    let heartbeat = call.settings.heartbeat;
    let request = Request::of(cx, s, call);
    let th = &mut *cx.th;
    let call = async {
        let submitted = request.submit(run, callback_sender).await;
        let submitted_type = events.event_type(TaskStep::Submitted);
        let submitted_key = events.details_key(TaskStep::Submitted);
        if names.sync {
            // stepfn sees only the job's final result: the submission is
            // recorded without the service's answer
            run.emit_next(th, submitted_type, submitted_key, || {
                events.output(Value::from("{}"))
            });
        }
        if !callback {
            return TaskEnd::Done(submitted);
        }
        match submitted {
            Err(e) => TaskEnd::Done(Err(e)),
            Ok(out) => {
                run.emit_next(th, submitted_type, submitted_key, || {
                    events.output(crate::engine::events::text(&out))
                });
                wait_callback(run, token.unwrap_or_default(), heartbeat).await
            }
        }
    };
    match timeout {
        None => call.await,
        Some(t) => {
            let sleep = run.clock.sleep(Duration::from_secs(t));
            futures::pin_mut!(call);
            match futures::future::select(call, sleep).await {
                Either::Left((end, _)) => end,
                Either::Right(((), _)) => TaskEnd::TimedOut { heartbeat: false },
            }
        }
    }
}

/// A durable callback attempt: the sink, the state input, the retriers'
/// counters, and where a resumed attempt was.
type Durable<'a> = (
    &'a dyn CheckpointSink,
    &'a Value,
    &'a [u64],
    Option<Box<InFlight>>,
);

/// [`invoke`] for a `.waitForTaskToken` task in a durable run: the
/// attempt is checkpointed with its token before the call; once the call
/// answered (`TaskSubmitted`), the answers that came are judged against
/// the attempt's absolute deadlines, and with none the execution parks
/// (nothing waits in memory). A resumed attempt makes its call again
/// (at-least-once, same token) unless it had answered.
async fn invoke_durable<'x>(
    cx: &mut StateCx<'_, 'x>,
    s: &'x Task,
    events: &TaskEvents<'_>,
    call: Call<'_>,
    (sink, input, counters, resumed): Durable<'_>,
) -> TaskEnd {
    let run = cx.run;
    let token = call.token.unwrap_or_default();
    let heartbeat = call.settings.heartbeat;
    let started = run.clock.now();
    let (submitted, timeout_at, heartbeat_at) = match &resumed {
        Some(f) => (f.submitted, f.timeout_at, f.heartbeat_at),
        None => {
            let timeout_at = call
                .settings
                .timeout
                .and_then(|t| started.checked_add(Duration::from_secs(t)));
            (false, timeout_at, None)
        }
    };
    let attempt = callback::Attempt {
        sink,
        state: cx.name(),
        entered: cx.entered,
        before_entered: cx.before_entered,
        entered_time: cx.entered_time,
        input,
        counters,
        retry_count: call.retry_count,
        token,
        timeout_at,
    };
    let end = if submitted {
        let answer = attempt.settle(run, cx.th, heartbeat, heartbeat_at, Vec::new());
        answered(run, token, heartbeat, Box::pin(answer).await).await
    } else {
        if resumed.is_none() {
            // the token is open in the store from here on: an answer may
            // come before the call returns
            Box::pin(attempt.calling(run, cx.th)).await;
        }
        // answers the executor gives in process (a test double)
        run.shared.register(token);
        let _unregister = CallbackGuard {
            shared: run.shared,
            token,
        };
        let sender = CallbackSender::new(run.shared.clone(), token);
        let request = Request::of(cx, s, call);
        let th = &mut *cx.th;
        let call = async {
            match request.submit(run, Some(sender)).await {
                Err(e) => TaskEnd::Done(Err(e)),
                Ok(out) => {
                    let submitted_type = events.event_type(TaskStep::Submitted);
                    let submitted_key = events.details_key(TaskStep::Submitted);
                    run.emit_next(th, submitted_type, submitted_key, || {
                        events.output(crate::engine::events::text(&out))
                    });
                    let mut early = Vec::new();
                    while let Some(m) = run.shared.next_message(token).now_or_never() {
                        early.push(m);
                    }
                    let heartbeat_at =
                        heartbeat.and_then(|h| run.clock.now().checked_add(Duration::from_secs(h)));
                    let answer = attempt.settle(run, th, heartbeat, heartbeat_at, early);
                    answered(run, token, heartbeat, Box::pin(answer).await).await
                }
            }
        };
        // what is left of TimeoutSeconds, counted from the first call
        match timeout_at {
            None => call.await,
            Some(at) => {
                let left = at.duration_since(run.clock.now()).unwrap_or_default();
                let sleep = run.clock.sleep(left);
                futures::pin_mut!(call);
                match futures::future::select(call, sleep).await {
                    Either::Left((end, _)) => end,
                    Either::Right(((), _)) => TaskEnd::TimedOut { heartbeat: false },
                }
            }
        }
    };
    sink.close_token(token);
    end
}

/// The end of a callback attempt from its answer; without one (a sink
/// that does not park), waits for it in memory.
async fn answered(
    run: &Run<'_>,
    token: &str,
    heartbeat: Option<u64>,
    answer: Option<callback::Answer>,
) -> TaskEnd {
    match answer {
        Some(callback::Answer::Message(CallbackMessage::Success(v))) => TaskEnd::Done(Ok(v)),
        Some(callback::Answer::Message(CallbackMessage::Failure(e))) => TaskEnd::Done(Err(e)),
        Some(callback::Answer::TimedOut { heartbeat }) => TaskEnd::TimedOut { heartbeat },
        Some(callback::Answer::Message(CallbackMessage::Heartbeat)) | None => {
            wait_callback(run, token, heartbeat).await
        }
    }
}

/// The executor's request of one attempt, and what it borrows.
struct Request<'a, 'c> {
    resource: &'a crate::resource::Resource,
    name: &'a str,
    entered: u64,
    entered_time: std::time::SystemTime,
    line: String,
    call: Call<'c>,
}

impl<'a, 'c> Request<'a, 'c> {
    fn of(cx: &StateCx<'_, 'a>, s: &'a Task, call: Call<'c>) -> Self {
        Request {
            resource: &s.resource,
            name: cx.name(),
            entered: cx.entered,
            entered_time: cx.entered_time,
            // (empty, without allocating, for a run without a store)
            line: cx.th.line.clone(),
            call,
        }
    }

    /// Calls the executor (a panic is a `States.TaskFailed`).
    async fn submit(
        self,
        run: &Run<'_>,
        callback: Option<CallbackSender>,
    ) -> Result<Value, StatesError> {
        let Request {
            resource,
            name,
            entered,
            entered_time,
            line,
            call,
        } = self;
        let Call {
            parameters,
            token,
            retry_count,
            context,
            settings,
        } = call;
        crate::engine::trace::task_call(&resource.arn, retry_count);
        let lazy_context = || {
            context
                .clone()
                .unwrap_or_else(|| run.context(name, entered_time, Some(retry_count), token, None))
        };
        let execution_arn = || run.ident().exec_arn.clone();
        let mut request = TaskRequest::new(resource, parameters)
            .with_state_name(name)
            .with_retry_count(retry_count)
            .with_lazy_context(&lazy_context)
            .with_lazy_execution_arn(&execution_arn);
        request.state_entered_event_id = entered;
        request.line = &line;
        request.timeout_seconds = settings.timeout;
        request.heartbeat_seconds = settings.heartbeat;
        request.task_token = token;
        request.credentials = settings.role.as_deref();
        if let Some(cb) = callback {
            request = request.with_callback(cb);
        }
        let _busy = BusyGuard::new(&run.busy);
        match AssertUnwindSafe(run.executor.execute(request))
            .catch_unwind()
            .await
        {
            Ok(r) => r,
            Err(panic) => Err(StatesError::new(
                ErrorName::TaskFailed,
                panic_message(panic),
            )),
        }
    }
}

/// A result over the payload limits fails the task (catchable, as AWS
/// recorded), naming the resource; it is measured on arrival: it comes
/// from outside. An executor answering `States.Timeout` is recorded as a
/// timeout.
fn checked(run: &Run<'_>, s: &Task, names: &TaskNames, end: TaskEnd) -> (TaskEnd, Measure) {
    match end {
        TaskEnd::Done(Ok(result)) => match run.check_given(&result) {
            Ok(bound) => (TaskEnd::Done(Ok(result)), bound),
            Err(exceeded) => {
                if exceeded == Exceeded::Depth {
                    crate::json::dismantle(result);
                }
                let error = run.exceeded(limit_name(s, names), exceeded);
                (TaskEnd::Done(Err(error)), Measure::UNKNOWN)
            }
        },
        TaskEnd::Done(Err(e)) if e.name == ErrorName::Timeout => {
            (TaskEnd::TimedOutWith(e), Measure::UNKNOWN)
        }
        other => (other, Measure::UNKNOWN),
    }
}

/// How a result over the payload limits names the task: a service
/// integration by its resource type, else by its ARN.
pub(crate) fn limit_name<'a>(s: &'a Task, names: &'a TaskNames) -> &'a str {
    match names.family {
        TaskFamily::Service => names.resource_type.as_str(),
        _ => s.resource.arn.as_str(),
    }
}

/// The events of a task's end; on success Assign over the result and
/// ResultSelector.
fn conclude(
    cx: &mut StateCx<'_, '_>,
    s: &Task,
    events: &TaskEvents<'_>,
    (end, result_bound): (TaskEnd, Measure),
) -> Result<(Payload, Assigned), Failure> {
    let (error, heartbeat, step) = match end {
        TaskEnd::Done(Ok(result)) => {
            cx.emit_next(
                events.event_type(TaskStep::Succeeded),
                events.details_key(TaskStep::Succeeded),
                || events.output(crate::engine::events::text(&result)),
            );
            return select(cx, s, Payload::new(result, result_bound));
        }
        TaskEnd::Done(Err(error)) => (error, false, TaskStep::Failed),
        TaskEnd::TimedOutWith(error) => (error, false, TaskStep::TimedOut),
        TaskEnd::TimedOut { heartbeat } => (
            StatesError::without_cause(ErrorName::Timeout),
            heartbeat,
            TaskStep::TimedOut,
        ),
    };
    let id = cx.emit_next(events.event_type(step), events.details_key(step), || {
        let name = match step {
            TaskStep::TimedOut => "States.Timeout",
            _ => error.name.as_str(),
        };
        events.error(name, error.cause.as_deref())
    });
    Err(Failure {
        catchable: true,
        error,
        event: id,
        heartbeat,
        in_task: true,
    })
}

/// Assign over a task's result, then ResultSelector.
fn select(cx: &StateCx<'_, '_>, s: &Task, result: Payload) -> Result<(Payload, Assigned), Failure> {
    // a JSONata state assigns with its Output, once the result is final
    let assign = if cx.plan.jsonata {
        None
    } else {
        s.assign.as_ref()
    };
    let fields = (
        assign,
        s.result_handling.result_selector.as_ref(),
        cx.plan.selector_move.as_ref(),
    );
    let r = io::assign_and_select(cx.bounds(), fields, result, &cx.scope(), &mut NoInspect);
    // a data limit's error has no prefix
    r.map_err(|e| cx.error(e))
}

/// Waits for the callback of `token`: success, failure, or heartbeat
/// expiry.
async fn wait_callback(run: &Run<'_>, token: &str, heartbeat: Option<u64>) -> TaskEnd {
    loop {
        let message = run.shared.next_message(token);
        let message = match heartbeat {
            None => message.await,
            Some(h) => {
                let sleep = run.clock.sleep(Duration::from_secs(h));
                futures::pin_mut!(message);
                match futures::future::select(message, sleep).await {
                    Either::Left((m, _)) => m,
                    Either::Right(((), _)) => return TaskEnd::TimedOut { heartbeat: true },
                }
            }
        };
        match message {
            CallbackMessage::Success(v) => return TaskEnd::Done(Ok(v)),
            CallbackMessage::Failure(e) => return TaskEnd::Done(Err(e)),
            CallbackMessage::Heartbeat => continue,
        }
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the task panicked".to_owned()
    }
}
