//! Adversarial tests of the size/depth bound the engine carries with the
//! payload: whatever way a state output, task result or assigned value was
//! derived, a run with a byte limit `L` (or a depth limit `D`) must end
//! exactly as an oracle says, the oracle being the history of the same run
//! with the limits off: the first state output or task result whose compact
//! JSON text (`serde_json::to_string`) is longer than `L` (or nested deeper
//! than `D`) fails the execution with `States.DataLimitExceeded` naming it,
//! and without one the run ends as the unlimited run did.
//!
//! Each test runs its machine at every size (and depth) its history shows:
//! exactly at it (must pass that checkpoint) and one byte (level) below
//! (must fail at the first checkpoint past it), and checks that the states
//! under test decide at least one of those runs.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use stepfn::{
    sync_task_fn, Limits, Outcome, StateMachine, StatesError, Status, TaskRequest, TaskResult,
};

use crate::common::{bytes, depth_cause, len, size_cause, LAMBDA};

fn machine(definition: &Value) -> StateMachine {
    crate::common::machine(definition.clone())
}

/// The Task states' work: `{"fail": cause}` fails with `Custom.Error`,
/// `{"return": v}` answers `v`, an object is echoed with a `done` key,
/// anything else is answered as `{"value": v}`.
fn work(r: TaskRequest<'_>) -> TaskResult {
    let mut v = r.parameters;
    if let Some(cause) = v.get("fail") {
        let cause = match cause {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Err(StatesError::new("Custom.Error", cause));
    }
    if let Some(answer) = v.get_mut("return") {
        return Ok(answer.take());
    }
    match &mut v {
        Value::Object(o) => {
            o.insert("done".into(), json!("task result \"text\"\u{1}"));
            Ok(v)
        }
        _ => Ok(json!({ "value": v })),
    }
}

fn run(sm: &StateMachine, input: Value, limits: Limits, history: bool) -> Outcome {
    let executor = sync_task_fn(work);
    futures::executor::block_on(
        sm.execution()
            .with_limits(limits)
            .with_history(history)
            .with_virtual_time()
            .run(&executor, input),
    )
}

/// Nesting depth: a scalar is 0, `[]` is 1, `[{}]` is 2.
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn variable_cause(state: &str, var: &str, max: usize) -> String {
    format!("The state/task '{state}' assigned the variable '{var}' a value with a nesting depth exceeding the maximum of {max} levels.")
}

const LIMIT: &str = "States.DataLimitExceeded";

/// A payload the limits are checked on, read from the history.
#[derive(Debug, Clone)]
struct Checkpoint {
    /// The state (or the task's resource) the cause names.
    name: String,
    value: Value,
    /// Assigned variables (state outputs only), in order.
    assigned: Vec<(String, Value)>,
}

/// A run with the limits off (its history gives the checkpoints).
struct Reference {
    outcome: Outcome,
    input: Value,
    checkpoints: Vec<Checkpoint>,
}

fn reference(sm: &StateMachine, input: &Value) -> Reference {
    try_reference(sm, input).expect("history text nested too deep for serde_json")
}

/// The reference run; `None` when its history holds text nested deeper than
/// serde_json parses (128 levels).
fn try_reference(sm: &StateMachine, input: &Value) -> Option<Reference> {
    let limits = Limits::unlimited().with_max_transitions(Some(100_000));
    let mut outcome = run(sm, input.clone(), limits, true);
    let history = outcome.history.take().expect("a history");
    let mut checkpoints = Vec::new();
    for e in &history {
        let d = &e.details;
        let parse = |text: Option<&Value>| -> Option<Option<Value>> {
            match text.and_then(Value::as_str) {
                None => Some(None),
                Some(t) => serde_json::from_str(t).ok().map(Some),
            }
        };
        if e.event_type.ends_with("StateExited") {
            let mut assigned = Vec::new();
            if let Some(a) = d.get("assignedVariables").and_then(Value::as_object) {
                for (k, v) in a {
                    assigned.push((k.clone(), parse(Some(v))??));
                }
            }
            checkpoints.push(Checkpoint {
                name: d["name"].as_str().unwrap().to_owned(),
                value: parse(d.get("output"))?.expect("an output"),
                assigned,
            });
        } else if e.event_type.ends_with("Succeeded") && e.event_type != "ExecutionSucceeded" {
            if let Some(value) = parse(d.get("output"))? {
                checkpoints.push(Checkpoint {
                    name: LAMBDA.to_owned(),
                    value,
                    assigned: Vec::new(),
                });
            }
        }
    }
    Some(Reference {
        outcome,
        input: input.clone(),
        checkpoints,
    })
}

/// (status, output, error, cause) of an outcome.
type Summary = (Status, Option<Value>, Option<String>, Option<String>);

fn summary(o: &Outcome) -> Summary {
    (o.status, o.output.clone(), o.error.clone(), o.cause.clone())
}

fn failed(cause: String) -> Summary {
    (Status::Failed, None, Some(LIMIT.to_owned()), Some(cause))
}

/// What a run under `limits` must give, and the checkpoint that failed it.
fn expected(r: &Reference, limits: &Limits) -> (Summary, Option<String>) {
    if let Some(max) = limits.max_depth {
        if depth(&r.input) > max {
            let cause = format!(
                "The execution input has a nesting depth exceeding the maximum of {max} levels."
            );
            return (failed(cause), Some("<input>".into()));
        }
    }
    for c in &r.checkpoints {
        if let Some(max) = limits.max_depth {
            if depth(&c.value) > max {
                return (failed(depth_cause(&c.name, max)), Some(c.name.clone()));
            }
        }
        if let Some(max) = limits.max_payload_bytes {
            if len(&c.value) > max {
                return (failed(size_cause(&c.name)), Some(c.name.clone()));
            }
        }
        if let Some(max) = limits.max_depth {
            if let Some((var, _)) = c.assigned.iter().find(|(_, v)| depth(v) > max) {
                return (
                    failed(variable_cause(&c.name, var, max)),
                    Some(c.name.clone()),
                );
            }
        }
    }
    (summary(&r.outcome), None)
}

/// Runs under `limits` and compares with the oracle; gives the checkpoint
/// that decided the failure.
fn check(sm: &StateMachine, r: &Reference, limits: Limits) -> Result<Option<String>, String> {
    let (want, decided) = expected(r, &limits);
    let got = summary(&run(sm, r.input.clone(), limits.clone(), false));
    if got == want {
        Ok(decided)
    } else {
        Err(format!("under {limits:?}\n  got  {got:?}\n  want {want:?}"))
    }
}

fn levels(max: usize) -> Limits {
    Limits::default()
        .with_max_payload_bytes(None)
        .with_max_depth(Some(max))
}

/// Every byte edge of the run: each checkpoint size `s` as the limit and
/// `s - 1`. Gives the checkpoints that decided a failure.
fn byte_edges(sm: &StateMachine, r: &Reference) -> Result<BTreeSet<String>, String> {
    let sizes: BTreeSet<usize> = r.checkpoints.iter().map(|c| len(&c.value)).collect();
    let mut decided = BTreeSet::new();
    for s in sizes {
        for limit in [s, s - 1] {
            decided.extend(check(sm, r, bytes(limit))?);
        }
    }
    // the extremes: nothing fits; "not known" is the limit itself
    for limit in [0, usize::MAX - 1, usize::MAX] {
        decided.extend(check(sm, r, bytes(limit))?);
    }
    Ok(decided)
}

/// Every depth edge of the run, with the byte limit off and on (the bound
/// keeps both then).
fn depth_edges(sm: &StateMachine, r: &Reference) -> Result<BTreeSet<String>, String> {
    let mut depths: BTreeSet<usize> = r.checkpoints.iter().map(|c| depth(&c.value)).collect();
    depths.extend(
        r.checkpoints
            .iter()
            .flat_map(|c| c.assigned.iter().map(|(_, v)| depth(v))),
    );
    depths.insert(depth(&r.input));
    depths.extend([0, usize::MAX]);
    let mut decided = BTreeSet::new();
    for d in depths {
        for max in [d, d.saturating_sub(1)] {
            decided.extend(check(sm, r, levels(max))?);
            decided.extend(check(
                sm,
                r,
                levels(max).with_max_payload_bytes(Some(1 << 30)),
            )?);
        }
    }
    Ok(decided)
}

/// The byte and depth edges of `definition` on `input`, then the same for
/// every variant with a `Pad` state inserted after one of its states (or
/// between a catcher and its target, in any branch or inline iteration):
/// the pad carries the bound of the state before it without measuring and
/// makes the largest (deepest) payload of the run, so the pad must decide a
/// run, whatever the state before it did to the bound. `deciders` must
/// decide runs of the machine itself.
fn assert_edges(definition: Value, input: Value, deciders: &[&str]) {
    let sm = machine(&definition);
    let r = reference(&sm, &input);
    let mut decided = byte_edges(&sm, &r).unwrap_or_else(|e| panic!("{e}"));
    decided.extend(depth_edges(&sm, &r).unwrap_or_else(|e| panic!("{e}")));
    for d in deciders {
        assert!(
            decided.contains(*d),
            "'{d}' decided no run: {decided:?}\n{:#?}",
            r.checkpoints
        );
    }
    let widest = r
        .checkpoints
        .iter()
        .map(|c| len(&c.value))
        .max()
        .unwrap_or(0);
    let deepest = r
        .checkpoints
        .iter()
        .flat_map(|c| std::iter::once(&c.value).chain(c.assigned.iter().map(|(_, v)| v)))
        .chain([&r.input])
        .map(depth)
        .max()
        .unwrap_or(0);
    // a long string written beside the payload (or over its first item)
    let byte_pads = ["$.zzpad", "$[0]"]
        .map(|path| json!({"Type": "Pass", "Result": "p".repeat(widest + 1), "ResultPath": path}));
    // the payload written into itself, below new objects
    let nest: String = (0..=deepest).map(|i| format!(".z{i}")).collect();
    let depth_pads = [json!({"Type": "Pass", "ResultPath": format!("$.zzpad{nest}")})];
    let mut padded = 0;
    for site in sites(&definition) {
        for (pads, edges) in [
            (&byte_pads[..], byte_edges as Edges),
            (&depth_pads[..], depth_edges as Edges),
        ] {
            for pad in pads {
                let Some(variant) = insert_pad(&definition, &site, pad.clone()) else {
                    break;
                };
                let sm = machine(&variant);
                let Some(r) = try_reference(&sm, &input) else {
                    break;
                };
                if !r.checkpoints.iter().any(|c| c.name == "Pad") {
                    // the pad's ResultPath does not fit this payload
                    continue;
                }
                let decided = edges(&sm, &r).unwrap_or_else(|e| panic!("pad after {site:?}: {e}"));
                assert!(
                    decided.contains("Pad"),
                    "the pad after {site:?} decided no run: {decided:?}\n{:#?}",
                    r.checkpoints
                );
                padded += 1;
                break;
            }
        }
    }
    assert!(padded > 0, "no state could be padded");
}

type Edges = fn(&StateMachine, &Reference) -> Result<BTreeSet<String>, String>;

/// Where a pad goes: after a state of the `States` map at `map` (JSON
/// pointer), or between its catcher and the catcher's target.
#[derive(Debug, Clone)]
struct Site {
    map: String,
    state: String,
    catcher: Option<usize>,
}

/// Every place a pad can go, in the top level, Parallel branches and
/// inline Map processors (a distributed Map's children keep no history).
fn sites(definition: &Value) -> Vec<Site> {
    fn walk(definition: &Value, at: String, out: &mut Vec<Site>) {
        let map = format!("{at}/States");
        let Some(states) = definition.pointer(&map).and_then(Value::as_object) else {
            return;
        };
        for (name, state) in states {
            out.push(Site {
                map: map.clone(),
                state: name.clone(),
                catcher: None,
            });
            let catchers = state
                .get("Catch")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..catchers {
                out.push(Site {
                    map: map.clone(),
                    state: name.clone(),
                    catcher: Some(i),
                });
            }
            let branches = state
                .get("Branches")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..branches {
                walk(definition, format!("{map}/{name}/Branches/{i}"), out);
            }
            for key in ["ItemProcessor", "Iterator"] {
                if let Some(p) = state.get(key) {
                    if p.pointer("/ProcessorConfig/Mode") != Some(&json!("DISTRIBUTED")) {
                        walk(definition, format!("{map}/{name}/{key}"), out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(definition, String::new(), &mut out);
    out
}

/// `definition` with `pad` (named `Pad`) inserted at `site`; `None` where a
/// pad cannot go (after Succeed/Fail, after a Choice with several targets).
fn insert_pad(definition: &Value, site: &Site, mut pad: Value) -> Option<Value> {
    let mut d = definition.clone();
    let states = d.pointer_mut(&site.map)?.as_object_mut()?;
    let state = states.get_mut(&site.state)?;
    if let Some(i) = site.catcher {
        let next = state["Catch"][i]["Next"].take();
        state["Catch"][i]["Next"] = json!("Pad");
        pad["Next"] = next;
    } else {
        match state["Type"].as_str()? {
            "Succeed" | "Fail" => return None,
            "Choice" => {
                let mut targets: BTreeSet<String> = BTreeSet::new();
                for rule in state["Choices"].as_array_mut()? {
                    targets.insert(rule["Next"].as_str()?.to_owned());
                    rule["Next"] = json!("Pad");
                }
                if let Some(default) = state.get_mut("Default") {
                    targets.insert(default.as_str()?.to_owned());
                    *default = json!("Pad");
                }
                if targets.len() != 1 {
                    return None;
                }
                pad["Next"] = json!(targets.pop_first()?);
            }
            _ => {
                let o = state.as_object_mut()?;
                match o.remove("Next") {
                    Some(next) => pad["Next"] = next,
                    None => {
                        o.remove("End");
                        pad["End"] = json!(true);
                    }
                }
                o.insert("Next".into(), json!("Pad"));
            }
        }
    }
    states.insert("Pad".into(), pad);
    Some(d)
}

/// A machine of `states` (`[name, state]` pairs chained in order; a
/// Choice goes to the next state by its one rule and its Default).
fn chain(states: Value) -> Value {
    let list = states.as_array().unwrap();
    let mut map = Map::new();
    for (i, pair) in list.iter().enumerate() {
        let mut state = pair[1].clone();
        let o = state.as_object_mut().unwrap();
        let next = list.get(i + 1).map(|n| n[0].clone());
        if o["Type"] == "Choice" {
            let next = next.unwrap_or_else(|| json!("Done"));
            if let Some(rules) = o.get_mut("Choices").and_then(Value::as_array_mut) {
                for rule in rules {
                    if rule.get("Next").is_none() {
                        rule["Next"] = next.clone();
                    }
                }
            }
            o.entry("Default").or_insert(next);
            if i + 1 == list.len() {
                map.insert("Done".into(), json!({"Type": "Succeed"}));
            }
        } else if !matches!(o["Type"].as_str(), Some("Succeed" | "Fail")) {
            match next {
                Some(next) => o.insert("Next".into(), next),
                None => o.insert("End".into(), json!(true)),
            };
        }
        map.insert(pair[0].as_str().unwrap().to_owned(), state);
    }
    json!({"StartAt": list[0][0], "States": map})
}

/// Text that needs escapes: quotes, backslashes, control characters
/// (`\u0001` is six bytes of JSON text), and multi-byte characters.
const NASTY: &str = "q\"b\\s\n\t\u{1}\u{1f}\u{7f}é漢🦀";

/// Numbers as serde_json prints them: negatives, floats, exponents.
fn numbers() -> Value {
    json!([
        0,
        -1,
        -9223372036854775808i64,
        18446744073709551615u64,
        1.5,
        -0.25,
        1e300,
        -1e-7,
        5e-324,
        1.0,
        -0.0,
        123456789.125
    ])
}

fn doc() -> Value {
    json!({
        "a": {"k\"ey": NASTY, "n": numbers()},
        "c": {"d": [1, {"x": "y\n"}, [null, true, false]]},
        "items": [{"i": 1}, "two \u{2}", [3.25], {"big": NASTY}],
        "s": NASTY,
    })
}

fn pass(fields: Value) -> Value {
    let mut s = json!({"Type": "Pass"});
    s.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    s
}

fn task(fields: Value) -> Value {
    let mut s = json!({"Type": "Task", "Resource": LAMBDA});
    s.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    s
}

// ---------------------------------------------------------------------------
// Pass

#[test]
fn pass_result_written_at_paths_that_do_not_exist_yet() {
    let result = json!({"r": NASTY, "n": numbers()});
    // into an empty object (no comma), into a non-empty one (a comma), and
    // through keys that need escapes
    for input in [json!({}), json!({"x": 1}), doc()] {
        let def = chain(json!([
            [
                "One",
                pass(json!({"Result": result, "ResultPath": "$.new"}))
            ],
            [
                "Deep",
                pass(json!({"Result": result, "ResultPath": "$.a1.b2.c3.d4"}))
            ],
            [
                "Esc",
                pass(json!({"Result": "v", "ResultPath": "$['k\\'\"\\n']['\\t\u{1}']"}))
            ],
            [
                "Into",
                pass(json!({"Result": [NASTY], "ResultPath": "$.a1.b2.new"}))
            ],
        ]));
        assert_edges(def, input, &["One", "Deep", "Esc", "Into"]);
    }
}

#[test]
fn pass_result_replacing_a_bigger_or_smaller_value() {
    let def = chain(json!([
        ["Small", pass(json!({"Result": 1, "ResultPath": "$.a"}))],
        [
            "Big",
            pass(json!({"Result": {"n": numbers(), "s": NASTY}, "ResultPath": "$.a"}))
        ],
        [
            "Elem",
            pass(json!({"Result": [NASTY, NASTY], "ResultPath": "$.items[-1]"}))
        ],
        [
            "First",
            pass(json!({"Result": {"x": NASTY}, "ResultPath": "$.items[0].i"}))
        ],
        [
            "Whole",
            pass(json!({"Result": {"only": NASTY}, "ResultPath": "$"}))
        ],
    ]));
    assert_edges(def, doc(), &["Big", "Elem", "First"]);
}

#[test]
fn pass_parameters_repeating_a_big_path() {
    let def = chain(json!([
        [
            "Rep",
            pass(
                json!({"Parameters": {"one.$": "$.a", "two.$": "$.a", "three.$": "$.a", "all.$": "$"}, "ResultPath": "$.rep"})
            )
        ],
        [
            "Again",
            pass(json!({"Parameters": {"x.$": "$.rep", "y.$": "$.rep"}}))
        ],
    ]));
    assert_edges(def, doc(), &["Rep", "Again"]);
}

#[test]
fn pass_moving_its_parameters_out_of_the_input() {
    // InputPath/ResultPath pairs the moving Pass takes, with literals and
    // keys that need escapes in the result
    let moving = |input_path: &str, result_path: &str| {
        pass(json!({
            "InputPath": input_path,
            "Parameters": {"d.$": "$.d", "k\"\n\u{1}": NASTY, "n": -1.5e-7, "t": true, "z": null, "big": 18446744073709551615u64},
            "ResultPath": result_path,
        }))
    };
    for (ip, rp, input) in [
        (
            "$.c",
            "$.c",
            json!({"c": {"d": doc(), "other": NASTY}, "top": numbers()}),
        ),
        (
            "$.c",
            "$",
            json!({"c": {"d": doc(), "other": NASTY}, "top": numbers()}),
        ),
        (
            "$.c.e",
            "$.c",
            json!({"c": {"e": {"d": doc(), "x": 1}, "other": NASTY}, "top": numbers()}),
        ),
        (
            "$.c.e",
            "$",
            json!({"c": {"e": {"d": doc()}}, "top": numbers()}),
        ),
        ("$", "$", json!({"d": doc(), "other": NASTY})),
    ] {
        let def = chain(json!([["Move", moving(ip, rp)]]));
        assert_edges(def, input, &["Move"]);
    }
    // moved twice over: the second move takes what the first left
    let again = |name: &str| {
        pass(
            json!({"InputPath": "$.c", "Parameters": {"d.$": "$.d", "name": name}, "ResultPath": "$.c"}),
        )
    };
    let def = chain(json!([
        ["M1", again("one")],
        ["M2", again("the second \"one\"")],
        ["M3", again("3")]
    ]));
    assert_edges(
        def,
        json!({"c": {"d": doc(), "gone": NASTY}}),
        &["M1", "M2"],
    );
}

#[test]
fn pass_moving_then_output_path() {
    let def = chain(json!([
        [
            "Move",
            pass(
                json!({"InputPath": "$.c", "Parameters": {"d.$": "$.d", "pad": NASTY}, "ResultPath": "$.c", "OutputPath": "$.c"})
            )
        ],
        [
            "Grow",
            pass(json!({"Parameters": {"all.$": "$", "pad": NASTY}}))
        ],
    ]));
    assert_edges(def, doc(), &["Grow"]);
}

#[test]
fn pass_moving_when_a_path_misses_falls_back() {
    let def = chain(json!([[
        "Move",
        pass(
            json!({"InputPath": "$.c", "Parameters": {"d.$": "$.d", "missing.$": "$.nope"}, "ResultPath": "$.c"})
        )
    ],]));
    let sm = machine(&def);
    let r = reference(&sm, &doc());
    assert_eq!(r.outcome.error.as_deref(), Some("States.Runtime"));
    byte_edges(&sm, &r).unwrap();
}

#[test]
fn input_path_and_result_path_copies() {
    let def = chain(json!([
        ["Sel", pass(json!({"InputPath": "$.a", "ResultPath": "$"}))],
        [
            "Keep",
            pass(json!({"InputPath": "$.n", "ResultPath": "$.copy"}))
        ],
        [
            "Null",
            pass(json!({"InputPath": "$.n", "ResultPath": null}))
        ],
        [
            "Empty",
            pass(json!({"InputPath": null, "ResultPath": "$.empty"}))
        ],
        ["Self", pass(json!({"ResultPath": "$.self.nested"}))],
    ]));
    assert_edges(def, doc(), &["Self"]);
}

// ---------------------------------------------------------------------------
// OutputPath, Choice, Wait, Succeed

#[test]
fn output_paths_dropping_around_the_selected_node() {
    for path in [
        "$.a",
        "$.a.n",
        "$.a.n[3]",
        "$.a.n[-1]",
        "$.a['k\"ey']",
        "$.items[0]",
        "$.items[-2]",
        "$.items[*]",
        "$..x",
        "$.a.n[1:4]",
    ] {
        let def = chain(json!([
            [
                "Wrap",
                pass(json!({"Parameters": {"pad": NASTY, "in.$": "$"}, "ResultPath": "$.w"}))
            ],
            [
                "Out",
                pass(json!({"InputPath": "$.w.in", "OutputPath": path}))
            ],
        ]));
        assert_edges(def, doc(), &[]);
    }
}

#[test]
fn choice_wait_and_succeed_selecting_nodes() {
    let def = chain(json!([
        ["Wrap", pass(json!({"Parameters": {"pad": NASTY, "in.$": "$", "n": numbers()}, "ResultPath": "$.w"}))],
        ["Choose", {"Type": "Choice", "InputPath": "$.w", "OutputPath": "$.in", "Choices": [{"Variable": "$.in.s", "IsPresent": true}]}],
        ["Grow", pass(json!({"Parameters": {"v.$": "$", "pad": NASTY}, "ResultPath": "$.g"}))],
        ["Hold", {"Type": "Wait", "Seconds": 1, "InputPath": "$.g", "OutputPath": "$.v"}],
        ["Hold2", {"Type": "Wait", "Seconds": 0}],
        ["End", {"Type": "Succeed", "InputPath": "$.c", "OutputPath": "$.d[1]"}],
    ]));
    assert_edges(def, doc(), &["Wrap"]);
}

// ---------------------------------------------------------------------------
// Task

#[test]
fn task_results_and_their_selection() {
    let def = chain(json!([
        ["Echo", task(json!({"ResultPath": "$.r.s.t"}))],
        [
            "Ret",
            task(
                json!({"Parameters": {"return.$": "$.a"}, "ResultSelector": {"x.$": "$.n", "y.$": "$", "l": NASTY}, "ResultPath": "$.sel"})
            )
        ],
        [
            "Out",
            task(
                json!({"Parameters": {"return.$": "$"}, "ResultPath": "$.again", "OutputPath": "$.again"})
            )
        ],
        [
            "Null",
            task(json!({"Parameters": {"return.$": "$.a"}, "ResultPath": null}))
        ],
    ]));
    assert_edges(def, doc(), &["Echo", "Ret", LAMBDA]);
}

#[test]
fn result_selectors_moving_their_values_out_of_the_result() {
    // flat selectors of `$.a.b` paths and scalar literals take their values
    // out of the result; keys needing escapes, literals of every kind
    let moving = json!({"n.$": "$.a.n", "k\"\n\u{1}y.$": "$.s", "d.$": "$.c.d", "l": NASTY, "f": -1.5e-7, "b": false, "z": null});
    let only_literals = json!({"l": NASTY, "u": 18446744073709551615u64});
    let one_deep = json!({"deep.$": "$.c"});
    for selector in [moving, only_literals, one_deep] {
        for rp in [
            json!("$"),
            json!("$.sel"),
            json!("$.x.y.z"),
            Value::Null,
            json!("$.a"),
        ] {
            let def = chain(json!([[
                "T",
                task(
                    json!({"Parameters": {"return.$": "$"}, "ResultSelector": selector, "ResultPath": rp})
                )
            ],]));
            assert_edges(def, doc(), &[]);
        }
        // over the outputs of a Parallel (an object from its one branch is
        // not there: the results are an array; the selector misses unless
        // it only has literals) and of a Map
        let b = branch(json!([["B", pass(json!({}))]]));
        let par = chain(json!([
            ["Par", {"Type": "Parallel", "Branches": [b], "ResultSelector": selector, "ResultPath": "$.p"}],
        ]));
        let sm = machine(&par);
        let r = reference(&sm, &doc());
        byte_edges(&sm, &r).unwrap();
        depth_edges(&sm, &r).unwrap();
    }
    // a Map whose results are objects, selected by a moving selector
    // through an index-free path: only literals and `$` paths of objects
    let processor = branch(json!([[
        "I",
        pass(json!({"Parameters": {"v.$": "$", "pad": NASTY}}))
    ]]));
    let def = chain(json!([
        ["Wrap", pass(json!({"Parameters": {"items.$": "$.items", "a.$": "$.a"}}))],
        ["Map", {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "ResultSelector": {"l": NASTY, "n": 1.5}, "ResultPath": "$.m"}],
    ]));
    assert_edges(def, doc(), &[]);
}

#[test]
fn a_task_result_exactly_at_the_limit() {
    let def = chain(json!([[
        "T",
        task(json!({"Parameters": {"return.$": "States.Array($.a, $.a)"}, "ResultPath": null}))
    ]]));
    let sm = machine(&def);
    let input = json!({"a": doc()["a"]});
    let result = json!([input["a"], input["a"]]);
    let at = run(&sm, input.clone(), bytes(len(&result)), false);
    assert_eq!(at.output, Some(input.clone()), "{:?}", at.cause);
    let over = run(&sm, input, bytes(len(&result) - 1), false);
    assert_eq!(summary(&over), failed(size_cause(LAMBDA)));
}

#[test]
fn tasks_moving_their_input() {
    let def = chain(json!([
        // Move::Whole
        ["Whole", task(json!({"InputPath": "$", "ResultPath": "$"}))],
        // Move::Node, the node overwritten by the result
        [
            "Node",
            task(json!({"InputPath": "$.c", "ResultPath": "$.c"}))
        ],
        // Move::Node, ResultPath `$`
        [
            "NodeAll",
            task(json!({"InputPath": "$.c", "ResultPath": "$"}))
        ],
        [
            "Pad0",
            pass(json!({"Parameters": {"c.$": "$", "a": NASTY, "pad": "xxxxxxxxxxxxxxxxxxxx"}}))
        ],
        // Move::Node, the node dropped by OutputPath
        [
            "Dropped",
            task(json!({"InputPath": "$.c", "ResultPath": "$.r", "OutputPath": "$.r"}))
        ],
    ]));
    assert_edges(def, doc(), &["Node"]);
}

#[test]
fn catchers_writing_errors_with_escaped_causes() {
    let failing = |rp: Value, next: &str| {
        task(json!({
            "Parameters": {"fail.$": "States.JsonToString($.a)"},
            "Retry": [{"ErrorEquals": ["Custom.Error"], "MaxAttempts": 2, "IntervalSeconds": 1}],
            "Catch": [{"ErrorEquals": ["Custom.Error"], "ResultPath": rp, "Next": next}],
        }))
    };
    let def = chain(json!([
        ["Deep", failing(json!("$.err.one.two"), "Replace")],
        ["Replace", failing(json!("$.a"), "Grow")],
        [
            "Grow",
            pass(json!({"Parameters": {"v.$": "$", "pad": "more"}}))
        ],
        ["Whole", failing(json!("$"), "Last")],
        ["Last", pass(json!({"Parameters": {"v.$": "$", "x": 1}}))],
    ]));
    assert_edges(def.clone(), doc(), &["Deep", "Grow"]);
    // a catcher keeping the raw input (ResultPath null)
    let mut keep = def;
    keep["States"]["Deep"]["Catch"][0]["ResultPath"] = Value::Null;
    assert_edges(keep, doc(), &["Grow"]);
}

// ---------------------------------------------------------------------------
// Parallel and Map

fn branch(states: Value) -> Value {
    chain(states)
}

#[test]
fn parallel_outputs_with_selector_result_path_and_output_path() {
    let b1 = branch(json!([[
        "P1",
        pass(json!({"Parameters": {"c.$": "$.c", "l": NASTY}}))
    ]]));
    let b2 = branch(json!([[
        "T2",
        task(json!({"Parameters": {"return.$": "$.a"}}))
    ]]));
    let b3 = branch(json!([
        [
            "P3",
            pass(json!({"InputPath": "$.items", "ResultPath": "$"}))
        ],
        ["P4", pass(json!({}))]
    ]));
    for extra in [
        json!({}),
        json!({"ResultPath": "$.p.q"}),
        json!({"ResultPath": "$.p.q", "OutputPath": "$.p"}),
        json!({"ResultSelector": {"first.$": "$[0]", "all.$": "$", "n": numbers()}, "ResultPath": "$.sel"}),
        json!({"InputPath": "$.a", "Parameters": {"c.$": "$", "a.$": "$.n", "items.$": "$.n"}}),
        json!({"ResultPath": null}),
    ] {
        // all branches settle at once, and some wait (a Task)
        for branches in [json!([b1, b3]), json!([b1, b2, b3])] {
            let mut state = json!({"Type": "Parallel", "Branches": branches});
            state
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let def = chain(json!([["Par", state]]));
            assert_edges(def, doc(), &[]);
        }
    }
}

#[test]
fn inline_map_outputs() {
    let settle = branch(json!([[
        "I",
        pass(json!({"Parameters": {"it.$": "$", "l": "x"}}))
    ]]));
    let wait = branch(json!([["I", task(json!({"Parameters": {"it.$": "$"}}))]]));
    let moving = branch(json!([[
        "I",
        pass(json!({"InputPath": "$", "Parameters": {"big.$": "$.big"}, "ResultPath": "$"}))
    ]]));
    let input = json!({"items": [{"big": NASTY}, {"big": numbers()}, {"big": {"x": NASTY}}], "other": NASTY});
    // one item nearly as big as the array: the item bound is the array's
    let lonely = json!({"items": [{"big": [NASTY, NASTY, NASTY]}], "other": 1});
    for processor in [settle, wait, moving] {
        for extra in [
            json!({}),
            json!({"ResultPath": "$.out.here"}),
            json!({"ResultPath": "$.items", "OutputPath": "$.items"}),
            json!({"ResultSelector": {"r.$": "$", "n": numbers()}}),
            json!({"ItemSelector": {"big.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "o.$": "$.other"}}),
            json!({"InputPath": "$.items", "ItemsPath": "$", "ResultPath": "$[0]"}),
            json!({"Catch": [{"ErrorEquals": ["Custom.Error"], "Next": "Caught"}], "ResultPath": "$"}),
            json!({"Catch": [{"ErrorEquals": ["Custom.Error"], "Next": "Caught"}], "ResultPath": "$.r"}),
        ] {
            let mut state =
                json!({"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor});
            state
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let mut def = chain(json!([["Map", state]]));
            if extra.get("Catch").is_some() {
                def["States"]["Caught"] = json!({"Type": "Succeed"});
            }
            for input in [input.clone(), lonely.clone()] {
                assert_edges(def.clone(), input, &[]);
            }
        }
    }
}

#[test]
fn map_items_from_the_context_object() {
    let processor = branch(json!([["I", pass(json!({}))]]));
    let def = chain(json!([
        ["FromCtx", {"Type": "Map", "InputPath": "$.small", "ItemsPath": "$$.Execution.Input.items", "ItemProcessor": processor, "ResultPath": "$.ctx"}],
    ]));
    let input = json!({"items": [NASTY, numbers(), [NASTY]], "small": {"x": 1}});
    assert_edges(def, input, &["FromCtx"]);
}

#[test]
fn map_items_path_reading_a_variable_iterates_the_variable() {
    let processor = branch(json!([["I", pass(json!({}))]]));
    let def = chain(json!([
        ["Vars", pass(json!({"Assign": {"list.$": "$.items"}}))],
        ["FromVar", {"Type": "Map", "InputPath": "$.small", "ItemsPath": "$list", "ItemProcessor": processor}],
    ]));
    let input = json!({"items": [NASTY, numbers(), [NASTY]], "small": {"x": 1}});
    let o = run(&machine(&def), input.clone(), Limits::default(), false);
    assert_eq!(o.output, Some(input["items"].clone()), "{:?}", o.cause);
    assert_edges(def, input, &[]);
}

#[test]
fn distributed_map_outputs_with_tolerated_failures() {
    let processor = json!({
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "I",
        "States": {"I": {"Type": "Task", "Resource": LAMBDA, "End": true}},
    });
    let input =
        json!({"items": [{"v": NASTY}, {"fail": NASTY}, {"v": numbers()}, {"fail": "plain"}]});
    for extra in [
        json!({}),
        json!({"ResultPath": "$.out.deep"}),
        json!({"ResultSelector": {"r.$": "$[1]", "s": NASTY}}),
        json!({"ResultSelector": {"s": NASTY}}),
        json!({"ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"}}),
    ] {
        let mut state = json!({"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "ToleratedFailureCount": 2});
        state
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        // the Map then a pad carrying its bound
        let alone = run(
            &machine(&chain(json!([["Map", state]]))),
            input.clone(),
            Limits::unlimited(),
            false,
        );
        let pad_path = if alone.output.as_ref().is_some_and(Value::is_array) {
            "$[0]"
        } else {
            "$.zzpad"
        };
        let def = chain(json!([
            ["Map", state],
            [
                "Pad",
                pass(json!({"ResultPath": pad_path, "Result": "p".repeat(200)}))
            ]
        ]));
        let sm = machine(&def);
        let free = run(&sm, input.clone(), Limits::unlimited(), false);
        assert_eq!(free.status, Status::Succeeded, "{:?}", free.cause);
        let output = free.output.clone().unwrap();
        // the children's outputs are smaller than the Map's: only the
        // Map's own output is at the edge
        let map_output = {
            let r = reference(&sm, &input);
            r.checkpoints
                .iter()
                .find(|c| c.name == "Map")
                .unwrap()
                .value
                .clone()
        };
        // the children's own outputs (they have their own limits: runs
        // with a limit below them would fail them, which is not under test)
        let raw = {
            let mut plain = state.clone();
            for key in ["ResultSelector", "ResultPath"] {
                plain.as_object_mut().unwrap().remove(key);
            }
            let o = run(
                &machine(&chain(json!([["Map", plain]]))),
                input.clone(),
                Limits::unlimited(),
                false,
            );
            o.output.unwrap()
        };
        let children = raw.as_array().unwrap().iter().map(len).max().unwrap();
        let checkpoints = [("Map", len(&map_output)), ("Pad", len(&output))];
        for (_, size) in checkpoints {
            for limit in [size, size - 1].into_iter().filter(|l| *l >= children) {
                let want = match checkpoints.iter().find(|(_, s)| *s > limit) {
                    Some((name, _)) => failed(size_cause(name)),
                    None => summary(&free),
                };
                assert_eq!(summary(&run(&sm, input.clone(), bytes(limit), false)), want);
            }
        }
        let d = depth(&map_output);
        if d > depth(&input) {
            let at = run(&sm, input.clone(), levels(d), false);
            assert_eq!(summary(&at), summary(&free));
            let over = run(&sm, input.clone(), levels(d - 1), false);
            assert_eq!(summary(&over), failed(depth_cause("Map", d - 1)));
        }
    }
}

// ---------------------------------------------------------------------------
// Variables, the context object, intrinsics

#[test]
fn values_read_back_from_variables_in_child_scopes() {
    let inner = |tag: &str| {
        branch(json!([
            [
                format!("Read{tag}"),
                pass(json!({"Parameters": {"v.$": "$big", "w.$": "$big.n", "it.$": "$"}}))
            ],
            [
                format!("ReadPath{tag}"),
                pass(json!({"InputPath": "$big", "ResultPath": "$.copy"}))
            ],
        ]))
    };
    let def = chain(json!([
        ["Set", pass(json!({"Assign": {"big.$": "$.a", "lit": NASTY}, "OutputPath": "$.items"}))],
        ["Par", {"Type": "Parallel", "Branches": [inner("P")]}],
        ["Reset", pass(json!({"Result": [1, 2], "ResultPath": "$"}))],
        ["Map", {"Type": "Map", "ItemProcessor": inner("M")}],
        ["Top", pass(json!({"Parameters": {"a.$": "$big", "b.$": "$big", "l.$": "$lit"}}))],
        ["OutVar", pass(json!({"OutputPath": "$big"}))],
    ]));
    assert_edges(def, doc(), &["Par", "Map"]);
}

#[test]
fn assigned_values_nesting_in_a_loop() {
    // each turn nests the variable one level deeper
    let def = json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"v": [], "n": 0}, "Next": "Loop"},
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$n", "NumericLessThan": 6, "Next": "Wrap"}], "Default": "Out"},
        "Wrap": {"Type": "Pass", "Assign": {"v.$": "States.Array($v)", "n.$": "States.MathAdd($n, 1)"}, "Next": "Loop"},
        "Out": {"Type": "Pass", "Parameters": {"v.$": "$v"}, "End": true},
    }});
    assert_edges(def, json!({}), &["Wrap", "Out"]);
}

#[test]
fn the_context_object_copied_into_the_payload() {
    let def = chain(json!([
        [
            "Ctx",
            pass(
                json!({"Parameters": {"in.$": "$$.Execution.Input", "name.$": "$$.State.Name"}, "ResultPath": "$.ctx"})
            )
        ],
        [
            "CtxPath",
            pass(json!({"InputPath": "$$.Execution.Input.a", "ResultPath": "$.a2"}))
        ],
        ["CtxOut", pass(json!({"OutputPath": "$$.Execution.Input"}))],
    ]));
    assert_edges(def, doc(), &["Ctx", "CtxPath"]);
}

#[test]
fn intrinsics_that_grow_data() {
    let def = chain(json!([
        [
            "Arr",
            pass(
                json!({"Parameters": {"v.$": "States.Array($.a, $.a, $.s, 1, 'lit')"}, "ResultPath": "$.arr"})
            )
        ],
        [
            "Part",
            pass(
                json!({"Parameters": {"v.$": "States.ArrayPartition($.a.n, 2)"}, "ResultPath": "$.part"})
            )
        ],
        [
            "Range",
            pass(
                json!({"Parameters": {"v.$": "States.ArrayRange(-100, 100, 3)"}, "ResultPath": "$.range"})
            )
        ],
        [
            "Merge",
            pass(
                json!({"Parameters": {"v.$": "States.JsonMerge($.a, $.c, false)"}, "ResultPath": "$.merge"})
            )
        ],
        [
            "ToStr",
            pass(json!({"Parameters": {"v.$": "States.JsonToString($.a)"}, "ResultPath": "$.str"}))
        ],
        [
            "FromStr",
            pass(
                json!({"Parameters": {"v.$": "States.StringToJson($.str.v)"}, "ResultPath": "$.back"})
            )
        ],
        [
            "Fmt",
            pass(
                json!({"Parameters": {"v.$": "States.Format('\\'{}\\' and {} \"q\"', $.s, $.a.n)"}, "ResultPath": "$.fmt"})
            )
        ],
        [
            "B64",
            pass(json!({"Parameters": {"v.$": "States.Base64Encode($.s)"}, "ResultPath": "$.b64"}))
        ],
        [
            "Split",
            pass(
                json!({"Parameters": {"v.$": "States.StringSplit($.s, 'b')"}, "ResultPath": "$.split"})
            )
        ],
    ]));
    assert_edges(
        def,
        doc(),
        &[
            "Arr", "Part", "Range", "Merge", "ToStr", "FromStr", "Fmt", "B64", "Split",
        ],
    );
}

#[test]
fn nested_templates_and_result_paths_create_depth() {
    let def = chain(json!([
        [
            "Tpl",
            pass(json!({"Parameters": {"a": {"b": {"c": {"d.$": "$.c.d"}}}}, "ResultPath": "$.t"}))
        ],
        [
            "Path",
            pass(json!({"InputPath": "$.t", "ResultPath": "$.x.y.z.w"}))
        ],
        [
            "Both",
            pass(
                json!({"Parameters": {"a": [{"b": [{"c.$": "$.x"}]}]}, "ResultPath": "$.x.y.z.w.v"})
            )
        ],
    ]));
    assert_edges(def, doc(), &["Tpl", "Path", "Both"]);
}

// ---------------------------------------------------------------------------
// Loops

#[test]
fn a_choice_loop_growing_the_payload_each_turn() {
    // one copy, one move, one task each turn: the bound is carried around
    // the loop and reset by measuring only past the limit
    let def = json!({"StartAt": "Loop", "States": {
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 5, "Next": "Wrap"}], "Default": "Out"},
        "Wrap": {"Type": "Pass", "Parameters": {"acc.$": "States.Array($.acc, $.n)", "n.$": "States.MathAdd($.n, 1)", "keep.$": "$.keep"}, "Next": "Move"},
        "Move": {"Type": "Pass", "InputPath": "$.keep", "Parameters": {"k.$": "$.k", "pad": "\u{1}"}, "ResultPath": "$.keep", "Next": "Call"},
        "Call": {"Type": "Task", "Resource": LAMBDA, "InputPath": "$.keep", "ResultPath": "$.keep", "Next": "Loop"},
        "Out": {"Type": "Pass", "End": true},
    }});
    let input = json!({"n": 0, "acc": [NASTY], "keep": {"k": numbers()}});
    assert_edges(def, input, &["Wrap", "Move", "Call"]);
}

#[test]
fn a_loop_shrinking_then_growing_back() {
    // a big value is dropped (the bound must follow it down only as far as
    // what was really dropped) and then grows back
    let def = json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"n": 0}, "Next": "Loop"},
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$n", "NumericLessThan": 4, "Next": "Drop"}], "Default": "Out"},
        "Drop": {"Type": "Pass", "OutputPath": "$.inner", "Next": "Grow"},
        "Grow": {"Type": "Pass", "Parameters": {"inner.$": "$", "pad": NASTY}, "Assign": {"n.$": "States.MathAdd($n, 1)"}, "Next": "Loop"},
        "Out": {"Type": "Pass", "End": true},
    }});
    let input = json!({"inner": {"x": "y"}});
    assert_edges(def, input, &["Grow"]);
}

#[test]
fn copies_past_the_limit_dropped_by_output_path_reset_the_bound() {
    // the template's copy is over the limit (its bound is "not known"), the
    // state output is not: the output is measured, the bound is exact again
    // and carried around a loop from there
    let big = "b".repeat(400);
    let def = json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Assign": {"n": 0}, "Next": "Loop"},
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$n", "NumericLessThan": 3, "Next": "Temp"}], "Default": "Out"},
        "Temp": {"Type": "Pass", "Parameters": {"big": big, "keep.$": "$", "more": NASTY}, "OutputPath": "$.keep", "Next": "Grow"},
        "Grow": {"Type": "Pass", "Result": "grown \u{1}", "ResultPath": "$.g", "Assign": {"n.$": "States.MathAdd($n, 1)"}, "Next": "Nest"},
        "Nest": {"Type": "Pass", "ResultPath": "$.again", "Next": "Loop"},
        "Out": {"Type": "Pass", "End": true},
    }});
    assert_edges(def.clone(), json!({"x": "y"}), &["Grow", "Nest"]);
    // under a limit below the copy the run still passes: only outputs count
    let sm = machine(&def);
    let o = run(&sm, json!({"x": "y"}), bytes(300), false);
    assert_eq!(o.status, Status::Succeeded, "{:?}", o.cause);
}

// ---------------------------------------------------------------------------
// Limits off

#[test]
fn with_the_limits_off_big_and_deep_payloads_pass_every_rule() {
    let mut deep = json!(NASTY);
    for _ in 0..300 {
        deep = json!([deep]);
    }
    let big = "x".repeat(300_000);
    let def = chain(json!([
        ["Move", pass(json!({"InputPath": "$.c", "Parameters": {"d.$": "$.d", "l": "x"}, "ResultPath": "$.c"}))],
        ["Copy", pass(json!({"Parameters": {"all.$": "$", "again.$": "$"}, "ResultPath": "$.copy"}))],
        ["Call", task(json!({"InputPath": "$.c", "ResultPath": "$.c"}))],
        ["Par", {"Type": "Parallel", "Branches": [branch(json!([["B", pass(json!({}))]]))], "ResultPath": "$.par"}],
        ["Out", pass(json!({"OutputPath": "$.copy.all"}))],
    ]));
    let sm = machine(&def);
    let input = json!({"c": {"d": deep}, "big": big});
    for limits in [
        Limits::unlimited(),
        Limits::default()
            .with_max_payload_bytes(None)
            .with_max_depth(None),
    ] {
        let o = run(&sm, input.clone(), limits, false);
        assert_eq!(o.status, Status::Succeeded, "{:?}", o.cause);
        let output = o.output.unwrap();
        assert_eq!(output["big"], input["big"]);
        assert_eq!(output["c"]["d"], input["c"]["d"]);
    }
    // the same run with the defaults fails on the byte limit
    let o = run(&sm, input, Limits::default(), false);
    assert_eq!(summary(&o), failed(size_cause("Move")));
}

#[test]
fn moved_values_shorter_than_the_null_they_leave() {
    // a moved `1`, `""` or `[]` leaves a `null` behind: four bytes where
    // there were fewer
    for tiny in [json!(1), json!(""), json!([]), json!({}), json!(0)] {
        let input = json!({"c": tiny, "d": tiny, "e": {"f": tiny, "g": tiny}, "pad": "x"});
        let def = chain(json!([
            [
                "PassMove",
                pass(
                    json!({"InputPath": "$.e", "Parameters": {"f.$": "$.f", "g.$": "$.g"}, "ResultPath": "$.e"})
                )
            ],
            [
                "TaskMove",
                task(json!({"InputPath": "$.c", "ResultPath": "$.c"}))
            ],
            [
                "TaskDrop",
                task(json!({"InputPath": "$.d", "ResultPath": "$.r", "OutputPath": "$.r"}))
            ],
        ]));
        assert_edges(def, input.clone(), &[]);
        let selector = chain(json!([[
            "Sel",
            task(
                json!({"Parameters": {"return.$": "$"}, "ResultSelector": {"c.$": "$.c", "d.$": "$.d", "f.$": "$.e.f"}, "ResultPath": "$.s"})
            )
        ],]));
        assert_edges(selector, input, &[]);
    }
}

// ---------------------------------------------------------------------------
// Random machines

/// Scalars as they come: every kind of number, strings with escapes (short,
/// and long runs of quotes and backslashes counted a word at a time).
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(vec![
            0.1, -0.0, 1e300, -1e-300, 5e-324, 1.0, 1e16, 123.456e-7
        ])
        .prop_map(Value::from),
        "[\\x00-\\x1f\"\\\\a-zé漢🦀 ]{0,20}".prop_map(Value::String),
        "[\"\\\\a\\x7f]{8,40}".prop_map(Value::String),
    ]
}

fn small_json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z\"\\\\\\x01\\n]{0,6}", inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn random_input() -> impl Strategy<Value = Value> {
    (
        small_json(),
        small_json(),
        prop::collection::vec(small_json(), 0..4),
        "[\\x00-\\x1f\"\\\\a-z漢]{0,16}",
    )
        .prop_map(|(a, d, items, s)| json!({"a": a, "c": {"d": d}, "items": items, "s": s}))
}

/// State `kind` of the pool, named `name`, going to `next` (`None`: the
/// end). Every state keeps the input's shape: `c` an object, `s` a string,
/// `items` an array.
fn pool_state(kind: usize, name: &str, next: Option<&str>, lit: &Value) -> Value {
    let scalar_lit = if lit.is_array() || lit.is_object() {
        json!("was a container")
    } else {
        lit.clone()
    };
    let then = next.unwrap_or("Done");
    let mut state = match kind {
        0 => pass(json!({"Result": lit, "ResultPath": "$.r.x"})),
        1 => pass(
            json!({"Parameters": {"a.$": "$.a", "lit": lit, "three.$": "States.Array($.a, $.a, $.a)"}, "ResultPath": "$.p"}),
        ),
        2 => pass(
            json!({"InputPath": "$.c", "Parameters": {"d.$": "$.d", "k\"\n": scalar_lit}, "ResultPath": "$.c"}),
        ),
        3 => pass(
            json!({"Parameters": {"in.$": "$", "pad": lit}, "ResultPath": "$.w", "OutputPath": "$.w.in"}),
        ),
        4 => task(json!({"Parameters": {"return.$": "$.c"}, "ResultPath": "$.c"})),
        5 => task(json!({"InputPath": "$.c", "ResultPath": "$.c"})),
        6 => task(
            json!({"Parameters": {"return.$": "$"}, "ResultSelector": {"v.$": "$.a", "d.$": "$.c.d", "l": scalar_lit}, "ResultPath": "$.sel"}),
        ),
        7 => task(json!({
            "Parameters": {"fail.$": "States.JsonToString($.c)"},
            "Retry": [{"ErrorEquals": ["Custom.Error"], "MaxAttempts": 1, "IntervalSeconds": 1}],
            "Catch": [{"ErrorEquals": ["Custom.Error"], "ResultPath": "$.err.e", "Next": then}],
        })),
        8 => {
            json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": then, "Assign": {"v.$": "$.c"}}], "Default": then})
        }
        9 => json!({"Type": "Wait", "Seconds": 1, "InputPath": "$", "OutputPath": "$"}),
        10 => json!({"Type": "Parallel", "ResultPath": "$.par", "Branches": [
            {"StartAt": format!("{name}P"), "States": {format!("{name}P"): {"Type": "Pass", "Parameters": {"c.$": "$.c", "lit": lit}, "End": true}}},
            {"StartAt": format!("{name}T"), "States": {format!("{name}T"): {"Type": "Task", "Resource": LAMBDA, "Parameters": {"return.$": "$.a"}, "End": true}}},
        ]}),
        11 => {
            json!({"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.items", "ItemProcessor":
            {"StartAt": format!("{name}I"), "States": {format!("{name}I"): {"Type": "Pass", "Parameters": {"it.$": "$", "l": lit}, "End": true}}}})
        }
        12 => json!({"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.mapped",
            "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "c.$": "$.c"},
            "ItemProcessor": {"StartAt": format!("{name}I"), "States": {format!("{name}I"): {"Type": "Task", "Resource": LAMBDA, "End": true}}}}),
        13 => pass(
            json!({"Parameters": {"fromvar.$": "$v", "ctx.$": "$$.Execution.Input.a"}, "ResultPath": "$.vars"}),
        ),
        14 => pass(json!({"Parameters": {"old.$": "$.a", "lit": lit}, "ResultPath": "$.a"})),
        15 => pass(
            json!({"Parameters": {"m.$": "States.JsonMerge($.c, $.c, false)", "f.$": "States.Format('x{}y', $.s)", "b.$": "States.Base64Encode($.s)", "j.$": "States.StringToJson(States.JsonToString($.c))"}, "ResultPath": "$.intr"}),
        ),
        16 => pass(json!({"ResultPath": "$.self"})),
        _ => pass(json!({"Assign": {"v.$": "$.a"}, "OutputPath": "$"})),
    };
    if state["Type"] != "Choice" {
        match next {
            Some(n) => state["Next"] = json!(n),
            None => state["End"] = json!(true),
        }
    }
    state
}

const POOL: usize = 18;

fn random_machine(kinds: &[(usize, Value)]) -> Value {
    let mut states = Map::new();
    states.insert(
        "Init".into(),
        json!({"Type": "Pass", "Assign": {"v.$": "$.c"}, "Next": "S0"}),
    );
    for (i, (kind, lit)) in kinds.iter().enumerate() {
        let name = format!("S{i}");
        let next = (i + 1 < kinds.len()).then(|| format!("S{}", i + 1));
        states.insert(name.clone(), pool_state(*kind, &name, next.as_deref(), lit));
    }
    let last = &states[&format!("S{}", kinds.len() - 1)];
    let needs_done = last["Type"] == "Choice" || last.get("Catch").is_some();
    if needs_done {
        states.insert("Done".into(), json!({"Type": "Succeed"}));
    }
    json!({"StartAt": "Init", "States": states})
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Any chain of the pool's states on any input: at each size and depth
    /// of its history and one below, and with a pad after one of its states.
    #[test]
    fn random_machines_fail_exactly_where_a_payload_passes_a_limit(
        kinds in prop::collection::vec((0..POOL, small_json()), 1..8),
        input in random_input(),
        pad_at in any::<prop::sample::Index>(),
    ) {
        let def = random_machine(&kinds);
        let sm = machine(&def);
        let Some(r) = try_reference(&sm, &input) else {
            return Ok(());
        };
        prop_assert_eq!(r.outcome.status, Status::Succeeded, "{:?}", r.outcome.cause);
        byte_edges(&sm, &r).map_err(TestCaseError::fail)?;
        depth_edges(&sm, &r).map_err(TestCaseError::fail)?;
        // one pad, after a random state
        let widest = r.checkpoints.iter().map(|c| len(&c.value)).max().unwrap_or(0);
        let pad = json!({"Type": "Pass", "Result": "p".repeat(widest + 1), "ResultPath": "$.zzpad"});
        let sites = sites(&def);
        let site = &sites[pad_at.index(sites.len())];
        if let Some(variant) = insert_pad(&def, site, pad) {
            let sm = machine(&variant);
            if let Some(r) = try_reference(&sm, &input) {
                let decided = byte_edges(&sm, &r).map_err(TestCaseError::fail)?;
                if r.checkpoints.iter().any(|c| c.name == "Pad") {
                    prop_assert!(decided.contains("Pad"), "pad after {:?}: {:?}", site, decided);
                }
            }
        }
    }
}
