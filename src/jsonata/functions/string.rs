//! String functions: `$string`, `$substring`, `$substringBefore`,
//! `$substringAfter`, `$lowercase`, `$uppercase`, `$length`, `$trim`, `$pad`,
//! `$join`, `$base64encode`, `$base64decode` and the URL encoders.

use super::{arg, num_arg, str_arg, Args, Entry, Focus};
use crate::jsonata::error::Raw;
use crate::jsonata::eval::value::{js_number, precision15, stringify, Unwritable, Val};
use crate::jsonata::eval::{Ev, R};
use base64::Engine;

pub(crate) const TABLE: &[Entry] = &[
    ("string", "<x-b?:s>", 1, string),
    ("substring", "<s-nn?:s>", 3, substring),
    ("substringBefore", "<s-s:s>", 2, substring_before),
    ("substringAfter", "<s-s:s>", 2, substring_after),
    ("lowercase", "<s-:s>", 1, lowercase),
    ("uppercase", "<s-:s>", 1, uppercase),
    ("length", "<s-:n>", 1, length),
    ("trim", "<s-:s>", 1, trim),
    ("pad", "<s-ns?:s>", 3, pad),
    ("join", "<a<s>s?:s>", 2, join),
    ("base64encode", "<s-:s>", 1, base64encode),
    ("base64decode", "<s-:s>", 1, base64decode),
    ("encodeUrlComponent", "<s-:s>", 1, encode_url_component),
    ("encodeUrl", "<s-:s>", 1, encode_url),
    ("decodeUrlComponent", "<s-:s>", 1, decode_url_component),
    ("decodeUrl", "<s-:s>", 1, decode_url),
];

/// `fn.string`: strings as they are, functions as "", anything else as
/// JSON (`U1004` when that text passes `max` bytes).
pub(crate) fn to_string(v: &Val<'_>, max: usize) -> R<String> {
    to_string_pretty(v, false, max)
}

fn to_string_pretty(v: &Val<'_>, pretty: bool, max: usize) -> R<String> {
    if let Some(s) = v.as_str() {
        if s.len() > max {
            return Err(crate::jsonata::detach::over_budget(max));
        }
        return Ok(s.to_string());
    }
    if v.is_function() {
        return Ok(String::new());
    }
    if let Some(n) = v.as_num() {
        if !n.is_finite() {
            return Err(Raw::new("D3001").val(serde_json::Value::Null));
        }
        return Ok(js_number(precision15(n)));
    }
    let mut v = v.clone();
    if let Val::Arr(a) = &v {
        if a.has(crate::jsonata::eval::value::OUTER) {
            if let Some(first) = a.items.first() {
                v = first.clone();
            }
        }
    }
    stringify(&v, pretty, max).map_err(|e| match e {
        Unwritable::TooBig => crate::jsonata::detach::over_budget(max),
        _ => Raw::new("D1001").val(serde_json::Value::Null),
    })
}

fn s<'a>(x: impl Into<std::rc::Rc<str>>) -> R<Option<Val<'a>>> {
    Ok(Some(Val::Str(x.into())))
}

fn string<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = arg(&args, 0) else {
        return Ok(None);
    };
    let pretty = arg(&args, 1).and_then(Val::as_bool).unwrap_or(false);
    s(to_string_pretty(v, pretty, ev.limits.max_bytes)?)
}

/// JavaScript's `Array.prototype.slice` index rules.
fn slice_index(x: f64, len: usize) -> usize {
    let len_f = len as f64;
    let x = if x.is_nan() { 0.0 } else { x.trunc() };
    if x < 0.0 {
        (len_f + x).max(0.0) as usize
    } else {
        x.min(len_f) as usize
    }
}

fn substring<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(st) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let chars: Vec<char> = st.chars().collect();
    let len = chars.len();
    let mut start = num_arg(&args, 1).unwrap_or(0.0);
    if len as f64 + start < 0.0 {
        start = 0.0;
    }
    let from = slice_index(start, len);
    let to = match num_arg(&args, 2) {
        Some(l) => {
            if l <= 0.0 {
                return s("");
            }
            let end = if start >= 0.0 {
                start + l
            } else {
                len as f64 + start + l
            };
            slice_index(end, len)
        }
        None => len,
    };
    if from >= to {
        return s("");
    }
    s(chars[from..to].iter().collect::<String>())
}

fn substring_before<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(st) = arg(&args, 0).and_then(Val::as_str) else {
        return Ok(None);
    };
    let chars = arg(&args, 1).and_then(Val::as_str).unwrap_or_default();
    match st.find(chars) {
        Some(i) => s(&st[..i]),
        None => s(st),
    }
}

fn substring_after<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(st) = arg(&args, 0).and_then(Val::as_str) else {
        return Ok(None);
    };
    let chars = arg(&args, 1).and_then(Val::as_str).unwrap_or_default();
    match st.find(chars) {
        Some(i) => s(&st[i + chars.len()..]),
        None => s(st),
    }
}

fn lowercase<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match arg(&args, 0).and_then(Val::as_str) {
        Some(v) => s(v.to_lowercase()),
        None => Ok(None),
    }
}

fn uppercase<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match arg(&args, 0).and_then(Val::as_str) {
        Some(v) => s(v.to_uppercase()),
        None => Ok(None),
    }
}

fn length<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match arg(&args, 0).and_then(Val::as_str) {
        Some(v) => Ok(Some(Val::Num(v.chars().count() as f64))),
        None => Ok(None),
    }
}

fn trim<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(st) = arg(&args, 0).and_then(Val::as_str) else {
        return Ok(None);
    };
    let mut out = String::with_capacity(st.len());
    let mut in_ws = false;
    for c in st.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !in_ws {
                out.push(' ');
            }
            in_ws = true;
        } else {
            out.push(c);
            in_ws = false;
        }
    }
    let out = out.strip_prefix(' ').unwrap_or(&out);
    let out = out.strip_suffix(' ').unwrap_or(out);
    s(out)
}

fn pad<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(st) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let width = num_arg(&args, 1).unwrap_or(0.0);
    let ch = match str_arg(&args, 2) {
        Some(c) if !c.is_empty() => c,
        _ => " ".to_string(),
    };
    let pad_len = width.abs().trunc() - st.chars().count() as f64;
    if pad_len <= 0.0 {
        return s(st);
    }
    let n = pad_len as usize;
    ev.check_text(n.saturating_add(st.len()))?;
    let padding: String = ch
        .chars()
        .cycle()
        .take(n.saturating_mul(ch.chars().count()))
        .collect::<String>()
        .chars()
        .take(n)
        .collect();
    if width > 0.0 {
        s(st + &padding)
    } else {
        s(padding + &st)
    }
}

fn join<'a>(ev: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = arg(&args, 0) else {
        return Ok(None);
    };
    let sep = str_arg(&args, 1).unwrap_or_default();
    let parts = v.items();
    // the length is known before anything is copied
    let mut len = sep.len().saturating_mul(parts.len().saturating_sub(1));
    for p in &parts {
        len = len.saturating_add(p.as_str().map_or(0, str::len));
    }
    ev.check_bytes(len)?;
    let mut out = String::with_capacity(len);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        out.push_str(p.as_str().unwrap_or_default());
    }
    s(out)
}

fn base64encode<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match str_arg(&args, 0) {
        Some(v) => s(base64::engine::general_purpose::STANDARD.encode(v.as_bytes())),
        None => Ok(None),
    }
}

fn base64decode<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let clean: String = v
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(clean.as_bytes())
        .unwrap_or_default();
    s(String::from_utf8_lossy(&bytes).into_owned())
}

const COMPONENT_SAFE: &str = "-_.!~*'()";
const URI_SAFE: &str = "-_.!~*'();/?:@&=+$,#";

fn encode(v: &str, safe: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if c.is_ascii_alphanumeric() || safe.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

fn decode(v: &str, keep: &str) -> Option<String> {
    let bytes = v.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = v.get(i + 1..i + 3)?;
            let b = u8::from_str_radix(hex, 16).ok()?;
            if b < 0x80 && keep.contains(b as char) {
                out.extend_from_slice(&bytes[i..i + 3]);
            } else {
                out.push(b);
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn url_error(name: &str, v: &str) -> Raw {
    Raw::new("D3140")
        .tok(name)
        .val(serde_json::Value::String(v.to_string()))
}

fn encode_url_component<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match str_arg(&args, 0) {
        Some(v) => s(encode(&v, COMPONENT_SAFE)),
        None => Ok(None),
    }
}

fn encode_url<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    match str_arg(&args, 0) {
        Some(v) => s(encode(&v, URI_SAFE)),
        None => Ok(None),
    }
}

fn decode_url_component<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = str_arg(&args, 0) else {
        return Ok(None);
    };
    match decode(&v, "") {
        Some(d) => s(d),
        None => Err(url_error("decodeUrlComponent", &v)),
    }
}

fn decode_url<'a>(_: &Ev<'a>, _: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(v) = str_arg(&args, 0) else {
        return Ok(None);
    };
    match decode(&v, ";/?:@&=+$,#") {
        Some(d) => s(d),
        None => Err(url_error("decodeUrl", &v)),
    }
}
