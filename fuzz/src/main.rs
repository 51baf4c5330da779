//! `stepfn-fuzz`: a fuzzing campaign on stable Rust.
//!
//! ```text
//! cargo run --release -p stepfn-fuzz -- [--seconds N] [--target NAME]... [--seed N]
//! ```
//!
//! Runs the targets of `gen.rs` (the same generators and properties as
//! tests/hardening.rs) round robin, in rounds of fresh random cases, until
//! the time is up (default 60 s). A case that breaks a property (a panic
//! included) is shrunk by proptest to a minimal one, printed and written to
//! `fuzz/findings/`. The last line is `N passed, M failed` (cases, findings);
//! the exit status is 1 when anything was found.

mod gen;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use std::fmt::Debug;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Cases per round of one target.
const ROUND: u32 = 32;

/// One fuzzing target: runs one round, returns (cases run, finding).
type Target = fn(&mut TestRunner) -> (u64, Option<String>);

fn round<S, F>(runner: &mut TestRunner, strategy: S, check: F) -> (u64, Option<String>)
where
    S: Strategy,
    S::Value: Debug,
    F: Fn(S::Value) -> Result<(), proptest::test_runner::TestCaseError>,
{
    match runner.run(&strategy, check) {
        Ok(()) => (u64::from(ROUND), None),
        Err(TestError::Fail(reason, minimal)) => (
            u64::from(ROUND),
            Some(format!("{reason}\nminimal input: {minimal:#?}")),
        ),
        Err(TestError::Abort(reason)) => (0, Some(format!("aborted: {reason}"))),
    }
}

const TARGETS: &[(&str, Target)] = &[
    ("paths", |r| round(r, gen::path_case(), gen::check_path)),
    ("intrinsics", |r| {
        round(r, gen::intrinsic_case(), gen::check_intrinsic)
    }),
    ("choice", |r| {
        round(r, gen::choice_case(), gen::check_choice)
    }),
    ("executions", |r| {
        round(r, gen::execution_case(), gen::check_execution)
    }),
    ("pass-through", |r| {
        round(r, gen::pass_through_case(), gen::check_pass_through)
    }),
    ("definitions", |r| {
        round(
            r,
            gen::mutated_definition_case(),
            gen::check_mutated_definition,
        )
    }),
    ("definition-text", |r| {
        round(r, gen::definition_text_case(), gen::check_definition_text)
    }),
    ("test-state", |r| {
        round(r, gen::test_state_case(), gen::check_test_state)
    }),
];

struct Options {
    seconds: u64,
    targets: Vec<String>,
    seed: u64,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        seconds: 60,
        targets: Vec::new(),
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--seconds" => {
                options.seconds = value("--seconds")?
                    .parse()
                    .map_err(|e| format!("--seconds: {e}"))?
            }
            "--seed" => {
                options.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--target" => {
                let name = value("--target")?;
                if !TARGETS.iter().any(|(n, _)| *n == name) {
                    let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
                    return Err(format!(
                        "unknown target {name}; targets: {}",
                        names.join(", ")
                    ));
                }
                options.targets.push(name);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

fn main() -> std::process::ExitCode {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("stepfn-fuzz: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let targets: Vec<&(&str, Target)> = TARGETS
        .iter()
        .filter(|(name, _)| options.targets.is_empty() || options.targets.iter().any(|t| t == name))
        .collect();
    // the panics of failing cases are findings, reported below
    std::panic::set_hook(Box::new(|_| {}));
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let mut cases = vec![0u64; targets.len()];
    let mut findings: Vec<(String, String)> = Vec::new();
    let mut round_no = 0u64;
    println!(
        "stepfn-fuzz: seed {}, {} s, targets: {}",
        options.seed,
        options.seconds,
        targets
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    );
    while Instant::now() < deadline {
        for (i, (name, target)) in targets.iter().enumerate() {
            if Instant::now() >= deadline {
                break;
            }
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&options.seed.to_le_bytes());
            seed[8..16].copy_from_slice(&round_no.to_le_bytes());
            seed[16] = i as u8;
            let config = Config {
                cases: ROUND,
                failure_persistence: None,
                ..Config::default()
            };
            let mut runner =
                TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
            let (n, finding) = target(&mut runner);
            cases[i] += n;
            if let Some(finding) = finding {
                println!(
                    "FINDING in {name} (seed {}, round {round_no}):\n{finding}",
                    options.seed
                );
                findings.push((name.to_string(), finding));
            }
        }
        round_no += 1;
    }
    for (i, (name, _)) in targets.iter().enumerate() {
        println!("{name}: {} cases", cases[i]);
    }
    if !findings.is_empty() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("findings");
        if std::fs::create_dir_all(&dir).is_ok() {
            for (k, (name, finding)) in findings.iter().enumerate() {
                let _ = std::fs::write(
                    dir.join(format!("{}-{name}-{k}.txt", options.seed)),
                    finding,
                );
            }
        }
    }
    let total: u64 = cases.iter().sum();
    println!(
        "fuzz: {} passed, {} failed",
        total.saturating_sub(findings.len() as u64),
        findings.len()
    );
    if findings.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    }
}
