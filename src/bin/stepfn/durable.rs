//! The durable subcommands: `start`, `worker`, `describe`, `history`,
//! `list`, `stop`, `redrive`, `send-task-success`, `send-task-failure`,
//! `send-task-heartbeat`, each over a store named by `--store URL`
//! (`sqlite:PATH`, or a `postgresql://` / `postgres://` URL).
//!
//! Each prints one JSON object in the shape of the AWS API action it
//! stands for; exit 0 on success, 1 when the store refused the request
//! (AWS's error name and the message on stderr, e.g.
//! `ExecutionDoesNotExist: ...`), 2 on a usage error.

use crate::command::{CommandExecutor, TaskCommand};
use crate::common::Tool;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use stepfn::durable::{
    Durable, ExecutionRecord, ExecutionStatus, ExecutionStore, HistoryQuery, ListFilter, Signal,
    StartError, StartExecution, StoreError, TaskMessage,
};
use stepfn::testing::{executor_for, MockConfig, MockExecutor, MockTestCase, RunOptions};
use stepfn::{StateMachine, StatesError, TaskExecutor, TaskRequest};

/// The region of the ARNs `start` makes unless `--region` says otherwise.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The account of the ARNs `start` makes unless `--account` says otherwise.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// The store every durable subcommand works on.
#[derive(Debug, clap::Args)]
pub struct StoreArg {
    /// The execution store: `sqlite:PATH` (created if missing) or a
    /// `postgresql://...` / `postgres://...` connection URL.
    #[arg(long, value_name = "URL")]
    store: String,
}

type Store = Arc<dyn ExecutionStore>;

impl StoreArg {
    fn open(&self, tool: Tool) -> Result<Store, ExitCode> {
        let url = self.store.as_str();
        if let Some(path) = url.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(tool.usage("--store `sqlite:` needs a path: sqlite:PATH"));
            }
            let store = block(stepfn::durable::SqliteStore::open(path)).map_err(|e| refused(&e))?;
            Ok(Arc::new(store))
        } else if url.starts_with("postgresql://") || url.starts_with("postgres://") {
            let store =
                block(stepfn::durable::PostgresStore::connect(url)).map_err(|e| refused(&e))?;
            Ok(Arc::new(store))
        } else {
            Err(tool.usage(format!(
                "--store `{url}` is neither sqlite:PATH nor a postgresql:// URL"
            )))
        }
    }
}

fn block<F: std::future::Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

/// Reports a refused request: `NAME: message` on stderr, exit 1.
fn refused(error: &StoreError) -> ExitCode {
    refused_as(error.name(), error)
}

fn refused_as(name: &str, message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "{name}: {message}");
    ExitCode::from(1)
}

/// Prints `answer` as one line; exit 0.
fn print(answer: &Value) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{answer}");
    let _ = stdout.flush();
    ExitCode::SUCCESS
}

/// A date as the API's JSON shows it: RFC 3339, UTC, milliseconds.
fn date(t: SystemTime) -> Value {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    Value::String(
        time::OffsetDateTime::from(t)
            .format(format)
            .unwrap_or_default(),
    )
}

fn finish(result: Result<ExitCode, ExitCode>) -> ExitCode {
    match result {
        Ok(code) | Err(code) => code,
    }
}

// ---------------------------------------------------------------------------
// start

/// Arguments of `stepfn start`.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The definition file (ASL JSON).
    definition: PathBuf,
    /// The execution input as JSON text (default `{}`).
    #[arg(long, conflicts_with = "input_file")]
    input: Option<String>,
    /// A file holding the execution input (`-` for stdin).
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// The execution's name (default: a random UUID). Starting the same
    /// name again with the same input while it runs answers with it.
    #[arg(long)]
    name: Option<String>,
    /// The state machine's name in the ARNs (default: the definition
    /// file's name without its extension).
    #[arg(long)]
    state_machine_name: Option<String>,
    /// The region in the ARNs.
    #[arg(long, default_value = DEFAULT_REGION)]
    region: String,
    /// The account in the ARNs.
    #[arg(long, default_value = DEFAULT_ACCOUNT)]
    account: String,
}

const START: Tool = Tool("stepfn start");

/// StartExecution: `{"executionArn", "startDate"}`.
pub fn start(args: StartArgs) -> ExitCode {
    finish(try_start(args))
}

fn try_start(args: StartArgs) -> Result<ExitCode, ExitCode> {
    let text = START.read(&args.definition, "the definition")?;
    let machine = StateMachine::from_str(&text)
        .map_err(|e| START.invalid_definition(Some((&args.definition, &text)), &e))?;
    let input = START.input(args.input.as_deref(), args.input_file.as_deref())?;
    let machine_name = match &args.state_machine_name {
        Some(name) => name.clone(),
        None => stem(&args.definition),
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let store = args.store.open(START)?;
    let durable = Durable::new(store);
    let request = StartExecution {
        state_machine_arn: format!(
            "arn:aws:states:{}:{}:stateMachine:{machine_name}",
            args.region, args.account
        ),
        name,
        input,
    };
    match block(durable.start(&machine, request)) {
        Ok(started) => Ok(print(&json!({
            "executionArn": started.execution_arn,
            "startDate": date(started.start_date),
        }))),
        Err(StartError::Store(e)) => Err(refused(&e)),
        // (a refusal of a later version)
        Err(e) => Err(refused_as("UnsupportedDefinition", e)),
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "StateMachine".to_owned())
}

// ---------------------------------------------------------------------------
// worker

/// Arguments of `stepfn worker`.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Run COMMAND (with `sh -c`) for tasks of this state, resource ARN or
    /// Lambda function, as `stepfn run --task-command` does; the
    /// environment also holds STEPFN_IDEMPOTENCY_KEY, the same for every
    /// call of one task attempt (a call is repeated when a worker dies
    /// before committing its result).
    #[arg(long = "task-command", value_name = "RESOURCE_OR_STATE=COMMAND")]
    task_commands: Vec<String>,
    /// A Step Functions Local mock configuration (MockConfigFile.json).
    #[arg(long, requires = "test_case")]
    mock_config: Option<PathBuf>,
    /// The test case of the mock configuration to use.
    #[arg(long, requires = "mock_config")]
    test_case: Option<String>,
    /// How many executions to run at once (threads, default 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// Exit once no execution is runnable or waiting on a timer
    /// (executions waiting only for a callback do not keep it).
    #[arg(long)]
    until_idle: bool,
    /// How long this worker's claim on an execution holds without a
    /// commit, in seconds (at most 86400): once it lapses (the
    /// worker died, hangs, or a task call outlasted it) any worker resumes
    /// the execution from its last commit.
    #[arg(long, value_name = "SECONDS", default_value_t = stepfn::durable::DEFAULT_LEASE.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    lease: u64,
}

const WORKER: Tool = Tool("stepfn worker");

/// How long an idle worker waits at most before it looks for work again
/// (work started by another process makes no noise).
const POLL: Duration = Duration::from_millis(500);

/// The worker: runs what is due until killed (or, with `--until-idle`,
/// until nothing is left but callbacks).
pub fn worker(args: WorkerArgs) -> ExitCode {
    finish(try_worker(args))
}

fn try_worker(args: WorkerArgs) -> Result<ExitCode, ExitCode> {
    let mut options = RunOptions::new(Value::Null);
    let mut test_case = None;
    if let (Some(path), Some(case)) = (&args.mock_config, &args.test_case) {
        let config = MockConfig::from_str(&WORKER.read(path, "the mock config")?)
            .map_err(|e| WORKER.usage(e))?;
        test_case = Some(config.test_case(None, case).map_err(|e| WORKER.usage(e))?);
    }
    let mut commands = Vec::new();
    for binding in &args.task_commands {
        let command = TaskCommand::parse(binding).ok_or_else(|| {
            WORKER.usage(format!(
                "--task-command `{binding}` is not RESOURCE_OR_STATE=COMMAND"
            ))
        })?;
        commands.push(command);
    }
    if !commands.is_empty() {
        options.fallback = Some(Arc::new(CommandExecutor::new(commands)));
    }
    let mut executor = executor_for(&options).map_err(|e| WORKER.usage(e))?;
    if let Some(test_case) = test_case {
        executor = Arc::new(MocksPerExecution::new(test_case, executor));
    }
    let store = args.store.open(WORKER)?;
    let until_idle = args.until_idle;
    let lease = Duration::from_secs(args.lease);
    let threads: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let store = store.clone();
            let executor = executor.clone();
            std::thread::spawn(move || work(store, &*executor, until_idle, lease))
        })
        .collect();
    let mut result = Ok(ExitCode::SUCCESS);
    for thread in threads {
        match thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(refused(&e)),
            Err(_) => result = Err(refused_as("StoreFailure", "a worker thread failed")),
        }
    }
    result
}

/// How many executions [`MocksPerExecution`] keeps the invocation counts
/// of (the most recent ones).
const MOCKED_EXECUTIONS: usize = 1024;

/// A mock configuration's test case served per execution: Step Functions
/// Local counts the invocations of each state within one execution (as
/// `stepfn run` does), so every execution this worker runs gets a
/// [`MockExecutor`] of its own. The counts live in this process: an
/// execution resumed by another worker process counts from there anew.
struct MocksPerExecution {
    test_case: MockTestCase,
    fallback: Arc<dyn TaskExecutor>,
    by_execution: Mutex<ByExecution>,
}

/// The mock executors by execution ARN, and the ARNs oldest first.
type ByExecution = (HashMap<String, Arc<MockExecutor>>, VecDeque<String>);

impl MocksPerExecution {
    fn new(test_case: MockTestCase, fallback: Arc<dyn TaskExecutor>) -> Self {
        MocksPerExecution {
            test_case,
            fallback,
            by_execution: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    /// The mock executor of `execution`, made on its first call.
    fn of(&self, execution: &str) -> Arc<MockExecutor> {
        let mut guard = self.by_execution.lock().unwrap_or_else(|e| e.into_inner());
        let (by_execution, order) = &mut *guard;
        if let Some(mocks) = by_execution.get(execution) {
            return mocks.clone();
        }
        let mocks = Arc::new(
            MockExecutor::new(self.test_case.clone()).with_fallback(self.fallback.clone()),
        );
        by_execution.insert(execution.to_owned(), mocks.clone());
        order.push_back(execution.to_owned());
        while order.len() > MOCKED_EXECUTIONS {
            if let Some(oldest) = order.pop_front() {
                by_execution.remove(&oldest);
            }
        }
        mocks
    }
}

#[async_trait::async_trait]
impl TaskExecutor for MocksPerExecution {
    async fn execute(&self, request: TaskRequest<'_>) -> Result<Value, StatesError> {
        let context = request.context();
        let execution = context["Execution"]["Id"].as_str().unwrap_or_default();
        let mocks = self.of(execution);
        mocks.execute(request).await
    }
}

fn work(
    store: Store,
    executor: &dyn stepfn::TaskExecutor,
    until_idle: bool,
    lease: Duration,
) -> Result<(), StoreError> {
    let durable = Durable::new(store).with_lease(lease);
    if until_idle {
        block(durable.run_until_idle(executor))?;
        return Ok(());
    }
    loop {
        if !block(durable.run_due(executor))?.is_empty() {
            continue;
        }
        let wait = match block(durable.store().next_due())? {
            Some(due) => due
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
                .min(POLL),
            None => POLL,
        };
        std::thread::sleep(wait.max(Duration::from_millis(10)));
    }
}

// ---------------------------------------------------------------------------
// describe

/// Arguments of `stepfn describe`.
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The execution's ARN.
    execution_arn: String,
}

const DESCRIBE: Tool = Tool("stepfn describe");

/// DescribeExecution.
pub fn describe(args: DescribeArgs) -> ExitCode {
    finish((|| {
        let store = args.store.open(DESCRIBE)?;
        let record = block(store.describe(&args.execution_arn)).map_err(|e| refused(&e))?;
        Ok(print(&describe_json(&record, SystemTime::now())))
    })())
}

/// JSON text as stored, as a JSON string (the API gives input and output
/// as text).
fn describe_json(r: &ExecutionRecord, now: SystemTime) -> Value {
    let mut m = Map::new();
    m.insert("executionArn".into(), json!(r.execution_arn));
    m.insert("stateMachineArn".into(), json!(r.state_machine_arn));
    m.insert("name".into(), json!(r.name));
    m.insert("status".into(), json!(r.status.as_str()));
    m.insert("startDate".into(), date(r.start_date));
    if let Some(stop) = r.stop_date {
        m.insert("stopDate".into(), date(stop));
    }
    m.insert("input".into(), json!(r.input));
    m.insert("inputDetails".into(), json!({"included": true}));
    if let Some(output) = &r.output {
        m.insert("output".into(), json!(output));
        m.insert("outputDetails".into(), json!({"included": true}));
    }
    if let Some(error) = &r.error {
        m.insert("error".into(), json!(error));
    }
    if let Some(cause) = &r.cause {
        m.insert("cause".into(), json!(cause));
    }
    m.insert("redriveCount".into(), json!(r.redrive_count));
    if let Some(redrive) = r.redrive_date {
        m.insert("redriveDate".into(), date(redrive));
    }
    match r.redrive_refusal(now) {
        None => {
            m.insert("redriveStatus".into(), json!("REDRIVABLE"));
        }
        Some(reason) => {
            m.insert("redriveStatus".into(), json!("NOT_REDRIVABLE"));
            m.insert("redriveStatusReason".into(), json!(reason));
        }
    }
    Value::Object(m)
}

// ---------------------------------------------------------------------------
// history

/// Arguments of `stepfn history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The execution's ARN.
    execution_arn: String,
    /// Newest event first.
    #[arg(long)]
    reverse_order: bool,
    /// Events a page (default 100, at most 1000).
    #[arg(long, default_value_t = 0)]
    max_results: usize,
    /// The `nextToken` of the page before.
    #[arg(long)]
    next_token: Option<String>,
}

const HISTORY: Tool = Tool("stepfn history");

/// GetExecutionHistory: `{"events": [...], "nextToken"?}`.
pub fn history(args: HistoryArgs) -> ExitCode {
    finish((|| {
        let store = args.store.open(HISTORY)?;
        let query = HistoryQuery {
            reverse_order: args.reverse_order,
            max_results: args.max_results,
        };
        let page = block(store.history(&args.execution_arn, &query, args.next_token.as_deref()))
            .map_err(|e| refused(&e))?;
        let events: Vec<Value> = page.items.iter().map(|e| e.to_json()).collect();
        let mut answer = json!({ "events": events });
        if let Some(token) = page.next_token {
            answer["nextToken"] = json!(token);
        }
        Ok(print(&answer))
    })())
}

// ---------------------------------------------------------------------------
// list

/// Arguments of `stepfn list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Only executions with this status: RUNNING, SUCCEEDED, FAILED,
    /// TIMED_OUT or ABORTED.
    #[arg(long)]
    status: Option<String>,
    /// Only the executions of this state machine.
    #[arg(long)]
    state_machine_arn: Option<String>,
    /// Executions a page (default 100, at most 1000).
    #[arg(long, default_value_t = 0)]
    max_results: usize,
    /// The `nextToken` of the page before.
    #[arg(long)]
    next_token: Option<String>,
}

const LIST: Tool = Tool("stepfn list");

/// ListExecutions: `{"executions": [...], "nextToken"?}`.
pub fn list(args: ListArgs) -> ExitCode {
    finish((|| {
        let status = match &args.status {
            None => None,
            Some(name) => Some(ExecutionStatus::from_name(name).ok_or_else(|| {
                LIST.usage(format!(
                    "--status `{name}` is not one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED"
                ))
            })?),
        };
        let store = args.store.open(LIST)?;
        let filter = ListFilter {
            state_machine_arn: args.state_machine_arn.clone(),
            status,
            redriven: None,
            max_results: args.max_results,
        };
        let page =
            block(store.list(&filter, args.next_token.as_deref())).map_err(|e| refused(&e))?;
        let executions: Vec<Value> = page
            .items
            .iter()
            .map(|s| {
                let mut m = Map::new();
                m.insert("executionArn".into(), json!(s.execution_arn));
                m.insert("stateMachineArn".into(), json!(s.state_machine_arn));
                m.insert("name".into(), json!(s.name));
                m.insert("status".into(), json!(s.status.as_str()));
                m.insert("startDate".into(), date(s.start_date));
                if let Some(stop) = s.stop_date {
                    m.insert("stopDate".into(), date(stop));
                }
                m.insert("redriveCount".into(), json!(s.redrive_count));
                if let Some(redrive) = s.redrive_date {
                    m.insert("redriveDate".into(), date(redrive));
                }
                Value::Object(m)
            })
            .collect();
        let mut answer = json!({ "executions": executions });
        if let Some(token) = page.next_token {
            answer["nextToken"] = json!(token);
        }
        Ok(print(&answer))
    })())
}

// ---------------------------------------------------------------------------
// stop, redrive

/// Arguments of `stepfn stop`.
#[derive(Debug, clap::Args)]
pub struct StopArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The execution's ARN.
    execution_arn: String,
    /// The error it ends with.
    #[arg(long)]
    error: Option<String>,
    /// The cause it ends with.
    #[arg(long)]
    cause: Option<String>,
}

const STOP: Tool = Tool("stepfn stop");

/// StopExecution: `{"stopDate"}`. The execution ends ABORTED when a
/// worker next claims it.
pub fn stop(args: StopArgs) -> ExitCode {
    finish((|| {
        let store = args.store.open(STOP)?;
        let now = SystemTime::now();
        let signal = Signal::Stop {
            execution_arn: args.execution_arn.clone(),
            error: args.error.clone(),
            cause: args.cause.clone(),
        };
        block(store.signal(signal, now)).map_err(|e| refused(&e))?;
        Ok(print(&json!({ "stopDate": date(now) })))
    })())
}

/// Arguments of `stepfn redrive`.
#[derive(Debug, clap::Args)]
pub struct RedriveArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The execution's ARN.
    execution_arn: String,
}

const REDRIVE: Tool = Tool("stepfn redrive");

/// RedriveExecution: `{"redriveDate"}`.
pub fn redrive(args: RedriveArgs) -> ExitCode {
    finish((|| {
        let store = args.store.open(REDRIVE)?;
        let redriven = block(store.redrive(&args.execution_arn, SystemTime::now()))
            .map_err(|e| refused(&e))?;
        Ok(print(
            &json!({ "redriveDate": date(redriven.redrive_date) }),
        ))
    })())
}

// ---------------------------------------------------------------------------
// send-task-*

/// Arguments of `stepfn send-task-success`.
#[derive(Debug, clap::Args)]
pub struct TaskSuccessArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The task token.
    #[arg(long)]
    task_token: String,
    /// The task's output, JSON text.
    #[arg(long)]
    output: String,
}

/// Arguments of `stepfn send-task-failure`.
#[derive(Debug, clap::Args)]
pub struct TaskFailureArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The task token.
    #[arg(long)]
    task_token: String,
    /// The error.
    #[arg(long)]
    error: Option<String>,
    /// The cause.
    #[arg(long)]
    cause: Option<String>,
}

/// Arguments of `stepfn send-task-heartbeat`.
#[derive(Debug, clap::Args)]
pub struct TaskHeartbeatArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The task token.
    #[arg(long)]
    task_token: String,
}

fn send(tool: Tool, store: &StoreArg, token: &str, message: TaskMessage) -> ExitCode {
    finish((|| {
        let store = store.open(tool)?;
        let signal = Signal::Task {
            token: token.to_owned(),
            message,
        };
        block(store.signal(signal, SystemTime::now())).map_err(|e| refused(&e))?;
        Ok(print(&json!({})))
    })())
}

/// SendTaskSuccess: `{}`.
pub fn send_task_success(args: TaskSuccessArgs) -> ExitCode {
    const TOOL: Tool = Tool("stepfn send-task-success");
    let output = match TOOL.json(&args.output, "--output") {
        Ok(output) => output,
        Err(code) => return code,
    };
    let message = TaskMessage::Success {
        output: output.to_string(),
    };
    send(TOOL, &args.store, &args.task_token, message)
}

/// SendTaskFailure: `{}`.
pub fn send_task_failure(args: TaskFailureArgs) -> ExitCode {
    let message = TaskMessage::Failure {
        error: args.error.clone(),
        cause: args.cause.clone(),
    };
    send(
        Tool("stepfn send-task-failure"),
        &args.store,
        &args.task_token,
        message,
    )
}

/// SendTaskHeartbeat: `{}`.
pub fn send_task_heartbeat(args: TaskHeartbeatArgs) -> ExitCode {
    send(
        Tool("stepfn send-task-heartbeat"),
        &args.store,
        &args.task_token,
        TaskMessage::Heartbeat,
    )
}
