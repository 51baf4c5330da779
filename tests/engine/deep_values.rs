//! Payloads nested past the depth limit (1000) fail with
//! States.DataLimitExceeded instead of overflowing the stack.

use serde_json::{json, Value};
use stepfn::{sync_task_fn, StateMachine, Status};

fn deep(levels: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..levels {
        v = Value::Array(vec![v]);
    }
    v
}

/// Runs `f` on a thread with a small stack: recursion over a deep value
/// would overflow it.
fn small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

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
