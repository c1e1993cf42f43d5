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
use minijinja::value::{Kwargs, Value as Jv, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State};

use crate::values;

pub fn add_builtin(env: &mut Environment<'static>) {
    minijinja_contrib::add_to_environment(env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
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

/// How a value prints: `None` for none (Python's), escaped as MarkupSafe escapes under
/// autoescaping.
fn format(out: &mut Output<'_>, state: &mut State<'_, '_>, value: &Jv) -> Result<(), Error> {
    let text = if value.is_none() {
        "None".to_owned()
    } else if value.is_undefined() {
        String::new()
    } else {
        value.to_string()
    };
    let escape = matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe();
    let text = if escape { markupsafe(&text) } else { text };
    out.write_str(&text)
        .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
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
        ValueKind::String => {
            let text = value.as_str().unwrap_or_default().trim().replace('_', "");
            match base {
                Some(b) if b != 10 => {
                    let digits = text
                        .trim_start_matches("0x")
                        .trim_start_matches("0o")
                        .trim_start_matches("0b");
                    i64::from_str_radix(digits, b).map_or(default, Jv::from)
                }
                _ => match text.parse::<i64>() {
                    Ok(n) => Jv::from(n),
                    Err(_) => text
                        .parse::<f64>()
                        .map_or(default, |f| Jv::from(f.trunc() as i64)),
                },
            }
        }
        _ => default,
    })
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

/// Python's `str.center`: the odd space goes where Python puts it.
fn center(value: &str, width: usize) -> String {
    let len = value.chars().count();
    if width <= len {
        return value.to_owned();
    }
    let margin = width - len;
    let left = margin / 2 + (margin & width & 1);
    format!("{}{value}{}", " ".repeat(left), " ".repeat(margin - left))
}
