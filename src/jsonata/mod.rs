//! JSONata 2.0.6, the query language of AWS Step Functions' `JSONata` mode.
//!
//! An [`Expression`] is parsed once and evaluated many times. Evaluation reads
//! the input and the caller's variables in place (borrowed `serde_json::Value`s)
//! and copies only what a result must own. Time and randomness come from the
//! [`Env`] as plain values, so a test or a virtual clock stays deterministic.
//!
//! ```
//! use serde_json::json;
//! use stepfn::jsonata::{Env, Expression};
//!
//! let expr = Expression::parse("$sum(orders.(price * qty)) + $bonus").unwrap();
//! let input = json!({"orders": [{"price": 2, "qty": 3}, {"price": 5, "qty": 1}]});
//! let bonus = json!(10);
//! let mut env = Env::new();
//! env.bind("bonus", &bonus);
//! assert_eq!(expr.evaluate(Some(&input), &env).unwrap(), Some(json!(21)));
//!
//! // Errors carry JSONata's code and position.
//! let err = Expression::parse("1 +").unwrap_err();
//! assert_eq!(err.code(), "S0207");
//! ```
//!
//! `$states` in the ASL layer is an object whose members are values the caller
//! already owns: [`Env::bind_object`] binds it without copying them.
//!
//! Bounds ([`Limits`]): an evaluation-step budget (regular-expression matching
//! spends it too), a nesting-depth limit and a stack budget (so no expression
//! overflows even a 256 KiB thread stack), a cap on the items or
//! characters of a value built during evaluation, and one on its bytes;
//! running past one ends the evaluation with an error (`U1001`, `U1002`,
//! `U1004`).
//!
//! Not offered, as on AWS: `$eval`, an unbound name (calling it is `T1006`,
//! `Attempted to invoke a non-function`); `$parse` reads JSON text.

mod ast;
mod detach;
mod error;
mod eval;
pub(crate) mod functions;
mod lexer;
mod parser;
mod regexp;
mod signature;

pub(crate) use detach::Detached;
pub use error::Error;

use eval::func::Frame;
use eval::value::{Obj, Val, OUTER, SEQ};
use serde_json::Value;

/// Bounds on one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Evaluation steps (one per expression node visited, and one per 8 steps
    /// of a regular-expression match); default 5,000,000.
    pub max_steps: u64,
    /// Nesting depth of evaluation (as jsonata-js's guard counts it); default 10,000.
    pub max_depth: usize,
    /// Stack the evaluation may use, in bytes, measured from where it started;
    /// default 160 KiB, which leaves room on a 256 KiB thread.
    pub max_stack_bytes: usize,
    /// Items of one array built by evaluation (and bytes of one string when
    /// [`Limits::max_bytes`] is unbounded); default 10,000,000.
    pub max_items: usize,
    /// How deeply values built by evaluation may nest (the input's own depth
    /// is not counted); default 200. Deeper values could not be converted or
    /// dropped on a small stack.
    pub max_value_depth: u32,
    /// Bytes one value built by evaluation may take (`U1004` past them):
    /// a string its length (checked before the string is built where it
    /// could be much longer than what it is made of), the result as JSON
    /// text with every part of the input it copies measured before it is
    /// copied; default unbounded (`usize::MAX`). The bound that keeps a
    /// million items of a large string from being copied into one result.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 5_000_000,
            max_depth: 10_000,
            max_stack_bytes: 160 * 1024,
            max_items: 10_000_000,
            max_value_depth: 200,
            max_bytes: usize::MAX,
        }
    }
}

enum Binding<'a> {
    Borrowed(&'a Value),
    Object(Vec<(&'a str, &'a Value)>),
}

/// What an expression sees besides its input: variables, the current time, a
/// random seed, and the bounds. Everything is borrowed.
#[derive(Default)]
pub struct Env<'a> {
    vars: Vec<(&'a str, Binding<'a>)>,
    /// `$states` bound by [`Env::bind_states`] (kept apart: no vector to
    /// grow for the one binding every state's evaluation makes).
    states: Option<[Option<(&'static str, &'a Value)>; 4]>,
    now_ms: Option<i64>,
    seed: u64,
    limits: Limits,
}

impl<'a> Env<'a> {
    /// An environment with no variables, no current time, seed 0 and default limits.
    pub fn new() -> Env<'a> {
        Env::default()
    }
    /// Bind `$name` (without the `$`) to a value the caller owns.
    pub fn bind(&mut self, name: &'a str, value: &'a Value) -> &mut Self {
        self.vars.push((name, Binding::Borrowed(value)));
        self
    }
    /// Bind `$name` to an object made of borrowed members, e.g. `$states` with
    /// `input`, `result`, `errorOutput`, `context`.
    pub fn bind_object(&mut self, name: &'a str, members: Vec<(&'a str, &'a Value)>) -> &mut Self {
        self.vars.push((name, Binding::Object(members)));
        self
    }
    /// Bind `$states` to an object of the members given (`input`, `result`,
    /// `errorOutput`, `context`, each when `Some`), in that order.
    pub(crate) fn bind_states(
        &mut self,
        members: [Option<(&'static str, &'a Value)>; 4],
    ) -> &mut Self {
        self.states = Some(members);
        self
    }
    /// The current time in milliseconds since the Unix epoch, for `$now()` and
    /// `$millis()` (one value for the whole evaluation, as in jsonata-js).
    pub fn set_now_millis(&mut self, ms: i64) -> &mut Self {
        self.now_ms = Some(ms);
        self
    }
    /// The seed of `$random()`, `$shuffle()` and `$uuid()`.
    pub fn set_seed(&mut self, seed: u64) -> &mut Self {
        self.seed = seed;
        self
    }
    /// Replace the bounds.
    pub fn set_limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }
}

/// A parsed JSONata expression.
#[derive(Debug)]
pub struct Expression {
    root: ast::Node,
    labels: Vec<String>,
    vars: Vec<String>,
    /// `$name.key.key...` with nothing else: see [`Expression::simple_path`].
    simple: Option<(String, Vec<String>)>,
}

impl Expression {
    /// Parse (compile) an expression. Syntax errors carry S0xxx codes.
    pub fn parse(src: &str) -> Result<Expression, Error> {
        let (p, vars) = parser::Parser::parse(src).map_err(|e| e.finish())?;
        let (root, labels) = ast::Processor::run(p).map_err(|e| e.finish())?;
        let simple = simple_path(&root);
        Ok(Expression {
            root,
            labels,
            vars,
            simple,
        })
    }

    /// When the expression is only a variable followed by field names
    /// (`$states.input.order.id`, `$x`), the variable and the names. Such a
    /// path gives the value found by walking objects, unchanged (an array
    /// included) when every step before the last met an object; nothing
    /// (undefined) when a step met no such field or a scalar; a caller may
    /// read it so without evaluating, and must evaluate when a step before
    /// the last meets an array (JSONata then maps over it).
    pub(crate) fn simple_path(&self) -> Option<(&str, &[String])> {
        self.simple
            .as_ref()
            .map(|(var, keys)| (var.as_str(), keys.as_slice()))
    }

    /// The names (without `$`) of the variables the expression mentions,
    /// read or bound, each once: a caller binds only those of its variables
    /// (`$` and `$$` show as `""` and `"$"`).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.vars.iter().map(String::as_str)
    }

    /// The first field name the expression reads from its input at the top
    /// level (`phone` in `phone & '!'`, `b` in `$map($x, function($v){ b })`,
    /// whose body keeps the context it is defined in; not `a` in `$x.a` or in
    /// a predicate), `$` for the context item itself or `$$` for the root:
    /// AWS refuses those in a state, whose expressions have no input
    /// (`UNSUPPORTED_JSONATA_EXPRESSION`).
    pub(crate) fn top_level_field(&self) -> Option<&str> {
        use ast::Kind;
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            match &node.kind {
                Kind::Name(name) => return Some(name),
                Kind::Variable(v) if v.is_empty() => return Some("$"),
                Kind::Variable(v) if v == "$" => return Some("$$"),
                Kind::Lambda(def) => stack.push(&def.body),
                Kind::Path(steps) => stack.extend(steps.first()),
                Kind::Binary(_, a, b) | Kind::Apply(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Kind::Neg(e) | Kind::Bind(_, e) => stack.push(e),
                Kind::Array(items) | Kind::Block(items) => stack.extend(items.iter().rev()),
                Kind::Object(pairs) => {
                    for (k, v) in pairs.iter().rev() {
                        stack.push(v);
                        stack.push(k);
                    }
                }
                Kind::Condition(c, t, e) => {
                    stack.extend(e.as_deref());
                    stack.push(t);
                    stack.push(c);
                }
                Kind::Call(f, args) | Kind::Partial(f, args) => {
                    stack.extend(args.iter().rev());
                    stack.push(f);
                }
                _ => {}
            }
        }
        None
    }

    /// The members of `$states` the expression reads by name (`errorOutput`
    /// in `$states.errorOutput.Cause`, at any depth), each once, in writing
    /// order; none when the expression binds `$states` itself (by `:=`, as a
    /// lambda parameter or a path's `@`/`#` variable), whose members are
    /// then its own.
    pub(crate) fn states_members(&self) -> Vec<&str> {
        use ast::{Kind, Stage};
        let mut found: Vec<&str> = Vec::new();
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            let binds = |name: &Option<String>| name.as_deref() == Some("states");
            if binds(&node.focus) || binds(&node.index) {
                return Vec::new();
            }
            for stage in node.predicate.iter().chain(&node.stages).rev() {
                match stage {
                    Stage::Filter(f) => stack.push(f),
                    Stage::Index(name) if name == "states" => return Vec::new(),
                    Stage::Index(_) => {}
                }
            }
            if let Some(group) = &node.group {
                for (k, v) in group.pairs.iter().rev() {
                    stack.push(v);
                    stack.push(k);
                }
            }
            match &node.kind {
                Kind::Path(steps) => {
                    if let [first, second, ..] = steps.as_slice() {
                        if let (Kind::Variable(v), Kind::Name(m)) = (&first.kind, &second.kind) {
                            if v == "states" && !found.contains(&m.as_str()) {
                                found.push(m);
                            }
                        }
                    }
                    stack.extend(steps.iter().rev());
                }
                Kind::Bind(name, _) if name == "states" => return Vec::new(),
                Kind::Lambda(def) if def.params.iter().any(|p| p == "states") => return Vec::new(),
                Kind::Lambda(def) => stack.push(&def.body),
                Kind::Binary(_, a, b) | Kind::Apply(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Kind::Neg(e) | Kind::Bind(_, e) => stack.push(e),
                Kind::Array(items) | Kind::Block(items) => stack.extend(items.iter().rev()),
                Kind::Object(pairs) => {
                    for (k, v) in pairs.iter().rev() {
                        stack.push(v);
                        stack.push(k);
                    }
                }
                Kind::Condition(c, t, e) | Kind::Transform(c, t, e) => {
                    stack.extend(e.as_deref());
                    stack.push(t);
                    stack.push(c);
                }
                Kind::Call(f, args) | Kind::Partial(f, args) => {
                    stack.extend(args.iter().rev());
                    stack.push(f);
                }
                Kind::Sort(terms) => stack.extend(terms.iter().rev().map(|(_, t)| t)),
                Kind::Name(_)
                | Kind::Str(_)
                | Kind::Num(_)
                | Kind::Bool(_)
                | Kind::Null
                | Kind::Wildcard
                | Kind::Descendant
                | Kind::Parent(_)
                | Kind::Variable(_)
                | Kind::Regex(_)
                | Kind::Placeholder => {}
            }
        }
        found
    }

    /// Evaluate against `input` (`None` = undefined). `Ok(None)` is an undefined
    /// result. A function value as the result comes back as `""` (what `$string`
    /// makes of one); [`Expression::evaluate_outcome`] tells it apart.
    pub fn evaluate(&self, input: Option<&Value>, env: &Env<'_>) -> Result<Option<Value>, Error> {
        Ok(match self.evaluate_outcome(input, env)? {
            Outcome::Value(v) => Some(v),
            Outcome::Undefined => None,
            Outcome::Function => Some(Value::String(String::new())),
        })
    }

    /// Evaluate, telling a function result apart (AWS refuses one as a field's
    /// value: "returned an unsupported result type").
    pub fn evaluate_outcome(&self, input: Option<&Value>, env: &Env<'_>) -> Result<Outcome, Error> {
        Ok(match self.evaluate_detached(input, env, (&[], None))? {
            Outcome::Value(d) => Outcome::Value(d.fill(&mut [])),
            Outcome::Undefined => Outcome::Undefined,
            Outcome::Function => Outcome::Function,
        })
    }

    /// Evaluate, leaving the parts of the result that are `sources` (values
    /// the caller owns and gives up afterwards) or their direct members as
    /// holes to move them in by [`detach::Detached::fill`].
    /// With `bounds` (one per source), the result keeps an upper bound of
    /// its size and depth ([`detach::Detached::bound`]).
    pub(crate) fn evaluate_detached(
        &self,
        input: Option<&Value>,
        env: &Env<'_>,
        (sources, bounds): (&[&Value], Option<&[crate::json::Measure]>),
    ) -> Result<Outcome<detach::Detached>, Error> {
        let ev = eval::Ev::new(
            &self.labels,
            env.limits,
            env.now_ms.map(|m| m as f64),
            env.seed,
        );
        let root = Frame::root();
        if let Some(members) = &env.states {
            let mut o = Obj::with_capacity(members.iter().flatten().count());
            for (k, v) in members.iter().flatten() {
                o.insert(*k, Val::Ref(v));
            }
            // borrowed JSON holds no function: no frame to clear afterwards
            root.bind("states", Some(Val::obj(o)));
        }
        for (name, b) in &env.vars {
            let v = match b {
                Binding::Borrowed(v) => Val::Ref(v),
                Binding::Object(members) => {
                    let mut o = Obj::with_capacity(members.len());
                    for (k, v) in members {
                        o.insert(*k, Val::Ref(v));
                    }
                    Val::obj(o)
                }
            };
            // borrowed JSON holds no function: no frame to clear afterwards
            root.bind(name, Some(v));
        }
        if input.is_some() {
            // `$$` unbound is undefined as well
            ev.bind(&root, "$", input.map(Val::Ref));
        }
        let input = match input {
            Some(v @ Value::Array(_)) => Some(Val::flagged(vec![Val::Ref(v)], SEQ | OUTER)),
            other => other.map(Val::Ref),
        };
        let result = ev
            .eval(&self.root, input.as_ref(), &root)
            .map_err(|e| e.finish())?;
        match result {
            None => Ok(Outcome::Undefined),
            Some(Val::Func(_)) => Ok(Outcome::Function),
            Some(v) => {
                let mut conv = detach::Conv::new(sources, env.limits.max_bytes);
                if let Some(b) = bounds {
                    conv.keep_bound(b);
                }
                conv.convert(&v)
                    .map(Outcome::Value)
                    .map_err(error::Raw::finish)
            }
        }
    }

    /// A value the caller found without evaluating (see
    /// [`Expression::simple_path`]), as [`Expression::evaluate_detached`]
    /// would give it.
    pub(crate) fn detach_found(
        found: &Value,
        limits: &Limits,
        (sources, bounds): (&[&Value], Option<&[crate::json::Measure]>),
    ) -> Result<detach::Detached, Error> {
        let mut conv = detach::Conv::new(sources, limits.max_bytes);
        if let Some(b) = bounds {
            conv.keep_bound(b);
        }
        conv.convert_ref(found).map_err(error::Raw::finish)
    }
}

/// The variable and field names of an expression that is only
/// `$name.key...` (no predicate, stage, binding or flag on any step).
fn simple_path(root: &ast::Node) -> Option<(String, Vec<String>)> {
    use ast::Kind;
    let plain = |n: &ast::Node| {
        !(n.keep_array || n.cons_array || n.tuple || n.keep_singleton)
            && n.focus.is_none()
            && n.index.is_none()
            && n.ancestor.is_none()
            && n.predicate.is_empty()
            && n.stages.is_empty()
            && n.group.is_none()
    };
    if !plain(root) {
        return None;
    }
    let variable = |n: &ast::Node| match &n.kind {
        Kind::Variable(v) if plain(n) && !v.is_empty() && v != "$" => Some(v.clone()),
        _ => None,
    };
    match &root.kind {
        Kind::Variable(_) => Some((variable(root)?, Vec::new())),
        Kind::Path(steps) => {
            let (first, rest) = steps.split_first()?;
            let var = variable(first)?;
            let keys = rest
                .iter()
                .map(|s| match &s.kind {
                    Kind::Name(n) if plain(s) => Some(n.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<String>>>()?;
            Some((var, keys))
        }
        _ => None,
    }
}

/// What an evaluation produced.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<V = Value> {
    /// A JSON value.
    Value(V),
    /// Nothing (JSONata's undefined).
    Undefined,
    /// A function (a lambda, a built-in, a partial application, a regex).
    Function,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_recursion_ends_with_an_error_on_a_256_kib_stack() {
        let worker = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let deep = Expression::parse(
                    "($f := function($n){$n = 0 ? 0 : 1 + $f($n - 1)}; $f(100000))",
                )
                .unwrap();
                let err = deep.evaluate(None, &Env::new()).unwrap_err();
                let nested = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
                let parse_err = Expression::parse(&nested).unwrap_err();
                let small =
                    Expression::parse("($f := function($n){$n = 0 ? 0 : 1 + $f($n - 1)}; $f(5))")
                        .unwrap();
                let ok = small.evaluate(None, &Env::new()).unwrap();
                (err.code().to_string(), parse_err.code().to_string(), ok)
            })
            .unwrap();
        let (code, parse_code, ok) = worker.join().unwrap();
        assert_eq!(code, "U1001");
        assert_eq!(parse_code, "U1001");
        assert_eq!(ok, Some(json!(5)));
    }

    #[test]
    fn a_function_result_is_told_apart() {
        let e = Expression::parse("function($x){$x}").unwrap();
        assert_eq!(
            e.evaluate_outcome(None, &Env::new()).unwrap(),
            Outcome::Function
        );
        assert_eq!(e.evaluate(None, &Env::new()).unwrap(), Some(json!("")));
        let u = Expression::parse("nothing").unwrap();
        assert_eq!(
            u.evaluate_outcome(Some(&json!({})), &Env::new()).unwrap(),
            Outcome::Undefined
        );
    }

    #[test]
    fn compiled_expressions_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Expression>();
        send_sync::<Error>();
        send_sync::<Env<'static>>();
    }

    #[test]
    fn errors_carry_code_position_and_token() {
        let e = Expression::parse("$sum(1, 2, 3)").unwrap();
        let err = e.evaluate(None, &Env::new()).unwrap_err();
        assert_eq!(err.code(), "T0410");
        assert_eq!(
            err.message(),
            "Argument 2 of function \"sum\" does not match function signature"
        );
        assert_eq!(err.position(), Some(5));
        assert_eq!(err.token(), Some("sum"));
        assert_eq!(Expression::parse("a ?? b").unwrap_err().code(), "S0211");
        assert_eq!(Expression::parse("a ?: b").unwrap_err().code(), "S0211");
    }

    #[test]
    fn time_and_randomness_come_from_the_environment() {
        let e = Expression::parse("[$now(), $millis(), $random() = $random(), $uuid()]").unwrap();
        let mut env = Env::new();
        env.set_now_millis(1_700_000_000_123).set_seed(42);
        let a = e.evaluate(None, &env).unwrap();
        assert_eq!(a, e.evaluate(None, &env).unwrap());
        let a = a.unwrap();
        assert_eq!(a[0], json!("2023-11-14T22:13:20.123Z"));
        assert_eq!(a[1], json!(1_700_000_000_123_i64));
        assert_eq!(a[2], json!(false));
        let err = e.evaluate(None, &Env::new()).unwrap_err();
        assert_eq!(err.code(), "U1003");
        let seeded = Expression::parse("$random(7) = $random(7)").unwrap();
        assert_eq!(
            seeded.evaluate(None, &Env::new()).unwrap(),
            Some(json!(true))
        );
    }

    #[test]
    fn eval_is_not_bound_as_on_aws() {
        let e = Expression::parse("$eval('1 + 1')").unwrap();
        let err = e.evaluate(None, &Env::new()).unwrap_err();
        assert_eq!(
            (err.code(), err.message()),
            ("T1006", "Attempted to invoke a non-function")
        );
        let own = Expression::parse("($eval := function($s){ $s & '!' }; $eval('hi'))").unwrap();
        assert_eq!(own.evaluate(None, &Env::new()).unwrap(), Some(json!("hi!")));
    }

    #[test]
    fn values_nested_without_end_are_refused() {
        let e = Expression::parse(
            "($f := function($n, $acc){$n = 0 ? $acc : $f($n - 1, {'a': $acc})}; $f(100000, 1))",
        )
        .unwrap();
        let err = e.evaluate(None, &Env::new()).unwrap_err();
        assert_eq!(err.code(), "U1002");
        let ok = Expression::parse(
            "($f := function($n, $acc){$n = 0 ? $acc : $f($n - 1, [[$acc]])}; $f(3, 1))",
        )
        .unwrap();
        assert_eq!(
            ok.evaluate(None, &Env::new()).unwrap(),
            Some(json!([[[[1]]]]))
        );
    }

    #[test]
    fn an_infinite_loop_runs_out_of_steps() {
        let e = Expression::parse("($f := function(){$f()}; $f())").unwrap();
        let mut env = Env::new();
        env.set_limits(Limits {
            max_steps: 10_000,
            ..Limits::default()
        });
        let err = e.evaluate(None, &env).unwrap_err();
        assert_eq!(err.code(), "U1001");
        assert_eq!(
            err.message(),
            "Expression evaluation timeout: Check for infinite loop"
        );
    }

    #[test]
    fn variables_lists_the_names_mentioned_once() {
        let e = Expression::parse("($f := function($x){$x}; $a + $b.c + $f($a))").unwrap();
        let names: Vec<&str> = e.variables().collect();
        assert_eq!(names, ["f", "x", "a", "b"]);
    }

    #[test]
    fn top_level_field_references_are_found() {
        let field = |src: &str| {
            Expression::parse(src)
                .unwrap()
                .top_level_field()
                .map(str::to_owned)
        };
        assert_eq!(field("phone"), Some("phone".into()));
        assert_eq!(field("$x + (a.b)"), Some("a".into()));
        assert_eq!(field("{'k': [1, v]}"), Some("v".into()));
        assert_eq!(field("$count(items)"), Some("items".into()));
        assert_eq!(field("$states.input.items[price > 5].name"), None);
        assert_eq!(field("$map($x, function($v){ $v.a })"), None);
        assert_eq!(
            field("$map($x, function($v){ $v.a + b })"),
            Some("b".into())
        );
        assert_eq!(field("$ + 1"), Some("$".into()));
        assert_eq!(field("$$.a"), Some("$$".into()));
        assert_eq!(field("$x[$$ = 1]"), None);
        assert_eq!(field("$x.($)"), None);
        assert_eq!(field("($y := 1; $y ? 'a' : 'b')"), None);
    }

    #[test]
    fn states_members_are_found_at_any_depth_unless_states_is_rebound() {
        let members = |src: &str| {
            let e = Expression::parse(src).unwrap();
            e.states_members()
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(members("$states.errorOutput.Cause"), ["errorOutput"]);
        assert_eq!(
            members("$states.input.a[$states.result > 1] & $states.input.b"),
            ["input", "result"]
        );
        assert_eq!(
            members("$map($states.input, function($v){ $states.errorOutput })"),
            ["input", "errorOutput"]
        );
        assert_eq!(members("$x{'k': $states.item}"), ["item"]);
        assert_eq!(members("$x^($states.context.a)"), ["context"]);
        assert_eq!(members("$states ~> |$|{'a': $states.result}|"), ["result"]);
        assert_eq!(
            members("$states.input.x ? $states.result : 1"),
            ["input", "result"]
        );
        assert!(members("$states").is_empty());
        assert!(members("$states.input.errorOutput").len() == 1);
        for bound in [
            "($states := {'result': 1}; $states.result)",
            "function($states){ $states.result }",
            "$x@$states.result",
            "$x#$states.($states.result)",
        ] {
            assert!(members(bound).is_empty(), "{bound}");
        }
    }

    #[test]
    fn simple_paths_are_told_apart() {
        let simple = |src: &str| {
            Expression::parse(src)
                .unwrap()
                .simple_path()
                .map(|(v, k)| (v.to_owned(), k.to_vec()))
        };
        assert_eq!(
            simple("$states.input.id"),
            Some(("states".into(), vec!["input".into(), "id".into()]))
        );
        assert_eq!(simple("$x"), Some(("x".into(), vec![])));
        for not in [
            "$x.a[0]",
            "$x.a[]",
            "$x.a.$b",
            "$x.(a)",
            "$x.a#$i",
            "$x.a@$y",
            "$x.a^(b)",
            "$",
            "$$",
            "a.b",
            "$x.a{'k': b}",
            "$x.`a b`.c + 1",
        ] {
            assert_eq!(simple(not), None, "{not}");
        }
        assert_eq!(simple("$x.`a b`"), Some(("x".into(), vec!["a b".into()])));
    }

    #[test]
    fn states_binds_borrowed_members() {
        let input = json!({"a": 1});
        let ctx = json!({"Execution": {"Id": "x"}});
        let mut env = Env::new();
        env.bind_object("states", vec![("input", &input), ("context", &ctx)]);
        let e = Expression::parse("$states.input.a & $states.context.Execution.Id").unwrap();
        assert_eq!(e.evaluate(None, &env).unwrap(), Some(json!("1x")));
    }
}
