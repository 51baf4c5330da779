//! The parser of a full JSONPath: it admits exactly this grammar, with clear
//! messages, and builds the compiled form ([`super::full::Query`]) that
//! [`super::full`] evaluates.
//!
//! ```text
//! steps   := ( '.' name | '.' '*' | '.' bracket | '..' name | '..' '*' | '..' bracket | bracket )*
//! bracket := '[' ( '*' | ints | slice | names | '?(' expr ')' ) ']'
//! expr    := and ( '||' and )* ; and := cmp ( '&&' cmp )* ; cmp := term ( op term )?
//! term    := '(' expr ')' | '@' simple* | '$' simple* | number | 'string' | true | false
//! simple  := '.' name | '[' 'string' ']'
//! ```

use super::full::{Expr, Op, Operand, Query, Selector, Slice, Step};
use serde_json::{Number, Value};

/// At most this many steps and parentheses in one path: the evaluator
/// recurses once per step and per nested parenthesis.
pub(crate) const MAX_NESTING: usize = 256;

/// At most this many recursive descents (`..`) in one path. Each one
/// multiplies the matches by up to the size of the data: on a value
/// nested 1000 levels deep (a few KB of text), two yield some 300 MB of
/// copies and three would yield hundreds of GB.
pub(crate) const MAX_DESCENTS: usize = 2;

/// Parses the steps of a path (the text after its root). `offset` is the
/// length of the root, to report positions in the whole path.
pub(crate) fn parse(steps: &str, offset: usize) -> Result<Query, String> {
    let mut scanner = Scanner {
        text: steps,
        bytes: steps.as_bytes(),
        pos: 0,
        nesting: 0,
        descents: 0,
        offset,
    };
    Ok(Query {
        steps: scanner.steps()?.into_boxed_slice(),
    })
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    nesting: usize,
    descents: usize,
    offset: usize,
}

type Checked = Result<(), String>;
type Parsed<T> = Result<T, String>;

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        if self.text[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn nest(&mut self) -> Checked {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(format!(
                "a path may have at most {MAX_NESTING} steps and nested parentheses"
            ));
        }
        Ok(())
    }

    /// "unexpected character `c` at character n", or "unexpected end".
    fn unexpected(&self) -> String {
        match self.text[self.pos..].chars().next() {
            Some(c) => format!(
                "unexpected character `{}` at character {}",
                c.escape_debug(),
                self.offset + self.pos + 1
            ),
            None => "unexpected end of path".to_owned(),
        }
    }

    fn steps(&mut self) -> Parsed<Vec<Step>> {
        let mut steps = Vec::new();
        while let Some(b) = self.peek() {
            self.nest()?;
            let (descend, selector) = match b {
                b'.' => {
                    self.pos += 1;
                    let descent = self.eat(b'.');
                    if descent {
                        self.descents += 1;
                        if self.descents > MAX_DESCENTS {
                            return Err(format!(
                                "a path may have at most {MAX_DESCENTS} recursive descents (`..`)"
                            ));
                        }
                    }
                    let selector = match self.peek() {
                        Some(b'*') => {
                            self.pos += 1;
                            Selector::Wildcard
                        }
                        Some(b'[') => self.bracket()?,
                        None if descent => {
                            return Err("expected a field name, `*` or `[` after `..`".to_owned())
                        }
                        None => return Err("expected a field name after `.`".to_owned()),
                        Some(b'.') => return Err(self.unexpected()),
                        Some(_) => Selector::Name(self.name(false)?.into()),
                    };
                    (descent, selector)
                }
                b'[' => (false, self.bracket()?),
                _ => return Err(self.unexpected()),
            };
            steps.push(Step { descend, selector });
        }
        Ok(steps)
    }

    /// A dot-notation name: up to `.` or `[` (in a filter also up to an
    /// operator, a space or `)`).
    fn name(&mut self, in_filter: bool) -> Parsed<&'a str> {
        let start = self.pos;
        let text = self.text;
        for (i, c) in text[start..].char_indices() {
            match c {
                '.' | '[' => {
                    self.pos = start + i;
                    return self.nonempty_name(start);
                }
                ' ' | ')' | '=' | '!' | '<' | '>' | '&' | '|' if in_filter => {
                    self.pos = start + i;
                    return self.nonempty_name(start);
                }
                '(' => return Err("functions are not supported".to_owned()),
                c if c.is_whitespace() => {
                    return Err(
                        "a field name containing whitespace needs bracket notation, e.g. `$['a b']`"
                            .to_owned(),
                    )
                }
                ')' | ']' | '?' | '@' | ',' | ':' | '\'' | '"' | '*' => {
                    return Err(format!(
                        "`{c}` is not allowed in a dot-notation field name, use bracket notation, e.g. `$['a{c}b']`"
                    ))
                }
                _ => {}
            }
        }
        self.pos = text.len();
        self.nonempty_name(start)
    }

    fn nonempty_name(&self, start: usize) -> Parsed<&'a str> {
        if self.pos == start {
            Err("expected a field name after `.`".to_owned())
        } else {
            Ok(&self.text[start..self.pos])
        }
    }

    /// A quoted string; `pos` is at the opening quote. Returns the text
    /// between the quotes as written (a backslash keeps the next character
    /// from closing the string and is kept, as in Reference Paths).
    fn quoted(&mut self) -> Parsed<&'a str> {
        let Some(quote) = self.peek() else {
            return Err(self.unexpected());
        };
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None => return Err("unclosed quoted string".to_owned()),
                Some(b'\\') => self.pos += 2,
                Some(b) if b == quote => {
                    self.pos += 1;
                    // `pos - 1` is the closing quote, a char boundary.
                    return Ok(self.text.get(start..self.pos - 1).unwrap_or(""));
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// An optional integer.
    fn integer(&mut self) -> Parsed<Option<i64>> {
        let start = self.pos;
        self.eat(b'-');
        let digits = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == digits {
            if self.pos > start {
                return Err("an array index must be an integer".to_owned());
            }
            return Ok(None);
        }
        let n = self.text[start..self.pos]
            .parse::<i32>()
            .map_err(|_| "array index out of range".to_owned())?;
        Ok(Some(i64::from(n)))
    }

    fn close_bracket(&mut self) -> Checked {
        self.spaces();
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                Ok(())
            }
            None => Err("unclosed `[`".to_owned()),
            Some(_) => Err(self.unexpected()),
        }
    }

    /// A bracket step; `pos` is at `[`.
    fn bracket(&mut self) -> Parsed<Selector> {
        self.pos += 1;
        self.spaces();
        let selector = match self.peek() {
            None => return Err("unclosed `[`".to_owned()),
            Some(b'*') => {
                self.pos += 1;
                Selector::Wildcard
            }
            Some(b'?') => {
                self.pos += 1;
                self.spaces();
                if !self.eat(b'(') {
                    return Err("expected `(` after `?`".to_owned());
                }
                let filter = self.expr()?;
                self.spaces();
                if !self.eat(b')') {
                    return Err(match self.peek() {
                        None => "unclosed filter".to_owned(),
                        Some(_) => self.unexpected(),
                    });
                }
                Selector::Filter(Box::new(filter))
            }
            Some(b'(') => return Err("script expressions are not supported".to_owned()),
            Some(b'\'' | b'"') => {
                let mut names: Vec<Box<str>> = vec![self.quoted()?.into()];
                loop {
                    self.spaces();
                    if !self.eat(b',') {
                        break;
                    }
                    self.spaces();
                    if !matches!(self.peek(), Some(b'\'' | b'"')) {
                        return Err("a union of field names takes only quoted names".to_owned());
                    }
                    names.push(self.quoted()?.into());
                }
                match <[Box<str>; 1]>::try_from(names) {
                    Ok([name]) => Selector::Name(name),
                    Err(names) => Selector::Names(names.into_boxed_slice()),
                }
            }
            Some(b'-' | b'0'..=b'9' | b':') => self.indexes_or_slice()?,
            Some(b']') => return Err("empty brackets".to_owned()),
            Some(_) => return Err(self.unexpected()),
        };
        self.close_bracket()?;
        Ok(selector)
    }

    /// `[i]`, `[i,j,...]` or `[start:end:step]` up to the closing bracket.
    fn indexes_or_slice(&mut self) -> Parsed<Selector> {
        let first = self.integer()?;
        self.spaces();
        if self.eat(b':') {
            self.spaces();
            let end = self.integer()?;
            self.spaces();
            let mut step = 1;
            if self.eat(b':') {
                self.spaces();
                match self.integer()? {
                    Some(0) => return Err("a slice step must not be 0".to_owned()),
                    Some(n) if n < 0 => return Err("a slice step must be positive".to_owned()),
                    Some(n) => step = n,
                    None => {}
                }
            }
            return Ok(Selector::Slice(Slice {
                start: first,
                end,
                step,
            }));
        }
        let Some(first) = first else {
            return Err(self.unexpected());
        };
        let mut indexes = vec![first];
        loop {
            self.spaces();
            if !self.eat(b',') {
                break;
            }
            self.spaces();
            match self.integer()? {
                Some(index) => indexes.push(index),
                None => return Err("a union of indexes takes only integers".to_owned()),
            }
        }
        Ok(match indexes[..] {
            [index] => Selector::Index(index),
            _ => Selector::Indexes(indexes.into_boxed_slice()),
        })
    }

    fn expr(&mut self) -> Parsed<Expr> {
        self.nest()?;
        let mut any = vec![self.and()?];
        loop {
            self.spaces();
            if !self.eat_str("||") {
                break;
            }
            any.push(self.and()?);
        }
        Ok(match <[Expr; 1]>::try_from(any) {
            Ok([one]) => one,
            Err(any) => Expr::Or(any.into_boxed_slice()),
        })
    }

    fn and(&mut self) -> Parsed<Expr> {
        let mut all = vec![self.comparison()?];
        loop {
            self.spaces();
            if !self.eat_str("&&") {
                break;
            }
            all.push(self.comparison()?);
        }
        Ok(match <[Expr; 1]>::try_from(all) {
            Ok([one]) => one,
            Err(all) => Expr::And(all.into_boxed_slice()),
        })
    }

    fn comparison(&mut self) -> Parsed<Expr> {
        let left = self.term()?;
        self.spaces();
        for (text, op) in [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ] {
            if self.eat_str(text) {
                let right = self.term()?;
                return Ok(Expr::Compare(Box::new((left, op, right))));
            }
        }
        if self.text[self.pos..].starts_with("=~") {
            return Err("regular expressions are not supported in filters".to_owned());
        }
        Ok(Expr::Test(left))
    }

    fn term(&mut self) -> Parsed<Operand> {
        self.spaces();
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                let inner = self.expr()?;
                self.spaces();
                if self.eat(b')') {
                    Ok(Operand::Group(Box::new(inner)))
                } else {
                    Err("unclosed `(` in a filter".to_owned())
                }
            }
            Some(b'@') => {
                self.pos += 1;
                Ok(Operand::Current(self.simple_steps()?))
            }
            Some(b'$') => {
                self.pos += 1;
                Ok(Operand::Root(self.simple_steps()?))
            }
            Some(b'\'' | b'"') => {
                let text = self.quoted()?;
                Ok(Operand::Literal(Value::String(unescape(text))))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') if self.eat_str("true") => Ok(Operand::Literal(Value::Bool(true))),
            Some(b'f') if self.eat_str("false") => Ok(Operand::Literal(Value::Bool(false))),
            None => Err("unclosed filter".to_owned()),
            Some(b'!') => Err("`!` is not supported in filters".to_owned()),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn number(&mut self) -> Parsed<Operand> {
        let start = self.pos;
        self.eat(b'-');
        let int = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == int {
            return Err(self.unexpected());
        }
        if self.eat(b'.') {
            let frac = self.pos;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
            if self.pos == frac {
                return Err(self.unexpected());
            }
        }
        let text = &self.text[start..self.pos];
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => {}
            _ => return Err("a number in a filter is too large".to_owned()),
        }
        // Integers that fit stay exact; anything else is the nearest f64.
        let number = match text.parse::<i64>() {
            Ok(n) => Number::from(n),
            Err(_) => text
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .ok_or_else(|| "a number in a filter is too large".to_owned())?,
        };
        Ok(Operand::Literal(Value::Number(number)))
    }

    /// The steps of a path inside a filter: `.name` and `['name']`.
    fn simple_steps(&mut self) -> Parsed<Box<[Box<str>]>> {
        const ONLY: &str = "paths inside a filter take only `.name` and `['name']` steps";
        let mut names: Vec<Box<str>> = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.nest()?;
                    self.pos += 1;
                    match self.peek() {
                        Some(b'.' | b'*' | b'[') => return Err(ONLY.to_owned()),
                        None => return Err("expected a field name after `.`".to_owned()),
                        Some(_) => names.push(self.name(true)?.into()),
                    }
                }
                Some(b'[') => {
                    self.nest()?;
                    self.pos += 1;
                    self.spaces();
                    match self.peek() {
                        Some(b'\'' | b'"') => names.push(self.quoted()?.into()),
                        // Kept out since the jsonpath_lib days (it never
                        // found `@.l[0] == 6` true); a later extension.
                        Some(b'-' | b'0'..=b'9') => {
                            return Err("array indexes inside a filter are not supported".to_owned())
                        }
                        None => return Err("unclosed `[`".to_owned()),
                        Some(_) => return Err(ONLY.to_owned()),
                    }
                    self.spaces();
                    if !self.eat(b']') {
                        return Err(match self.peek() {
                            None => "unclosed `[`".to_owned(),
                            Some(_) => ONLY.to_owned(),
                        });
                    }
                }
                _ => return Ok(names.into_boxed_slice()),
            }
        }
    }
}

/// A quoted string literal in a filter as Jayway reads it: `\n`, `\t`,
/// `\r`, `\b`, `\f` and `\uXXXX` are escapes, any other backslash just
/// keeps the next character (`\'` is `'`, `\\` is `\`).
fn unescape(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) if hex.len() == 4 => {
                        out.push(decoded);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    _ => out.push('u'),
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}
