//! `assert`: Lua's own `assert(v, msg)` (the standard library's C function, so
//! `type(assert) == "function"` and hooks and tracebacks see what they see under `lua`), plus
//! named checks whose failures say what was expected and what came: `assert.eq(a, b)`.
//! Functions share one metatable in Lua; its `__index` answers `assert.<check>` for `assert`
//! alone (any other function indexed fails as under `lua`: "attempt to index a function
//! value"), so `getmetatable(print)` is that table rather than nil. A local copy
//! (`local assert = assert`) keeps the checks; `assert.eq = f` is refused like indexing any
//! function. Argument order is `(actual, expected)`.
//! `assert.eq` compares tables deeply (metatables ignored) and lists up to ten differing paths;
//! each pair of tables is compared once (cycles and shared sub-tables cost nothing more), and
//! nesting deeper than 1,000 levels is an error.
//! `assert.matches` and `assert.raises` take `regex` patterns.

use std::collections::HashSet;
use std::ffi::{CStr, c_int, c_void};

use mlua::{Function, Lua, MultiValue, Table, Value, ffi};

use super::args::{Args, type_name};
use super::function::{BuiltinResult, Raise, async_function, function};
use super::inspect::inspect;

const MAX_DIFFS: usize = 10;

/// Tables nested deeper than this are not compared: past it is a clean error rather than a
/// native stack overflow (which no `pcall` could catch). The encoders allow the same depth.
const MAX_DEPTH: usize = 1000;

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set("eq", function(lua, "assert.eq", eq)?)?;
    t.raw_set("ne", function(lua, "assert.ne", ne)?)?;
    t.raw_set(
        "gt",
        function(lua, "assert.gt", |lua, a| compare(lua, a, ">"))?,
    )?;
    t.raw_set(
        "ge",
        function(lua, "assert.ge", |lua, a| compare(lua, a, ">="))?,
    )?;
    t.raw_set(
        "lt",
        function(lua, "assert.lt", |lua, a| compare(lua, a, "<"))?,
    )?;
    t.raw_set(
        "le",
        function(lua, "assert.le", |lua, a| compare(lua, a, "<="))?,
    )?;
    t.raw_set("contains", function(lua, "assert.contains", contains)?)?;
    t.raw_set("matches", function(lua, "assert.matches", matches)?)?;
    t.raw_set("not_nil", function(lua, "assert.not_nil", not_nil)?)?;
    t.raw_set("is_nil", function(lua, "assert.is_nil", is_nil)?)?;
    Ok(())
}

/// `assert.raises`, kept apart from the other checks because it is the one async function
/// among them: the first async function a VM makes costs mlua a Lua chunk compiled from
/// source (its polling wrapper), more than making all the other checks together. Embedders
/// that build thousands of VMs whose checks use `assert.eq` but never `assert.raises` (a
/// check script) should not pay for it.
fn fill_async(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set("raises", async_function(lua, "assert.raises", raises)?)
}

/// Registry fields of Lua's own `assert` and of the table of its checks.
const ASSERT_KEY: &CStr = c"assay.assert";
const CHECKS_KEY: &CStr = c"assay.assert.checks";
const ASYNC_CHECKS_KEY: &CStr = c"assay.assert.async_checks";

/// Keeps Lua's own `assert` as the global and gives functions the metatable whose `__index`
/// answers `assert.<check>` (the checks are made on first use, like a lazy module's).
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let native: Function = lua.globals().raw_get("assert")?;
    let checks = super::lazy::table(lua, std::rc::Rc::new(fill))?;
    let async_checks = super::lazy::table(lua, std::rc::Rc::new(fill_async))?;
    let key = |k: &'static CStr| k.to_str().map_err(mlua::Error::external);
    lua.set_named_registry_value(key(ASSERT_KEY)?, native)?;
    lua.set_named_registry_value(key(CHECKS_KEY)?, checks)?;
    lua.set_named_registry_value(key(ASYNC_CHECKS_KEY)?, async_checks)?;
    let metatable = lua.create_table()?;
    // SAFETY: `function_index` follows the C API's rules and holds no Rust value that needs
    // dropping when Lua raises.
    metatable.raw_set("__index", unsafe { lua.create_c_function(function_index)? })?;
    lua.set_type_metatable::<Function>(Some(metatable));
    Ok(())
}

/// `__index(f, key)` of every function: `assert`'s check `key` (the checks made on first use),
/// or Lua's own error for indexing any other function.
///
/// A C function, not Lua: Lua marks every slot of a Lua frame for the collector, stale ones
/// included, so a Lua `__index` could keep alive the garbage of a call that just ran out of
/// memory, and the first `assert.eq` after `pcall` caught "not enough memory" would fail to
/// make the checks (a C frame's stack ends at its last value).
unsafe extern "C-unwind" fn function_index(state: *mut ffi::lua_State) -> c_int {
    unsafe {
        ffi::lua_settop(state, 2);
        ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, ASSERT_KEY.as_ptr());
        if ffi::lua_rawequal(state, 1, 3) == 0 {
            // With the position of the indexing code, as Lua's own message.
            return ffi::luaL_error(state, c"attempt to index a function value".as_ptr());
        }
        // The synchronous checks at 4, then, for a key they lack, the async ones at 5.
        push_checks(state, CHECKS_KEY);
        ffi::lua_pushvalue(state, 2);
        if ffi::lua_rawget(state, 4) != ffi::LUA_TNIL {
            return 1;
        }
        ffi::lua_pop(state, 1);
        push_checks(state, ASYNC_CHECKS_KEY);
        ffi::lua_pushvalue(state, 2);
        ffi::lua_rawget(state, 5);
        1
    }
}

/// Pushes the checks table kept in the registry at `key`, made now if it is still lazy.
///
/// # Safety
/// Called from `function_index`, with room for a few values on the stack; may raise.
unsafe fn push_checks(state: *mut ffi::lua_State, key: &CStr) {
    unsafe {
        ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, key.as_ptr());
        let checks = ffi::lua_gettop(state);
        if ffi::lua_getmetatable(state, checks) != 0 {
            // Still the lazy stub's: make the checks now. Growing the stack for the call
            // cannot run Lua's emergency collection, so a script at its memory limit with
            // garbage not yet collected (right after a caught "not enough memory") would fail
            // there: make room first, collecting if need be.
            ffi::lua_pop(state, 1);
            if ffi::lua_checkstack(state, 2 * ffi::LUA_MINSTACK) == 0 {
                ffi::lua_gc(state, ffi::LUA_GCCOLLECT);
            }
            ffi::lua_getfield(
                state,
                ffi::LUA_REGISTRYINDEX,
                super::function::MATERIALIZE_KEY.as_ptr(),
            );
            ffi::lua_pushvalue(state, checks);
            ffi::lua_call(state, 1, 2);
            if ffi::lua_type(state, -2) == ffi::LUA_TLIGHTUSERDATA {
                // (FAIL, message): raise the message as it is.
                ffi::lua_error(state);
            }
            ffi::lua_pop(state, 2);
        }
    }
}

/// `"failed"`, or `"<msg>: failed"` when the caller gave a message.
fn failed(args: &Args, msg_pos: usize, detail: String) -> BuiltinResult<Raise> {
    let prefix = match args.opt_string(msg_pos, "msg")? {
        Some(m) => format!("{m}: "),
        None => String::new(),
    };
    Ok(Raise::Message(format!("{prefix}{detail}")))
}

fn numbers_equal(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => Some(x == y),
        (Value::Integer(x), Value::Number(y)) | (Value::Number(y), Value::Integer(x)) => {
            Some(*x as f64 == *y)
        }
        (Value::Number(x), Value::Number(y)) => Some(x == y),
        _ => None,
    }
}

/// Collects the paths where `actual` and `expected` differ.
struct Diff {
    lines: Vec<String>,
    seen: HashSet<(*const c_void, *const c_void)>,
    depth: usize,
}

impl Diff {
    fn compare(&mut self, path: &str, actual: &Value, expected: &Value) -> mlua::Result<()> {
        if self.lines.len() >= MAX_DIFFS {
            return Ok(());
        }
        if let Some(same) = numbers_equal(actual, expected) {
            if !same {
                self.differ(path, actual, expected);
            }
            return Ok(());
        }
        match (actual, expected) {
            (Value::Table(a), Value::Table(e)) => self.tables(path, a, e),
            _ if actual == expected => Ok(()),
            _ => {
                self.differ(path, actual, expected);
                Ok(())
            }
        }
    }

    fn differ(&mut self, path: &str, actual: &Value, expected: &Value) {
        self.lines.push(format!(
            "{path}: expected {}, got {}",
            inspect(expected),
            inspect(actual)
        ));
    }

    fn tables(&mut self, path: &str, actual: &Table, expected: &Table) -> mlua::Result<()> {
        let pair = (actual.to_pointer(), expected.to_pointer());
        if pair.0 == pair.1 || !self.seen.insert(pair) {
            return Ok(());
        }
        if self.depth >= MAX_DEPTH {
            return Err(mlua::Error::runtime(format!(
                "cannot compare tables nested more than {MAX_DEPTH} levels deep"
            )));
        }
        self.depth += 1;
        let result = self.entries(path, actual, expected);
        self.depth -= 1;
        result
    }

    fn entries(&mut self, path: &str, actual: &Table, expected: &Table) -> mlua::Result<()> {
        let mut keys: Vec<Value> = Vec::new();
        for key in expected.pairs::<Value, Value>().map(|p| p.map(|(k, _)| k)) {
            keys.push(key?);
        }
        for key in actual.pairs::<Value, Value>().map(|p| p.map(|(k, _)| k)) {
            let key = key?;
            if expected.raw_get::<Value>(key.clone())?.is_nil() {
                keys.push(key);
            }
        }
        keys.sort_by_cached_key(inspect);
        for key in keys {
            let sub = sub_path(path, &key);
            let a: Value = actual.raw_get(key.clone())?;
            let e: Value = expected.raw_get(key)?;
            match (a.is_nil(), e.is_nil()) {
                (true, false) => self
                    .lines
                    .push(format!("{sub}: missing, expected {}", inspect(&e))),
                (false, true) => self
                    .lines
                    .push(format!("{sub}: unexpected {}", inspect(&a))),
                _ => self.compare(&sub, &a, &e)?,
            }
            if self.lines.len() >= MAX_DIFFS {
                break;
            }
        }
        Ok(())
    }
}

/// Longest path shown in a difference; deeper segments are elided, so comparing deep tables
/// with long keys does not build paths whose total size grows with the square of the depth.
const MAX_PATH: usize = 200;

/// `path.key` or `path[key]`, each key shown at most 40 bytes long, the whole at most
/// [`MAX_PATH`] (`$.a.b...` past it).
fn sub_path(path: &str, key: &Value) -> String {
    if path.len() >= MAX_PATH {
        return if path.ends_with("...") {
            path.to_owned()
        } else {
            format!("{path}...")
        };
    }
    match key {
        Value::String(s) => {
            let bytes = s.as_bytes();
            let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]);
            let cut = if bytes.len() > 40 { "..." } else { "" };
            format!("{path}.{shown}{cut}")
        }
        other => format!("{path}[{}]", inspect(other)),
    }
}

fn differences(actual: &Value, expected: &Value) -> mlua::Result<Vec<String>> {
    let mut diff = Diff {
        lines: Vec::new(),
        seen: HashSet::new(),
        depth: 0,
    };
    diff.compare("$", actual, expected)?;
    Ok(diff.lines)
}

fn eq(_: &Lua, args: Args) -> BuiltinResult<()> {
    let (actual, expected) = (args.value(1), args.value(2));
    let lines = differences(&actual, &expected)?;
    if lines.is_empty() {
        return Ok(());
    }
    let detail = match (&actual, &expected) {
        (Value::Table(_), Value::Table(_)) => format!("tables differ:\n  {}", lines.join("\n  ")),
        _ => format!("expected {}, got {}", inspect(&expected), inspect(&actual)),
    };
    Err(failed(&args, 3, detail)?)
}

fn ne(_: &Lua, args: Args) -> BuiltinResult<()> {
    let (actual, other) = (args.value(1), args.value(2));
    if differences(&actual, &other)?.is_empty() {
        return Err(failed(
            &args,
            3,
            format!("expected a value other than {}", inspect(&other)),
        )?);
    }
    Ok(())
}

fn compare(_: &Lua, args: Args, op: &str) -> BuiltinResult<()> {
    use std::cmp::Ordering;
    let (a, b) = (args.value(1), args.value(2));
    let order = match (&a, &b) {
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(&y.as_bytes())),
        (Value::Integer(x), Value::Integer(y)) => Some(x.cmp(y)),
        _ => match (args.number(1, "a"), args.number(2, "b")) {
            (Ok(x), Ok(y)) => x.partial_cmp(&y),
            _ => {
                return Err(Raise::Message(format!(
                    "cannot compare {} with {}",
                    type_name(&a),
                    type_name(&b)
                )));
            }
        },
    };
    let holds = matches!(
        (op, order),
        (">", Some(Ordering::Greater))
            | (">=", Some(Ordering::Greater | Ordering::Equal))
            | ("<", Some(Ordering::Less))
            | ("<=", Some(Ordering::Less | Ordering::Equal))
    );
    if holds {
        return Ok(());
    }
    Err(failed(
        &args,
        3,
        format!("expected {} {op} {}", inspect(&a), inspect(&b)),
    )?)
}

fn contains(_: &Lua, args: Args) -> BuiltinResult<()> {
    let needle = args.value(2);
    let found = match args.value(1) {
        Value::String(hay) => {
            let needle = args.bytes(2, "needle")?;
            let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
            needle.is_empty() || hay.windows(needle.len()).any(|w| w == &needle[..])
        }
        Value::Table(list) => {
            let mut found = false;
            for value in list.pairs::<Value, Value>() {
                if differences(&value?.1, &needle)?.is_empty() {
                    found = true;
                    break;
                }
            }
            found
        }
        _ => return Err(args.bad(1, "haystack", "string or table")),
    };
    if found {
        return Ok(());
    }
    Err(failed(
        &args,
        3,
        format!(
            "{} does not contain {}",
            inspect(&args.value(1)),
            inspect(&needle)
        ),
    )?)
}

fn matches(lua: &Lua, args: Args) -> BuiltinResult<()> {
    let text = args.bytes(1, "text")?;
    let re = super::regex::compile(lua, &args, 2)?;
    if re.is_match(&text.as_bytes()) {
        return Ok(());
    }
    Err(failed(
        &args,
        3,
        format!(
            "{} does not match /{}/",
            inspect(&args.value(1)),
            re.as_str()
        ),
    )?)
}

fn not_nil(_: &Lua, args: Args) -> BuiltinResult<()> {
    if args.value(1).is_nil() {
        return Err(failed(&args, 2, "expected a value, got nil".into())?);
    }
    Ok(())
}

fn is_nil(_: &Lua, args: Args) -> BuiltinResult<()> {
    let v = args.value(1);
    if !v.is_nil() {
        return Err(failed(
            &args,
            2,
            format!("expected nil, got {}", inspect(&v)),
        )?);
    }
    Ok(())
}

/// Calls `fn`; passes (returning the error message) only if it raises, and if `pat` is given,
/// only if the message matches it.
async fn raises(lua: Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    let f = args.function(1, "fn")?;
    let re = match args.value(2) {
        Value::Nil => None,
        _ => Some(super::regex::compile(&lua, &args, 2)?),
    };
    let pcall: Function = lua.named_registry_value(crate::vm::traced::PCALL_KEY)?;
    // In a coroutine of the runtime's (so `sleep` in `fn` works, and a yield of the script's
    // own raises, as at top level).
    let thread = lua.create_thread(pcall)?;
    super::function::glue::<Function>(&lua, "driven")?
        .call::<()>((&thread, super::coroutine::TASK))?;
    let mut outcome: MultiValue = thread.into_async(f)?.await?;
    let message = match outcome.pop_front() {
        Some(Value::Boolean(true)) => {
            return Err(failed(&args, 3, "the function did not raise".into())?);
        }
        _ => {
            // A run past its deadline is not an error the script may catch.
            crate::vm::deadline::check(&lua)?;
            crate::vm::traced::describe(&lua, &outcome.pop_front().unwrap_or(Value::Nil))
        }
    };
    if let Some(re) = re
        && !re.is_match(message.as_bytes())
    {
        return Err(failed(
            &args,
            3,
            format!("error {message:?} does not match /{}/", re.as_str()),
        )?);
    }
    // Copied by Lua's allocator (a `String` would become an uncounted external string).
    Ok(lua.create_string(&message)?)
}
