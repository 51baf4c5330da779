//! Taking apart payloads that are too deep: the depth limit itself is
//! measured by [`crate::data_flow::scan`].

use serde_json::Value;

/// Drops `value` without recursion (serde_json's drop recurses per level).
pub(crate) fn dismantle(value: Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}
