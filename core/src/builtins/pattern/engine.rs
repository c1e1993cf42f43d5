//! The matcher: a line-by-line port of the pattern matching in Lua 5.4/5.5's `lstrlib.c`
//! (`match`, `max_expand`, `min_expand`, captures, `%b`, `%f`, classes in the C locale), on
//! bytes, with the same recursion limit (`MAXCCALLS`, "pattern too complex") and capture limit
//! (`LUA_MAXCAPTURES`). What it adds: every [`INTERRUPT_EVERY`] steps it calls the interrupt
//! check, so a deadline can stop a pattern that backtracks for hours.
//!
//! Positions are indices into the subject and the pattern. The C code reads the terminating
//! `'\0'` of both strings in a few places (`*(p + 1)` after a class, `*s` at the end of the
//! subject for `%f`); [`Matcher::at`] and [`Matcher::byte`] return 0 past the end to keep those
//! reads identical.

use super::classes::{CLASSES, L_ESC, bracket_class, class_bit, class_matches};

/// Lua's `LUA_MAXCAPTURES`.
pub const MAX_CAPTURES: usize = 32;
/// Lua's `MAXCCALLS`: how deep `match` may recurse.
const MAX_CALLS: u32 = 200;
/// Matching steps (calls of `match`, characters scanned by the expansions, start positions)
/// between two calls of the interrupt check.
pub const INTERRUPT_EVERY: u32 = 4096;

const CAP_UNFINISHED: isize = -1;
const CAP_POSITION: isize = -2;

/// Why a match ended without an answer.
#[derive(Debug)]
pub enum Stop {
    /// A pattern error, with Lua's text ("malformed pattern (ends with '%')").
    Error(String),
    /// The interrupt check failed: its error, to pass on as it is.
    Interrupted(mlua::Error),
}

/// A capture's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// The bytes `start..end` of the subject.
    Range(usize, usize),
    /// A position capture `()`: the 1-based position.
    Position(usize),
}

/// Marker of a stopped match; the reason is in [`Matcher::stop`].
struct Halt;

type Step = Result<Option<usize>, Halt>;

/// The state of matching one pattern against one subject (Lua's `MatchState`).
pub struct Matcher<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    depth: u32,
    level: usize,
    capture: [(usize, isize); MAX_CAPTURES],
    ticks: u32,
    interrupt: &'a dyn Fn() -> mlua::Result<()>,
    stop: Option<Stop>,
}

impl<'a> Matcher<'a> {
    /// A matcher of `pat` (without its `^` anchor, which the callers handle) against `src`.
    pub fn new(src: &'a [u8], pat: &'a [u8], interrupt: &'a dyn Fn() -> mlua::Result<()>) -> Self {
        Self {
            src,
            pat,
            depth: MAX_CALLS,
            level: 0,
            capture: [(0, 0); MAX_CAPTURES],
            ticks: INTERRUPT_EVERY,
            interrupt,
            stop: None,
        }
    }

    /// Tries to match the pattern at `start`; the end of the match, if it matches.
    pub fn try_at(&mut self, start: usize) -> Result<Option<usize>, Stop> {
        self.depth = MAX_CALLS;
        self.level = 0;
        self.try_match(start, 0).map_err(|Halt| self.take_stop())
    }

    /// Number of captures of the last match (Lua's `ms->level`).
    pub fn level(&self) -> usize {
        self.level
    }

    /// Capture `i` of the last match `start..end` (Lua's `get_onecapture`): the whole match
    /// when the pattern has no captures and `i` is 0.
    pub fn capture(&self, i: usize, start: usize, end: usize) -> Result<Capture, Stop> {
        if i >= self.level {
            if i != 0 {
                return Err(Stop::Error(format!("invalid capture index %{}", i + 1)));
            }
            return Ok(Capture::Range(start, end));
        }
        let (init, len) = self.capture[i];
        match len {
            CAP_UNFINISHED => Err(Stop::Error("unfinished capture".into())),
            CAP_POSITION => Ok(Capture::Position(init + 1)),
            len => Ok(Capture::Range(init, init + len.unsigned_abs())),
        }
    }

    fn take_stop(&mut self) -> Stop {
        self.stop
            .take()
            .unwrap_or_else(|| Stop::Error("pattern matching stopped".into()))
    }

    fn error(&mut self, message: impl Into<String>) -> Halt {
        self.stop = Some(Stop::Error(message.into()));
        Halt
    }

    /// The pattern byte at `i`, 0 past the end (C's terminating NUL).
    #[inline(always)]
    fn at(&self, i: usize) -> u8 {
        self.pat.get(i).copied().unwrap_or(0)
    }

    /// The subject byte at `i`, 0 past the end.
    #[inline(always)]
    fn byte(&self, i: usize) -> u8 {
        self.src.get(i).copied().unwrap_or(0)
    }

    #[inline(always)]
    fn tick(&mut self) -> Result<(), Halt> {
        self.ticks -= 1;
        if self.ticks == 0 {
            return self.poll();
        }
        Ok(())
    }

    #[inline]
    fn tick_n(&mut self, n: usize) -> Result<(), Halt> {
        if n >= self.ticks as usize {
            return self.poll();
        }
        self.ticks -= n as u32;
        Ok(())
    }

    #[cold]
    fn poll(&mut self) -> Result<(), Halt> {
        self.ticks = INTERRUPT_EVERY;
        match (self.interrupt)() {
            Ok(()) => Ok(()),
            Err(e) => {
                self.stop = Some(Stop::Interrupted(e));
                Err(Halt)
            }
        }
    }

    fn check_capture(&mut self, l: u8) -> Result<usize, Halt> {
        let l = i32::from(l) - i32::from(b'1');
        match usize::try_from(l) {
            Ok(i) if i < self.level && self.capture[i].1 != CAP_UNFINISHED => Ok(i),
            _ => Err(self.error(format!("invalid capture index %{}", l + 1))),
        }
    }

    fn capture_to_close(&mut self) -> Result<usize, Halt> {
        match (0..self.level)
            .rev()
            .find(|&l| self.capture[l].1 == CAP_UNFINISHED)
        {
            Some(l) => Ok(l),
            None => Err(self.error("invalid pattern capture")),
        }
    }

    /// Index just after the single-character class at `p`.
    #[inline(always)]
    fn class_end(&mut self, p: usize) -> Result<usize, Halt> {
        match self.at(p) {
            L_ESC if p + 1 < self.pat.len() => Ok(p + 2),
            L_ESC | b'[' => self.class_end_slow(p),
            _ => Ok(p + 1),
        }
    }

    /// [`Matcher::class_end`] for sets and errors.
    fn class_end_slow(&mut self, p: usize) -> Result<usize, Halt> {
        let first = self.at(p);
        let mut p = p + 1;
        match first {
            L_ESC => {
                if p >= self.pat.len() {
                    return Err(self.error("malformed pattern (ends with '%')"));
                }
                Ok(p + 1)
            }
            b'[' => {
                if self.at(p) == b'^' {
                    p += 1;
                }
                loop {
                    // look for a ']'
                    if p >= self.pat.len() {
                        return Err(self.error("malformed pattern (missing ']')"));
                    }
                    let c = self.at(p);
                    p += 1;
                    if c == L_ESC && p < self.pat.len() {
                        p += 1; // skip escapes (e.g. '%]')
                    }
                    if self.at(p) == b']' {
                        return Ok(p + 1);
                    }
                }
            }
            _ => Ok(p),
        }
    }

    /// Whether the subject byte at `s` matches the class `p..ep`.
    #[inline(always)]
    fn single_match(&self, s: usize, p: usize, ep: usize) -> bool {
        match self.src.get(s) {
            Some(&c) => class_matches(self.pat, p, ep, c),
            None => false,
        }
    }

    fn match_balance(&mut self, s: usize, p: usize) -> Step {
        if p + 1 >= self.pat.len() {
            return Err(self.error("malformed pattern (missing arguments to '%b')"));
        }
        let (open, close) = (self.at(p), self.at(p + 1));
        if self.byte(s) != open {
            return Ok(None);
        }
        let mut depth = 1usize;
        let rest = self.src.get(s + 1..).unwrap_or_default();
        for (i, &c) in rest.iter().enumerate() {
            if c == close {
                depth -= 1;
                if depth == 0 {
                    self.tick_n(i)?;
                    return Ok(Some(s + i + 2));
                }
            } else if c == open {
                depth += 1;
            }
        }
        self.tick_n(rest.len())?;
        Ok(None) // the subject ends out of balance
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Step {
        let mut i = self.expansion(s, p, ep);
        self.tick_n(i)?;
        // keeps trying to match with the maximum repetitions
        loop {
            if let Some(end) = self.try_match(s + i, ep + 1)? {
                return Ok(Some(end));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    /// How many bytes from `s` on match the class `p..ep` (Lua's loop at the start of
    /// `max_expand`, with the class looked at once rather than at each byte).
    fn expansion(&self, s: usize, p: usize, ep: usize) -> usize {
        let rest = self.src.get(s..).unwrap_or_default();
        let count = |matches: &dyn Fn(u8) -> bool| rest.iter().take_while(|&&c| matches(c)).count();
        match self.at(p) {
            b'.' => rest.len(),
            L_ESC => {
                let cl = self.at(p + 1);
                match class_bit(cl) {
                    Some(bit) => {
                        let want = cl.is_ascii_lowercase();
                        count(&|c| (CLASSES[usize::from(c)] & bit != 0) == want)
                    }
                    None => count(&|c| c == cl),
                }
            }
            b'[' => count(&|c| bracket_class(self.pat, c, p, ep - 1)),
            literal => count(&|c| c == literal),
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> Step {
        loop {
            if let Some(end) = self.try_match(s, ep + 1)? {
                return Ok(Some(end));
            }
            if self.single_match(s, p, ep) {
                s += 1; // try with one more repetition
            } else {
                return Ok(None);
            }
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, what: isize) -> Step {
        let level = self.level;
        if level >= MAX_CAPTURES {
            return Err(self.error("too many captures"));
        }
        self.capture[level] = (s, what);
        self.level = level + 1;
        let res = self.do_match(s, p)?;
        if res.is_none() {
            self.level -= 1; // undo capture
        }
        Ok(res)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Step {
        let l = self.capture_to_close()?;
        self.capture[l].1 = s.saturating_sub(self.capture[l].0) as isize;
        let res = self.do_match(s, p)?;
        if res.is_none() {
            self.capture[l].1 = CAP_UNFINISHED; // undo capture
        }
        Ok(res)
    }

    fn match_capture(&mut self, s: usize, l: u8) -> Step {
        let l = self.check_capture(l)?;
        let (init, len) = self.capture[l];
        // A position capture has a negative length: as a huge size_t in C, it never fits.
        let Ok(len) = usize::try_from(len) else {
            return Ok(None);
        };
        self.tick_n(len)?;
        let captured = self.src.get(init..init + len);
        if captured.is_some() && captured == self.src.get(s..s + len) {
            Ok(Some(s + len))
        } else {
            Ok(None)
        }
    }

    /// `match(s, p)` where Lua's loops call it: without the call when it would fail at once.
    #[inline(always)]
    fn try_match(&mut self, s: usize, p: usize) -> Step {
        if self.fails_at_once(s, p)? {
            self.tick()?;
            return Ok(None);
        }
        self.do_match(s, p)
    }

    /// Whether `match(s, p)` would fail at once, with no recursion and no error: the item at
    /// `p` is a single-character class that must match a byte, and the byte at `s` is not in
    /// it. Skipping those calls is most of the time of backtracking. `Err` only for the error
    /// `match` itself would raise there first (a malformed class).
    #[inline]
    fn fails_at_once(&mut self, s: usize, p: usize) -> Result<bool, Halt> {
        if self.depth == 0 {
            return Ok(false); // the call raises "pattern too complex"
        }
        let Some(&c) = self.pat.get(p) else {
            return Ok(false);
        };
        match c {
            b'(' | b')' => return Ok(false),
            b'$' if p + 1 == self.pat.len() => return Ok(false),
            // a balance that cannot start here (with its arguments, else it raises)
            L_ESC if self.at(p + 1) == b'b' => {
                return Ok(p + 3 < self.pat.len() && self.byte(s) != self.at(p + 2));
            }
            L_ESC if matches!(self.at(p + 1), b'f' | b'0'..=b'9') => return Ok(false),
            _ => {}
        }
        let ep = self.class_end(p)?;
        if matches!(self.at(ep), b'*' | b'?' | b'-') {
            return Ok(false);
        }
        Ok(!self.single_match(s, p, ep))
    }

    fn do_match(&mut self, s: usize, p: usize) -> Step {
        if self.depth == 0 {
            return Err(self.error("pattern too complex"));
        }
        self.depth -= 1;
        self.tick()?;
        let res = self.match_here(s, p);
        self.depth += 1;
        res
    }

    /// The body of Lua's `match`; `continue` is its `goto init` (a tail call).
    fn match_here(&mut self, mut s: usize, mut p: usize) -> Step {
        loop {
            if p >= self.pat.len() {
                return Ok(Some(s)); // end of pattern
            }
            match self.pat[p] {
                b'(' => {
                    return if self.at(p + 1) == b')' {
                        self.start_capture(s, p + 2, CAP_POSITION)
                    } else {
                        self.start_capture(s, p + 1, CAP_UNFINISHED)
                    };
                }
                b')' => return self.end_capture(s, p + 1),
                b'$' if p + 1 == self.pat.len() => {
                    return Ok((s == self.src.len()).then_some(s));
                }
                L_ESC => match self.at(p + 1) {
                    b'b' => match self.match_balance(s, p + 2)? {
                        Some(next) => {
                            s = next;
                            p += 4;
                            continue;
                        }
                        None => return Ok(None),
                    },
                    b'f' => {
                        p += 2;
                        if self.at(p) != b'[' {
                            return Err(self.error("missing '[' after '%f' in pattern"));
                        }
                        let ep = self.class_end(p)?;
                        let previous = if s == 0 { 0 } else { self.byte(s - 1) };
                        if !bracket_class(self.pat, previous, p, ep - 1)
                            && bracket_class(self.pat, self.byte(s), p, ep - 1)
                        {
                            p = ep;
                            continue;
                        }
                        return Ok(None);
                    }
                    d @ b'0'..=b'9' => match self.match_capture(s, d)? {
                        Some(next) => {
                            s = next;
                            p += 2;
                            continue;
                        }
                        None => return Ok(None),
                    },
                    _ => {}
                },
                _ => {}
            }
            // default: a single-character class plus an optional suffix
            let ep = self.class_end(p)?;
            let suffix = self.at(ep);
            if !self.single_match(s, p, ep) {
                if matches!(suffix, b'*' | b'?' | b'-') {
                    p = ep + 1; // accept empty
                    continue;
                }
                return Ok(None); // '+' or no suffix
            }
            match suffix {
                b'?' => {
                    if let Some(end) = self.do_match(s + 1, ep + 1)? {
                        return Ok(Some(end));
                    }
                    p = ep + 1;
                }
                b'+' => return self.max_expand(s + 1, p, ep),
                b'*' => return self.max_expand(s, p, ep),
                b'-' => return self.min_expand(s, p, ep),
                _ => {
                    s += 1;
                    p = ep;
                }
            }
        }
    }
}
