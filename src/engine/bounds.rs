//! Bounds on the nesting depth of payloads: checked iteratively before
//! anything recursive (serialization, clone, drop) touches them.

use serde_json::Value;

/// Deepest nesting of arrays/objects a payload may have (as Jackson's
/// default, which AWS runs on): 1000.
pub(crate) const MAX_DEPTH: usize = 1000;

/// True when `value` nests arrays/objects more than [`MAX_DEPTH`] levels.
pub(crate) fn too_deep(value: &Value) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(a) => Box::new(a.iter()),
            Value::Object(m) => Box::new(m.values()),
            _ => continue,
        };
        if depth > MAX_DEPTH {
            return true;
        }
        stack.extend(
            children
                .filter(|c| c.is_array() || c.is_object())
                .map(|c| (c, depth + 1)),
        );
    }
    false
}

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
