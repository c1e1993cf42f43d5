//! A short, readable rendering of any Lua value, for assertion messages and the REPL:
//! strings quoted, tables as `{1, 2, a = "x"}` with sorted keys, long output cut with `...`.

use super::args::type_name;
use mlua::{Table, Value};

use super::codec::is_null;

const MAX_DEPTH: usize = 4;
const MAX_ITEMS: usize = 20;
const MAX_LEN: usize = 400;
/// Entries of one table looked at for its keys: enough to sort what is shown, bounded so a
/// million-key table costs no more than a small one.
const MAX_SCAN: usize = 256;

pub fn inspect(value: &Value) -> String {
    let mut writer = Writer {
        seen: Vec::new(),
        spent: 0,
    };
    let mut out = String::new();
    writer.value(&mut out, value, 0);
    if out.len() > MAX_LEN {
        let mut cut = MAX_LEN;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

/// One rendering: the tables on the current path (cycles), and a running count of what has
/// been written, so the work stops once the text is long enough to be cut anyway.
struct Writer {
    seen: Vec<*const std::ffi::c_void>,
    spent: usize,
}

impl Writer {
    fn value(&mut self, out: &mut String, value: &Value, depth: usize) {
        let before = out.len();
        match value {
            Value::Nil => out.push_str("nil"),
            Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Integer(i) => out.push_str(&i.to_string()),
            Value::Number(n) => out.push_str(&format_float(*n)),
            // Only what can be shown: a 100 MB string is cut before it is copied.
            Value::String(s) => {
                let bytes = s.as_bytes();
                let shown = &bytes[..bytes.len().min(MAX_LEN)];
                out.push_str(&format!("{:?}", String::from_utf8_lossy(shown)));
            }
            v if is_null(v) => out.push_str("json.null"),
            Value::Table(t) => self.table(out, t, depth),
            other => out.push_str(&format!("{}: {:p}", type_name(other), other.to_pointer())),
        }
        self.spent += out.len().saturating_sub(before);
    }

    fn table(&mut self, out: &mut String, table: &Table, depth: usize) {
        let pointer = table.to_pointer();
        if self.seen.contains(&pointer) {
            out.push_str("<cycle>");
            return;
        }
        if depth >= MAX_DEPTH || self.spent > MAX_LEN {
            out.push_str("{...}");
            return;
        }
        self.spent += 2;
        self.seen.push(pointer);
        let len = table.raw_len();
        let mut items: Vec<String> = Vec::new();
        for i in 1..=len.min(MAX_ITEMS) {
            let mut item = String::new();
            self.value(
                &mut item,
                &table.raw_get(i).unwrap_or(Value::Nil),
                depth + 1,
            );
            items.push(item);
        }
        let mut named: Vec<(String, Value)> = Vec::new();
        let mut more = len > MAX_ITEMS;
        for (key, value) in table.pairs::<Value, Value>().flatten() {
            if let Value::Integer(i) = key
                && i >= 1
                && (i as usize) <= len
            {
                continue;
            }
            if named.len() >= MAX_SCAN {
                more = true;
                break;
            }
            let key_text = match &key {
                Value::String(s) if is_identifier(&s.to_string_lossy()) => s.to_string_lossy(),
                other => {
                    let mut k = String::new();
                    self.value(&mut k, other, MAX_DEPTH);
                    format!("[{k}]")
                }
            };
            named.push((key_text, value));
        }
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let room = MAX_ITEMS.saturating_sub(items.len());
        if named.len() > room {
            more = true;
        }
        for (key, value) in named.into_iter().take(room) {
            let mut v = String::new();
            self.value(&mut v, &value, depth + 1);
            items.push(format!("{key} = {v}"));
        }
        self.seen.pop();
        out.push('{');
        out.push_str(&items.join(", "));
        if more {
            out.push_str(", ...");
        }
        out.push('}');
    }
}

/// Floats as Lua prints them: `1.0`, `0.5`, `1e+100`, `inf`, `nan`.
pub fn format_float(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let magnitude = n.abs();
    if n.fract() == 0.0 && magnitude < 1e16 {
        format!("{n:.1}")
    } else if magnitude >= 1e16 || (magnitude < 1e-4 && magnitude > 0.0) {
        // Shortest digits, with Lua's exponent form (`1e+300`, not 300 digits).
        let text = format!("{n:e}");
        match text.split_once('e') {
            Some((digits, exp)) if !exp.starts_with('-') => format!("{digits}e+{exp}"),
            _ => text,
        }
    } else {
        format!("{n}")
    }
}

fn is_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
