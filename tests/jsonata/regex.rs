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
        "U1001: Expression evaluation timeout: the regular expression /{pattern}/ ran out of evaluation steps on this input (it backtracks too much)"
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

/// stepfn's bound (see the crate's Compatibility section): JavaScript takes
/// deeper patterns; ours stop at 64 levels so compiling fits a small stack.
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

/// A match holds at most 2^20 backtracking points (about 32 MiB): a loop of
/// alternatives over a long subject runs out of them before the step budget.
#[test]
fn too_many_backtracking_points_is_an_error() {
    let input = json!("ab".repeat(600_000));
    let out = Expression::parse("$contains($, /(?:a|b)*c/)")
        .and_then(|e| e.evaluate(Some(&input), &Env::new()))
        .map_err(|e| format!("{}: {}", e.code(), e.message()));
    assert_eq!(
        out,
        Err("U1001: Expression evaluation timeout: the regular expression /(?:a|b)*c/ needed more than 1048576 backtracking points on this input".to_string())
    );
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

/// Random patterns (that JSONata's lexer can read) and subjects, generated
/// and matched by V8 under node; each must give `$match` the same first match
/// (undefined groups are `""`, as `$match` reports them) or the same refusal.
const V8_CASES: &str = r#"
let seed = 20260101;
const rnd = n => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n; };
const atoms = ['a','b','.','\\d','\\w','\\s','\\W','[ab]','[^a]','[a-c]','[\\d-b]','\\b','\\B','^','$',
  '\\1','\\2','A','\u03c3','\u03c2','\u03a3','\u017f','k','\\u212A','\u00df','\\x41','\\101','\\cJ','\\8',
  'a{,2}','(?<n>a|b)','\\k<n>'];
const quants = ['*','+','?','{2}','{1,3}','*?','+?','??','{0,2}?'];
function gen(d) {
  let out = '';
  for (let i = 1 + rnd(4); i > 0; i--) {
    const k = rnd(d > 0 ? 11 : 7);
    let t = k < 7 ? atoms[rnd(atoms.length)]
      : k === 7 ? '(' + gen(d - 1) + ')'
      : k === 8 ? '(?:' + gen(d - 1) + '|' + gen(d - 1) + ')'
      : k === 9 ? ['(?=', '(?!', '(?<=', '(?<!'][rnd(4)] + gen(d - 1) + ')'
      : '(' + gen(d - 1) + '|' + gen(d - 1) + ')';
    if (rnd(10) < 4 && !/^(\^|\$|\\b|\\B|\(\?<[=!])/.test(t)) t += quants[rnd(quants.length)];
    out += t;
  }
  return out;
}
const alpha = ['a','b','A','B',' ','1','\n','\r','k','K','\u212A','\u03c3','\u03c2','\u03a3','s','S','\u017f','\u00e9','_','x'];
for (let i = 0; i < 3000; i++) {
  const p = gen(2), f = ['', 'i', 'm', 'im'][rnd(4)];
  let s = '';
  for (let j = rnd(12); j > 0; j--) s += alpha[rnd(alpha.length)];
  let r;
  try {
    const m = new RegExp(p, f).exec(s);
    r = m && { match: m[0], index: m.index, groups: m.slice(1).map(g => g === undefined ? '' : g) };
  } catch (e) { r = 'error'; }
  console.log(JSON.stringify({ p, f, s, r }));
}
"#;

#[test]
fn agrees_with_v8_when_node_is_installed() {
    let Ok(out) = std::process::Command::new("node")
        .args(["-e", V8_CASES])
        .output()
    else {
        eprintln!("node is not installed: the differential check against V8 is skipped");
        return;
    };
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let mut cases = 0;
    let mut differ = Vec::new();
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).expect("a case");
        let (p, f) = (
            case["p"].as_str().unwrap_or(""),
            case["f"].as_str().unwrap_or(""),
        );
        let s = case["s"].clone();
        let mut env = Env::new();
        env.bind("s", &s);
        let ours = match Expression::parse(&format!("$match($s, /{p}/{f}, 1)")) {
            Err(e) if e.code() == "S0303" => json!("error"),
            Err(e) => json!(format!("{}: {}", e.code(), e.message())),
            Ok(e) => match e.evaluate(None, &env) {
                Ok(Some(Value::Array(a))) => a.first().cloned().unwrap_or(Value::Null),
                Ok(Some(v)) => v,
                Ok(None) => Value::Null,
                Err(e) => json!(format!("{}: {}", e.code(), e.message())),
            },
        };
        cases += 1;
        if ours != case["r"] {
            differ.push(format!("/{p}/{f} on {s}: V8 {} stepfn {ours}", case["r"]));
        }
    }
    assert_eq!(cases, 3000);
    let first: Vec<_> = differ.iter().take(10).collect();
    assert_eq!((differ.len(), first), (0, Vec::<&String>::new()));
}
