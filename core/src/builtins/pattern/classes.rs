//! Single-character classes as `lstrlib.c` reads them (`singlematch`, `matchbracketclass`,
//! `match_class` with the C locale's `ctype`), and the plain search of `string.find`
//! (`lmemfind`, `nospecials`).

/// Lua's `L_ESC`.
pub const L_ESC: u8 = b'%';
const SPECIALS: &[u8] = b"^$*+?.([%-";

/// The pattern byte at `i`, 0 past the end (C's terminating NUL).
#[inline(always)]
fn at(pat: &[u8], i: usize) -> u8 {
    pat.get(i).copied().unwrap_or(0)
}

/// Whether `c` matches the single-character class `p..ep` of `pat` (Lua's `singlematch`
/// once it has a byte).
#[inline(always)]
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
pub fn bracket_class(pat: &[u8], c: u8, mut p: usize, ec: usize) -> bool {
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
pub static CLASSES: [u16; 256] = {
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
pub fn class_bit(cl: u8) -> Option<u16> {
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
