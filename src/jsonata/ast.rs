//! The evaluated tree, and the pass that builds it from the parse tree: paths
//! become step lists, predicates attach to steps, `%` finds its ancestor step,
//! `@`/`#` bindings turn steps into tuple steps, and tail calls become thunks.

use super::error::Raw;
use super::parser::{P, PK};
use super::signature::Signature;

/// A regular-expression literal, compiled once.
pub(crate) struct RegexLit {
    pub regex: super::regexp::Regex,
    pub source: String,
}

impl std::fmt::Debug for RegexLit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/{}/", self.source)
    }
}

#[derive(Debug)]
pub(crate) struct LambdaDef {
    pub params: Vec<String>,
    pub sig: Option<Signature>,
    pub body: Node,
    pub thunk: bool,
}

#[derive(Debug)]
pub(crate) enum Stage {
    Filter(Node),
    Index(String),
}

#[derive(Debug)]
pub(crate) struct Group {
    pub pairs: Vec<(Node, Node)>,
    pub pos: usize,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Path(Vec<Node>),
    Binary(&'static str, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    Array(Vec<Node>),
    Object(Vec<(Node, Node)>),
    Name(String),
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Wildcard,
    Descendant,
    Parent(usize),
    Variable(String),
    Regex(Box<RegexLit>),
    Condition(Box<Node>, Box<Node>, Option<Box<Node>>),
    Block(Vec<Node>),
    Bind(String, Box<Node>),
    Call(Box<Node>, Vec<Node>),
    Partial(Box<Node>, Vec<Node>),
    Placeholder,
    Lambda(Box<LambdaDef>),
    Apply(Box<Node>, Box<Node>),
    Transform(Box<Node>, Box<Node>, Option<Box<Node>>),
    Sort(Vec<(bool, Node)>),
}

/// A node of the evaluated tree. The rarely set parts live behind a box, so
/// a node stays small (the parser's and evaluator's stack frames hold many).
#[derive(Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub pos: usize,
    pub keep_array: bool,
    pub cons_array: bool,
    pub tuple: bool,
    pub keep_singleton: bool,
    ext: Box<NodeExt>,
}

#[derive(Debug, Default)]
pub(crate) struct NodeExt {
    pub focus: Option<String>,
    pub index: Option<String>,
    pub ancestor: Option<usize>,
    pub predicate: Vec<Stage>,
    pub stages: Vec<Stage>,
    pub group: Option<Box<Group>>,
    pub seeking: Vec<usize>,
}

impl std::ops::Deref for Node {
    type Target = NodeExt;
    fn deref(&self) -> &NodeExt {
        &self.ext
    }
}

impl std::ops::DerefMut for Node {
    fn deref_mut(&mut self) -> &mut NodeExt {
        &mut self.ext
    }
}

impl Node {
    fn new(kind: Kind, pos: usize) -> Node {
        Node {
            kind,
            pos,
            keep_array: false,
            cons_array: false,
            tuple: false,
            keep_singleton: false,
            ext: Box::default(),
        }
    }

    fn path(steps: Vec<Node>) -> Node {
        let pos = steps.first().map(|s| s.pos).unwrap_or(0);
        Node::new(Kind::Path(steps), pos)
    }

    fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Path(_) => "path",
            Kind::Binary(..) => "binary",
            Kind::Neg(_) | Kind::Array(_) | Kind::Object(_) => "unary",
            Kind::Name(_) => "name",
            Kind::Str(_) => "string",
            Kind::Num(_) => "number",
            Kind::Bool(_) | Kind::Null => "value",
            Kind::Wildcard => "wildcard",
            Kind::Descendant => "descendant",
            Kind::Parent(_) => "parent",
            Kind::Variable(_) => "variable",
            Kind::Regex(_) => "regex",
            Kind::Condition(..) => "condition",
            Kind::Block(_) => "block",
            Kind::Bind(..) => "bind",
            Kind::Call(..) => "function",
            Kind::Partial(..) => "partial",
            Kind::Placeholder => "operator",
            Kind::Lambda(_) => "lambda",
            Kind::Apply(..) => "apply",
            Kind::Transform(..) => "transform",
            Kind::Sort(_) => "sort",
        }
    }
}

struct Slot {
    label: usize,
    level: i32,
}

/// The processing pass; `labels` maps each parent slot to its binding label.
pub(crate) struct Processor {
    slots: Vec<Slot>,
    depth: usize,
    stack_base: usize,
}

use super::parser::{stack_position, MAX_NESTING, MAX_PARSE_STACK};

impl Processor {
    pub fn run(p: P) -> Result<(Node, Vec<String>), Raw> {
        let mut pr = Processor {
            slots: Vec::new(),
            depth: 0,
            stack_base: stack_position(),
        };
        let node = pr.process(p)?;
        if matches!(node.kind, Kind::Parent(_)) || !node.seeking.is_empty() {
            return Err(Raw::new("S0217").pos(node.pos).tok(node.type_name()));
        }
        let labels = pr.slots.iter().map(|s| format!("!{}", s.label)).collect();
        Ok((node, labels))
    }

    fn process(&mut self, p: P) -> Result<Node, Raw> {
        self.depth += 1;
        if self.depth > MAX_NESTING * 2
            || self.stack_base.abs_diff(stack_position()) > MAX_PARSE_STACK
        {
            return Err(Raw::new("U1001")
                .pos(p.pos)
                .msg("Expression nesting is too deep"));
        }
        let keep = p.keep_array;
        let r = self.process_inner(p);
        self.depth -= 1;
        let mut node = r?;
        if keep {
            node.keep_array = true;
        }
        Ok(node)
    }

    fn process_inner(&mut self, p: P) -> Result<Node, Raw> {
        let pos = p.pos;
        Ok(match p.kind {
            PK::Binary(".", l, r) => self.dot(*l, *r)?,
            PK::Binary("[", l, r) => self.predicate(pos, *l, *r)?,
            PK::GroupBy(l, pairs) => self.node_group_by(pos, p.keep_array, *l, pairs)?,
            PK::OrderBy(l, terms) => self.node_order_by(pos, p.keep_array, *l, terms)?,
            PK::Binary(":=", l, r) => {
                let name = match l.kind {
                    PK::Var(v) => v,
                    _ => return Err(Raw::new("S0212").pos(l.pos)),
                };
                let rhs = self.process(*r)?;
                let mut n = Node::new(Kind::Bind(name, Box::new(Node::new(Kind::Null, 0))), pos);
                push_ancestry(&mut n, &rhs);
                n.kind = match n.kind {
                    Kind::Bind(name, _) => Kind::Bind(name, Box::new(rhs)),
                    k => k,
                };
                n
            }
            PK::Binary("@", l, r) => self.node_focus_binding(pos, p.keep_array, *l, *r)?,
            PK::Binary("#", l, r) => self.node_index_binding(pos, p.keep_array, *l, *r)?,
            PK::Binary("~>", l, r) => self.node_apply(pos, p.keep_array, *l, *r)?,
            PK::Binary(op, l, r) => self.node_binary(pos, p.keep_array, op, *l, *r)?,
            PK::Array(items) => self.node_array(pos, p.keep_array, items)?,
            PK::Object(pairs) => self.node_object(pos, p.keep_array, pairs)?,
            PK::Neg(e) => self.node_negation(pos, p.keep_array, *e)?,
            PK::Call(procedure, args, partial) => {
                self.node_call(pos, p.keep_array, *procedure, args, partial)?
            }
            PK::Lambda(params, sig, body) => {
                self.node_lambda(pos, p.keep_array, params, sig, *body)?
            }
            PK::Condition(c, t, e) => self.node_condition(pos, p.keep_array, *c, *t, e)?,
            PK::Transform(pat, upd, del) => {
                self.node_transform(pos, p.keep_array, *pat, *upd, del)?
            }
            PK::Block(exprs) => self.node_block(pos, p.keep_array, exprs)?,
            PK::Name(name) => self.node_name(pos, p.keep_array, name)?,
            PK::Op(op @ ("and" | "or" | "in")) => {
                let step = Node::new(Kind::Name(op.to_string()), pos);
                Node::path(vec![step])
            }
            PK::Op("?") => Node::new(Kind::Placeholder, pos),
            PK::Op(op) => return Err(Raw::new("S0201").pos(pos).tok(op)),
            PK::Parent => {
                let id = self.slots.len();
                self.slots.push(Slot {
                    label: id,
                    level: 1,
                });
                Node::new(Kind::Parent(id), pos)
            }
            PK::Str(s) => Node::new(Kind::Str(s), pos),
            PK::Num(n) => Node::new(Kind::Num(n), pos),
            PK::Bool(b) => Node::new(Kind::Bool(b), pos),
            PK::Null => Node::new(Kind::Null, pos),
            PK::Wildcard => Node::new(Kind::Wildcard, pos),
            PK::Descendant => Node::new(Kind::Descendant, pos),
            PK::Var(v) => Node::new(Kind::Variable(v), pos),
            PK::Regex(pattern, flags) => self.node_regex(pos, p.keep_array, pattern, flags)?,
            PK::End => return Err(Raw::new("S0207").pos(pos).tok("(end)")),
        })
    }

    fn node_group_by(
        &mut self,
        pos: usize,
        keep: bool,
        l: P,
        pairs: Vec<(P, P)>,
    ) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let mut result = self.process(l)?;
            if result.group.is_some() {
                return Err(Raw::new("S0210").pos(pos));
            }
            let mut out = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                out.push((self.process(k)?, self.process(v)?));
            }
            result.group = Some(Box::new(Group { pairs: out, pos }));
            result
        })
    }

    fn node_order_by(
        &mut self,
        pos: usize,
        keep: bool,
        l: P,
        terms: Vec<(bool, P)>,
    ) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let result = self.process(l)?;
            let mut result = if matches!(result.kind, Kind::Path(_)) {
                result
            } else {
                Node::path(vec![result])
            };
            let mut sort = Node::new(Kind::Sort(Vec::new()), pos);
            let mut out = Vec::with_capacity(terms.len());
            for (desc, t) in terms {
                let e = self.process(t)?;
                push_ancestry(&mut sort, &e);
                out.push((desc, e));
            }
            sort.kind = Kind::Sort(out);
            if let Kind::Path(steps) = &mut result.kind {
                steps.push(sort);
            }
            self.resolve_ancestry(&mut result)?;
            result
        })
    }

    fn node_focus_binding(&mut self, pos: usize, keep: bool, l: P, r: P) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let var = match r.kind {
                PK::Var(v) => v,
                _ => return Err(Raw::new("S0214").pos(r.pos).tok("@")),
            };
            let mut result = self.process(l)?;
            with_last_step(&mut result, |step| {
                if !step.stages.is_empty() || !step.predicate.is_empty() {
                    return Err(Raw::new("S0215").pos(pos));
                }
                if matches!(step.kind, Kind::Sort(_)) {
                    return Err(Raw::new("S0216").pos(pos));
                }
                if keep {
                    step.keep_array = true;
                }
                step.focus = Some(var);
                step.tuple = true;
                Ok(())
            })?;
            result
        })
    }

    fn node_index_binding(&mut self, pos: usize, keep: bool, l: P, r: P) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let var = match r.kind {
                PK::Var(v) => v,
                _ => return Err(Raw::new("S0214").pos(r.pos).tok("#")),
            };
            let result = self.process(l)?;
            let mut result = if matches!(result.kind, Kind::Path(_)) {
                result
            } else {
                let mut step = result;
                if !step.predicate.is_empty() {
                    step.stages = std::mem::take(&mut step.predicate);
                }
                Node::path(vec![step])
            };
            with_last_step(&mut result, |step| {
                if step.stages.is_empty() {
                    step.index = Some(var);
                } else {
                    step.stages.push(Stage::Index(var));
                }
                step.tuple = true;
            });
            result
        })
    }

    fn node_apply(&mut self, pos: usize, keep: bool, l: P, r: P) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let l = self.process(l)?;
            let r = self.process(r)?;
            let keep = l.keep_array || r.keep_array;
            let mut n = Node::new(Kind::Apply(Box::new(l), Box::new(r)), pos);
            n.keep_array = keep;
            n
        })
    }

    fn node_binary(
        &mut self,
        pos: usize,
        keep: bool,
        op: &'static str,
        l: P,
        r: P,
    ) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let l = self.process(l)?;
            let r = self.process(r)?;
            let mut n = Node::new(Kind::Null, pos);
            push_ancestry(&mut n, &l);
            push_ancestry(&mut n, &r);
            n.kind = Kind::Binary(op, Box::new(l), Box::new(r));
            n
        })
    }

    fn node_array(&mut self, pos: usize, keep: bool, items: Vec<P>) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let mut n = Node::new(Kind::Null, pos);
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                let v = self.process(i)?;
                push_ancestry(&mut n, &v);
                out.push(v);
            }
            n.kind = Kind::Array(out);
            n
        })
    }

    fn node_object(&mut self, pos: usize, keep: bool, pairs: Vec<(P, P)>) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let mut n = Node::new(Kind::Null, pos);
            let mut out = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                let k = self.process(k)?;
                push_ancestry(&mut n, &k);
                let v = self.process(v)?;
                push_ancestry(&mut n, &v);
                out.push((k, v));
            }
            n.kind = Kind::Object(out);
            n
        })
    }

    fn node_negation(&mut self, pos: usize, keep: bool, e: P) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let e = self.process(e)?;
            if let Kind::Num(v) = e.kind {
                let mut e = e;
                e.kind = Kind::Num(-v);
                e
            } else {
                let mut n = Node::new(Kind::Null, pos);
                push_ancestry(&mut n, &e);
                n.kind = Kind::Neg(Box::new(e));
                n
            }
        })
    }

    fn node_call(
        &mut self,
        pos: usize,
        keep: bool,
        procedure: P,
        args: Vec<P>,
        partial: bool,
    ) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let mut n = Node::new(Kind::Null, pos);
            let mut out = Vec::with_capacity(args.len());
            for a in args {
                let a = self.process(a)?;
                push_ancestry(&mut n, &a);
                out.push(a);
            }
            let procedure = Box::new(self.process(procedure)?);
            n.kind = if partial {
                Kind::Partial(procedure, out)
            } else {
                Kind::Call(procedure, out)
            };
            n
        })
    }

    fn node_lambda(
        &mut self,
        pos: usize,
        keep: bool,
        params: Vec<String>,
        sig: Option<Signature>,
        body: P,
    ) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let body = self.process(body)?;
            let body = tail_call_optimize(body);
            Node::new(
                Kind::Lambda(Box::new(LambdaDef {
                    params,
                    sig,
                    body,
                    thunk: false,
                })),
                pos,
            )
        })
    }

    fn node_condition(
        &mut self,
        pos: usize,
        keep: bool,
        c: P,
        t: P,
        e: Option<Box<P>>,
    ) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let mut n = Node::new(Kind::Null, pos);
            let c = self.process(c)?;
            push_ancestry(&mut n, &c);
            let t = self.process(t)?;
            push_ancestry(&mut n, &t);
            let e = match e {
                Some(e) => {
                    let e = self.process(*e)?;
                    push_ancestry(&mut n, &e);
                    Some(Box::new(e))
                }
                None => None,
            };
            n.kind = Kind::Condition(Box::new(c), Box::new(t), e);
            n
        })
    }

    fn node_transform(
        &mut self,
        pos: usize,
        keep: bool,
        pat: P,
        upd: P,
        del: Option<Box<P>>,
    ) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let pat = self.process(pat)?;
            let upd = self.process(upd)?;
            let del = match del {
                Some(d) => Some(Box::new(self.process(*d)?)),
                None => None,
            };
            Node::new(Kind::Transform(Box::new(pat), Box::new(upd), del), pos)
        })
    }

    fn node_block(&mut self, pos: usize, keep: bool, exprs: Vec<P>) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let mut n = Node::new(Kind::Null, pos);
            let mut out = Vec::with_capacity(exprs.len());
            for e in exprs {
                let e = self.process(e)?;
                push_ancestry(&mut n, &e);
                let cons = e.cons_array
                    || matches!(&e.kind, Kind::Path(s) if s.first().is_some_and(|f| f.cons_array));
                if cons {
                    n.cons_array = true;
                }
                out.push(e);
            }
            n.kind = Kind::Block(out);
            n
        })
    }

    fn node_name(&mut self, pos: usize, keep: bool, name: String) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let mut step = Node::new(Kind::Name(name), pos);
            step.keep_array = keep;
            let mut path = Node::path(vec![step]);
            if keep {
                path.keep_singleton = true;
            }
            path
        })
    }

    fn node_regex(
        &mut self,
        pos: usize,
        keep: bool,
        pattern: String,
        flags: String,
    ) -> Result<Node, Raw> {
        let _ = (pos, keep);
        Ok({
            let regex = super::regexp::Regex::new(&pattern, flags.as_str())
                .map_err(|e| Raw::new("S0303").pos(pos).msg(e))?;
            Node::new(
                Kind::Regex(Box::new(RegexLit {
                    regex,
                    source: pattern,
                })),
                pos,
            )
        })
    }

    fn dot(&mut self, l: P, r: P) -> Result<Node, Raw> {
        let lstep = self.process(l)?;
        let lparent = match lstep.kind {
            Kind::Parent(s) => Some(s),
            _ => None,
        };
        let mut result = if matches!(lstep.kind, Kind::Path(_)) {
            lstep
        } else {
            Node::path(vec![lstep])
        };
        if let Some(s) = lparent {
            result.seeking = vec![s];
        }
        let mut rest = self.process(r)?;
        let Kind::Path(steps) = &mut result.kind else {
            return Err(Raw::new("S0206"));
        };
        if let Kind::Path(rsteps) = rest.kind {
            steps.extend(rsteps);
        } else {
            if !rest.predicate.is_empty() {
                rest.stages = std::mem::take(&mut rest.predicate);
            }
            steps.push(rest);
        }
        for step in steps.iter_mut() {
            match &step.kind {
                Kind::Num(n) => {
                    return Err(Raw::new("S0213")
                        .pos(step.pos)
                        .val(serde_json::Value::from(*n)));
                }
                Kind::Bool(b) => {
                    return Err(Raw::new("S0213")
                        .pos(step.pos)
                        .val(serde_json::Value::Bool(*b)))
                }
                Kind::Null => {
                    return Err(Raw::new("S0213").pos(step.pos).val(serde_json::Value::Null))
                }
                Kind::Str(s) => {
                    let s = s.clone();
                    step.kind = Kind::Name(s);
                }
                _ => {}
            }
        }
        if steps.iter().any(|s| s.keep_array) {
            result.keep_singleton = true;
        }
        if let Kind::Path(steps) = &mut result.kind {
            if let Some(first) = steps.first_mut() {
                if matches!(first.kind, Kind::Array(_)) {
                    first.cons_array = true;
                }
            }
            if let Some(last) = steps.last_mut() {
                if matches!(last.kind, Kind::Array(_)) {
                    last.cons_array = true;
                }
            }
        }
        self.resolve_ancestry(&mut result)?;
        Ok(result)
    }

    fn predicate(&mut self, pos: usize, l: P, r: P) -> Result<Node, Raw> {
        let mut result = self.process(l)?;
        let is_path = matches!(result.kind, Kind::Path(_));
        let predicate = self.process(r)?;
        with_last_step(&mut result, |step| {
            if step.group.is_some() {
                return Err(Raw::new("S0209").pos(pos));
            }
            if !predicate.seeking.is_empty() {
                for &slot in &predicate.seeking {
                    if self.slots[slot].level == 1 {
                        self.seek_parent(step, slot)?;
                    } else {
                        self.slots[slot].level -= 1;
                    }
                }
                push_ancestry(step, &predicate);
            }
            if is_path {
                step.stages.push(Stage::Filter(predicate));
            } else {
                step.predicate.push(Stage::Filter(predicate));
            }
            Ok(())
        })?;
        Ok(result)
    }

    fn seek_parent(&mut self, node: &mut Node, slot: usize) -> Result<(), Raw> {
        match &mut node.kind {
            Kind::Name(_) | Kind::Wildcard => {
                self.slots[slot].level -= 1;
                if self.slots[slot].level == 0 {
                    if let Some(a) = node.ancestor {
                        self.slots[slot].label = self.slots[a].label;
                    }
                    node.ancestor = Some(slot);
                    node.tuple = true;
                }
            }
            Kind::Parent(_) => self.slots[slot].level += 1,
            Kind::Block(exprs) => {
                if let Some(last) = exprs.last_mut() {
                    node.tuple = true;
                    self.seek_parent(last, slot)?;
                }
            }
            Kind::Path(steps) => {
                node.tuple = true;
                let mut index = steps.len() as isize - 1;
                if index >= 0 {
                    self.seek_parent(&mut steps[index as usize], slot)?;
                    index -= 1;
                }
                while self.slots[slot].level > 0 && index >= 0 {
                    self.seek_parent(&mut steps[index as usize], slot)?;
                    index -= 1;
                }
            }
            _ => return Err(Raw::new("S0217").pos(node.pos).tok(node.type_name())),
        }
        Ok(())
    }

    fn resolve_ancestry(&mut self, path: &mut Node) -> Result<(), Raw> {
        let Node { kind, ext, .. } = path;
        let Kind::Path(steps) = kind else {
            return Ok(());
        };
        let Some(last) = steps.last() else {
            return Ok(());
        };
        let mut slots = last.seeking.clone();
        if let Kind::Parent(s) = last.kind {
            slots.push(s);
        }
        for slot in slots {
            let mut index = steps.len() as isize - 2;
            while self.slots[slot].level > 0 {
                if index < 0 {
                    ext.seeking.push(slot);
                    break;
                }
                let mut si = index as usize;
                index -= 1;
                while index >= 0
                    && steps[si].focus.is_some()
                    && steps[index as usize].focus.is_some()
                {
                    si = index as usize;
                    index -= 1;
                }
                self.seek_parent(&mut steps[si], slot)?;
            }
        }
        Ok(())
    }
}

/// Run `f` on the last step of a path, or on the node itself.
fn with_last_step<T>(n: &mut Node, f: impl FnOnce(&mut Node) -> T) -> T {
    match &mut n.kind {
        Kind::Path(steps) if !steps.is_empty() => {
            let len = steps.len();
            f(&mut steps[len - 1])
        }
        _ => f(n),
    }
}

fn push_ancestry(result: &mut Node, value: &Node) {
    result.seeking.extend(value.seeking.iter().copied());
    if let Kind::Parent(s) = value.kind {
        result.seeking.push(s);
    }
}

fn tail_call_optimize(mut expr: Node) -> Node {
    match expr.kind {
        Kind::Call(..) if expr.predicate.is_empty() => {
            let pos = expr.pos;
            Node::new(
                Kind::Lambda(Box::new(LambdaDef {
                    params: Vec::new(),
                    sig: None,
                    body: expr,
                    thunk: true,
                })),
                pos,
            )
        }
        Kind::Condition(c, t, e) => {
            let t = Box::new(tail_call_optimize(*t));
            let e = e.map(|e| Box::new(tail_call_optimize(*e)));
            expr.kind = Kind::Condition(c, t, e);
            expr
        }
        Kind::Block(mut exprs) => {
            if let Some(last) = exprs.pop() {
                exprs.push(tail_call_optimize(last));
            }
            expr.kind = Kind::Block(exprs);
            expr
        }
        _ => expr,
    }
}
