//! Whole executions of the shared benchmark workloads
//! (`$STEPFN_BENCH_DIR/workloads`, by default `shared/bench/workloads` beside
//! the repository or beside its worktrees' directory), beside
//! the same work hand-written in Rust (`handwritten/`), the floor the engine
//! is measured against.
//!
//! Every Task state gets the bench contract's handler: the task input with
//! `handled: true` and `count: input.count + 1`. Each workload's output, from
//! stepfn and from the hand-written code, is checked once against
//! `expected_sha256.json` (canonical JSON, sorted keys) before it is timed.
//!
//! Besides criterion's report (stepfn only), the bench prints two tables,
//! each workload measured in a child process of its own:
//! - time: the median nanoseconds per state transition of stepfn with the
//!   256 KiB payload check on (the default) and off, of the hand-written
//!   code, and stepfn's ratios to it. Off means no payload and no depth
//!   limit; the ceiling on how deep stepfn nests what it builds stays (see
//!   `Limits::max_depth`), so the input's depth is still measured once per
//!   execution. Each figure: a fresh input copy per run (not timed), one
//!   warm-up, then at least 20 runs and 3 s.
//! - memory: the peak heap bytes of one execution above what was allocated
//!   before it started (counted by the bench's global allocator, which
//!   counts only in this pass), next to the size of the input; map_10000
//!   also over its first 100 and 1000 items.
//!
//! pass_chain_1000, task_chain_1000 and map_10000 also run in JSONata
//! (`<name>_jsonata`, written here from the JSONPath definitions: the same
//! work, checked against the same output); a third table gives each one's
//! time over its JSONPath form's.
//!
//! `STEPFN_BENCH_QUICK=1` shortens the runs, `STEPFN_BENCH_ONLY=<name>[,<name>...]`
//! picks workloads, `STEPFN_BENCH_TABLE_ONLY=1` skips criterion.

mod handwritten;
mod memory;

use criterion::{BatchSize, Criterion, Throughput};
use handwritten::Program;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use stepfn::{sync_task_fn, Limits, StateMachine, Status, TaskExecutor, TaskRequest, TaskResult};

#[global_allocator]
static ALLOCATOR: memory::Counting = memory::Counting;

struct Workload {
    name: String,
    /// The definition as written.
    definition: Value,
    machine: StateMachine,
    handwritten: Option<Program>,
    input: Value,
    transitions: u64,
    sha256: Option<String>,
}

fn bench_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("STEPFN_BENCH_DIR") {
        let dir = PathBuf::from(dir);
        return dir.join("workloads").is_dir().then_some(dir);
    }
    // beside the repository, never further out
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench");
    dir.join("workloads").is_dir().then_some(dir)
}

fn workloads() -> Vec<Workload> {
    let Some(dir) = bench_dir() else {
        eprintln!("benchmark workloads not found: set STEPFN_BENCH_DIR");
        return Vec::new();
    };
    let expected: Value = std::fs::read_to_string(dir.join("workloads/expected_sha256.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let mut files: Vec<_> = std::fs::read_dir(dir.join("workloads"))
        .expect("readable workloads directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json") && !p.ends_with("expected_sha256.json")
        })
        .collect();
    files.sort();
    let workloads: Vec<Workload> = files
        .into_iter()
        .filter_map(|path| {
            let data: Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
            let name = data["name"].as_str()?.to_owned();
            let machine =
                StateMachine::from_value(data["definition"].clone()).expect("workload loads");
            Some(Workload {
                sha256: expected[&name].as_str().map(str::to_owned),
                handwritten: handwritten::program(&name, &data["definition"]),
                definition: data["definition"].clone(),
                name,
                machine,
                input: data["input"].clone(),
                transitions: data["transitions"].as_u64().unwrap_or(1).max(1),
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workloads {
        let jsonata = jsonata_form(&w.name, &w.definition).map(|definition| Workload {
            name: format!("{}_jsonata", w.name),
            machine: StateMachine::from_value(definition.clone()).expect("JSONata workload loads"),
            definition,
            handwritten: handwritten::program(&w.name, &w.definition),
            input: w.input.clone(),
            transitions: w.transitions,
            sha256: w.sha256.clone(),
        });
        all.push(w);
        all.extend(jsonata);
    }
    all
}

/// The JSONata form of a JSONPath workload, as its author would write it:
/// Output (or Arguments) templates over `$states` instead of the paths.
fn jsonata_form(name: &str, definition: &Value) -> Option<Value> {
    let mut d = definition.clone();
    d["QueryLanguage"] = json!("JSONata");
    match name {
        "pass_chain_1000" => {
            for (_, state) in d["States"].as_object_mut()?.iter_mut() {
                let step = state["Parameters"]["step"].clone();
                let state = state.as_object_mut()?;
                state.remove("Parameters");
                state.remove("ResultPath");
                state.insert(
                    "Output".into(),
                    json!(format!(
                        "{{% $merge([$states.input, {{'last': {{'user': $states.input.user.name, 'tier': $states.input.user.tier, 'prev': $states.input.last.step, 'step': {step}}}}}]) %}}"
                    )),
                );
            }
        }
        "task_chain_1000" => {
            for (_, state) in d["States"].as_object_mut()?.iter_mut() {
                let state = state.as_object_mut()?;
                for path in ["InputPath", "ResultSelector", "ResultPath", "OutputPath"] {
                    state.remove(path);
                }
                state.insert("Arguments".into(), json!("{% $states.input.state %}"));
                state.insert(
                    "Output".into(),
                    json!({"state": {
                        "count": "{% $states.result.count %}",
                        "payload": "{% $states.result.payload %}",
                        "handled": "{% $states.result.handled %}"
                    }}),
                );
            }
        }
        "map_10000" => {
            let map = d["States"]["MapItems"].as_object_mut()?;
            map.remove("ItemsPath");
            map.insert("Items".into(), json!("{% $states.input.items %}"));
            let reshape =
                d["States"]["MapItems"]["ItemProcessor"]["States"]["Reshape"].as_object_mut()?;
            reshape.remove("Parameters");
            reshape.insert(
                "Output".into(),
                json!({"k": "{% $states.input.id %}", "s": "{% $states.input.v %}"}),
            );
        }
        _ => return None,
    }
    Some(d)
}

fn handler(request: TaskRequest<'_>) -> TaskResult {
    Ok(handwritten::task(request.parameters))
}

fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut entries: Vec<_> = o.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn sha256_canonical(v: &Value) -> String {
    let text = serde_json::to_string(&canonical(v)).unwrap();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn limits(size_check: bool) -> Limits {
    // AWS's 25,000-event limit would stop the long workloads: it is lifted
    Limits::default()
        .with_max_history_events(None)
        .with_max_payload_bytes(if size_check { Some(262_144) } else { None })
        .with_max_depth(if size_check { Some(1000) } else { None })
}

fn run_once(
    w: &Workload,
    executor: &dyn TaskExecutor,
    input: Value,
    size_check: bool,
) -> stepfn::Outcome {
    futures::executor::block_on(
        w.machine
            .execution()
            .with_limits(limits(size_check))
            .run(executor, input),
    )
}

/// The output of one stepfn execution, which must succeed.
fn stepfn_output(w: &Workload, executor: &dyn TaskExecutor, input: Value) -> Value {
    let outcome = run_once(w, executor, input, true);
    assert_eq!(
        outcome.status,
        Status::Succeeded,
        "{}: {:?} {:?}",
        w.name,
        outcome.error,
        outcome.cause
    );
    outcome.output.unwrap_or(Value::Null)
}

fn check(w: &Workload, executor: &dyn TaskExecutor) {
    let Some(expected) = &w.sha256 else {
        eprintln!("{}: no expected sha256", w.name);
        return;
    };
    let output = stepfn_output(w, executor, w.input.clone());
    assert_eq!(
        &sha256_canonical(&output),
        expected,
        "{}: wrong output",
        w.name
    );
    if let Some(program) = &w.handwritten {
        let output = program(w.input.clone());
        assert_eq!(
            &sha256_canonical(&output),
            expected,
            "{}: wrong hand-written output",
            w.name
        );
    }
}

/// Median ns per transition of `run` over at least `runs` runs and
/// `min_time`, after one warm-up; each run gets a fresh copy of the input,
/// made and dropped (with the output) outside the timing.
fn median_per_transition<R>(
    w: &Workload,
    runs: usize,
    min_time: Duration,
    mut run: impl FnMut(Value) -> R,
) -> f64 {
    drop(run(w.input.clone()));
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < runs || start.elapsed() < min_time {
        let input = w.input.clone();
        let t = Instant::now();
        let output = run(input);
        samples.push(t.elapsed().as_nanos() as f64);
        drop(output);
        if samples.len() > 100_000 {
            break;
        }
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2] / w.transitions as f64
}

/// The fastest run per transition of `a` and of `b` over `rounds` rounds,
/// each round one run of each (a fresh input copy per run, not timed).
fn fastest_in_turn(
    a: &Workload,
    b: &Workload,
    executor: &dyn TaskExecutor,
    rounds: usize,
) -> (f64, f64) {
    let time = |w: &Workload| {
        let input = w.input.clone();
        let t = Instant::now();
        let outcome = run_once(w, executor, input, true);
        let elapsed = t.elapsed().as_nanos() as f64;
        drop(outcome);
        elapsed / w.transitions as f64
    };
    let (mut best_a, mut best_b) = (f64::MAX, f64::MAX);
    for _ in 0..rounds {
        best_a = best_a.min(time(a));
        best_b = best_b.min(time(b));
    }
    (best_a, best_b)
}

/// A duration in nanoseconds, with about three significant digits.
fn ns(value: f64) -> String {
    match value {
        v if v < 10.0 => format!("{v:.2}"),
        v if v < 100.0 => format!("{v:.1}"),
        v => format!("{v:.0}"),
    }
}

const TIME_HEADER: &str = "| workload | transitions | stepfn check on (ns) | stepfn check off (ns) | hand-written (ns) | ratio on | ratio off |\n|---|---|---|---|---|---|---|";

/// The timing table's row of one workload.
fn time_row(w: &Workload, executor: &dyn TaskExecutor, runs: usize, min_time: Duration) -> String {
    let on = median_per_transition(w, runs, min_time, |input| {
        run_once(w, executor, input, true)
    });
    let off = median_per_transition(w, runs, min_time, |input| {
        run_once(w, executor, input, false)
    });
    let (hand, ratio_on, ratio_off) = match &w.handwritten {
        Some(program) => {
            let hand = median_per_transition(w, runs, min_time, program);
            (
                ns(hand),
                format!("{:.1}x", on / hand),
                format!("{:.1}x", off / hand),
            )
        }
        None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
    };
    format!(
        "| {} | {} | {} | {} | {hand} | {ratio_on} | {ratio_off} |",
        w.name,
        w.transitions,
        ns(on),
        ns(off)
    )
}

const MEMORY_HEADER: &str = "| workload | input JSON | input heap | stepfn peak | hand-written peak | stepfn peak / input heap |\n|---|---|---|---|---|---|";

fn bytes(n: usize) -> String {
    if n < 10 * 1024 {
        format!("{n} B")
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

/// The memory table's rows of one workload: the peak heap bytes of one
/// execution (size check on) above the allocation before it started,
/// beside the input's size as JSON text and as a `Value` on the heap.
/// map_10000 is also run over the first 100 and 1000 of its items, to show
/// how its peak grows with its input.
fn memory_rows(w: &Workload, executor: &dyn TaskExecutor) -> Vec<String> {
    let mut inputs = Vec::new();
    if w.name == "map_10000" {
        for n in [100, 1000] {
            let mut input = w.input.clone();
            if let Some(items) = input["items"].as_array_mut() {
                items.truncate(n);
            }
            inputs.push((format!("map_10000 (first {n} items)"), input));
        }
    }
    inputs.push((w.name.clone(), w.input.clone()));
    inputs
        .into_iter()
        .map(|(label, input)| {
            let json = serde_json::to_vec(&input).map_or(0, |t| t.len());
            let (copy, heap) = memory::peak_during(|| input.clone());
            drop(copy);
            drop(stepfn_output(w, executor, input.clone())); // warm-up
            let fresh = input.clone();
            let (output, stepfn) = memory::peak_during(|| stepfn_output(w, executor, fresh));
            let hand = w.handwritten.as_ref().map(|program| {
                let fresh = input.clone();
                let (hand_output, peak) = memory::peak_during(|| program(fresh));
                assert_eq!(output, hand_output, "{label}: outputs differ");
                peak
            });
            format!(
                "| {label} | {} | {} | {} | {} | {:.2} |",
                bytes(json),
                bytes(heap),
                bytes(stepfn),
                hand.map_or("-".to_owned(), bytes),
                stepfn as f64 / heap.max(1) as f64
            )
        })
        .collect()
}

fn main() {
    let quick = std::env::var_os("STEPFN_BENCH_QUICK").is_some();
    let executor = sync_task_fn(handler);
    let only = std::env::var("STEPFN_BENCH_ONLY").ok();
    let workloads: Vec<Workload> = workloads()
        .into_iter()
        .filter(|w| match only.as_deref() {
            Some(o) => o.split(',').any(|name| name == w.name),
            None => true,
        })
        .collect();
    for w in &workloads {
        check(w, &executor);
    }
    let table_only = std::env::var_os("STEPFN_BENCH_TABLE_ONLY").is_some();
    if !table_only {
        let mut criterion = Criterion::default()
            .configure_from_args()
            .sample_size(10)
            .warm_up_time(Duration::from_millis(if quick { 100 } else { 500 }))
            .measurement_time(Duration::from_millis(if quick { 300 } else { 2000 }));
        let mut group = criterion.benchmark_group("run");
        for w in &workloads {
            group.throughput(Throughput::Elements(w.transitions));
            group.bench_function(&w.name, |b| {
                b.iter_batched(
                    || w.input.clone(),
                    |input| run_once(w, &executor, input, true),
                    BatchSize::LargeInput,
                )
            });
        }
        group.finish();
        criterion.final_summary();
    }

    let (runs, min_time) = if quick {
        (5, Duration::from_millis(300))
    } else {
        (20, Duration::from_secs(3))
    };
    let measure = |w: &Workload| {
        let mut lines = vec![time_row(w, &executor, runs, min_time)];
        lines.extend(
            memory_rows(w, &executor)
                .into_iter()
                .map(|r| format!("mem {r}")),
        );
        lines
    };
    if std::env::var_os("STEPFN_BENCH_CHILD").is_some() {
        // one workload measured in this (child) process: print its rows only
        for w in &workloads {
            for line in measure(w) {
                println!("{line}");
            }
        }
        return;
    }
    // each workload is measured in a process of its own, as the peers were:
    // the allocator state one workload leaves behind (big_payload's 200 KB
    // documents) would otherwise slow the next ones down
    let exe = std::env::current_exe().ok();
    let mut lines = Vec::new();
    for w in &workloads {
        let child = exe.as_ref().and_then(|exe| {
            std::process::Command::new(exe)
                .arg("--bench")
                .env("STEPFN_BENCH_CHILD", "1")
                .env("STEPFN_BENCH_TABLE_ONLY", "1")
                .env("STEPFN_BENCH_ONLY", &w.name)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
        });
        match child {
            Some(text) => lines.extend(text.lines().map(str::to_owned)),
            None => lines.extend(measure(w)),
        }
    }
    println!("\nTime: median per state transition\n{TIME_HEADER}");
    for line in lines.iter().filter(|l| l.starts_with("| ")) {
        println!("{line}");
    }
    println!("\nJSONata over JSONPath (stepfn, check on; the two forms run in turn in this process, the fastest run of each kept: load on the machine moves medians taken apart)\n| workload | JSONPath (ns) | JSONata (ns) | JSONata / JSONPath |\n|---|---|---|---|");
    for w in workloads.iter().filter(|w| w.name.ends_with("_jsonata")) {
        let base = w.name.trim_end_matches("_jsonata");
        if let Some(path) = workloads.iter().find(|p| p.name == base) {
            let (a, b) = fastest_in_turn(path, w, &executor, if quick { 5 } else { 30 });
            println!("| {base} | {} | {} | {:.2}x |", ns(a), ns(b), b / a);
        }
    }
    println!("\nMemory: peak heap of one execution above the heap before it\n{MEMORY_HEADER}");
    for line in lines.iter().filter_map(|l| l.strip_prefix("mem ")) {
        println!("{line}");
    }
}
