//! One state evaluated on its own, as AWS's TestState API does: the
//! engine's field evaluation ([`io`]), data flow ([`data_flow`]), error
//! naming and Retry/Catch decisions ([`retry`]), with the work step mocked
//! (a Task's call, a Map's iterations, a Parallel's branches) or handed to
//! an executor, and an [`Inspect`] hook that sees every step of the data
//! flow and the retry/catch decision instead of the engine acting on it (a
//! retrier does not run the state again: the answer is
//! [`Answer::Retriable`]). Wait states do not wait.
//!
//! The errors are those of an execution that starts at the state: runtime
//! errors carry the engine's prefix with the state entered at event #2.

use super::drive::{exceeded_error, Exceeded};
use super::inspect::stage_after;
pub(crate) use super::inspect::{Inspect, Stage};
use super::io::{self, Assigned};
use super::jsonata::{self, Jx};
use super::plan;
use super::retry;
use super::states::choice::decide;
use super::states::fail::{fail_error, succeed_output};
use super::states::pass;
use super::states::task::{limit_name, panic_message};
use super::states::wait::prepare;
use super::walk::{prefixed, Failure};
use crate::definition::{
    Catcher, Choice, ChoiceRules, Pass, Retrier, State, StateKind, Succeed, Task,
};
use crate::definition::{QueryLanguage, Transition, Wait};
use crate::error::{ErrorName, StatesError};
use crate::executor::{TaskExecutor, TaskRequest};
use crate::json::{Bounds, Measure, Payload};
use crate::jsonpath::data_flow;
use crate::jsonpath::path::{Path, ReferencePath, Scope, Variables};
use crate::jsonpath::template::PayloadTemplate;
use crate::jsonpath::BuildLimits;
use futures::FutureExt;
use serde_json::{Map, Value};
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::time::SystemTime;

/// The `...StateEntered` event id of the state: the first after
/// `ExecutionStarted`, as in an execution that starts at it.
const ENTERED: u64 = 2;

/// The work step of a Task, Map or Parallel state.
pub(crate) enum Work<'a> {
    /// The raw result (for Map and Parallel, the array of iteration or
    /// branch results), or the error, standing in for the work.
    Mock(Result<Value, StatesError>),
    /// A Task calls the executor.
    Executor(&'a dyn TaskExecutor),
    /// Nothing to do the work.
    Missing,
}

/// One state to evaluate and its surroundings.
pub(crate) struct Single<'a> {
    pub state: &'a State,
    pub input: Value,
    /// `$$`.
    pub context: &'a Value,
    pub variables: &'a Map<String, Value>,
    /// Retries the state already made (`$$.State.RetryCount`; decides
    /// between a retrier and the catchers).
    pub retry_count: u32,
    /// The nesting depth a task result may have.
    pub max_depth: usize,
}

/// How the state ended.
#[derive(Debug, PartialEq)]
pub(crate) enum Answer {
    Succeeded {
        output: Value,
        next: Option<String>,
    },
    /// Nothing handles the error.
    Failed(StatesError),
    /// A retrier would run the state again.
    Retriable(StatesError),
    /// A catcher took the error.
    Caught {
        error: StatesError,
        output: Value,
        next: String,
    },
}

/// Evaluates `one` with `work` standing in for its work, showing `hook`
/// every step.
pub(crate) async fn evaluate(one: Single<'_>, work: Work<'_>, hook: &mut dyn Inspect) -> Answer {
    let Single {
        state,
        input,
        context,
        variables,
        retry_count,
        max_depth,
    } = one;
    let mut ev = Eval {
        state,
        context,
        variables: RequestVariables(variables),
        hook,
        retry_count,
    };
    if state.query_language == QueryLanguage::Jsonata {
        return ev.jsonata(input, work, max_depth).await;
    }
    let settled = match &state.kind {
        StateKind::Pass(s) => ev.pass(s, input),
        StateKind::Succeed(s) => ev.succeed(s, input),
        StateKind::Wait(s) => ev.wait(s, input),
        StateKind::Choice(s) => ev.choice(s, input),
        StateKind::Fail(s) => match fail_error(s, &input, &scope(ev.context, &ev.variables)) {
            Ok(error) => return Answer::Failed(error),
            Err(e) => Err(e),
        },
        StateKind::Task(s) => return ev.task(s, input, work, max_depth).await,
        StateKind::Parallel(s) => {
            let fields = WorkFields {
                parameters: s.io.parameters(),
                result_selector: s.result_handling.result_selector.as_ref(),
                result_path: s.result_handling.result_path.as_ref(),
                output_path: s.io.output_path(),
                assign: s.assign.as_ref(),
                handlers: (&s.result_handling.retry, &s.result_handling.catch),
            };
            let next = next_of(&s.transition);
            return ev.branches(s.io.input_path(), &fields, (input, next), work);
        }
        StateKind::Map(s) => {
            let fields = WorkFields {
                parameters: None,
                result_selector: s.result_handling.result_selector.as_ref(),
                result_path: s.result_handling.result_path.as_ref(),
                output_path: s.io.output_path(),
                assign: s.assign.as_ref(),
                handlers: (&s.result_handling.retry, &s.result_handling.catch),
            };
            let next = next_of(&s.transition);
            return ev.branches(s.io.input_path(), &fields, (input, next), work);
        }
    };
    match settled {
        Ok(answer) => answer,
        // AWS reports an unmatched Choice without the runtime prefix
        Err(e) if e.name == ErrorName::NoChoiceMatched => Answer::Failed(e),
        Err(e) => Answer::Failed(prefixed(&state.name, ENTERED, e)),
    }
}

/// What the expressions see besides the data.
fn scope<'s>(context: &'s Value, variables: &'s RequestVariables<'_>) -> Scope<'s> {
    Scope { context, variables }
}

/// The variables of a TestState request: what is built over them stays
/// within AWS's default limits, as in an execution.
#[derive(Clone, Copy)]
struct RequestVariables<'a>(&'a Map<String, Value>);

impl Variables for RequestVariables<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    fn build_limits(&self) -> BuildLimits {
        let limits = super::Limits::default();
        BuildLimits::new()
            .with_payload_bytes(limits.max_payload_bytes)
            .with_variable_bytes(limits.max_variable_bytes)
            .with_assign_bytes(limits.max_assign_bytes)
    }
}

fn next_of(transition: &Transition) -> Option<String> {
    match transition {
        Transition::Next(next) => Some(next.clone()),
        Transition::End => None,
    }
}

/// The fields of a Task, Map or Parallel state around its work.
struct WorkFields<'a> {
    parameters: Option<&'a PayloadTemplate>,
    result_selector: Option<&'a PayloadTemplate>,
    result_path: Option<&'a ReferencePath>,
    output_path: Option<&'a Path>,
    assign: Option<&'a crate::definition::Assign>,
    handlers: (&'a [Retrier], &'a [Catcher]),
}

/// One evaluation (`Send`, as the future awaiting a task is: the scope of
/// the expressions is made when needed).
struct Eval<'a, 'h> {
    state: &'a State,
    context: &'a Value,
    variables: RequestVariables<'a>,
    hook: &'h mut dyn Inspect,
    retry_count: u32,
}

impl Eval<'_, '_> {
    /// A runtime error of the state, with the engine's prefix.
    fn failure(&self, e: StatesError) -> Failure {
        Failure::new(prefixed(&self.state.name, ENTERED, e), ENTERED)
    }

    fn commit(&mut self, assigned: &Assigned) {
        if let Some(a) = assigned {
            self.hook.assigned(a);
        }
    }

    /// InputPath then Parameters over the raw input, each shown.
    fn effective(
        &mut self,
        fields: (Option<&Path>, Option<&PayloadTemplate>),
        raw: &Value,
    ) -> Result<Value, StatesError> {
        let hook = &mut *self.hook;
        let scope = scope(self.context, &self.variables);
        let raw = (raw, Measure::UNKNOWN);
        data_flow::effective_input_seen(Bounds::OFF, fields, raw, &scope, |after, v| {
            hook.step(stage_after(after), v)
        })
        .map(|p| p.value)
    }

    /// The engine's Succeed state.
    fn succeed(&mut self, s: &Succeed, input: Value) -> Result<Answer, StatesError> {
        let input = Payload::unbounded(input);
        let out = succeed_output(
            s,
            Bounds::OFF,
            &scope(self.context, &self.variables),
            input,
            self.hook,
        )?;
        Ok(Answer::Succeeded {
            output: out.value,
            next: None,
        })
    }

    /// The engine's Pass state (with `Result`, whose InputPath and
    /// Parameters the engine skips, they are shown when they evaluate).
    fn pass(&mut self, s: &Pass, input: Value) -> Result<Answer, StatesError> {
        if s.result.is_some() {
            let _ = self.effective((s.io.input_path(), s.io.parameters()), &input);
        }
        let scope = scope(self.context, &self.variables);
        let input = Payload::unbounded(input);
        let result_bound = (Bounds::OFF, Measure::UNKNOWN);
        let (out, assigned) = pass::evaluate(s, result_bound, &scope, input, self.hook)?;
        self.commit(&assigned);
        Ok(Answer::Succeeded {
            output: out.value,
            next: next_of(&s.transition),
        })
    }

    /// The engine's Wait state: the delay is computed (its errors are the
    /// state's) but not waited.
    fn wait(&mut self, s: &Wait, input: Value) -> Result<Answer, StatesError> {
        let input = (Payload::unbounded(input), SystemTime::now());
        let (effective, _, assigned) = prepare(
            s,
            Bounds::OFF,
            &scope(self.context, &self.variables),
            input,
            self.hook,
        )?;
        let output = data_flow::output_path(
            s.io.output_path(),
            effective.value,
            &scope(self.context, &self.variables),
        )?;
        self.commit(&assigned);
        Ok(Answer::Succeeded {
            output,
            next: next_of(&s.transition),
        })
    }

    /// The engine's Choice state; the next state is the matching rule's or
    /// the `Default`.
    fn choice(&mut self, s: &Choice, input: Value) -> Result<Answer, StatesError> {
        let input = Payload::unbounded(input);
        let (out, rule, assigned) = decide(
            s,
            Bounds::OFF,
            &scope(self.context, &self.variables),
            input,
            self.hook,
        )?;
        let next = match rule {
            Some(i) => s.choices.json_path().get(i).map(|r| r.next.clone()),
            None => s.default.clone(),
        };
        self.commit(&assigned);
        Ok(Answer::Succeeded {
            output: out.value,
            next,
        })
    }

    /// A Task: its settings, then one attempt (the parameters, the work,
    /// Assign and ResultSelector) whose failure goes to Retry and Catch,
    /// then ResultPath (whose failure goes to Catch) and OutputPath.
    async fn task(&mut self, s: &Task, input: Value, work: Work<'_>, max_depth: usize) -> Answer {
        let settings = match io::task_settings(s, &input, &scope(self.context, &self.variables)) {
            Ok(settings) => settings,
            Err(e) => return Answer::Failed(self.failure(e).error),
        };
        let fields = WorkFields {
            parameters: s.io.parameters(),
            result_selector: s.result_handling.result_selector.as_ref(),
            result_path: s.result_handling.result_path.as_ref(),
            output_path: s.io.output_path(),
            assign: s.assign.as_ref(),
            handlers: (&s.result_handling.retry, &s.result_handling.catch),
        };
        let attempt = match self.effective((s.io.input_path(), fields.parameters), &input) {
            Ok(parameters) => {
                let called = self.call(s, &settings, parameters, work).await;
                called
                    .and_then(|result| checked(s, result, max_depth))
                    .map_err(|error| Failure {
                        catchable: true,
                        ..Failure::new(error, ENTERED)
                    })
            }
            Err(e) => Err(self.failure(e)),
        };
        let selected = attempt.and_then(|result| self.select(&fields, result));
        let (selected, assigned) = match selected {
            Ok(selected) => selected,
            Err(failure) => return self.handle(failure, fields.handlers, input),
        };
        let out = match data_flow::result_path(fields.result_path, input.clone(), selected.value) {
            Ok(out) => out,
            Err(e) => return self.handle(self.failure(e), (&[], fields.handlers.1), input),
        };
        self.hook.step(Stage::AfterResultPath, &out);
        match data_flow::output_path(
            fields.output_path,
            out,
            &scope(self.context, &self.variables),
        ) {
            Ok(output) => {
                self.commit(&assigned);
                let next = next_of(&s.transition);
                Answer::Succeeded { output, next }
            }
            Err(e) => Answer::Failed(self.failure(e).error),
        }
    }

    /// The work of a Task: the mock, else the executor (a panic is
    /// `States.TaskFailed`).
    async fn call(
        &self,
        s: &Task,
        settings: &io::TaskSettings,
        parameters: Value,
        work: Work<'_>,
    ) -> Result<Value, StatesError> {
        let executor = match work {
            Work::Mock(answer) => return answer,
            Work::Executor(executor) => executor,
            Work::Missing => {
                return Err(StatesError::runtime(format!(
                    "no mock and no executor for Task state '{}'",
                    self.state.name
                )))
            }
        };
        let mut request = TaskRequest::new(&s.resource, parameters)
            .with_state_name(&self.state.name)
            .with_retry_count(self.retry_count)
            .with_context(self.context);
        request.timeout_seconds = settings.timeout;
        request.heartbeat_seconds = settings.heartbeat;
        request.credentials = settings.role.as_deref();
        match AssertUnwindSafe(executor.execute(request))
            .catch_unwind()
            .await
        {
            Ok(answer) => answer,
            Err(panic) => Err(StatesError::new(
                ErrorName::TaskFailed,
                panic_message(panic),
            )),
        }
    }

    /// The engine's `Assign` over the raw result, then ResultSelector.
    fn select(
        &mut self,
        fields: &WorkFields<'_>,
        result: Value,
    ) -> Result<(Payload, Assigned), Failure> {
        let scope = scope(self.context, &self.variables);
        let selector = (fields.assign, fields.result_selector, None);
        let result = Payload::unbounded(result);
        io::assign_and_select(Bounds::OFF, selector, result, &scope, self.hook)
            .map_err(|e| self.failure(e))
    }

    /// A Map or Parallel state whose iterations or branches gave `work`:
    /// InputPath (and a Parallel's Parameters), the work under Retry and
    /// Catch, then the engine's end of the state (Assign, ResultSelector,
    /// ResultPath, OutputPath).
    fn branches(
        &mut self,
        input_path: Option<&Path>,
        fields: &WorkFields<'_>,
        (input, next): (Value, Option<String>),
        work: Work<'_>,
    ) -> Answer {
        if let Err(e) = self.effective((input_path, fields.parameters), &input) {
            return Answer::Failed(self.failure(e).error);
        }
        let results = match work {
            Work::Mock(Ok(results)) => results,
            Work::Mock(Err(error)) => {
                let failure = Failure::new(error, ENTERED);
                return self.handle(failure, fields.handlers, input);
            }
            Work::Executor(_) | Work::Missing => {
                let e = StatesError::runtime("no mock given");
                return Answer::Failed(self.failure(e).error);
            }
        };
        let result_fields = io::ResultFields {
            output: None,
            assign: fields.assign,
            result_selector: fields.result_selector,
            selector_move: None,
            result_path: fields.result_path,
            output_path: fields.output_path,
        };
        let payloads = (Payload::unbounded(input), Payload::unbounded(results));
        let scope = scope(self.context, &self.variables);
        match io::results_to_output(Bounds::OFF, &result_fields, payloads, &scope, self.hook) {
            Ok((output, assigned)) => {
                self.commit(&assigned);
                Answer::Succeeded {
                    output: output.value,
                    next,
                }
            }
            Err(e) => Answer::Failed(self.failure(e).error),
        }
    }

    /// What Retry and Catch decide alike in both query languages: a
    /// retrier with attempts left (given the retries already made) makes
    /// the state retriable; else the first catcher taking the error is
    /// chosen (and shown to the hook), or the state fails.
    fn retry_or_catcher<'c>(
        &mut self,
        failure: Failure,
        (retriers, catchers): (&[Retrier], &'c [Catcher]),
    ) -> ControlFlow<Answer, (Failure, usize, &'c Catcher)> {
        if failure.catchable {
            let retried = vec![u64::from(self.retry_count); retriers.len()];
            if let Some(i) = retry::retrier_for(retriers, &failure.error, false, &retried) {
                if let Some(r) = retriers.get(i) {
                    self.hook
                        .retry(i, retry::interval(r, u64::from(self.retry_count)));
                }
                return ControlFlow::Break(Answer::Retriable(failure.error));
            }
        }
        let Some((ci, catcher)) =
            retry::catcher_for(catchers, &failure).and_then(|ci| catchers.get(ci).map(|c| (ci, c)))
        else {
            return ControlFlow::Break(Answer::Failed(failure.error));
        };
        self.hook.catch(ci);
        ControlFlow::Continue((failure, ci, catcher))
    }

    /// Retry and Catch decide: a retrier with attempts left (given the
    /// retries already made) makes the state retriable, else the first
    /// catcher taking the error gives the output.
    fn handle(
        &mut self,
        failure: Failure,
        (retriers, catchers): (&[Retrier], &[Catcher]),
        raw_input: Value,
    ) -> Answer {
        let (failure, _, catcher) = match self.retry_or_catcher(failure, (retriers, catchers)) {
            ControlFlow::Continue(caught) => caught,
            ControlFlow::Break(answer) => return answer,
        };
        let raw = Payload::unbounded(raw_input);
        match retry::caught(
            Bounds::OFF,
            catcher,
            &failure.error,
            raw,
            &scope(self.context, &self.variables),
        ) {
            Ok((out, assigned)) => {
                self.commit(&assigned);
                self.hook.step(Stage::AfterResultPath, &out.value);
                Answer::Caught {
                    error: failure.error,
                    output: out.value,
                    next: catcher.next.clone(),
                }
            }
            Err(e) => Answer::Failed(self.failure(e).error),
        }
    }
}

/// The JSONata states: the same state code as an execution's
/// ([`jsonata`]), `$states.context` being the request's context object,
/// `$now()` the time of the request.
impl<'a> Eval<'a, '_> {
    fn jx(&self) -> Jx<'_> {
        let now = SystemTime::now();
        let now_ms = crate::timestamp::unix_nanos(now) / 1_000_000;
        Jx {
            scope: scope(self.context, &self.variables),
            now_ms: i64::try_from(now_ms).unwrap_or(0),
            seed: uuid::Uuid::new_v4().as_u64_pair().0,
        }
    }

    async fn jsonata(&mut self, input: Value, work: Work<'_>, max_depth: usize) -> Answer {
        let settled = match &self.state.kind {
            StateKind::Pass(s) => {
                let r = jsonata::pass(s, Bounds::OFF, &self.jx(), Payload::unbounded(input));
                r.map(|(out, assigned)| {
                    self.commit(&assigned);
                    Answer::Succeeded {
                        output: out.value,
                        next: next_of(&s.transition),
                    }
                })
            }
            StateKind::Succeed(s) => {
                let out = jsonata::io_output(&s.io);
                let r = jsonata::succeed_output(
                    out,
                    Bounds::OFF,
                    &self.jx(),
                    Payload::unbounded(input),
                );
                r.map(|out| Answer::Succeeded {
                    output: out.value,
                    next: None,
                })
            }
            StateKind::Wait(s) => {
                let jx = self.jx();
                let done = jsonata::wait_prepare(s, &jx, &input, SystemTime::now()).and_then(
                    |(_, assigned)| {
                        let out = jsonata::io_output(&s.io);
                        let out = jsonata::succeed_output(
                            out,
                            Bounds::OFF,
                            &jx,
                            Payload::unbounded(input),
                        )?;
                        Ok((out, assigned))
                    },
                );
                done.map(|(out, assigned)| {
                    self.commit(&assigned);
                    Answer::Succeeded {
                        output: out.value,
                        next: next_of(&s.transition),
                    }
                })
            }
            StateKind::Choice(s) => {
                let r = jsonata::choice(s, Bounds::OFF, &self.jx(), Payload::unbounded(input));
                r.map(|(out, rule, assigned)| {
                    self.commit(&assigned);
                    let next = match (rule, &s.choices) {
                        (Some(i), ChoiceRules::Jsonata(rules)) => {
                            rules.get(i).map(|r| r.next.clone())
                        }
                        _ => s.default.clone(),
                    };
                    Answer::Succeeded {
                        output: out.value,
                        next,
                    }
                })
            }
            StateKind::Fail(s) => match jsonata::fail(s, &input, &self.jx()) {
                Ok(error) => return Answer::Failed(error),
                Err(e) => Err(e),
            },
            StateKind::Task(s) => return self.jsonata_task(s, input, work, max_depth).await,
            StateKind::Parallel(s) => {
                let arguments = jsonata::arguments(&s.io, &input, &self.jx());
                let arguments = arguments.map(|a| self.hook.step(Stage::AfterArguments, &a));
                if let Err(e) = arguments {
                    return Answer::Failed(self.failure(e).error);
                }
                let fields = (s.assign.as_ref(), jsonata::io_output(&s.io));
                let handlers = (&s.result_handling.retry[..], &s.result_handling.catch[..]);
                return self.jsonata_results(
                    fields,
                    handlers,
                    (input, next_of(&s.transition)),
                    work,
                );
            }
            StateKind::Map(s) => {
                let fields = (s.assign.as_ref(), jsonata::io_output(&s.io));
                let handlers = (&s.result_handling.retry[..], &s.result_handling.catch[..]);
                return self.jsonata_results(
                    fields,
                    handlers,
                    (input, next_of(&s.transition)),
                    work,
                );
            }
        };
        match settled {
            Ok(answer) => answer,
            Err(e) if e.name == ErrorName::NoChoiceMatched => Answer::Failed(e),
            Err(e) => Answer::Failed(self.failure(e).error),
        }
    }

    /// A JSONata Task: its settings, then one attempt (Arguments, the
    /// work) whose failure goes to Retry and Catch, then Assign and Output
    /// over the result (whose failure goes to Catch).
    async fn jsonata_task(
        &mut self,
        s: &Task,
        input: Value,
        work: Work<'_>,
        max_depth: usize,
    ) -> Answer {
        let handlers = (&s.result_handling.retry[..], &s.result_handling.catch[..]);
        let settings = io::task_settings(s, &input, &scope(self.context, &self.variables))
            .and_then(|mut settings| {
                jsonata::task_settings(s, &input, &self.jx(), &mut settings)?;
                Ok(settings)
            });
        let settings = match settings {
            Ok(settings) => settings,
            Err(e) => return Answer::Failed(self.failure(e).error),
        };
        let arguments = jsonata::arguments(&s.io, &input, &self.jx());
        let attempt = match arguments {
            Ok(arguments) => {
                self.hook.step(Stage::AfterArguments, &arguments);
                let called = self.call(s, &settings, arguments, work).await;
                called
                    .and_then(|result| checked(s, result, max_depth))
                    .map_err(|error| Failure {
                        catchable: true,
                        ..Failure::new(error, ENTERED)
                    })
            }
            Err(e) => Err(self.failure(e)),
        };
        let result = match attempt {
            Ok(result) => result,
            Err(failure) => return self.jsonata_handle(failure, handlers, input),
        };
        self.hook.step(Stage::Result, &result);
        let fields = (s.assign.as_ref(), jsonata::io_output(&s.io));
        let r = jsonata::result_output(
            Bounds::OFF,
            fields,
            (&input, Payload::unbounded(result)),
            &self.jx(),
        );
        match r {
            Ok((out, assigned)) => {
                self.commit(&assigned);
                Answer::Succeeded {
                    output: out.value,
                    next: next_of(&s.transition),
                }
            }
            Err(e) => self.jsonata_handle(self.failure(e), (&[], handlers.1), input),
        }
    }

    /// A JSONata Map or Parallel whose iterations or branches gave `work`.
    fn jsonata_results(
        &mut self,
        fields: (
            Option<&crate::definition::Assign>,
            Option<&crate::definition::JsonataTemplate>,
        ),
        handlers: (&[Retrier], &[Catcher]),
        (input, next): (Value, Option<String>),
        work: Work<'_>,
    ) -> Answer {
        let results = match work {
            Work::Mock(Ok(results)) => results,
            Work::Mock(Err(error)) => {
                return self.jsonata_handle(Failure::new(error, ENTERED), handlers, input)
            }
            Work::Executor(_) | Work::Missing => {
                let e = StatesError::runtime("no mock given");
                return Answer::Failed(self.failure(e).error);
            }
        };
        self.hook.step(Stage::Result, &results);
        let r = jsonata::result_output(
            Bounds::OFF,
            fields,
            (&input, Payload::unbounded(results)),
            &self.jx(),
        );
        match r {
            Ok((out, assigned)) => {
                self.commit(&assigned);
                Answer::Succeeded {
                    output: out.value,
                    next,
                }
            }
            Err(e) => Answer::Failed(self.failure(e).error),
        }
    }

    /// Retry and Catch decide for a JSONata state: the catcher's Assign and
    /// Output over `$states.errorOutput`.
    fn jsonata_handle(
        &mut self,
        failure: Failure,
        (retriers, catchers): (&[Retrier], &[Catcher]),
        raw_input: Value,
    ) -> Answer {
        let (failure, ci, catcher) = match self.retry_or_catcher(failure, (retriers, catchers)) {
            ControlFlow::Continue(caught) => caught,
            ControlFlow::Break(answer) => return answer,
        };
        let error_output = retry::error_output(&failure.error);
        let caught = jsonata::caught(
            Bounds::OFF,
            catcher,
            ci,
            (&raw_input, error_output),
            &self.jx(),
        );
        match caught {
            Ok((out, assigned)) => {
                self.commit(&assigned);
                Answer::Caught {
                    error: failure.error,
                    output: out.value,
                    next: catcher.next.clone(),
                }
            }
            Err(e) => Answer::Failed(self.failure(e).error),
        }
    }
}

/// A task result nested deeper than `max_depth` fails the task, naming it
/// as an execution does.
fn checked(s: &Task, result: Value, max_depth: usize) -> Result<Value, StatesError> {
    if !crate::json::too_deep(&result, max_depth) {
        return Ok(result);
    }
    crate::json::dismantle(result);
    let names = plan::task_names(&s.resource);
    Err(exceeded_error(
        limit_name(s, &names),
        Exceeded::Depth,
        Some(max_depth),
    ))
}
