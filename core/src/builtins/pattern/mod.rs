//! Lua's string pattern functions (`string.find`, `string.match`, `string.gmatch`,
//! `string.gsub`) in a form a deadline can stop.
//!
//! A deadline is enforced by a Lua count hook, and hooks never run while C code does. Lua's own
//! pattern functions are C and backtrack polynomially: `string.rep("a", 5000):find(".-.-.-.-x")`
//! runs for hours. [`install`] replaces them (on their first use: setting them up loads some
//! Lua glue) with
//! - a faithful port of `lstrlib.c` (Lua 5.4/5.5; `engine.rs`, `classes.rs`, `functions.rs`)
//!   that calls an [`Interrupt`] check every few thousand matching steps; an error from the
//!   check stops the call and reaches the script unchanged;
//! - and a fast path (`fast.rs`): Lua's own C function when the call cannot fail and the
//!   worst case of its matcher on that subject is within a small budget (some tens of ms of
//!   C that no deadline stops), since a Rust builtin costs about 0.4 µs to call where a C
//!   function costs 0.1. Short subjects, one-class patterns (`%a+`, `[^\n]+`) over long texts
//!   and patterns whose pieces cannot backtrack (`^(%d+)-(%d+) (%u+)`) qualify; anything that
//!   could raise, or blow up, goes to the port.
//!
//! The functions behave as Lua's, byte for byte: the same results, the same error messages at
//! Lua's position (`script.lua:3: malformed pattern (missing ']')`, `bad argument #2 to 'find'
//! (string expected, got nil)`, no position when a C function such as `pcall` is the caller),
//! numbers accepted where strings are expected. Tests compare both paths with Debian's
//! `lua5.4` on ten thousand generated cases (`differential.rs`), and check the fast path's
//! budget against the port's own step counts.
//!
//! Differences that remain, all in error details:
//! - an error raised by a `gsub` replacement function or `__index` is caught and raised
//!   again from `gsub` (the same value), so a traceback starts at the `gsub` call;
//! - a position or function name in an error when the call is a tail call (`return
//!   s:find(p)`): the wrapper is a Lua function, so Lua drops the tail caller's frame, and the
//!   message carries the position of the caller's caller.

mod check;
mod classes;
mod engine;
mod fast;
mod functions;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use mlua::{Function, Integer, Lua, LuaString, MultiValue, Table, Value};

use self::check::Params;
use super::function::{BuiltinResult, INTERNAL_CHUNK};

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
    /// Makes a Lua function of a raw one (`wrap` of [`WRAP_GLUE`] or [`FAST_GLUE`]), for
    /// gmatch's iterators.
    wrap: OnceCell<Function>,
    /// `function(t, k) return t[k] end`, made on first use.
    index: OnceCell<Function>,
}

/// The builtin protocol of `function.rs`, leaner: a raw Rust function returns `(true,
/// results...)` or `(false, error)` (see [`check::deliver`]), and a Lua wrapper raises the
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

/// The four functions with their fast path (see `fast.rs`): Lua's own C function when the
/// call cannot fail and its worst case is within budget, else the port. The caches, filled by
/// the classifiers on a miss: `max[p]` (`gmax[p]` for gmatch) is the longest subject pattern
/// `p` may run in C on (false: never), `caps[p]` its number of captures, `rmax[r]` the
/// highest capture a gsub replacement string refers to (false: it has an invalid `%`).
///
/// A gsub replacement function or table may give a value Lua refuses ("invalid replacement
/// value (a table)"). The C gsub then raises at the position of its caller; called under
/// `pcall`, its caller is a C function, so the message has no position, and `fixed` raises it
/// again at the level of the wrapper's caller, as Lua would have. Any other error (from the
/// function or `__index`) goes on unchanged (Lua raises its "not enough memory" message as a
/// memory error again).
const FAST_GLUE: &str = r#"
local error, pcall, type, math_type, cfind, cmatch, cgmatch, cgsub,
  pfind, pmatch, pgmatch, pgsub, max, gmax, caps, rmax,
  classify, gclassify, rclassify, LINEAR = ...
local function check(ok, ...)
  if ok then return ... end
  error((...), 0)
end
local function fixed(ok, ...)
  if ok then return ... end
  local e = ...
  if type(e) == "string" and cmatch(e, "^invalid replacement value %(a %a+%)$") then
    error(e, 2)
  end
  error(e, 0)
end
local function find(...)
  local s, p, init, plain = ...
  if type(s) == "string" and (init == nil or math_type(init) == "integer") then
    if plain then
      if type(p) == "string" and #s * #p <= LINEAR then return cfind(...) end
    else
      local m = max[p]
      if m == nil then m = classify(p) end
      if m and #s <= m then return cfind(...) end
    end
  end
  return check(pfind(...))
end
local function match(...)
  local s, p, init = ...
  if type(s) == "string" and (init == nil or math_type(init) == "integer") then
    local m = max[p]
    if m == nil then m = classify(p) end
    if m and #s <= m then return cmatch(...) end
  end
  return check(pmatch(...))
end
local function gmatch(...)
  local s, p, init = ...
  if type(s) == "string" and (init == nil or math_type(init) == "integer") then
    local m = gmax[p]
    if m == nil then m = gclassify(p) end
    if m and #s <= m then return cgmatch(...) end
  end
  return check(pgmatch(...))
end
local function gsub(...)
  local s, p, repl, n = ...
  if type(s) == "string" and (n == nil or math_type(n) == "integer") then
    local m = max[p]
    if m == nil then m = classify(p) end
    if m and #s <= m then
      local rt = type(repl)
      if rt == "string" then
        local r = rmax[repl]
        if r == nil then r = rclassify(repl) end
        if r and (r <= 1 or r <= caps[p]) then return cgsub(...) end
      elseif rt == "number" then
        return cgsub(...)
      elseif rt == "function" or rt == "table" then
        return fixed(pcall(cgsub, ...))
      end
    end
  end
  return check(pgsub(...))
end
local function wrap(raw) return function(...) return check(raw(...)) end end
return find, match, gmatch, gsub, wrap
"#;

type Raw = fn(&Lua, &Rc<Shared>, &mut Params) -> BuiltinResult<Vec<Value>>;

/// The raw Rust function of `f`: `(true, results...)` or `(false, error)`.
fn raw(lua: &Lua, shared: &Rc<Shared>, f: Raw) -> mlua::Result<Function> {
    let s = shared.clone();
    lua.create_function(move |lua, args: MultiValue| {
        crate::vm::ensure_open()?;
        let result = f(lua, &s, &mut Params::new(args));
        check::deliver(lua, result)
    })
}

/// Entries a cache of [`FAST_GLUE`] may hold before it starts over (scripts that build
/// patterns on the fly would grow it without end).
const CACHE_LIMIT: usize = 512;

/// A classifier for [`FAST_GLUE`]: on a miss, stores `verdict(key)` in `cache` under `key`
/// (and its second part in `extra`, if any) and returns it; non-strings get false, unstored.
fn classifier(
    lua: &Lua,
    cache: &Table,
    extra: Option<&Table>,
    verdict: impl Fn(&[u8]) -> (Value, Value) + 'static,
) -> mlua::Result<Function> {
    let (cache, extra) = (cache.clone(), extra.cloned());
    let entries = Cell::new(0usize);
    lua.create_function(move |_, key: Value| {
        crate::vm::ensure_open()?;
        let Value::String(key) = key else {
            return Ok(Value::Boolean(false));
        };
        let (value, second) = verdict(&key.as_bytes());
        if entries.get() >= CACHE_LIMIT {
            cache.clear()?;
            if let Some(extra) = &extra {
                extra.clear()?;
            }
            entries.set(0);
        }
        if let Some(extra) = &extra {
            extra.raw_set(&key, second)?;
        }
        cache.raw_set(key, value.clone())?;
        entries.set(entries.get() + 1);
        Ok(value)
    })
}

/// A number for Lua, or false.
fn number_or_false(n: Option<u64>) -> Value {
    match n {
        Some(n) => Value::Integer(Integer::try_from(n).unwrap_or(Integer::MAX)),
        None => Value::Boolean(false),
    }
}

/// The functions this module replaces, in the order [`build`] returns them.
const NAMES: [&str; 4] = ["find", "match", "gmatch", "gsub"];

/// Replaces string.find, string.match, string.gmatch and string.gsub in the `string` table
/// (the table the string metatable's __index points at, so ("x"):find works too).
///
/// Lazily: building them loads some Lua glue (about 0.1 ms), so the four entries are taken out
/// and a metatable on `string` builds them on the first access to any of them (or to a
/// missing key, or `pairs(string)`), then goes away. Until then `rawget(string, "find")` is
/// nil; an entry the script sets before that is kept.
pub fn install(lua: &Lua, interrupt: Interrupt) -> mlua::Result<()> {
    let tables = string_tables(lua)?;
    match tables.as_slice() {
        [string] if string.metatable().is_none() => install_lazily(lua, string, interrupt),
        _ => install_with(lua, interrupt, true),
    }
}

/// The tables that hold the string functions: the one the string metatable's `__index`
/// points at and the global `string`, normally one and the same.
fn string_tables(lua: &Lua) -> mlua::Result<Vec<Table>> {
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
    Ok(tables)
}

/// See [`install`].
fn install_lazily(lua: &Lua, string: &Table, interrupt: Interrupt) -> mlua::Result<()> {
    let originals = NAMES
        .iter()
        .map(|name| string.raw_get::<Value>(*name))
        .collect::<mlua::Result<Vec<Value>>>()?;
    for name in NAMES {
        string.raw_set(name, Value::Nil)?;
    }
    let pending = Rc::new(RefCell::new(Some((interrupt, originals))));
    let load = Rc::new(move |lua: &Lua, t: &Table| -> mlua::Result<()> {
        let Some((interrupt, originals)) = pending.borrow().clone() else {
            return Ok(()); // done already
        };
        // On an error (memory), everything stays as it was for the next access to retry.
        let functions = build(lua, interrupt, true, &originals)?;
        pending.borrow_mut().take();
        t.set_metatable(None)?;
        for (name, f) in NAMES.iter().zip(functions) {
            if t.raw_get::<Value>(*name)?.is_nil() {
                t.raw_set(*name, f)?; // unless the script has set its own
            }
        }
        Ok(())
    });
    let on_index = load.clone();
    let index = lua.create_function(move |lua, (t, key): (Table, Value)| {
        crate::vm::ensure_open()?;
        on_index(lua, &t)?;
        t.raw_get::<Value>(key)
    })?;
    let next: Function = lua.globals().raw_get("next")?;
    let pairs = lua.create_function(move |lua, t: Table| {
        crate::vm::ensure_open()?;
        load(lua, &t)?;
        Ok((next.clone(), t, Value::Nil))
    })?;
    let metatable = lua.create_table()?;
    metatable.raw_set("__index", index)?;
    metatable.raw_set("__pairs", pairs)?;
    string.set_metatable(Some(metatable))
}

/// [`install`] at once, with or without the fast path through Lua's C functions (tests check
/// the port alone too).
fn install_with(lua: &Lua, interrupt: Interrupt, fast_path: bool) -> mlua::Result<()> {
    let tables = string_tables(lua)?;
    let Some(string) = tables.first() else {
        return Ok(()); // no string library to replace
    };
    let originals = NAMES
        .iter()
        .map(|name| string.raw_get::<Value>(*name))
        .collect::<mlua::Result<Vec<Value>>>()?;
    let functions = build(lua, interrupt, fast_path, &originals)?;
    for t in &tables {
        for (name, f) in NAMES.iter().zip(&functions) {
            t.raw_set(*name, f)?;
        }
    }
    Ok(())
}

/// The four functions, in the order of [`NAMES`]; `originals` are Lua's (for the fast path).
fn build(
    lua: &Lua,
    interrupt: Interrupt,
    fast_path: bool,
    originals: &[Value],
) -> mlua::Result<Vec<Function>> {
    let globals = lua.globals();
    let pcall = match lua.named_registry_value::<Option<Function>>(crate::vm::traced::PCALL_KEY)? {
        Some(f) => f,
        None => globals.raw_get("pcall")?,
    };
    let error: Function = globals.raw_get("error")?;
    let shared = Rc::new(Shared {
        interrupt,
        pcall,
        wrap: OnceCell::new(),
        index: OnceCell::new(),
    });
    let pfind = raw(lua, &shared, |lua, shared, params| {
        functions::find_aux(lua, shared, params, true)
    })?;
    let pmatch = raw(lua, &shared, |lua, shared, params| {
        functions::find_aux(lua, shared, params, false)
    })?;
    let pgmatch = raw(lua, &shared, functions::gmatch)?;
    let pgsub = raw(lua, &shared, functions::gsub)?;
    if !fast_path {
        let wrap: Function = lua.load(WRAP_GLUE).set_name(INTERNAL_CHUNK).call(error)?;
        let functions = [pfind, pmatch, pgmatch, pgsub]
            .into_iter()
            .map(|raw| wrap.call(raw))
            .collect::<mlua::Result<Vec<Function>>>()?;
        let _ = shared.wrap.set(wrap);
        return Ok(functions);
    }
    let math: Table = globals.raw_get("math")?;
    let [max, gmax, caps, rmax] = [
        lua.create_table()?,
        lua.create_table()?,
        lua.create_table()?,
        lua.create_table()?,
    ];
    let classify = classifier(lua, &max, Some(&caps), |p| {
        let verdict = fast::classify(p, false);
        (
            number_or_false(verdict.map(|v| v.max_subject)),
            number_or_false(verdict.map(|v| v.captures as u64)),
        )
    })?;
    let gclassify = classifier(lua, &gmax, None, |p| {
        (number_or_false(fast::max_subject(p, true)), Value::Nil)
    })?;
    let rclassify = classifier(lua, &rmax, None, |r| {
        (
            number_or_false(fast::replacement(r).map(u64::from)),
            Value::Nil,
        )
    })?;
    let (f, t) = (Value::Function, Value::Table);
    let mut args = vec![
        f(error),
        f(shared.pcall.clone()),
        globals.raw_get("type")?,
        math.raw_get("type")?,
    ];
    args.extend(originals.iter().cloned());
    args.extend([
        f(pfind),
        f(pmatch),
        f(pgmatch),
        f(pgsub),
        t(max),
        t(gmax),
        t(caps),
        t(rmax),
        f(classify),
        f(gclassify),
        f(rclassify),
        Value::Integer(fast::BUDGET as Integer),
    ]);
    let (find, matcher, gmatch, gsub, wrap): (Function, Function, Function, Function, Function) =
        lua.load(FAST_GLUE)
            .set_name(INTERNAL_CHUNK)
            .call(MultiValue::from_vec(args))?;
    let _ = shared.wrap.set(wrap);
    Ok(vec![find, matcher, gmatch, gsub])
}
