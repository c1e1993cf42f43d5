//! When Lua's own C functions may run instead of the port: a call that cannot fail and whose
//! worst case is small.
//!
//! The port costs what any Rust builtin costs to call (about 0.4 µs through mlua and the
//! wrapper, against 0.08 µs for a C function), which dominates the typical call: a short
//! subject, a short pattern. So the wrappers (see `FAST_GLUE` in `mod.rs`) call the C function
//! directly when
//! - the arguments are of the expected types (no argument error is possible),
//! - the pattern is *clean*: nothing in it can raise (malformed pieces, unbalanced captures,
//!   back references to captures not yet closed, more than 32 captures, a pattern long enough
//!   to reach the recursion limit), so no error can carry the wrapper's position instead of
//!   the caller's;
//! - and the worst case of Lua's matcher on a subject of that length is below [`BUDGET`].
//!
//! The worst case, for a subject of `n` bytes: a `*`, `+` or `-` item may try each of the
//! `n + 1` lengths for each way the rest of the pattern goes, unless the rest is decided by
//! the next byte (see [`decided`]); `?` doubles the ways; each way costs at most about
//! `n + 1` steps per pattern byte (scans, `%b`, back references, sets); an unanchored pattern
//! is tried at each of the `n + 1` start positions (gmatch and gsub try each start once in
//! all). So the work is at most `(n+1)^e * 2^q * 4(|p|+1)`, where `e` counts the
//! backtracking items, one for the ways' own cost and one more when unanchored, and `q` the
//! `?` items. [`max_subject`] turns that into the longest subject within [`BUDGET`]: a log
//! line against a pattern of ten `%d+` pieces qualifies, a 4 KB text against an unanchored
//! pattern does not, and the pattern bombs (`.-.-.-.-x`) only for a handful of bytes.

/// Worst-case steps allowed in C, where no deadline can stop it: some tens of ms.
pub const BUDGET: f64 = (1u64 << 24) as f64;

/// The recursion limit is 200 calls of `match`; each nested call moves at least one byte
/// further into the pattern, so a shorter pattern cannot reach it.
const MAX_PATTERN: usize = 180;

/// The longest subject for which Lua's C matcher may run `pattern` (as `find`, `match` and
/// `gsub` read it, or as `gmatch` does, where `^` is an ordinary character): `None` when the
/// pattern could raise, or costs too much whatever the subject.
pub fn max_subject(pattern: &[u8], gmatch: bool) -> Option<u64> {
    let Bound { exponent, per_way } = bound(pattern, gmatch)?;
    let room = BUDGET / per_way;
    if room < 1.0 {
        return None;
    }
    let mut n = room.powf(1.0 / f64::from(exponent)).floor() as u64;
    // floating point: make sure (n + 1)^e fits
    while n > 0 && ((n + 1) as f64).powi(exponent as i32) > room {
        n -= 1;
    }
    if ((n + 1) as f64).powi(exponent as i32) > room {
        return None;
    }
    Some(n)
}

/// The worst case of a clean pattern on `n` bytes: `(n + 1)^exponent * per_way` steps.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub exponent: u32,
    pub per_way: f64,
}

impl Bound {
    #[cfg(test)]
    pub fn steps(&self, n: usize) -> f64 {
        ((n + 1) as f64).powi(self.exponent as i32) * self.per_way
    }
}

/// The worst case of `pattern` (read as `gmatch` reads it, or as the others do); `None` if
/// it could raise.
pub fn bound(pattern: &[u8], gmatch: bool) -> Option<Bound> {
    let (anchored, body) = match pattern.split_first() {
        Some((b'^', rest)) if !gmatch => (true, rest),
        _ => (false, pattern),
    };
    let Cost {
        factors,
        optionals,
        one_piece,
        ..
    } = cost(body)?;
    // A pattern of one class (captures aside) fails at its first byte or not at all, and a
    // match moves gmatch and gsub past the bytes it scanned: no factor for the starts.
    let starts = !anchored && !one_piece;
    Some(Bound {
        exponent: factors + 1 + u32::from(starts),
        per_way: 2f64.powi(optionals as i32) * 4.0 * (body.len() + 1) as f64,
    })
}

/// What the fast path needs to know of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The longest subject it may run in C on.
    pub max_subject: u64,
    /// How many captures it has (position captures included).
    pub captures: usize,
}

/// [`max_subject`] and the number of captures of a clean pattern.
pub fn classify(pattern: &[u8], gmatch: bool) -> Option<Verdict> {
    let body = match pattern.split_first() {
        Some((b'^', rest)) if !gmatch => rest,
        _ => pattern,
    };
    Some(Verdict {
        max_subject: max_subject(pattern, gmatch)?,
        captures: cost(body)?.captures,
    })
}

/// The highest capture a `gsub` replacement string refers to (`%1`..`%9`; 0 for none), or
/// `None` if it has an invalid `%` (which raises).
pub fn replacement(repl: &[u8]) -> Option<u32> {
    let mut highest = 0;
    let mut i = 0;
    while i < repl.len() {
        if repl[i] == b'%' {
            match repl.get(i + 1) {
                Some(b'%') => {}
                Some(&d @ b'0'..=b'9') => highest = highest.max(u32::from(d - b'0')),
                _ => return None,
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    Some(highest)
}

/// What makes the worst case of a clean pattern.
#[derive(Debug, PartialEq, Eq)]
struct Cost {
    /// `*`, `+` and `-` items that backtrack: each can leave several ways to go on.
    factors: u32,
    /// `?` items.
    optionals: u32,
    /// Whether the pattern is one single-character class with or without a suffix, in
    /// captures or not.
    one_piece: bool,
    /// Captures, position captures included.
    captures: usize,
}

/// A piece of a pattern as `match` reads it.
#[derive(Debug, Clone, Copy)]
enum Item {
    /// `(`, `)` or `()`: consume nothing, cannot fail in a clean pattern.
    Capture,
    /// A single-character class `p..ep` and its suffix (0 for none).
    Single { p: usize, ep: usize, suffix: u8 },
    /// `$` at the end.
    End,
    /// `%b`, `%f`, a back reference: one outcome each.
    Other,
}

/// Walks the pattern as `match` would read it; `None` if any part of it could raise.
fn cost(p: &[u8]) -> Option<Cost> {
    let (items, captures) = items(p)?;
    let mut pieces = items.iter().filter(|item| !matches!(item, Item::Capture));
    let one_piece = matches!(
        (pieces.next(), pieces.next()),
        (Some(Item::Single { .. }), None)
    );
    let mut cost = Cost {
        factors: 0,
        optionals: 0,
        one_piece,
        captures,
    };
    for (i, item) in items.iter().enumerate() {
        match *item {
            Item::Single { suffix: b'?', .. } => cost.optionals += 1,
            Item::Single {
                p: xp,
                ep: xep,
                suffix: b'*' | b'+' | b'-',
            } if !decided(p, (xp, xep), &items[i + 1..]) => cost.factors += 1,
            _ => {}
        }
    }
    Some(cost)
}

/// Whether a `*`, `+` or `-` item (the class `x`) has one way to go on: after it (captures
/// aside) comes the end of the pattern, a final `$`, or a class that must match one byte and
/// shares no byte with `x`. Then every length but one fails at that next byte at once (the
/// bytes it would take are all in `x`), and the matcher goes deeper only once.
fn decided(p: &[u8], x: (usize, usize), rest: &[Item]) -> bool {
    match rest.iter().find(|item| !matches!(item, Item::Capture)) {
        None | Some(Item::End) => true,
        Some(&Item::Single {
            p: yp,
            ep: yep,
            suffix,
        }) if suffix != b'*' && suffix != b'?' && suffix != b'-' => (0..=255u8).all(|c| {
            !(super::classes::class_matches(p, x.0, x.1, c)
                && super::classes::class_matches(p, yp, yep, c))
        }),
        _ => false,
    }
}

/// The pattern's items and its number of captures; `None` if any part of it could raise.
fn items(p: &[u8]) -> Option<(Vec<Item>, usize)> {
    if p.len() > MAX_PATTERN {
        return None;
    }
    let at = |i: usize| p.get(i).copied().unwrap_or(0);
    let mut items = Vec::new();
    let mut open: Vec<usize> = Vec::new(); // captures started, not closed
    let mut closed = [false; super::engine::MAX_CAPTURES];
    let mut level = 0usize;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'(' => {
                if level == super::engine::MAX_CAPTURES {
                    return None; // too many captures
                }
                if at(i + 1) == b')' {
                    closed[level] = true; // a position capture
                    i += 2;
                } else {
                    open.push(level);
                    i += 1;
                }
                level += 1;
                items.push(Item::Capture);
                continue;
            }
            b')' => {
                closed[open.pop()?] = true; // else: invalid pattern capture
                i += 1;
                items.push(Item::Capture);
                continue;
            }
            b'$' if i + 1 == p.len() => {
                items.push(Item::End);
                break;
            }
            b'%' => match at(i + 1) {
                b'b' => {
                    if i + 3 >= p.len() {
                        return None; // missing arguments to '%b'
                    }
                    i += 4;
                    items.push(Item::Other);
                    continue;
                }
                b'f' => {
                    if at(i + 2) != b'[' {
                        return None;
                    }
                    i = class_end(p, i + 2)?;
                    items.push(Item::Other);
                    continue;
                }
                d @ b'0'..=b'9' => {
                    let l = usize::from(d).checked_sub(usize::from(b'1'))?;
                    if l >= level || !closed[l] {
                        return None; // invalid capture index
                    }
                    i += 2;
                    items.push(Item::Other);
                    continue;
                }
                _ => {}
            },
            _ => {}
        }
        let ep = class_end(p, i)?;
        let suffix = match at(ep) {
            s @ (b'*' | b'+' | b'-' | b'?') => s,
            _ => 0,
        };
        items.push(Item::Single { p: i, ep, suffix });
        i = if suffix == 0 { ep } else { ep + 1 };
    }
    open.is_empty().then_some((items, level)) // else: unfinished capture
}

/// Lua's `classend`: the index after the single-character class at `i`, `None` if malformed.
fn class_end(p: &[u8], i: usize) -> Option<usize> {
    let at = |i: usize| p.get(i).copied().unwrap_or(0);
    let mut i = i + 1;
    match at(i - 1) {
        b'%' => (i < p.len()).then_some(i + 1),
        b'[' => {
            if at(i) == b'^' {
                i += 1;
            }
            loop {
                if i >= p.len() {
                    return None; // missing ']'
                }
                let c = at(i);
                i += 1;
                if c == b'%' && i < p.len() {
                    i += 1;
                }
                if at(i) == b']' {
                    return Some(i + 1);
                }
            }
        }
        _ => Some(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs(p: &str) -> Option<(u32, u32)> {
        cost(p.as_bytes()).map(|c| (c.factors, c.optionals))
    }

    #[test]
    fn one_class_patterns_are_linear_and_captures_are_counted() {
        let linear = |p: &[u8]| bound(p, true).map(|b| b.exponent);
        assert_eq!(linear(b"%a+"), Some(1));
        assert_eq!(linear(b"([^\n]+)"), Some(1));
        assert_eq!(linear(b"()x*()"), Some(1));
        assert_eq!(linear(b"%a+$"), Some(2));
        assert_eq!(linear(b"%a+,"), Some(2));
        assert!(max_subject(b"%a+", true).expect("clean") > 100_000);
        let captures = |p: &[u8]| classify(p, false).map(|v| v.captures);
        assert_eq!(captures(b"^(a)()(b(c))"), Some(4));
        assert_eq!(captures(b"abc"), Some(0));
    }

    #[test]
    fn replacement_strings() {
        assert_eq!(replacement(b"plain"), Some(0));
        assert_eq!(replacement(b"%0%%x"), Some(0));
        assert_eq!(replacement(b"<%1|%3>"), Some(3));
        assert_eq!(replacement(b"100%"), None);
        assert_eq!(replacement(b"%x"), None);
        assert_eq!(replacement(b"%%%"), None);
    }

    #[test]
    fn clean_patterns_and_their_cost() {
        assert_eq!(costs("abc"), Some((0, 0)));
        assert_eq!(costs("a?b?c"), Some((0, 2)));
        assert_eq!(costs("%b()x"), Some((0, 0)));
        assert_eq!(costs("(a)%1"), Some((0, 0)));
        assert_eq!(costs("()a()"), Some((0, 0)));
        assert_eq!(costs("a$b$"), Some((0, 0)));
        // decided: the next byte ends the expansion
        assert_eq!(costs("%d+-%d+"), Some((0, 0)));
        assert_eq!(costs("%a+%d"), Some((0, 0)));
        assert_eq!(costs("(.*)$"), Some((0, 0)));
        assert_eq!(costs("%f[%w]%w+"), Some((0, 0)));
        assert_eq!(costs("[^,]*,"), Some((0, 0)));
        // backtracking: the next piece may take the same bytes, or match nothing
        assert_eq!(costs("%a+a"), Some((1, 0)));
        assert_eq!(costs("a*a*"), Some((1, 0)));
        assert_eq!(costs("[]]*[^%]]-"), Some((1, 0)));
        assert_eq!(costs("%d+%b()"), Some((1, 0)));
        assert_eq!(costs(".-.-.-x"), Some((3, 0)));
        assert_eq!(costs("(%w+)%s*=%s*(%w+)$"), Some((1, 0)));
        assert_eq!(
            costs("(%d+)-(%d+)-(%d+) (%d+):(%d+):(%d+) %[(%u+)%] (.*)$"),
            Some((0, 0))
        );
    }

    #[test]
    fn patterns_that_could_raise_are_not_clean() {
        for p in [
            "%", "[a", "[", "%f", "%fa", "%b", "%bx", "(a", "a)", "%1", "(a%1)", "%0", "[^", "[%",
            "(()", "%2(a)",
        ] {
            assert_eq!(costs(p), None, "{p}");
        }
        assert_eq!(costs(&"()".repeat(32)), Some((0, 0)));
        assert_eq!(costs(&"()".repeat(33)), None);
        assert_eq!(costs(&"a".repeat(180)), Some((0, 0)));
        assert_eq!(costs(&"a".repeat(181)), None);
    }

    #[test]
    fn the_budget_bounds_the_subject() {
        // no backtracking, anchored: linear
        let n = max_subject(b"^abc", false).expect("clean");
        assert!(n > 100_000, "{n}");
        // the pattern bomb: only tiny subjects
        let n = max_subject(b".-.-.-.-.-.-x", false).expect("clean");
        assert!(n < 10, "{n}");
        // typical: a key=value line, a trim, a log line
        assert!(max_subject(b"^(%w+)%s*=%s*(%w+)$", false).expect("clean") >= 400);
        assert!(max_subject(b"^%s*(.-)%s*$", false).expect("clean") >= 60);
        let log = b"^(%d+)-(%d+)-(%d+) (%d+):(%d+):(%d+) %[(%u+)%] (.*)$";
        assert!(max_subject(log, false).expect("clean") >= 10_000);
        // gmatch reads '^' as a character: unanchored
        assert!(
            max_subject(b"^abc", true).expect("clean") < max_subject(b"^abc", false).expect("x")
        );
        assert_eq!(max_subject(b"(a", false), None);
        assert_eq!(max_subject(&b"a?".repeat(40), false), None);
        // whatever it allows stays within the budget, one byte more would not
        for p in [
            &b"a*"[..],
            b"%a+a",
            b"(.-)x?%1",
            b"[%w_]+",
            b"%b()",
            b".-.-",
        ] {
            let n = max_subject(p, false).expect("clean") as usize;
            let b = bound(p, false).expect("clean");
            assert!(b.steps(n) <= BUDGET, "{p:?}");
            assert!(b.steps(n + 1) > BUDGET, "{p:?}: the longest subject");
        }
    }
}
