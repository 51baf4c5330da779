//! Regular expressions on the evaluation's bounds: a pattern that backtracks
//! catastrophically ends with `U1001` (stepfn's bound; jsonata-js and AWS run
//! such a match for as long as it takes), never a hang. Each case asserts the
//! outcome, with the step budget as the only clock.

use serde_json::{json, Value};
use stepfn::jsonata::{Env, Expression, Limits};

/// Evaluate with `max_steps` evaluation steps: the result, or `code: message`.
fn eval_with(expr: &str, max_steps: u64) -> Result<Option<Value>, String> {
    let mut env = Env::new();
    env.set_limits(Limits {
        max_steps,
        ..Limits::default()
    });
    Expression::parse(expr)
        .and_then(|e| e.evaluate(None, &env))
        .map_err(|e| format!("{}: {}", e.code(), e.message()))
}

fn eval(expr: &str) -> Result<Option<Value>, String> {
    eval_with(expr, Limits::default().max_steps)
}

fn runaway(pattern: &str) -> Result<Option<Value>, String> {
    Err(format!(
        "U1001: Expression evaluation timeout: the regular expression /{pattern}/ ran out of evaluation steps on this input (catastrophic backtracking)"
    ))
}

const A40: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const X40: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

#[test]
fn nested_plus_before_a_mismatch_ends_with_the_step_error() {
    assert_eq!(
        eval(&format!("$match('{A40}!', /(a+)+$/)")),
        runaway("(a+)+$")
    );
}

#[test]
fn nested_plus_matches_when_it_can() {
    assert_eq!(
        eval(&format!("$match('{A40}', /(a+)+$/).groups")),
        Ok(Some(json!([A40])))
    );
}

#[test]
fn overlapping_alternation_ends_with_the_step_error() {
    assert_eq!(
        eval(&format!("$contains('{A40}', /(a|aa)*b/)")),
        runaway("(a|aa)*b")
    );
}

#[test]
fn overlapping_alternation_matches_when_it_can() {
    assert_eq!(
        eval(&format!("$contains('{A40}b', /(a|aa)*b/)")),
        Ok(Some(json!(true)))
    );
}

#[test]
fn adjacent_pluses_in_a_loop_end_with_the_step_error() {
    assert_eq!(
        eval(&format!("$split('{X40}', /(x+x+)+y/)")),
        runaway("(x+x+)+y")
    );
}

#[test]
fn adjacent_pluses_in_a_loop_match_when_they_can() {
    assert_eq!(
        eval(&format!("$split('{X40}y!', /(x+x+)+y/)")),
        Ok(Some(json!(["", "!"])))
    );
}

#[test]
fn words_and_optional_spaces_end_with_the_step_error() {
    assert_eq!(
        eval(&format!("$replace('{A40}!', /^(\\w+\\s?)*$/, 'x')")),
        runaway("^(\\w+\\s?)*$")
    );
}

#[test]
fn words_and_optional_spaces_match_when_they_can() {
    assert_eq!(
        eval(&format!("$replace('{A40} {A40}', /^(\\w+\\s?)*$/, 'x')")),
        Ok(Some(json!("x")))
    );
}

#[test]
fn a_regex_applied_directly_is_bounded_too() {
    assert_eq!(eval(&format!("'{A40}!' ~> /(a+)+$/")), runaway("(a+)+$"));
}

#[test]
fn a_regex_in_a_predicate_is_bounded_too() {
    assert_eq!(
        eval(&format!("['{A40}!'][$contains($, /(a|aa)*b/)]")),
        runaway("(a|aa)*b")
    );
}

/// The matcher spends the evaluation's own budget: 8 matcher steps per
/// evaluation step. 10,000 `a`s cost `(a+)+$` a little over 10,000 matcher
/// steps (one per character, a few per loop iteration and choice point).
#[test]
fn matching_spends_the_evaluation_step_budget() {
    let long = "a".repeat(10_000);
    let expr = format!("$contains('{long}', /(a+)+$/)");
    assert_eq!(eval_with(&expr, 2_000), Ok(Some(json!(true))));
    assert_eq!(eval_with(&expr, 1_000), runaway("(a+)+$"));
}

#[test]
fn a_pattern_nested_too_deeply_is_a_syntax_error() {
    let deep = format!("/{}a{}/", "(".repeat(65), ")".repeat(65));
    assert_eq!(
        eval(&format!("$match('a', {deep})")),
        Err("S0303: Invalid regular expression: Pattern nested too deeply".to_string())
    );
}

#[test]
fn the_deepest_pattern_allowed_runs_on_a_small_stack() {
    let r = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let deep = format!("/{}a{}/", "(?:".repeat(63), ")".repeat(63));
            eval(&format!("$match('ba', {deep}).match"))
        })
        .expect("thread")
        .join()
        .expect("no panic");
    assert_eq!(r, Ok(Some(json!("a"))));
}

/// Match offsets count UTF-16 units, counted on from one match to the next.
#[test]
fn offsets_of_successive_matches_count_utf16_units() {
    assert_eq!(
        eval("$match('😀a😀ab', /a/).index"),
        Ok(Some(json!([2, 5])))
    );
    assert_eq!(
        eval("$replace('é😀ab😀a', /a/, function($m){ $string($m.start) })"),
        Ok(Some(json!("é😀3b😀7")))
    );
}
