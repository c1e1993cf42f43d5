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

/// Lua's `LUA_MAXCAPTURES`.
pub const MAX_CAPTURES: usize = 32;
/// Lua's `MAXCCALLS`: how deep `match` may recurse.
const MAX_CALLS: u32 = 200;
/// Matching steps (calls of `match`, characters scanned by the expansions, start positions)
/// between two calls of the interrupt check.
pub const INTERRUPT_EVERY: u32 = 4096;

const CAP_UNFINISHED: isize = -1;
const CAP_POSITION: isize = -2;
const L_ESC: u8 = b'%';
const SPECIALS: &[u8] = b"^$*+?.([%-";

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
        self.do_match(start, 0).map_err(|Halt| self.take_stop())
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
    fn class_end(&mut self, p: usize) -> Result<usize, Halt> {
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
    #[inline]
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
            if let Some(end) = self.do_match(s + i, ep + 1)? {
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
            if let Some(end) = self.do_match(s, ep + 1)? {
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
        self.capture[l].1 = (s - self.capture[l].0) as isize;
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
        if self.src.len() - s >= len && self.src[init..init + len] == self.src[s..s + len] {
            Ok(Some(s + len))
        } else {
            Ok(None)
        }
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

/// The pattern byte at `i`, 0 past the end (C's terminating NUL).
#[inline(always)]
fn at(pat: &[u8], i: usize) -> u8 {
    pat.get(i).copied().unwrap_or(0)
}

/// Whether `c` matches the single-character class `p..ep` of `pat` (Lua's `singlematch`
/// once it has a byte).
#[inline]
pub fn class_matches(pat: &[u8], p: usize, ep: usize, c: u8) -> bool {
    match at(pat, p) {
        b'.' => true,
        L_ESC => match_class(c, at(pat, p + 1)),
        b'[' => bracket_class(pat, c, p, ep - 1),
        pc => pc == c,
    }
}

/// Whether `c` is in the set `[...]` that starts at `p` and ends with the `]` at `ec` (Lua's
/// `matchbracketclass`).
fn bracket_class(pat: &[u8], c: u8, mut p: usize, ec: usize) -> bool {
    let mut sig = true;
    if at(pat, p + 1) == b'^' {
        sig = false;
        p += 1;
    }
    loop {
        p += 1;
        if p >= ec {
            return !sig;
        }
        let pc = at(pat, p);
        if pc == L_ESC {
            p += 1;
            if match_class(c, at(pat, p)) {
                return sig;
            }
        } else if at(pat, p + 1) == b'-' && p + 2 < ec {
            p += 2;
            if pc <= c && c <= at(pat, p) {
                return sig;
            }
        } else if pc == c {
            return sig;
        }
    }
}

/// The classes of each byte in the C locale, one bit per class letter (see [`class_bit`]).
static CLASSES: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut bits = 0u16;
        if c.is_ascii_alphabetic() {
            bits |= 1 << 0;
        }
        if c.is_ascii_control() {
            bits |= 1 << 1;
        }
        if c.is_ascii_digit() {
            bits |= 1 << 2;
        }
        if c.is_ascii_graphic() {
            bits |= 1 << 3;
        }
        if c.is_ascii_lowercase() {
            bits |= 1 << 4;
        }
        if c.is_ascii_punctuation() {
            bits |= 1 << 5;
        }
        // C's isspace includes '\v', which Rust's is_ascii_whitespace leaves out
        if c == b' ' || (c >= b'\t' && c <= b'\r') {
            bits |= 1 << 6;
        }
        if c.is_ascii_uppercase() {
            bits |= 1 << 7;
        }
        if c.is_ascii_alphanumeric() {
            bits |= 1 << 8;
        }
        if c.is_ascii_hexdigit() {
            bits |= 1 << 9;
        }
        if c == 0 {
            bits |= 1 << 10; // %z, deprecated, still in lstrlib.c
        }
        table[i] = bits;
        i += 1;
    }
    table
};

/// The bit of a class letter (either case) in [`CLASSES`], `None` for any other byte.
#[inline]
fn class_bit(cl: u8) -> Option<u16> {
    let bit = match cl.to_ascii_lowercase() {
        b'a' => 0,
        b'c' => 1,
        b'd' => 2,
        b'g' => 3,
        b'l' => 4,
        b'p' => 5,
        b's' => 6,
        b'u' => 7,
        b'w' => 8,
        b'x' => 9,
        b'z' => 10,
        _ => return None,
    };
    Some(1 << bit)
}

/// Lua's `match_class`: `c` against the class letter `cl` (`%a`, `%D`, ...) in the C locale;
/// any other `cl` stands for itself.
#[inline]
pub fn match_class(c: u8, cl: u8) -> bool {
    match class_bit(cl) {
        Some(bit) => (CLASSES[usize::from(c)] & bit != 0) == cl.is_ascii_lowercase(),
        None => cl == c,
    }
}

/// Whether `pattern` has none of the characters that make it a pattern (Lua's `nospecials`).
pub fn no_specials(pattern: &[u8]) -> bool {
    !pattern.iter().any(|b| SPECIALS.contains(b))
}

/// The first index of `needle` in `haystack` (Lua's `lmemfind`). Eight start positions at
/// a time: a word-wide compare of the needle's first and last bytes finds the candidates,
/// which are then compared in full.
pub fn find_plain(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let (Some(&first), Some(&last)) = (needle.first(), needle.last()) else {
        return Some(0); // empty strings are everywhere
    };
    let last_start = haystack.len().checked_sub(needle.len())?;
    let offset = needle.len() - 1;
    let (first_x8, last_x8) = (LO * u64::from(first), LO * u64::from(last));
    let word = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&haystack[at..at + 8]);
        u64::from_le_bytes(bytes)
    };
    let mut i = 0;
    while i + 7 <= last_start {
        // a zero byte where both the first and the last byte match
        let x = (word(i) ^ first_x8) | (word(i + offset) ^ last_x8);
        let mut candidates = x.wrapping_sub(LO) & !x & HI;
        while candidates != 0 {
            let at = i + (candidates.trailing_zeros() / 8) as usize;
            if haystack[at..at + needle.len()] == *needle {
                return Some(at);
            }
            candidates &= candidates - 1;
        }
        i += 8;
    }
    (i..=last_start).find(|&at| haystack[at..at + needle.len()] == *needle)
}

#[cfg(test)]
mod tests {
    use super::{find_plain, match_class};

    #[test]
    fn classes_are_the_c_locale_ones() {
        for c in 0..=255u8 {
            let expect = |cl: u8| match cl {
                b'a' => c.is_ascii_alphabetic(),
                b'c' => c < 32 || c == 127,
                b'd' => c.is_ascii_digit(),
                b'g' => (33..=126).contains(&c),
                b'l' => c.is_ascii_lowercase(),
                b'p' => (33..=126).contains(&c) && !c.is_ascii_alphanumeric(),
                b's' => matches!(c, b' ' | 9..=13),
                b'u' => c.is_ascii_uppercase(),
                b'w' => c.is_ascii_alphanumeric(),
                b'x' => c.is_ascii_hexdigit(),
                b'z' => c == 0,
                _ => unreachable!(),
            };
            for cl in *b"acdglpsuwxz" {
                assert_eq!(match_class(c, cl), expect(cl), "{c} %{}", cl as char);
                let upper = cl.to_ascii_uppercase();
                assert_eq!(match_class(c, upper), !expect(cl), "{c} %{}", upper as char);
            }
            for other in [b'.', b'%', b'(', b'b', b'1', 0, 200] {
                assert_eq!(match_class(c, other), c == other);
            }
        }
    }

    #[test]
    fn plain_search_finds_the_first_occurrence() {
        let hay = b"xxabcxxxxxxxxabcabxxxxxxxxxxxxxxxxxxxxxxxxxxxxab\0ab";
        for (needle, want) in [
            (&b"abc"[..], Some(2)),
            (b"", Some(0)),
            (b"x", Some(0)),
            (b"abx", Some(16)),
            (b"b\0a", Some(47)),
            (b"ab\0ab", Some(46)),
            (b"abcd", None),
            (b"bab", None),
        ] {
            assert_eq!(find_plain(hay, needle), want, "{needle:?}");
            let naive = (0..=hay.len().saturating_sub(needle.len()))
                .find(|&i| hay[i..].starts_with(needle))
                .filter(|_| needle.len() <= hay.len());
            assert_eq!(naive, want, "{needle:?}");
        }
        assert_eq!(find_plain(b"ab", b"abc"), None);
        // every position of every length, against the naive search
        let text: Vec<u8> = (0..200u32)
            .map(|i| b"aab\0"[(i * 7 % 11 % 4) as usize])
            .collect();
        for start in 0..text.len() {
            for len in 1..6.min(text.len() - start) {
                let needle = &text[start..start + len];
                let naive = (0..=text.len() - len).find(|&i| text[i..].starts_with(needle));
                assert_eq!(find_plain(&text, needle), naive);
            }
        }
    }
}
