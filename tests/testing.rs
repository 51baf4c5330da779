//! stepfn::testing: mock configs, the scripted executor, TestState, and the
//! `stepfn run` / `stepfn test-state` commands.

mod common;

use common::machine;
use serde_json::{json, Value};
use stepfn::definition::Resource;
use stepfn::testing::{
    run_case, test_state, InspectionLevel, MockAnswer, MockConfig, MockExecutor, RunOptions,
    ScriptedExecutor, TestStateMock, TestStateRequest, TestStateStatus,
};
use stepfn::{ErrorKind, StateMachine, StatesError, TaskExecutor, TaskRequest};

// ---------------------------------------------------------------------------- helpers

fn config(value: Value) -> MockConfig {
    MockConfig::from_value(&value).expect("mock config loads")
}

fn config_error(value: Value) -> String {
    MockConfig::from_value(&value)
        .map(|_| ())
        .expect_err("mock config is rejected")
        .detail()
        .to_owned()
}

fn task(state: &str, resource: &str) -> Value {
    json!({"StartAt": state, "States": {state: {"Type": "Task", "Resource": resource, "End": true}}})
}

const LAMBDA: &str = "arn:aws:lambda:us-east-1:111111111111:function:f";

fn one_case(responses: Value) -> MockConfig {
    config(json!({
        "StateMachines": {"M": {"TestCases": {"T": {"A": "RA"}}}},
        "MockedResponses": {"RA": responses}
    }))
}

/// Calls an executor directly, as the engine would for state `state`.
fn call(executor: &dyn TaskExecutor, state: &str, input: Value) -> Result<Value, StatesError> {
    let resource = Resource::parse(LAMBDA);
    futures::executor::block_on(
        executor.execute(TaskRequest::new(&resource, input).with_state_name(state)),
    )
}

fn mocks(responses: Value) -> MockExecutor {
    MockExecutor::new(one_case(responses).test_case(None, "T").expect("test case"))
}

// ---------------------------------------------------------------------------- mock config

#[test]
fn invocation_keys_and_ranges_answer_in_order() {
    let m = mocks(json!({
        "0": {"Return": 1},
        "1-2": {"Throw": {"Error": "E", "Cause": "c"}},
        "3": {"Return": 4}
    }));
    assert_eq!(call(&m, "A", json!({})), Ok(json!(1)));
    assert_eq!(call(&m, "A", json!({})), Err(StatesError::new("E", "c")));
    assert_eq!(call(&m, "A", json!({})), Err(StatesError::new("E", "c")));
    assert_eq!(call(&m, "A", json!({})), Ok(json!(4)));
    assert_eq!(m.invocations("A"), 4);
}

#[test]
fn running_out_of_mocked_responses_names_state_and_invocation() {
    let m = mocks(json!({"0": {"Return": 1}}));
    assert_eq!(call(&m, "A", json!({})), Ok(json!(1)));
    assert_eq!(
        call(&m, "A", json!({})),
        Err(StatesError::runtime(
            "mock config: test case 'T' has no response for invocation 1 of state 'A' (mocked response 'RA')"
        ))
    );
}

#[test]
fn an_unmocked_state_fails_with_states_runtime() {
    let m = mocks(json!({"0": {"Return": 1}}));
    assert_eq!(
        call(&m, "B", json!({})),
        Err(StatesError::runtime(
            "mock config: test case 'T' has no mocked response for state 'B'"
        ))
    );
}

#[test]
fn throw_without_error_or_cause_is_an_empty_name_and_no_cause() {
    let c = one_case(json!({"0": {"Throw": {}}}));
    let answer = c.response("RA").and_then(|r| r.answer(0)).cloned();
    assert_eq!(
        answer,
        Some(MockAnswer::Throw(StatesError {
            name: "".into(),
            cause: None
        }))
    );
}

#[test]
fn the_only_state_machine_is_used_whatever_its_name() {
    let c = one_case(json!({"0": {"Return": 1}}));
    assert_eq!(
        c.test_case(Some("Other"), "T").unwrap().state_machine(),
        "M"
    );
}

#[test]
fn with_several_state_machines_the_one_named_like_the_machine_is_used() {
    let c = config(json!({
        "StateMachines": {"A": {"TestCases": {"T": {}}}, "B": {"TestCases": {"T": {"X": "R"}}}},
        "MockedResponses": {"R": {"0": {"Return": 1}}}
    }));
    let case = c.test_case(Some("B"), "T").unwrap();
    assert_eq!(case.states().collect::<Vec<_>>(), vec!["X"]);
    assert_eq!(
        c.test_case(Some("C"), "T").unwrap_err().detail(),
        "mock config: no entry for state machine `C` in `StateMachines`"
    );
    assert_eq!(
        c.test_case(None, "T").unwrap_err().detail(),
        "mock config: the file has several state machines; name the one to use"
    );
}

#[test]
fn unknown_test_case_is_a_config_error() {
    let err = one_case(json!({"0": {"Return": 1}}))
        .test_case(None, "Nope")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert_eq!(
        err.detail(),
        "mock config: state machine `M` has no test case `Nope`"
    );
}

#[test]
fn malformed_mock_configs_are_rejected_with_the_entry_named() {
    assert_eq!(
        config_error(json!({"MockedResponses": {"R": {"x": {"Return": 1}}}})),
        "mock config: mocked response `R`: `x` is not an invocation number or range like `0` or `1-2`"
    );
    assert_eq!(
        config_error(json!({"MockedResponses": {"R": {"0": {"Return": 1, "Throw": {}}}}})),
        "mock config: mocked response `R`, invocation `0`: needs exactly one of `Return` or `Throw`"
    );
    assert_eq!(
        config_error(json!({"MockedResponses": {"R": {"0": {"Throw": {"Error": 5}}}}})),
        "mock config: mocked response `R`, invocation `0`: `Throw` must be an object with string `Error` and `Cause`"
    );
    assert_eq!(
        config_error(json!({"StateMachines": {"M": {"TestCases": {"T": {"A": "Missing"}}}}})),
        "mock config: state `A` in test case `T` of state machine `M` uses mocked response `Missing`, which is not in `MockedResponses`"
    );
    assert_eq!(
        config_error(json!({"Extra": 1})),
        "mock config: unknown top-level field `Extra`"
    );
    assert_eq!(
        MockConfig::from_str("{").unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
}

// ---------------------------------------------------------------------------- scripted executor

#[test]
fn scripted_answers_by_state_before_resource_and_records_requests() {
    let s = ScriptedExecutor::new();
    s.resource_returns(LAMBDA, json!("by resource"))
        .state_returns("A", json!("by state"))
        .state_fails("A", "Boom", "bad");
    assert_eq!(call(&s, "A", json!({"n": 1})), Ok(json!("by state")));
    assert_eq!(
        call(&s, "A", json!({"n": 2})),
        Err(StatesError::new("Boom", "bad"))
    );
    assert_eq!(call(&s, "A", json!({"n": 3})), Ok(json!("by resource")));
    assert_eq!(s.pending(), 0);
    let params: Vec<Value> = s
        .requests_for("A")
        .into_iter()
        .map(|r| r.parameters)
        .collect();
    assert_eq!(
        params,
        vec![json!({"n": 1}), json!({"n": 2}), json!({"n": 3})]
    );
    assert_eq!(s.requests()[0].resource, LAMBDA);
}

#[test]
fn scripted_without_answer_fails_unless_echoing() {
    let s = ScriptedExecutor::new();
    assert_eq!(
        call(&s, "A", json!(1)),
        Err(StatesError::runtime(format!(
            "scripted executor: no answer queued for state 'A' (resource '{LAMBDA}')"
        )))
    );
    let echo = ScriptedExecutor::new().echo_unscripted();
    assert_eq!(call(&echo, "A", json!({"x": 1})), Ok(json!({"x": 1})));
}

// ---------------------------------------------------------------------------- TestState

fn ts(definition: Value, state: &str, input: Value) -> TestStateRequest {
    let _ = definition;
    let mut r = TestStateRequest::new(input);
    r.state_name = Some(state.to_owned());
    r.inspection_level = InspectionLevel::Debug;
    r
}

fn lambda_state(extra: Value) -> Value {
    let mut state = json!({"Type": "Task", "Resource": LAMBDA, "Next": "After"});
    if let (Some(s), Some(e)) = (state.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    state
}

#[test]
fn test_state_task_with_mock_result_reports_every_step() {
    let m = StateMachine::from_state(
        "Call",
        &lambda_state(json!({
            "InputPath": "$.in",
            "Parameters": {"v.$": "$.v"},
            "ResultSelector": {"r.$": "$.Payload"},
            "ResultPath": "$.out",
            "OutputPath": "$.out"
        })),
    )
    .unwrap();
    let mut r = ts(json!(null), "Call", json!({"in": {"v": 1}}));
    r.mock = Some(TestStateMock::Result(json!({"Payload": 7})));
    let res = test_state(&m, &r, None).unwrap();
    assert_eq!(res.status, TestStateStatus::Succeeded);
    assert_eq!(res.output, Some(json!({"r": 7})));
    assert_eq!(res.next_state.as_deref(), Some("After"));
    let d = res.inspection_data.unwrap();
    assert_eq!(d.after_input_path, Some(json!({"v": 1})));
    assert_eq!(d.after_parameters, Some(json!({"v": 1})));
    assert_eq!(d.result, Some(json!({"Payload": 7})));
    assert_eq!(d.after_result_selector, Some(json!({"r": 7})));
    assert_eq!(
        d.after_result_path,
        Some(json!({"in": {"v": 1}, "out": {"r": 7}}))
    );
}

#[test]
fn test_state_error_is_retriable_while_the_retrier_has_attempts() {
    let m = StateMachine::from_state(
        "Call",
        &lambda_state(json!({
            "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 2, "IntervalSeconds": 3}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handler", "ResultPath": "$.err"}]
        })),
    )
    .unwrap();
    let mut r = ts(json!(null), "Call", json!({"a": 1}));
    r.mock = Some(TestStateMock::Error(StatesError::new("Busy", "later")));
    let res = test_state(&m, &r, None).unwrap();
    assert_eq!(res.status, TestStateStatus::Retriable);
    assert_eq!(
        (res.error.as_deref(), res.cause.as_deref()),
        (Some("Busy"), Some("later"))
    );
    r.retrier_retry_count = 2;
    let res = test_state(&m, &r, None).unwrap();
    assert_eq!(res.status, TestStateStatus::CaughtError);
    assert_eq!(res.next_state.as_deref(), Some("Handler"));
    assert_eq!(
        res.output,
        Some(json!({"a": 1, "err": {"Error": "Busy", "Cause": "later"}}))
    );
}

#[test]
fn test_state_uncaught_error_fails() {
    let m = StateMachine::from_state("Call", &lambda_state(json!({}))).unwrap();
    let mut r = ts(json!(null), "Call", json!({}));
    r.mock = Some(TestStateMock::Error(StatesError::new("E", "c")));
    let res = test_state(&m, &r, None).unwrap();
    assert_eq!(res.status, TestStateStatus::Failed);
    assert_eq!(
        res.to_json(),
        json!({"error": "E", "cause": "c", "status": "FAILED", "inspectionData": {"input": "{}", "afterInputPath": "{}"}})
    );
}

#[test]
fn test_state_task_without_mock_calls_the_executor() {
    let m = StateMachine::from_state("Call", &lambda_state(json!({"ResultPath": "$.r"}))).unwrap();
    let s = ScriptedExecutor::new();
    s.state_returns("Call", json!(5));
    let res = test_state(&m, &ts(json!(null), "Call", json!({"x": 1})), Some(&s)).unwrap();
    assert_eq!(res.output, Some(json!({"x": 1, "r": 5})));
    assert_eq!(s.requests()[0].parameters, json!({"x": 1}));
}

#[test]
fn test_state_choice_reports_the_next_state() {
    let m = machine(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}], "Default": "Small"},
        "Big": {"Type": "Succeed"}, "Small": {"Type": "Succeed"}}}));
    let big = test_state(&m, &ts(json!(null), "C", json!({"n": 2})), None).unwrap();
    assert_eq!(big.next_state.as_deref(), Some("Big"));
    let small = test_state(&m, &ts(json!(null), "C", json!({"n": 0})), None).unwrap();
    assert_eq!(
        (small.status, small.next_state.as_deref(), small.output),
        (
            TestStateStatus::Succeeded,
            Some("Small"),
            Some(json!({"n": 0}))
        )
    );
}

#[test]
fn test_state_pass_with_variables_and_context() {
    let m = StateMachine::from_state(
        "P",
        &json!({"Type": "Pass", "Parameters": {"v.$": "$greeting", "id.$": "$$.Execution.Id"},
                "Assign": {"seen.$": "$.v"}, "End": true}),
    )
    .unwrap();
    let mut r = TestStateRequest::new(json!({}));
    r.inspection_level = InspectionLevel::Debug;
    r.variables.insert("greeting".into(), json!("hi"));
    r.context = json!({"Execution": {"Id": "x"}});
    let res = test_state(&m, &r, None).unwrap();
    assert_eq!(res.output, Some(json!({"v": "hi", "id": "x"})));
    assert_eq!(
        res.inspection_data.unwrap().variables,
        Some(json!({"greeting": "hi", "seen": "hi"}))
    );
}

#[test]
fn test_state_assign_sees_the_raw_task_result_and_catcher_error_output() {
    let m = StateMachine::from_state(
        "Call",
        &lambda_state(json!({"ResultSelector": {"s.$": "$.Payload"}, "Assign": {"raw.$": "$.Payload"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H", "Assign": {"err.$": "$.Error"}}]})),
    )
    .unwrap();
    let mut r = ts(json!(null), "Call", json!({}));
    r.mock = Some(TestStateMock::Result(json!({"Payload": 3})));
    let vars = test_state(&m, &r, None)
        .unwrap()
        .inspection_data
        .unwrap()
        .variables;
    assert_eq!(vars, Some(json!({"raw": 3})));
    r.mock = Some(TestStateMock::Error(StatesError::new("Boom", "c")));
    let vars = test_state(&m, &r, None)
        .unwrap()
        .inspection_data
        .unwrap()
        .variables;
    assert_eq!(vars, Some(json!({"err": "Boom"})));
}

#[test]
fn test_state_choice_rule_assign_and_no_match() {
    let m = machine(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Assign": {"a": 1},
              "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "One", "Assign": {"b.$": "$.n"}}]},
        "One": {"Type": "Succeed"}}}));
    let one = test_state(&m, &ts(json!(null), "C", json!({"n": 1})), None).unwrap();
    assert_eq!(
        one.inspection_data.unwrap().variables,
        Some(json!({"a": 1, "b": 1}))
    );
    let none = test_state(&m, &ts(json!(null), "C", json!({"n": 2})), None).unwrap();
    assert_eq!(
        (none.status, none.error.as_deref(), none.cause.as_deref()),
        (
            TestStateStatus::Failed,
            Some("States.NoChoiceMatched"),
            Some("No Matches!")
        )
    );
}

#[test]
fn test_state_fail_state_reports_error_and_cause() {
    let m = StateMachine::from_state(
        "F",
        &json!({"Type": "Fail", "ErrorPath": "$.e", "Cause": "fixed"}),
    )
    .unwrap();
    let res = test_state(&m, &TestStateRequest::new(json!({"e": "Bad"})), None).unwrap();
    assert_eq!(
        (res.status, res.error.as_deref(), res.cause.as_deref()),
        (TestStateStatus::Failed, Some("Bad"), Some("fixed"))
    );
}

#[test]
fn test_state_refuses_map_and_parallel_without_mock() {
    let m = StateMachine::from_state(
        "P",
        &json!({"Type": "Parallel", "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}}], "End": true}),
    )
    .unwrap();
    let err = test_state(&m, &TestStateRequest::new(json!({})), None).unwrap_err();
    assert_eq!(err.detail(), "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]");
    let mut r = TestStateRequest::new(json!({}));
    r.mock = Some(TestStateMock::Result(json!([1])));
    assert_eq!(test_state(&m, &r, None).unwrap().output, Some(json!([1])));
    r.mock = Some(TestStateMock::Result(json!([1, 2])));
    assert_eq!(
        test_state(&m, &r, None).unwrap_err().detail(),
        "the mock result of a Parallel state must be an array with one element per branch (1 branches, 2 elements)"
    );
}

#[test]
fn test_state_data_flow_errors_fail_the_state() {
    let m = StateMachine::from_state(
        "P",
        &json!({"Type": "Pass", "InputPath": "$.missing", "End": true}),
    )
    .unwrap();
    let res = test_state(&m, &TestStateRequest::new(json!({})), None).unwrap();
    assert_eq!(res.status, TestStateStatus::Failed);
    assert_eq!(res.error.as_deref(), Some("States.Runtime"));
}

// ------------------------------------------------- TestState agrees with an execution

/// Runs TestState on state `S` (a machine of its own: its targets are
/// Succeed states, which pass their input on) and an execution of the same
/// machine, with `work` as the Task's answer in both; asserts that they end
/// alike (output and the state entered next, or error and cause) and gives
/// TestState's answer.
fn agrees_with_an_execution(
    state: Value,
    input: Value,
    work: Option<Result<Value, StatesError>>,
) -> stepfn::testing::TestStateResult {
    let m = StateMachine::from_state("S", &state).unwrap();
    let mut r = TestStateRequest::new(input.clone());
    r.inspection_level = InspectionLevel::Debug;
    r.mock = work.clone().map(|w| match w {
        Ok(v) => TestStateMock::Result(v),
        Err(e) => TestStateMock::Error(e),
    });
    let tested = test_state(&m, &r, None).unwrap();
    let executor = ScriptedExecutor::new();
    if let Some(answer) = work {
        executor.push_state("S", answer);
    }
    let outcome = common::run_recorded(&m, &executor, input);
    let entered: Vec<String> = outcome
        .history
        .iter()
        .flatten()
        .filter(|e| e.event_type.ends_with("StateEntered"))
        .filter_map(|e| e.details["name"].as_str().map(str::to_owned))
        // the top-level states, not those of branches
        .filter(|name| {
            m.definition()
                .machine
                .states
                .iter()
                .any(|s| &s.name == name)
        })
        .collect();
    match tested.status {
        TestStateStatus::Succeeded | TestStateStatus::CaughtError => {
            assert_eq!(outcome.status, stepfn::Status::Succeeded, "{outcome:?}");
            assert_eq!(outcome.output, tested.output);
            assert_eq!(entered.get(1), tested.next_state.as_ref());
        }
        TestStateStatus::Failed => {
            assert_eq!(outcome.status, stepfn::Status::Failed);
            assert_eq!(
                (outcome.error.as_deref(), outcome.cause.as_deref()),
                (tested.error.as_deref(), tested.cause.as_deref())
            );
            assert_eq!(entered, ["S"]);
        }
        TestStateStatus::Retriable => panic!("an execution retries"),
    }
    tested
}

#[test]
fn test_state_and_an_execution_agree_on_an_error_path_that_is_not_a_string() {
    let tested = agrees_with_an_execution(
        json!({"Type": "Fail", "ErrorPath": "$.e", "Cause": "c"}),
        json!({"e": 5}),
        None,
    );
    assert_eq!(
        (tested.status, tested.error.as_deref(), tested.cause.as_deref()),
        (
            TestStateStatus::Failed,
            Some("States.Runtime"),
            Some("An error occurred while executing the state 'S' (entered at the event id #2). The ErrorPath parameter must resolve to a string value: 5")
        )
    );
    // a string path still names the error
    let tested = agrees_with_an_execution(
        json!({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}),
        json!({"e": "Bad", "c": "why"}),
        None,
    );
    assert_eq!(
        (tested.error.as_deref(), tested.cause.as_deref()),
        (Some("Bad"), Some("why"))
    );
}

#[test]
fn test_state_and_an_execution_agree_on_a_pass_with_parameters_and_result_path() {
    let tested = agrees_with_an_execution(
        json!({"Type": "Pass", "InputPath": "$.in", "Parameters": {"v.$": "$.v", "k": 1},
               "ResultPath": "$.out", "Next": "After"}),
        json!({"in": {"v": "x"}}),
        None,
    );
    assert_eq!(
        tested.output,
        Some(json!({"in": {"v": "x"}, "out": {"v": "x", "k": 1}}))
    );
    assert_eq!(tested.next_state.as_deref(), Some("After"));
    // a runtime error carries the engine's prefix in both
    let tested = agrees_with_an_execution(
        json!({"Type": "Pass", "InputPath": "$.missing", "End": true}),
        json!({}),
        None,
    );
    assert_eq!(
        tested.cause.as_deref(),
        Some("An error occurred while executing the state 'S' (entered at the event id #2). Invalid path '$.missing' : No results for path: $['missing']")
    );
}

#[test]
fn test_state_and_an_execution_agree_on_a_task_result_and_its_selector() {
    let tested = agrees_with_an_execution(
        lambda_state(
            json!({"Parameters": {"a.$": "$.a"}, "ResultSelector": {"r.$": "$.Payload.n"},
                            "ResultPath": "$.res"}),
        ),
        json!({"a": 1}),
        Some(Ok(json!({"Payload": {"n": 7}}))),
    );
    assert_eq!(
        (tested.status, tested.output),
        (
            TestStateStatus::Succeeded,
            Some(json!({"a": 1, "res": {"r": 7}}))
        )
    );
}

#[test]
fn test_state_and_an_execution_agree_on_a_choice() {
    let choice = json!({"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}], "Default": "Small",
        "OutputPath": "$.n"});
    let big = agrees_with_an_execution(choice.clone(), json!({"n": 2}), None);
    assert_eq!(
        (big.next_state.as_deref(), big.output),
        (Some("Big"), Some(json!(2)))
    );
    let small = agrees_with_an_execution(choice, json!({"n": 0}), None);
    assert_eq!(small.next_state.as_deref(), Some("Small"));
    let none = agrees_with_an_execution(
        json!({"Type": "Choice", "Choices": [{"Variable": "$.n", "IsPresent": true, "Next": "Y"}]}),
        json!({}),
        None,
    );
    assert_eq!(
        (none.error.as_deref(), none.cause.as_deref()),
        (Some("States.NoChoiceMatched"), Some("No Matches!"))
    );
}

#[test]
fn test_state_and_an_execution_agree_on_a_caught_task_error() {
    let state = lambda_state(json!({"Catch": [
        {"ErrorEquals": ["Nope"], "Next": "Other"},
        {"ErrorEquals": ["States.TaskFailed"], "Next": "Handler", "ResultPath": "$.err"}]}));
    let tested = agrees_with_an_execution(
        state.clone(),
        json!({"a": 1}),
        Some(Err(StatesError::new("Boom", "bad"))),
    );
    assert_eq!(
        (tested.status, tested.next_state.as_deref(), tested.output),
        (
            TestStateStatus::CaughtError,
            Some("Handler"),
            Some(json!({"a": 1, "err": {"Error": "Boom", "Cause": "bad"}}))
        )
    );
    assert_eq!(
        tested.inspection_data.unwrap().error_details,
        Some(json!({"catchIndex": 1}))
    );
    // an error without a cause: the error output says `null`, as in an execution
    let tested = agrees_with_an_execution(
        state,
        json!({}),
        Some(Err(StatesError::without_cause("Boom"))),
    );
    assert_eq!(
        tested.output,
        Some(json!({"err": {"Error": "Boom", "Cause": null}}))
    );
    // an uncaught error fails both alike
    let tested = agrees_with_an_execution(
        lambda_state(json!({"Catch": [{"ErrorEquals": ["Nope"], "Next": "Other"}]})),
        json!({}),
        Some(Err(StatesError::new("Boom", "bad"))),
    );
    assert_eq!(
        (tested.status, tested.error.as_deref()),
        (TestStateStatus::Failed, Some("Boom"))
    );
}

#[test]
fn test_state_and_an_execution_agree_on_settings_paths_and_result_path_failures() {
    // a Task's ResultPath failure goes to its catchers, with the prefix
    let tested = agrees_with_an_execution(
        lambda_state(json!({"ResultPath": "$.a.b",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H", "ResultPath": "$.err"}]})),
        json!({"a": 1}),
        Some(Ok(json!(2))),
    );
    assert_eq!(
        tested.output,
        Some(
            json!({"a": 1, "err": {"Error": "States.ResultPathMatchFailure",
            "Cause": "An error occurred while executing the state 'S' (entered at the event id #2). Unable to apply ReferencePath $.a.b to input {\"a\":1}"}})
        )
    );
    // a Task's TimeoutSecondsPath is resolved before the work
    let tested = agrees_with_an_execution(
        lambda_state(json!({"TimeoutSecondsPath": "$.t"})),
        json!({"t": "soon"}),
        Some(Ok(json!(2))),
    );
    assert_eq!(tested.error.as_deref(), Some("States.Runtime"));
    // a Wait state's delay is computed (not waited)
    let tested = agrees_with_an_execution(
        json!({"Type": "Wait", "SecondsPath": "$.s", "End": true}),
        json!({"s": -1}),
        None,
    );
    assert_eq!(
        tested.cause.as_deref(),
        Some("An error occurred while executing the state 'S' (entered at the event id #2). The SecondsPath parameter references a negative value: $.s == -1")
    );
    let tested = agrees_with_an_execution(
        json!({"Type": "Wait", "Seconds": 0, "OutputPath": "$.k", "Next": "N"}),
        json!({"k": 3}),
        None,
    );
    assert_eq!(tested.output, Some(json!(3)));
}

#[test]
fn test_state_and_an_execution_agree_on_a_parallel_given_its_branch_results() {
    let branch = |name: &str, r: Value| json!({"StartAt": name, "States": {name: {"Type": "Pass", "Result": r, "End": true}}});
    let tested = agrees_with_an_execution(
        json!({"Type": "Parallel", "Branches": [branch("B1", json!(1)), branch("B2", json!({"x": 2}))],
               "ResultSelector": {"second.$": "$[1].x"}, "ResultPath": "$.p", "Next": "N"}),
        json!({"in": true}),
        Some(Ok(json!([1, {"x": 2}]))),
    );
    assert_eq!(
        (tested.output, tested.next_state.as_deref()),
        (Some(json!({"in": true, "p": {"second": 2}})), Some("N"))
    );
}

#[test]
fn test_state_and_an_execution_agree_on_a_map_given_its_iteration_results() {
    let map = |inner: Value| {
        json!({"Type": "Map", "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "I", "States": {"I": inner}},
            "ResultSelector": {"n.$": "States.ArrayLength($)"}, "ResultPath": "$.r", "Next": "N",
            "Catch": [{"ErrorEquals": ["E"], "Next": "H", "ResultPath": "$.err"}]})
    };
    let tested = agrees_with_an_execution(
        map(json!({"Type": "Pass", "End": true})),
        json!({"items": [1, 2]}),
        Some(Ok(json!([1, 2]))),
    );
    assert_eq!(tested.output, Some(json!({"items": [1, 2], "r": {"n": 2}})));
    // an iteration's error, caught
    let tested = agrees_with_an_execution(
        map(json!({"Type": "Fail", "Error": "E", "Cause": "c"})),
        json!({"items": [1]}),
        Some(Err(StatesError::new("E", "c"))),
    );
    assert_eq!(
        (tested.status, tested.next_state.as_deref(), tested.output),
        (
            TestStateStatus::CaughtError,
            Some("H"),
            Some(json!({"items": [1], "err": {"Error": "E", "Cause": "c"}}))
        )
    );
}

#[test]
fn test_state_inspection_shows_every_step_of_a_pass() {
    let m = StateMachine::from_state(
        "P",
        &json!({"Type": "Pass", "InputPath": "$.in", "Parameters": {"v.$": "$.v"},
                "ResultPath": "$.out", "OutputPath": "$.out", "End": true}),
    )
    .unwrap();
    let r = ts(json!(null), "P", json!({"in": {"v": 1}}));
    let d = test_state(&m, &r, None).unwrap().inspection_data.unwrap();
    assert_eq!(
        d.to_json(),
        json!({"input": r#"{"in":{"v":1}}"#, "afterInputPath": r#"{"v":1}"#,
               "afterParameters": r#"{"v":1}"#, "result": r#"{"v":1}"#,
               "afterResultPath": r#"{"in":{"v":1},"out":{"v":1}}"#})
    );
    // ResultPath `$` and InputPath `$`: the input is the result
    let m = StateMachine::from_state(
        "P",
        &json!({"Type": "Pass", "ResultPath": "$", "End": true}),
    )
    .unwrap();
    let d = test_state(&m, &ts(json!(null), "P", json!([7])), None)
        .unwrap()
        .inspection_data
        .unwrap();
    assert_eq!(
        (d.after_input_path, d.result, d.after_result_path),
        (Some(json!([7])), Some(json!([7])), Some(json!([7])))
    );
    // with Result, InputPath and Parameters are shown, not used
    let m = StateMachine::from_state(
        "P",
        &json!({"Type": "Pass", "Parameters": {"a.$": "$.a"}, "Result": "r", "End": true}),
    )
    .unwrap();
    let d = test_state(&m, &ts(json!(null), "P", json!({"a": 1})), None)
        .unwrap()
        .inspection_data
        .unwrap();
    assert_eq!(
        (d.after_parameters, d.result),
        (Some(json!({"a": 1})), Some(json!("r")))
    );
}

// --------------------------------------------------------- TestState on an async runtime

#[tokio::test]
async fn test_state_async_awaits_an_executor_on_the_callers_runtime() {
    let m = StateMachine::from_state("Call", &lambda_state(json!({"ResultPath": "$.r"}))).unwrap();
    let executor = stepfn::task_fn(|request: TaskRequest<'_>| {
        let x = request.parameters["x"].clone();
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            Ok(json!({"slept": x}))
        }
    });
    let r = ts(json!(null), "Call", json!({"x": 1}));
    let tested = stepfn::testing::test_state_async(&m, &r, Some(&executor));
    // the future may move to another thread (tokio::spawn of an owning task)
    fn send<T: Send>(future: T) -> T {
        future
    }
    let res = send(tested).await.unwrap();
    assert_eq!(
        (res.status, res.output),
        (
            TestStateStatus::Succeeded,
            Some(json!({"x": 1, "r": {"slept": 1}}))
        )
    );
}

// ---------------------------------------------------------------------------- runs (engine)

fn run(definition: Value, options: RunOptions) -> Value {
    run_case(&machine(definition), options)
        .expect("run")
        .to_json()
}

#[test]
fn run_case_serves_mocks_per_invocation_across_retries() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": LAMBDA,
        "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 60, "MaxAttempts": 3}], "End": true}}});
    let mut options = RunOptions::new(json!({}));
    options.virtual_time = true;
    options.mocks = Some((
        one_case(
            json!({"0-1": {"Throw": {"Error": "Busy", "Cause": "x"}}, "2": {"Return": {"ok": 1}}}),
        ),
        "T".into(),
    ));
    assert_eq!(
        run(def, options),
        json!({"status": "SUCCEEDED", "output": {"ok": 1}})
    );
}

#[test]
fn run_case_applies_time_overrides_to_mocked_runs() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": LAMBDA,
        "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 60, "MaxAttempts": 3}], "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let mut options = RunOptions::new(json!({}));
    options.virtual_time = true;
    options.history = true;
    options.time = stepfn::TimeOverrides::new()
        .with_retry_interval("A", std::time::Duration::from_secs(1))
        .with_wait("W", std::time::Duration::from_secs(10));
    let busy =
        json!({"0-1": {"Throw": {"Error": "Busy", "Cause": "x"}}, "2": {"Return": {"ok": 1}}});
    options.mocks = Some((one_case(busy), "T".into()));
    let history = run_case(&machine(def), options)
        .expect("run")
        .history
        .unwrap();
    let took = history[history.len() - 1]
        .timestamp
        .duration_since(history[0].timestamp);
    assert_eq!(took.unwrap(), std::time::Duration::from_secs(12));
}

#[test]
fn an_outcome_serialises_as_stepfn_run_prints_it() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": LAMBDA, "Next": "F"},
        "F": {"Type": "Fail", "Error": "Oops", "Cause": "it broke"}}});
    let mut options = RunOptions::new(json!({}));
    options.history = true;
    options.mocks = Some((one_case(json!({"0": {"Return": {"ok": 1}}})), "T".into()));
    let failed = run_case(&machine(def), options).expect("run");
    assert_eq!(serde_json::to_value(&failed).unwrap(), failed.to_json());
    let succeeded = run_case(
        &machine(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}})),
        RunOptions::new(json!([1])),
    )
    .expect("run");
    assert_eq!(
        serde_json::to_string(&succeeded).unwrap(),
        r#"{"status":"SUCCEEDED","output":[1]}"#
    );
}

#[test]
fn run_case_missing_mock_fails_the_execution_uncaught() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": LAMBDA,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "Next": "B"},
        "B": {"Type": "Task", "Resource": LAMBDA, "End": true},
        "Caught": {"Type": "Succeed"}}});
    let mut options = RunOptions::new(json!({}));
    options.mocks = Some((one_case(json!({"0": {"Return": 1}})), "T".into()));
    let out = run(def, options);
    assert_eq!(out["status"], "FAILED");
    assert_eq!(out["error"], "States.Runtime");
    assert_eq!(
        out["cause"],
        format!("no mocked response or task command for state 'B' (resource '{LAMBDA}')")
    );
}

#[test]
fn run_case_answers_wait_for_task_token_with_the_mocked_return() {
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}}, "End": true}}});
    let mut options = RunOptions::new(json!({}));
    options.mocks = Some((
        one_case(json!({"0": {"Return": {"answer": 42}}})),
        "T".into(),
    ));
    assert_eq!(
        run(def, options),
        json!({"status": "SUCCEEDED", "output": {"answer": 42}})
    );
}

#[test]
fn run_case_counts_map_iterations_per_state() {
    let def = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": LAMBDA, "End": true}}},
        "End": true}}});
    let mut options = RunOptions::new(json!([1, 2, 3]));
    options.mocks = Some((
        one_case(json!({"0": {"Return": "a"}, "1-2": {"Return": "b"}})),
        "T".into(),
    ));
    assert_eq!(
        run(def, options),
        json!({"status": "SUCCEEDED", "output": ["a", "b", "b"]})
    );
}

#[test]
fn run_case_without_mock_or_command_fails_clearly() {
    let out = run(task("A", LAMBDA), RunOptions::new(json!({})));
    assert_eq!(out["error"], "States.Runtime");
    assert_eq!(
        out["cause"],
        format!("no mocked response or task command for state 'A' (resource '{LAMBDA}')")
    );
}

#[test]
fn run_case_sends_states_the_mocks_do_not_cover_to_the_fallback() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": LAMBDA, "Next": "B"},
        "B": {"Type": "Task", "Resource": LAMBDA, "End": true}}});
    let fallback = ScriptedExecutor::new();
    fallback.state_returns("B", json!("from the fallback"));
    let mut options = RunOptions::new(json!({}));
    options.mocks = Some((one_case(json!({"0": {"Return": "mocked"}})), "T".into()));
    options.fallback = Some(std::sync::Arc::new(fallback));
    assert_eq!(
        run(def, options),
        json!({"status": "SUCCEEDED", "output": "from the fallback"})
    );
}

// ---------------------------------------------------------------------------- CLI

#[cfg(feature = "cli")]
mod cli {
    use serde_json::{json, Value};
    use std::process::Command;

    fn temp(name: &str, value: &Value) -> crate::common::TempFile {
        crate::common::TempFile::new(name, &value.to_string())
    }

    fn stepfn(args: &[&str]) -> (i32, Value, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_stepfn"))
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        (
            out.status.code().unwrap_or(-1),
            serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[test]
    fn run_prints_one_json_object_and_exits_by_status() {
        let def = temp(
            "pass.json",
            &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"x.$": "no"}, "ResultPath": "$.r", "End": true}}}),
        );
        let (code, out, _) = stepfn(&["run", def.to_str().unwrap(), "--input", r#"{"a":1}"#]);
        assert_eq!(
            (code, out),
            (
                0,
                json!({"status": "SUCCEEDED", "output": {"a": 1, "r": {"x.$": "no"}}})
            )
        );
        let fail = temp(
            "fail.json",
            &json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}),
        );
        let (code, out, _) = stepfn(&["run", fail.to_str().unwrap()]);
        assert_eq!(
            (code, out),
            (1, json!({"status": "FAILED", "error": "E", "cause": "C"}))
        );
    }

    #[test]
    fn run_rejects_invalid_definitions_and_bad_usage_with_exit_2() {
        let bad = temp("bad.json", &json!({"StartAt": "X", "States": {}}));
        let (code, out, err) = stepfn(&["run", bad.to_str().unwrap()]);
        assert_eq!((code, out), (2, Value::Null));
        assert!(
            err.contains("MISSING_TRANSITION_TARGET") || err.contains("invalid definition"),
            "{err}"
        );
        let def = temp(
            "ok.json",
            &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        );
        let (code, _, _) = stepfn(&["run", def.to_str().unwrap(), "--input", "{"]);
        assert_eq!(code, 2);
        let (code, _, _) = stepfn(&["run", def.to_str().unwrap(), "--mock-config", "x.json"]);
        assert_eq!(code, 2);
    }

    #[test]
    fn run_and_test_state_name_themselves_in_usage_errors() {
        let def = temp(
            "usage.json",
            &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        );
        let def = def.to_str().unwrap();
        for command in ["run", "test-state"] {
            let stderr = |args: &[&str]| {
                let (code, _, err) = stepfn(&[&[command], args].concat());
                assert_eq!(code, 2, "{args:?}: {err}");
                err
            };
            let prefix = format!("stepfn {command}: ");
            let starts = |err: String, rest: &str| {
                assert!(err.starts_with(&format!("{prefix}{rest}")), "{err}");
            };
            starts(
                stderr(&["no/such/def.json"]),
                "cannot read the definition no/such/def.json: ",
            );
            starts(
                stderr(&[def, "--input", "{"]),
                "--input is not valid JSON: EOF while parsing an object",
            );
            starts(
                stderr(&[def, "--input-file", "no/such/in.json"]),
                "cannot read the input file no/such/in.json: ",
            );
        }
    }

    #[test]
    fn invalid_definitions_list_their_diagnostics_on_stderr() {
        let bad = temp(
            "dangling.json",
            &json!({"StartAt": "X", "States": {"P": {"Type": "Pass", "End": true}}}),
        );
        let bad = bad.to_str().unwrap();
        let diagnostic = format!(
            "  {bad}:1:2: ERROR MISSING_TRANSITION_TARGET at /StartAt: Missing 'Next' target: X\n"
        );
        let (code, _, err) = stepfn(&["run", bad]);
        assert_eq!(
            (code, err),
            (
                2,
                format!("stepfn run: invalid definition {bad}\n{diagnostic}")
            )
        );
        let (code, _, err) = stepfn(&["test-state", bad]);
        assert_eq!(
            (code, err),
            (
                2,
                format!("stepfn test-state: invalid definition {bad}\n{diagnostic}")
            )
        );
    }

    #[test]
    fn run_with_mock_config_execution_and_history() {
        let def = temp(
            "task.json",
            &json!({"StartAt": "A", "States": {"A": {"Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
            "ResultSelector": {"name.$": "$$.Execution.Name"}, "End": true}}}),
        );
        let mocks = temp(
            "mocks.json",
            &json!({"StateMachines": {"conformance": {"TestCases": {"conformance": {"A": "R"}}}},
            "MockedResponses": {"R": {"0": {"Return": {"Payload": 1}}}}}),
        );
        let exec = temp(
            "exec.json",
            &json!({"stateMachineName": "M", "executionName": "run-1"}),
        );
        let (code, out, err) = stepfn(&[
            "run",
            def.to_str().unwrap(),
            "--mock-config",
            mocks.to_str().unwrap(),
            "--test-case",
            "conformance",
            "--execution",
            exec.to_str().unwrap(),
            "--virtual-time",
            "--history",
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out["output"], json!({"name": "run-1"}));
        let types: Vec<&str> = out["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["type"].as_str())
            .collect();
        assert_eq!(types.first(), Some(&"ExecutionStarted"));
        assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
    }

    #[test]
    fn test_state_command_prints_the_test_state_answer() {
        let state = temp(
            "state.json",
            &json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "ResultPath": "$.r", "Next": "N"}),
        );
        let (code, out, err) = stepfn(&[
            "test-state",
            state.to_str().unwrap(),
            "--input",
            r#"{"a":1}"#,
            "--mock-result",
            r#"{"Payload":2}"#,
            "--inspection-level",
            "DEBUG",
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out["status"], "SUCCEEDED");
        assert_eq!(out["nextState"], "N");
        // payloads as values, as `stepfn run` prints them
        assert_eq!(out["output"], json!({"a": 1, "r": {"Payload": 2}}));
        assert_eq!(out["inspectionData"]["result"], json!({"Payload": 2}));
        // or as JSON text, exactly as AWS answers
        let (_, aws, _) = stepfn(&[
            "test-state",
            state.to_str().unwrap(),
            "--input",
            r#"{"a":1}"#,
            "--mock-result",
            r#"{"Payload":2}"#,
            "--aws-shape",
        ]);
        assert_eq!(aws["output"], r#"{"a":1,"r":{"Payload":2}}"#);
        let (code, out, _) = stepfn(&[
            "test-state",
            state.to_str().unwrap(),
            "--mock-error",
            "E",
            "--mock-cause",
            "c",
        ]);
        assert_eq!(
            (code, out),
            (1, json!({"error": "E", "cause": "c", "status": "FAILED"}))
        );
    }
}

#[test]
fn test_state_builds_within_the_default_limits() {
    // 100 copies of a 250 KiB input: stopped past the 1 MiB build cap, as
    // in an execution, instead of building 25 MB
    let mut parameters = serde_json::Map::new();
    for i in 0..100 {
        parameters.insert(format!("copy{i}.$"), json!("$"));
    }
    let m = StateMachine::from_state(
        "Fan",
        &json!({"Type": "Pass", "Parameters": parameters, "End": true}),
    )
    .unwrap();
    let r = ts(json!(null), "Fan", json!({"s": "x".repeat(250 * 1024)}));
    let res = test_state(&m, &r, None).unwrap();
    assert_eq!(res.status, TestStateStatus::Failed);
    assert_eq!(res.error.as_deref(), Some("States.DataLimitExceeded"));
    assert_eq!(
        res.cause.as_deref(),
        Some("The state/task 'Fan' returned a result with a size exceeding the maximum number of bytes service limit.")
    );
}

// ---------------------------------------------------------------------------- TestState, JSONata

#[test]
fn test_state_jsonata_task_reports_arguments_result_and_variables() {
    let m = StateMachine::from_state(
        "Call",
        &lambda_state(json!({
            "QueryLanguage": "JSONata",
            "Arguments": {"v": "{% $states.input.v %}"},
            "Assign": {"r": "{% $states.result.Payload %}"},
            "Output": "{% $states.result.Payload + $x %}"
        })),
    )
    .unwrap();
    let mut r = ts(json!(null), "Call", json!({"v": 1}));
    r.variables.insert("x".into(), json!(1));
    r.mock = Some(TestStateMock::Result(json!({"Payload": 7})));
    let res = test_state(&m, &r, None).unwrap();
    assert_eq!(res.status, TestStateStatus::Succeeded);
    assert_eq!(res.output, Some(json!(8)));
    assert_eq!(
        res.inspection_data.unwrap().to_json(),
        json!({"input": "{\"v\":1}", "afterArguments": "{\"v\":1}", "result": "{\"Payload\":7}", "variables": "{\"x\":1,\"r\":7}"})
    );
}

#[test]
fn test_state_jsonata_catcher_and_query_evaluation_errors() {
    let m = StateMachine::from_state(
        "Call",
        &lambda_state(json!({
            "QueryLanguage": "JSONata",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handler", "Output": {"e": "{% $states.errorOutput.Error %}", "in": "{% $states.input %}"}}]
        })),
    )
    .unwrap();
    let mut r = ts(json!(null), "Call", json!({"a": 1}));
    r.mock = Some(TestStateMock::Error(StatesError::new("Busy", "later")));
    let res = test_state(&m, &r, None).unwrap();
    assert_eq!(res.status, TestStateStatus::CaughtError);
    assert_eq!(res.output, Some(json!({"e": "Busy", "in": {"a": 1}})));
    let m = StateMachine::from_state(
        "P",
        &json!({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $missing %}", "End": true}),
    )
    .unwrap();
    let res = test_state(&m, &ts(json!(null), "P", json!({})), None).unwrap();
    assert_eq!(
        (res.status, res.error.as_deref(), res.cause.as_deref()),
        (
            TestStateStatus::Failed,
            Some("States.QueryEvaluationError"),
            Some("An error occurred while executing the state 'P' (entered at the event id #2). The JSONata expression '$missing' specified for the field 'Output' returned nothing (undefined).")
        )
    );
}

#[test]
fn test_state_jsonata_choice_reads_the_context() {
    let m = StateMachine::from_state(
        "C",
        &json!({"Type": "Choice", "QueryLanguage": "JSONata", "Choices": [
            {"Condition": "{% $states.context.Execution.Name = 'run-1' %}", "Next": "Yes", "Output": "{% $states.input.a %}"}
        ], "Default": "No"}),
    )
    .unwrap();
    let mut r = ts(json!(null), "C", json!({"a": 5}));
    r.context = json!({"Execution": {"Name": "run-1"}});
    let res = test_state(&m, &r, None).unwrap();
    assert_eq!(
        (res.output, res.next_state.as_deref()),
        (Some(json!(5)), Some("Yes"))
    );
    r.context = json!({"Execution": {"Name": "other"}});
    let res = test_state(&m, &r, None).unwrap();
    assert_eq!(
        (res.output, res.next_state.as_deref()),
        (Some(json!({"a": 5})), Some("No"))
    );
}

#[test]
fn test_state_and_an_execution_agree_on_jsonata_states() {
    let jsonata = |state: Value| {
        let mut state = state;
        state["QueryLanguage"] = json!("JSONata");
        state
    };
    let task = jsonata(lambda_state(json!({
        "Arguments": {"a": "{% $states.input.a %}"},
        "Output": {"r": "{% $states.result.Payload %}", "in": "{% $states.input %}"},
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handler", "Output": "{% $states.errorOutput.Error %}"}]
    })));
    let tested = agrees_with_an_execution(
        task.clone(),
        json!({"a": 1}),
        Some(Ok(json!({"Payload": 7}))),
    );
    assert_eq!(tested.output, Some(json!({"r": 7, "in": {"a": 1}})));
    let caught = agrees_with_an_execution(
        task,
        json!({"a": 1}),
        Some(Err(StatesError::new("Boom", "x"))),
    );
    assert_eq!(
        (caught.status, caught.output),
        (TestStateStatus::CaughtError, Some(json!("Boom")))
    );
    let choice = jsonata(json!({"Type": "Choice", "Choices": [
        {"Condition": "{% $states.input.n > 1 %}", "Next": "Big", "Output": "{% $states.input.n %}"}],
        "Default": "Small"}));
    let big = agrees_with_an_execution(choice, json!({"n": 2}), None);
    assert_eq!(
        (big.next_state.as_deref(), big.output),
        (Some("Big"), Some(json!(2)))
    );
    let undefined = agrees_with_an_execution(
        jsonata(
            json!({"Type": "Pass", "Output": {"x": "{% $states.input.missing %}"}, "End": true}),
        ),
        json!({}),
        None,
    );
    assert_eq!(
        undefined.cause.as_deref(),
        Some("An error occurred while executing the state 'S' (entered at the event id #2). The JSONata expression '$states.input.missing' specified for the field 'Output/x' returned nothing (undefined).")
    );
}

// ---------------------------------------------------------------------------- Router, lambda_fn

const INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// A Task state named `name` calling `resource` with `parameters`, its
/// result under `$.<name>`, then `next`.
fn task_state(
    name: &str,
    resource: &str,
    parameters: Value,
    next: Option<&str>,
) -> (String, Value) {
    let mut state = json!({"Type": "Task", "Resource": resource, "Parameters": parameters, "ResultPath": format!("$.{name}")});
    match next {
        Some(next) => state["Next"] = json!(next),
        None => state["End"] = json!(true),
    }
    (name.to_owned(), state)
}

fn chain(states: Vec<(String, Value)>) -> Value {
    let start = states[0].0.clone();
    let states: serde_json::Map<String, Value> = states.into_iter().collect();
    json!({"StartAt": start, "States": states})
}

/// Runs `definition` with `executor` on a virtual clock from a fixed
/// instant, as execution `run-1`.
fn routed(definition: Value, executor: &dyn TaskExecutor) -> stepfn::Outcome {
    let mut identity = stepfn::ExecutionIdentity::new();
    identity.execution_arn = Some("arn:aws:states:us-east-1:123456789012:execution:M:run-1".into());
    let clock = stepfn::VirtualClock::starting_at(
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_353_752),
    );
    let sm = machine(definition);
    let execution = sm.execution().with_clock(clock).with_identity(identity);
    futures::executor::block_on(execution.run(executor, json!({})))
}

fn tag(
    t: &'static str,
) -> impl Fn(TaskRequest<'_>) -> std::future::Ready<Result<Value, StatesError>> {
    move |_| std::future::ready(Ok(json!(t)))
}

#[test]
fn a_router_takes_the_state_then_the_function_then_the_resource_then_the_fallback() {
    let def = chain(vec![
        task_state(
            "ByState",
            INVOKE,
            json!({"FunctionName": "f"}),
            Some("ByFunction"),
        ),
        task_state(
            "ByFunction",
            INVOKE,
            json!({"FunctionName": "arn:aws:lambda:us-east-1:1:function:f:live"}),
            Some("ByArn"),
        ),
        task_state("ByArn", LAMBDA, json!({}), Some("ByResource")),
        task_state(
            "ByResource",
            "arn:aws:states:::sqs:sendMessage",
            json!({}),
            Some("ByFallback"),
        ),
        task_state(
            "ByFallback",
            "arn:aws:states:::sns:publish",
            json!({}),
            None,
        ),
    ]);
    let router = stepfn::Router::new()
        .state("ByState", tag("state"))
        .lambda("f", |_| async { Ok(json!("function")) })
        .resource("arn:aws:states:::sqs:sendMessage", tag("resource"))
        .resource(INVOKE, tag("never: the function comes first"))
        .fallback(stepfn::sync_task_fn(|_| Ok(json!("fallback"))));
    let out = routed(def, &router).output.unwrap();
    assert_eq!(out["ByState"], "state");
    assert_eq!(out["ByFunction"]["Payload"], "function");
    assert_eq!(out["ByArn"], "function");
    assert_eq!(out["ByResource"], "resource");
    assert_eq!(out["ByFallback"], "fallback");
}

#[test]
fn a_router_names_every_form_of_function_name_by_the_bare_name() {
    let router = stepfn::Router::new().lambda("price", |_| async { Ok(json!(1)) });
    for name in [
        "price",
        "price:live",
        "123456789012:function:price",
        "arn:aws:lambda:us-east-1:123456789012:function:price:7",
    ] {
        let def = chain(vec![task_state(
            "P",
            INVOKE,
            json!({"FunctionName": name}),
            None,
        )]);
        assert_eq!(
            routed(def, &router).output.unwrap()["P"]["Payload"],
            1,
            "{name}"
        );
    }
}

/// stepfn's choice, as for a missing mock (see the crate docs'
/// Compatibility, "Test conveniences").
#[test]
fn a_task_no_route_takes_fails_uncaught_with_states_runtime() {
    let mut def = chain(vec![task_state(
        "Ship",
        INVOKE,
        json!({"FunctionName": "ship"}),
        None,
    )]);
    def["States"]["Ship"]["Catch"] = json!([{"ErrorEquals": ["States.ALL"], "Next": "Ship"}]);
    let outcome = routed(def, &stepfn::Router::new().state("Other", tag("x")));
    assert_eq!(
        common::error_of(&outcome),
        (Some("States.Runtime"), Some("router: no handler for state 'Ship' (resource 'arn:aws:states:::lambda:invoke', function 'ship')"))
    );
    let def = chain(vec![task_state(
        "Queue",
        "arn:aws:states:::sqs:sendMessage",
        json!({}),
        None,
    )]);
    assert_eq!(
        routed(def, &stepfn::Router::new()).cause.as_deref(),
        Some("router: no handler for state 'Queue' (resource 'arn:aws:states:::sqs:sendMessage')")
    );
}

/// The answer of `lambda:invoke` has the field set of AWS's recordings
/// (../shared/conformance/cases/services.jsonl, the `lambda:invoke` cases:
/// `ExecutedVersion`, `Payload`, `SdkHttpMetadata` with `AllHttpHeaders`,
/// `HttpHeaders` and `HttpStatusCode`, `SdkResponseMetadata`, `StatusCode`);
/// the volatile header values (request id, date, trace id) are stepfn's,
/// derived from the request.
/// The volatile values are a deliberate divergence (see the crate docs'
/// Compatibility, "Test conveniences").
#[test]
fn lambda_invoke_answers_as_aws_integration_does() {
    let def = chain(vec![task_state(
        "Echo",
        INVOKE,
        json!({"FunctionName": "echo", "Payload": {"a": 1}}),
        None,
    )]);
    let echo = stepfn::lambda_fn(|event: Value| async move { Ok(event) });
    let answer = routed(def, &echo).output.unwrap()["Echo"].clone();
    let id = answer["SdkResponseMetadata"]["RequestId"]
        .as_str()
        .unwrap()
        .to_owned();
    let trace = answer["SdkHttpMetadata"]["HttpHeaders"]["X-Amzn-Trace-Id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        answer,
        json!({
            "ExecutedVersion": "$LATEST",
            "Payload": {"a": 1},
            "SdkHttpMetadata": {
                "AllHttpHeaders": {
                    "X-Amz-Executed-Version": ["$LATEST"], "x-amzn-Remapped-Content-Length": ["0"],
                    "Connection": ["keep-alive"], "x-amzn-RequestId": [id], "Content-Length": ["7"],
                    "Date": ["Fri, 04 Dec 2026 03:09:12 GMT"], "X-Amzn-Trace-Id": [trace], "Content-Type": ["application/json"]
                },
                "HttpHeaders": {
                    "Connection": "keep-alive", "Content-Length": "7", "Content-Type": "application/json",
                    "Date": "Fri, 04 Dec 2026 03:09:12 GMT", "X-Amz-Executed-Version": "$LATEST",
                    "x-amzn-Remapped-Content-Length": "0", "x-amzn-RequestId": id, "X-Amzn-Trace-Id": trace
                },
                "HttpStatusCode": 200
            },
            "SdkResponseMetadata": {"RequestId": id},
            "StatusCode": 200
        })
    );
    // the same request answers the same
    assert_eq!(id, "d934e859-3674-4e3c-91ba-443b00fb86ab");
}

/// A `null` event without `Payload`: stepfn's choice (see the crate docs'
/// Compatibility, "Test conveniences").
#[test]
fn lambda_fn_passes_the_payload_or_the_parameters() {
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    let record = stepfn::lambda_fn(move |event: Value| {
        seen.lock().unwrap().push(event);
        async { Ok(json!("done")) }
    });
    let def = chain(vec![
        task_state(
            "WithPayload",
            INVOKE,
            json!({"FunctionName": "f", "Payload": [1], "Qualifier": "x"}),
            Some("NoPayload"),
        ),
        task_state(
            "NoPayload",
            INVOKE,
            json!({"FunctionName": "f"}),
            Some("Legacy"),
        ),
        task_state("Legacy", LAMBDA, json!({"k": 2}), None),
    ]);
    let out = routed(def, &record).output.unwrap();
    assert_eq!(
        *events.lock().unwrap(),
        [json!([1]), Value::Null, json!({"k": 2})]
    );
    assert_eq!(out["Legacy"], "done");
}

#[test]
fn lambda_fn_errors_fail_the_task_by_their_name() {
    let def = chain(vec![task_state(
        "Boom",
        INVOKE,
        json!({"FunctionName": "f"}),
        None,
    )]);
    let boom = stepfn::lambda_fn(|_| async { Err(StatesError::new("ValueError", "bad value")) });
    assert_eq!(
        common::error_of(&routed(def, &boom)),
        (Some("ValueError"), Some("bad value"))
    );
}

#[test]
fn lambda_invoke_wait_for_task_token_is_answered_with_the_result() {
    let def = chain(vec![task_state(
        "Ask",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        json!({"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}}),
        None,
    )]);
    let answer = stepfn::lambda_fn(|event: Value| async move {
        Ok(json!({"had_token": event["token"].is_string()}))
    });
    let outcome = routed(def, &answer);
    assert_eq!(outcome.output.unwrap()["Ask"], json!({"had_token": true}));
}
