//! `States.Array`, `States.ArrayPartition`, `States.ArrayContains`,
//! `States.ArrayRange`, `States.ArrayGetItem`, `States.ArrayLength`,
//! `States.ArrayUnique`.

use super::{array_arg, deep_equal, integer_arg, Args};
use serde_json::Value;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// The most items `States.ArrayRange` may produce.
pub const MAX_RANGE_ITEMS: i64 = 1000;

/// `States.Array(v, ...)`: an array of its arguments, in order.
///
/// ```text
/// input:  {"Id": 123456, "name": "a"}
/// "BuildId.$": "States.Array($.Id, $.name, 'x')"
/// output: {"BuildId": [123456, "a", "x"]}
/// ```
pub fn array(args: &mut Args<'_>) -> Result<Value, String> {
    Ok(Value::Array(
        args.iter_mut()
            .map(|a| std::mem::take(a).into_owned())
            .collect(),
    ))
}

/// `States.ArrayPartition(array, size)`: the array cut into chunks of
/// `size` items (a positive integer; other numbers are rounded); the last
/// chunk may be shorter.
///
/// ```text
/// input:  {"items": [1, 2, 3, 4, 5]}
/// "chunks.$": "States.ArrayPartition($.items, 2)"
/// output: {"chunks": [[1, 2], [3, 4], [5]]}
/// ```
pub fn partition(args: &mut Args<'_>) -> Result<Value, String> {
    let items = array_arg(args, 0)?;
    let size = integer_arg(args, 1)?;
    if size <= 0 {
        return Err(format!(
            "the chunk size must be a positive integer, got {size}"
        ));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    Ok(Value::Array(
        crate::functions::partition(items, size)
            .into_iter()
            .map(Value::Array)
            .collect(),
    ))
}

/// `States.ArrayContains(array, value)`: whether the array holds the value,
/// compared deeply (objects and arrays structurally, numbers by value).
///
/// ```text
/// input:  {"list": [1, {"a": [2]}], "look": {"a": [2]}}
/// "found.$": "States.ArrayContains($.list, $.look)"
/// output: {"found": true}
/// ```
pub fn contains(args: &mut Args<'_>) -> Result<Value, String> {
    let items = array_arg(args, 0)?;
    let needle = args.get(1).ok_or("the second argument is missing")?;
    Ok(Value::Bool(
        items.iter().any(|item| deep_equal(item, needle)),
    ))
}

/// `States.ArrayRange(start, end, step)`: integers from `start` towards
/// `end` by `step` (not zero), including `end` when a step lands on it;
/// at most 1000 items. Non-integer arguments are rounded.
///
/// ```text
/// "range.$": "States.ArrayRange(1, 9, 2)"
/// output: {"range": [1, 3, 5, 7, 9]}
/// "range.$": "States.ArrayRange(0, 10, 3)"
/// output: {"range": [0, 3, 6, 9]}
/// ```
pub fn range(args: &mut Args<'_>) -> Result<Value, String> {
    let start = integer_arg(args, 0)?;
    let end = integer_arg(args, 1)?;
    let step = integer_arg(args, 2)?;
    if step == 0 {
        return Err("the step must not be 0".to_owned());
    }
    let count = crate::functions::range_len(start, end, step);
    if count > MAX_RANGE_ITEMS as u128 {
        return Err(format!(
            "the range would have {count} items, more than the limit of {MAX_RANGE_ITEMS}"
        ));
    }
    Ok(Value::Array(
        crate::functions::range(start, end, step)
            .map(Value::from)
            .collect(),
    ))
}

/// `States.ArrayGetItem(array, index)`: the item at a zero-based index (a
/// non-integer index is rounded).
///
/// ```text
/// input:  {"list": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5}
/// "item.$": "States.ArrayGetItem($.list, $.index)"
/// output: {"item": 6}
/// ```
pub fn get_item(args: &mut Args<'_>) -> Result<Value, String> {
    let items = array_arg(args, 0)?;
    let index = integer_arg(args, 1)?;
    usize::try_from(index)
        .ok()
        .and_then(|i| items.get(i))
        .cloned()
        .ok_or_else(|| {
            format!(
                "index {index} is out of bounds for an array of length {}",
                items.len()
            )
        })
}

/// `States.ArrayLength(array)`: the number of items.
///
/// ```text
/// input:  {"list": [1, 2, 3, 4, 5, 6, 7, 8, 9]}
/// "length.$": "States.ArrayLength($.list)"
/// output: {"length": 9}
/// ```
pub fn length(args: &mut Args<'_>) -> Result<Value, String> {
    Ok(Value::from(array_arg(args, 0)?.len()))
}

/// `States.ArrayUnique(array)`: the array without duplicates (compared
/// deeply), keeping the first occurrence of each value.
///
/// ```text
/// input:  {"list": [1, 2, 3, 3, 3, 3, 3, 3, 4]}
/// "unique.$": "States.ArrayUnique($.list)"
/// output: {"unique": [1, 2, 3, 4]}
/// ```
pub fn unique(args: &mut Args<'_>) -> Result<Value, String> {
    let items = array_arg(args, 0)?;
    Ok(Value::Array(unique_items(items, &mut 0)))
}

/// The items without duplicates, first occurrences kept, in O(n) expected
/// time: items are bucketed by a hash that agrees with [`deep_equal`]
/// (numbers by value, object members in any order), and compared deeply
/// only within a bucket. `comparisons` counts the deep comparisons made.
pub(crate) fn unique_items(items: &[Value], comparisons: &mut usize) -> Vec<Value> {
    let mut kept: Vec<Value> = Vec::with_capacity(items.len());
    let mut buckets: HashMap<u64, Vec<usize>> = HashMap::with_capacity(items.len());
    for item in items {
        let bucket = buckets.entry(value_hash(item)).or_default();
        let seen = bucket.iter().any(|&k| {
            *comparisons += 1;
            deep_equal(&kept[k], item)
        });
        if !seen {
            bucket.push(kept.len());
            kept.push(item.clone());
        }
    }
    kept
}

/// A hash of `value` under which values [`deep_equal`] calls equal hash
/// alike: a number hashes by its value as a double (`1` and `1.0` alike),
/// an object by its members in any order.
fn value_hash(value: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    hash_into(value, &mut hasher);
    hasher.finish()
}

fn hash_into(value: &Value, hasher: &mut DefaultHasher) {
    match value {
        Value::Null => hasher.write_u8(0),
        Value::Bool(b) => {
            hasher.write_u8(1);
            hasher.write_u8(u8::from(*b));
        }
        Value::Number(n) => {
            hasher.write_u8(2);
            // -0.0 == 0.0
            let f = n.as_f64().unwrap_or(0.0);
            hasher.write_u64(if f == 0.0 { 0 } else { f.to_bits() });
        }
        Value::String(s) => {
            hasher.write_u8(3);
            s.hash(hasher);
        }
        Value::Array(items) => {
            hasher.write_u8(4);
            hasher.write_usize(items.len());
            for item in items {
                hash_into(item, hasher);
            }
        }
        Value::Object(members) => {
            hasher.write_u8(5);
            hasher.write_usize(members.len());
            // members in any order: combine their hashes commutatively
            let mut sum = 0u64;
            for (key, member) in members {
                let mut h = DefaultHasher::new();
                key.hash(&mut h);
                hash_into(member, &mut h);
                sum = sum.wrapping_add(h.finish());
            }
            hasher.write_u64(sum);
        }
    }
}

#[cfg(test)]
mod unique_work {
    use super::unique_items;
    use serde_json::{json, Value};

    /// (kept items, deep comparisons made)
    fn run(items: &[Value]) -> (Vec<Value>, usize) {
        let mut comparisons = 0;
        (unique_items(items, &mut comparisons), comparisons)
    }

    #[test]
    fn distinct_items_are_almost_never_compared() {
        let items: Vec<Value> = (0..40_000)
            .map(|i| json!({"id": i, "tags": [i % 7]}))
            .collect();
        let (kept, comparisons) = run(&items);
        assert_eq!(kept.len(), 40_000);
        // only hash collisions are compared (a quadratic scan would make ~8e8)
        assert!(comparisons < 100, "{comparisons} comparisons");
    }

    #[test]
    fn each_duplicate_costs_one_comparison() {
        let items: Vec<Value> = (0..40_000).map(|i| json!(i % 100)).collect();
        let (kept, comparisons) = run(&items);
        assert_eq!(kept, (0..100).map(|i| json!(i)).collect::<Vec<_>>());
        assert_eq!(comparisons, 40_000 - 100);
    }

    #[test]
    fn equal_values_hash_alike() {
        let items = [
            json!(1),
            json!(1.0),
            json!(-0.0),
            json!(0),
            json!({"a": 1, "b": [2]}),
            json!({"b": [2.0], "a": 1}),
            json!([1, 2]),
            json!([2, 1]),
            json!("1"),
        ];
        let (kept, _) = run(&items);
        assert_eq!(
            kept,
            [
                json!(1),
                json!(-0.0),
                json!({"a": 1, "b": [2]}),
                json!([1, 2]),
                json!([2, 1]),
                json!("1")
            ]
        );
    }
}
