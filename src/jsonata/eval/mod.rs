//! The evaluator: a tree walk over [`Node`]s reading borrowed JSON in place,
//! bounded by an evaluation-step budget, a nesting-depth limit and a stack
//! budget measured from the evaluation's own frame, so a runaway expression
//! ends with an error and never overflows the thread's stack.

pub(crate) mod call;
pub(crate) mod func;
pub(crate) mod obj;
pub(crate) mod ops;
pub(crate) mod path;
pub(crate) mod transform;
pub(crate) mod value;

use super::ast::{Kind, Node, Stage};
use super::error::Raw;
use super::Limits;
use func::{Frame, Func, Lambda};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use value::{Val, KEEP, OUTER, SEQ};

pub(crate) type R<T> = Result<T, Raw>;

/// Steps of the regular-expression matcher per evaluation step: one matcher
/// step (an instruction or a choice point revisited) costs a few nanoseconds,
/// an evaluation step (a node visited) several times that.
pub(crate) const REGEX_STEPS_PER_STEP: u64 = 8;

/// One evaluation's state.
pub(crate) struct Ev<'a> {
    pub labels: &'a [String],
    pub limits: Limits,
    steps: Cell<u64>,
    depth: Cell<usize>,
    stack_base: usize,
    pub now_ms: Option<f64>,
    pub rng: Cell<u64>,
    /// Frames that hold values able to close a reference cycle (a lambda bound
    /// in the scope it captures); their bindings are cleared when the
    /// evaluation ends, so nothing leaks.
    frames: RefCell<Vec<Weak<Frame<'a>>>>,
}

impl Drop for Ev<'_> {
    fn drop(&mut self) {
        for w in self.frames.borrow().iter() {
            if let Some(f) = w.upgrade() {
                if let Ok(mut v) = f.vars.try_borrow_mut() {
                    v.clear();
                }
            }
        }
    }
}

#[inline(never)]
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

impl<'a> Ev<'a> {
    pub fn new(labels: &'a [String], limits: Limits, now_ms: Option<f64>, seed: u64) -> Ev<'a> {
        Ev {
            labels,
            limits,
            steps: Cell::new(0),
            depth: Cell::new(0),
            stack_base: stack_position(),
            now_ms,
            rng: Cell::new(seed ^ 0x9E37_79B9_7F4A_7C15),
            frames: RefCell::new(Vec::new()),
        }
    }

    /// The next pseudo-random 64 bits (splitmix64 over the caller's seed).
    pub fn next_u64(&self) -> u64 {
        let s = self.rng.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.rng.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    pub fn next_f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn bind(&self, frame: &Rc<Frame<'a>>, name: &'a str, v: Option<Val<'a>>) {
        if matches!(v, Some(Val::Func(_) | Val::Arr(_) | Val::Obj(_))) {
            let mut frames = self.frames.borrow_mut();
            if frames.len() >= 1024 && frames.len().is_power_of_two() {
                frames.retain(|w| w.strong_count() > 0);
            }
            frames.push(Rc::downgrade(frame));
        }
        frame.bind(name, v);
    }

    /// Count a step and check the bounds; called on entry to every node.
    pub fn enter(&self, pos: usize) -> R<()> {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps > self.limits.max_steps {
            return Err(Raw::new("U1001")
                .pos(pos)
                .msg("Expression evaluation timeout: Check for infinite loop"));
        }
        let depth = self.depth.get() + 1;
        self.depth.set(depth);
        let used = self.stack_base.abs_diff(stack_position());
        if depth > self.limits.max_depth || used > self.limits.max_stack_bytes {
            self.depth.set(depth - 1);
            return Err(Raw::new("U1001").pos(pos).msg(
                "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.",
            ));
        }
        Ok(())
    }

    /// Run a regular-expression search on the evaluation's step budget: the
    /// matcher may spend [`REGEX_STEPS_PER_STEP`] of its steps for each
    /// evaluation step left, and what it spent is charged. Running out is the
    /// same `U1001` as any runaway evaluation, naming the pattern.
    pub fn regex_find(
        &self,
        re: &super::ast::RegexLit,
        s: &str,
        from: usize,
    ) -> R<Option<super::regexp::Captures>> {
        let left = self.limits.max_steps.saturating_sub(self.steps.get());
        let granted = left.saturating_mul(REGEX_STEPS_PER_STEP);
        let mut budget = granted;
        let found = re.regex.find_from(s, from, &mut budget);
        let spent = (granted - budget).div_ceil(REGEX_STEPS_PER_STEP);
        self.steps.set(self.steps.get().saturating_add(spent));
        found.map_err(|e| {
            let why = match e {
                super::regexp::Exhausted::Steps => {
                    "ran out of evaluation steps on this input (it backtracks too much)".to_string()
                }
                super::regexp::Exhausted::Stack => format!(
                    "needed more than {} backtracking points on this input",
                    super::regexp::MAX_STACK
                ),
            };
            Raw::new("U1001").msg(format!(
                "Expression evaluation timeout: the regular expression /{}/ {why}",
                re.source
            ))
        })
    }

    /// Undo the depth count of [`Ev::enter`].
    pub fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }

    /// Check a size against the cap on values built by evaluation.
    pub fn check_size(&self, n: usize) -> R<()> {
        if n > self.limits.max_items {
            return Err(Raw::new("U1002").msg(format!(
                "Evaluation built a value of {n} items or characters, over the limit of {}",
                self.limits.max_items
            )));
        }
        Ok(())
    }

    /// Check the bytes of a value about to be built against
    /// [`Limits::max_bytes`] (`U1004` past them).
    pub fn check_bytes(&self, n: usize) -> R<()> {
        if n > self.limits.max_bytes {
            return Err(super::detach::over_budget(self.limits.max_bytes));
        }
        Ok(())
    }

    /// Check the length of text about to be built: its bytes against
    /// [`Limits::max_bytes`] when that is bounded, else against
    /// [`Limits::max_items`] (as characters were counted before).
    pub fn check_text(&self, n: usize) -> R<()> {
        if self.limits.max_bytes == usize::MAX {
            self.check_size(n)
        } else {
            self.check_bytes(n)
        }
    }

    pub fn label(&self, slot: usize) -> &'a str {
        self.labels.get(slot).map(String::as_str).unwrap_or("")
    }

    pub fn eval(
        &self,
        node: &'a Node,
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        self.enter(node.pos)?;
        let r = self.eval_node(node, input, env);
        self.depth.set(self.depth.get().saturating_sub(1));
        let mut result = r?;
        if let Some(v) = &result {
            if v.depth() > self.limits.max_value_depth {
                return Err(Raw::new("U1002").pos(node.pos).msg(format!(
                    "Evaluation built a value nested deeper than the limit of {} levels",
                    self.limits.max_value_depth
                )));
            }
        }
        for stage in &node.predicate {
            if let Stage::Filter(p) = stage {
                result = self.filter(p, result, env)?;
            }
        }
        if !matches!(node.kind, Kind::Path(_)) {
            if let Some(g) = &node.group {
                result = Some(self.group(&g.pairs, g.pos, result, env)?);
            }
        }
        if let Some(Val::Arr(a)) = &result {
            if a.has(SEQ) {
                if node.keep_array {
                    a.set(KEEP);
                }
                if a.items.is_empty() {
                    return Ok(None);
                }
                if a.items.len() == 1 && !a.has(KEEP) {
                    return Ok(a.items.first().cloned());
                }
            }
        }
        Ok(result)
    }

    fn eval_node(
        &self,
        node: &'a Node,
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        Ok(match &node.kind {
            Kind::Path(steps) => return self.eval_path(node, steps, input, env),
            Kind::Binary(op, l, r) => return self.binary(node, op, l, r, input, env),
            Kind::Neg(e) => return self.negate(node, e, input, env),
            Kind::Array(items) => return self.array(node, items, input, env).map(Some),
            Kind::Object(pairs) => Some(self.group(pairs, node.pos, input.cloned(), env)?),
            Kind::Name(n) => path::lookup(input, n),
            Kind::Str(s) => Some(Val::str(s.as_str())),
            Kind::Num(n) => Some(Val::Num(*n)),
            Kind::Bool(b) => Some(Val::Bool(*b)),
            Kind::Null => Some(Val::Null),
            Kind::Wildcard => path::wildcard(input),
            Kind::Descendant => path::descendants(input),
            Kind::Parent(slot) => env.lookup(self.label(*slot)).flatten(),
            Kind::Variable(name) => {
                if name.is_empty() {
                    match input {
                        Some(Val::Arr(a)) if a.has(OUTER) => a.items.first().cloned(),
                        other => other.cloned(),
                    }
                } else {
                    self.variable(name, env)
                }
            }
            Kind::Regex(r) => Some(Val::Func(Rc::new(Func::Regex(r)))),
            Kind::Condition(c, t, e) => {
                let cond = self.eval(c, input, env)?;
                if value::boolean(cond.as_ref()) == Some(true) {
                    return self.eval(t, input, env);
                }
                match e {
                    Some(e) => return self.eval(e, input, env),
                    None => None,
                }
            }
            Kind::Block(exprs) => {
                let frame = Frame::child(env);
                let mut result = None;
                for e in exprs {
                    result = self.eval(e, input, &frame)?;
                }
                result
            }
            Kind::Bind(name, rhs) => {
                let v = self.eval(rhs, input, env)?;
                self.bind(env, name, v.clone());
                v
            }
            Kind::Call(p, args) => return self.call(node, p, args, input, env, None),
            Kind::Partial(p, args) => return self.partial(node, p, args, input, env),
            Kind::Lambda(def) => Some(Val::Func(Rc::new(Func::Lambda(Lambda {
                params: def.params.iter().map(String::as_str).collect(),
                sig: def.sig.as_ref(),
                body: &def.body,
                input: input.cloned(),
                env: env.clone(),
                thunk: def.thunk,
            })))),
            Kind::Apply(l, r) => return self.apply_op(node, l, r, input, env),
            Kind::Transform(..) => Some(Val::Func(Rc::new(Func::Transform(node, env.clone())))),
            Kind::Sort(terms) => {
                let v = input.cloned().unwrap_or_else(|| Val::seq(Vec::new()));
                Some(self.sort(node, terms, v, env)?)
            }
            Kind::Placeholder => return Err(Raw::new("S0201").pos(node.pos).tok("?")),
        })
    }

    /// A variable: the caller's bindings and the scopes first, then the built-ins.
    pub fn variable(&self, name: &str, env: &Rc<Frame<'a>>) -> Option<Val<'a>> {
        match env.lookup(name) {
            Some(v) => v,
            None => super::functions::lookup(name).map(|n| Val::Func(Rc::new(Func::Native(n)))),
        }
    }
}
