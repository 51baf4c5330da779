//! The transform operator `| pattern | update, delete |`: a copy of the input
//! with the objects the pattern selects updated. jsonata-js mutates a clone in
//! place; here the clone's objects are identified by pointer, the changes are
//! collected, and the copy is rebuilt with them applied.

use super::func::Frame;
use super::value::{Key, Obj, Val};
use super::{Ev, R};
use crate::jsonata::ast::{Kind, Node};
use crate::jsonata::error::Raw;
use serde_json::Value;
use std::collections::HashMap;
use std::rc::Rc;

struct Change<'a> {
    update: Vec<(Key<'a>, Val<'a>)>,
    delete: Vec<String>,
}

/// A deep copy whose every object and array is freshly allocated, of at
/// most `left` items and members (a value that shares its parts, as
/// `[$a, $a]` does, would copy them over and over: `U1002` past them).
pub(crate) fn deep_copy<'a>(v: &Val<'a>, depth: usize, left: &mut usize) -> R<Val<'a>> {
    if depth > 5_000 {
        return Err(Raw::new("U1001").msg("Value nesting is too deep to copy"));
    }
    let n = v.len().max(v.obj_len());
    *left = match left.checked_sub(n) {
        Some(l) => l,
        None => {
            return Err(Raw::new("U1002")
                .msg("Evaluation built a value of too many items or members to copy"))
        }
    };
    Ok(match v {
        Val::Ref(Value::Array(_)) | Val::Arr(_) | Val::Tuples(_) => {
            let mut out = Vec::with_capacity(v.len());
            for i in v.items() {
                out.push(deep_copy(&i, depth + 1, left)?);
            }
            Val::array(out)
        }
        Val::Ref(Value::Object(_)) | Val::Obj(_) => {
            let mut m = Obj::with_capacity(v.obj_len());
            for (k, c) in v.entries() {
                m.insert(k, deep_copy(&c, depth + 1, left)?);
            }
            Val::obj(m)
        }
        other => other.norm(),
    })
}

fn rebuild<'a>(v: &Val<'a>, changes: &HashMap<usize, Vec<Change<'a>>>, depth: usize) -> R<Val<'a>> {
    if depth > 5_000 {
        return Err(Raw::new("U1001").msg("Value nesting is too deep to transform"));
    }
    Ok(match v {
        Val::Obj(o) => {
            let mut m = Obj::with_capacity(o.len());
            for (k, c) in o.iter() {
                m.insert(k.clone(), rebuild(c, changes, depth + 1)?);
            }
            if let Some(list) = changes.get(&(Rc::as_ptr(o) as usize)) {
                for ch in list {
                    for (k, val) in &ch.update {
                        m.insert(k.clone(), val.clone());
                    }
                    for d in &ch.delete {
                        m.shift_remove(d);
                    }
                }
            }
            Val::obj(m)
        }
        Val::Arr(a) => {
            let mut out = Vec::with_capacity(a.items.len());
            for i in &a.items {
                out.push(rebuild(i, changes, depth + 1)?);
            }
            Val::flagged(out, a.flags.get())
        }
        other => other.clone(),
    })
}

impl<'a> Ev<'a> {
    pub(crate) fn transform(
        &self,
        node: &'a Node,
        obj: Option<Val<'a>>,
        env: &Rc<Frame<'a>>,
    ) -> R<Option<Val<'a>>> {
        let Kind::Transform(pattern, update, delete) = &node.kind else {
            return Ok(None);
        };
        let Some(obj) = obj else {
            return Ok(None);
        };
        if !matches!(self.variable("clone", env), Some(Val::Func(_))) {
            return Err(Raw::new("T2013").pos(node.pos));
        }
        let copy = deep_copy(&obj, 0, &mut self.limits.max_items.clone())?;
        let matches = self.eval(pattern, Some(&copy), env)?;
        let mut changes: HashMap<usize, Vec<Change<'a>>> = HashMap::new();
        if let Some(m) = matches {
            let list = if m.is_array() { m.items() } else { vec![m] };
            for item in list {
                let up = self.eval(update, Some(&item), env)?;
                let mut change = Change {
                    update: Vec::new(),
                    delete: Vec::new(),
                };
                if let Some(up) = up {
                    if !up.is_object() {
                        return Err(Raw::new("T2011").pos(update.pos).val(up.to_json_lossy()));
                    }
                    change.update = up.entries();
                }
                if let Some(d) = delete {
                    if let Some(del) = self.eval(d, Some(&item), env)? {
                        let names = if del.is_array() {
                            del.items()
                        } else {
                            vec![del.clone()]
                        };
                        for n in &names {
                            match n.as_str() {
                                Some(s) => change.delete.push(s.to_string()),
                                None => {
                                    return Err(Raw::new("T2012")
                                        .pos(d.pos)
                                        .val(del.to_json_lossy()))
                                }
                            }
                        }
                    }
                }
                if let Val::Obj(o) = &item {
                    changes
                        .entry(Rc::as_ptr(o) as usize)
                        .or_default()
                        .push(change);
                }
            }
        }
        Ok(Some(rebuild(&copy, &changes, 0)?))
    }
}
