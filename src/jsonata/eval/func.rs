//! Function values and the frames (variable scopes) closures capture.

use super::value::Val;
use crate::jsonata::ast::{Node, RegexLit};
use crate::jsonata::functions::Native;
use crate::jsonata::signature::Signature;
use std::cell::RefCell;
use std::rc::Rc;

/// A variable scope. Bindings may be undefined (`None`), which shadows.
pub(crate) struct Frame<'a> {
    pub parent: Option<Rc<Frame<'a>>>,
    pub vars: RefCell<Vec<(&'a str, Option<Val<'a>>)>>,
}

impl<'a> Frame<'a> {
    pub fn root() -> Rc<Frame<'a>> {
        Rc::new(Frame {
            parent: None,
            vars: RefCell::new(Vec::new()),
        })
    }
    pub fn child(parent: &Rc<Frame<'a>>) -> Rc<Frame<'a>> {
        Rc::new(Frame {
            parent: Some(parent.clone()),
            vars: RefCell::new(Vec::new()),
        })
    }
    pub fn bind(&self, name: &'a str, v: Option<Val<'a>>) {
        let mut vars = self.vars.borrow_mut();
        if let Some(e) = vars.iter_mut().find(|(n, _)| *n == name) {
            e.1 = v;
        } else {
            vars.push((name, v));
        }
    }
    /// `Some(binding)` when the name is bound in this frame or an outer one.
    pub fn lookup(&self, name: &str) -> Option<Option<Val<'a>>> {
        let mut f: &Frame<'a> = self;
        loop {
            if let Some((_, v)) = f.vars.borrow().iter().rev().find(|(n, _)| *n == name) {
                return Some(v.clone());
            }
            match &f.parent {
                Some(p) => f = p,
                None => return None,
            }
        }
    }
}

/// A user-defined function (or a partial application of one) and its closure.
pub(crate) struct Lambda<'a> {
    pub params: Vec<&'a str>,
    pub sig: Option<&'a Signature>,
    pub body: &'a Node,
    pub input: Option<Val<'a>>,
    pub env: Rc<Frame<'a>>,
    pub thunk: bool,
}

pub(crate) enum Func<'a> {
    Lambda(Lambda<'a>),
    Native(&'static Native),
    /// A partial application of a function other than a lambda: `None` marks a `?`.
    Partial(Val<'a>, Vec<Option<Option<Val<'a>>>>),
    Regex(&'a RegexLit),
    Transform(&'a Node, Rc<Frame<'a>>),
    /// `f ~> g` for two functions: `g(f(x))`.
    Chain(Val<'a>, Val<'a>),
}

impl<'a> Func<'a> {
    /// The number of parameters, as jsonata-js counts them for higher-order functions.
    pub fn arity(&self) -> usize {
        match self {
            Func::Lambda(l) => l.params.len(),
            Func::Native(n) => n.arity,
            Func::Partial(_, args) => args.iter().filter(|a| a.is_none()).count(),
            Func::Regex(_) => 2,
            Func::Transform(..) | Func::Chain(..) => 1,
        }
    }
}
