//! The matcher: a backtracking machine over the compiled program with an
//! explicit stack (no recursion, whatever the subject's length) holding choice
//! points and the undo records of captures and loop registers.

use super::class::{canonicalize, is_line_terminator, is_word};
use super::{Captures, Exhausted, Inst, Regex, MAX_STACK, NONE};

enum Entry {
    /// Resume at `pc` from `pos`.
    Branch { pc: usize, pos: usize },
    /// Restore capture slot `idx`.
    Slot { idx: usize, old: usize },
    /// Restore loop register `idx`.
    Reg { idx: usize, old: usize },
    /// A greedy one-character loop that can give back characters down to
    /// `stop`; continues at `pc`.
    Greedy {
        pc: usize,
        stop: usize,
        pos: usize,
        back: bool,
    },
    /// A lazy one-character loop (matcher at `pc`, continuation `pc + 1`) that
    /// can take one more character, having taken `count`.
    Lazy {
        pc: usize,
        pos: usize,
        count: u32,
        max: u32,
    },
    /// The start of a lookaround: where it was tried and where to go on.
    Barrier {
        negate: bool,
        pos: usize,
        cont: usize,
    },
}

struct Machine<'r, 's> {
    re: &'r Regex,
    s: &'s str,
    slots: Vec<usize>,
    regs: Vec<usize>,
    stack: Vec<Entry>,
    budget: u64,
}

fn next_char(s: &str, pos: usize, back: bool) -> Option<(char, usize)> {
    if back {
        let c = s.get(..pos)?.chars().next_back()?;
        Some((c, pos - c.len_utf8()))
    } else {
        let c = s.get(pos..)?.chars().next()?;
        Some((c, pos + c.len_utf8()))
    }
}

pub(super) fn find(
    re: &Regex,
    s: &str,
    from: usize,
    budget: &mut u64,
) -> Result<Option<Captures>, Exhausted> {
    let mut m = Machine {
        re,
        s,
        slots: vec![NONE; 2 * (re.groups + 1)],
        regs: vec![0; 2 * re.loops],
        stack: Vec::new(),
        budget: *budget,
    };
    let mut start = from;
    let result = loop {
        if start > s.len() || (re.anchored && start > 0) {
            break Ok(None);
        }
        if let Some(c) = re.first {
            match s.get(start..).and_then(|rest| rest.find(c)) {
                Some(i) => start += i,
                None => break Ok(None),
            }
        }
        match m.run(start) {
            Ok(true) => {
                break Ok(Some(
                    (0..=re.groups)
                        .map(|g| {
                            let (a, b) = (m.slots[2 * g], m.slots[2 * g + 1]);
                            (a != NONE && b != NONE).then_some(a..b)
                        })
                        .collect(),
                ))
            }
            Ok(false) => {}
            Err(e) => break Err(e),
        }
        match s.get(start..).and_then(|r| r.chars().next()) {
            Some(c) => start += c.len_utf8(),
            None => break Ok(None),
        }
    };
    *budget = m.budget;
    result
}

impl Machine<'_, '_> {
    fn spend(&mut self) -> Result<(), Exhausted> {
        if self.budget == 0 {
            return Err(Exhausted::Steps);
        }
        self.budget -= 1;
        Ok(())
    }

    fn push(&mut self, e: Entry) -> Result<(), Exhausted> {
        if self.stack.len() >= MAX_STACK {
            return Err(Exhausted::Stack);
        }
        self.stack.push(e);
        Ok(())
    }

    fn set_slot(&mut self, idx: usize, v: usize) -> Result<(), Exhausted> {
        let old = self.slots[idx];
        if old != v {
            self.push(Entry::Slot { idx, old })?;
            self.slots[idx] = v;
        }
        Ok(())
    }

    fn set_reg(&mut self, idx: usize, v: usize) -> Result<(), Exhausted> {
        let old = self.regs[idx];
        if old != v {
            self.push(Entry::Reg { idx, old })?;
            self.regs[idx] = v;
        }
        Ok(())
    }

    /// Whether the single-character matcher at `pc` accepts the character at
    /// `pos`; the position after it.
    fn one(&self, pc: usize, pos: usize) -> Option<usize> {
        let re = self.re;
        match re.prog[pc] {
            Inst::Char(want, back) => {
                let (c, n) = next_char(self.s, pos, back)?;
                let c = if re.icase { canonicalize(c) } else { c };
                (c == want).then_some(n)
            }
            Inst::Set(i, neg, back) => {
                let (c, n) = next_char(self.s, pos, back)?;
                let set = &re.sets[i];
                let hit = if re.icase {
                    set.contains_folded(c)
                } else {
                    set.contains(c as u32)
                };
                (hit != neg).then_some(n)
            }
            Inst::Dot(back) => {
                let (c, n) = next_char(self.s, pos, back)?;
                (!is_line_terminator(c)).then_some(n)
            }
            _ => None,
        }
    }

    fn back_of(&self, pc: usize) -> bool {
        matches!(
            self.re.prog[pc],
            Inst::Char(_, true) | Inst::Set(_, _, true) | Inst::Dot(true)
        )
    }

    /// One match attempt at `start`; the captures are left in `self.slots`.
    fn run(&mut self, start: usize) -> Result<bool, Exhausted> {
        self.slots.iter_mut().for_each(|s| *s = NONE);
        self.stack.clear();
        let mut pc = 0;
        let mut pos = start;
        loop {
            self.spend()?;
            let ok = match &self.re.prog[pc] {
                Inst::Char(..) | Inst::Set(..) | Inst::Dot(_) => match self.one(pc, pos) {
                    Some(p) => {
                        pos = p;
                        pc += 1;
                        true
                    }
                    None => false,
                },
                Inst::Start => {
                    let ok = pos == 0
                        || (self.re.multiline
                            && next_char(self.s, pos, true)
                                .is_some_and(|(c, _)| is_line_terminator(c)));
                    pc += 1;
                    ok
                }
                Inst::End => {
                    let ok = pos == self.s.len()
                        || (self.re.multiline
                            && next_char(self.s, pos, false)
                                .is_some_and(|(c, _)| is_line_terminator(c)));
                    pc += 1;
                    ok
                }
                Inst::WordBoundary(neg) => {
                    let a = next_char(self.s, pos, true).is_some_and(|(c, _)| is_word(c));
                    let b = next_char(self.s, pos, false).is_some_and(|(c, _)| is_word(c));
                    pc += 1;
                    (a != b) != *neg
                }
                &Inst::Split(x, y) => {
                    self.push(Entry::Branch { pc: y, pos })?;
                    pc = x;
                    true
                }
                &Inst::Jmp(x) => {
                    pc = x;
                    true
                }
                &Inst::Save(idx) => {
                    self.set_slot(idx, pos)?;
                    pc += 1;
                    true
                }
                &Inst::RepInit(r) => {
                    self.set_reg(2 * r, 0)?;
                    pc += 1;
                    true
                }
                &Inst::RepTry {
                    r,
                    min,
                    max,
                    greedy,
                    exit,
                } => {
                    let i = self.regs[2 * r];
                    if i >= max as usize {
                        pc = exit;
                    } else if i < min as usize {
                        pc += 1;
                    } else if greedy {
                        self.push(Entry::Branch { pc: exit, pos })?;
                        pc += 1;
                    } else {
                        self.push(Entry::Branch { pc: pc + 1, pos })?;
                        pc = exit;
                    }
                    true
                }
                &Inst::RepEnter { r, caps } => {
                    self.set_reg(2 * r + 1, pos)?;
                    for g in caps.0..caps.1 {
                        self.set_slot(2 * g, NONE)?;
                        self.set_slot(2 * g + 1, NONE)?;
                    }
                    pc += 1;
                    true
                }
                &Inst::RepEnd { r, min, head } => {
                    let i = self.regs[2 * r];
                    if i >= min as usize && pos == self.regs[2 * r + 1] {
                        false
                    } else {
                        self.set_reg(2 * r, i + 1)?;
                        pc = head;
                        true
                    }
                }
                &Inst::Rep1 { min, max, greedy } => {
                    let body = pc + 1;
                    let back = self.back_of(body);
                    let mut count = 0u32;
                    let mut p = pos;
                    let mut ok = true;
                    while count < min {
                        self.spend()?;
                        match self.one(body, p) {
                            Some(n) => {
                                p = n;
                                count += 1;
                            }
                            None => {
                                ok = false;
                                break;
                            }
                        }
                    }
                    if ok {
                        if greedy {
                            let stop = p;
                            while count < max {
                                self.spend()?;
                                match self.one(body, p) {
                                    Some(n) => {
                                        p = n;
                                        count += 1;
                                    }
                                    None => break,
                                }
                            }
                            if p != stop {
                                self.push(Entry::Greedy {
                                    pc: pc + 2,
                                    stop,
                                    pos: p,
                                    back,
                                })?;
                            }
                        } else if count < max {
                            self.push(Entry::Lazy {
                                pc: body,
                                pos: p,
                                count,
                                max,
                            })?;
                        }
                        pos = p;
                        pc += 2;
                    }
                    ok
                }
                &Inst::Backref(g, back) => {
                    let slot = |i: usize| self.slots.get(i).copied().unwrap_or(NONE);
                    let (a, b) = (slot(2 * g), slot(2 * g + 1));
                    if a == NONE || b == NONE {
                        pc += 1;
                        true
                    } else {
                        match self.backref(a, b, pos, back)? {
                            Some(p) => {
                                pos = p;
                                pc += 1;
                                true
                            }
                            None => false,
                        }
                    }
                }
                &Inst::Look { negate, cont } => {
                    self.push(Entry::Barrier { negate, pos, cont })?;
                    pc += 1;
                    true
                }
                Inst::LookEnd => {
                    let Some(bi) = self
                        .stack
                        .iter()
                        .rposition(|e| matches!(e, Entry::Barrier { .. }))
                    else {
                        return Ok(false);
                    };
                    let Entry::Barrier {
                        negate,
                        pos: at,
                        cont,
                    } = self.stack[bi]
                    else {
                        return Ok(false);
                    };
                    if negate {
                        // The body matched: the negative lookaround fails.
                        while self.stack.len() > bi + 1 {
                            self.spend()?;
                            if let Some(e) = self.stack.pop() {
                                self.undo(&e);
                            }
                        }
                        self.stack.pop();
                        false
                    } else {
                        // Keep the undo records (the captures stand until
                        // something backtracks past them), drop the choices:
                        // a lookaround is never re-entered.
                        let mut w = bi;
                        for r in bi + 1..self.stack.len() {
                            self.spend()?;
                            if matches!(self.stack[r], Entry::Slot { .. } | Entry::Reg { .. }) {
                                self.stack.swap(w, r);
                                w += 1;
                            }
                        }
                        self.stack.truncate(w);
                        pos = at;
                        pc = cont;
                        true
                    }
                }
                Inst::Match => {
                    return Ok(true);
                }
            };
            if ok {
                continue;
            }
            // Backtrack to the latest choice point.
            loop {
                let Some(e) = self.stack.pop() else {
                    return Ok(false);
                };
                self.spend()?;
                match e {
                    Entry::Branch { pc: p, pos: q } => {
                        pc = p;
                        pos = q;
                        break;
                    }
                    Entry::Slot { .. } | Entry::Reg { .. } => self.undo(&e),
                    Entry::Greedy {
                        pc: p,
                        stop,
                        pos: q,
                        back,
                    } => {
                        // Give back one character.
                        let Some((_, q)) = next_char(self.s, q, !back) else {
                            continue;
                        };
                        if q != stop {
                            self.push(Entry::Greedy {
                                pc: p,
                                stop,
                                pos: q,
                                back,
                            })?;
                        }
                        pc = p;
                        pos = q;
                        break;
                    }
                    Entry::Lazy {
                        pc: p,
                        pos: q,
                        count,
                        max,
                    } => {
                        // Take one more character.
                        let Some(n) = self.one(p, q) else {
                            continue;
                        };
                        if count + 1 < max {
                            self.push(Entry::Lazy {
                                pc: p,
                                pos: n,
                                count: count + 1,
                                max,
                            })?;
                        }
                        pc = p + 1;
                        pos = n;
                        break;
                    }
                    Entry::Barrier {
                        negate,
                        pos: at,
                        cont,
                    } => {
                        if negate {
                            // The body failed: the negative lookaround holds.
                            pc = cont;
                            pos = at;
                            break;
                        }
                    }
                }
            }
        }
    }

    fn undo(&mut self, e: &Entry) {
        match *e {
            Entry::Slot { idx, old } => self.slots[idx] = old,
            Entry::Reg { idx, old } => self.regs[idx] = old,
            _ => {}
        }
    }

    /// Match the text of capture `a..b` at `pos` (backwards: ending at `pos`).
    fn backref(
        &mut self,
        a: usize,
        b: usize,
        pos: usize,
        back: bool,
    ) -> Result<Option<usize>, Exhausted> {
        let Some(text) = self.s.get(a..b) else {
            return Ok(None);
        };
        let icase = self.re.icase;
        let mut p = pos;
        let mut want: Box<dyn Iterator<Item = char>> = if back {
            Box::new(text.chars().rev())
        } else {
            Box::new(text.chars())
        };
        for w in want.by_ref() {
            self.spend()?;
            let Some((c, n)) = next_char(self.s, p, back) else {
                return Ok(None);
            };
            let same = if icase {
                canonicalize(c) == canonicalize(w)
            } else {
                c == w
            };
            if !same {
                return Ok(None);
            }
            p = n;
        }
        Ok(Some(p))
    }
}
