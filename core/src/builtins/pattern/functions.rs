//! The four functions, as `lstrlib.c` writes them (`str_find_aux`, `gmatch`, `str_gsub`,
//! `add_value`, `add_s`), on top of the matcher in `engine.rs`. Each takes its arguments and
//! returns its results (or error) in the form of the raw functions of `mod.rs`: results
//! start with `true` (see [`check::results`]).

use std::cell::Cell;
use std::rc::Rc;

use mlua::{Function, Integer, Lua, LuaString, MultiValue, Table, Value};

use super::check::{self, Params};
use super::classes;
use super::engine::{Capture, Matcher};
use super::{MEMORY_CHECK_EVERY, Shared};
use crate::builtins::function::{BuiltinResult, INTERNAL_CHUNK, Raise};

/// The pattern without its `^` anchor, and whether it had one.
fn split_anchor(pattern: &[u8]) -> (bool, &[u8]) {
    match pattern.split_first() {
        Some((b'^', rest)) => (true, rest),
        _ => (false, pattern),
    }
}

fn capture_value(lua: &Lua, src: &[u8], capture: Capture) -> mlua::Result<Value> {
    Ok(match capture {
        Capture::Range(start, end) => Value::String(lua.create_string(&src[start..end])?),
        Capture::Position(pos) => Value::Integer(pos as Integer),
    })
}

/// Lua's `push_captures`: every capture, or the whole match `whole` when there is none.
fn push_captures(
    lua: &Lua,
    m: &Matcher,
    src: &[u8],
    whole: Option<(usize, usize)>,
    out: &mut Vec<Value>,
) -> BuiltinResult<()> {
    let n = if m.level() == 0 && whole.is_some() {
        1
    } else {
        m.level()
    };
    let (start, end) = whole.unwrap_or((0, 0));
    for i in 0..n {
        let capture = m.capture(i, start, end).map_err(check::stopped)?;
        out.push(capture_value(lua, src, capture)?);
    }
    Ok(())
}

/// `string.find` (`find`) and `string.match`.
pub(super) fn find_aux(
    lua: &Lua,
    shared: &Shared,
    params: &mut Params,
    find: bool,
) -> BuiltinResult<Vec<Value>> {
    let fname = if find { "find" } else { "match" };
    let subject = check::string(lua, params, 1, fname)?;
    let pattern = check::string(lua, params, 2, fname)?;
    let (src, pat) = (subject.as_bytes(), pattern.as_bytes());
    let init = check::start_position(check::opt_integer(lua, params, 3, fname, 1)?, src.len()) - 1;
    if init > src.len() {
        return Ok(check::fail_result()); // start after the string's end
    }
    let mut out = check::results();
    if find && (check::truthy(&params.take(4)) || classes::no_specials(&pat)) {
        if let Some(i) = classes::find_plain(&src[init..], &pat) {
            let start = init + i;
            out.push(Value::Integer(start as Integer + 1));
            out.push(Value::Integer((start + pat.len()) as Integer));
            return Ok(out);
        }
    } else {
        let (anchor, pat) = split_anchor(&pat);
        let mut m = Matcher::new(&src, pat, &*shared.interrupt);
        let mut start = init;
        loop {
            if let Some(end) = m.try_at(start).map_err(check::stopped)? {
                if find {
                    out.push(Value::Integer(start as Integer + 1));
                    out.push(Value::Integer(end as Integer));
                    push_captures(lua, &m, &src, None, &mut out)?;
                } else {
                    push_captures(lua, &m, &src, Some((start, end)), &mut out)?;
                }
                return Ok(out);
            }
            if start >= src.len() || anchor {
                break;
            }
            start += 1;
        }
    }
    Ok(check::fail_result())
}

/// `string.gmatch(s, pattern [, init])`: an iterator over the matches. Like Lua's, it keeps
/// the end of the last match so that an empty match right after it does not count, and a
/// `^` in the pattern is an ordinary character.
pub(super) fn gmatch(
    lua: &Lua,
    shared: &Rc<Shared>,
    params: &mut Params,
) -> BuiltinResult<Vec<Value>> {
    let subject = check::string(lua, params, 1, "gmatch")?.as_bytes();
    let pattern = check::string(lua, params, 2, "gmatch")?.as_bytes();
    let len = subject.len();
    let init = check::start_position(check::opt_integer(lua, params, 3, "gmatch", 1)?, len) - 1;
    let next = Cell::new(init.min(len + 1));
    let last_match: Cell<Option<usize>> = Cell::new(None);
    let interrupt = shared.interrupt.clone();
    let raw = lua.create_function(move |lua, ()| {
        crate::vm::ensure_open()?;
        let (src, pat): (&[u8], &[u8]) = (&subject, &pattern);
        let mut m = Matcher::new(src, pat, &*interrupt);
        let mut found = || -> BuiltinResult<Vec<Value>> {
            for start in next.get()..=src.len() {
                match m.try_at(start).map_err(check::stopped)? {
                    Some(end) if Some(end) != last_match.get() => {
                        next.set(end);
                        last_match.set(Some(end));
                        let mut out = check::results();
                        push_captures(lua, &m, src, Some((start, end)), &mut out)?;
                        return Ok(out);
                    }
                    _ => {}
                }
            }
            Ok(check::results()) // not found: nothing after the `true`
        };
        check::deliver(lua, found())
    })?;
    let wrap = shared
        .wrap
        .get()
        .ok_or_else(|| mlua::Error::runtime("gmatch: the pattern functions are not set up"))?;
    let iterator: Function = wrap.call(raw)?;
    Ok(vec![Value::Boolean(true), Value::Function(iterator)])
}

/// What `gsub` replaces matches with.
enum Replacement {
    Text(LuaString),
    /// A table, and whether it has a metatable (`__index` runs under `pcall`).
    Table(Table, bool),
    Function(Function),
}

/// `string.gsub(s, pattern, repl [, n])`: the new string and the number of matches.
pub(super) fn gsub(
    lua: &Lua,
    shared: &Rc<Shared>,
    params: &mut Params,
) -> BuiltinResult<Vec<Value>> {
    let subject = check::string(lua, params, 1, "gsub")?;
    let pattern = check::string(lua, params, 2, "gsub")?;
    let src = subject.as_bytes();
    let max = check::opt_integer(lua, params, 4, "gsub", src.len() as Integer + 1)?;
    let repl = match params.take(3) {
        Value::String(s) => Replacement::Text(s),
        v @ (Value::Integer(_) | Value::Number(_)) => match lua.coerce_string(v.clone())? {
            Some(s) => Replacement::Text(s),
            None => return Err(check::type_error(lua, params, 3, "gsub", "string", &v)),
        },
        Value::Table(t) => {
            let meta = t.metatable().is_some();
            Replacement::Table(t, meta)
        }
        Value::Function(f) => Replacement::Function(f),
        v => {
            let expected = "string/function/table";
            return Err(check::type_error(lua, params, 3, "gsub", expected, &v));
        }
    };
    let pat_bytes = pattern.as_bytes();
    let (anchor, pat) = split_anchor(&pat_bytes);
    let mut m = Matcher::new(&src, pat, &*shared.interrupt);
    let mut out: Vec<u8> = Vec::new();
    let mut checked = 0usize;
    let (mut pos, mut last_match, mut n, mut changed) = (0usize, None, 0 as Integer, false);
    while n < max {
        match m.try_at(pos).map_err(check::stopped)? {
            Some(end) if Some(end) != last_match => {
                n += 1;
                changed |= add_value(lua, shared, &m, &src, (pos, end), &repl, &mut out)?;
                pos = end;
                last_match = Some(end);
            }
            _ if pos < src.len() => {
                out.push(src[pos]); // otherwise, skip one character
                pos += 1;
            }
            _ => break, // end of subject
        }
        if out.len() >= checked + MEMORY_CHECK_EVERY {
            crate::vm::memory::ensure_room(lua, out.len())?;
            checked = out.len();
        }
        if anchor {
            break;
        }
    }
    let result = if changed {
        out.extend_from_slice(&src[pos..]);
        crate::vm::memory::ensure_room(lua, out.len())?;
        lua.create_string(&out)?
    } else {
        subject.clone() // no changes: the original string
    };
    Ok(vec![
        Value::Boolean(true),
        Value::String(result),
        Value::Integer(n),
    ])
}

/// Lua's `add_value`: appends the replacement of the match `whole`; false when the original
/// text was kept (a table or function gave nil or false).
fn add_value(
    lua: &Lua,
    shared: &Shared,
    m: &Matcher,
    src: &[u8],
    whole: (usize, usize),
    repl: &Replacement,
    out: &mut Vec<u8>,
) -> BuiltinResult<bool> {
    let (start, end) = whole;
    let value = match repl {
        Replacement::Text(text) => {
            add_text(m, src, whole, &text.as_bytes(), out)?;
            return Ok(true);
        }
        Replacement::Table(t, meta) => {
            let key = capture_value(lua, src, m.capture(0, start, end).map_err(check::stopped)?)?;
            if !meta {
                t.raw_get(key)?
            } else {
                let index = match shared.index.get() {
                    Some(f) => f.clone(),
                    None => {
                        let f = lua
                            .load("local t, k = ... return t[k]")
                            .set_name(INTERNAL_CHUNK)
                            .into_function()?;
                        shared.index.get_or_init(|| f).clone()
                    }
                };
                protected_call(shared, (index, t, key))?
            }
        }
        Replacement::Function(f) => {
            if m.level() <= 1 {
                // one argument: no list of them to build
                let capture = m.capture(0, start, end).map_err(check::stopped)?;
                protected_call(shared, (f, capture_value(lua, src, capture)?))?
            } else {
                let mut call = vec![Value::Function(f.clone())];
                push_captures(lua, m, src, Some(whole), &mut call)?;
                protected_call(shared, MultiValue::from_vec(call))?
            }
        }
    };
    match value {
        Value::Nil | Value::Boolean(false) => {
            out.extend_from_slice(&src[start..end]); // keep the original text
            Ok(false)
        }
        Value::String(s) => {
            out.extend_from_slice(&s.as_bytes());
            Ok(true)
        }
        v @ (Value::Integer(_) | Value::Number(_)) => {
            if let Some(s) = lua.coerce_string(v)? {
                out.extend_from_slice(&s.as_bytes());
            }
            Ok(true)
        }
        v => Err(Raise::Positioned(format!(
            "invalid replacement value (a {})",
            check::type_name(&v)
        ))),
    }
}

/// Calls a function (the first of `call`) with the rest under `pcall`: its first result, or
/// its error raised again.
fn protected_call(shared: &Shared, call: impl mlua::IntoLuaMulti) -> BuiltinResult<Value> {
    match shared.pcall.call::<(bool, Value)>(call)? {
        (true, value) => Ok(value),
        (false, error) => Err(check::reraise(error)),
    }
}

/// Lua's `add_s`: a replacement string with `%0`-`%9` and `%%`.
fn add_text(
    m: &Matcher,
    src: &[u8],
    (start, end): (usize, usize),
    text: &[u8],
    out: &mut Vec<u8>,
) -> BuiltinResult<()> {
    let mut rest = text;
    while let Some(i) = rest.iter().position(|&b| b == b'%') {
        out.extend_from_slice(&rest[..i]);
        match rest.get(i + 1).copied().unwrap_or(0) {
            b'%' => out.push(b'%'),
            b'0' => out.extend_from_slice(&src[start..end]),
            d @ b'1'..=b'9' => match m
                .capture(usize::from(d - b'1'), start, end)
                .map_err(check::stopped)?
            {
                Capture::Range(a, b) => out.extend_from_slice(&src[a..b]),
                Capture::Position(p) => out.extend_from_slice(p.to_string().as_bytes()),
            },
            _ => {
                return Err(Raise::Positioned(
                    "invalid use of '%' in replacement string".into(),
                ));
            }
        }
        rest = &rest[i + 2..];
    }
    out.extend_from_slice(rest);
    Ok(())
}
