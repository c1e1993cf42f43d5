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

/// Makes check `name`, or `None` when no check has that name.
///
/// Each check is made on its first use, one by one: a VM that runs a short check script uses
/// one or two of them, and making all eleven was a twentieth of building and running such a
/// VM. `raises`, the one async check, matters most: a VM's first async function costs mlua a
/// Lua chunk compiled from source (its polling wrapper).
fn make_check(lua: &Lua, name: &[u8]) -> mlua::Result<Option<Function>> {
    let check = match name {
        b"eq" => function(lua, "assert.eq", eq)?,
        b"ne" => function(lua, "assert.ne", ne)?,
        b"gt" => function(lua, "assert.gt", |lua, a| compare(lua, a, ">"))?,
        b"ge" => function(lua, "assert.ge", |lua, a| compare(lua, a, ">="))?,
        b"lt" => function(lua, "assert.lt", |lua, a| compare(lua, a, "<"))?,
        b"le" => function(lua, "assert.le", |lua, a| compare(lua, a, "<="))?,
        b"contains" => function(lua, "assert.contains", contains)?,
        b"matches" => function(lua, "assert.matches", matches)?,
        b"not_nil" => function(lua, "assert.not_nil", not_nil)?,
        b"is_nil" => function(lua, "assert.is_nil", is_nil)?,
        b"raises" => async_function(lua, "assert.raises", raises)?,
        _ => return Ok(None),
    };
    Ok(Some(check))
}

/// `make(key)`, called by `function_index` for a check not made yet: stores the check in the
/// checks table and returns it; nothing for a key that is no check; `(FAIL, message)` when it
/// could not be made (a memory error is raised, after one retry with the garbage collected,
/// as a lazy module's fill).
fn maker(lua: &Lua) -> mlua::Result<Function> {
    let fail = super::function::fail_marker();
    lua.create_function(move |lua, key: Value| {
        crate::vm::ensure_open()?;
        let Value::String(name) = key else {
            return Ok(MultiValue::new());
        };
        let made = make_check(lua, &name.as_bytes()).or_else(|e| match e {
            mlua::Error::MemoryError(_) => lua
                .gc_collect()
                .and_then(|()| make_check(lua, &name.as_bytes())),
            e => Err(e),
        });
        match made {
            Ok(Some(check)) => {
                let checks: Table = lua.named_registry_value(registry_key(CHECKS_KEY)?)?;
                checks.raw_set(name, &check)?;
                Ok(MultiValue::from_vec(vec![Value::Function(check)]))
            }
            Ok(None) => Ok(MultiValue::new()),
            Err(e @ mlua::Error::MemoryError(_)) => Err(e),
            Err(e) => {
                let text = format!(
                    "{}{}",
                    super::function::caller_position(lua),
                    super::function::error_message(&e)
                );
                super::function::failure(lua, fail, &text)
            }
        }
    })
}

fn registry_key(key: &'static CStr) -> mlua::Result<&'static str> {
    key.to_str().map_err(mlua::Error::external)
}

/// Registry fields of Lua's own `assert` and of the table of its checks.
const ASSERT_KEY: &CStr = c"assay.assert";
const CHECKS_KEY: &CStr = c"assay.assert.checks";
/// Registry field of the function that makes a check ([`maker`]).
const MAKE_CHECK_KEY: &CStr = c"assay.assert.make";

/// Keeps Lua's own `assert` as the global and gives functions the metatable whose `__index`
/// answers `assert.<check>` (each check made on its first use: see [`make_check`]).
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let native: Function = lua.globals().raw_get("assert")?;
    lua.set_named_registry_value(registry_key(ASSERT_KEY)?, native)?;
    lua.set_named_registry_value(registry_key(CHECKS_KEY)?, lua.create_table()?)?;
    lua.set_named_registry_value(registry_key(MAKE_CHECK_KEY)?, maker(lua)?)?;
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
        ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, CHECKS_KEY.as_ptr());
        ffi::lua_pushvalue(state, 2);
        if ffi::lua_rawget(state, 4) != ffi::LUA_TNIL {
            return 1;
        }
        ffi::lua_pop(state, 1);
        // Not made yet (or no check): make it now. Growing the stack for the call cannot run
        // Lua's emergency collection, so a script at its memory limit with garbage not yet
        // collected (right after a caught "not enough memory") would fail there: make room
        // first, collecting if need be.
        if ffi::lua_checkstack(state, 2 * ffi::LUA_MINSTACK) == 0 {
            ffi::lua_gc(state, ffi::LUA_GCCOLLECT);
        }
        ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, MAKE_CHECK_KEY.as_ptr());
        ffi::lua_pushvalue(state, 2);
        ffi::lua_call(state, 1, 2);
        if ffi::lua_type(state, -2) == ffi::LUA_TLIGHTUSERDATA {
            // (FAIL, message): raise the message as it is.
            ffi::lua_error(state);
        }
        // (check, nil), or (nil, nil) for a key that is no check.
        ffi::lua_pop(state, 1);
        1
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
