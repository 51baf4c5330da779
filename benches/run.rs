//! Whole executions of the shared benchmark workloads
//! (`../shared/bench/workloads`, or `$STEPFN_BENCH_DIR/workloads`).
//!
//! Every Task state gets the bench contract's handler: the task input with
//! `handled: true` and `count: input.count + 1`. Each workload's output is
//! checked once against `expected_sha256.json` (canonical JSON, sorted keys)
//! before it is timed. The input copy of each run is not timed.
//!
//! Besides criterion's report, the bench prints one table of nanoseconds
//! per state transition (median of the runs), with the 256 KiB payload
//! check on (the default) and off. `STEPFN_BENCH_QUICK=1` shortens it.

use criterion::{BatchSize, Criterion, Throughput};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use stepfn::{sync_task_fn, Limits, StateMachine, Status, TaskExecutor, TaskRequest, TaskResult};

struct Workload {
    name: String,
    machine: StateMachine,
    input: Value,
    transitions: u64,
    sha256: Option<String>,
}

fn bench_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("STEPFN_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench"));
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
    files
        .into_iter()
        .filter_map(|path| {
            let data: Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
            let name = data["name"].as_str()?.to_owned();
            let machine =
                StateMachine::from_value(data["definition"].clone()).expect("workload loads");
            Some(Workload {
                sha256: expected[&name].as_str().map(str::to_owned),
                name,
                machine,
                input: data["input"].clone(),
                transitions: data["transitions"].as_u64().unwrap_or(1).max(1),
            })
        })
        .collect()
}

fn handler(request: TaskRequest<'_>) -> TaskResult {
    let mut input = request.parameters;
    let count = input.get("count").and_then(Value::as_i64).unwrap_or(0);
    if let Value::Object(o) = &mut input {
        o.insert("handled".into(), json!(true));
        o.insert("count".into(), json!(count + 1));
    }
    Ok(input)
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

fn check(w: &Workload, executor: &dyn TaskExecutor) {
    let outcome = run_once(w, executor, w.input.clone(), true);
    assert_eq!(
        outcome.status,
        Status::Succeeded,
        "{}: {:?} {:?}",
        w.name,
        outcome.error,
        outcome.cause
    );
    let text = serde_json::to_string(&canonical(&outcome.output.unwrap_or(Value::Null))).unwrap();
    let digest: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match &w.sha256 {
        Some(expected) => assert_eq!(&digest, expected, "{}: wrong output", w.name),
        None => eprintln!("{}: no expected sha256", w.name),
    }
}

/// Median ns per transition over at least `runs` runs and `min_time`.
fn table_row(
    w: &Workload,
    executor: &dyn TaskExecutor,
    size_check: bool,
    runs: usize,
    min_time: Duration,
) -> f64 {
    let _ = run_once(w, executor, w.input.clone(), size_check);
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < runs || start.elapsed() < min_time {
        let input = w.input.clone();
        let t = Instant::now();
        let outcome = run_once(w, executor, input, size_check);
        samples.push(t.elapsed().as_nanos() as f64);
        drop(outcome);
        if samples.len() > 100_000 {
            break;
        }
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2] / w.transitions as f64
}

fn main() {
    let quick = std::env::var_os("STEPFN_BENCH_QUICK").is_some();
    let executor = sync_task_fn(handler);
    let only = std::env::var("STEPFN_BENCH_ONLY").ok();
    let workloads: Vec<Workload> = workloads()
        .into_iter()
        .filter(|w| match only.as_deref() {
            Some(o) => w.name == o,
            None => true,
        })
        .collect();
    for w in &workloads {
        check(w, &executor);
    }
    let table_only = std::env::var_os("STEPFN_BENCH_TABLE_ONLY").is_some();
    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(if quick { 100 } else { 500 }))
        .measurement_time(Duration::from_millis(if quick { 300 } else { 2000 }));
    if !table_only {
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
    }
    if !table_only {
        criterion.final_summary();
    }

    let (runs, min_time) = if quick {
        (5, Duration::from_millis(300))
    } else {
        (20, Duration::from_secs(3))
    };
    if std::env::var_os("STEPFN_BENCH_CHILD").is_some() {
        // one workload measured in this (child) process: print the row only
        for w in &workloads {
            let on = table_row(w, &executor, true, runs, min_time);
            let off = table_row(w, &executor, false, runs, min_time);
            println!(
                "| {} | {} | {:.0} | {:.0} |",
                w.name, w.transitions, on, off
            );
        }
        return;
    }
    // each workload is timed in a process of its own, as the peers were:
    // the allocator state one workload leaves behind (big_payload's 200 KB
    // documents) would otherwise slow the next ones down
    println!();
    println!("| workload | transitions | ns/transition (size check on) | ns/transition (size check off) |");
    println!("|---|---|---|---|");
    let exe = std::env::current_exe().ok();
    for w in &workloads {
        let row = exe.as_ref().and_then(|exe| {
            std::process::Command::new(exe)
                .arg("--bench")
                .env("STEPFN_BENCH_CHILD", "1")
                .env("STEPFN_BENCH_TABLE_ONLY", "1")
                .env("STEPFN_BENCH_ONLY", &w.name)
                .output()
                .ok()
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .and_then(|text| {
                    text.lines()
                        .find(|l| l.starts_with("| "))
                        .map(str::to_owned)
                })
        });
        match row {
            Some(row) => println!("{row}"),
            None => {
                let on = table_row(w, &executor, true, runs, min_time);
                let off = table_row(w, &executor, false, runs, min_time);
                println!(
                    "| {} | {} | {:.0} | {:.0} |",
                    w.name, w.transitions, on, off
                );
            }
        }
    }
}
