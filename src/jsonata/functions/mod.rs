//! The built-in functions, one table per family (as jaq-std lists its
//! natives): name, signature, the parameter count jsonata-js's implementation
//! declares (higher-order functions and partial application use it), and the
//! implementation.

pub(crate) mod aggregation;
pub(crate) mod array;
pub(crate) mod aws;
pub(crate) mod boolean;
pub(crate) mod datetime;
pub(crate) mod format;
pub(crate) mod higher_order;
pub(crate) mod numeric;
pub(crate) mod object;
pub(crate) mod pictures;
pub(crate) mod regex;
pub(crate) mod string;

use super::error::Raw;
use super::eval::func::Frame;
use super::eval::value::Val;
use super::eval::{Ev, R};
use super::signature::Signature;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

/// The scope a built-in runs in (the caller's), for the functions it calls back.
pub(crate) struct Focus<'a> {
    pub env: Rc<Frame<'a>>,
}

pub(crate) type Args<'a> = Vec<Option<Val<'a>>>;

/// A built-in's implementation.
pub(crate) type Imp = for<'a> fn(&Ev<'a>, &Focus<'a>, Args<'a>) -> R<Option<Val<'a>>>;

/// One row of a family's table: name, signature, declared parameters, implementation.
pub(crate) type Entry = (&'static str, &'static str, usize, Imp);

/// A built-in function.
pub(crate) struct Native {
    pub sig: Option<Signature>,
    pub arity: usize,
    pub imp: Imp,
}

/// The error type of the picture-string functions (`format.rs`, `datetime.rs`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FnError {
    pub code: &'static str,
    pub message: String,
}

impl From<FnError> for Raw {
    fn from(e: FnError) -> Raw {
        let mut r = Raw::new(e.code).msg(e.message);
        r.verbatim = true;
        r
    }
}

struct Registry {
    natives: Vec<Native>,
    /// By name, sorted (a binary search: no hashing per call).
    by_name: Vec<(&'static str, usize)>,
}

fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| {
        let tables: [&[Entry]; 11] = [
            string::TABLE,
            regex::TABLE,
            numeric::TABLE,
            format::TABLE,
            aggregation::TABLE,
            boolean::TABLE,
            array::TABLE,
            object::TABLE,
            higher_order::TABLE,
            datetime::TABLE,
            aws::TABLE,
        ];
        let mut natives = Vec::new();
        let mut by_name: HashMap<&'static str, usize> = HashMap::new();
        for t in tables {
            for (name, sig, arity, imp) in t.iter() {
                by_name.insert(*name, natives.len());
                natives.push(Native {
                    sig: if sig.is_empty() {
                        None
                    } else {
                        Signature::parse(sig).ok()
                    },
                    arity: *arity,
                    imp: *imp,
                });
            }
        }
        let mut by_name: Vec<(&'static str, usize)> = by_name.into_iter().collect();
        by_name.sort_unstable();
        Registry { natives, by_name }
    })
}

/// The built-in named `name` (without `$`).
pub(crate) fn lookup(name: &str) -> Option<&'static Native> {
    let r = registry();
    let at = r.by_name.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    r.by_name.get(at).and_then(|&(_, i)| r.natives.get(i))
}

/// Argument `i`, if defined.
pub(crate) fn arg<'v, 'a>(args: &'v [Option<Val<'a>>], i: usize) -> Option<&'v Val<'a>> {
    args.get(i).and_then(Option::as_ref)
}

pub(crate) fn num_arg(args: &[Option<Val<'_>>], i: usize) -> Option<f64> {
    arg(args, i).and_then(Val::as_num)
}

pub(crate) fn str_arg(args: &[Option<Val<'_>>], i: usize) -> Option<String> {
    arg(args, i).and_then(|v| v.as_str().map(str::to_string))
}

pub(crate) fn num<'a>(n: f64) -> R<Option<Val<'a>>> {
    Ok(Some(Val::Num(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signature_parses() {
        let r = registry();
        for n in &r.natives {
            assert!(n.sig.is_some());
        }
        assert!(lookup("sum").is_some());
        assert!(lookup("nosuch").is_none());
    }
}
