//! ECMAScript pattern syntax (ECMA-262 §22.2.1 with the Annex B.1.2 web
//! extensions, non-Unicode mode: JSONata passes no `u` flag) to a tree.

use super::class::{self, Set};

/// One node of a parsed pattern.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Empty,
    Char(char),
    /// A character set; `neg` for `[^..]` (negated after case folding).
    Set(Set, bool),
    /// `.`: anything but a line terminator.
    Dot,
    Start,
    End,
    WordBoundary(bool),
    /// A group; `Some(n)` for capture group n (1-based).
    Group(Box<Node>, Option<usize>),
    Look {
        behind: bool,
        negate: bool,
        body: Box<Node>,
    },
    Backref(usize),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        body: Box<Node>,
        min: u32,
        max: Option<u32>,
        greedy: bool,
    },
}

/// Groups nested deeper than this are refused while parsing.
const MAX_NESTING: usize = 64;
/// Trees deeper than this are refused, so compiling (which recurses) stays
/// within a few tens of KiB of stack, even in a debug build.
const MAX_DEPTH: usize = 64;

pub(crate) struct Parsed {
    pub node: Node,
    pub groups: usize,
}

struct Parser {
    src: Vec<char>,
    pos: usize,
    /// Capture groups in the whole pattern (decides `\N` backreference vs octal).
    total_groups: usize,
    names: Vec<String>,
    has_names: bool,
    next_group: usize,
}

type PResult<T> = Result<T, String>;

pub(crate) fn parse(pattern: &str) -> PResult<Parsed> {
    let src: Vec<char> = pattern.chars().collect();
    let (total_groups, has_names) = prescan(&src);
    let mut p = Parser {
        src,
        pos: 0,
        total_groups,
        names: Vec::new(),
        has_names,
        next_group: 1,
    };
    let node = p.pattern()?;
    if depth(&node) > MAX_DEPTH {
        return Err("Pattern nested too deeply".into());
    }
    Ok(Parsed {
        node,
        groups: p.next_group - 1,
    })
}

/// The depth of a tree, walked without recursion.
fn depth(root: &Node) -> usize {
    let mut deepest = 0;
    let mut todo = vec![(root, 1)];
    while let Some((n, d)) = todo.pop() {
        deepest = deepest.max(d);
        match n {
            Node::Group(b, _) | Node::Look { body: b, .. } | Node::Repeat { body: b, .. } => {
                todo.push((b, d + 1))
            }
            Node::Concat(v) | Node::Alt(v) => todo.extend(v.iter().map(|n| (n, d + 1))),
            _ => {}
        }
    }
    deepest
}

/// Count the capture groups and see whether any is named (a pattern's `\N`
/// and `\k` mean different things depending on both).
fn prescan(src: &[char]) -> (usize, bool) {
    let mut groups = 0;
    let mut named = false;
    let mut i = 0;
    let mut in_class = false;
    while i < src.len() {
        match src[i] {
            '\\' => i += 1,
            '[' => in_class = true,
            ']' => in_class = false,
            '(' if !in_class => {
                if src.get(i + 1) != Some(&'?') {
                    groups += 1;
                } else if src.get(i + 2) == Some(&'<')
                    && !matches!(src.get(i + 3), Some('=') | Some('!'))
                {
                    groups += 1;
                    named = true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    (groups, named)
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.src.get(self.pos).copied()
    }
    fn peek_at(&self, k: usize) -> Option<char> {
        self.src.get(self.pos + k).copied()
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// The whole pattern. Groups nest on an explicit stack, so a deeply
    /// nested pattern costs heap, not native stack.
    fn pattern(&mut self) -> PResult<Node> {
        let mut stack = vec![Frame::new(Open::Top)];
        while let Some(c) = self.peek() {
            match c {
                '|' => {
                    self.pos += 1;
                    if let Some(f) = stack.last_mut() {
                        let terms = std::mem::take(&mut f.terms);
                        f.alts.push(concat(terms));
                    }
                }
                ')' => {
                    if stack.len() == 1 {
                        return Err("Unmatched ')'".into());
                    }
                    self.pos += 1;
                    let Some(f) = stack.pop() else {
                        return Err("Unmatched ')'".into());
                    };
                    let (atom, quantifiable) = f.close();
                    let term = self.quantify(atom, quantifiable)?;
                    if let Some(f) = stack.last_mut() {
                        f.terms.push(term);
                    }
                }
                '(' => {
                    self.pos += 1;
                    let open = self.group_open()?;
                    if stack.len() > MAX_NESTING {
                        return Err("Pattern nested too deeply".into());
                    }
                    stack.push(Frame::new(open));
                }
                _ => {
                    let (atom, quantifiable) = self.atom()?;
                    let term = self.quantify(atom, quantifiable)?;
                    if let Some(f) = stack.last_mut() {
                        f.terms.push(term);
                    }
                }
            }
        }
        if stack.len() > 1 {
            return Err("Unterminated group".into());
        }
        Ok(stack.pop().map_or(Node::Empty, |f| f.close().0))
    }

    fn quantify(&mut self, atom: Node, quantifiable: bool) -> PResult<Node> {
        match self.quantifier()? {
            None => Ok(atom),
            Some(_) if !quantifiable => Err("Nothing to repeat".into()),
            Some((min, max, greedy)) => Ok(Node::Repeat {
                body: Box::new(atom),
                min,
                max,
                greedy,
            }),
        }
    }

    /// `{n}`, `{n,}`, `{n,m}` at the current position, without consuming.
    fn braced(&self) -> Option<(u32, Option<u32>, usize)> {
        let mut i = self.pos;
        if self.src.get(i) != Some(&'{') {
            return None;
        }
        i += 1;
        let digits = |i: &mut usize| -> Option<u32> {
            let s = *i;
            let mut v: u64 = 0;
            while let Some(d) = self.src.get(*i).and_then(|c| c.to_digit(10)) {
                v = (v * 10 + u64::from(d)).min(u64::from(u32::MAX));
                *i += 1;
            }
            (*i > s).then_some(v as u32)
        };
        let min = digits(&mut i)?;
        let max = if self.src.get(i) == Some(&',') {
            i += 1;
            digits(&mut i)
        } else {
            Some(min)
        };
        if self.src.get(i) != Some(&'}') {
            return None;
        }
        Some((min, max, i + 1 - self.pos))
    }

    fn quantifier(&mut self) -> PResult<Option<(u32, Option<u32>, bool)>> {
        let (min, max) = match self.peek() {
            Some('*') => {
                self.pos += 1;
                (0, None)
            }
            Some('+') => {
                self.pos += 1;
                (1, None)
            }
            Some('?') => {
                self.pos += 1;
                (0, Some(1))
            }
            Some('{') => match self.braced() {
                Some((min, max, len)) => {
                    self.pos += len;
                    if max.is_some_and(|m| m < min) {
                        return Err("numbers out of order in {} quantifier".into());
                    }
                    (min, max)
                }
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let greedy = !self.eat('?');
        Ok(Some((min, max, greedy)))
    }

    /// An atom, and whether a quantifier may follow it.
    fn atom(&mut self) -> PResult<(Node, bool)> {
        let Some(c) = self.peek() else {
            return Ok((Node::Empty, false));
        };
        self.pos += 1;
        Ok(match c {
            '^' => (Node::Start, false),
            '$' => (Node::End, false),
            '.' => (Node::Dot, true),
            '*' | '+' | '?' => return Err("Nothing to repeat".into()),
            '{' => {
                self.pos -= 1;
                if self.braced().is_some() {
                    return Err("Nothing to repeat".into());
                }
                self.pos += 1;
                (Node::Char('{'), true)
            }
            '[' => (self.class()?, true),
            '\\' => self.atom_escape()?,
            c => (Node::Char(c), true),
        })
    }

    /// After `(`: what kind of group opens, its prefix consumed.
    fn group_open(&mut self) -> PResult<Open> {
        if !self.eat('?') {
            let n = self.next_group;
            self.next_group += 1;
            return Ok(Open::Group(Some(n)));
        }
        match self.peek() {
            Some(':') => {
                self.pos += 1;
                Ok(Open::Group(None))
            }
            Some(c @ ('=' | '!')) => {
                self.pos += 1;
                Ok(Open::Look {
                    behind: false,
                    negate: c == '!',
                })
            }
            Some('<') if matches!(self.peek_at(1), Some('=' | '!')) => {
                let negate = self.peek_at(1) == Some('!');
                self.pos += 2;
                Ok(Open::Look {
                    behind: true,
                    negate,
                })
            }
            Some('<') => {
                self.pos += 1;
                let name = self.group_name()?;
                if self.names.contains(&name) {
                    return Err("Duplicate capture group name".into());
                }
                let n = self.next_group;
                self.next_group += 1;
                self.names.push(name);
                Ok(Open::Group(Some(n)))
            }
            _ => Err("Invalid group".into()),
        }
    }

    /// A group name after `<`, through the closing `>`.
    fn group_name(&mut self) -> PResult<String> {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == '>' {
                if name.is_empty() {
                    break;
                }
                return Ok(name);
            }
            let ok = if name.is_empty() {
                c == '$' || c == '_' || c.is_alphabetic()
            } else {
                c == '$' || c == '_' || c == '\u{200C}' || c == '\u{200D}' || c.is_alphanumeric()
            };
            if !ok {
                break;
            }
            name.push(c);
        }
        Err("Invalid capture group name".into())
    }

    fn atom_escape(&mut self) -> PResult<(Node, bool)> {
        let Some(c) = self.peek() else {
            return Err("\\ at end of pattern".into());
        };
        match c {
            'b' | 'B' => {
                self.pos += 1;
                Ok((Node::WordBoundary(c == 'B'), false))
            }
            '1'..='9' => {
                let save = self.pos;
                let mut n: usize = 0;
                while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                    n = n.saturating_mul(10).saturating_add(d as usize);
                    self.pos += 1;
                }
                if n <= self.total_groups {
                    return Ok((Node::Backref(n), true));
                }
                self.pos = save;
                Ok((Node::Char(self.legacy_octal_or_digit()), true))
            }
            'k' if self.has_names => {
                self.pos += 1;
                if !self.eat('<') {
                    return Err("Invalid named reference".into());
                }
                let name = self.group_name()?;
                // Names may be defined later in the pattern: look them all up.
                match named_group_index(&self.src, &name) {
                    Some(n) => Ok((Node::Backref(n), true)),
                    None => Err("Invalid named capture referenced".into()),
                }
            }
            _ => match self.class_escape(false)? {
                Esc::Char(c) => Ok((Node::Char(c), true)),
                Esc::Set(s) => Ok((Node::Set(s, false), true)),
                Esc::Never => Ok((Node::Set(Set::empty(), false), true)),
            },
        }
    }

    /// After `\` with a digit that is no backreference: a legacy octal escape
    /// (`\0`-`\377`), or `\8`/`\9` standing for the digit itself.
    fn legacy_octal_or_digit(&mut self) -> char {
        let Some(first) = self.peek().and_then(|c| c.to_digit(10)) else {
            return '\0';
        };
        if first >= 8 {
            self.pos += 1;
            return char::from_digit(first, 10).unwrap_or('0');
        }
        self.pos += 1;
        let mut v = first;
        let max_more = if first <= 3 { 2 } else { 1 };
        for _ in 0..max_more {
            match self.peek().and_then(|c| c.to_digit(8)) {
                Some(d) => {
                    v = v * 8 + d;
                    self.pos += 1;
                }
                None => break,
            }
        }
        char::from_u32(v).unwrap_or('\0')
    }

    fn hex(&self, at: usize, n: usize) -> Option<u32> {
        let mut v = 0;
        for k in 0..n {
            v = v * 16 + self.src.get(at + k)?.to_digit(16)?;
        }
        Some(v)
    }

    /// An escape valid both outside and inside a class (the `\` consumed).
    fn class_escape(&mut self, in_class: bool) -> PResult<Esc> {
        let Some(c) = self.peek() else {
            return Err("\\ at end of pattern".into());
        };
        self.pos += 1;
        Ok(match c {
            'd' => Esc::Set(class::digit()),
            'D' => Esc::Set(class::digit().complement()),
            'w' => Esc::Set(class::word()),
            'W' => Esc::Set(class::word().complement()),
            's' => Esc::Set(class::space()),
            'S' => Esc::Set(class::space().complement()),
            'f' => Esc::Char('\u{c}'),
            'n' => Esc::Char('\n'),
            'r' => Esc::Char('\r'),
            't' => Esc::Char('\t'),
            'v' => Esc::Char('\u{b}'),
            'b' if in_class => Esc::Char('\u{8}'),
            '-' if in_class => Esc::Char('-'),
            'c' => {
                let next = self.peek();
                match next {
                    Some(l) if l.is_ascii_alphabetic() => {
                        self.pos += 1;
                        Esc::Char(char::from((l as u8) % 32))
                    }
                    Some(l) if in_class && (l.is_ascii_digit() || l == '_') => {
                        self.pos += 1;
                        Esc::Char(char::from((l as u8) % 32))
                    }
                    // Annex B: `\c` not before a control letter is a backslash;
                    // the `c` is read again as itself.
                    _ => {
                        self.pos -= 1;
                        Esc::Char('\\')
                    }
                }
            }
            '0'..='9' => {
                self.pos -= 1;
                if c == '0' && !self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
                    self.pos += 1;
                    Esc::Char('\0')
                } else {
                    Esc::Char(self.legacy_octal_or_digit())
                }
            }
            'x' => match self.hex(self.pos, 2) {
                Some(v) => {
                    self.pos += 2;
                    Esc::Char(char::from_u32(v).unwrap_or('\0'))
                }
                None => Esc::Char('x'),
            },
            'u' => match self.hex(self.pos, 4) {
                Some(v) => {
                    self.pos += 4;
                    if (0xD800..0xDC00).contains(&v)
                        && self.src.get(self.pos) == Some(&'\\')
                        && self.src.get(self.pos + 1) == Some(&'u')
                    {
                        if let Some(lo) = self.hex(self.pos + 2, 4) {
                            if (0xDC00..0xE000).contains(&lo) {
                                self.pos += 6;
                                let cp = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                                return Ok(char::from_u32(cp).map_or(Esc::Never, Esc::Char));
                            }
                        }
                    }
                    // A lone surrogate matches nothing in a Rust string.
                    char::from_u32(v).map_or(Esc::Never, Esc::Char)
                }
                None => Esc::Char('u'),
            },
            c => Esc::Char(c),
        })
    }

    fn class(&mut self) -> PResult<Node> {
        let negate = self.eat('^');
        let mut set = Set::empty();
        loop {
            let Some(c) = self.peek() else {
                return Err("Unterminated character class".into());
            };
            if c == ']' {
                self.pos += 1;
                break;
            }
            let lo = self.class_atom()?;
            if self.peek() == Some('-') && self.peek_at(1).is_some_and(|c| c != ']') {
                self.pos += 1;
                let hi = self.class_atom()?;
                match (&lo, &hi) {
                    (Esc::Char(a), Esc::Char(b)) => {
                        if a > b {
                            return Err("Range out of order in character class".into());
                        }
                        set.add_range(*a as u32, *b as u32);
                    }
                    // Annex B: a class escape at either end makes `-` literal.
                    _ => {
                        lo.add_to(&mut set);
                        set.add_range('-' as u32, '-' as u32);
                        hi.add_to(&mut set);
                    }
                }
            } else {
                lo.add_to(&mut set);
            }
        }
        Ok(Node::Set(set, negate))
    }

    fn class_atom(&mut self) -> PResult<Esc> {
        let Some(c) = self.peek() else {
            return Err("Unterminated character class".into());
        };
        self.pos += 1;
        if c == '\\' {
            if self.peek() == Some('B') {
                self.pos += 1;
                return Ok(Esc::Char('B'));
            }
            if self.peek() == Some('k') {
                self.pos += 1;
                return Ok(Esc::Char('k'));
            }
            return self.class_escape(true);
        }
        Ok(Esc::Char(c))
    }
}

/// The number of the capture group called `name`, anywhere in the pattern.
fn named_group_index(src: &[char], name: &str) -> Option<usize> {
    let mut groups = 0;
    let mut i = 0;
    let mut in_class = false;
    while i < src.len() {
        match src[i] {
            '\\' => i += 1,
            '[' => in_class = true,
            ']' => in_class = false,
            '(' if !in_class => {
                if src.get(i + 1) != Some(&'?') {
                    groups += 1;
                } else if src.get(i + 2) == Some(&'<')
                    && !matches!(src.get(i + 3), Some('=') | Some('!'))
                {
                    groups += 1;
                    let rest: String = src[i + 3..].iter().take_while(|c| **c != '>').collect();
                    if rest == name {
                        return Some(groups);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// What an open parenthesis started.
enum Open {
    Top,
    Group(Option<usize>),
    Look { behind: bool, negate: bool },
}

/// A group being parsed: the alternatives so far and the current one's terms.
struct Frame {
    open: Open,
    alts: Vec<Node>,
    terms: Vec<Node>,
}

impl Frame {
    fn new(open: Open) -> Frame {
        Frame {
            open,
            alts: Vec::new(),
            terms: Vec::new(),
        }
    }

    /// The finished group, and whether a quantifier may follow it (Annex B:
    /// a lookahead may take one, a lookbehind not).
    fn close(mut self) -> (Node, bool) {
        let last = concat(std::mem::take(&mut self.terms));
        let body = if self.alts.is_empty() {
            last
        } else {
            self.alts.push(last);
            Node::Alt(self.alts)
        };
        match self.open {
            Open::Top => (body, false),
            Open::Group(g) => (Node::Group(Box::new(body), g), true),
            Open::Look { behind, negate } => (
                Node::Look {
                    behind,
                    negate,
                    body: Box::new(body),
                },
                !behind,
            ),
        }
    }
}

fn concat(mut terms: Vec<Node>) -> Node {
    match terms.len() {
        0 => Node::Empty,
        1 => terms.pop().unwrap_or(Node::Empty),
        _ => Node::Concat(terms),
    }
}

enum Esc {
    Char(char),
    Set(Set),
    /// A lone surrogate: matches nothing.
    Never,
}

impl Esc {
    fn add_to(&self, set: &mut Set) {
        match self {
            Esc::Char(c) => set.add_range(*c as u32, *c as u32),
            Esc::Set(s) => set.union(s),
            Esc::Never => {}
        }
    }
}
