//! Operators: arithmetic, comparison, boolean, `&`, `..`, `in`, unary minus,
//! array constructors and the `~>` application operator.

use super::func::{Frame, Func};
use super::path::check_finite;
use super::value::{boolean, deep_equal, Val, CONS};
use super::{Ev, R};
use crate::jsonata::ast::{Kind, Node};
use crate::jsonata::error::Raw;
use crate::jsonata::functions::string::to_string;
use serde_json::Value;
use std::rc::Rc;

fn numeric(v: &Option<Val<'_>>) -> R<Option<Option<f64>>> {
    match v {
        None => Ok(Some(None)),
        Some(v) => match v.as_num() {
            Some(n) if n.is_nan() => Ok(None),
            Some(n) => {
                check_finite(n).map_err(|e| e.val(v.to_json_lossy()))?;
                Ok(Some(Some(n)))
            }
            None => Ok(None),
        },
    }
}

/// JavaScript's strict equality, for `in`.
fn strict_eq<'a>(a: &Val<'a>, b: &Val<'a>) -> bool {
    match (a, b) {
        (Val::Ref(x), Val::Ref(y)) if x.is_array() || x.is_object() => std::ptr::eq(*x, *y),
        (Val::Arr(x), Val::Arr(y)) => Rc::ptr_eq(x, y),
        (Val::Obj(x), Val::Obj(y)) => Rc::ptr_eq(x, y),
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        _ => {
            let (x, y) = (a.norm(), b.norm());
            match (&x, &y) {
                (Val::Null, Val::Null) => true,
                (Val::Bool(p), Val::Bool(q)) => p == q,
                (Val::Num(p), Val::Num(q)) => p == q,
                (Val::Str(p), Val::Str(q)) => p == q,
                _ => false,
            }
        }
    }
}

impl<'a> Ev<'a> {
    pub(crate) fn binary(
        &self,
        node: &'a Node,
        op: &'static str,
        l: &'a Node,
        r: &'a Node,
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        let lhs = self.eval(l, input, env)?;
        let at = |e: Raw| e.pos(node.pos).tok(op);
        if op == "and" || op == "or" {
            let lb = boolean(lhs.as_ref()).unwrap_or(false);
            if op == "and" && !lb {
                return Ok(Some(Val::Bool(false)));
            }
            if op == "or" && lb {
                return Ok(Some(Val::Bool(true)));
            }
            let rhs = self.eval(r, input, env)?;
            return Ok(Some(Val::Bool(boolean(rhs.as_ref()).unwrap_or(false))));
        }
        let rhs = self.eval(r, input, env)?;
        match op {
            "+" | "-" | "*" | "/" | "%" => {
                let Some(a) = numeric(&lhs).map_err(at)? else {
                    return Err(at(Raw::new("T2001")
                        .val(lhs.map(|v| v.to_json_lossy()).unwrap_or(Value::Null))));
                };
                let Some(b) = numeric(&rhs).map_err(at)? else {
                    return Err(at(Raw::new("T2002")
                        .val(rhs.map(|v| v.to_json_lossy()).unwrap_or(Value::Null))));
                };
                let (Some(a), Some(b)) = (a, b) else {
                    return Ok(None);
                };
                Ok(Some(Val::Num(match op {
                    "+" => a + b,
                    "-" => a - b,
                    "*" => a * b,
                    "/" => a / b,
                    _ => a % b,
                })))
            }
            "=" | "!=" => {
                let (Some(a), Some(b)) = (lhs, rhs) else {
                    return Ok(Some(Val::Bool(false)));
                };
                let eq = deep_equal(&a, &b);
                Ok(Some(Val::Bool(if op == "=" { eq } else { !eq })))
            }
            "<" | "<=" | ">" | ">=" => compare(op, lhs, rhs).map_err(at),
            "&" => {
                let max = self.limits.max_bytes;
                let mut s = match &lhs {
                    Some(v) => to_string(v, max).map_err(at)?,
                    None => String::new(),
                };
                if let Some(v) = &rhs {
                    let r = to_string(v, max.saturating_sub(s.len())).map_err(|e| {
                        if e.code == "U1004" {
                            crate::jsonata::detach::over_budget(max)
                        } else {
                            at(e)
                        }
                    })?;
                    self.check_text(s.len().saturating_add(r.len()))?;
                    s.push_str(&r);
                }
                self.check_text(s.len())?;
                Ok(Some(Val::str(s)))
            }
            ".." => self.range(lhs, rhs).map_err(at),
            "in" => {
                let (Some(a), Some(b)) = (lhs, rhs) else {
                    return Ok(Some(Val::Bool(false)));
                };
                let items = if b.is_array() { b.items() } else { vec![b] };
                Ok(Some(Val::Bool(items.iter().any(|i| strict_eq(i, &a)))))
            }
            _ => Err(at(Raw::new("S0201"))),
        }
    }

    fn range(&self, lhs: Option<Val<'a>>, rhs: Option<Val<'a>>) -> R<Option<Val<'a>>> {
        let int = |v: &Option<Val<'a>>| match v {
            None => Some(None),
            Some(v) => match v.as_num() {
                Some(n) if n.is_finite() && n.fract() == 0.0 => Some(Some(n)),
                _ => None,
            },
        };
        let Some(a) = int(&lhs) else {
            return Err(
                Raw::new("T2003").val(lhs.map(|v| v.to_json_lossy()).unwrap_or(Value::Null))
            );
        };
        let Some(b) = int(&rhs) else {
            return Err(
                Raw::new("T2004").val(rhs.map(|v| v.to_json_lossy()).unwrap_or(Value::Null))
            );
        };
        let (Some(a), Some(b)) = (a, b) else {
            return Ok(None);
        };
        if a > b {
            return Ok(None);
        }
        let size = b - a + 1.0;
        if size > 1e7 {
            return Err(Raw::new("D2014").val(super::value::num_json(size).unwrap_or(Value::Null)));
        }
        self.check_size(size as usize)?;
        let mut out = Vec::with_capacity(size as usize);
        let mut x = a;
        while x <= b {
            out.push(Val::Num(x));
            x += 1.0;
        }
        Ok(Some(Val::seq(out)))
    }

    pub(crate) fn negate(
        &self,
        node: &'a Node,
        e: &'a Node,
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        let v = self.eval(e, input, env)?;
        match v {
            None => Ok(None),
            Some(v) => match v.as_num() {
                Some(n) => {
                    check_finite(n)?;
                    Ok(Some(Val::Num(-n)))
                }
                None => Err(Raw::new("D1002")
                    .pos(node.pos)
                    .tok("-")
                    .val(v.to_json_lossy())),
            },
        }
    }

    pub(crate) fn array(
        &self,
        node: &'a Node,
        items: &'a [Node],
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Val<'a>> {
        let mut out = Vec::new();
        for item in items {
            if let Some(v) = self.eval(item, input, env)? {
                if matches!(item.kind, Kind::Array(_)) || !v.is_array() {
                    out.push(v);
                } else {
                    out.extend(v.items());
                }
            }
            self.check_size(out.len())?;
        }
        Ok(Val::flagged(out, if node.cons_array { CONS } else { 0 }))
    }

    pub(crate) fn apply_op(
        &self,
        node: &'a Node,
        l: &'a Node,
        r: &'a Node,
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        let lhs = self.eval(l, input, env)?;
        if let Kind::Call(p, args) = &r.kind {
            return self.call(r, p, args, input, env, Some(lhs));
        }
        let func = self.eval(r, input, env)?;
        let Some(f @ Val::Func(_)) = func else {
            return Err(Raw::new("T2006")
                .pos(node.pos)
                .val(func.map(|v| v.to_json_lossy()).unwrap_or(Value::Null)));
        };
        if let Some(g @ Val::Func(_)) = &lhs {
            return Ok(Some(Val::Func(Rc::new(Func::Chain(g.clone(), f)))));
        }
        self.apply(Some(f), vec![lhs], None, env)
    }
}

fn compare<'a>(op: &str, lhs: Option<Val<'a>>, rhs: Option<Val<'a>>) -> R<Option<Val<'a>>> {
    let l = lhs.map(|v| v.norm());
    let r = rhs.map(|v| v.norm());
    let comparable =
        |v: &Option<Val<'a>>| matches!(v, None | Some(Val::Num(_)) | Some(Val::Str(_)));
    if !comparable(&l) || !comparable(&r) {
        let bad = if matches!(l, Some(Val::Num(_)) | Some(Val::Str(_))) {
            &r
        } else {
            &l
        };
        return Err(Raw::new("T2010").val(
            bad.as_ref()
                .map(|v| v.to_json_lossy())
                .unwrap_or(Value::Null),
        ));
    }
    let (Some(l), Some(r)) = (l, r) else {
        return Ok(None);
    };
    let ord = match (&l, &r) {
        (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
        (Val::Str(a), Val::Str(b)) => Some(a.encode_utf16().cmp(b.encode_utf16())),
        _ => {
            return Err(Raw::new("T2009")
                .val(l.to_json_lossy())
                .val2(r.to_json_lossy()))
        }
    };
    use std::cmp::Ordering::*;
    let res = match (op, ord) {
        (_, None) => false,
        ("<", Some(o)) => o == Less,
        ("<=", Some(o)) => o != Greater,
        (">", Some(o)) => o == Greater,
        (_, Some(o)) => o != Less,
    };
    Ok(Some(Val::Bool(res)))
}
