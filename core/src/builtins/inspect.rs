//! A short, readable rendering of any Lua value, for assertion messages and the REPL:
//! strings quoted, tables as `{1, 2, a = "x"}` with sorted keys, long output cut with `...`.

use super::args::type_name;
use mlua::{Table, Value};

use super::codec::is_null;

const MAX_DEPTH: usize = 4;
const MAX_ITEMS: usize = 20;
const MAX_LEN: usize = 400;

pub fn inspect(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0, &mut Vec::new());
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

fn write_value(
    out: &mut String,
    value: &Value,
    depth: usize,
    seen: &mut Vec<*const std::ffi::c_void>,
) {
    match value {
        Value::Nil => out.push_str("nil"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(i) => out.push_str(&i.to_string()),
        Value::Number(n) => out.push_str(&format_float(*n)),
        Value::String(s) => out.push_str(&format!("{:?}", s.to_string_lossy())),
        v if is_null(v) => out.push_str("json.null"),
        Value::Table(t) => write_table(out, t, depth, seen),
        other => out.push_str(&format!("{}: {:p}", type_name(other), other.to_pointer())),
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
    if n.fract() == 0.0 && n.abs() < 1e16 {
        format!("{n:.1}")
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

fn write_table(
    out: &mut String,
    table: &Table,
    depth: usize,
    seen: &mut Vec<*const std::ffi::c_void>,
) {
    let pointer = table.to_pointer();
    if seen.contains(&pointer) {
        out.push_str("<cycle>");
        return;
    }
    if depth >= MAX_DEPTH {
        out.push_str("{...}");
        return;
    }
    seen.push(pointer);
    let len = table.raw_len();
    let mut items: Vec<String> = Vec::new();
    for i in 1..=len.min(MAX_ITEMS) {
        let mut item = String::new();
        write_value(
            &mut item,
            &table.raw_get(i).unwrap_or(Value::Nil),
            depth + 1,
            seen,
        );
        items.push(item);
    }
    let mut named: Vec<(String, String)> = Vec::new();
    for (key, value) in table.pairs::<Value, Value>().flatten() {
        if let Value::Integer(i) = key
            && i >= 1
            && (i as usize) <= len
        {
            continue;
        }
        let key_text = match &key {
            Value::String(s) if is_identifier(&s.to_string_lossy()) => s.to_string_lossy(),
            other => {
                let mut k = String::new();
                write_value(&mut k, other, MAX_DEPTH, seen);
                format!("[{k}]")
            }
        };
        let mut v = String::new();
        write_value(&mut v, &value, depth + 1, seen);
        named.push((key_text, v));
    }
    seen.pop();
    named.sort();
    let total = len + named.len();
    items.extend(named.into_iter().map(|(k, v)| format!("{k} = {v}")));
    items.truncate(MAX_ITEMS);
    out.push('{');
    out.push_str(&items.join(", "));
    if total > MAX_ITEMS {
        out.push_str(", ...");
    }
    out.push('}');
}
