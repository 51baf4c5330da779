//! Function calls: argument evaluation, signature validation, lambdas with
//! their closures, the tail-call trampoline, partial application.

use super::func::{Frame, Func, Lambda};
use super::value::Val;
use super::{Ev, R};
use crate::jsonata::ast::{Kind, Node};
use crate::jsonata::error::Raw;
use crate::jsonata::functions::Focus;
use std::rc::Rc;

/// The name a call site uses for its function (for T1005 and error tokens).
fn proc_name(p: &Node) -> String {
    match &p.kind {
        Kind::Path(steps) => match steps.first().map(|s| &s.kind) {
            Some(Kind::Name(n)) => n.clone(),
            _ => String::new(),
        },
        Kind::Variable(v) | Kind::Name(v) => v.clone(),
        _ => String::new(),
    }
}

fn located(e: Raw, pos: usize, token: &str) -> Raw {
    let mut e = e;
    if e.position.is_none() {
        e.position = Some(pos);
    }
    if e.token.is_none() && !token.is_empty() {
        e.token = Some(token.to_string());
    }
    e
}

impl<'a> Ev<'a> {
    fn forgot_dollar(&self, p: &'a Node, env: &Rc<Frame<'a>>) -> Option<String> {
        if let Kind::Path(steps) = &p.kind {
            if let Some(Kind::Name(n)) = steps.first().map(|s| &s.kind) {
                if self.variable(n, env).is_some() {
                    return Some(n.clone());
                }
            }
        }
        None
    }

    pub(crate) fn call(
        &self,
        node: &'a Node,
        p: &'a Node,
        arg_nodes: &'a [Node],
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
        applyto: Option<Option<Val<'a>>>,
    ) -> R<Option<Val<'a>>> {
        let proc = self.eval(p, input, env)?;
        if proc.is_none() {
            if let Some(n) = self.forgot_dollar(p, env) {
                return Err(Raw::new("T1005").pos(node.pos).tok(n));
            }
        }
        let mut args = Vec::with_capacity(arg_nodes.len() + 1);
        if let Some(c) = applyto {
            args.push(c);
        }
        for a in arg_nodes {
            args.push(self.eval(a, input, env)?);
        }
        let name = proc_name(p);
        self.apply(proc, args, input, env)
            .map_err(|e| located(e, node.pos, &name))
    }

    /// Apply a function, running tail calls in a loop rather than recursing.
    pub(crate) fn apply(
        &self,
        proc: Option<Val<'a>>,
        args: Vec<Option<Val<'a>>>,
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        let mut result = self.apply_inner(proc, args, input, env)?;
        while let Some((body, lin, lenv)) = thunk_parts(&result) {
            let Kind::Call(pnode, anodes) = &body.kind else {
                break;
            };
            let next = self.eval(pnode, lin.as_ref(), &lenv)?;
            let mut eargs = Vec::with_capacity(anodes.len());
            for a in anodes {
                eargs.push(self.eval(a, lin.as_ref(), &lenv)?);
            }
            let name = proc_name(pnode);
            if next.is_none() {
                if let Some(n) = self.forgot_dollar(pnode, &lenv) {
                    return Err(Raw::new("T1005").pos(body.pos).tok(n));
                }
            }
            result = self
                .apply_inner(next, eargs, input, env)
                .map_err(|e| located(e, body.pos, &name))?;
        }
        Ok(result)
    }

    fn apply_inner(
        &self,
        proc: Option<Val<'a>>,
        args: Vec<Option<Val<'a>>>,
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        let Some(Val::Func(f)) = proc else {
            return Err(Raw::new("T1006"));
        };
        match &*f {
            Func::Lambda(l) => {
                let args = match l.sig {
                    Some(sig) => sig.validate(args, input)?,
                    None => args,
                };
                self.apply_lambda(l, args)
            }
            Func::Native(n) => {
                let args = match &n.sig {
                    Some(sig) => sig.validate(args, input)?,
                    None => args,
                };
                let focus = Focus { env: env.clone() };
                let result = (n.imp)(self, &focus, args)?;
                // what any built-in builds is held to the bounds (those
                // that could build far more than they are given check
                // before they build)
                match &result {
                    Some(Val::Str(s)) => self.check_text(s.len())?,
                    Some(Val::Arr(a)) => self.check_size(a.items.len())?,
                    _ => {}
                }
                Ok(result)
            }
            Func::Partial(target, bound) => {
                let mut supplied = args.into_iter();
                let mut full: Vec<Option<Val<'a>>> = bound
                    .iter()
                    .map(|b| match b {
                        Some(v) => v.clone(),
                        None => supplied.next().flatten(),
                    })
                    .collect();
                while matches!(full.last(), Some(None)) {
                    full.pop();
                }
                self.apply_inner(Some(target.clone()), full, input, env)
            }
            Func::Regex(r) => {
                let s = args.first().cloned().flatten();
                let Some(s) = s.as_ref().and_then(|v| v.as_str().map(str::to_string)) else {
                    return Ok(None);
                };
                crate::jsonata::functions::regex::first_match_object(self, r, &s)
            }
            Func::Transform(node, tenv) => {
                let arg = args.into_iter().next().flatten();
                self.transform(node, arg, tenv)
            }
            Func::Chain(g, h) => {
                let r = self.apply(Some(g.clone()), args, input, env)?;
                self.apply(Some(h.clone()), vec![r], input, env)
            }
        }
    }

    fn apply_lambda(&self, l: &Lambda<'a>, args: Vec<Option<Val<'a>>>) -> R<Option<Val<'a>>> {
        let frame = Frame::child(&l.env);
        let mut args = args.into_iter();
        for p in &l.params {
            self.bind(&frame, p, args.next().flatten());
        }
        self.eval(l.body, l.input.as_ref(), &frame)
    }

    pub(crate) fn partial(
        &self,
        node: &'a Node,
        p: &'a Node,
        arg_nodes: &'a [Node],
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        let mut args: Vec<Option<Option<Val<'a>>>> = Vec::with_capacity(arg_nodes.len());
        for a in arg_nodes {
            if matches!(a.kind, Kind::Placeholder) {
                args.push(None);
            } else {
                args.push(Some(self.eval(a, input, env)?));
            }
        }
        let proc = self.eval(p, input, env)?;
        let f = match proc {
            Some(Val::Func(f)) => f,
            _ => {
                if let Some(n) = self.forgot_dollar(p, env) {
                    return Err(Raw::new("T1007").pos(node.pos).tok(n));
                }
                return Err(Raw::new("T1008").pos(node.pos).tok(proc_name(p)));
            }
        };
        if let Func::Lambda(l) = &*f {
            let frame = Frame::child(&l.env);
            let mut unbound = Vec::new();
            for (i, param) in l.params.iter().enumerate() {
                match args.get(i) {
                    Some(None) => unbound.push(*param),
                    Some(Some(v)) => self.bind(&frame, param, v.clone()),
                    None => self.bind(&frame, param, None),
                }
            }
            return Ok(Some(Val::Func(Rc::new(Func::Lambda(Lambda {
                params: unbound,
                sig: None,
                body: l.body,
                input: l.input.clone(),
                env: frame,
                thunk: false,
            })))));
        }
        let arity = f.arity().max(args.len());
        while args.len() < arity {
            args.push(Some(None));
        }
        Ok(Some(Val::Func(Rc::new(Func::Partial(Val::Func(f), args)))))
    }

    /// Call a function value from a built-in (higher-order functions).
    pub(crate) fn call_fn(
        &self,
        f: &Val<'a>,
        args: Vec<Option<Val<'a>>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        self.apply(Some(f.clone()), args, None, env)
    }
}

/// The pieces of a tail-call thunk (a lambda whose body is a call).
type Thunk<'a> = (&'a Node, Option<Val<'a>>, Rc<Frame<'a>>);

fn thunk_parts<'a>(result: &Option<Val<'a>>) -> Option<Thunk<'a>> {
    match result {
        Some(Val::Func(f)) => match &**f {
            Func::Lambda(l) if l.thunk => Some((l.body, l.input.clone(), l.env.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// The arity a higher-order function sees.
pub(crate) fn arity(f: &Val<'_>) -> usize {
    match f {
        Val::Func(f) => f.arity(),
        _ => 0,
    }
}
