//! Seed 004, the hello-world tour, both machines exactly as printed:
//!
//! * Pass -> Choice (`BooleanEquals` on `$.IsHelloWorldExample`) -> Wait
//!   3 s -> Parallel {Hello, World} -> Pass, for `true` and for `false`.
//!   This example waits the 3 seconds for real (the system clock); the
//!   tests run the same machine on a virtual clock that does not wait.
//! * A Lambda task answering `"Hello, <who>!"` (its `Resource` is still the
//!   placeholder `Provide-Lambda-Function-Arn`, the key of its task code),
//!   then a Choice with `StringMatches "*Name*"`.
//!
//! ```sh
//! cargo run --example hello_world
//! ```

mod seeds;

use seeds::{hello, print_outcome, run};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let machine = hello::hello_world()?;
    let tasks = hello::tasks();
    for flag in [true, false] {
        let input = json!({ "IsHelloWorldExample": flag });
        let outcome = run(&machine, &tasks, input).await;
        print_outcome(&format!("IsHelloWorldExample: {flag}"), &outcome);
    }

    let machine = hello::hello_lambda()?;
    for who in ["Name Surname", "Ada"] {
        let outcome = run(&machine, &tasks, json!({ "who": who })).await;
        print_outcome(&format!("who: {who}"), &outcome);
    }
    Ok(())
}
