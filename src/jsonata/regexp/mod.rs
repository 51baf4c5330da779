//! JSONata's regular expressions: JavaScript's (ECMA-262, without the `u`
//! flag, with the Annex B web extensions), run by a backtracking matcher of our
//! own that counts its work. Every instruction executed and every choice point
//! revisited costs a step from a budget the caller hands in, and the choice-point
//! stack has a fixed cap, so a pattern that backtracks catastrophically
//! (`/(a+)+$/` on `aaaa…!`) ends with [`Exhausted`] in bounded time and memory
//! instead of running for minutes.
//!
//! Semantics follow the specification's matcher (§22.2.2): leftmost, ordered
//! alternation, greedy and lazy quantifiers with the empty-iteration check
//! and captures reset at each iteration, backreferences (undefined groups
//! match empty), lookahead and lookbehind (matched backwards), `\b`, and the
//! `i` and `m` flags. The subject is read as code points, as before.

mod class;
mod exec;
mod parse;

use parse::Node;

use class::Set;

/// Why a match gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exhausted {
    /// The step budget ran out.
    Steps,
    /// The choice-point stack reached its cap ([`MAX_STACK`] entries).
    Stack,
}

/// Choice points and undo records a single match may hold at once (about 32
/// bytes each, so at most 32 MiB).
pub(crate) const MAX_STACK: usize = 1 << 20;

/// "No position": an unset capture.
const NONE: usize = usize::MAX;
/// An unbounded quantifier's maximum.
const INF: u32 = u32::MAX;

#[derive(Debug, Clone)]
enum Inst {
    /// One character (already canonical under the `i` flag).
    Char(char, bool),
    /// One character of set `.0`, `.1` negated, `.2` backwards.
    Set(usize, bool, bool),
    /// Any character but a line terminator.
    Dot(bool),
    Start,
    End,
    WordBoundary(bool),
    /// Try `.0`, then `.1`.
    Split(usize, usize),
    Jmp(usize),
    Save(usize),
    /// Reset loop register `r`'s iteration count.
    RepInit(usize),
    /// Decide whether loop `r` iterates again (body at pc + 1) or exits.
    RepTry {
        r: usize,
        min: u32,
        max: u32,
        greedy: bool,
        exit: usize,
    },
    /// Start an iteration: note where it starts, clear the body's captures
    /// (groups `caps.0..caps.1`).
    RepEnter {
        r: usize,
        caps: (usize, usize),
    },
    /// End an iteration: refuse an empty one past the minimum, count it, loop.
    RepEnd {
        r: usize,
        min: u32,
        head: usize,
    },
    /// A loop over the single-character matcher at pc + 1; continues at pc + 2.
    Rep1 {
        min: u32,
        max: u32,
        greedy: bool,
    },
    /// Backreference to group `.0`, `.1` backwards.
    Backref(usize, bool),
    /// A lookaround whose body follows, up to a `LookEnd`; continues at `cont`.
    Look {
        negate: bool,
        cont: usize,
    },
    LookEnd,
    Match,
}

/// A compiled pattern.
pub(crate) struct Regex {
    prog: Vec<Inst>,
    sets: Vec<Set>,
    groups: usize,
    loops: usize,
    icase: bool,
    multiline: bool,
    /// A character every match starts with (no `i` flag), to skip ahead.
    first: Option<char>,
    /// The pattern starts with `^` and has no `m` flag: only offset 0 can match.
    anchored: bool,
}

/// The byte ranges of a match: index 0 the whole match, then each group.
pub(crate) type Captures = Vec<Option<std::ops::Range<usize>>>;

impl Regex {
    /// Compile `pattern` with JSONata's flags (`i`, `m`). The error is a
    /// message like JavaScript's SyntaxError text.
    pub fn new(pattern: &str, flags: &str) -> Result<Regex, String> {
        let parsed = parse::parse(pattern)?;
        let mut c = Compiler {
            prog: Vec::new(),
            sets: Vec::new(),
            loops: 0,
            icase: flags.contains('i'),
        };
        c.prog.push(Inst::Save(0));
        c.node(&parsed.node, false);
        c.prog.push(Inst::Save(1));
        c.prog.push(Inst::Match);
        let multiline = flags.contains('m');
        let first = match c.prog.get(1) {
            Some(Inst::Char(ch, false)) if !c.icase => Some(*ch),
            _ => None,
        };
        let anchored = matches!(c.prog.get(1), Some(Inst::Start)) && !multiline;
        Ok(Regex {
            prog: c.prog,
            sets: c.sets,
            groups: parsed.groups,
            loops: c.loops,
            icase: c.icase,
            multiline,
            first,
            anchored,
        })
    }

    /// The first match at or after byte offset `from` (a character boundary),
    /// spending at most `*budget` steps (what is left stays in `*budget`).
    pub fn find_from(
        &self,
        s: &str,
        from: usize,
        budget: &mut u64,
    ) -> Result<Option<Captures>, Exhausted> {
        exec::find(self, s, from, budget)
    }
}

struct Compiler {
    prog: Vec<Inst>,
    sets: Vec<Set>,
    loops: usize,
    icase: bool,
}

/// The capture groups a node holds, as a range of group numbers.
fn group_range(n: &Node) -> Option<(usize, usize)> {
    fn walk(n: &Node, lo: &mut usize, hi: &mut usize) {
        match n {
            Node::Group(b, g) => {
                if let Some(g) = g {
                    *lo = (*lo).min(*g);
                    *hi = (*hi).max(*g + 1);
                }
                walk(b, lo, hi);
            }
            Node::Look { body, .. } | Node::Repeat { body, .. } => walk(body, lo, hi),
            Node::Concat(v) | Node::Alt(v) => v.iter().for_each(|n| walk(n, lo, hi)),
            _ => {}
        }
    }
    let (mut lo, mut hi) = (usize::MAX, 0);
    walk(n, &mut lo, &mut hi);
    (lo < hi).then_some((lo, hi))
}

/// The node is one single-character matcher (possibly in a plain group).
fn single_char(n: &Node) -> Option<&Node> {
    match n {
        Node::Char(_) | Node::Set(..) | Node::Dot => Some(n),
        Node::Group(b, None) => single_char(b),
        _ => None,
    }
}

impl Compiler {
    fn pc(&self) -> usize {
        self.prog.len()
    }

    fn node(&mut self, n: &Node, back: bool) {
        match n {
            Node::Empty => {}
            Node::Char(c) => {
                let c = if self.icase {
                    class::canonicalize(*c)
                } else {
                    *c
                };
                self.prog.push(Inst::Char(c, back));
            }
            Node::Set(s, neg) => {
                self.sets.push(s.clone());
                self.prog.push(Inst::Set(self.sets.len() - 1, *neg, back));
            }
            Node::Dot => self.prog.push(Inst::Dot(back)),
            Node::Start => self.prog.push(Inst::Start),
            Node::End => self.prog.push(Inst::End),
            Node::WordBoundary(neg) => self.prog.push(Inst::WordBoundary(*neg)),
            Node::Group(b, None) => self.node(b, back),
            Node::Group(b, Some(g)) => {
                let (first, second) = if back {
                    (2 * g + 1, 2 * g)
                } else {
                    (2 * g, 2 * g + 1)
                };
                self.prog.push(Inst::Save(first));
                self.node(b, back);
                self.prog.push(Inst::Save(second));
            }
            Node::Backref(g) => self.prog.push(Inst::Backref(*g, back)),
            Node::Concat(v) => {
                if back {
                    v.iter().rev().for_each(|n| self.node(n, back));
                } else {
                    v.iter().for_each(|n| self.node(n, back));
                }
            }
            Node::Alt(v) => {
                let mut jumps = Vec::new();
                for (i, alt) in v.iter().enumerate() {
                    if i + 1 < v.len() {
                        let split = self.pc();
                        self.prog.push(Inst::Split(split + 1, 0));
                        self.node(alt, back);
                        jumps.push(self.pc());
                        self.prog.push(Inst::Jmp(0));
                        let next = self.pc();
                        self.prog[split] = Inst::Split(split + 1, next);
                    } else {
                        self.node(alt, back);
                    }
                }
                let end = self.pc();
                for j in jumps {
                    self.prog[j] = Inst::Jmp(end);
                }
            }
            Node::Look {
                behind,
                negate,
                body,
            } => {
                let at = self.pc();
                self.prog.push(Inst::Look {
                    negate: *negate,
                    cont: 0,
                });
                self.node(body, *behind);
                self.prog.push(Inst::LookEnd);
                let cont = self.pc();
                self.prog[at] = Inst::Look {
                    negate: *negate,
                    cont,
                };
            }
            Node::Repeat {
                body,
                min,
                max,
                greedy,
            } => {
                let max = max.unwrap_or(INF);
                if max == 0 {
                    return;
                }
                if let Some(one) = single_char(body) {
                    self.prog.push(Inst::Rep1 {
                        min: *min,
                        max,
                        greedy: *greedy,
                    });
                    self.node(one, back);
                    return;
                }
                let r = self.loops;
                self.loops += 1;
                self.prog.push(Inst::RepInit(r));
                let head = self.pc();
                self.prog.push(Inst::Jmp(0));
                self.prog.push(Inst::RepEnter {
                    r,
                    caps: group_range(body).unwrap_or((0, 0)),
                });
                self.node(body, back);
                self.prog.push(Inst::RepEnd { r, min: *min, head });
                let exit = self.pc();
                self.prog[head] = Inst::RepTry {
                    r,
                    min: *min,
                    max,
                    greedy: *greedy,
                    exit,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests;
