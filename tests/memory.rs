//! Memory is bounded with the default limits: hostile executions (a Choice
//! loop doubling a variable, a Pass fanning a large input out, intrinsic
//! calls doubling a value ten levels deep, a Map copying its input into
//! every iteration) end with AWS's error while the heap they use stays
//! within a small multiple of the limit that stops them plus their input.
//!
//! The heap is counted by this binary's global allocator, so this file is
//! a test binary of its own. The counters are process-wide and the test
//! harness runs tests on several threads: each test holds one lock from its
//! first line to its last ([`one_at_a_time`]), so that one test's
//! allocations (its input built, its run) never count in another's peak.

use serde_json::{json, Map, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};
use stepfn::{sync_task_fn, task_fn, Limits, Outcome, StateMachine, Status, TaskExecutor};

mod common;
use common::{error_of, machine, one, size_cause};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    CURRENT.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` with the same arguments;
// the counters only observe the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One test at a time (see the module documentation).
static MEASURING: Mutex<()> = Mutex::new(());

/// Held for the whole of a test: no other test allocates meanwhile.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    MEASURING.lock().unwrap_or_else(|e| e.into_inner())
}

/// AWS's payload and variable limit: 256 KiB.
const LIMIT: usize = 262_144;

/// Runs `sm` on `input` with `limits` and gives the outcome and the peak of
/// the heap the run added to what was in use before it (the input
/// included). The caller holds [`one_at_a_time`].
fn run_measured(sm: &StateMachine, input: Value, limits: Limits) -> (Outcome, usize) {
    run_measured_with(sm, &sync_task_fn(|r| Ok(r.parameters)), input, limits)
}

/// [`run_measured`] with Task states answered by `executor`.
fn run_measured_with(
    sm: &StateMachine,
    executor: &dyn TaskExecutor,
    input: Value,
    limits: Limits,
) -> (Outcome, usize) {
    let execution = sm.execution().with_virtual_time().with_limits(limits);
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let outcome = futures::executor::block_on(execution.run(executor, input));
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    // shown with --nocapture: the figures of the report
    eprintln!("peak heap: {peak} bytes");
    (outcome, peak)
}

/// The bound every hostile run must stay under: eight times the limit that
/// stops it plus the size of its input.
fn allowed(input_bytes: usize) -> usize {
    8 * (LIMIT + input_bytes)
}

/// Asserts that a hostile run failed with `States.DataLimitExceeded` and
/// `cause`, its heap peaking within [`allowed`].
fn stopped_within_bounds(outcome: &Outcome, peak: usize, input_bytes: usize, cause: &str) {
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(
        error_of(outcome),
        (Some("States.DataLimitExceeded"), Some(cause))
    );
    assert!(
        peak <= allowed(input_bytes),
        "peak heap {peak} bytes, allowed {}",
        allowed(input_bytes)
    );
}

/// Task states that wait once, then answer with their input.
fn waiting_echo() -> impl TaskExecutor {
    task_fn(|r| {
        let answer = r.parameters;
        async move {
            YieldOnce(false).await;
            Ok(answer)
        }
    })
}

/// The AWS-style cause of a variable past the variable limit (AWS's exact
/// text is not recorded: see the Compatibility section of the crate docs).
fn variable_cause(state: &str, variable: &str) -> String {
    format!("The state/task '{state}' assigned the variable '{variable}' a value with a size exceeding the maximum of {LIMIT} bytes.")
}

#[test]
fn a_choice_loop_doubling_a_variable_stops_at_the_variable_limit() {
    let _alone = one_at_a_time();
    // 16 KiB doubled by every pass through the Choice rule: 256 KiB after
    // four passes, 32 MiB after eleven. The transition budget keeps the
    // run finite even without the variable limit.
    let seed = "ab".repeat(8 * 1024);
    let sm = machine(json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"x.$": "$.seed"}, "Next": "Loop"},
        "Loop": {"Type": "Choice", "Choices": [{
            "Variable": "$x", "IsString": true,
            "Assign": {"x.$": "States.Format('{}{}', $x, $x)"},
            "Next": "Loop"
        }], "Default": "Done"},
        "Done": {"Type": "Succeed"}
    }}));
    let input = json!({ "seed": seed });
    let input_bytes = common::len(&input);
    let limits = Limits::default().with_max_transitions(Some(12));
    let (outcome, peak) = run_measured(&sm, input, limits);
    stopped_within_bounds(&outcome, peak, input_bytes, &variable_cause("Loop", "x"));
}

#[test]
fn a_pass_fanning_a_large_input_out_stops_while_its_parameters_are_built() {
    let _alone = one_at_a_time();
    // 100 copies of a 250 KiB input: 25 MiB if the template were built
    // whole before its result is measured
    let mut parameters = Map::new();
    for i in 0..100 {
        parameters.insert(format!("copy{i}.$"), json!("$"));
    }
    let sm = machine(one(
        json!({"Type": "Pass", "Parameters": parameters, "End": true}),
    ));
    let input = json!({ "s": "x".repeat(250 * 1024) });
    let input_bytes = common::len(&input);
    let (outcome, peak) = run_measured(&sm, input, Limits::default());
    stopped_within_bounds(&outcome, peak, input_bytes, &size_cause("S"));
}

#[test]
fn intrinsic_calls_doubling_ten_levels_deep_stop_while_they_are_built() {
    let _alone = one_at_a_time();
    // every States.JsonToString doubles a string of quotes (each `"` is
    // written `\"`): 32 KiB becomes 32 MiB after ten levels
    let mut call = "$.s".to_owned();
    for _ in 0..10 {
        call = format!("States.JsonToString({call})");
    }
    let sm = machine(one(
        json!({"Type": "Pass", "Parameters": {"v.$": call}, "End": true}),
    ));
    let input = json!({ "s": "\"".repeat(32 * 1024) });
    let input_bytes = common::len(&input);
    let (outcome, peak) = run_measured(&sm, input, Limits::default());
    stopped_within_bounds(&outcome, peak, input_bytes, &size_cause("S"));
}

#[test]
fn a_map_copying_its_input_into_every_iteration_stops_while_its_results_come_in() {
    let _alone = one_at_a_time();
    // 200 iterations, each given (and giving back) a copy of a 250 KiB
    // input: 50 MiB of iteration inputs and results
    let sm = machine(one(json!({
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"all.$": "$"},
        "ItemProcessor": {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": true}}},
        "End": true
    })));
    let items: Vec<Value> = (0..200).map(Value::from).collect();
    let input = json!({ "s": "x".repeat(250 * 1024), "items": items });
    let input_bytes = common::len(&input);
    let (outcome, peak) = run_measured(&sm, input, Limits::default());
    stopped_within_bounds(&outcome, peak, input_bytes, &size_cause("S"));
}

/// Pending once (waking its task at once), then ready: a task that waits.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn a_map_of_waiting_tasks_copying_its_input_holds_few_iterations_at_once() {
    let _alone = one_at_a_time();
    // 200 iterations whose Task waits before it answers: all of them
    // started at once would hold 200 copies of a 250 KiB input
    let sm = machine(one(json!({
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"all.$": "$"},
        "ItemProcessor": {"StartAt": "Work", "States": {
            "Work": {"Type": "Task", "Resource": common::LAMBDA, "End": true}
        }},
        "End": true
    })));
    let items: Vec<Value> = (0..200).map(Value::from).collect();
    let input = json!({ "s": "x".repeat(250 * 1024), "items": items });
    let input_bytes = common::len(&input);
    let (outcome, peak) = run_measured_with(&sm, &waiting_echo(), input, Limits::default());
    stopped_within_bounds(&outcome, peak, input_bytes, &size_cause("S"));
}

#[test]
fn a_distributed_map_of_waiting_tasks_copying_its_input_holds_few_children_at_once() {
    let _alone = one_at_a_time();
    // as above, with each iteration a child execution
    let sm = machine(one(json!({
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"all.$": "$"},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Work", "States": {
                "Work": {"Type": "Task", "Resource": common::LAMBDA, "End": true}
            }
        },
        "End": true
    })));
    let items: Vec<Value> = (0..200).map(Value::from).collect();
    let input = json!({ "s": "x".repeat(250 * 1024), "items": items });
    let input_bytes = common::len(&input);
    let (outcome, peak) = run_measured_with(&sm, &waiting_echo(), input, Limits::default());
    stopped_within_bounds(&outcome, peak, input_bytes, &size_cause("S"));
}

#[test]
fn a_parallel_of_waiting_tasks_holds_few_copies_of_its_input_at_once() {
    let _alone = one_at_a_time();
    // 40 branches whose Task waits, each given a copy of a 250 KiB input
    let branches: Vec<Value> = (0..40)
        .map(|i| {
            json!({"StartAt": format!("Work{i}"), "States": {
                format!("Work{i}"): {"Type": "Task", "Resource": common::LAMBDA, "End": true}
            }})
        })
        .collect();
    let sm = machine(one(
        json!({"Type": "Parallel", "Branches": branches, "End": true}),
    ));
    let input = json!({ "s": "x".repeat(250 * 1024) });
    let input_bytes = common::len(&input);
    let (outcome, peak) = run_measured_with(&sm, &waiting_echo(), input, Limits::default());
    stopped_within_bounds(&outcome, peak, input_bytes, &size_cause("S"));
}

/// A JSONata Pass whose Output is `expression`, run over a 250 KiB string
/// `s`: stopped with the size error while it builds, within [`allowed`].
fn jsonata_output_stops_within_bounds(expression: &str) {
    let _alone = one_at_a_time();
    let sm = machine(
        json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
            "S": {"Type": "Pass", "Output": expression, "End": true}
        }}),
    );
    let input = json!({ "s": "x".repeat(250 * 1024) });
    let input_bytes = common::len(&input);
    let (outcome, peak) = run_measured(&sm, input, Limits::default());
    stopped_within_bounds(&outcome, peak, input_bytes, &size_cause("S"));
}

#[test]
fn a_jsonata_join_of_copies_of_a_large_input_stops_before_it_is_built() {
    // 200 copies of a 250 KiB string joined: 50 MiB
    jsonata_output_stops_within_bounds("{% $join([1..200].($states.input.s)) %}");
}

#[test]
fn a_jsonata_result_repeating_a_large_input_stops_while_it_is_copied() {
    // an array of 200 references to the input: 50 MiB once copied out
    jsonata_output_stops_within_bounds("{% [1..200].($states.input) %}");
}

#[test]
fn a_jsonata_string_doubled_eight_times_stops_while_it_is_built() {
    // 250 KiB doubled eight times: 64 MiB
    jsonata_output_stops_within_bounds(
        "{% ($a := $states.input.s; $b := $a & $a; $c := $b & $b; $d := $c & $c; $e := $d & $d; $f := $e & $e; $g := $f & $f; $h := $g & $g; $h & $h) %}",
    );
}

#[test]
fn a_jsonata_string_of_a_value_repeating_a_large_input_stops_while_it_is_written() {
    // the JSON text of 200 references to the input: 50 MiB
    jsonata_output_stops_within_bounds("{% $string([1..200].($states.input)) %}");
}

#[test]
fn a_jsonata_output_keeping_its_input_moves_it_instead_of_copying_it() {
    let _alone = one_at_a_time();
    // three states each keeping a 1 MiB input and adding a member: a
    // copy per state would add the input's size to the peak
    let keep = |next: Option<&str>| {
        let mut s = json!({"Type": "Pass", "Output": "{% $merge([$states.input, {'n': $states.input.n + 1}]) %}"});
        match next {
            Some(n) => s["Next"] = json!(n),
            None => s["End"] = json!(true),
        }
        s
    };
    let sm = machine(
        json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": keep(Some("B")), "B": keep(Some("C")), "C": keep(None)
        }}),
    );
    let input = json!({ "s": "x".repeat(1 << 20), "n": 0 });
    let input_bytes = common::len(&input);
    let (outcome, peak) = run_measured(&sm, input, Limits::unlimited());
    assert_eq!(outcome.status, Status::Succeeded);
    assert_eq!(
        outcome.output.as_ref().map(|o| o["n"].clone()),
        Some(json!(3))
    );
    assert!(
        peak < input_bytes / 2,
        "peak heap {peak} bytes, input {input_bytes}"
    );
}
