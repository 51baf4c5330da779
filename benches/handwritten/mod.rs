//! The hand-written floor: each benchmark workload coded by hand as
//! straight-line Rust over `serde_json::Value` (the README's "hand-written
//! column" of `shared/bench`).
//!
//! Every path is looked up, every template object built and every intrinsic
//! really computed; ResultPath writes in place on the owned input, and a
//! value is moved rather than cloned wherever ASL semantics make its source
//! unreachable from the output. There is no dispatch, history, context
//! object, size check or concurrency.
//!
//! The setup (untimed) takes from the definition what changes from state to
//! state: the literals of the Parameters templates and the number of
//! states. Paths, keys and intrinsic calls, the same in every state of a
//! workload, are written out as a person would write them.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// One execution of a workload: input in, output out.
pub type Program = Box<dyn Fn(Value) -> Value>;

/// The hand-written program of the workload `name`, set up from its
/// definition; `None` for a workload without one.
pub fn program(name: &str, definition: &Value) -> Option<Program> {
    let literals = |key: &str| -> Vec<Value> {
        chain(definition)
            .iter()
            .map(|state| state["Parameters"][key].clone())
            .collect()
    };
    Some(match name {
        "pass_chain_1000" => pass_chain(literals("step")),
        "choice_loop_10000" => {
            let rule = &definition["States"]["Check"]["Choices"][0];
            choice_loop(rule["NumericLessThan"].as_i64()?)
        }
        "map_10000" => map(),
        "parallel_fanout" => {
            let parallel = &definition["States"][definition["StartAt"].as_str()?];
            let branches = parallel["Branches"].as_array()?;
            parallel_fanout(
                branches
                    .iter()
                    .map(|branch| {
                        chain(branch)
                            .iter()
                            .map(|s| {
                                (
                                    s["Parameters"]["branch"].clone(),
                                    s["Parameters"]["step"].clone(),
                                )
                            })
                            .collect()
                    })
                    .collect(),
            )
        }
        "task_chain_1000" => task_chain(chain(definition).len()),
        "intrinsics_mix" => intrinsics_mix(chain(definition).len() / 2),
        "big_payload" => big_payload(literals("stage")),
        _ => return None,
    })
}

/// The bench's Task handler contract: the task input with `handled: true`
/// and `count: input.count + 1`.
pub fn task(mut input: Value) -> Value {
    let count = input["count"].as_i64().unwrap_or(0);
    if let Value::Object(o) = &mut input {
        o.insert("handled".into(), Value::Bool(true));
        o.insert("count".into(), Value::from(count + 1));
    }
    input
}

/// The states of a chain of `Next`s from `StartAt`, in execution order.
fn chain(machine: &Value) -> Vec<&Value> {
    let mut states = Vec::new();
    let mut name = machine["StartAt"].as_str();
    while let Some(current) = name {
        let state = &machine["States"][current];
        states.push(state);
        name = state["Next"].as_str();
    }
    states
}

/// A JSON object of these fields, in this order.
fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    let mut map = Map::with_capacity(N);
    for (key, value) in fields {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// 1000 x Parameters {user: $.user.name, tier: $.user.tier, prev:
/// $.last.step, step: <literal>}, ResultPath $.last.
fn pass_chain(steps: Vec<Value>) -> Program {
    Box::new(move |mut input| {
        for step in &steps {
            let last = object([
                ("user", input["user"]["name"].clone()),
                ("tier", input["user"]["tier"].clone()),
                // $.last is overwritten below: its step is moved
                ("prev", input["last"]["step"].take()),
                ("step", step.clone()),
            ]);
            input["last"] = last;
        }
        input
    })
}

/// Increment: Parameters {i: States.MathAdd($.i, 1), label: $.label}
/// (ResultPath $: the input is replaced); Check: $.i < limit loops back.
fn choice_loop(limit: i64) -> Program {
    Box::new(move |mut input| loop {
        let i = input["i"].as_i64().unwrap_or(0) + 1;
        input = object([("i", Value::from(i)), ("label", input["label"].take())]);
        if input["i"].as_i64().is_none_or(|i| i >= limit) {
            return input; // Done: Succeed
        }
    })
}

/// Map over $.items, each item through Parameters {k: $.id, s: $.v}; the
/// array of results replaces the input.
fn map() -> Program {
    Box::new(|mut input| {
        let Value::Array(items) = input["items"].take() else {
            return Value::Null;
        };
        let results = items
            .into_iter()
            .map(|mut item| object([("k", item["id"].take()), ("s", item["v"].take())]))
            .collect();
        Value::Array(results)
    })
}

/// Parallel: each branch a chain of Parameters {v: $.v, branch: <literal>,
/// step: <literal>} on its own copy of the input; the array of the branch
/// outputs replaces the input.
fn parallel_fanout(branches: Vec<Vec<(Value, Value)>>) -> Program {
    Box::new(move |input| {
        // one copy per branch; the last branch gets the input itself
        let inputs = vec![input; branches.len()];
        let outputs = inputs
            .into_iter()
            .zip(&branches)
            .map(|(mut value, states)| {
                for (branch, step) in states {
                    value = object([
                        ("v", value["v"].take()),
                        ("branch", branch.clone()),
                        ("step", step.clone()),
                    ]);
                }
                value
            })
            .collect();
        Value::Array(outputs)
    })
}

/// 1000 x Task with InputPath $.state, ResultSelector {count: $.count,
/// payload: $.payload, handled: $.handled}, ResultPath $.wrap.state,
/// OutputPath $.wrap.
fn task_chain(states: usize) -> Program {
    Box::new(move |mut input| {
        for _ in 0..states {
            // only $.wrap is output: $.state is moved into the handler
            let mut result = task(input["state"].take());
            let selected = object([
                ("count", result["count"].take()),
                ("payload", result["payload"].take()),
                ("handled", result["handled"].take()),
            ]);
            input["wrap"]["state"] = selected;
            input = input["wrap"].take();
        }
        input
    })
}

/// 100 x (A then B):
/// A: Parameters {formatted: States.Format('{} has {} records, rev {}',
/// $.meta.name, $.meta.count, $.meta.rev), json: States.JsonToString($.doc),
/// arr: States.Array($.meta.name, $.meta.count, $.doc.a), parts:
/// States.ArrayPartition($.list, 7), merged: States.JsonMerge($.doc.a,
/// $.doc.b, false)}, ResultPath $.tmp;
/// B: Parameters {parsed: States.StringToJson($.tmp.json), hash:
/// States.Hash($.tmp.json, 'SHA-256'), b64: States.Base64Encode($.tmp.json),
/// fmt_b64: States.Base64Encode($.tmp.formatted)}, ResultPath $.tmp2.
fn intrinsics_mix(reps: usize) -> Program {
    Box::new(move |mut input| {
        for _ in 0..reps {
            let meta = &input["meta"];
            let doc = &input["doc"];
            let formatted = format!(
                "{} has {} records, rev {}",
                meta["name"].as_str().unwrap_or_default(),
                meta["count"],
                meta["rev"]
            );
            let tmp = object([
                ("formatted", Value::String(formatted)),
                (
                    "json",
                    Value::String(serde_json::to_string(doc).unwrap_or_default()),
                ),
                (
                    "arr",
                    Value::Array(vec![
                        meta["name"].clone(),
                        meta["count"].clone(),
                        doc["a"].clone(),
                    ]),
                ),
                ("parts", partition(&input["list"], 7)),
                ("merged", merge(&doc["a"], &doc["b"])),
            ]);
            input["tmp"] = tmp;

            let json = input["tmp"]["json"].as_str().unwrap_or_default();
            let formatted = input["tmp"]["formatted"].as_str().unwrap_or_default();
            let tmp2 = object([
                ("parsed", serde_json::from_str(json).unwrap_or_default()),
                ("hash", Value::String(format!("{:x}", Sha256::digest(json)))),
                ("b64", Value::String(BASE64.encode(json))),
                ("fmt_b64", Value::String(BASE64.encode(formatted))),
            ]);
            input["tmp2"] = tmp2;
        }
        input
    })
}

/// States.ArrayPartition: chunks of `size` items.
fn partition(items: &Value, size: usize) -> Value {
    let items = items.as_array().map(Vec::as_slice).unwrap_or_default();
    Value::Array(
        items
            .chunks(size)
            .map(|c| Value::Array(c.to_vec()))
            .collect(),
    )
}

/// States.JsonMerge(left, right, false): shallow, the right side wins.
fn merge(left: &Value, right: &Value) -> Value {
    let mut merged = left.as_object().cloned().unwrap_or_default();
    for (key, value) in right.as_object().into_iter().flatten() {
        merged.insert(key.clone(), value.clone());
    }
    Value::Object(merged)
}

/// 5 x InputPath $.doc, Parameters {header: $.header, records: $.records,
/// stage: <literal>}, ResultPath $.doc.
fn big_payload(stages: Vec<Value>) -> Program {
    Box::new(move |mut input| {
        for stage in &stages {
            // ResultPath overwrites $.doc: its parts are moved, never copied
            let mut doc = input["doc"].take();
            input["doc"] = object([
                ("header", doc["header"].take()),
                ("records", doc["records"].take()),
                ("stage", stage.clone()),
            ]);
        }
        input
    })
}
