//! Syntax check of a full JSONPath before it reaches `jsonpath_lib`.
//!
//! `jsonpath_lib` accepts trailing garbage (`$.a[*]xyz`), and panics or
//! overflows the stack on some paths it accepts (a slice step of 0, unions or
//! slices inside a filter, `1e400`, thousands of steps). This checker admits
//! only the grammar we hand over, with clear messages:
//!
//! ```text
//! steps   := ( '.' name | '.' '*' | '.' bracket | '..' name | '..' '*' | '..' bracket | bracket )*
//! bracket := '[' ( '*' | ints | slice | names | '?(' expr ')' ) ']'
//! expr    := and ( '||' and )* ; and := cmp ( '&&' cmp )* ; cmp := term ( op term )?
//! term    := '(' expr ')' | '@' simple* | '$' simple* | number | 'string' | true | false
//! simple  := '.' name | '[' 'string' ']'
//! ```

/// At most this many steps and parentheses in one path: jsonpath_lib's
/// parser and selector recurse once per step.
pub(crate) const MAX_NESTING: usize = 256;

/// At most this many recursive descents (`..`) in one path. Each one
/// multiplies the matches by up to the size of the data: on a value
/// nested 1000 levels deep (a few KB of text), two yield some 300 MB of
/// copies and three would yield hundreds of GB.
pub(crate) const MAX_DESCENTS: usize = 2;

/// Checks the steps of a path (the text after its root). `offset` is the
/// length of the root, to report positions in the whole path.
pub(crate) fn check(steps: &str, offset: usize) -> Result<(), String> {
    let mut scanner = Scanner {
        text: steps,
        bytes: steps.as_bytes(),
        pos: 0,
        nesting: 0,
        descents: 0,
        offset,
    };
    scanner.steps()
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

impl Scanner<'_> {
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

    fn steps(&mut self) -> Checked {
        while let Some(b) = self.peek() {
            self.nest()?;
            match b {
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
                    match self.peek() {
                        Some(b'*') => self.pos += 1,
                        Some(b'[') => self.bracket()?,
                        None if descent => {
                            return Err("expected a field name, `*` or `[` after `..`".to_owned())
                        }
                        None => return Err("expected a field name after `.`".to_owned()),
                        Some(b'.') => return Err(self.unexpected()),
                        Some(_) => self.name(false)?,
                    }
                }
                b'[' => self.bracket()?,
                _ => return Err(self.unexpected()),
            }
        }
        Ok(())
    }

    /// A dot-notation name: up to `.` or `[` (in a filter also up to an
    /// operator, a space or `)`).
    fn name(&mut self, in_filter: bool) -> Checked {
        let start = self.pos;
        for (i, c) in self.text[start..].char_indices() {
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
        self.pos = self.text.len();
        self.nonempty_name(start)
    }

    fn nonempty_name(&self, start: usize) -> Checked {
        if self.pos == start {
            Err("expected a field name after `.`".to_owned())
        } else {
            Ok(())
        }
    }

    /// A quoted string; `pos` is at the opening quote.
    fn quoted(&mut self) -> Checked {
        let Some(quote) = self.peek() else {
            return Err(self.unexpected());
        };
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err("unclosed quoted string".to_owned()),
                Some(b'\\') => self.pos += 2,
                Some(b) if b == quote => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// An optional integer; true when one was read.
    fn integer(&mut self) -> Result<bool, String> {
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
            return Ok(false);
        }
        self.text[start..self.pos]
            .parse::<i32>()
            .map_err(|_| "array index out of range".to_owned())?;
        Ok(true)
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
    fn bracket(&mut self) -> Checked {
        self.pos += 1;
        self.spaces();
        match self.peek() {
            None => Err("unclosed `[`".to_owned()),
            Some(b'*') => {
                self.pos += 1;
                self.close_bracket()
            }
            Some(b'?') => {
                self.pos += 1;
                self.spaces();
                if !self.eat(b'(') {
                    return Err("expected `(` after `?`".to_owned());
                }
                self.expr()?;
                self.spaces();
                if !self.eat(b')') {
                    return Err(match self.peek() {
                        None => "unclosed filter".to_owned(),
                        Some(_) => self.unexpected(),
                    });
                }
                self.close_bracket()
            }
            Some(b'(') => Err("script expressions are not supported".to_owned()),
            Some(b'\'' | b'"') => {
                self.quoted()?;
                loop {
                    self.spaces();
                    if !self.eat(b',') {
                        break;
                    }
                    self.spaces();
                    if !matches!(self.peek(), Some(b'\'' | b'"')) {
                        return Err("a union of field names takes only quoted names".to_owned());
                    }
                    self.quoted()?;
                }
                self.close_bracket()
            }
            Some(b'-' | b'0'..=b'9' | b':') => {
                let first = self.integer()?;
                self.spaces();
                if self.eat(b':') {
                    self.spaces();
                    self.integer()?;
                    self.spaces();
                    if self.eat(b':') {
                        self.spaces();
                        let start = self.pos;
                        if self.integer()? {
                            match self.text[start..self.pos].parse::<i64>() {
                                Ok(0) => return Err("a slice step must not be 0".to_owned()),
                                Ok(step) if step < 0 => {
                                    return Err("a slice step must be positive".to_owned())
                                }
                                _ => {}
                            }
                        }
                    }
                } else if !first {
                    return Err(self.unexpected());
                } else {
                    loop {
                        self.spaces();
                        if !self.eat(b',') {
                            break;
                        }
                        self.spaces();
                        if !self.integer()? {
                            return Err("a union of indexes takes only integers".to_owned());
                        }
                    }
                }
                self.close_bracket()
            }
            Some(b']') => Err("empty brackets".to_owned()),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn expr(&mut self) -> Checked {
        self.nest()?;
        self.and()?;
        loop {
            self.spaces();
            if !self.eat_str("||") {
                return Ok(());
            }
            self.and()?;
        }
    }

    fn and(&mut self) -> Checked {
        self.comparison()?;
        loop {
            self.spaces();
            if !self.eat_str("&&") {
                return Ok(());
            }
            self.comparison()?;
        }
    }

    fn comparison(&mut self) -> Checked {
        self.term()?;
        self.spaces();
        for op in ["==", "!=", "<=", ">=", "<", ">"] {
            if self.eat_str(op) {
                return self.term();
            }
        }
        if self.text[self.pos..].starts_with("=~") {
            return Err("regular expressions are not supported in filters".to_owned());
        }
        Ok(())
    }

    fn term(&mut self) -> Checked {
        self.spaces();
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                self.expr()?;
                self.spaces();
                if self.eat(b')') {
                    Ok(())
                } else {
                    Err("unclosed `(` in a filter".to_owned())
                }
            }
            Some(b'@' | b'$') => {
                self.pos += 1;
                self.simple_steps()
            }
            Some(b'\'' | b'"') => self.quoted(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') if self.eat_str("true") => Ok(()),
            Some(b'f') if self.eat_str("false") => Ok(()),
            None => Err("unclosed filter".to_owned()),
            Some(b'!') => Err("`!` is not supported in filters".to_owned()),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn number(&mut self) -> Checked {
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
        match self.text[start..self.pos].parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(()),
            _ => Err("a number in a filter is too large".to_owned()),
        }
    }

    /// The steps of a path inside a filter: `.name` and `['name']`.
    fn simple_steps(&mut self) -> Checked {
        const ONLY: &str = "paths inside a filter take only `.name` and `['name']` steps";
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.nest()?;
                    self.pos += 1;
                    match self.peek() {
                        Some(b'.' | b'*' | b'[') => return Err(ONLY.to_owned()),
                        None => return Err("expected a field name after `.`".to_owned()),
                        Some(_) => self.name(true)?,
                    }
                }
                Some(b'[') => {
                    self.nest()?;
                    self.pos += 1;
                    self.spaces();
                    match self.peek() {
                        Some(b'\'' | b'"') => self.quoted()?,
                        // jsonpath_lib compares `@.l[0]` wrongly (never equal).
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
                _ => return Ok(()),
            }
        }
    }
}
