//! The Pratt parser: tokens to a parse tree ([`P`]), which `ast::process` then
//! turns into the evaluated tree. Binding powers are JSONata 2.0.6's.

use super::error::Raw;
use super::lexer::{Lexer, Tok, Token};
use super::signature::Signature;

/// A parse-tree node, before path steps, predicates and parents are resolved.
#[derive(Debug)]
pub(crate) struct P {
    pub kind: PK,
    pub pos: usize,
    pub keep_array: bool,
}

#[derive(Debug)]
pub(crate) enum PK {
    Name(String),
    Var(String),
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex(String, String),
    /// An operator token standing alone: `and`/`or`/`in` used as names, `?` as a placeholder.
    Op(&'static str),
    End,
    Wildcard,
    Descendant,
    Parent,
    Binary(&'static str, Box<P>, Box<P>),
    GroupBy(Box<P>, Vec<(P, P)>),
    OrderBy(Box<P>, Vec<(bool, P)>),
    Neg(Box<P>),
    Array(Vec<P>),
    Object(Vec<(P, P)>),
    Block(Vec<P>),
    Condition(Box<P>, Box<P>, Option<Box<P>>),
    Call(Box<P>, Vec<P>, bool),
    Lambda(Vec<String>, Option<Signature>, Box<P>),
    Transform(Box<P>, Box<P>, Option<Box<P>>),
}

fn lbp(t: &Tok) -> u32 {
    match t {
        Tok::Op(op) => match *op {
            "." => 75,
            "[" | "(" | "@" | "#" => 80,
            "{" => 70,
            "?" => 20,
            "+" | "-" | "&" => 50,
            "*" | "/" | "%" => 60,
            "=" | "<" | ">" | "^" | "!=" | "<=" | ">=" | "~>" | "in" => 40,
            "and" => 30,
            "or" => 25,
            ":=" => 10,
            _ => 0,
        },
        _ => 0,
    }
}

/// The text of a token, as jsonata-js shows it in errors and signatures.
fn text(t: &Tok) -> String {
    match t {
        Tok::Op(o) => (*o).to_string(),
        Tok::Name(n) | Tok::Var(n) | Tok::Str(n) => n.clone(),
        Tok::Num(n) => super::eval::value::js_number(*n),
        Tok::Bool(b) => b.to_string(),
        Tok::Null => "null".into(),
        Tok::Regex { pattern, .. } => pattern.clone(),
        Tok::End => "(end)".into(),
    }
}

pub(crate) struct Parser {
    lx: Lexer,
    node: Token,
    depth: usize,
    stack_base: usize,
    /// The names of the `$` variables read or bound, in first-seen order.
    vars: Vec<String>,
}

/// How deep expressions may nest, and how much stack parsing may use: enough
/// for any real expression, and safe on a 256 KiB thread.
pub(crate) const MAX_NESTING: usize = 500;
pub(crate) const MAX_PARSE_STACK: usize = 160 * 1024;

#[inline(never)]
pub(crate) fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

impl Parser {
    /// The tree of `src` and the names of the variables it mentions
    /// (without the `$`; bound, read or a lambda's parameters alike).
    pub fn parse(src: &str) -> Result<(P, Vec<String>), Raw> {
        let mut p = Parser {
            lx: Lexer::new(src),
            node: Token {
                tok: Tok::End,
                pos: 0,
            },
            depth: 0,
            stack_base: stack_position(),
            vars: Vec::new(),
        };
        p.advance(None, false)?;
        let e = p.expression(0)?;
        if p.node.tok != Tok::End {
            return Err(Raw::new("S0201").pos(p.node.pos).tok(text(&p.node.tok)));
        }
        Ok((e, p.vars))
    }

    fn is(&self, op: &str) -> bool {
        matches!(&self.node.tok, Tok::Op(o) if *o == op)
    }

    fn advance(&mut self, expect: Option<&str>, infix: bool) -> Result<(), Raw> {
        if let Some(id) = expect {
            if !self.is(id) {
                let code = if self.node.tok == Tok::End {
                    "S0203"
                } else {
                    "S0202"
                };
                return Err(Raw::new(code)
                    .pos(self.node.pos)
                    .tok(text(&self.node.tok))
                    .val(serde_json::Value::String(id.to_string())));
            }
        }
        let t = self.lx.next(infix)?;
        if let Tok::Op(op @ ("!" | "~")) = t.tok {
            return Err(Raw::new("S0204").pos(t.pos).tok(op));
        }
        self.node = if t.tok == Tok::End {
            Token {
                tok: Tok::End,
                pos: self.lx.len(),
            }
        } else {
            t
        };
        Ok(())
    }

    fn expression(&mut self, rbp: u32) -> Result<P, Raw> {
        self.depth += 1;
        if self.depth > MAX_NESTING || self.stack_base.abs_diff(stack_position()) > MAX_PARSE_STACK
        {
            return Err(Raw::new("U1001")
                .pos(self.node.pos)
                .msg("Expression nesting is too deep"));
        }
        let r = self.expression_inner(rbp);
        self.depth -= 1;
        r
    }

    fn expression_inner(&mut self, rbp: u32) -> Result<P, Raw> {
        let t = self.node.clone();
        self.advance(None, true)?;
        let mut left = self.nud(t)?;
        while rbp < lbp(&self.node.tok) {
            let t = self.node.clone();
            self.advance(None, false)?;
            left = self.led(t, left)?;
        }
        Ok(left)
    }

    fn nud(&mut self, t: Token) -> Result<P, Raw> {
        let pos = t.pos;
        let mk = |kind| P {
            kind,
            pos,
            keep_array: false,
        };
        Ok(match t.tok {
            Tok::Name(n) => mk(PK::Name(n)),
            Tok::Var(n) => {
                if !self.vars.contains(&n) {
                    self.vars.push(n.clone());
                }
                mk(PK::Var(n))
            }
            Tok::Str(s) => mk(PK::Str(s)),
            Tok::Num(n) => mk(PK::Num(n)),
            Tok::Bool(b) => mk(PK::Bool(b)),
            Tok::Null => mk(PK::Null),
            Tok::Regex { pattern, flags } => mk(PK::Regex(pattern, flags)),
            Tok::End => mk(PK::End),
            Tok::Op(op) => match op {
                "and" | "or" | "in" => mk(PK::Op(op)),
                "-" => mk(PK::Neg(Box::new(self.expression(70)?))),
                "*" => mk(PK::Wildcard),
                "**" => mk(PK::Descendant),
                "%" => mk(PK::Parent),
                "[" => self.array_constructor(pos, mk)?,
                "{" => mk(PK::Object(self.object()?)),
                "(" => self.block(pos, mk)?,
                "|" => self.transform(pos, mk)?,
                _ => return Err(Raw::new("S0211").pos(pos).tok(op)),
            },
        })
    }

    fn array_constructor(&mut self, pos: usize, mk: impl Fn(PK) -> P) -> Result<P, Raw> {
        let _ = pos;
        Ok({
            let mut items = Vec::new();
            if !self.is("]") {
                loop {
                    let mut item = self.expression(0)?;
                    if self.is("..") {
                        let rpos = self.node.pos;
                        self.advance(Some(".."), false)?;
                        let rhs = self.expression(0)?;
                        item = P {
                            kind: PK::Binary("..", Box::new(item), Box::new(rhs)),
                            pos: rpos,
                            keep_array: false,
                        };
                    }
                    items.push(item);
                    if !self.is(",") {
                        break;
                    }
                    self.advance(Some(","), false)?;
                }
            }
            self.advance(Some("]"), true)?;
            mk(PK::Array(items))
        })
    }

    fn block(&mut self, pos: usize, mk: impl Fn(PK) -> P) -> Result<P, Raw> {
        let _ = pos;
        Ok({
            let mut exprs = Vec::new();
            while !self.is(")") {
                exprs.push(self.expression(0)?);
                if !self.is(";") {
                    break;
                }
                self.advance(Some(";"), false)?;
            }
            self.advance(Some(")"), true)?;
            mk(PK::Block(exprs))
        })
    }

    fn transform(&mut self, pos: usize, mk: impl Fn(PK) -> P) -> Result<P, Raw> {
        let _ = pos;
        Ok({
            let pattern = self.expression(0)?;
            self.advance(Some("|"), false)?;
            let update = self.expression(0)?;
            let mut delete = None;
            if self.is(",") {
                self.advance(Some(","), false)?;
                delete = Some(Box::new(self.expression(0)?));
            }
            self.advance(Some("|"), false)?;
            mk(PK::Transform(Box::new(pattern), Box::new(update), delete))
        })
    }

    fn object(&mut self) -> Result<Vec<(P, P)>, Raw> {
        let mut pairs = Vec::new();
        if !self.is("}") {
            loop {
                let k = self.expression(0)?;
                self.advance(Some(":"), false)?;
                let v = self.expression(0)?;
                pairs.push((k, v));
                if !self.is(",") {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some("}"), true)?;
        Ok(pairs)
    }

    fn led(&mut self, t: Token, left: P) -> Result<P, Raw> {
        let pos = t.pos;
        let Tok::Op(op) = t.tok else {
            return Err(Raw::new("S0201").pos(pos).tok(text(&t.tok)));
        };
        let mk = |kind| P {
            kind,
            pos,
            keep_array: false,
        };
        Ok(match op {
            "[" => self.led_predicate(pos, op, left, mk)?,
            "{" => mk(PK::GroupBy(Box::new(left), self.object()?)),
            "(" => self.call(pos, left)?,
            "^" => self.led_order_by(pos, op, left, mk)?,
            ":=" => self.led_bind(pos, op, left, mk)?,
            "@" | "#" => self.led_binding(pos, op, left, mk)?,
            "?" => self.led_condition(pos, op, left, mk)?,
            _ => {
                let rhs = self.expression(lbp(&Tok::Op(op)))?;
                mk(PK::Binary(op, Box::new(left), Box::new(rhs)))
            }
        })
    }

    fn led_predicate(
        &mut self,
        pos: usize,
        op: &'static str,
        left: P,
        mk: impl Fn(PK) -> P,
    ) -> Result<P, Raw> {
        let _ = (pos, op);
        Ok({
            if self.is("]") {
                let mut left = left;
                mark_keep_array(&mut left);
                self.advance(Some("]"), true)?;
                return Ok(left);
            }
            let rhs = self.expression(0)?;
            self.advance(Some("]"), true)?;
            mk(PK::Binary("[", Box::new(left), Box::new(rhs)))
        })
    }

    fn led_order_by(
        &mut self,
        pos: usize,
        op: &'static str,
        left: P,
        mk: impl Fn(PK) -> P,
    ) -> Result<P, Raw> {
        let _ = (pos, op);
        Ok({
            self.advance(Some("("), false)?;
            let mut terms = Vec::new();
            loop {
                let mut desc = false;
                if self.is("<") {
                    self.advance(Some("<"), false)?;
                } else if self.is(">") {
                    desc = true;
                    self.advance(Some(">"), false)?;
                }
                terms.push((desc, self.expression(0)?));
                if !self.is(",") {
                    break;
                }
                self.advance(Some(","), false)?;
            }
            self.advance(Some(")"), false)?;
            mk(PK::OrderBy(Box::new(left), terms))
        })
    }

    fn led_bind(
        &mut self,
        pos: usize,
        op: &'static str,
        left: P,
        mk: impl Fn(PK) -> P,
    ) -> Result<P, Raw> {
        let _ = (pos, op);
        Ok({
            if !matches!(left.kind, PK::Var(_)) {
                return Err(Raw::new("S0212").pos(left.pos).tok(ptext(&left)));
            }
            let rhs = self.expression(9)?;
            mk(PK::Binary(":=", Box::new(left), Box::new(rhs)))
        })
    }

    fn led_binding(
        &mut self,
        pos: usize,
        op: &'static str,
        left: P,
        mk: impl Fn(PK) -> P,
    ) -> Result<P, Raw> {
        let _ = (pos, op);
        Ok({
            let rhs = self.expression(80)?;
            if !matches!(rhs.kind, PK::Var(_)) {
                return Err(Raw::new("S0214").pos(rhs.pos).tok(op));
            }
            mk(PK::Binary(op, Box::new(left), Box::new(rhs)))
        })
    }

    fn led_condition(
        &mut self,
        pos: usize,
        op: &'static str,
        left: P,
        mk: impl Fn(PK) -> P,
    ) -> Result<P, Raw> {
        let _ = (pos, op);
        Ok({
            let then = self.expression(0)?;
            let mut els = None;
            if self.is(":") {
                self.advance(Some(":"), false)?;
                els = Some(Box::new(self.expression(0)?));
            }
            mk(PK::Condition(Box::new(left), Box::new(then), els))
        })
    }

    fn call(&mut self, pos: usize, left: P) -> Result<P, Raw> {
        let mut args = Vec::new();
        let mut partial = false;
        if !self.is(")") {
            loop {
                if self.is("?") {
                    partial = true;
                    args.push(P {
                        kind: PK::Op("?"),
                        pos: self.node.pos,
                        keep_array: false,
                    });
                    self.advance(Some("?"), false)?;
                } else {
                    args.push(self.expression(0)?);
                }
                if !self.is(",") {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some(")"), true)?;
        let is_lambda = matches!(&left.kind, PK::Name(n) if n == "function" || n == "\u{3bb}");
        if !is_lambda {
            return Ok(P {
                kind: PK::Call(Box::new(left), args, partial),
                pos,
                keep_array: false,
            });
        }
        let mut params = Vec::new();
        for (i, a) in args.into_iter().enumerate() {
            match a.kind {
                PK::Var(v) => params.push(v),
                _ => {
                    return Err(Raw::new("S0208")
                        .pos(a.pos)
                        .tok(ptext(&a))
                        .val(serde_json::Value::from(i + 1)))
                }
            }
        }
        let mut sig = None;
        if self.is("<") {
            let sig_pos = self.node.pos;
            let mut depth = 1;
            let mut s = String::from("<");
            while depth > 0 && !self.is("{") && self.node.tok != Tok::End {
                self.advance(None, false)?;
                if self.is(">") {
                    depth -= 1;
                } else if self.is("<") {
                    depth += 1;
                }
                s.push_str(&text(&self.node.tok));
            }
            self.advance(Some(">"), false)?;
            sig = Some(Signature::parse(&s).map_err(|mut e| {
                e.position = Some(sig_pos + e.position.unwrap_or(0));
                e
            })?);
        }
        self.advance(Some("{"), false)?;
        let body = self.expression(0)?;
        self.advance(Some("}"), false)?;
        Ok(P {
            kind: PK::Lambda(params, sig, Box::new(body)),
            pos,
            keep_array: false,
        })
    }
}

fn ptext(p: &P) -> String {
    match &p.kind {
        PK::Name(n) | PK::Var(n) | PK::Str(n) => n.clone(),
        PK::Num(n) => super::eval::value::js_number(*n),
        PK::Op(o) | PK::Binary(o, _, _) => (*o).to_string(),
        _ => String::new(),
    }
}

/// `step[]`: flag the innermost step (below any predicates) to keep singleton arrays.
fn mark_keep_array(p: &mut P) {
    let mut cur = p;
    while let PK::Binary("[", ref mut lhs, _) = cur.kind {
        cur = lhs;
    }
    cur.keep_array = true;
}
