//! Field readers shared by the state types: types, bounds, paths,
//! templates, exclusive pairs, the fields of the other query language.

use crate::definition::parse::{here, Cx, Object, JSONATA_ONLY, JSONPATH_ONLY};
use crate::definition::raw::RawState;
use crate::definition::{Assign, Dynamic, Io, JsonataExpression, JsonataTemplate, QueryLanguage};
use crate::jsonpath::path::Root;
use crate::jsonpath::path::{Path, ReferencePath};
use crate::jsonpath::template::PayloadTemplate;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(crate) use crate::json::type_name;

/// Reports the fields of `fields` that `obj` lacks, in that order, as AWS does.
pub(crate) fn required(cx: &mut Cx, obj: &Object, fields: &[&str], loc: &str) -> bool {
    let missing: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| !obj.contains_key(*f))
        .collect();
    if missing.is_empty() {
        return true;
    }
    cx.schema(
        format!("These fields are required: [{}]", missing.join(", ")),
        here(loc),
    );
    false
}

/// Reports every field of `obj` outside `allowed` at `loc`.
pub(crate) fn unsupported(cx: &mut Cx, obj: &Object, allowed: &[&[&str]], loc: &str) -> bool {
    let mut ok = true;
    for key in obj.keys() {
        if !allowed.iter().any(|list| list.contains(&key.as_str())) {
            cx.schema(format!("Field '{key}' is not supported"), here(loc));
            ok = false;
        }
    }
    ok
}

/// Reports fields of the other query language at `loc`.
pub(crate) fn query_language_fields(
    cx: &mut Cx,
    keys: impl Iterator<Item = String>,
    ql: QueryLanguage,
    loc: &str,
) -> bool {
    let mut ok = true;
    for key in keys {
        let (set, other) = match ql {
            QueryLanguage::JsonPath if JSONATA_ONLY.contains(&key.as_str()) => {
                ("JSONPath", "JSONata")
            }
            QueryLanguage::Jsonata if JSONPATH_ONLY.contains(&key.as_str()) => {
                ("JSONata", "JSONPath")
            }
            _ => continue,
        };
        cx.schema(
            format!("The QueryLanguage is set to '{set}', but field '{key}' is only supported for the '{other}' QueryLanguage"),
            here(loc),
        );
        ok = false;
    }
    ok
}

/// Two fields of which at most one may be present.
pub(crate) fn exclusive(cx: &mut Cx, obj: &Object, fields: &[&str], loc: &str) -> bool {
    let present: Vec<&str> = fields
        .iter()
        .copied()
        .filter(|f| obj.contains_key(*f))
        .collect();
    if present.len() > 1 {
        cx.schema(
            format!(
                "There should only be one of the following fields: [{}]",
                present.join(", ")
            ),
            here(loc),
        );
        return false;
    }
    true
}

/// Deserializes `obj` into a raw struct with serde_path_to_error, reporting
/// every type error (a failing field is dropped and the rest read again).
pub(crate) fn read_raw<T: DeserializeOwned + Default>(
    cx: &mut Cx,
    obj: &Object,
    loc: &str,
) -> (T, bool) {
    let mut owned: Option<Object> = None;
    let mut ok = true;
    for _ in 0..=obj.len() {
        let current = owned.as_ref().unwrap_or(obj);
        let err = match serde_path_to_error::deserialize::<_, T>(current) {
            Ok(raw) => return (raw, ok),
            Err(err) => err,
        };
        ok = false;
        let mut at = loc.to_owned();
        let mut top: Option<String> = None;
        for segment in err.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => at.push_str(&format!("[{index}]")),
                serde_path_to_error::Segment::Map { key } => {
                    if top.is_none() {
                        top = Some(key.clone());
                    }
                    at.push('/');
                    at.push_str(key);
                }
                _ => {}
            }
        }
        let message = err.inner().to_string();
        cx.schema(message, here(&at));
        match top {
            Some(key) => {
                let mut next = current.clone();
                next.remove(&key);
                owned = Some(next);
            }
            None => break,
        }
    }
    (T::default(), false)
}

/// An integer field within bounds.
pub(crate) fn int_field(
    cx: &mut Cx,
    v: &Value,
    min: u64,
    max: Option<u64>,
    loc: &str,
) -> Option<u64> {
    let n = match v {
        Value::Number(n) => n,
        other => {
            cx.schema(
                format!("expected an integer, found {}", type_name(other)),
                loc,
            );
            return None;
        }
    };
    if let Some(u) = n.as_u64() {
        if u < min {
            cx.schema(format!("Minimum value is {min}"), loc);
            return None;
        }
        if let Some(max) = max {
            if u > max {
                cx.schema(format!("Maximum value is {max}"), loc);
                return None;
            }
        }
        return Some(u);
    }
    if n.as_i64().is_some() || n.as_f64().is_some_and(|f| f < 0.0) {
        cx.schema(format!("Minimum value is {min}"), loc);
    } else {
        cx.schema("expected an integer, found a decimal number", loc);
    }
    None
}

/// A number field within bounds.
pub(crate) fn float_field(
    cx: &mut Cx,
    v: &Value,
    min: f64,
    max: Option<f64>,
    loc: &str,
) -> Option<f64> {
    let f = match v.as_f64() {
        Some(f) => f,
        None => {
            cx.schema(format!("expected a number, found {}", type_name(v)), loc);
            return None;
        }
    };
    if f < min {
        cx.schema(format!("Minimum value is {min:?}"), loc);
        return None;
    }
    if let Some(max) = max {
        if f > max {
            cx.schema(format!("Maximum value is {max:?}"), loc);
            return None;
        }
    }
    Some(f)
}

/// The `$` path, for absent InputPath/OutputPath.
pub(crate) fn root_path() -> Option<Path> {
    Path::parse("$").ok()
}

/// The `$` reference path, for absent ResultPath/ItemsPath.
pub(crate) fn root_reference() -> Option<ReferencePath> {
    ReferencePath::parse("$").ok()
}

/// InputPath / OutputPath: absent = `$`, `null` = `None`, else a Path.
pub(crate) fn path_field(
    cx: &mut Cx,
    v: Option<&Value>,
    field: &str,
    loc: &str,
) -> Option<Option<Path>> {
    match v {
        None => root_path().map(Some),
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => match Path::parse(s) {
            Ok(p) => Some(Some(p)),
            Err(_) => {
                cx.schema(
                    format!("The value for the field '{field}' must be a valid JSONPath"),
                    format!("{loc}/{field}"),
                );
                None
            }
        },
        Some(other) => {
            cx.schema(
                format!("expected a string or null, found {}", type_name(other)),
                format!("{loc}/{field}"),
            );
            None
        }
    }
}

/// Which roots a Reference Path field accepts besides `$`.
#[derive(Clone, Copy)]
pub(crate) struct Roots {
    context: bool,
    variables: bool,
}

pub(crate) const DATA_ONLY: Roots = Roots {
    context: false,
    variables: false,
};
pub(crate) const NO_CONTEXT: Roots = Roots {
    context: false,
    variables: true,
};
pub(crate) const ANY_ROOT: Roots = Roots {
    context: true,
    variables: true,
};

pub(crate) fn reference_path(
    cx: &mut Cx,
    text: &str,
    roots: Roots,
    at: &str,
) -> Option<ReferencePath> {
    match ReferencePath::parse(text) {
        Ok(p) => {
            let allowed = match p.root() {
                Root::Data => true,
                Root::Context => roots.context,
                Root::Variable(_) => roots.variables,
            };
            if allowed {
                Some(p)
            } else {
                cx.schema("Value is not a Reference Path", at);
                None
            }
        }
        Err(_) => {
            cx.schema("Value is not a Reference Path", at);
            None
        }
    }
}

/// ResultPath-like: absent = `$`, `null` = `None`, else a Reference Path.
pub(crate) fn reference_field(
    cx: &mut Cx,
    v: Option<&Value>,
    field: &str,
    roots: Roots,
    loc: &str,
) -> Option<Option<ReferencePath>> {
    let at = format!("{loc}/{field}");
    match v {
        None => root_reference().map(Some),
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => reference_path(cx, s, roots, &at).map(Some),
        Some(other) => {
            cx.schema(
                format!("expected a string or null, found {}", type_name(other)),
                at,
            );
            None
        }
    }
}

/// Warns (NO_DOLLAR) about literal strings that look like paths under keys
/// without `.$`. Iterative: safe on any depth.
pub(crate) fn no_dollar(cx: &mut Cx, template: &Value, loc: &str) {
    let mut stack: Vec<(&Value, String)> = vec![(template, loc.to_owned())];
    while let Some((v, at)) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (key, child) in m.iter().rev() {
                    let child_at = format!("{at}/{key}");
                    if !key.ends_with(".$") {
                        if let Value::String(s) = child {
                            if looks_like_path(s) {
                                cx.warn(
                                    "NO_DOLLAR",
                                    format!(
                                        "The value of field '{key}' looks like a JSONPath or intrinsic function, but the field name does not end with '.$'"
                                    ),
                                    child_at.clone(),
                                );
                            }
                        }
                    }
                    stack.push((child, child_at));
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate().rev() {
                    stack.push((child, format!("{at}[{i}]")));
                }
            }
            _ => {}
        }
    }
}

pub(crate) fn looks_like_path(s: &str) -> bool {
    s == "$"
        || s == "$$"
        || s.starts_with("$.")
        || s.starts_with("$$.")
        || s.starts_with("$[")
        || (s.starts_with("States.") && s.ends_with(')') && s.contains('('))
}

/// True when some object key inside `v` ends with `.$`. Iterative.
pub(crate) fn has_dollar_key(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                if m.keys().any(|k| k.ends_with(".$")) {
                    return true;
                }
                stack.extend(m.values());
            }
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    false
}

/// A payload template (`.$` keys compiled), with its warnings.
pub(crate) fn template(cx: &mut Cx, v: &Value, loc: &str) -> Option<PayloadTemplate> {
    no_dollar(cx, v, loc);
    match PayloadTemplate::compile(v) {
        Ok(t) => Some(t),
        Err(errors) => {
            for e in errors {
                cx.schema(e.message, format!("{loc}{}", e.location));
            }
            None
        }
    }
}

pub(crate) fn opt_template(
    cx: &mut Cx,
    v: Option<&Value>,
    loc: &str,
) -> Option<Option<PayloadTemplate>> {
    optional(v, |v| template(cx, v, loc))
}

pub(crate) fn assign(
    cx: &mut Cx,
    v: Option<&Value>,
    ql: QueryLanguage,
    loc: &str,
) -> Option<Option<Assign>> {
    let at = format!("{loc}/Assign");
    match v {
        None => Some(None),
        Some(v @ Value::Object(_)) => match ql {
            QueryLanguage::JsonPath => template(cx, v, &at).map(|t| Some(Assign::JsonPath(t))),
            QueryLanguage::Jsonata => Some(Some(Assign::Jsonata(JsonataTemplate::new(v.clone())))),
        },
        Some(other) => {
            cx.schema(
                format!("expected an object, found {}", type_name(other)),
                at,
            );
            None
        }
    }
}

/// A number given as a literal (checked by `read`), by its `...Path` field
/// (a Reference Path that may use variables but not the context object),
/// or in JSONata as a `{% %}` string.
pub(crate) fn dynamic<T>(
    cx: &mut Cx,
    obj: &Object,
    (literal, path): (&str, &str),
    ql: QueryLanguage,
    loc: &str,
    read: impl FnOnce(&mut Cx, &Value, &str) -> Option<T>,
) -> Option<Option<Dynamic<T>>> {
    if !exclusive(cx, obj, &[literal, path], loc) {
        return None;
    }
    if let Some(v) = obj.get(literal) {
        if let (QueryLanguage::Jsonata, Value::String(s)) = (ql, v) {
            if let Some(e) = JsonataExpression::parse(s) {
                return Some(Some(Dynamic::Jsonata(e)));
            }
        }
        return read(cx, v, &format!("{loc}/{literal}")).map(|n| Some(Dynamic::Literal(n)));
    }
    if let Some(v) = obj.get(path) {
        let at = format!("{loc}/{path}");
        return match v {
            Value::String(s) => {
                reference_path(cx, s, NO_CONTEXT, &at).map(|p| Some(Dynamic::Path(p)))
            }
            other => {
                cx.schema(format!("expected a string, found {}", type_name(other)), at);
                None
            }
        };
    }
    Some(None)
}

/// The literal reader of [`dynamic`] for an integer in `min..=max`.
pub(crate) fn integer(
    min: u64,
    max: Option<u64>,
) -> impl FnOnce(&mut Cx, &Value, &str) -> Option<u64> {
    move |cx, v, at| int_field(cx, v, min, max, at)
}

pub(crate) fn as_object<'v>(cx: &mut Cx, v: &'v Value, loc: &str) -> Option<&'v Object> {
    match v {
        Value::Object(m) => Some(m),
        other => {
            cx.schema(
                format!("expected an object, found {}", type_name(other)),
                here(loc),
            );
            None
        }
    }
}

/// An optional string field: `Some(None)` when absent, `None` (reported)
/// when not a string.
pub(crate) fn string_field(
    cx: &mut Cx,
    obj: &Object,
    field: &str,
    loc: &str,
) -> Option<Option<String>> {
    match obj.get(field) {
        None => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(other) => {
            cx.schema(
                format!("expected a string, found {}", type_name(other)),
                format!("{loc}/{field}"),
            );
            None
        }
    }
}

/// An optional field read by `read`: `Some(None)` when absent, `None` when
/// present and reported.
pub(crate) fn optional<T>(
    v: Option<&Value>,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Option<Option<T>> {
    match v {
        None => Some(None),
        Some(v) => read(v).map(Some),
    }
}

/// An object of a state (a retrier, a catcher, an `ItemReader`, ...) read
/// into its raw struct `T`, with its `required` fields and the fields
/// outside `allowed` reported, and given `ql` the fields of the other query
/// language. The flag is false when something was reported.
pub(crate) fn field_object<'v, T: DeserializeOwned + Default>(
    cx: &mut Cx,
    v: &'v Value,
    required_fields: &[&str],
    allowed: &[&str],
    ql: Option<QueryLanguage>,
    loc: &str,
) -> Option<(&'v Object, T, bool)> {
    let obj = as_object(cx, v, loc)?;
    let mut ok = required(cx, obj, required_fields, loc);
    ok &= unsupported(cx, obj, &[allowed], loc);
    if let Some(ql) = ql {
        ok &= query_language_fields(cx, obj.keys().cloned(), ql, loc);
    }
    let (raw, raw_ok) = read_raw::<T>(cx, obj, loc);
    Some((obj, raw, ok && raw_ok))
}

/// The input/output slots: `InputPath`, `OutputPath` and (when the state
/// type has it, `has_parameters`) `Parameters` in JSONPath; `Arguments` and
/// `Output` in JSONata. The JSONPath fields are checked in either language,
/// so that a definition gets the same diagnostics.
pub(crate) fn io(
    cx: &mut Cx,
    raw: &RawState,
    ql: QueryLanguage,
    has_parameters: bool,
    loc: &str,
) -> Option<Io> {
    let input_path = path_field(cx, raw.input_path.as_ref(), "InputPath", loc);
    let output_path = path_field(cx, raw.output_path.as_ref(), "OutputPath", loc);
    let parameters = if has_parameters {
        opt_template(cx, raw.parameters.as_ref(), &format!("{loc}/Parameters"))
    } else {
        Some(None)
    };
    let (input_path, output_path, parameters) = (input_path?, output_path?, parameters?);
    // The fields of the other language were reported with the state.
    Some(match ql {
        QueryLanguage::JsonPath => Io::json_path(input_path, output_path, parameters),
        QueryLanguage::Jsonata => Io::jsonata(
            raw.arguments.clone().map(JsonataTemplate::new),
            raw.output.clone().map(JsonataTemplate::new),
        ),
    })
}
