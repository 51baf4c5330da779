//! Seed 004, the hello-world tour: a Pass / Choice (`BooleanEquals`) /
//! Wait 3 s / Parallel machine, and a Lambda task answering
//! `"Hello, <who>!"` followed by a Choice with `StringMatches "*Name*"`.
//! Both definitions exactly as printed, including the placeholder
//! `Resource` `Provide-Lambda-Function-Arn`.

use super::tasks::TaskRouter;
use serde_json::Value;
use stepfn::StateMachine;

/// The Pass/Choice/Wait/Parallel machine.
pub const HELLO_WORLD: &str = include_str!("../../fixtures/machines/004_hello_world.json");

/// The Lambda task and `StringMatches` Choice machine.
pub const HELLO_LAMBDA: &str = include_str!("../../fixtures/machines/004_hello_lambda.json");

/// The placeholder `Resource` the tutorial tells you to replace.
pub const HELLO_FUNCTION: &str = "Provide-Lambda-Function-Arn";

/// The hello-world machine, loaded.
pub fn hello_world() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(HELLO_WORLD)
}

/// The Lambda machine, loaded.
pub fn hello_lambda() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(HELLO_LAMBDA)
}

/// The hello-world machine migrated to JSONata by hand.
pub const HELLO_WORLD_JSONATA: &str =
    include_str!("../../fixtures/machines/004_hello_world.jsonata.json");

/// The Lambda machine migrated to JSONata by hand.
pub const HELLO_LAMBDA_JSONATA: &str =
    include_str!("../../fixtures/machines/004_hello_lambda.jsonata.json");

/// The JSONata hello-world machine, loaded.
pub fn hello_world_jsonata() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(HELLO_WORLD_JSONATA)
}

/// The JSONata Lambda machine, loaded.
pub fn hello_lambda_jsonata() -> Result<StateMachine, stepfn::Error> {
    StateMachine::from_str(HELLO_LAMBDA_JSONATA)
}

/// The tutorial's function: `callback(null, "Hello, " + event.who + "!")`.
pub fn tasks() -> TaskRouter {
    TaskRouter::new().on_sync(HELLO_FUNCTION, |invocation| {
        Ok(Value::String(format!(
            "Hello, {}!",
            js_string(invocation.event.get("who"))
        )))
    })
}

/// How JavaScript's `+` turns a value into text.
fn js_string(value: Option<&Value>) -> String {
    match value {
        None => "undefined".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                v => js_string(Some(v)),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(_)) => "[object Object]".into(),
        Some(other) => other.to_string(),
    }
}
