//! `regex`: Rust's `regex` syntax (linear time: no backtracking blow-ups on hostile input),
//! matching on bytes so any Lua string works. Positions are 1-based and inclusive, like
//! `string.find`. Unmatched optional groups are `false` in `groups` (so the list has no holes)
//! and absent from `named`. Compiled patterns are cached per VM, the cache bounded by the
//! patterns' size (a quarter of the memory limit, at most 32 MiB); no pattern may compile to
//! more than the memory limit (at most 10 MiB).
//!
//! `regex.replace(text, pat, repl, {all})`: `repl` is a template (`$1`, `${name}`, `$$`) or a
//! function called with each match's table (the shape `regex.find` returns); as with
//! `string.gsub`, its string (or number) result replaces the match and `nil` or `false` keeps
//! the match as it was; any other result is an error.
//!
//! `regex.find(text, pat, init)` and `regex.match(text, pat, init)` start searching at byte
//! `init`, read exactly as `string.find` reads it: 1 by default; a negative `init` counts from
//! the end (`-1` is the last byte); 0, and a negative one past the start, mean 1; `#text + 1`
//! can still match the empty string; past that nothing is found (nil, or false for `match`).
//! Positions in the result stay those of the whole text. Unlike a Lua pattern's `^`, the
//! regex's `^` and `\b` still see the whole text (as `re.search(pattern, text, pos)` in
//! Python): `^` matches at its start only, and a word boundary at `init` looks at the byte
//! before it.
//!
//! Unicode is whole: `\w`, `\d`, `\s`, case-insensitive matching, general categories such as
//! `\p{L}` and `\p{Lu}`, binary properties such as `\p{Alphabetic}`, scripts (`\p{Greek}`) and
//! ages (`\p{Age:6.0}`); Python's `re` has no `\p` at all. Every table is built in on purpose:
//! a workspace build shares the regex crate with the plugins' dependencies, so a table left
//! out would come and go with what is built beside the core. The literal prefilters are left
//! out of a core built alone (searches run on the lazy DFA): they change speed, not results.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use mlua::{Lua, Table, Value};
use regex::bytes::{Captures, Regex, RegexBuilder};

use super::args::Args;
use super::function::{BuiltinResult, Raise, function};

/// Compiled-size tiers a pattern is tried at, smallest first: a pattern's weight in the cache
/// is the tier it compiled at (an upper bound of its size, which `regex` does not report).
const SIZE_TIERS: [usize; 3] = [64 << 10, 1 << 20, 10 << 20];

/// The lazy DFA's cache per pattern, beside its compiled size.
const DFA_CACHE: usize = 256 << 10;

/// What the cache may hold in all, when the VM has no memory limit; with one, a quarter of
/// it (at least a MiB). A pattern heavier than that is compiled for its call and dropped.
const CACHE_BUDGET: usize = 32 << 20;

/// Compiled patterns, bounded by their total weight (compiled size + DFA cache); emptied when
/// the next one would not fit (scripts use few patterns).
#[derive(Default)]
struct Cache {
    patterns: RefCell<HashMap<String, Rc<Regex>>>,
    weight: std::cell::Cell<usize>,
}

pub fn fill(lua: &Lua, re: &Table) -> mlua::Result<()> {
    re.raw_set("match", function(lua, "regex.match", is_match)?)?;
    re.raw_set("find", function(lua, "regex.find", find)?)?;
    re.raw_set("find_all", function(lua, "regex.find_all", find_all)?)?;
    re.raw_set("replace", function(lua, "regex.replace", replace)?)?;
    re.raw_set("split", function(lua, "regex.split", split)?)?;
    Ok(())
}

/// The compiled pattern of argument `pos`, from the cache when possible.
pub fn compile(lua: &Lua, args: &Args, pos: usize) -> BuiltinResult<Rc<Regex>> {
    let pattern = args.string(pos, "pattern")?;
    if lua.app_data_ref::<Cache>().is_none() {
        lua.set_app_data(Cache::default());
    }
    let cache = lua
        .app_data_ref::<Cache>()
        .ok_or_else(|| Raise::msg("regex cache missing"))?;
    if let Some(re) = cache.patterns.borrow().get(&pattern) {
        return Ok(re.clone());
    }
    let limit = crate::vm::memory::limit(lua);
    // No pattern may compile to more than the VM may hold.
    let largest = limit.map_or(SIZE_TIERS[2], |l| l.min(SIZE_TIERS[2]));
    let (re, compiled) = build(&pattern, largest)?;
    // The cache keeps the pattern's text too (a padded `(?x)` pattern compiles small).
    let weight = compiled + pattern.len();
    let re = Rc::new(re);
    let budget = limit.map_or(CACHE_BUDGET, |l| (l / 4).clamp(1 << 20, CACHE_BUDGET));
    if weight <= budget {
        if cache.weight.get() + weight > budget {
            cache.patterns.borrow_mut().clear();
            cache.weight.set(0);
        }
        cache.patterns.borrow_mut().insert(pattern, re.clone());
        cache.weight.set(cache.weight.get() + weight);
    }
    Ok(re)
}

/// Compiles at the smallest size tier that holds the pattern, up to `largest` bytes.
fn build(pattern: &str, largest: usize) -> BuiltinResult<(Regex, usize)> {
    let mut tiers: Vec<usize> = SIZE_TIERS
        .iter()
        .copied()
        .filter(|t| *t < largest)
        .collect();
    tiers.push(largest);
    for tier in tiers {
        let dfa = DFA_CACHE.min(tier.max(64 << 10));
        match RegexBuilder::new(pattern)
            .size_limit(tier)
            .dfa_size_limit(dfa)
            .build()
        {
            Ok(re) => return Ok((re, tier + dfa)),
            Err(regex::Error::CompiledTooBig(_)) => continue,
            Err(e) => return Err(Raise::Message(format!("invalid pattern: {e}"))),
        }
    }
    Err(Raise::Message(format!(
        "invalid pattern: it compiles to more than {} (simplify it, or split it into several)",
        crate::vm::memory::format_size(largest)
    )))
}

fn is_match(lua: &Lua, args: Args) -> BuiltinResult<bool> {
    let text = args.bytes(1, "text")?;
    let re = compile(lua, &args, 2)?;
    let bytes = text.as_bytes();
    Ok(match start(lua, &args, 3, bytes.len())? {
        Some(at) => re.is_match_at(&bytes, at),
        None => false,
    })
}

/// The 0-based offset a search starts at, from the `init` argument at `pos`, by the rules of
/// `string.find` (see the module docs); `None` when it lies past the end of a `len`-byte text.
fn start(lua: &Lua, args: &Args, pos: usize, len: usize) -> BuiltinResult<Option<usize>> {
    let init = args.opt_integer(lua, pos, "init")?.unwrap_or(1);
    Ok(start_offset(init, len))
}

/// `string.find`'s `posrelatI(init, len) - 1`, and its "start after the string's end" check.
fn start_offset(init: i64, len: usize) -> Option<usize> {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let one_based = if init > 0 {
        init
    } else if init == 0 || init < -len_i {
        1
    } else {
        len_i + init + 1
    };
    let offset = usize::try_from(one_based - 1).ok()?;
    (offset <= len).then_some(offset)
}

fn match_table(lua: &Lua, re: &Regex, caps: &Captures) -> mlua::Result<Table> {
    let whole = caps
        .get(0)
        .ok_or_else(|| mlua::Error::runtime("regex: a match without its text"))?;
    let m = lua.create_table()?;
    m.raw_set("match", lua.create_string(whole.as_bytes())?)?;
    m.raw_set("start", whole.start() + 1)?;
    m.raw_set("stop", whole.end())?;
    let groups = lua.create_table()?;
    let named = lua.create_table()?;
    for (i, name) in re.capture_names().enumerate().skip(1) {
        match caps.get(i) {
            Some(g) => {
                let text = lua.create_string(g.as_bytes())?;
                if let Some(name) = name {
                    named.raw_set(name, text.clone())?;
                }
                groups.raw_seti(i, text)?;
            }
            None => groups.raw_seti(i, false)?,
        }
    }
    m.raw_set("groups", groups)?;
    m.raw_set("named", named)?;
    Ok(m)
}

fn find(lua: &Lua, args: Args) -> BuiltinResult<Value> {
    let text = args.bytes(1, "text")?;
    let re = compile(lua, &args, 2)?;
    let bytes = text.as_bytes();
    let Some(at) = start(lua, &args, 3, bytes.len())? else {
        return Ok(Value::Nil);
    };
    match re.captures_at(&bytes, at) {
        Some(caps) => Ok(Value::Table(match_table(lua, &re, &caps)?)),
        None => Ok(Value::Nil),
    }
}

fn find_all(lua: &Lua, args: Args) -> BuiltinResult<Table> {
    let text = args.bytes(1, "text")?;
    let re = compile(lua, &args, 2)?;
    let bytes = text.as_bytes();
    let list = lua.create_table()?;
    let whole_chars = std::str::from_utf8(&bytes).is_ok();
    let matches = re
        .captures_iter(&bytes)
        .filter(|caps| !splits_char(whole_chars, &bytes, caps.get(0)));
    for (i, caps) in matches.enumerate() {
        list.raw_seti(i + 1, match_table(lua, &re, &caps)?)?;
    }
    Ok(list)
}

/// Whether `m` is an empty match inside a UTF-8 character of a text that is valid UTF-8
/// (`whole_chars`). Such matches are skipped, as Python's `re` and Rust's `str` regexes never
/// report them: `regex.replace("é", "", "-", {all = true})` is `-é-`, not `-\xC3-\xA9-`.
fn splits_char(whole_chars: bool, bytes: &[u8], m: Option<regex::bytes::Match>) -> bool {
    whole_chars
        && m.is_some_and(|m| m.is_empty() && bytes.get(m.start()).is_some_and(|b| b & 0xC0 == 0x80))
}

/// What a match is replaced with: a template (`$1`, `${name}`) or a function of the match.
enum Replacement {
    Template(mlua::LuaString),
    Function(mlua::Function),
}

fn replace(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(4)?;
    let text = args.bytes(1, "text")?;
    let re = compile(lua, &args, 2)?;
    let replacement = match args.value(3) {
        Value::Function(f) => Replacement::Function(f),
        Value::String(s) => Replacement::Template(s),
        _ => return Err(args.bad(3, "repl", "string or function")),
    };
    let opts = args.options(4)?;
    opts.only(&["all"])?;
    let all = opts.bool("all", false)?;
    let bytes = text.as_bytes();
    // Built here rather than with `replacen`, to stop as soon as the result outgrows the
    // memory the VM has left (a 2 MB text with a 1 KB replacement per byte is 2 GB).
    let mut room = crate::vm::memory::Room::measure(lua);
    let mut out: Vec<u8> = Vec::new();
    let mut last = 0;
    let whole_chars = std::str::from_utf8(&bytes).is_ok();
    for caps in re.captures_iter(&bytes) {
        let Some(whole) = caps.get(0) else { continue };
        if splits_char(whole_chars, &bytes, Some(whole)) {
            continue;
        }
        out.extend_from_slice(&bytes[last..whole.start()]);
        match &replacement {
            Replacement::Template(repl) => caps.expand(&repl.as_bytes(), &mut out),
            Replacement::Function(f) => {
                let result = call_replacement(lua, f, match_table(lua, &re, &caps)?)?;
                match result {
                    Value::Nil | Value::Boolean(false) => out.extend_from_slice(whole.as_bytes()),
                    Value::String(s) => out.extend_from_slice(&s.as_bytes()),
                    Value::Integer(_) | Value::Number(_) => {
                        let s = lua.coerce_string(result)?.unwrap_or(lua.create_string("")?);
                        out.extend_from_slice(&s.as_bytes());
                    }
                    other => {
                        return Err(Raise::msg(format!(
                            "bad argument #3 'repl' (the function returned a {}; string, number, nil or false expected)",
                            super::args::type_name(&other)
                        )));
                    }
                }
            }
        }
        last = whole.end();
        if !room.fits(lua, out.len() + (bytes.len() - last)) {
            return Err(Raise::Lua(crate::vm::memory::out_of_memory()));
        }
        if !all {
            break;
        }
    }
    out.extend_from_slice(&bytes[last..]);
    Ok(lua.create_string(&out)?)
}

/// Calls the replacement function with a match; what it raises is raised on unchanged (an
/// error table stays that table, as with `string.gsub`), not wrapped in this builtin's message.
/// Like `string.gsub`'s, the function cannot yield: `sleep`, network and process calls inside
/// it fail with "attempt to yield across a C-call boundary".
fn call_replacement(lua: &Lua, f: &mlua::Function, found: Table) -> BuiltinResult<Value> {
    let pcall: mlua::Function = lua.named_registry_value(crate::vm::traced::PCALL_KEY)?;
    let mut results = pcall.call::<mlua::MultiValue>((f, found))?.into_iter();
    match results.next() {
        Some(Value::Boolean(true)) => Ok(results.next().unwrap_or(Value::Nil)),
        _ => Err(Raise::Value(results.next().unwrap_or(Value::Nil))),
    }
}

fn split(lua: &Lua, args: Args) -> BuiltinResult<Table> {
    let text = args.bytes(1, "text")?;
    let re = compile(lua, &args, 2)?;
    let bytes = text.as_bytes();
    let list = lua.create_table()?;
    let whole_chars = std::str::from_utf8(&bytes).is_ok();
    let mut last = 0;
    let mut n = 0;
    for m in re.find_iter(&bytes) {
        if splits_char(whole_chars, &bytes, Some(m)) {
            continue;
        }
        n += 1;
        list.raw_seti(n, lua.create_string(&bytes[last..m.start()])?)?;
        last = m.end();
    }
    list.raw_seti(n + 1, lua.create_string(&bytes[last..])?)?;
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::start_offset;

    #[test]
    fn init_is_read_as_string_find_reads_it() {
        // (init, length of the text) -> 0-based offset, or None when past the end
        let cases = [
            (1, 5, Some(0)),
            (3, 5, Some(2)),
            (5, 5, Some(4)),
            (6, 5, Some(5)),
            (7, 5, None),
            (0, 5, Some(0)),
            (-1, 5, Some(4)),
            (-5, 5, Some(0)),
            (-6, 5, Some(0)),
            (i64::MIN, 5, Some(0)),
            (i64::MAX, 5, None),
            (1, 0, Some(0)),
            (2, 0, None),
            (-1, 0, Some(0)),
        ];
        for (init, len, want) in cases {
            assert_eq!(start_offset(init, len), want, "init {init}, length {len}");
        }
    }
}
