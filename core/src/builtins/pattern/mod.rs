//! Lua's string pattern functions (`string.find`, `string.match`, `string.gmatch`,
//! `string.gsub`), ported to Rust so a deadline can stop them.
//!
//! A deadline is enforced by a Lua count hook, and hooks never run while C code does. Lua's own
//! pattern functions are C and backtrack polynomially: `string.rep("a", 5000):find(".-.-.-.-x")`
//! runs for hours. [`engine`] is a faithful port of `lstrlib.c` (Lua 5.4/5.5) that calls an
//! [`Interrupt`] check every few thousand matching steps; an error from the check stops the
//! call and reaches the script unchanged.
//!
//! The functions behave as Lua's, byte for byte: the same results, the same error messages at
//! the caller's position (`script.lua:3: malformed pattern (missing ']')`, `bad argument #2 to
//! 'find' (string expected, got nil)`), numbers accepted where strings are expected. A test
//! compares them with Debian's `lua5.4` on thousands of generated cases (`differential.rs`).
//!
//! Differences that remain, all in error details:
//! - an error raised by a `gsub` replacement function or `__index` is re-raised from `gsub`
//!   (same value), so a traceback starts at the `gsub` call;
//! - a position or function name in an error when the call is a tail call (`return
//!   s:find(p)`): the builtin protocol's wrapper is a Lua function, so Lua drops the tail
//!   caller's frame and the message names `'string.find'` at the position of its caller.

mod check;
pub mod engine;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;

use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use mlua::{Function, Integer, Lua, LuaString, MultiValue, Table, Value};

use self::check::Params;
use self::engine::{Capture, Matcher};
use super::function::{BuiltinResult, INTERNAL_CHUNK, Raise};

/// Called every few thousand matching steps; an Err is raised to the script as it is.
pub type Interrupt = Rc<dyn Fn() -> mlua::Result<()>>;

/// Growth of a `gsub` result between two checks against the VM's memory limit.
const MEMORY_CHECK_EVERY: usize = 64 * 1024;

/// What the four functions share.
struct Shared {
    interrupt: Interrupt,
    /// The original `pcall`: replacement functions and `__index` run under it so that their
    /// errors can be raised again unchanged (mlua would turn them into strings with a
    /// traceback).
    pcall: Function,
    /// Makes a Lua function of a raw one ([`WRAP_GLUE`]).
    wrap: Function,
    /// `function(t, k) return t[k] end`, made on first use.
    index: OnceCell<Function>,
}

/// The builtin protocol of `function.rs`, leaner: a raw Rust function returns `(true,
/// results...)` or `(false, error)` (see [`check::deliver`]), and this Lua wrapper raises the
/// error as a plain value, so that messages read `script.lua:3: ...` as Lua's do. The raw
/// function takes its arguments by value (copying a string argument costs an allocation),
/// and unlike the general wrapper this one can return no value at all, as Lua's gmatch
/// iterator does at its end.
const WRAP_GLUE: &str = r#"
local error = ...
local function check(ok, ...)
  if ok then return ... end
  error((...), 0)
end
return function(raw) return function(...) return check(raw(...)) end end
"#;

type Raw = fn(&Lua, &Rc<Shared>, &mut Params) -> BuiltinResult<MultiValue>;

/// A Lua function of `f`, through [`WRAP_GLUE`].
fn builtin(lua: &Lua, shared: &Rc<Shared>, f: Raw) -> mlua::Result<Function> {
    let s = shared.clone();
    let raw = lua.create_function(move |lua, args: MultiValue| {
        let result = f(lua, &s, &mut Params::new(args));
        check::deliver(lua, result)
    })?;
    shared.wrap.call(raw)
}

/// Replaces string.find, string.match, string.gmatch and string.gsub in the `string` table
/// (the table the string metatable's __index points at, so ("x"):find works too).
pub fn install(lua: &Lua, interrupt: Interrupt) -> mlua::Result<()> {
    let pcall = match lua.named_registry_value::<Option<Function>>(crate::vm::traced::PCALL_KEY)? {
        Some(f) => f,
        None => lua.globals().raw_get("pcall")?,
    };
    let error: Function = lua.globals().raw_get("error")?;
    let wrap = lua.load(WRAP_GLUE).set_name(INTERNAL_CHUNK).call(error)?;
    let shared = Rc::new(Shared {
        interrupt,
        pcall,
        wrap,
        index: OnceCell::new(),
    });
    let mut tables: Vec<Table> = Vec::new();
    if let Some(Value::Table(t)) = lua
        .type_metatable::<LuaString>()
        .map(|mt| mt.raw_get::<Value>("__index"))
        .transpose()?
    {
        tables.push(t);
    }
    if let Value::Table(t) = lua.globals().raw_get::<Value>("string")?
        && !tables.contains(&t)
    {
        tables.push(t);
    }
    let find = builtin(lua, &shared, |lua, shared, params| {
        find_aux(lua, shared, params, true)
    })?;
    let matcher = builtin(lua, &shared, |lua, shared, params| {
        find_aux(lua, shared, params, false)
    })?;
    let gmatch = builtin(lua, &shared, gmatch)?;
    let gsub = builtin(lua, &shared, gsub)?;
    for t in tables {
        t.raw_set("find", find.clone())?;
        t.raw_set("match", matcher.clone())?;
        t.raw_set("gmatch", gmatch.clone())?;
        t.raw_set("gsub", gsub.clone())?;
    }
    Ok(())
}

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
fn find_aux(
    lua: &Lua,
    shared: &Shared,
    params: &mut Params,
    find: bool,
) -> BuiltinResult<MultiValue> {
    let fname = if find { "find" } else { "match" };
    let subject = check::string(lua, params, 1, fname)?;
    let pattern = check::string(lua, params, 2, fname)?;
    let (src, pat) = (subject.as_bytes(), pattern.as_bytes());
    let init = check::start_position(check::opt_integer(lua, params, 3, fname, 1)?, src.len()) - 1;
    if init > src.len() {
        return Ok(MultiValue::from_vec(vec![Value::Nil])); // start after the string's end
    }
    let mut out = Vec::new();
    if find && (check::truthy(&params.take(4)) || engine::no_specials(&pat)) {
        if let Some(i) = engine::find_plain(&src[init..], &pat) {
            let start = init + i;
            out.push(Value::Integer(start as Integer + 1));
            out.push(Value::Integer((start + pat.len()) as Integer));
            return Ok(MultiValue::from_vec(out));
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
                return Ok(MultiValue::from_vec(out));
            }
            if start >= src.len() || anchor {
                break;
            }
            start += 1;
        }
    }
    Ok(MultiValue::from_vec(vec![Value::Nil]))
}

/// `string.gmatch(s, pattern [, init])`: an iterator over the matches. Like Lua's, it keeps
/// the end of the last match so that an empty match right after it does not count, and a
/// `^` in the pattern is an ordinary character.
fn gmatch(lua: &Lua, shared: &Rc<Shared>, params: &mut Params) -> BuiltinResult<MultiValue> {
    let subject = check::string(lua, params, 1, "gmatch")?;
    let pattern = check::string(lua, params, 2, "gmatch")?;
    let len = subject.as_bytes().len();
    let init = check::start_position(check::opt_integer(lua, params, 3, "gmatch", 1)?, len) - 1;
    let next = Cell::new(init.min(len + 1));
    let last_match: Cell<Option<usize>> = Cell::new(None);
    let interrupt = shared.interrupt.clone();
    let raw = lua.create_function(move |lua, ()| {
        let (src, pat) = (subject.as_bytes(), pattern.as_bytes());
        let mut m = Matcher::new(&src, &pat, &*interrupt);
        let mut found = || -> BuiltinResult<MultiValue> {
            for start in next.get()..=src.len() {
                match m.try_at(start).map_err(check::stopped)? {
                    Some(end) if Some(end) != last_match.get() => {
                        next.set(end);
                        last_match.set(Some(end));
                        let mut out = Vec::new();
                        push_captures(lua, &m, &src, Some((start, end)), &mut out)?;
                        return Ok(MultiValue::from_vec(out));
                    }
                    _ => {}
                }
            }
            Ok(MultiValue::new()) // not found
        };
        check::deliver(lua, found())
    })?;
    let iterator: Function = shared.wrap.call(raw)?;
    Ok(MultiValue::from_vec(vec![Value::Function(iterator)]))
}

/// What `gsub` replaces matches with.
enum Replacement {
    Text(LuaString),
    Table(Table),
    Function(Function),
}

/// `string.gsub(s, pattern, repl [, n])`: the new string and the number of matches.
fn gsub(lua: &Lua, shared: &Rc<Shared>, params: &mut Params) -> BuiltinResult<MultiValue> {
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
        Value::Table(t) => Replacement::Table(t),
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
    Ok(MultiValue::from_vec(vec![
        Value::String(result),
        Value::Integer(n),
    ]))
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
        Replacement::Table(t) => {
            let key = capture_value(lua, src, m.capture(0, start, end).map_err(check::stopped)?)?;
            if t.metatable().is_none() {
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
                protected_call(
                    shared,
                    vec![Value::Function(index), Value::Table(t.clone()), key],
                )?
            }
        }
        Replacement::Function(f) => {
            let mut call = vec![Value::Function(f.clone())];
            push_captures(lua, m, src, Some(whole), &mut call)?;
            protected_call(shared, call)?
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

/// Calls `call[0]` with the rest under `pcall`: its first result, or its error raised again.
fn protected_call(shared: &Shared, call: Vec<Value>) -> BuiltinResult<Value> {
    let mut results = shared
        .pcall
        .call::<MultiValue>(MultiValue::from_vec(call))?
        .into_iter();
    match results.next() {
        Some(Value::Boolean(true)) => Ok(results.next().unwrap_or(Value::Nil)),
        _ => Err(check::reraise(results.next().unwrap_or(Value::Nil))),
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
