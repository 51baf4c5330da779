//! Function signatures (`<s-n?:s>`): parsing, and validating the arguments of a
//! call against one, with JSONata's rules (a missing argument may take the
//! context; a single value passed for an array parameter is wrapped).

use super::error::Raw;
use super::eval::value::Val;

#[derive(Clone, Debug, PartialEq)]
enum Quant {
    One,
    Opt,
    Plus,
}

#[derive(Clone, Debug)]
struct Param {
    /// The type symbols this parameter accepts (`m` = missing/undefined).
    class: Vec<u8>,
    quant: Quant,
    kind: u8,
    context: bool,
    context_class: Vec<u8>,
    subtype: Option<String>,
}

/// A parsed signature.
#[derive(Clone, Debug)]
pub(crate) struct Signature {
    params: Vec<Param>,
}

fn symbol(v: Option<&Val<'_>>) -> u8 {
    match v {
        None => b'm',
        Some(v) => v.type_symbol(),
    }
}

impl Signature {
    pub fn parse(sig: &str) -> Result<Signature, Raw> {
        let chars: Vec<char> = sig.chars().collect();
        let mut params: Vec<Param> = Vec::new();
        let mut pos = 1;
        let new = |class: &[u8], kind: u8| Param {
            class: class.to_vec(),
            quant: Quant::One,
            kind,
            context: false,
            context_class: Vec::new(),
            subtype: None,
        };
        while pos < chars.len() {
            let c = chars[pos];
            if c == ':' {
                break;
            }
            match c {
                's' | 'n' | 'b' | 'l' | 'o' => params.push(new(&[c as u8, b'm'], c as u8)),
                'a' => params.push(new(b"asnblfom", b'a')),
                'f' => params.push(new(b"f", b'f')),
                'j' => params.push(new(b"asnblom", b'j')),
                'x' => params.push(new(b"asnblfom", b'x')),
                '-' => {
                    if let Some(p) = params.last_mut() {
                        p.context = true;
                        p.context_class = p.class.clone();
                        p.quant = Quant::Opt;
                    }
                }
                '?' => {
                    if let Some(p) = params.last_mut() {
                        if p.quant != Quant::Plus {
                            p.quant = Quant::Opt;
                        }
                    }
                }
                '+' => {
                    if let Some(p) = params.last_mut() {
                        p.quant = Quant::Plus;
                    }
                }
                '(' => {
                    let end = closing(&chars, pos, '(', ')');
                    let choice: String = chars[pos + 1..end.min(chars.len())].iter().collect();
                    if choice.contains('<') {
                        return Err(Raw::new("S0402").pos(pos).val(choice.into()));
                    }
                    let mut class: Vec<u8> = choice.bytes().collect();
                    class.push(b'm');
                    params.push(new(&class, b'('));
                    pos = end;
                }
                '<' => {
                    let prev = params.last_mut();
                    match prev {
                        Some(p) if p.kind == b'a' || p.kind == b'f' => {
                            let end = closing(&chars, pos, '<', '>');
                            p.subtype = Some(chars[pos + 1..end.min(chars.len())].iter().collect());
                            pos = end;
                        }
                        p => {
                            let k = p.map(|p| (p.kind as char).to_string()).unwrap_or_default();
                            return Err(Raw::new("S0401").pos(pos).val(k.into()));
                        }
                    }
                }
                _ => {}
            }
            pos += 1;
        }
        Ok(Signature { params })
    }

    /// Validate (and fix up) the arguments of a call; `context` is the focus,
    /// used for a missing argument marked `-`.
    pub fn validate<'a>(
        &self,
        args: Vec<Option<Val<'a>>>,
        context: Option<&Val<'a>>,
    ) -> Result<Vec<Option<Val<'a>>>, Raw> {
        // One argument per parameter, each of an accepted type: the match is
        // one to one and nothing needs fixing up.
        let one_to_one = args.len() == self.params.len()
            && self.params.iter().zip(&args).all(|(p, a)| {
                let s = symbol(a.as_ref());
                p.quant != Quant::Plus
                    && p.class.contains(&s)
                    && (p.kind != b'a'
                        || (s == b'a'
                            && p.subtype.as_ref().is_none_or(|sub| {
                                a.as_ref().is_some_and(|a| all_items_are(a, sub))
                            })))
            });
        if one_to_one {
            return Ok(args);
        }
        let args = &args[..];
        let syms: Vec<u8> = args.iter().map(|a| symbol(a.as_ref())).collect();
        let Some(caps) = self.matches(&syms, self.params.len(), true) else {
            return Err(self.mismatch(args, &syms));
        };
        let mut out = Vec::with_capacity(args.len());
        let mut ai = 0;
        for (param, (start, len)) in self.params.iter().zip(caps) {
            if len == 0 {
                if param.context {
                    let ct = symbol(context);
                    if param.context_class.contains(&ct) {
                        out.push(context.cloned());
                    } else {
                        return Err(Raw::new("T0411")
                            .idx(ai + 1)
                            .val(context.map(Val::to_json_lossy).unwrap_or_default()));
                    }
                } else {
                    out.push(args.get(ai).cloned().flatten());
                    ai += 1;
                }
                continue;
            }
            let matched = &syms[start..start + len];
            for &single in matched {
                let arg = args.get(ai).cloned().flatten();
                if param.kind == b'a' {
                    if single == b'm' {
                        out.push(None);
                        ai += 1;
                        continue;
                    }
                    let Some(arg) = arg else {
                        out.push(None);
                        ai += 1;
                        continue;
                    };
                    if let Some(sub) = &param.subtype {
                        let ok = if single != b'a' {
                            matched == sub.as_bytes()
                        } else {
                            let items = arg.items();
                            match items.first() {
                                None => true,
                                Some(first) => {
                                    let t = first.type_symbol();
                                    sub.as_bytes().first() == Some(&t)
                                        && items.iter().all(|v| v.type_symbol() == t)
                                }
                            }
                        };
                        if !ok {
                            let mut e = Raw::new("T0412").idx(ai + 1).val(arg.to_json_lossy());
                            e.type_ = Some(type_name(sub));
                            return Err(e);
                        }
                    }
                    out.push(Some(if single != b'a' {
                        Val::array(vec![arg])
                    } else {
                        arg
                    }));
                } else {
                    out.push(arg);
                }
                ai += 1;
            }
        }
        Ok(out)
    }

    fn mismatch(&self, args: &[Option<Val<'_>>], syms: &[u8]) -> Raw {
        let mut good = 0;
        for i in 0..self.params.len() {
            match self.matches(syms, i + 1, false) {
                None => break,
                Some(caps) => good = caps.last().map(|(s, l)| s + l).unwrap_or(0),
            }
        }
        let v = args.get(good).cloned().flatten();
        let mut e = Raw::new("T0410").idx(good + 1);
        if let Some(v) = v {
            e = e.val(v.to_json_lossy());
        }
        e
    }

    /// Match the first `n` parameters against the argument symbols, greedily
    /// with backtracking (as the regular expression jsonata-js builds would);
    /// returns each parameter's (start, length).
    fn matches(&self, syms: &[u8], n: usize, anchored: bool) -> Option<Vec<(usize, usize)>> {
        let mut caps = Vec::with_capacity(n);
        if self.step(syms, 0, 0, n, anchored, &mut caps) {
            Some(caps)
        } else {
            None
        }
    }

    fn step(
        &self,
        syms: &[u8],
        pi: usize,
        si: usize,
        n: usize,
        anchored: bool,
        caps: &mut Vec<(usize, usize)>,
    ) -> bool {
        if pi == n {
            return !anchored || si == syms.len();
        }
        let p = &self.params[pi];
        let ok = |i: usize| syms.get(i).is_some_and(|s| p.class.contains(s));
        let max = match p.quant {
            Quant::One | Quant::Opt => usize::from(ok(si)),
            Quant::Plus => {
                let mut k = 0;
                while ok(si + k) {
                    k += 1;
                }
                k
            }
        };
        let min = if p.quant == Quant::One || p.quant == Quant::Plus {
            1
        } else {
            0
        };
        let mut k = max;
        loop {
            if k < min {
                return false;
            }
            caps.push((si, k));
            if self.step(syms, pi + 1, si + k, n, anchored, caps) {
                return true;
            }
            caps.pop();
            if k == 0 {
                return false;
            }
            k -= 1;
        }
    }
}

fn type_name(sub: &str) -> String {
    match sub.as_bytes().first() {
        Some(b's') => "strings".into(),
        Some(b'n') => "numbers".into(),
        Some(b'b') => "booleans".into(),
        Some(b'o') => "objects".into(),
        Some(b'a') => "arrays".into(),
        Some(b'f') => "functions".into(),
        _ => sub.to_string(),
    }
}

fn closing(chars: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 1;
    let mut pos = start;
    while pos < chars.len() {
        pos += 1;
        match chars.get(pos) {
            Some(c) if *c == close => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Some(c) if *c == open => depth += 1,
            _ => {}
        }
    }
    pos
}

/// True when every item of the array `a` has the type `sub` names (an
/// empty array included), as the general match checks a subtype, without
/// copying the items.
fn all_items_are(a: &Val<'_>, sub: &str) -> bool {
    let Some(&want) = sub.as_bytes().first() else {
        return false;
    };
    if sub.len() != 1 {
        return false;
    }
    match a {
        Val::Arr(arr) => arr.items.iter().all(|v| v.type_symbol() == want),
        Val::Ref(serde_json::Value::Array(items)) => {
            items.iter().all(|v| Val::Ref(v).type_symbol() == want)
        }
        _ => false,
    }
}
