//! Payloads nested past the depth limit (1000) fail with
//! States.DataLimitExceeded instead of overflowing the stack.

use serde_json::json;
use stepfn::{sync_task_fn, StateMachine, Status};

use crate::common::{deep, small_stack};

#[test]
fn deep_execution_input_is_rejected() {
    small_stack(|| {
        let sm = StateMachine::from_value(
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        )
        .unwrap();
        let exec = sync_task_fn(|_| Ok(json!(null)));
        let out = futures::executor::block_on(sm.execute(&exec, deep(100_000)));
        assert_eq!(out.status, Status::Failed);
        assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
    });
}

#[test]
fn deep_task_result_is_rejected() {
    small_stack(|| {
        let sm = StateMachine::from_value(json!({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": true}}}))
        .unwrap();
        let exec = sync_task_fn(|_| Ok(deep(100_000)));
        let out = futures::executor::block_on(sm.execute(&exec, json!({})));
        assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
    });
}
