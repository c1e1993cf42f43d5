//! `to_yaml`: a value as block YAML, the way Helm's `toYaml` writes Kubernetes manifests:
//! mappings with sorted keys, sequences not indented under their key, two spaces a level, no
//! trailing newline (so `{{ spec | to_yaml | indent(4) }}` nests it). A string is written plain
//! only when YAML 1.1 and 1.2 readers both read it back as that string (`"yes"`, `"1.0"`,
//! `"on"`, `"null"`, `"0x1F"`, a date are quoted); a string of several lines without a final
//! line break is a literal block (`|-`), one with it double-quoted (a block at the end of
//! the output could not keep it); a key longer than YAML's 1024 characters for a simple key
//! is written as an explicit `? key`. Floats keep a `.` and a signed exponent (`1.0e+20`),
//! which YAML 1.1 readers need to see a float.

use std::fmt::Write as _;

use assay_sdk::Value;

/// YAML's limit on a simple (implicit) key.
const MAX_SIMPLE_KEY: usize = 1000;

/// The key before `:`, or nothing when it was written as `? key` above.
fn key_or_nothing(key: &str) -> String {
    if key.chars().count() > MAX_SIMPLE_KEY {
        String::new()
    } else {
        key.to_owned()
    }
}

pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    node(&mut out, value, 0);
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

/// Writes `value` as the rest of a line (a scalar) or as the lines of a block at `indent`.
fn node(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Map(map) if !map.is_empty() => {
            let mut entries: Vec<(String, &Value)> =
                map.iter().map(|(k, v)| (scalar(k), v)).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut first = true;
            for (key, item) in entries {
                if !first {
                    pad(out, indent);
                }
                first = false;
                if key.chars().count() > MAX_SIMPLE_KEY {
                    out.push_str("? ");
                    out.push_str(&key);
                    out.push('\n');
                    pad(out, indent);
                }
                out.push_str(&key_or_nothing(&key));
                out.push(':');
                child(out, item, indent, true);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let mut first = true;
            for item in items.iter() {
                if !first {
                    pad(out, indent);
                }
                first = false;
                out.push('-');
                match item {
                    Value::Map(m) if !m.is_empty() => {
                        out.push(' ');
                        node(out, item, indent + 2);
                    }
                    Value::Array(l) if !l.is_empty() => {
                        out.push(' ');
                        node(out, item, indent + 2);
                    }
                    _ => child(out, item, indent, false),
                }
            }
        }
        Value::Map(_) => out.push_str("{}\n"),
        Value::Array(_) => out.push_str("[]\n"),
        _ => {
            out.push_str(&scalar(value));
            out.push('\n');
        }
    }
}

/// The value after `key:` or `-`: on the same line, or as a block below.
fn child(out: &mut String, value: &Value, indent: usize, in_map: bool) {
    match value {
        Value::Map(m) if !m.is_empty() => {
            out.push('\n');
            pad(out, indent + 2);
            node(out, value, indent + 2);
        }
        Value::Array(l) if !l.is_empty() => {
            // Sequences sit at their key's indentation, as Helm and kubectl write them.
            let at = if in_map { indent } else { indent + 2 };
            out.push('\n');
            pad(out, at);
            node(out, value, at);
        }
        Value::Str(bytes) if bytes.to_str().is_some_and(block_worthy) => {
            out.push_str(" |-\n");
            for line in bytes.to_str().unwrap_or_default().split('\n') {
                if !line.is_empty() {
                    pad(out, indent + 2);
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        Value::Map(_) => out.push_str(" {}\n"),
        Value::Array(_) => out.push_str(" []\n"),
        _ => {
            out.push(' ');
            out.push_str(&scalar(value));
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A multi-line string a literal block can hold as it is (no other control characters, no
/// line starting with a space, which a block's indentation would swallow).
fn block_worthy(text: &str) -> bool {
    text.contains('\n')
        && !text.ends_with('\n')
        && !text.starts_with([' ', '\n', '\t'])
        && !text.chars().any(unprintable)
        && !text.chars().any(|c| c.is_control() && c != '\n')
        && !text.split('\n').any(|l| l.ends_with(' '))
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Nil | Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Float(f) if f.is_nan() => ".nan".to_owned(),
        Value::Float(f) if f.is_infinite() => if *f > 0.0 { ".inf" } else { "-.inf" }.to_owned(),
        Value::Float(f) => {
            let text = format!("{f:?}");
            match text.split_once('e') {
                Some((mantissa, exp)) => {
                    let mantissa = if mantissa.contains('.') {
                        mantissa.to_owned()
                    } else {
                        format!("{mantissa}.0")
                    };
                    let sign = if exp.starts_with('-') { "" } else { "+" };
                    format!("{mantissa}e{sign}{exp}")
                }
                None if text.contains('.') => text,
                None => format!("{text}.0"),
            }
        }
        Value::Str(bytes) => match bytes.to_str() {
            Some(text) if plain(text) => text.to_owned(),
            Some(text) => quoted(text),
            None => quoted(&String::from_utf8_lossy(bytes.as_slice())),
        },
        other => quoted(other.type_name()),
    }
}

/// Whether `text` reads back as this string when written plain.
fn plain(text: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "<<", "=",
    ];
    !text.is_empty()
        && !text.starts_with("---")
        && !text.starts_with("...")
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && !text.chars().any(unprintable)
        && !text.starts_with([
            '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%',
            '@', '`', ' ',
        ])
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.chars().any(char::is_control)
        && !SPECIAL.iter().any(|s| text.eq_ignore_ascii_case(s))
        && !numeric(text)
}

/// Anything a YAML reader might take for a number (ints of any base, floats, `.5`, `1e3`,
/// `1_000`, sexagesimal `1:30`, `.inf`, `.nan`).
fn numeric(text: &str) -> bool {
    let t = text.trim_start_matches(['+', '-']);
    let lower = t.to_ascii_lowercase();
    if matches!(lower.as_str(), ".inf" | ".nan") {
        return true;
    }
    t.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && t.chars()
            .all(|c| c.is_ascii_hexdigit() || "._:xXoOeE+-".contains(c))
}

/// Characters YAML does not allow printed as they are (besides control characters), or
/// that readers take for line breaks or a byte-order mark.
fn unprintable(c: char) -> bool {
    matches!(
        c,
        '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    )
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || unprintable(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_sdk::{List, Map};

    #[test]
    fn manifests() {
        let mut labels = Map::new();
        labels.insert("app", "web");
        labels.insert("version", "1.0");
        let mut port = Map::new();
        port.insert("containerPort", 8080i64 as u64);
        port.insert("name", "http");
        let mut ports = List::new();
        ports.push(Value::Map(port));
        let mut spec = Map::new();
        spec.insert("labels", Value::Map(labels));
        spec.insert("ports", Value::Array(ports));
        spec.insert("enabled", "yes");
        spec.insert("script", "echo a\necho b");
        spec.insert("empty", Value::Map(Map::new()));
        assert_eq!(
            to_yaml(&Value::Map(spec)),
            "empty: {}\nenabled: \"yes\"\nlabels:\n  app: web\n  version: \"1.0\"\nports:\n- \
             containerPort: 8080\n  name: http\nscript: |-\n  echo a\n  echo b"
        );
    }

    #[test]
    fn floats_read_as_floats() {
        assert_eq!(scalar(&Value::Float(1e20)), "1.0e+20");
        assert_eq!(scalar(&Value::Float(1e-7)), "1.0e-7");
        assert_eq!(scalar(&Value::Float(3.0)), "3.0");
        assert_eq!(scalar(&Value::Float(2.5e-9)), "2.5e-9");
    }

    #[test]
    fn scalars_that_need_quotes() {
        for s in [
            "", "on", "No", "~", "0x1F", "1e3", ".5", "- x", "a: b", "a #b", "1:30", "@x",
        ] {
            assert!(scalar(&Value::from(s)).starts_with('"'), "{s}");
        }
        for s in ["web", "nginx:1.25", "a-b", "http://x/y", "v1.2.3x"] {
            assert_eq!(scalar(&Value::from(s)), s, "{s}");
        }
    }
}
