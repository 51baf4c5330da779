//! A mock configuration to start from: one test case mocking every Task
//! state of a definition with a placeholder ([`mock_skeleton`]).

use crate::definition::{ResourceKind, StateKind, SubMachine};
use crate::StateMachine;
use serde_json::{json, Map, Value};

/// The test case [`mock_skeleton`] writes.
pub const SKELETON_TEST_CASE: &str = "HappyPath";

/// A Step Functions Local mock configuration (the format
/// [`MockConfig`](super::MockConfig) reads) for `machine`, under the
/// state machine name `name`: one test case, [`SKELETON_TEST_CASE`],
/// mapping every Task state (those inside Parallel branches and Map item
/// processors too, in definition order) to a mocked response named
/// `<state>Success` that returns a placeholder: `{"StatusCode": 200,
/// "Payload": {}}` for `lambda:invoke` (the part of Lambda's answer
/// workflows read), `{}` for anything else. The response answers
/// invocation `"0"`, or `"0-999"` for a state inside a Map (every
/// iteration invokes it again). Edit the placeholders, then run it with
/// `stepfn run --mock-config FILE --test-case HappyPath`
/// (`stepfn mock-skeleton` prints it).
///
/// ```
/// use serde_json::json;
/// use stepfn::testing::{mock_skeleton, MockConfig};
/// use stepfn::StateMachine;
///
/// let machine: StateMachine = r#"{"StartAt": "Charge", "States": {"Charge": {
///     "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
///     "Parameters": {"FunctionName": "charge"}, "End": true}}}"#.parse()?;
/// let skeleton = mock_skeleton(&machine, "Orders");
/// assert_eq!(skeleton, json!({
///     "StateMachines": {"Orders": {"TestCases": {"HappyPath": {"Charge": "ChargeSuccess"}}}},
///     "MockedResponses": {"ChargeSuccess": {"0": {"Return": {"StatusCode": 200, "Payload": {}}}}}
/// }));
/// assert!(MockConfig::from_value(&skeleton).is_ok());
/// # Ok::<(), stepfn::Error>(())
/// ```
pub fn mock_skeleton(machine: &StateMachine, name: &str) -> Value {
    let mut case = Map::new();
    let mut responses = Map::new();
    add_tasks(
        &machine.definition().machine,
        false,
        &mut case,
        &mut responses,
    );
    json!({
        "StateMachines": {name: {"TestCases": {SKELETON_TEST_CASE: case}}},
        "MockedResponses": responses
    })
}

/// Adds the Task states of `line` (and of the lines nested in it, each
/// right after the state holding it) to the test case and the responses;
/// `in_map`: `line` runs once per Map item. Recursion is bounded by the
/// nesting the definition loader allows.
fn add_tasks(
    line: &SubMachine,
    in_map: bool,
    case: &mut Map<String, Value>,
    responses: &mut Map<String, Value>,
) {
    for state in &line.states {
        match &state.kind {
            StateKind::Task(task) => {
                let response = format!("{}Success", state.name);
                let placeholder = match &task.resource.kind {
                    ResourceKind::Service {
                        service, action, ..
                    } if service == "lambda" && action == "invoke" => {
                        json!({"StatusCode": 200, "Payload": {}})
                    }
                    _ => json!({}),
                };
                let invocations = if in_map { "0-999" } else { "0" };
                case.insert(state.name.clone(), Value::String(response.clone()));
                responses.insert(response, json!({invocations: {"Return": placeholder}}));
            }
            StateKind::Parallel(p) => {
                for branch in &p.branches {
                    add_tasks(branch, in_map, case, responses);
                }
            }
            StateKind::Map(m) => add_tasks(&m.item_processor, true, case, responses),
            _ => {}
        }
    }
}
