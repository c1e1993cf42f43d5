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
mod differential;
#[cfg(test)]
mod tests;

use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use mlua::{Function, Integer, Lua, LuaString, MultiValue, Table, Value};

use self::engine::{Capture, Matcher};
use super::args::Args;
use super::function::{BuiltinResult, INTERNAL_CHUNK, Raise, function};

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
    /// The original `error`, for [`ITERATOR_GLUE`].
    error: Function,
    /// `function(t, k) return t[k] end`, made on first use.
    index: OnceCell<Function>,
    /// The gmatch iterator's wrapper ([`ITERATOR_GLUE`]), made on first use.
    iterator: OnceCell<Function>,
}

/// Replaces string.find, string.match, string.gmatch and string.gsub in the `string` table
/// (the table the string metatable's __index points at, so ("x"):find works too).
pub fn install(lua: &Lua, interrupt: Interrupt) -> mlua::Result<()> {
    let pcall = match lua.named_registry_value::<Option<Function>>(crate::vm::traced::PCALL_KEY)? {
        Some(f) => f,
        None => lua.globals().raw_get("pcall")?,
    };
    let shared = Rc::new(Shared {
        interrupt,
        pcall,
        error: lua.globals().raw_get("error")?,
        index: OnceCell::new(),
        iterator: OnceCell::new(),
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
    let s = shared.clone();
    let find = function(lua, "find", move |lua, args| find_aux(lua, &s, &args, true))?;
    let s = shared.clone();
    let matcher = function(lua, "match", move |lua, args| {
        find_aux(lua, &s, &args, false)
    })?;
    let s = shared.clone();
    let gmatch = function(lua, "gmatch", move |lua, args| gmatch(lua, &s, &args))?;
    let gsub = function(lua, "gsub", move |lua, args| gsub(lua, &shared, &args))?;
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
fn find_aux(lua: &Lua, shared: &Shared, args: &Args, find: bool) -> BuiltinResult<MultiValue> {
    let fname = if find { "find" } else { "match" };
    let subject = check::string(lua, args, 1, fname)?;
    let pattern = check::string(lua, args, 2, fname)?;
    let (src, pat) = (subject.as_bytes(), pattern.as_bytes());
    let init = check::start_position(check::opt_integer(lua, args, 3, fname, 1)?, src.len()) - 1;
    if init > src.len() {
        return Ok(MultiValue::from_vec(vec![Value::Nil])); // start after the string's end
    }
    let mut out = Vec::new();
    if find && (check::truthy(&args.value(4)) || engine::no_specials(&pat)) {
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
fn gmatch(lua: &Lua, shared: &Rc<Shared>, args: &Args) -> BuiltinResult<Function> {
    let subject = check::string(lua, args, 1, "gmatch")?;
    let pattern = check::string(lua, args, 2, "gmatch")?;
    let len = subject.as_bytes().len();
    let init = check::start_position(check::opt_integer(lua, args, 3, "gmatch", 1)?, len) - 1;
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
    let wrap = match shared.iterator.get() {
        Some(f) => f.clone(),
        None => {
            let f: Function = lua
                .load(ITERATOR_GLUE)
                .set_name(INTERNAL_CHUNK)
                .call(shared.error.clone())?;
            shared.iterator.get_or_init(|| f).clone()
        }
    };
    Ok(wrap.call(raw)?)
}

/// Wraps a gmatch iterator's Rust function, which returns `(true, results...)` or `(false,
/// error)`. The builtin protocol's wrapper always returns at least one value; Lua's iterator
/// returns none at the end (`select("#", it())` is 0), and so does this one.
const ITERATOR_GLUE: &str = r#"
local error = ...
local function check(ok, ...)
  if ok then return ... end
  error((...), 0)
end
return function(raw) return function() return check(raw()) end end
"#;

/// What `gsub` replaces matches with.
enum Replacement {
    Text(LuaString),
    Table(Table),
    Function(Function),
}

/// `string.gsub(s, pattern, repl [, n])`: the new string and the number of matches.
fn gsub(lua: &Lua, shared: &Shared, args: &Args) -> BuiltinResult<(Value, Integer)> {
    let subject = check::string(lua, args, 1, "gsub")?;
    let pattern = check::string(lua, args, 2, "gsub")?;
    let src = subject.as_bytes();
    let max = check::opt_integer(lua, args, 4, "gsub", src.len() as Integer + 1)?;
    let repl = match args.value(3) {
        Value::String(s) => Replacement::Text(s),
        v @ (Value::Integer(_) | Value::Number(_)) => match lua.coerce_string(v)? {
            Some(s) => Replacement::Text(s),
            None => return Err(check::type_error(lua, args, 3, "gsub", "string")),
        },
        Value::Table(t) => Replacement::Table(t),
        Value::Function(f) => Replacement::Function(f),
        _ => {
            return Err(check::type_error(
                lua,
                args,
                3,
                "gsub",
                "string/function/table",
            ));
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
    if !changed {
        return Ok((Value::String(subject.clone()), n));
    }
    out.extend_from_slice(&src[pos..]);
    crate::vm::memory::ensure_room(lua, out.len())?;
    Ok((Value::String(lua.create_string(&out)?), n))
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
