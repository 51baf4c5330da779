//! Code shared by the seed-workflow examples and by `tests/seeds.rs` (which
//! includes this module by path): the SQLite database in a temp directory,
//! the task code standing in for each tutorial's Lambda functions (keyed by
//! the resource ARNs of the definitions), a small HTTP client, and the axum
//! service of `examples/http_service.rs`.
//!
//! | module | seed | definition |
//! |---|---|---|
//! | [`user_data`] | 000 | `fixtures/machines/000_user_data_processing.json` |
//! | [`orders`] | 001 | `fixtures/machines/001_order_processing.json` |
//! | [`api_templates`] | 002 | `fixtures/machines/002_api_call_from_templates.json` |
//! | [`shop`] | 003 | `fixtures/machines/003_shopping_cart.json` |
//! | [`hello`] | 004 | `fixtures/machines/004_hello_world.json`, `004_hello_lambda.json` |

// Each example uses only part of this module.
#![allow(dead_code)]

pub mod api_templates;
pub mod db;
pub mod hello;
pub mod http;
pub mod orders;
pub mod service;
pub mod shop;
pub mod tasks;
pub mod user_data;

use serde_json::Value;
use stepfn::{Outcome, StateMachine, TaskExecutor};

/// Runs one execution with its history recorded.
pub async fn run<E: TaskExecutor + ?Sized>(
    machine: &StateMachine,
    executor: &E,
    input: Value,
) -> Outcome {
    machine
        .execution()
        .with_history(true)
        .run(executor, input)
        .await
}

/// The states an execution entered, in history order (inside Map
/// iterations and Parallel branches too).
pub fn states_passed(outcome: &Outcome) -> Vec<String> {
    outcome
        .history
        .iter()
        .flatten()
        .filter(|event| event.event_type.ends_with("StateEntered"))
        .filter_map(|event| event.details.get("name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// Prints an outcome: status, the states passed, then output or error and
/// cause.
pub fn print_outcome(title: &str, outcome: &Outcome) {
    println!("== {title}");
    println!("   status: {}", outcome.status.as_str());
    println!("   states: {}", states_passed(outcome).join(" -> "));
    if let Some(output) = &outcome.output {
        println!("   output: {output}");
    }
    if let Some(error) = &outcome.error {
        println!("   error:  {error}");
    }
    if let Some(cause) = &outcome.cause {
        println!("   cause:  {cause}");
    }
}
