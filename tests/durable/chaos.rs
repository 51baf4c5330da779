//! The acceptance test of durable executions on PostgreSQL (issue 14, item
//! 5(c)): `stepfn worker` processes on one database, killed with SIGKILL
//! and paused with SIGSTOP past their lease (then let go with SIGCONT) at
//! random, over hundreds of executions of machines with Task, Retry,
//! Catch, Wait, Choice (and Map and Parallel): every execution ends; its
//! status, output and history equal an uninterrupted in-memory run of the
//! same machine and input; its stored history has the ids 1..n, each once
//! (each transition committed exactly once); every task call the
//! uninterrupted runs make is made at least once, and no call is made that
//! they do not make (the task commands log their idempotency key). Beside
//! them: an execution stopped by `stepfn stop` while it waits, one whose
//! callback is answered by `stepfn send-task-success` after the worker that
//! made the call was killed, and one failed, then redriven with `stepfn
//! redrive`, that succeeds.
//!
//! The database is `$STEPFN_PG_URL` (`.ci/run` starts a throwaway server
//! and sets it), in a schema of the test's own; without it the test is
//! skipped with a printed line, except under `CI=true`, where that fails.
//!
//! The schedule of kills and pauses comes from a seed, printed
//! (`STEPFN_CHAOS_SEED=N` repeats the schedule; where the signals land
//! still depends on timing). `STEPFN_CHAOS_EXECUTIONS` and
//! `STEPFN_CHAOS_WORKERS` change the size (300 and 4). Every wait is
//! bounded in count; nothing is asserted about time.
//!
//! Parts that need driver work not on `main` yet are listed in
//! [`READY`] (one switch each: Parallel/Map lines, callbacks, redrive in
//! the worker); `STEPFN_CHAOS_ENABLE=lines,callbacks,redrive` (or `all`)
//! runs them before the switch is flipped.

#[path = "../common/mod.rs"]
mod common;

use common::durable::pg::Scratch;
use common::TempDir;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};
use stepfn::durable::{
    Durable, ExecutionRecord, ExecutionStatus, ExecutionStore, HistoryQuery, ListFilter,
    PostgresStore, StartExecution, StoredEvent,
};
use stepfn::{sync_task_fn, ExecutionIdentity, StatesError, VirtualClock};

/// What a part of the test needs from the durable driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    /// Works on `main`.
    Nothing,
    /// Parallel branches and Map iterations as lines of states.
    Lines,
    /// `.waitForTaskToken` tasks answered through the store.
    Callbacks,
    /// A worker running a redriven execution again.
    Redrive,
}

/// The parts that run: flip an entry to `true` once the driver does it
/// (`STEPFN_CHAOS_ENABLE` turns them on without an edit).
const READY: [(Needs, bool); 3] = [
    (Needs::Lines, true),
    (Needs::Callbacks, true),
    (Needs::Redrive, true),
];

fn enabled(needs: Needs) -> bool {
    let name = match needs {
        Needs::Nothing => return true,
        Needs::Lines => "lines",
        Needs::Callbacks => "callbacks",
        Needs::Redrive => "redrive",
    };
    let by_env = std::env::var("STEPFN_CHAOS_ENABLE")
        .is_ok_and(|v| v.split(',').any(|p| p.trim() == name || p.trim() == "all"));
    by_env || READY.iter().any(|(n, ready)| *n == needs && *ready)
}

/// How long a worker's claim holds: pauses are held past it.
const LEASE_SECS: u64 = 2;
/// At most this many kills and pauses (together) over one run.
const CHAOS_BUDGET: u32 = 150;
/// Polls of the store, ~75 ms apart, before the test gives up waiting.
const MAX_POLLS: u32 = 2_400;

const REGION_ACCOUNT: &str = "arn:aws:states:us-east-1:123456789012";

fn lambda(function: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:{function}")
}

// ---------------------------------------------------------------------------
// The task functions, twice: as the shell commands the workers run, and in
// Rust for the uninterrupted in-memory runs. Every command first logs its
// idempotency key; results echo the task's parameters.

/// The command of each Lambda function the machines call.
fn task_commands() -> Vec<(&'static str, String)> {
    let log = r#"x=$(cat); echo "$STEPFN_IDEMPOTENCY_KEY" >> "$CHAOS_DIR/keys"; "#;
    let fail = |error: &str, cause: &str| {
        format!(r#"echo '{{"errorType":"{error}","errorMessage":"{cause}"}}' >&2; exit 1"#)
    };
    let echo = |function: &str| format!(r#"printf '{{"fn":"{function}","in":%s}}' "$x""#);
    vec![
        ("echo", format!("{log}{}", echo("echo"))),
        (
            "flaky",
            format!(
                r#"{log}if [ "$STEPFN_RETRY_COUNT" = 0 ]; then {}; fi; {}"#,
                fail("Flaky", "try again"),
                echo("flaky")
            ),
        ),
        (
            "boom",
            format!(
                r#"{log}case "$x" in *'"fail":true'*) {};; esac; {}"#,
                fail("Boom", "no"),
                echo("boom")
            ),
        ),
        ("always", format!("{log}{}", fail("Flaky", "always"))),
        (
            "gate",
            format!(
                r#"{log}if [ ! -e "$CHAOS_DIR/open" ]; then {}; fi; {}"#,
                fail("Closed", "the gate is closed"),
                echo("gate")
            ),
        ),
        (
            "callback",
            format!(r#"{log}echo "$STEPFN_TASK_TOKEN $PPID" >> "$CHAOS_DIR/tokens""#),
        ),
    ]
}

/// The same functions in Rust (`gate_open`: whether the gate file exists).
fn answer(
    function: &str,
    retry_count: u32,
    params: &Value,
    gate_open: bool,
) -> Result<Value, StatesError> {
    let echo = || Ok(json!({"fn": function, "in": params}));
    match function {
        "echo" => echo(),
        "flaky" if retry_count == 0 => Err(StatesError::new("Flaky", "try again")),
        "flaky" => echo(),
        "boom" if params["fail"] == json!(true) => Err(StatesError::new("Boom", "no")),
        "boom" => echo(),
        "always" => Err(StatesError::new("Flaky", "always")),
        "gate" if !gate_open => Err(StatesError::new("Closed", "the gate is closed")),
        "gate" => echo(),
        other => Err(StatesError::new("Unknown", other)),
    }
}

// ---------------------------------------------------------------------------
// The machines.

struct Machine {
    name: &'static str,
    needs: Needs,
    definition: Value,
}

/// The machines the bulk of the executions run, in turn.
fn bulk_machines() -> Vec<Machine> {
    let orders = json!({
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Parameters": {"n.$": "$.n", "fail.$": "$.fail", "tag": "orders"}, "Next": "Flaky"},
            "Flaky": {"Type": "Task", "Resource": lambda("flaky"), "ResultPath": "$.flaky",
                      "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2}], "Next": "Route"},
            "Route": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 4, "Next": "Pause"}], "Default": "Charge"},
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Charge"},
            "Charge": {"Type": "Task", "Resource": lambda("boom"), "Parameters": {"n.$": "$.n", "fail.$": "$.fail"},
                       "ResultPath": "$.charge", "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.error", "Next": "Recovered"}], "Next": "Done"},
            "Recovered": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 6, "Next": "Unlucky"}], "Default": "Done"},
            "Unlucky": {"Type": "Fail", "Error": "Unlucky", "Cause": "six and failed"},
            "Done": {"Type": "Succeed"}
        }
    });
    let counter = json!({
        "StartAt": "Start",
        "States": {
            "Start": {"Type": "Pass", "Parameters": {"i": 0, "n.$": "$.n"}, "Next": "Step"},
            "Step": {"Type": "Task", "Resource": lambda("echo"), "Parameters": {"i.$": "$.i", "n.$": "$.n"}, "ResultPath": "$.last", "Next": "Inc"},
            "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)", "n.$": "$.n", "last.$": "$.last"}, "Next": "More"},
            "More": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericLessThan": 3, "Next": "Step"}], "Default": "End"},
            "End": {"Type": "Succeed"}
        }
    });
    let exhausted = json!({
        "StartAt": "Try",
        "States": {
            "Try": {"Type": "Task", "Resource": lambda("always"), "Next": "Never",
                    "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 1}]},
            "Never": {"Type": "Succeed"}
        }
    });
    let fanout = json!({
        "StartAt": "Split",
        "States": {
            "Split": {"Type": "Parallel", "ResultPath": "$.branches", "Next": "Each", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": lambda("flaky"), "End": true,
                    "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}]}}},
                // a Wait in a branch parks its line (the execution parks
                // once branch A waits too, or has ended)
                {"StartAt": "W", "States": {
                    "W": {"Type": "Wait", "Seconds": 1, "Next": "B"},
                    "B": {"Type": "Task", "Resource": lambda("echo"), "End": true}}}
            ]},
            "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.each", "Next": "Done",
                "ItemProcessor": {"StartAt": "T", "States": {
                    "T": {"Type": "Task", "Resource": lambda("boom"), "End": true,
                          "Catch": [{"ErrorEquals": ["Boom"], "Next": "C"}]},
                    "C": {"Type": "Pass", "Result": "caught", "End": true}}}},
            "Done": {"Type": "Succeed"}
        }
    });
    vec![
        Machine {
            name: "Orders",
            needs: Needs::Nothing,
            definition: orders,
        },
        Machine {
            name: "Counter",
            needs: Needs::Nothing,
            definition: counter,
        },
        Machine {
            name: "Exhausted",
            needs: Needs::Nothing,
            definition: exhausted,
        },
        Machine {
            name: "Fanout",
            needs: Needs::Lines,
            definition: fanout,
        },
    ]
}

/// The input of bulk execution `i`.
fn bulk_input(i: usize) -> Value {
    let n = i % 8;
    json!({
        "n": n,
        "fail": i % 3 == 0,
        "items": (0..3).map(|k| json!({"k": k, "fail": (i + k) % 4 == 0})).collect::<Vec<_>>()
    })
}

/// A Wait of an hour, stopped while it waits.
fn sleepy() -> Machine {
    Machine {
        name: "Sleepy",
        needs: Needs::Nothing,
        definition: json!({"StartAt": "Nap", "States": {
            "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Woke"},
            "Woke": {"Type": "Succeed"}}}),
    }
}

/// A callback task, answered by another process.
fn asking() -> Machine {
    Machine {
        name: "Asking",
        needs: Needs::Callbacks,
        definition: json!({"StartAt": "Ask", "States": {
            "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {"FunctionName": "callback", "Payload": {"token.$": "$$.Task.Token", "n.$": "$.n"}},
                    "ResultPath": "$.answer", "Next": "Done"},
            "Done": {"Type": "Succeed"}}}),
    }
}

/// A task that fails until its gate opens: failed, then redriven.
fn gated() -> Machine {
    Machine {
        name: "Gated",
        needs: Needs::Redrive,
        definition: json!({"StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "Next": "Gate"},
            "Gate": {"Type": "Task", "Resource": lambda("gate"), "Next": "Done"},
            "Done": {"Type": "Succeed"}}}),
    }
}

// ---------------------------------------------------------------------------
// The uninterrupted in-memory runs.

fn execution_arn(machine: &str, name: &str) -> String {
    format!("{REGION_ACCOUNT}:execution:{machine}:{name}")
}

fn state_machine_arn(machine: &str) -> String {
    format!("{REGION_ACCOUNT}:stateMachine:{machine}")
}

struct Reference {
    outcome: stepfn::Outcome,
    history: Vec<Value>,
    keys: Vec<String>,
}

/// The in-memory run of execution `name` of `machine` on `input`, on a
/// virtual clock; a callback is answered with `{"answered": n}`.
fn reference(machine: &Machine, name: &str, input: &Value, gate_open: bool) -> Reference {
    let mut identity = ExecutionIdentity::new();
    identity.state_machine_arn = Some(state_machine_arn(machine.name));
    identity.execution_arn = Some(execution_arn(machine.name, name));
    identity.execution_name = Some(name.into());
    let keys = Mutex::new(Vec::new());
    let executor = sync_task_fn(|request| {
        keys.lock()
            .unwrap()
            .push(request.idempotency_key().unwrap_or_default());
        if let Some(callback) = request.callback() {
            let n = request.parameters["Payload"]["n"].clone();
            callback
                .send_success(json!({"answered": n}))
                .expect("callback answered");
            return Ok(Value::Null);
        }
        let function = request.resource.arn.rsplit(':').next().unwrap_or_default();
        answer(
            function,
            request.retry_count,
            &request.parameters,
            gate_open,
        )
    });
    let outcome = futures::executor::block_on(
        common::machine(machine.definition.clone())
            .execution()
            .with_clock(VirtualClock::new())
            .with_identity(identity)
            .with_history(true)
            .run(&executor, input.clone()),
    );
    let history = outcome
        .history
        .iter()
        .flatten()
        .map(|e| untimed(e.to_json()))
        .collect();
    Reference {
        outcome,
        history,
        keys: keys.into_inner().unwrap(),
    }
}

fn untimed(mut event: Value) -> Value {
    if let Some(e) = event.as_object_mut() {
        e.remove("timestamp");
    }
    event
}

/// An event without its place: what a history of concurrent lines of
/// states is compared by (their events interleave differently).
fn unplaced(event: &Value) -> String {
    let mut event = event.clone();
    if let Some(e) = event.as_object_mut() {
        e.remove("id");
        e.remove("previousEventId");
    }
    event.to_string()
}

// ---------------------------------------------------------------------------
// The workers.

/// The worker processes, killed when dropped (a failing test leaves none
/// behind).
struct Fleet {
    url: String,
    dir: PathBuf,
    workers: Vec<Worker>,
    spawned: usize,
    kills: u32,
    pauses: u32,
    exits: u32,
}

struct Worker {
    child: Child,
    paused_until: Option<Instant>,
}

impl Fleet {
    fn spawn(&mut self) -> Worker {
        self.spawned += 1;
        let log = std::fs::File::create(self.dir.join(format!("worker-{}.log", self.spawned)))
            .expect("worker log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_stepfn"));
        command.args([
            "worker",
            "--store",
            &self.url,
            "--lease",
            &LEASE_SECS.to_string(),
            "--concurrency",
            "2",
        ]);
        for (function, script) in task_commands() {
            command
                .arg("--task-command")
                .arg(format!("{function}={script}"));
        }
        let child = command
            .env("CHAOS_DIR", &self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn stepfn worker");
        Worker {
            child,
            paused_until: None,
        }
    }

    fn kill(&mut self, index: usize) {
        let fresh = self.spawn();
        let mut worker = std::mem::replace(&mut self.workers[index], fresh);
        worker.child.kill().expect("SIGKILL");
        worker.child.wait().expect("reaped");
        self.kills += 1;
    }

    fn pause(&mut self, index: usize, until: Instant) {
        signal("STOP", self.workers[index].child.id());
        self.workers[index].paused_until = Some(until);
        self.pauses += 1;
    }

    /// Lets go the paused workers whose time is up; replaces the workers
    /// that ended on their own (counted: they should not).
    fn tend(&mut self) {
        let now = Instant::now();
        for i in 0..self.workers.len() {
            if self.workers[i].paused_until.is_some_and(|t| t <= now) {
                signal("CONT", self.workers[i].child.id());
                self.workers[i].paused_until = None;
            }
            if let Ok(Some(_)) = self.workers[i].child.try_wait() {
                self.exits += 1;
                self.workers[i] = self.spawn();
            }
        }
    }

    fn running(&self) -> usize {
        self.workers
            .iter()
            .filter(|w| w.paused_until.is_none())
            .count()
    }

    fn find(&self, pid: u32) -> Option<usize> {
        self.workers.iter().position(|w| w.child.id() == pid)
    }

    /// What the workers wrote on stderr (the last lines of each).
    fn logs(&self) -> String {
        let mut text = String::new();
        for k in 1..=self.spawned {
            let log = std::fs::read_to_string(self.dir.join(format!("worker-{k}.log")))
                .unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            for line in &lines[lines.len().saturating_sub(5)..] {
                text.push_str(&format!("worker {k}: {line}\n"));
            }
        }
        text
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for w in &mut self.workers {
            let _ = w.child.kill();
            let _ = w.child.wait();
        }
    }
}

fn signal(name: &str, pid: u32) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{name} {pid}"))
        .status()
        .expect("sh");
    assert!(status.success(), "kill -{name} {pid}");
}

/// `stepfn SUBCOMMAND --store URL ARGS...`: exit code, stdout, stderr.
fn stepfn(url: &str, subcommand: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stepfn"))
        .args([subcommand, "--store", url])
        .args(args)
        .output()
        .expect("run stepfn");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `$STEPFN_PG_URL` as a `postgresql://` URL (what `--store` takes)
/// whose sessions find stepfn's tables in `schema`.
fn store_url(setting: &str, schema: &str) -> String {
    let options = format!("options=-csearch_path%3D{schema}");
    if setting.starts_with("postgres") {
        let joint = if setting.contains('?') { '&' } else { '?' };
        return format!("{setting}{joint}{options}");
    }
    let field = |key: &str| {
        setting
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_owned))
    };
    let mut url = format!(
        "postgresql://{}@/{}?",
        field("user").unwrap_or_else(|| "postgres".into()),
        field("dbname").unwrap_or_else(|| "postgres".into())
    );
    for key in ["host", "port", "password"] {
        if let Some(value) = field(key) {
            url.push_str(&format!("{key}={value}&"));
        }
    }
    url.push_str(&options);
    url
}

// ---------------------------------------------------------------------------
// The store, read by the test.

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    futures::executor::block_on(f)
}

/// Every stored event of an execution, oldest first.
fn stored_history(store: &PostgresStore, arn: &str) -> Vec<StoredEvent> {
    let query = HistoryQuery {
        max_results: 1000,
        ..HistoryQuery::default()
    };
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100 {
        let page = block(store.history(arn, &query, token.as_deref())).expect("history");
        events.extend(page.items);
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    events
}

/// The executions still running.
fn running(store: &PostgresStore) -> Vec<String> {
    let filter = ListFilter {
        status: Some(ExecutionStatus::Running),
        max_results: 1000,
        ..ListFilter::default()
    };
    block(store.list(&filter, None))
        .map(|page| page.items.into_iter().map(|s| s.execution_arn).collect())
        .unwrap_or_else(|_| vec!["(the store did not answer)".into()])
}

fn last_event_type(store: &PostgresStore, arn: &str) -> Option<String> {
    let query = HistoryQuery {
        reverse_order: true,
        max_results: 1,
    };
    block(store.history(arn, &query, None))
        .ok()?
        .items
        .pop()
        .map(|e| e.event_type)
}

/// One execution the test started, and what it expects of it.
struct Started {
    machine: usize,
    name: String,
    arn: String,
    input: Value,
}

/// The side scenarios, each a small state machine of its own.
#[derive(Default)]
struct Scenarios {
    stop: Option<String>,
    stopped: bool,
    ask: Option<String>,
    answered: Option<String>,
    owner_killed: bool,
    answer_tries: u32,
    last_answer_error: String,
    gate: Option<String>,
    redriven: bool,
}

impl Scenarios {
    fn done(&self) -> bool {
        (self.stop.is_none() || self.stopped)
            && (self.ask.is_none() || self.answered.is_some())
            && (self.gate.is_none() || self.redriven)
    }

    /// Moves each scenario on when its execution is ready for it.
    fn step(&mut self, store: &PostgresStore, fleet: &mut Fleet) {
        let url = fleet.url.clone();
        if let (Some(arn), false) = (&self.stop, self.stopped) {
            if last_event_type(store, arn).as_deref() == Some("WaitStateEntered") {
                let (code, out, err) = stepfn(
                    &url,
                    "stop",
                    &[
                        arn,
                        "--error",
                        "Halt",
                        "--cause",
                        "stopped by the chaos test",
                    ],
                );
                assert_eq!(code, Some(0), "stepfn stop: {out}{err}");
                self.stopped = true;
            }
        }
        if let (Some(_), None) = (&self.ask, &self.answered) {
            let tokens = std::fs::read_to_string(fleet.dir.join("tokens")).unwrap_or_default();
            if let Some((token, pid)) = tokens.lines().last().and_then(|l| l.split_once(' ')) {
                // the worker that made the call dies before the answer
                if !self.owner_killed {
                    if let Some(index) = pid.parse().ok().and_then(|pid| fleet.find(pid)) {
                        fleet.kill(index);
                    }
                    self.owner_killed = true;
                }
                self.answer_tries += 1;
                let (code, _, err) = stepfn(
                    &url,
                    "send-task-success",
                    &["--task-token", token, "--output", r#"{"answered": 5}"#],
                );
                if code == Some(0) {
                    self.answered = Some(token.to_owned());
                } else {
                    self.last_answer_error = err;
                }
            }
        }
        if let (Some(arn), false) = (&self.gate, self.redriven) {
            let record = block(store.describe(arn)).expect("describe");
            if record.status == ExecutionStatus::Failed {
                std::fs::write(fleet.dir.join("open"), "").expect("gate opened");
                let (code, out, err) = stepfn(&url, "redrive", &[arn]);
                assert_eq!(code, Some(0), "stepfn redrive: {out}{err}");
                self.redriven = true;
            }
        }
    }
}

/// A line on stderr, past the test harness's capture: the seed and the
/// figures show in every run, `cargo test` without `--nocapture` too.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn workers_killed_and_paused_on_postgres_lose_nothing() {
    let Some(scratch) = Scratch::new("chaos") else {
        say("chaos: SKIPPED, STEPFN_PG_URL is not set (.ci/postgres.sh starts a server)");
        return;
    };
    let executions = count("STEPFN_CHAOS_EXECUTIONS", 300);
    let worker_count = count("STEPFN_CHAOS_WORKERS", 4).max(2);
    let seed = std::env::var("STEPFN_CHAOS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64 % 1_000_000)
        });
    say(&format!(
        "chaos seed {seed} (STEPFN_CHAOS_SEED={seed} repeats the schedule)"
    ));
    let mut rng = SmallRng::seed_from_u64(seed);
    let dir = TempDir::new("chaos");
    let store = block(PostgresStore::connect_in_schema(
        &scratch.url,
        &scratch.schema,
    ))
    .expect("connect");
    let url = store_url(&scratch.url, &scratch.schema);

    // the machines that run today, and the parts switched off
    let mut machines = bulk_machines();
    let sides = [sleepy(), asking(), gated()];
    let skipped: Vec<&str> = machines
        .iter()
        .chain(&sides)
        .filter(|m| !enabled(m.needs))
        .map(|m| m.name)
        .collect();
    if !skipped.is_empty() {
        say(&format!(
            "chaos: not run yet (switches in READY): {} (Asking: a callback answered by another process; Gated: a redrive)",
            skipped.join(", ")
        ));
    }
    machines.retain(|m| enabled(m.needs));
    let bulk = machines.len();
    machines.extend(sides.into_iter().filter(|m| enabled(m.needs)));

    // start everything (in this process: StartExecution is the store's)
    let starter = Durable::new(&store);
    let mut started = Vec::new();
    let mut scenarios = Scenarios::default();
    let mut start = |machine: usize, name: String, input: Value| {
        let m = &machines[machine];
        let request = StartExecution {
            state_machine_arn: state_machine_arn(m.name),
            name: name.clone(),
            input: input.clone(),
        };
        let arn = block(starter.start(&common::machine(m.definition.clone()), request))
            .unwrap_or_else(|e| panic!("start {name} of {}: {e}", m.name))
            .execution_arn;
        started.push(Started {
            machine,
            name,
            arn: arn.clone(),
            input,
        });
        arn
    };
    for i in 0..executions {
        start(i % bulk, format!("c{i}"), bulk_input(i));
    }
    let sides: Vec<(usize, &str)> = machines
        .iter()
        .enumerate()
        .skip(bulk)
        .map(|(index, m)| (index, m.name))
        .collect();
    for (index, name) in sides {
        let arn = start(index, format!("side-{index}"), json!({"n": 5}));
        match name {
            "Sleepy" => scenarios.stop = Some(arn),
            "Asking" => scenarios.ask = Some(arn),
            _ => scenarios.gate = Some(arn),
        }
    }

    let mut fleet = Fleet {
        url: url.clone(),
        dir: dir.to_path_buf(),
        workers: Vec::new(),
        spawned: 0,
        kills: 0,
        pauses: 0,
        exits: 0,
    };
    for _ in 0..worker_count {
        let worker = fleet.spawn();
        fleet.workers.push(worker);
    }

    // chaos until everything has ended (or the budget is spent)
    let mut next_action = Instant::now() + Duration::from_millis(rng.gen_range(200..600));
    let mut left = Vec::new();
    for _ in 0..MAX_POLLS {
        std::thread::sleep(Duration::from_millis(75));
        fleet.tend();
        scenarios.step(&store, &mut fleet);
        left = running(&store);
        if left.is_empty() && scenarios.done() {
            break;
        }
        if fleet.kills + fleet.pauses >= CHAOS_BUDGET || Instant::now() < next_action {
            continue;
        }
        next_action = Instant::now() + Duration::from_millis(rng.gen_range(80..400));
        let index = rng.gen_range(0..fleet.workers.len());
        let pause =
            rng.gen_bool(0.4) && fleet.running() > 1 && fleet.workers[index].paused_until.is_none();
        if pause {
            // held past the lease: another worker takes its executions over
            let hold = Duration::from_millis(LEASE_SECS * 1000 + rng.gen_range(300..1500));
            fleet.pause(index, Instant::now() + hold);
        } else {
            fleet.kill(index);
        }
    }
    let logs = fleet.logs();
    let (kills, pauses, exits) = (fleet.kills, fleet.pauses, fleet.exits);
    drop(fleet);
    assert!(
        left.is_empty(),
        "{} executions never ended, e.g. {:?}\n{logs}",
        left.len(),
        &left[..left.len().min(5)]
    );
    assert!(
        scenarios.done(),
        "a scenario did not finish: stop sent {}, callback answered {:?} after {} tries (last: {}), redriven {}\n{logs}",
        scenarios.stopped,
        scenarios.answered,
        scenarios.answer_tries,
        scenarios.last_answer_error,
        scenarios.redriven
    );
    assert_eq!(exits, 0, "workers ended on their own\n{logs}");

    // every execution against its uninterrupted run
    let logged = std::fs::read_to_string(dir.join("keys")).unwrap_or_default();
    let mut calls: HashMap<&str, usize> = HashMap::new();
    for key in logged.lines() {
        *calls.entry(key).or_default() += 1;
    }
    let mut problems = Vec::new();
    let mut needed: HashSet<String> = HashSet::new();
    let mut loose: Vec<&str> = Vec::new();
    // Parallel/Map executions: their task calls end in any order (real
    // processes), so the entered-event ids in their keys differ from the
    // reference run's; each needs at least as many distinct keys
    let mut counted: Vec<(&str, usize)> = Vec::new();
    let (mut events, mut entered) = (0, 0);
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &started {
        let machine = &machines[s.machine];
        let record: ExecutionRecord = block(store.describe(&s.arn)).expect("describe");
        *by_status.entry(record.status.as_str()).or_default() += 1;
        let stored = stored_history(&store, &s.arn);
        let ids: Vec<u64> = stored.iter().map(|e| e.id).collect();
        if ids != (1..=stored.len() as u64).collect::<Vec<_>>() {
            problems.push(format!("{}: event ids {ids:?}", s.name));
        }
        events += stored.len();
        entered += stored
            .iter()
            .filter(|e| e.event_type.ends_with("StateEntered"))
            .count();
        let got: Vec<Value> = stored.iter().map(|e| untimed(e.to_json())).collect();
        let output = record
            .output
            .as_deref()
            .map(|o| serde_json::from_str::<Value>(o).expect("stored output is JSON"));
        match machine.name {
            "Sleepy" => {
                let ended = (
                    record.status,
                    record.error.as_deref(),
                    record.cause.as_deref(),
                );
                let want = (
                    ExecutionStatus::Aborted,
                    Some("Halt"),
                    Some("stopped by the chaos test"),
                );
                if ended != want
                    || stored.last().map(|e| e.event_type.as_str()) != Some("ExecutionAborted")
                {
                    problems.push(format!("{}: stopped as {ended:?}, events {got:?}", s.name));
                }
                continue;
            }
            "Asking" => {
                // the token is the stored execution's: compare the shape
                let want = reference(machine, &s.name, &s.input, true);
                let types =
                    |h: &[Value]| -> Vec<Value> { h.iter().map(|e| e["type"].clone()).collect() };
                if (record.status, &output) != (want.outcome.status.into(), &want.outcome.output)
                    || types(&got) != types(&want.history)
                {
                    problems.push(format!(
                        "{}: {:?} {output:?}, events {got:?}",
                        s.name, record.status
                    ));
                }
                loose.push(&s.arn);
                continue;
            }
            "Gated" => {
                let failed = reference(machine, &s.name, &s.input, false);
                let want = reference(machine, &s.name, &s.input, true);
                let redriven = got.iter().any(|e| e["type"] == json!("ExecutionRedriven"));
                if (record.status, &output) != (want.outcome.status.into(), &want.outcome.output)
                    || !redriven
                    || got.get(..failed.history.len()) != Some(&failed.history[..])
                {
                    problems.push(format!(
                        "{}: {:?} {output:?}, events {got:?}",
                        s.name, record.status
                    ));
                }
                needed.extend(failed.keys);
                loose.push(&s.arn);
                continue;
            }
            _ => {}
        }
        let want = reference(machine, &s.name, &s.input, false);
        if record.status != want.outcome.status.into()
            || output != want.outcome.output
            || record.error != want.outcome.error
            || record.cause != want.outcome.cause
        {
            problems.push(format!(
                "{}: ended {:?} {output:?} {:?} {:?}, uninterrupted {:?} {:?} {:?} {:?}",
                s.name,
                record.status,
                record.error,
                record.cause,
                want.outcome.status,
                want.outcome.output,
                want.outcome.error,
                want.outcome.cause
            ));
        }
        let same = if machine.needs == Needs::Lines {
            let mut a: Vec<String> = got.iter().map(unplaced).collect();
            let mut b: Vec<String> = want.history.iter().map(unplaced).collect();
            a.sort();
            b.sort();
            a == b
        } else {
            got == want.history
        };
        if !same {
            problems.push(format!(
                "{}: history\n  stored        {got:?}\n  uninterrupted {:?}",
                s.name, want.history
            ));
        }
        if machine.needs == Needs::Lines {
            loose.push(&s.arn);
            counted.push((&s.arn, want.keys.len()));
        } else {
            needed.extend(want.keys);
        }
    }
    // task calls: every one needed made, none that is not needed
    let mut missed: Vec<&String> = needed
        .iter()
        .filter(|k| !calls.contains_key(k.as_str()))
        .collect();
    missed.sort();
    let short: Vec<String> = counted
        .iter()
        .filter_map(|&(arn, n)| {
            let prefix = format!("{arn}/");
            let distinct = calls.keys().filter(|k| k.starts_with(&prefix)).count();
            (distinct < n).then(|| format!("{arn}: {distinct} of {n}"))
        })
        .collect();
    let unneeded: Vec<&&str> = calls
        .keys()
        .filter(|k| {
            !needed.contains(**k) && !loose.iter().any(|arn| k.starts_with(&format!("{arn}/")))
        })
        .collect();
    let made: usize = calls.values().sum();
    let repeated: usize = calls.values().map(|n| n - 1).sum();
    say(&format!(
        "chaos on PostgreSQL: {} executions ({}), {worker_count} workers, {kills} killed (SIGKILL), {pauses} paused past their {LEASE_SECS} s lease (SIGSTOP/SIGCONT); {entered} states entered, {events} history events, each committed once; {made} task calls for {} needed: {repeated} made again, {} missed",
        started.len(),
        by_status
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", "),
        needed.len() + counted.iter().map(|c| c.1).sum::<usize>(),
        missed.len() + short.len()
    ));
    assert!(
        problems.is_empty(),
        "{} executions differ from their uninterrupted run:\n{}",
        problems.len(),
        problems[..problems.len().min(10)].join("\n")
    );
    assert!(missed.is_empty(), "task calls never made: {missed:?}");
    assert!(short.is_empty(), "task calls never made: {short:?}");
    assert!(
        unneeded.is_empty(),
        "task calls no uninterrupted run makes: {unneeded:?}"
    );
    assert!(
        kills > 0 && pauses > 0,
        "no chaos happened: {kills} kills, {pauses} pauses"
    );
    block(store.close()).expect("close");
}
