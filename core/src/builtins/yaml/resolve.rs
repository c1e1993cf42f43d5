//! What a plain (unquoted, untagged) scalar means: the rules of gopkg.in/yaml.v2, the decoder
//! under `sigs.k8s.io/yaml` and so under every Kubernetes manifest, so a script reads a
//! manifest as the cluster will. Its answers for a corpus of 142 scalars are recorded in
//! `tests/conformance/yaml-reference/` and checked against this module.
//!
//! - null: the empty scalar, `~`, `null`, `Null`, `NULL`;
//! - booleans (YAML 1.1): `y Y yes Yes YES on On ON true True TRUE` and `n N no No NO off Off
//!   OFF false False FALSE`, those spellings only;
//! - infinities and NaN: `.inf .Inf .INF` (signed with `+` or `-`), `.nan .NaN .NAN`;
//! - integers: after every `_` is removed, Go's `strconv.ParseInt(s, 0, 64)`: an optional
//!   sign, then decimal, `0x`/`0o`/`0b` (either case) prefixes, or a leading `0` for octal
//!   (`0644` is 420, as a `defaultMode` means it);
//! - floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` once underscores are gone
//!   (`1e3`, `1.`, `.5`; `08` is 8.0, not an octal); a float too large for a double stays a
//!   string, as in Go;
//! - everything else is a string: timestamps (yaml.v2 hands them to untyped values as their
//!   text), versions like `1.2.3`, sexagesimal `12:30`, `inf`, `nan`.
//!
//! The one difference: Lua integers are 64-bit signed, so an integer between 2^63 and 2^64
//! (yaml.v2's `uint64`) or beyond becomes the nearest float, as in `json.parse`.

/// A plain scalar's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// The text itself.
    Str,
}

/// Resolves a plain scalar.
pub fn plain(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Resolved::Bool(false)
        }
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        _ => match text.as_bytes()[0] {
            b'0'..=b'9' | b'+' | b'-' => number(text),
            // Go's ParseFloat on the text as it is (no underscores removed).
            b'.' if float_syntax(text) => finite(text),
            _ => Resolved::Str,
        },
    }
}

/// Text starting with a digit or a sign.
fn number(text: &str) -> Resolved {
    let plain = text.replace('_', "");
    if let Some(n) = go_int(&plain) {
        return Resolved::Int(n);
    }
    if let Some(n) = go_uint(&plain) {
        return Resolved::Float(n as f64);
    }
    if float_syntax(&plain) {
        return finite(&plain);
    }
    // yaml.v2's own binary fallback: a sign may follow a lowercase `0b`.
    if let Some(digits) = plain.strip_prefix("0b") {
        if let Some(n) = signed(digits, 2) {
            return Resolved::Int(n);
        }
        if let Some(n) = unsigned(digits, 2) {
            return Resolved::Float(n as f64);
        }
    }
    Resolved::Str
}

/// A float of YAML's syntax, unless it overflows (Go's ParseFloat refuses that).
fn finite(text: &str) -> Resolved {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Resolved::Float(f),
        _ => Resolved::Str,
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn float_syntax(text: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let s = text.strip_prefix(['+', '-']).unwrap_or(text);
    let rest = if let Some(fraction) = s.strip_prefix('.') {
        let n = digits(fraction);
        if n == 0 {
            return false;
        }
        &fraction[n..]
    } else {
        let n = digits(s);
        if n == 0 {
            return false;
        }
        match s[n..].strip_prefix('.') {
            Some(fraction) => &fraction[digits(fraction)..],
            None => &s[n..],
        }
    };
    match rest.strip_prefix(['e', 'E']) {
        None => rest.is_empty(),
        Some(exponent) => {
            let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            !exponent.is_empty() && digits(exponent) == exponent.len()
        }
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn go_int(s: &str) -> Option<i64> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = go_uint(body)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: no sign; a base prefix, or a leading 0 for octal.
fn go_uint(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    let (radix, digits) = match bytes {
        [] => return None,
        [b'0', prefix, _, ..] if matches!(prefix.to_ascii_lowercase(), b'b' | b'o' | b'x') => {
            let radix = match prefix.to_ascii_lowercase() {
                b'b' => 2,
                b'o' => 8,
                _ => 16,
            };
            (radix, &s[2..])
        }
        // "0" alone is 0 in base 8 with no digits left, as Go reads it.
        [b'0', ..] => (8, &s[1..]),
        _ => (10, s),
    };
    if digits.is_empty() {
        return (radix == 8).then_some(0);
    }
    unsigned(digits, radix)
}

/// Digits only (no sign, no prefix) in `radix`, within u64.
fn unsigned(digits: &str, radix: u32) -> Option<u64> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Go's `strconv.ParseInt(s, radix, 64)`: an optional sign, then digits.
fn signed(s: &str, radix: u32) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = unsigned(digits, radix)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// What a scalar with an explicit core tag (`!!int 10`) means; `None` when the text is not
/// one (`!!int abc`), which is an error.
pub fn tagged(suffix: &str, text: &str) -> Option<Resolved> {
    match suffix {
        "str" | "timestamp" => Some(Resolved::Str),
        "null" => matches!(plain(text), Resolved::Null).then_some(Resolved::Null),
        "bool" => matches!(plain(text), Resolved::Bool(_)).then(|| plain(text)),
        "int" => match plain(text) {
            Resolved::Int(n) => Some(Resolved::Int(n)),
            Resolved::Float(f) if text.bytes().all(|b| b.is_ascii_digit()) => {
                Some(Resolved::Float(f))
            }
            _ => None,
        },
        "float" => match plain(text) {
            Resolved::Int(n) => Some(Resolved::Float(n as f64)),
            Resolved::Float(f) => Some(Resolved::Float(f)),
            _ => None,
        },
        _ => Some(Resolved::Str),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_parse_int_rules() {
        assert_eq!(plain("0644"), Resolved::Int(420));
        assert_eq!(plain("0"), Resolved::Int(0));
        assert_eq!(plain("-0"), Resolved::Int(0));
        assert_eq!(plain("0x1F"), Resolved::Int(31));
        assert_eq!(plain("0o17"), Resolved::Int(15));
        assert_eq!(plain("0B101"), Resolved::Int(5));
        assert_eq!(plain("-0x10"), Resolved::Int(-16));
        assert_eq!(plain("1_000"), Resolved::Int(1000));
        assert_eq!(plain("0b-101"), Resolved::Int(-5));
        assert_eq!(plain("08"), Resolved::Float(8.0));
        assert_eq!(plain("0x"), Resolved::Str);
        assert_eq!(plain("-9223372036854775808"), Resolved::Int(i64::MIN));
        assert_eq!(
            plain("9223372036854775808"),
            Resolved::Float(9_223_372_036_854_775_808.0)
        );
        assert_eq!(plain("0x10000000000000000"), Resolved::Str);
    }

    #[test]
    fn floats_and_strings() {
        assert_eq!(plain("1e3"), Resolved::Float(1000.0));
        assert_eq!(plain("1."), Resolved::Float(1.0));
        assert_eq!(plain("-.5"), Resolved::Float(-0.5));
        assert_eq!(plain("1e400"), Resolved::Str);
        assert_eq!(plain("1.2.3"), Resolved::Str);
        assert_eq!(plain("12:30"), Resolved::Str);
        assert_eq!(plain("2001-12-14"), Resolved::Str);
        assert_eq!(plain("e3"), Resolved::Str);
        assert_eq!(plain("1e"), Resolved::Str);
        assert!(matches!(plain(".NaN"), Resolved::Float(f) if f.is_nan()));
        assert_eq!(plain("inf"), Resolved::Str);
    }
}
