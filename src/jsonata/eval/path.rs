//! Paths: steps over sequences, tuple streams for `@`/`#`/`%`, predicates,
//! order-by and group-by, wildcards and descendants.

use super::func::Frame;
use super::value::{boolean, Key, Obj, Tuple, Val, CONS, KEEP, OUTER, SEQ};
use super::{Ev, R};
use crate::jsonata::ast::{Kind, Node, Stage};
use crate::jsonata::error::Raw;
use indexmap::IndexMap;
use std::rc::Rc;

/// `fn.lookup`: a member of an object, mapped over (nested) arrays; an array
/// member is spread into the result. Walks nested arrays without recursion.
pub(crate) fn lookup<'a>(input: Option<&Val<'a>>, key: &str) -> Option<Val<'a>> {
    let v = input?;
    if !v.is_array() {
        return v.get(key);
    }
    let mut out = Vec::new();
    let mut stack = vec![v.items().into_iter()];
    while let Some(top) = stack.last_mut() {
        let Some(item) = top.next() else {
            stack.pop();
            continue;
        };
        if item.is_array() {
            stack.push(item.items().into_iter());
        } else if let Some(r) = item.get(key) {
            if r.is_array() {
                out.extend(r.items());
            } else {
                out.push(r);
            }
        }
    }
    Some(Val::seq(out))
}

fn flatten_into<'a>(v: &Val<'a>, out: &mut Vec<Val<'a>>) {
    let mut stack = vec![v.clone()];
    while let Some(x) = stack.pop() {
        if x.is_array() {
            stack.extend(x.items().into_iter().rev());
        } else {
            out.push(x);
        }
    }
}

pub(crate) fn wildcard<'a>(input: Option<&Val<'a>>) -> Option<Val<'a>> {
    let mut v = input?.clone();
    if let Val::Arr(a) = &v {
        if a.has(OUTER) {
            if let Some(first) = a.items.first() {
                v = first.clone();
            }
        }
    }
    let mut out = Vec::new();
    let mut seq = true;
    if v.is_array() {
        for m in v.items() {
            if m.is_array() {
                seq = false;
                flatten_into(&m, &mut out);
            } else {
                out.push(m);
            }
        }
    } else if v.is_object() {
        for (_, m) in v.entries() {
            if m.is_array() {
                seq = false;
                flatten_into(&m, &mut out);
            } else {
                out.push(m);
            }
        }
    }
    Some(Val::flagged(out, if seq { SEQ } else { 0 }))
}

pub(crate) fn descendants<'a>(input: Option<&Val<'a>>) -> Option<Val<'a>> {
    let v = input?;
    let mut out = Vec::new();
    let mut stack = vec![v.clone()];
    while let Some(x) = stack.pop() {
        if x.is_array() {
            stack.extend(x.items().into_iter().rev());
        } else {
            if x.is_object() {
                stack.extend(x.entries().into_iter().rev().map(|(_, v)| v));
            }
            out.push(x);
        }
    }
    if out.len() == 1 {
        out.pop()
    } else {
        Some(Val::seq(out))
    }
}

/// `fn.append` for two possibly-undefined values.
pub(crate) fn append<'a>(a: Option<Val<'a>>, b: Option<Val<'a>>) -> Option<Val<'a>> {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(a), Some(b)) => {
            let mut items = if a.is_array() { a.items() } else { vec![a] };
            if b.is_array() {
                items.extend(b.items());
            } else {
                items.push(b);
            }
            Some(Val::array(items))
        }
    }
}

enum GroupData<'a> {
    Val(Option<Val<'a>>),
    Tuples(Vec<Tuple<'a>>),
}

impl<'a> Ev<'a> {
    pub(crate) fn frame_from_tuple(&self, env: &Rc<Frame<'a>>, t: &Tuple<'a>) -> Rc<Frame<'a>> {
        let f = Frame::child(env);
        for (k, v) in &t.binds {
            self.bind(&f, k, Some(v.clone()));
        }
        f
    }

    pub(crate) fn eval_path(
        &self,
        node: &'a Node,
        steps: &'a [Node],
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        if let Some(r) = self.simple_path(node, steps, input, env)? {
            return Ok(r);
        }
        self.general_path(node, steps, input, env)
    }

    /// The common case, without building sequences: field names (after at
    /// most one variable) walked down single objects. Gives `None` to hand the
    /// path to the general algorithm, which it then matches exactly.
    #[allow(clippy::option_option)]
    fn simple_path(
        &self,
        node: &'a Node,
        steps: &'a [Node],
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Option<Val<'a>>>> {
        if node.keep_singleton || node.keep_array || node.tuple || node.group.is_some() {
            return Ok(None);
        }
        let simple = |s: &Node| {
            !s.tuple
                && !s.keep_array
                && !s.cons_array
                && s.stages.is_empty()
                && s.predicate.is_empty()
                && s.group.is_none()
                && s.focus.is_none()
                && s.index.is_none()
                && s.ancestor.is_none()
        };
        let mut rest = steps;
        let mut cur: Option<Val<'a>> = match steps.first() {
            Some(
                first @ Node {
                    kind: Kind::Variable(name),
                    ..
                },
            ) if simple(first) && !name.is_empty() => {
                rest = &steps[1..];
                self.enter(first.pos)?;
                let v = self.variable(name, env);
                self.leave();
                v
            }
            _ => {
                if input.is_some_and(Val::is_array) {
                    return Ok(None);
                }
                input.cloned()
            }
        };
        for (i, step) in rest.iter().enumerate() {
            let Kind::Name(key) = &step.kind else {
                return Ok(None);
            };
            if !simple(step) {
                return Ok(None);
            }
            match &cur {
                None => return Ok(Some(None)),
                Some(v) if v.is_array() => {
                    if i == 0 && rest.len() == steps.len() {
                        return Ok(None);
                    }
                    let tail = &rest[i..];
                    let v = v.clone();
                    return self.general_path(node, tail, Some(&v), env).map(Some);
                }
                Some(v) => {
                    self.enter(step.pos)?;
                    cur = v.get(key);
                    self.leave();
                }
            }
        }
        match &cur {
            Some(v) if v.is_sequence() => Ok(None),
            _ => Ok(Some(cur)),
        }
    }

    fn general_path(
        &self,
        node: &'a Node,
        steps: &'a [Node],
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        let first_var = matches!(steps.first().map(|s| &s.kind), Some(Kind::Variable(_)));
        let mut seq: Vec<Option<Val<'a>>> = match input {
            Some(v) if v.is_array() && !first_var => v.items().into_iter().map(Some).collect(),
            other => vec![other.cloned()],
        };
        let mut result: Option<Val<'a>> = None;
        let mut tuple_stream = false;
        let mut tuples: Option<Vec<Tuple<'a>>> = None;
        for (i, step) in steps.iter().enumerate() {
            if step.tuple {
                tuple_stream = true;
            }
            if i == 0 && step.cons_array {
                let inp = match input {
                    Some(v) if v.is_array() => Some(v.clone()),
                    Some(v) => Some(Val::seq(vec![v.clone()])),
                    None => None,
                };
                result = self.eval(step, inp.as_ref(), env)?;
            } else if tuple_stream {
                tuples = Some(self.tuple_step(step, &seq, tuples.take(), env)?);
            } else {
                result = Some(self.step(step, &seq, env, i + 1 == steps.len())?);
            }
            if !tuple_stream && result.as_ref().is_none_or(|r| r.is_array() && r.len() == 0) {
                break;
            }
            if step.focus.is_none() {
                seq = match &result {
                    Some(r) if r.is_array() => r.items().into_iter().map(Some).collect(),
                    Some(r) => vec![Some(r.clone())],
                    None => vec![],
                };
            }
        }
        let mut tuple_result = None;
        if tuple_stream {
            let ts = Rc::new(tuples.unwrap_or_default());
            result = Some(if node.tuple {
                Val::Tuples(ts.clone())
            } else {
                Val::seq(ts.iter().map(|t| t.at.clone()).collect())
            });
            tuple_result = Some(Val::Tuples(ts));
        }
        if node.keep_singleton {
            if let Some(Val::Arr(a)) = &result {
                if a.has(CONS) && !a.has(SEQ) {
                    result = Some(Val::seq(vec![Val::Arr(a.clone())]));
                }
            }
            if let Some(Val::Arr(a)) = &result {
                a.set(KEEP);
            }
        }
        if let Some(g) = &node.group {
            let over = if tuple_result.is_some() {
                tuple_result
            } else {
                result
            };
            result = Some(self.group(&g.pairs, g.pos, over, env)?);
        }
        Ok(result)
    }

    fn step(
        &self,
        step: &'a Node,
        input: &[Option<Val<'a>>],
        env: &Rc<Frame<'a>>,
        last: bool,
    ) -> R<Val<'a>> {
        if let Kind::Sort(terms) = &step.kind {
            let v = Val::seq(input.iter().flatten().cloned().collect());
            let mut r = self.sort(step, terms, v, env)?;
            if !step.stages.is_empty() {
                r = self
                    .stages(&step.stages, Some(r), env)?
                    .unwrap_or_else(|| Val::seq(Vec::new()));
            }
            return Ok(r);
        }
        let mut results = Vec::new();
        for inp in input {
            let mut res = self.eval(step, inp.as_ref(), env)?;
            for stage in &step.stages {
                if let Stage::Filter(p) = stage {
                    res = self.filter(p, res, env)?;
                }
            }
            if let Some(r) = res {
                results.push(r);
            }
        }
        if last && results.len() == 1 && results[0].is_array() && !results[0].is_sequence() {
            if let Some(r) = results.pop() {
                return Ok(r);
            }
        }
        let mut out = Vec::new();
        for r in results {
            if !r.is_array() || r.has_flag(CONS) {
                out.push(r);
            } else {
                out.extend(r.items());
            }
        }
        self.check_size(out.len())?;
        Ok(Val::seq(out))
    }

    fn stages(
        &self,
        stages: &'a [Stage],
        input: Option<Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        let mut result = input;
        for s in stages {
            match s {
                Stage::Filter(p) => result = self.filter(p, result, env)?,
                Stage::Index(name) => {
                    if let Some(Val::Tuples(ts)) = &result {
                        let mut ts = (**ts).clone();
                        for (i, t) in ts.iter_mut().enumerate() {
                            t.set(name, Val::Num(i as f64));
                        }
                        result = Some(Val::Tuples(Rc::new(ts)));
                    }
                }
            }
        }
        Ok(result)
    }

    fn tuple_step(
        &self,
        step: &'a Node,
        input: &[Option<Val<'a>>],
        tuples: Option<Vec<Tuple<'a>>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Vec<Tuple<'a>>> {
        if let Kind::Sort(terms) = &step.kind {
            let result = match tuples {
                Some(ts) => self.sort(step, terms, Val::Tuples(Rc::new(ts)), env)?,
                None => {
                    let v = Val::seq(input.iter().flatten().cloned().collect());
                    let sorted = self.sort(step, terms, v, env)?;
                    let ts = sorted
                        .items()
                        .into_iter()
                        .enumerate()
                        .map(|(i, at)| {
                            let mut t = Tuple {
                                at,
                                binds: Vec::new(),
                            };
                            if let Some(ix) = &step.index {
                                t.set(ix, Val::Num(i as f64));
                            }
                            t
                        })
                        .collect();
                    Val::Tuples(Rc::new(ts))
                }
            };
            let result = if step.stages.is_empty() {
                Some(result)
            } else {
                self.stages(&step.stages, Some(result), env)?
            };
            return Ok(into_tuples(result));
        }
        let tuples = tuples.unwrap_or_else(|| {
            input
                .iter()
                .flatten()
                .map(|at| Tuple {
                    at: at.clone(),
                    binds: Vec::new(),
                })
                .collect()
        });
        let mut out = Vec::new();
        for t in &tuples {
            let frame = self.frame_from_tuple(env, t);
            let Some(res) = self.eval(step, Some(&t.at), &frame)? else {
                continue;
            };
            if let Val::Tuples(rs) = &res {
                for rt in rs.iter() {
                    let mut nt = t.clone();
                    for (k, v) in &rt.binds {
                        nt.set(k, v.clone());
                    }
                    nt.at = rt.at.clone();
                    out.push(nt);
                }
                continue;
            }
            let items = if res.is_array() {
                res.items()
            } else {
                vec![res]
            };
            for (bb, item) in items.into_iter().enumerate() {
                let mut nt = t.clone();
                if let Some(f) = &step.focus {
                    nt.set(f, item);
                } else {
                    nt.at = item;
                }
                if let Some(ix) = &step.index {
                    nt.set(ix, Val::Num(bb as f64));
                }
                if let Some(anc) = step.ancestor {
                    nt.set(self.label(anc), t.at.clone());
                }
                out.push(nt);
            }
            self.check_size(out.len())?;
        }
        if step.stages.is_empty() {
            return Ok(out);
        }
        let r = self.stages(&step.stages, Some(Val::Tuples(Rc::new(out))), env)?;
        Ok(into_tuples(r))
    }

    /// A predicate `[..]` over a value (a sequence, an array, a tuple stream or one item).
    pub(crate) fn filter(
        &self,
        pred: &'a Node,
        input: Option<Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        let Some(input) = input else {
            return Ok(None);
        };
        if let Val::Tuples(ts) = &input {
            let len = ts.len();
            let mut out = Vec::new();
            for (index, t) in ts.iter().enumerate() {
                let keep = if let Kind::Num(n) = pred.kind {
                    index_matches(n, index, len)
                } else {
                    let frame = self.frame_from_tuple(env, t);
                    let res = self.eval(pred, Some(&t.at), &frame)?;
                    self.predicate_keeps(res, index, len)?
                };
                if keep {
                    out.push(t.clone());
                }
            }
            return Ok(Some(Val::Tuples(Rc::new(out))));
        }
        let items = if input.is_array() {
            input.items()
        } else {
            vec![input]
        };
        let len = items.len();
        if let Kind::Num(n) = pred.kind {
            let mut idx = n.floor();
            if idx < 0.0 {
                idx += len as f64;
            }
            if idx >= 0.0 && idx < len as f64 {
                if let Some(item) = items.get(idx as usize) {
                    if item.is_array() {
                        return Ok(Some(item.clone()));
                    }
                    return Ok(Some(Val::seq(vec![item.clone()])));
                }
            }
            return Ok(Some(Val::seq(Vec::new())));
        }
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let res = self.eval(pred, Some(item), env)?;
            if self.predicate_keeps(res, index, len)? {
                out.push(item.clone());
            }
        }
        Ok(Some(Val::seq(out)))
    }

    fn predicate_keeps(&self, res: Option<Val<'a>>, index: usize, len: usize) -> R<bool> {
        let Some(res) = res else {
            return Ok(false);
        };
        if let Some(n) = res.as_num() {
            check_finite(n)?;
            return Ok(index_matches(n, index, len));
        }
        if res.is_array() {
            let items = res.items();
            if items.iter().all(|i| i.as_num().is_some()) {
                let mut keep = false;
                for i in &items {
                    if let Some(n) = i.as_num() {
                        if index_matches(n, index, len) {
                            keep = true;
                        }
                    }
                }
                return Ok(keep);
            }
        }
        Ok(boolean(Some(&res)) == Some(true))
    }

    /// Order-by: a stable merge sort on the terms, undefined last.
    pub(crate) fn sort(
        &self,
        node: &'a Node,
        terms: &'a [(bool, Node)],
        input: Val<'a>,
        env: &Rc<Frame<'a>>,
    ) -> R<Val<'a>> {
        if input.len() <= 1 {
            return Ok(input);
        }
        if let Val::Tuples(ts) = &input {
            let items: Vec<Tuple<'a>> = (**ts).clone();
            let sorted = merge_sort(items, &mut |a: &Tuple<'a>, b: &Tuple<'a>| {
                let fa = self.frame_from_tuple(env, a);
                let fb = self.frame_from_tuple(env, b);
                self.compare_terms(node, terms, (&a.at, &fa), (&b.at, &fb))
            })?;
            return Ok(Val::Tuples(Rc::new(sorted)));
        }
        let sorted = merge_sort(input.items(), &mut |a: &Val<'a>, b: &Val<'a>| {
            self.compare_terms(node, terms, (a, env), (b, env))
        })?;
        Ok(Val::array(sorted))
    }

    fn compare_terms(
        &self,
        node: &'a Node,
        terms: &'a [(bool, Node)],
        a: (&Val<'a>, &Rc<Frame<'a>>),
        b: (&Val<'a>, &Rc<Frame<'a>>),
    ) -> R<bool> {
        let mut comp = 0;
        for (desc, term) in terms {
            if comp != 0 {
                break;
            }
            let aa = self.eval(term, Some(a.0), a.1)?.map(|v| v.norm());
            let bb = self.eval(term, Some(b.0), b.1)?.map(|v| v.norm());
            let (aa, bb) = match (aa, bb) {
                (None, None) => continue,
                (None, Some(_)) => {
                    comp = 1;
                    continue;
                }
                (Some(_), None) => {
                    comp = -1;
                    continue;
                }
                (Some(x), Some(y)) => (x, y),
            };
            let ord = match (&aa, &bb) {
                (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
                (Val::Str(x), Val::Str(y)) => Some(x.encode_utf16().cmp(y.encode_utf16())),
                (Val::Num(_) | Val::Str(_), Val::Num(_) | Val::Str(_)) => {
                    return Err(Raw::new("T2007")
                        .pos(node.pos)
                        .val(aa.to_json_lossy())
                        .val2(bb.to_json_lossy()));
                }
                _ => {
                    let bad = if matches!(aa, Val::Num(_) | Val::Str(_)) {
                        &bb
                    } else {
                        &aa
                    };
                    return Err(Raw::new("T2008").pos(node.pos).val(bad.to_json_lossy()));
                }
            };
            comp = match ord {
                Some(std::cmp::Ordering::Less) => -1,
                Some(std::cmp::Ordering::Greater) => 1,
                _ => 0,
            };
            if *desc {
                comp = -comp;
            }
        }
        Ok(comp == 1)
    }

    /// Object construction and group-by: `{key: value}` over the input.
    pub(crate) fn group(
        &self,
        pairs: &'a [(Node, Node)],
        pos: usize,
        input: Option<Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Val<'a>> {
        if !matches!(&input, Some(v) if v.is_array()) {
            return self.construct(pairs, pos, input.as_ref(), env);
        }
        let mut groups: IndexMap<Key<'a>, (GroupData<'a>, usize)> = IndexMap::new();
        if let Some(Val::Tuples(ts)) = &input {
            let ts: Vec<Tuple<'a>> = if ts.is_empty() {
                vec![]
            } else {
                (**ts).clone()
            };
            for t in ts {
                let frame = self.frame_from_tuple(env, &t);
                for (pi, (k, _)) in pairs.iter().enumerate() {
                    let key = self.eval(k, Some(&t.at), &frame)?;
                    let Some(key) = group_key(key, pos)? else {
                        continue;
                    };
                    match groups.get_mut(&key) {
                        Some((GroupData::Tuples(list), idx)) => {
                            if *idx != pi {
                                return Err(Raw::new("D1009").pos(pos).val(key.to_string().into()));
                            }
                            list.push(t.clone());
                        }
                        Some(_) => {}
                        None => {
                            groups.insert(key, (GroupData::Tuples(vec![t.clone()]), pi));
                        }
                    }
                }
            }
        } else {
            let mut items: Vec<Option<Val<'a>>> = match &input {
                Some(v) if v.is_array() => v.items().into_iter().map(Some).collect(),
                other => vec![other.clone()],
            };
            if items.is_empty() {
                items.push(None);
            }
            for item in items {
                for (pi, (k, _)) in pairs.iter().enumerate() {
                    let key = self.eval(k, item.as_ref(), env)?;
                    let Some(key) = group_key(key, pos)? else {
                        continue;
                    };
                    match groups.get_mut(&key) {
                        Some((GroupData::Val(data), idx)) => {
                            if *idx != pi {
                                return Err(Raw::new("D1009").pos(pos).val(key.to_string().into()));
                            }
                            *data = append(data.take(), item.clone());
                        }
                        Some(_) => {}
                        None => {
                            groups.insert(key, (GroupData::Val(item.clone()), pi));
                        }
                    }
                }
            }
        }
        let mut out = Obj::with_capacity(groups.len());
        for (key, (data, idx)) in groups {
            let Some((_, vexpr)) = pairs.get(idx) else {
                continue;
            };
            let v = match data {
                GroupData::Val(ctx) => self.eval(vexpr, ctx.as_ref(), env)?,
                GroupData::Tuples(list) => {
                    let t = reduce_tuples(list);
                    let frame = self.frame_from_tuple(env, &t);
                    self.eval(vexpr, Some(&t.at), &frame)?
                }
            };
            if let Some(v) = v {
                out.insert(key, v);
            }
        }
        Ok(Val::obj(out))
    }

    /// Object construction over one item (not an array, not a tuple
    /// stream): every key evaluated in order, then every value, as the
    /// group-by does it for a single item, without its grouping tables.
    fn construct(
        &self,
        pairs: &'a [(Node, Node)],
        pos: usize,
        input: Option<&Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Val<'a>> {
        let literal = |k: &'a Node| match &k.kind {
            Kind::Str(s) if k.predicate.is_empty() && k.group.is_none() => Some(s.as_str()),
            _ => None,
        };
        if pairs.len() <= 12 && pairs.iter().all(|(k, _)| literal(k).is_some()) {
            // every key a literal: the keys (their steps counted, their
            // duplicates refused) need nothing built before the values
            for (i, (k, _)) in pairs.iter().enumerate() {
                self.enter(k.pos)?;
                self.leave();
                let key = literal(k);
                if pairs[..i].iter().any(|(p, _)| literal(p) == key) {
                    let key = key.unwrap_or_default().to_owned();
                    return Err(Raw::new("D1009").pos(pos).val(key.into()));
                }
            }
            let mut out = Obj::with_capacity(pairs.len());
            for (k, vexpr) in pairs {
                if let (Some(key), Some(v)) = (literal(k), self.eval(vexpr, input, env)?) {
                    out.insert(key, v);
                }
            }
            return Ok(Val::obj(out));
        }
        let mut keys: Vec<(Key<'a>, usize)> = Vec::with_capacity(pairs.len());
        let mut seen = (pairs.len() > 16).then(std::collections::HashSet::new);
        for (pi, (k, _)) in pairs.iter().enumerate() {
            let key = match &k.kind {
                Kind::Str(s) if k.predicate.is_empty() && k.group.is_none() => {
                    // a literal key: its step counted, nothing built
                    self.enter(k.pos)?;
                    self.leave();
                    Key::Borrowed(s.as_str())
                }
                _ => match group_key(self.eval(k, input, env)?, pos)? {
                    Some(key) => key,
                    None => continue,
                },
            };
            let duplicate = match &mut seen {
                Some(set) => !set.insert(key.clone()),
                None => keys.iter().any(|(x, _)| *x == key),
            };
            if duplicate {
                return Err(Raw::new("D1009").pos(pos).val(key.into_owned().into()));
            }
            keys.push((key, pi));
        }
        let mut out = Obj::with_capacity(keys.len());
        for (key, pi) in keys {
            let Some((_, vexpr)) = pairs.get(pi) else {
                continue;
            };
            if let Some(v) = self.eval(vexpr, input, env)? {
                out.insert(key, v);
            }
        }
        Ok(Val::obj(out))
    }
}

fn group_key<'a>(key: Option<Val<'a>>, pos: usize) -> R<Option<Key<'a>>> {
    match key {
        None => Ok(None),
        Some(Val::Ref(serde_json::Value::String(s))) => Ok(Some(Key::Borrowed(s.as_str()))),
        Some(k) => match k.as_str() {
            Some(s) => Ok(Some(Key::Owned(s.to_string()))),
            None => Err(Raw::new("T1003").pos(pos).val(k.to_json_lossy())),
        },
    }
}

fn reduce_tuples(list: Vec<Tuple<'_>>) -> Tuple<'_> {
    let mut it = list.into_iter();
    let Some(mut result) = it.next() else {
        return Tuple {
            at: Val::Null,
            binds: Vec::new(),
        };
    };
    let rest: Vec<_> = it.collect();
    if rest.is_empty() {
        return result;
    }
    for t in rest {
        result.at = append(Some(result.at.clone()), Some(t.at.clone())).unwrap_or(Val::Null);
        for (k, v) in t.binds {
            let cur = result
                .binds
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.clone());
            let merged = append(cur, Some(v)).unwrap_or(Val::Null);
            result.set(k, merged);
        }
    }
    result
}

fn into_tuples(v: Option<Val<'_>>) -> Vec<Tuple<'_>> {
    match v {
        Some(Val::Tuples(ts)) => Rc::try_unwrap(ts).unwrap_or_else(|rc| (*rc).clone()),
        Some(v) => v
            .items()
            .into_iter()
            .map(|at| Tuple {
                at,
                binds: Vec::new(),
            })
            .collect(),
        None => Vec::new(),
    }
}

fn index_matches(n: f64, index: usize, len: usize) -> bool {
    let mut i = n.floor();
    if i < 0.0 {
        i += len as f64;
    }
    i == index as f64
}

pub(crate) fn check_finite(n: f64) -> R<()> {
    if n.is_infinite() {
        return Err(Raw::new("D1001").val(serde_json::Value::Null));
    }
    Ok(())
}

/// Top-down merge sort; `swap(a, b)` says `b` goes before `a`.
pub(crate) fn merge_sort<T: Clone>(
    items: Vec<T>,
    swap: &mut dyn FnMut(&T, &T) -> R<bool>,
) -> R<Vec<T>> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let mut left = items;
    let right = left.split_off(left.len() / 2);
    let left = merge_sort(left, swap)?;
    let right = merge_sort(right, swap)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if swap(&left[i], &right[j])? {
            out.push(right[j].clone());
            j += 1;
        } else {
            out.push(left[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    Ok(out)
}
