//! `$match`, `$contains`, `$replace`, `$split`: with a string, a regex literal
//! (JavaScript semantics through `crate::jsonata::regexp`, on the evaluation's
//! step budget), or a custom matcher function.
//! Offsets reported to expressions count UTF-16 units, as in JavaScript.

use super::{arg, num_arg, str_arg, Args, Entry, Focus};
use crate::jsonata::ast::RegexLit;
use crate::jsonata::error::Raw;
use crate::jsonata::eval::func::Func;
use crate::jsonata::eval::value::{Obj, Val};
use crate::jsonata::eval::{Ev, R};
use std::rc::Rc;

pub(crate) const TABLE: &[Entry] = &[
    ("match", "<s-f<s:o>n?:a<o>>", 3, match_),
    ("contains", "<s-(sf):b>", 2, contains),
    ("replace", "<s-(sf)(sf)n?:s>", 4, replace),
    ("split", "<s-(sf)n?:a<s>>", 3, split),
];

/// One match, with byte offsets into the subject.
struct Found<'a> {
    text: String,
    start: usize,
    end: usize,
    groups: Vec<String>,
    next: Option<Val<'a>>,
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// UTF-16 offsets of byte offsets met in increasing order, each found by
/// counting on from the last one (not from the start: a subject with many
/// matches would be quadratic).
#[derive(Default)]
struct Utf16At {
    byte: usize,
    units: usize,
}

impl Utf16At {
    fn get(&mut self, s: &str, byte: usize) -> usize {
        if byte < self.byte {
            *self = Utf16At::default();
        }
        self.units += utf16_len(s.get(self.byte..byte).unwrap_or(""));
        self.byte = byte;
        self.units
    }
}

fn byte_at_utf16(s: &str, units: f64) -> usize {
    let mut count = 0.0;
    for (i, c) in s.char_indices() {
        if count >= units {
            return i;
        }
        count += c.len_utf16() as f64;
    }
    s.len()
}

fn regex_at<'a>(ev: &Ev<'_>, re: &RegexLit, s: &str, from: usize) -> R<Option<Found<'a>>> {
    if from > s.len() {
        return Ok(None);
    }
    let Some(m) = ev.regex_find(re, s, from)? else {
        return Ok(None);
    };
    let Some(r) = m.first().cloned().flatten() else {
        return Ok(None);
    };
    let groups = m
        .iter()
        .skip(1)
        .map(|g| g.clone().and_then(|g| s.get(g)).unwrap_or("").to_string())
        .collect();
    Ok(Some(Found {
        text: s.get(r.clone()).unwrap_or("").to_string(),
        start: r.start,
        end: r.end,
        groups,
        next: None,
    }))
}

/// The object a regex yields when called directly: `{match, start, end, groups}`.
pub(crate) fn first_match_object<'a>(ev: &Ev<'_>, re: &RegexLit, s: &str) -> R<Option<Val<'a>>> {
    Ok(regex_at(ev, re, s, 0)?.map(|f| found_object(s, &f, false, &mut Utf16At::default())))
}

fn found_object<'a>(s: &str, f: &Found<'a>, for_match: bool, at: &mut Utf16At) -> Val<'a> {
    let mut o = Obj::new();
    o.insert("match", Val::str(f.text.as_str()));
    let start = at.get(s, f.start);
    if for_match {
        o.insert("index", Val::Num(start as f64));
    } else {
        o.insert("start", Val::Num(start as f64));
        o.insert("end", Val::Num((start + utf16_len(&f.text)) as f64));
    }
    o.insert(
        "groups",
        Val::array(f.groups.iter().map(|g| Val::str(g.as_str())).collect()),
    );
    Val::obj(o)
}

/// Iterates the matches of a regex or of a custom matcher function.
struct Matches<'e, 'a> {
    ev: &'e Ev<'a>,
    focus: &'e Focus<'a>,
    matcher: Val<'a>,
    subject: String,
    last: Option<Found<'a>>,
    started: bool,
}

impl<'e, 'a> Matches<'e, 'a> {
    fn new(ev: &'e Ev<'a>, focus: &'e Focus<'a>, matcher: Val<'a>, subject: &str) -> Self {
        Matches {
            ev,
            focus,
            matcher,
            subject: subject.to_string(),
            last: None,
            started: false,
        }
    }

    fn next(&mut self) -> R<Option<&Found<'a>>> {
        let regex = match &self.matcher {
            Val::Func(f) => match &**f {
                Func::Regex(r) => Some(*r),
                _ => None,
            },
            _ => None,
        };
        let found = match regex {
            Some(r) => {
                if !self.started {
                    regex_at(self.ev, r, &self.subject, 0)?
                } else {
                    let from = self.last.as_ref().map(|f| f.end).unwrap_or(0);
                    if from >= self.subject.len() {
                        None
                    } else {
                        let f = regex_at(self.ev, r, &self.subject, from)?;
                        if f.as_ref().is_some_and(|f| f.text.is_empty()) {
                            return Err(
                                Raw::new("D1004").val(serde_json::Value::String(r.source.clone()))
                            );
                        }
                        f
                    }
                }
            }
            None => {
                let res = if !self.started {
                    self.ev.call_fn(
                        &self.matcher,
                        vec![Some(Val::str(self.subject.as_str()))],
                        &self.focus.env,
                    )?
                } else {
                    match self.last.as_ref().and_then(|f| f.next.clone()) {
                        Some(next) => self.ev.call_fn(&next, vec![], &self.focus.env)?,
                        None => None,
                    }
                };
                self.custom(res)?
            }
        };
        self.started = true;
        self.last = found;
        Ok(self.last.as_ref())
    }

    fn custom(&self, res: Option<Val<'a>>) -> R<Option<Found<'a>>> {
        let Some(res) = res else { return Ok(None) };
        let start = res.get("start").and_then(|v| v.as_num());
        let end = res.get("end").and_then(|v| v.as_num());
        let groups = res.get("groups");
        let next = res.get("next").filter(Val::is_function);
        if start.is_none()
            && end.is_none()
            && groups.as_ref().is_none_or(|g| !g.is_array())
            && next.is_none()
        {
            return Err(Raw::new("T1010"));
        }
        let text = res
            .get("match")
            .and_then(|m| m.as_str().map(str::to_string))
            .unwrap_or_default();
        let start = byte_at_utf16(&self.subject, start.unwrap_or(0.0));
        let end = match end {
            Some(e) => byte_at_utf16(&self.subject, e),
            None => start + text.len(),
        };
        let groups = groups
            .map(|g| {
                g.items()
                    .iter()
                    .map(|i| i.as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(Found {
            text,
            start,
            end,
            groups,
            next,
        }))
    }
}

fn limit_arg(args: &Args<'_>, i: usize, code: &'static str, index: usize) -> R<Option<f64>> {
    match num_arg(args, i) {
        Some(l) if l < 0.0 => Err(Raw::new(code).idx(index).val(serde_json::Value::from(l))),
        other => Ok(other),
    }
}

fn match_<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(subject) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let limit = limit_arg(&args, 2, "D3040", 3)?;
    let Some(matcher) = arg(&args, 1).cloned() else {
        return Ok(None);
    };
    let mut out = Vec::new();
    if limit.is_none_or(|l| l > 0.0) {
        let mut m = Matches::new(ev, focus, matcher, &subject);
        let mut at = Utf16At::default();
        while let Some(f) = m.next()? {
            out.push(found_object(&subject, f, true, &mut at));
            if limit.is_some_and(|l| out.len() as f64 >= l) {
                break;
            }
            ev.check_text(out.len())?;
        }
    }
    Ok(Some(Val::seq(out)))
}

fn contains<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(subject) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let Some(token) = arg(&args, 1).cloned() else {
        return Ok(None);
    };
    if let Some(t) = token.as_str() {
        return Ok(Some(Val::Bool(subject.contains(t))));
    }
    let mut m = Matches::new(ev, focus, token, &subject);
    Ok(Some(Val::Bool(m.next()?.is_some())))
}

/// Expand `$0`, `$1`, `$$` in a replacement string, as jsonata-js does.
fn substitute(rep: &str, f: &Found<'_>) -> String {
    let mut out = String::new();
    let chars: Vec<char> = rep.chars().collect();
    let mut pos = 0;
    while pos < chars.len() {
        let Some(idx) = chars[pos..].iter().position(|c| *c == '$').map(|i| i + pos) else {
            break;
        };
        out.extend(&chars[pos..idx]);
        pos = idx + 1;
        match chars.get(pos) {
            Some('$') => {
                out.push('$');
                pos += 1;
            }
            Some('0') => {
                out.push_str(&f.text);
                pos += 1;
            }
            _ => {
                let ng = f.groups.len();
                let max_digits = if ng == 0 {
                    1
                } else {
                    (ng as f64).log10().floor() as usize + 1
                };
                let digits_at = |n: usize| -> Option<usize> {
                    let d: String = chars
                        .iter()
                        .skip(pos)
                        .take(n)
                        .take_while(|c| c.is_ascii_digit())
                        .collect();
                    d.parse().ok()
                };
                let mut index = digits_at(max_digits);
                if max_digits > 1 && index.is_some_and(|i| i > ng) {
                    index = digits_at(max_digits - 1);
                }
                match index {
                    Some(i) => {
                        if ng > 0 && i >= 1 {
                            if let Some(g) = f.groups.get(i - 1) {
                                out.push_str(g);
                            }
                        }
                        pos += i.to_string().len();
                    }
                    None => out.push('$'),
                }
            }
        }
    }
    if pos < chars.len() {
        out.extend(&chars[pos..]);
    }
    out
}

fn replace<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(subject) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let pattern = arg(&args, 1).cloned();
    if pattern.as_ref().and_then(Val::as_str) == Some("") {
        return Err(Raw::new("D3010")
            .idx(2)
            .val(serde_json::Value::String(String::new())));
    }
    let limit = limit_arg(&args, 3, "D3011", 4)?;
    let replacement = arg(&args, 2).cloned();
    let Some(pattern) = pattern else {
        return Ok(Some(Val::str(subject)));
    };
    if limit.is_some_and(|l| l <= 0.0) {
        return Ok(Some(Val::str(subject)));
    }
    let mut out = String::new();
    let mut count = 0.0;
    if let Some(p) = pattern.as_str() {
        let rep = replacement
            .as_ref()
            .map(|r| crate::jsonata::functions::string::to_string(r, ev.limits.max_bytes))
            .transpose()?
            .unwrap_or_default();
        let mut rest = subject.as_str();
        while let Some(i) = rest.find(p) {
            if limit.is_some_and(|l| count >= l) {
                break;
            }
            out.push_str(&rest[..i]);
            out.push_str(&rep);
            rest = &rest[i + p.len()..];
            count += 1.0;
            ev.check_text(out.len())?;
        }
        out.push_str(rest);
        return Ok(Some(Val::str(out)));
    }
    let mut m = Matches::new(ev, focus, pattern, &subject);
    let mut at = Utf16At::default();
    let mut position = 0;
    while let Some(f) = m.next()? {
        if limit.is_some_and(|l| count >= l) {
            break;
        }
        out.push_str(subject.get(position..f.start).unwrap_or(""));
        let with = match &replacement {
            Some(r) if r.as_str().is_some() => substitute(r.as_str().unwrap_or(""), f),
            Some(r) if r.is_function() => {
                let mo = found_object(&subject, f, false, &mut at);
                let res = ev.call_fn(r, vec![Some(mo)], &focus.env)?;
                match res.as_ref().and_then(Val::as_str) {
                    Some(s) => s.to_string(),
                    None => {
                        return Err(Raw::new("D3012").val(
                            res.map(|v| v.to_json_lossy())
                                .unwrap_or(serde_json::Value::Null),
                        ));
                    }
                }
            }
            _ => String::new(),
        };
        out.push_str(&with);
        position = f.start + f.text.len();
        count += 1.0;
        ev.check_text(out.len())?;
    }
    out.push_str(subject.get(position..).unwrap_or(""));
    Ok(Some(Val::str(out)))
}

fn split<'a>(ev: &Ev<'a>, focus: &Focus<'a>, args: Args<'a>) -> R<Option<Val<'a>>> {
    let Some(subject) = str_arg(&args, 0) else {
        return Ok(None);
    };
    let limit = limit_arg(&args, 2, "D3020", 3)?;
    let Some(sep) = arg(&args, 1).cloned() else {
        return Ok(None);
    };
    let mut parts: Vec<String> = Vec::new();
    if limit.is_some_and(|l| l <= 0.0) {
        return Ok(Some(Val::array(Vec::new())));
    }
    let max = limit.map(|l| l.floor() as usize).unwrap_or(usize::MAX);
    if let Some(p) = sep.as_str() {
        if p.is_empty() {
            let units: Vec<u16> = subject.encode_utf16().collect();
            for u in units.iter().take(max) {
                parts.push(String::from_utf16_lossy(&[*u]));
            }
        } else {
            for piece in subject.split(p).take(max) {
                parts.push(piece.to_string());
            }
        }
    } else {
        let mut m = Matches::new(ev, focus, sep, &subject);
        let mut start = 0;
        let mut count = 0;
        while let Some(f) = m.next()? {
            if count >= max {
                break;
            }
            parts.push(subject.get(start..f.start).unwrap_or("").to_string());
            start = f.end;
            count += 1;
        }
        if count < max {
            parts.push(subject.get(start..).unwrap_or("").to_string());
        }
    }
    ev.check_text(parts.len())?;
    Ok(Some(Val::array(
        parts.into_iter().map(|p| Val::Str(Rc::from(p))).collect(),
    )))
}
