//! The evaluator's value: borrowed JSON (`Ref`) or what evaluation built, plus
//! JSONata's array flags (sequence, keep-singleton, constructed, outer wrapper)
//! and functions. Also the JavaScript number formatting and JSON text JSONata
//! produces.

use super::func::Func;
pub(crate) use super::obj::{Key, Obj};
use serde_json::{Map, Number, Value};
use std::cell::Cell;
use std::rc::Rc;

pub(crate) const SEQ: u8 = 1;
pub(crate) const KEEP: u8 = 2;
pub(crate) const CONS: u8 = 4;
pub(crate) const OUTER: u8 = 8;

pub(crate) struct Arr<'a> {
    pub items: Vec<Val<'a>>,
    pub flags: Cell<u8>,
    /// How deeply the built values inside nest (borrowed JSON counts 0).
    pub depth: u32,
}

impl<'a> Arr<'a> {
    pub fn has(&self, f: u8) -> bool {
        self.flags.get() & f != 0
    }
    pub fn set(&self, f: u8) {
        self.flags.set(self.flags.get() | f);
    }
}

/// A built object and how deeply the built values inside it nest.
pub(crate) struct ObjBox<'a> {
    pub map: Obj<'a>,
    pub depth: u32,
}

impl<'a> std::ops::Deref for ObjBox<'a> {
    type Target = Obj<'a>;
    fn deref(&self) -> &Obj<'a> {
        &self.map
    }
}

fn depth_of<'x, 'a: 'x>(items: impl Iterator<Item = &'x Val<'a>>) -> u32 {
    1 + items.map(Val::depth).max().unwrap_or(0)
}

/// One tuple of a tuple stream: the context `@` and the bindings made so far.
#[derive(Clone)]
pub(crate) struct Tuple<'a> {
    pub at: Val<'a>,
    pub binds: Vec<(&'a str, Val<'a>)>,
}

impl<'a> Tuple<'a> {
    pub fn set(&mut self, k: &'a str, v: Val<'a>) {
        if let Some(e) = self.binds.iter_mut().find(|(n, _)| *n == k) {
            e.1 = v;
        } else {
            self.binds.push((k, v));
        }
    }
}

#[derive(Clone)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Rc<str>),
    Ref(&'a Value),
    Arr(Rc<Arr<'a>>),
    Obj(Rc<ObjBox<'a>>),
    Func(Rc<Func<'a>>),
    Tuples(Rc<Vec<Tuple<'a>>>),
}

impl<'a> Val<'a> {
    pub fn str(s: impl Into<Rc<str>>) -> Val<'a> {
        Val::Str(s.into())
    }
    pub fn array(items: Vec<Val<'a>>) -> Val<'a> {
        Val::flagged(items, 0)
    }
    pub fn seq(items: Vec<Val<'a>>) -> Val<'a> {
        Val::flagged(items, SEQ)
    }
    pub fn flagged(items: Vec<Val<'a>>, flags: u8) -> Val<'a> {
        let depth = depth_of(items.iter());
        Val::Arr(Rc::new(Arr {
            items,
            flags: Cell::new(flags),
            depth,
        }))
    }
    pub fn obj(map: Obj<'a>) -> Val<'a> {
        let depth = depth_of(map.values());
        Val::Obj(Rc::new(ObjBox { map, depth }))
    }

    /// How deeply the values evaluation built nest here (borrowed JSON counts 0).
    pub fn depth(&self) -> u32 {
        match self {
            Val::Arr(a) => a.depth,
            Val::Obj(o) => o.depth,
            _ => 0,
        }
    }

    /// Resolve a borrowed scalar into its direct form (arrays/objects stay `Ref`).
    pub fn norm(&self) -> Val<'a> {
        match self {
            Val::Ref(v) => match v {
                Value::Null => Val::Null,
                Value::Bool(b) => Val::Bool(*b),
                Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
                Value::String(s) => Val::Str(Rc::from(s.as_str())),
                _ => self.clone(),
            },
            _ => self.clone(),
        }
    }

    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Ref(Value::Number(n)) => n.as_f64(),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Ref(Value::String(s)) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            Val::Ref(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
    pub fn is_array(&self) -> bool {
        matches!(
            self,
            Val::Arr(_) | Val::Ref(Value::Array(_)) | Val::Tuples(_)
        )
    }
    pub fn is_object(&self) -> bool {
        matches!(self, Val::Obj(_) | Val::Ref(Value::Object(_)))
    }
    pub fn is_function(&self) -> bool {
        matches!(self, Val::Func(_))
    }
    pub fn has_flag(&self, f: u8) -> bool {
        matches!(self, Val::Arr(a) if a.has(f))
    }
    pub fn is_sequence(&self) -> bool {
        self.has_flag(SEQ)
    }

    /// The items of an array (empty for anything else).
    pub fn items(&self) -> Vec<Val<'a>> {
        match self {
            Val::Arr(a) => a.items.clone(),
            Val::Ref(Value::Array(v)) => v.iter().map(Val::Ref).collect(),
            Val::Tuples(t) => t.iter().map(|t| t.at.clone()).collect(),
            _ => Vec::new(),
        }
    }
    pub fn len(&self) -> usize {
        match self {
            Val::Arr(a) => a.items.len(),
            Val::Ref(Value::Array(v)) => v.len(),
            Val::Tuples(t) => t.len(),
            _ => 0,
        }
    }

    /// A member of an object.
    pub fn get(&self, key: &str) -> Option<Val<'a>> {
        match self {
            Val::Obj(o) => o.get(key).cloned(),
            Val::Ref(Value::Object(m)) => m.get(key).map(Val::Ref),
            _ => None,
        }
    }
    /// The members of an object, in order.
    pub fn entries(&self) -> Vec<(Key<'a>, Val<'a>)> {
        match self {
            Val::Obj(o) => o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Val::Ref(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| (Key::Borrowed(k.as_str()), Val::Ref(v)))
                .collect(),
            _ => Vec::new(),
        }
    }
    pub fn keys(&self) -> Vec<String> {
        match self {
            Val::Obj(o) => o.keys().map(|k| k.to_string()).collect(),
            Val::Ref(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }
    pub fn obj_len(&self) -> usize {
        match self {
            Val::Obj(o) => o.len(),
            Val::Ref(Value::Object(m)) => m.len(),
            _ => 0,
        }
    }

    /// The signature symbol of the value's type.
    pub fn type_symbol(&self) -> u8 {
        match self {
            Val::Null | Val::Ref(Value::Null) => b'l',
            Val::Bool(_) | Val::Ref(Value::Bool(_)) => b'b',
            Val::Num(_) | Val::Ref(Value::Number(_)) => b'n',
            Val::Str(_) | Val::Ref(Value::String(_)) => b's',
            Val::Arr(_) | Val::Ref(Value::Array(_)) | Val::Tuples(_) => b'a',
            Val::Obj(_) | Val::Ref(Value::Object(_)) => b'o',
            Val::Func(_) => b'f',
        }
    }

    /// JSON for error messages: functions become "", non-finite numbers null.
    pub fn to_json_lossy(&self) -> Value {
        to_json(self, 0).unwrap_or(Value::Null)
    }
}

/// Convert to an owned JSON value (functions become `""`, as `$string` makes them).
pub(crate) fn to_json(v: &Val<'_>, depth: usize) -> Option<Value> {
    if depth > 10_000 {
        return None;
    }
    Some(match v {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => num_json(*n)?,
        Val::Str(s) => Value::String(s.to_string()),
        Val::Ref(r) => (*r).clone(),
        Val::Arr(_) | Val::Tuples(_) => {
            let items = v.items();
            let mut out = Vec::with_capacity(items.len());
            for i in &items {
                out.push(to_json(i, depth + 1)?);
            }
            Value::Array(out)
        }
        Val::Obj(o) => {
            let mut m = Map::with_capacity(o.len());
            for (k, v) in o.iter() {
                m.insert(k.to_string(), to_json(v, depth + 1)?);
            }
            Value::Object(m)
        }
        Val::Func(_) => Value::String(String::new()),
    })
}

/// A JSON number for a double: integral values within 2^53 as integers.
pub(crate) fn num_json(n: f64) -> Option<Value> {
    if !n.is_finite() {
        return None;
    }
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return Some(Value::Number(Number::from(n as i64)));
    }
    Number::from_f64(n).map(Value::Number)
}

/// JavaScript's `Number.prototype.toString()`.
pub(crate) fn js_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return "0".into();
    }
    let neg = x < 0.0;
    let e = format!("{:e}", x.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    let n = exp + 1;
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if k <= n && n <= 21 {
        s.push_str(&digits);
        for _ in 0..(n - k) {
            s.push('0');
        }
    } else if 0 < n && n <= 21 {
        s.push_str(&digits[..n as usize]);
        s.push('.');
        s.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        s.push_str("0.");
        for _ in 0..(-n) {
            s.push('0');
        }
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        if k > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        s.push(if n > 0 { '+' } else { '-' });
        s.push_str(&(n - 1).abs().to_string());
    }
    s
}

/// `Number(x.toPrecision(15))`.
pub(crate) fn precision15(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{:.14e}", x).parse().unwrap_or(x)
}

/// JSON text as `JSON.stringify` writes it (numbers to 15 significant digits,
/// functions as ""); `indent` pretty-prints with two spaces. `Err` carries a
/// non-finite number (D3001/D1001 for the caller), or NaN when the text
/// passes `max` bytes (written no further).
pub(crate) fn stringify(v: &Val<'_>, pretty: bool, max: usize) -> Result<String, Unwritable> {
    let mut out = String::new();
    write_json(v, (pretty, max), 0, &mut out)?;
    Ok(out)
}

/// Why a value could not be written as JSON text.
#[derive(Debug)]
pub(crate) enum Unwritable {
    /// A number that is not finite.
    NotFinite,
    /// Nested too deeply.
    TooDeep,
    /// Longer than the bytes allowed.
    TooBig,
}

fn write_str(s: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

fn newline(pretty: bool, level: usize, out: &mut String) {
    if pretty {
        out.push('\n');
        for _ in 0..level {
            out.push_str("  ");
        }
    }
}

fn write_json(
    v: &Val<'_>,
    (pretty, max): (bool, usize),
    level: usize,
    out: &mut String,
) -> Result<(), Unwritable> {
    if level > 10_000 {
        return Err(Unwritable::TooDeep);
    }
    if out.len() > max {
        return Err(Unwritable::TooBig);
    }
    match v.norm() {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Val::Num(n) => {
            if !n.is_finite() {
                return Err(Unwritable::NotFinite);
            }
            out.push_str(&js_number(precision15(n)));
        }
        Val::Str(s) => write_str(&s, out),
        Val::Func(_) => out.push_str("\"\""),
        a @ (Val::Arr(_) | Val::Ref(Value::Array(_)) | Val::Tuples(_)) => {
            let items = a.items();
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(pretty, level + 1, out);
                write_json(it, (pretty, max), level + 1, out)?;
            }
            if !items.is_empty() {
                newline(pretty, level, out);
            }
            out.push(']');
        }
        o => {
            let entries = o.entries();
            out.push('{');
            for (i, (k, it)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(pretty, level + 1, out);
                write_str(k, out);
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write_json(it, (pretty, max), level + 1, out)?;
            }
            if !entries.is_empty() {
                newline(pretty, level, out);
            }
            out.push('}');
        }
    }
    if out.len() > max {
        return Err(Unwritable::TooBig);
    }
    Ok(())
}

/// JSONata's effective boolean value (`None` for undefined).
pub(crate) fn boolean(v: Option<&Val<'_>>) -> Option<bool> {
    let v = v?;
    Some(match v.norm() {
        Val::Null => false,
        Val::Bool(b) => b,
        Val::Num(n) => n != 0.0 && !n.is_nan(),
        Val::Str(s) => !s.is_empty(),
        Val::Func(_) => false,
        a @ (Val::Arr(_) | Val::Ref(Value::Array(_)) | Val::Tuples(_)) => {
            let items = a.items();
            match items.len() {
                0 => false,
                1 => boolean(items.first()).unwrap_or(false),
                _ => items.iter().any(|i| boolean(Some(i)).unwrap_or(false)),
            }
        }
        o => o.obj_len() > 0,
    })
}

/// Deep equality of two values (JSONata's `=`).
pub(crate) fn deep_equal<'a>(a: &Val<'a>, b: &Val<'a>) -> bool {
    deep_eq(a, b, 0)
}

fn deep_eq<'a>(a: &Val<'a>, b: &Val<'a>, depth: usize) -> bool {
    if depth > 10_000 {
        return false;
    }
    if let (Val::Ref(x), Val::Ref(y)) = (a, b) {
        if std::ptr::eq(*x, *y) {
            return true;
        }
    }
    // Scalars compare without copying a borrowed string.
    if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_num(), b.as_num()) {
        return x == y;
    }
    match (a.norm(), b.norm()) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Num(x), Val::Num(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(&x, &y),
        (x, y) if x.is_array() && y.is_array() => {
            let (xi, yi) = (x.items(), y.items());
            xi.len() == yi.len()
                && xi
                    .iter()
                    .zip(yi.iter())
                    .all(|(p, q)| deep_eq(p, q, depth + 1))
        }
        (x, y) if x.is_object() && y.is_object() => {
            if x.obj_len() != y.obj_len() {
                return false;
            }
            x.entries()
                .iter()
                .all(|(k, v)| y.get(k).is_some_and(|w| deep_eq(v, &w, depth + 1)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(js_number(1.0), "1");
        assert_eq!(js_number(-0.5), "-0.5");
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(1e20), "100000000000000000000");
        assert_eq!(js_number(1.5e-7), "1.5e-7");
        assert_eq!(js_number(0.000001), "0.000001");
        assert_eq!(js_number(9.33262154439441e155), "9.33262154439441e+155");
        assert_eq!(precision15(0.1 + 0.2), 0.3);
    }
}
