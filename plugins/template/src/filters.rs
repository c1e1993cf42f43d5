//! Filters beyond minijinja's builtins, and where minijinja's differ from Jinja2's, Jinja2's:
//!
//! - Jinja2's: `int` and `float` give their default (0) for what is not a number instead of
//!   failing; `center`; `escape`/`e` and autoescaping escape as MarkupSafe does (`&<>"'` as
//!   `&amp; &lt; &gt; &#34; &#39;`, `/` left alone); `none` prints `None`; Python's methods
//!   (`d.items()`, `s.startswith(...)`) and minijinja-contrib's `truncate`, `striptags`,
//!   `pluralize`, `filesizeformat`, `cycler`, `joiner`.
//! - Ours: `b64encode`/`b64decode` (as Ansible and Salt have), `to_yaml` (Helm's `toYaml`)
//!   and `to_json` (compact JSON without the HTML escaping of `tojson`, for manifests).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use minijinja::value::{Kwargs, Rest, Value as Jv, ValueKind, ValueOrKwargs};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State};

use crate::values;

pub fn add_builtin(env: &mut Environment<'static>) {
    minijinja_contrib::add_to_environment(env);
    env.set_unknown_method_callback(|state, value, method, args| {
        if method == "format" {
            refuse_huge_width(value.as_str().unwrap_or_default())?;
        }
        minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
    });
    env.add_filter(
        "format",
        |state: &mut State<'_, '_>, spec: &Jv, args: Rest<ValueOrKwargs>| {
            refuse_huge_width(spec.as_str().unwrap_or_default())?;
            minijinja::filters::format(state, spec, args)
        },
    );
    env.add_filter("indent", indent);
    // Jinja2 takes these arguments by position too.
    env.add_filter(
        "truncate",
        |state: &mut State<'_, '_>, value: &Jv, args: Rest<Jv>, kwargs: Kwargs| {
            let names = ["length", "killwords", "end", "leeway"];
            minijinja_contrib::filters::truncate(state, value, positional(&names, &args, kwargs)?)
        },
    );
    env.add_filter("dictsort", |value: &Jv, args: Rest<Jv>, kwargs: Kwargs| {
        let names = ["case_sensitive", "by", "reverse"];
        minijinja::filters::dictsort(value, positional(&names, &args, kwargs)?)
    });
    env.add_filter("forceescape", |value: &Jv| {
        Jv::from_safe_string(markupsafe(&value.to_string()))
    });
    env.set_formatter(format);
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("int", int);
    env.add_filter("float", float);
    env.add_filter("center", |value: &str, width: Option<usize>| {
        center(value, width.unwrap_or(80))
    });
    env.add_filter("b64encode", |value: Jv| -> Result<String, Error> {
        let bytes = match (value.as_str(), value.as_bytes()) {
            (Some(s), _) => s.as_bytes().to_vec(),
            (None, Some(b)) => b.to_vec(),
            _ => value.to_string().into_bytes(),
        };
        Ok(STANDARD.encode(bytes))
    });
    env.add_filter("b64decode", |value: &str| -> Result<String, Error> {
        let bytes = STANDARD.decode(value.trim()).map_err(|e| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("b64decode: not base64 ({e})"),
            )
        })?;
        String::from_utf8(bytes).map_err(|_| {
            Error::new(
                ErrorKind::InvalidOperation,
                "b64decode: the decoded bytes are not text",
            )
        })
    });
    env.add_filter("to_yaml", |value: Jv| -> Result<String, Error> {
        Ok(crate::yaml::to_yaml(&values::to_lua(&value)?))
    });
    env.add_filter("to_json", |value: Jv| -> Result<String, Error> {
        let bytes = assay_sdk::json::encode(&values::to_lua(&value)?)
            .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("to_json: {e}")))?;
        String::from_utf8(bytes)
            .map_err(|_| Error::new(ErrorKind::InvalidOperation, "to_json: not UTF-8"))
    });
}

/// MarkupSafe's escaping (what Jinja2 prints): `&<>"'`, nothing else.
fn markupsafe(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How a value prints: `None` for none (Python's), floats as Python's `repr`, escaped as
/// MarkupSafe escapes under autoescaping. Strings are written (and escaped) where they are,
/// without a copy: this runs for every `{{ }}`.
fn format(out: &mut Output<'_>, state: &mut State<'_, '_>, value: &Jv) -> Result<(), Error> {
    let escape = matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe();
    let failed = |e: std::fmt::Error| Error::new(ErrorKind::WriteFailure, e.to_string());
    if let Some(text) = value.as_str().filter(|_| value.kind() == ValueKind::String) {
        return if escape {
            write_escaped(out, text)
        } else {
            out.write_str(text)
        }
        .map_err(failed);
    }
    let text = if value.is_none() {
        "None".to_owned()
    } else if value.is_undefined() {
        return Ok(());
    } else if value.kind() == ValueKind::Number && !value.is_integer() {
        f64::try_from(value.clone()).map_or_else(|_| value.to_string(), python_float)
    } else {
        value.to_string()
    };
    if escape {
        write_escaped(out, &text)
    } else {
        out.write_str(&text)
    }
    .map_err(failed)
}

/// MarkupSafe's escaping, written out in runs between the characters it replaces.
fn write_escaped(out: &mut Output<'_>, text: &str) -> std::fmt::Result {
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&#34;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[start..i])?;
        out.write_str(entity)?;
        start = i + 1;
    }
    out.write_str(&text[start..])
}

fn escape(value: &Jv) -> Jv {
    if value.is_safe() {
        return value.clone();
    }
    let text = if value.is_none() {
        "None".to_owned()
    } else {
        value.to_string()
    };
    Jv::from_safe_string(markupsafe(&text))
}

/// Jinja2's `int(value, default=0, base=10)`: a number, a string of one, else the default.
fn int(value: &Jv, default: Option<Jv>, kwargs: Kwargs) -> Result<Jv, Error> {
    let base: Option<u32> = kwargs.get("base")?;
    let default = match kwargs.get::<Option<Jv>>("default")? {
        Some(d) => d,
        None => default.unwrap_or(Jv::from(0)),
    };
    kwargs.assert_all_used()?;
    Ok(match value.kind() {
        ValueKind::Number | ValueKind::Bool => match i64::try_from(value.clone()) {
            Ok(n) => Jv::from(n),
            Err(_) => f64::try_from(value.clone()).map_or(default, |f| Jv::from(f.trunc() as i64)),
        },
        ValueKind::String => python_int(value.as_str().unwrap_or_default(), base.unwrap_or(10))
            .map_or(default, Jv::from),
        _ => default,
    })
}

/// Python's `int(text, base)` for what fits in 64 bits (base 0: by the prefix; `0x`, `0o`,
/// `0b` allowed for their bases; `_` between digits), then `float(text)` truncated for base 10
/// (Jinja2 tries that next); `None` where Python raises, or past 64 bits.
fn python_int(text: &str, base: u32) -> Option<i64> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = digits.to_ascii_lowercase();
    let prefixed = |p: &str| lower.strip_prefix(p).map(str::to_owned);
    let (base, body) = match base {
        0 => match (prefixed("0x"), prefixed("0o"), prefixed("0b")) {
            (Some(b), _, _) => (16, b),
            (_, Some(b), _) => (8, b),
            (_, _, Some(b)) => (2, b),
            _ => (10, lower.clone()),
        },
        16 => (16, prefixed("0x").unwrap_or_else(|| lower.clone())),
        8 => (8, prefixed("0o").unwrap_or_else(|| lower.clone())),
        2 => (2, prefixed("0b").unwrap_or_else(|| lower.clone())),
        b @ 2..=36 => (b, lower.clone()),
        _ => return None,
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let clean = body.replace('_', "");
    let parsed = i64::from_str_radix(&clean, base)
        .ok()
        .map(|n| if negative { -n } else { n });
    if parsed.is_some() || base != 10 {
        return parsed;
    }
    let f: f64 = t.parse().ok()?;
    (f.is_finite() && f.abs() < 9.2e18).then(|| f.trunc() as i64)
}

/// Jinja2's `float(value, default=0.0)`.
fn float(value: &Jv, default: Option<Jv>) -> Jv {
    let default = default.unwrap_or(Jv::from(0.0));
    match value.kind() {
        ValueKind::Number | ValueKind::Bool => {
            f64::try_from(value.clone()).map_or(default, Jv::from)
        }
        ValueKind::String => value
            .as_str()
            .unwrap_or_default()
            .trim()
            .parse::<f64>()
            .map_or(default, Jv::from),
        _ => default,
    }
}

/// Keyword arguments from positional ones (named in order by `names`) and the keywords given.
fn positional(names: &[&str], args: &[Jv], kwargs: Kwargs) -> Result<Kwargs, Error> {
    if args.len() > names.len() {
        return Err(Error::new(
            ErrorKind::TooManyArguments,
            format!("at most {} arguments", names.len()),
        ));
    }
    let mut all: Vec<(&str, Jv)> = names.iter().copied().zip(args.iter().cloned()).collect();
    for key in kwargs.args() {
        if all.iter().any(|(k, _)| *k == key) {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("'{key}' given twice"),
            ));
        }
        let name = names.iter().copied().find(|n| *n == key).ok_or_else(|| {
            Error::new(
                ErrorKind::TooManyArguments,
                format!("unknown argument '{key}'"),
            )
        })?;
        all.push((name, kwargs.get::<Jv>(key)?));
    }
    Ok(all.into_iter().collect())
}

/// Widths past this are refused: the padding would be allocated at once, and an allocation
/// that fails ends the process (a width from data must not).
const MAX_WIDTH: usize = 1 << 20;

fn too_wide(width: usize) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("a width of {width} is more than {MAX_WIDTH}"),
    )
}

/// A format string (printf-style or `str.format`) whose width or precision has 7 digits or
/// more is refused, for the same reason.
fn refuse_huge_width(spec: &str) -> Result<(), Error> {
    let bytes = spec.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        i += 1;
        if c != b'%' && c != b':' {
            continue;
        }
        while i < bytes.len() && b"-+ #0<>^=._,".contains(&bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i - start >= 7 {
            return Err(too_wide(spec[start..i].parse().unwrap_or(usize::MAX)));
        }
    }
    Ok(())
}

/// Jinja2's `indent(width=4, first=False, blank=False)`: `width` may be the text to indent
/// with; lines are split as Python's `splitlines` splits them at `\n`, `\r\n` and `\r`.
fn indent(
    value: &Jv,
    width: Option<Jv>,
    first: Option<bool>,
    blank: Option<bool>,
) -> Result<Jv, Error> {
    let indention = match &width {
        Some(w) if w.as_str().is_some() => w.as_str().unwrap_or_default().to_owned(),
        Some(w) => {
            let n = usize::try_from(w.clone()).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    "indent: the width is a number or a string",
                )
            })?;
            if n > MAX_WIDTH {
                return Err(too_wide(n));
            }
            " ".repeat(n)
        }
        None => "    ".to_owned(),
    };
    let text = value.to_string();
    let lines: Vec<&str> = text.split('\n').flat_map(|l| l.split('\r')).collect();
    let lines = if text.ends_with(['\n', '\r']) {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    };
    let mut out = String::with_capacity(text.len() + lines.len() * indention.len());
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            if blank.unwrap_or(false) || !line.is_empty() {
                out.push_str(&indention);
            }
        } else if first.unwrap_or(false) {
            out.push_str(&indention);
        }
        out.push_str(line);
    }
    Ok(if value.is_safe() {
        Jv::from_safe_string(out)
    } else {
        Jv::from(out)
    })
}

/// Python's `str.center`: the odd space goes where Python puts it.
fn center(value: &str, width: usize) -> Result<String, Error> {
    if width > MAX_WIDTH {
        return Err(too_wide(width));
    }
    let len = value.chars().count();
    if width <= len {
        return Ok(value.to_owned());
    }
    let margin = width - len;
    let left = margin / 2 + (margin & width & 1);
    Ok(format!(
        "{}{value}{}",
        " ".repeat(left),
        " ".repeat(margin - left)
    ))
}

/// A float as Python prints it (`repr`): the shortest digits, in exponent form below 1e-4 and
/// from 1e16 (`1e+20`, `1e-07`), `nan`, `inf`, and `.0` on integral values.
fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let mantissa = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        format!(
            "{sign}{mantissa}e{}{:02}",
            if exp < 0 { "-" } else { "+" },
            exp.abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_prints_them() {
        for (f, want) in [
            (1e20, "1e+20"),
            (1e-7, "1e-07"),
            (1.5, "1.5"),
            (3.0, "3.0"),
            (0.0001, "0.0001"),
            (123456789012345.6, "123456789012345.6"),
            (1e16, "1e+16"),
            (-2.5e-5, "-2.5e-05"),
            (f64::NAN, "nan"),
            (0.1, "0.1"),
        ] {
            assert_eq!(python_float(f), want, "{f}");
        }
    }

    #[test]
    fn ints_parse_as_python_parses_them() {
        assert_eq!(python_int("0b101", 16), Some(0xb101));
        assert_eq!(python_int("-0x1F", 16), Some(-31));
        assert_eq!(python_int("0o17", 0), Some(15));
        assert_eq!(python_int("1_000", 10), Some(1000));
        assert_eq!(python_int("4.7", 10), Some(4));
        assert_eq!(python_int("x", 10), None);
        assert_eq!(python_int("12", 1), None);
        assert_eq!(python_int("12", 37), None);
        assert_eq!(python_int("99999999999999999999", 10), None);
    }

    #[test]
    fn huge_widths_are_refused() {
        assert!(refuse_huge_width("{:>999999999999}").is_err());
        assert!(refuse_huge_width("%9999999d").is_err());
        assert!(refuse_huge_width("{:>10} %5d").is_ok());
        assert!(center("x", usize::MAX).is_err());
    }
}
