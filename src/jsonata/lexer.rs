//! The JSONata tokenizer. Positions count characters and point just past the
//! token, as jsonata-js reports them.

use super::error::Raw;

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Op(&'static str),
    Name(String),
    Var(String),
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex { pattern: String, flags: String },
    End,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

const SINGLE: &[(char, &str)] = &[
    ('.', "."),
    ('[', "["),
    (']', "]"),
    ('{', "{"),
    ('}', "}"),
    ('(', "("),
    (')', ")"),
    (',', ","),
    ('@', "@"),
    ('#', "#"),
    (';', ";"),
    (':', ":"),
    ('?', "?"),
    ('+', "+"),
    ('-', "-"),
    ('*', "*"),
    ('/', "/"),
    ('%', "%"),
    ('|', "|"),
    ('=', "="),
    ('<', "<"),
    ('>', ">"),
    ('^', "^"),
    ('&', "&"),
    ('!', "!"),
    ('~', "~"),
];

const DOUBLE: &[(&str, &str)] = &[
    ("..", ".."),
    (":=", ":="),
    ("!=", "!="),
    (">=", ">="),
    ("<=", "<="),
    ("**", "**"),
    ("~>", "~>"),
];

fn single(c: char) -> Option<&'static str> {
    SINGLE.iter().find(|(k, _)| *k == c).map(|(_, v)| *v)
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}')
}

pub(crate) struct Lexer {
    src: Vec<char>,
    pos: usize,
}

impl Lexer {
    pub fn new(src: &str) -> Lexer {
        Lexer {
            src: src.chars().collect(),
            pos: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.src.len()
    }

    fn at(&self, i: usize) -> Option<char> {
        self.src.get(i).copied()
    }

    fn tok(&self, tok: Tok) -> Token {
        Token { tok, pos: self.pos }
    }

    /// The next token; `infix` says a `/` here is division, not a regex.
    pub fn next(&mut self, infix: bool) -> Result<Token, Raw> {
        loop {
            while self.at(self.pos).is_some_and(is_ws) {
                self.pos += 1;
            }
            if self.at(self.pos) == Some('/') && self.at(self.pos + 1) == Some('*') {
                let start = self.pos;
                self.pos += 2;
                loop {
                    if self.pos >= self.src.len() {
                        return Err(Raw::new("S0106").pos(start));
                    }
                    if self.at(self.pos) == Some('*') && self.at(self.pos + 1) == Some('/') {
                        self.pos += 2;
                        break;
                    }
                    self.pos += 1;
                }
                continue;
            }
            break;
        }
        let Some(c) = self.at(self.pos) else {
            return Ok(self.tok(Tok::End));
        };
        if !infix && c == '/' {
            self.pos += 1;
            return self.regex();
        }
        if let Some(n) = self.at(self.pos + 1) {
            let pair: String = [c, n].iter().collect();
            if let Some((_, op)) = DOUBLE.iter().find(|(k, _)| *k == pair) {
                self.pos += 2;
                return Ok(self.tok(Tok::Op(op)));
            }
        }
        if let Some(op) = single(c) {
            self.pos += 1;
            return Ok(self.tok(Tok::Op(op)));
        }
        if c == '"' || c == '\'' {
            return self.string(c);
        }
        if c.is_ascii_digit() {
            return self.number();
        }
        if c == '`' {
            self.pos += 1;
            let start = self.pos;
            while let Some(ch) = self.at(self.pos) {
                if ch == '`' {
                    let name: String = self.src[start..self.pos].iter().collect();
                    self.pos += 1;
                    return Ok(self.tok(Tok::Name(name)));
                }
                self.pos += 1;
            }
            self.pos = self.src.len();
            return Err(Raw::new("S0105").pos(self.pos));
        }
        let start = self.pos;
        let mut i = self.pos;
        while let Some(ch) = self.at(i) {
            if is_ws(ch) || single(ch).is_some() {
                break;
            }
            i += 1;
        }
        self.pos = i;
        if c == '$' {
            let name: String = self.src[start + 1..i].iter().collect();
            return Ok(self.tok(Tok::Var(name)));
        }
        let name: String = self.src[start..i].iter().collect();
        let tok = match name.as_str() {
            "and" => Tok::Op("and"),
            "or" => Tok::Op("or"),
            "in" => Tok::Op("in"),
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            "null" => Tok::Null,
            "" => Tok::End,
            _ => Tok::Name(name),
        };
        Ok(self.tok(tok))
    }

    fn string(&mut self, quote: char) -> Result<Token, Raw> {
        self.pos += 1;
        let mut s = String::new();
        while let Some(c) = self.at(self.pos) {
            if c == '\\' {
                self.pos += 1;
                let e = self.at(self.pos);
                match e {
                    Some('"') => s.push('"'),
                    Some('\\') => s.push('\\'),
                    Some('/') => s.push('/'),
                    Some('b') => s.push('\u{8}'),
                    Some('f') => s.push('\u{c}'),
                    Some('n') => s.push('\n'),
                    Some('r') => s.push('\r'),
                    Some('t') => s.push('\t'),
                    Some('u') => {
                        let cp = self.hex4(self.pos + 1)?;
                        self.pos += 4;
                        if (0xD800..0xDC00).contains(&cp) {
                            // a surrogate pair written as two escapes
                            if self.at(self.pos + 1) == Some('\\')
                                && self.at(self.pos + 2) == Some('u')
                            {
                                let lo = self.hex4(self.pos + 3)?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    self.pos += 6;
                                    let c = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                    s.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                                    self.pos += 1;
                                    continue;
                                }
                            }
                            s.push('\u{fffd}');
                        } else {
                            s.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                        }
                    }
                    _ => {
                        let t = e.map(String::from).unwrap_or_default();
                        return Err(Raw::new("S0103").pos(self.pos).tok(t));
                    }
                }
            } else if c == quote {
                self.pos += 1;
                return Ok(self.tok(Tok::Str(s)));
            } else {
                s.push(c);
            }
            self.pos += 1;
        }
        Err(Raw::new("S0101").pos(self.pos))
    }

    fn hex4(&self, at: usize) -> Result<u32, Raw> {
        let digits: String = self.src.iter().skip(at).take(4).collect();
        if digits.len() == 4 && digits.chars().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(&digits, 16).map_err(|_| Raw::new("S0104").pos(self.pos))
        } else {
            Err(Raw::new("S0104").pos(self.pos))
        }
    }

    fn number(&mut self) -> Result<Token, Raw> {
        let start = self.pos;
        let mut i = self.pos;
        let digit = |i: usize| self.at(i).is_some_and(|c| c.is_ascii_digit());
        if self.at(i) == Some('0') {
            i += 1;
        } else {
            while digit(i) {
                i += 1;
            }
        }
        if self.at(i) == Some('.') && digit(i + 1) {
            i += 1;
            while digit(i) {
                i += 1;
            }
        }
        if matches!(self.at(i), Some('e' | 'E')) {
            let mut j = i + 1;
            if matches!(self.at(j), Some('+' | '-')) {
                j += 1;
            }
            if digit(j) {
                while digit(j) {
                    j += 1;
                }
                i = j;
            }
        }
        let text: String = self.src[start..i].iter().collect();
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => {
                self.pos = i;
                Ok(self.tok(Tok::Num(n)))
            }
            _ => Err(Raw::new("S0102").pos(self.pos).tok(text)),
        }
    }

    fn regex(&mut self) -> Result<Token, Raw> {
        let start = self.pos;
        let mut depth: i32 = 0;
        while let Some(c) = self.at(self.pos) {
            if c == '/' && depth == 0 {
                let mut backslashes = 0;
                while self.pos > backslashes && self.at(self.pos - backslashes - 1) == Some('\\') {
                    backslashes += 1;
                }
                if backslashes % 2 == 0 {
                    let pattern: String = self.src[start..self.pos].iter().collect();
                    if pattern.is_empty() {
                        return Err(Raw::new("S0301").pos(self.pos));
                    }
                    self.pos += 1;
                    let fstart = self.pos;
                    while matches!(self.at(self.pos), Some('i' | 'm')) {
                        self.pos += 1;
                    }
                    let flags: String = self.src[fstart..self.pos].iter().collect();
                    return Ok(self.tok(Tok::Regex { pattern, flags }));
                }
            }
            let escaped = self.pos > 0 && self.at(self.pos - 1) == Some('\\');
            if matches!(c, '(' | '[' | '{') && !escaped {
                depth += 1;
            }
            if matches!(c, ')' | ']' | '}') && !escaped {
                depth -= 1;
            }
            self.pos += 1;
        }
        Err(Raw::new("S0302").pos(self.pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(src: &str) -> Vec<Tok> {
        let mut l = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = l.next(true).map(|t| t.tok);
            match t {
                Ok(Tok::End) | Err(_) => break,
                Ok(t) => out.push(t),
            }
        }
        out
    }

    #[test]
    fn tokens() {
        assert_eq!(
            all("$a.b != 1.5e2 /* c */ ~> `x y`"),
            vec![
                Tok::Var("a".into()),
                Tok::Op("."),
                Tok::Name("b".into()),
                Tok::Op("!="),
                Tok::Num(150.0),
                Tok::Op("~>"),
                Tok::Name("x y".into()),
            ]
        );
    }
}
