//! How a Rust builtin becomes a Lua function that fails like a Lua library function.
//!
//! mlua raises a Rust callback's error as a userdata carrying a traceback, which a script that
//! does `local ok, err = pcall(json.parse, s)` cannot match or print. So every builtin is a raw
//! Rust function that *returns* `(FAIL, message)` instead of raising, wrapped in a two-line Lua
//! function that turns that into `error(message, 0)`. The message already carries the position
//! of the nearest user frame, so errors read `script.lua:3: json.parse: ...` exactly like the
//! standard library's, and `err` is a plain string. A builtin that runs out of memory raises
//! the plain "not enough memory" that Lua's own allocator raises (made once, so raising it
//! allocates nothing).

use std::ffi::CStr;
use std::future::Future;

use mlua::{Function, IntoLuaMulti, LightUserData, Lua, MultiValue, Table, Value};

use super::args::Args;

/// Chunk name of Assay's own Lua glue; frames from it are hidden from positions and tracebacks.
pub const INTERNAL_CHUNK: &str = "=[assay]";

/// The source Lua gives a function loaded from stripped bytecode: the glue chunk ships
/// stripped (its debug information was most of its load time at start-up), so its frames are
/// known by this name. A script cannot load such a chunk in the sandbox, and outside it a
/// stripped chunk has no position to show either.
pub const STRIPPED_CHUNK: &str = "=?";

/// Why a builtin failed.
#[derive(Debug, thiserror::Error)]
pub enum Raise {
    /// A message for the user; the builtin's name and the caller's position are prepended.
    #[error("{0}")]
    Message(String),
    /// An error from Lua itself (memory, a raising callback); passed on as Lua raised it.
    #[error(transparent)]
    Lua(#[from] mlua::Error),
    /// A message raised at the caller's position without the builtin's name (Lua's `assert`).
    #[error("{0}")]
    Positioned(String),
    /// A Lua error value to re-raise unchanged (a task's error, re-raised by `await`).
    #[error("lua error value")]
    Value(Value),
}

impl Raise {
    pub fn msg(text: impl Into<String>) -> Self {
        Raise::Message(text.into())
    }

    /// Whether this is the VM running out of memory.
    pub fn is_out_of_memory(&self) -> bool {
        matches!(self, Raise::Lua(e) if crate::vm::memory::is_out_of_memory(e))
    }
}

pub type BuiltinResult<T> = Result<T, Raise>;

/// Per-VM state of the protocol, and the glue chunk's helpers.
struct Protocol {
    fail: LightUserData,
    wrap: Function,
    glue: Table,
    /// "not enough memory", made once: raising it when memory has run out allocates nothing.
    out_of_memory: mlua::LuaString,
}

static FAIL_MARKER: u8 = 0;
static PENDING_MARKER: u8 = 0;

/// Registry field of `materialize(t)`, which fills a lazy module's table: nothing back when it
/// could, `(FAIL, message)` when it could not (see `lazy`).
pub const MATERIALIZE_KEY: &CStr = c"assay.materialize";

/// The marker of `(FAIL, message)`, a builtin's failure that the glue raises.
pub(crate) fn fail_marker() -> LightUserData {
    LightUserData(std::ptr::addr_of!(FAIL_MARKER) as *mut _)
}

/// Loads the glue chunk (`glue.lua`); must run before any builtin is created.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let fail = fail_marker();
    let error: Function = lua.globals().raw_get("error")?;
    let next: Function = lua.globals().raw_get("next")?;
    let materialize = lua.create_function(move |lua, t: Table| {
        crate::vm::ensure_open()?;
        match super::lazy::materialize(lua, &t) {
            Ok(()) => Ok(MultiValue::new()),
            Err(e @ mlua::Error::MemoryError(_)) => Err(e),
            Err(e) => {
                let text = format!("{}{}", caller_position(lua), error_message(&e));
                failure(lua, fail, &text)
            }
        }
    })?;
    let key = MATERIALIZE_KEY.to_str().map_err(mlua::Error::external)?;
    lua.set_named_registry_value(key, &materialize)?;
    let type_of: Function = lua.globals().raw_get("type")?;
    let pending = LightUserData(std::ptr::addr_of!(PENDING_MARKER) as *mut _);
    let coroutine: Table = lua.globals().raw_get("coroutine")?;
    let isyieldable: Function = coroutine.raw_get("isyieldable")?;
    let glue: Table = load_glue(lua)?.call((
        fail,
        error,
        next,
        materialize,
        type_of,
        pending,
        isyieldable,
    ))?;
    let wrap = glue.raw_get("wrap")?;
    super::coroutine::install(lua, glue.raw_get("patch_coroutines")?)?;
    let out_of_memory = lua.create_string("not enough memory")?;
    lua.set_app_data(Protocol {
        fail,
        wrap,
        glue,
        out_of_memory,
    });
    Ok(())
}

/// `timed_out()` for the glue: the deadline's message once the run is past it, else nil.
pub(super) fn timed_out(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, ()| {
        crate::vm::ensure_open()?;
        Ok(crate::vm::deadline::of(lua)
            .filter(|d| d.expired())
            .map(|d| d.message()))
    })
}

/// Makes `pcall` and `xpcall` re-raise a run's timeout (see `vm::deadline`).
pub fn guard_catchers(lua: &Lua) -> mlua::Result<()> {
    let guard: Function = glue(lua, "guard_catchers")?;
    guard.call((lua.globals(), timed_out(lua)?))
}

/// The glue chunk: bytecode compiled at build time (see build.rs), or the source when the
/// bytecode is missing (cross builds) or refused.
fn load_glue(lua: &Lua) -> mlua::Result<Function> {
    const BYTECODE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/glue.luac"));
    const SOURCE: &str = include_str!("glue.lua");
    if !BYTECODE.is_empty()
        && let Ok(f) = lua
            .load(BYTECODE)
            .set_mode(mlua::chunk::ChunkMode::Binary)
            .into_function()
    {
        return Ok(f);
    }
    lua.load(SOURCE).set_name(INTERNAL_CHUNK).into_function()
}

/// The error value of a builtin that ran out of memory: the plain string Lua's own allocator
/// raises, so `pcall` sees the same "not enough memory" wherever the limit was hit.
fn out_of_memory(lua: &Lua, e: mlua::Error) -> mlua::Result<MultiValue> {
    match lua.app_data_ref::<Protocol>() {
        Some(p) => (p.fail, p.out_of_memory.clone()).into_lua_multi(lua),
        None => Err(e),
    }
}

fn protocol(lua: &Lua) -> mlua::Result<(LightUserData, Function)> {
    let p = lua
        .app_data_ref::<Protocol>()
        .ok_or_else(|| mlua::Error::runtime("assay: builtins used before the VM was set up"))?;
    Ok((p.fail, p.wrap.clone()))
}

/// A helper from the glue chunk (`stub`, `on_first_call`).
pub fn glue<T: mlua::FromLua>(lua: &Lua, name: &str) -> mlua::Result<T> {
    let p = lua
        .app_data_ref::<Protocol>()
        .ok_or_else(|| mlua::Error::runtime("assay: glue used before the VM was set up"))?;
    p.glue.raw_get(name)
}

/// Creates the Lua function `name` (e.g. `"json.parse"`) from a synchronous Rust function.
pub fn function<F, R>(lua: &Lua, name: &'static str, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, Args) -> BuiltinResult<R> + 'static,
    R: IntoLuaMulti,
{
    let (fail, wrap) = protocol(lua)?;
    let raw = lua.create_function(move |lua, values: MultiValue| {
        crate::vm::ensure_open()?;
        let result = f(lua, Args::new(name, values));
        finish(lua, name, fail, result)
    })?;
    wrap.call(raw)
}

/// Creates the Lua function `name` from an async Rust function: the calling coroutine yields
/// until the future completes.
pub fn async_function<F, Fut, R>(lua: &Lua, name: &'static str, f: F) -> mlua::Result<Function>
where
    F: Fn(Lua, Args) -> Fut + 'static,
    Fut: Future<Output = BuiltinResult<R>> + 'static,
    R: IntoLuaMulti,
{
    let (fail, wrap) = protocol(lua)?;
    let raw = super::coroutine::with_native_yield(lua, || {
        lua.create_async_function(move |lua, values: MultiValue| {
            let open = crate::vm::ensure_open();
            let fut = open.map(|()| Released::new(f(lua.clone(), Args::new(name, values))));
            async move {
                let result = fut?.await;
                finish(&lua, name, fail, result)
            }
        })
    })?;
    wrap.call(raw)
}

/// What a [`ready_or_async_function`] call gives at first: its results, or a future to await.
pub enum Started<R, Fut> {
    Ready(R),
    Pending(Fut),
}

/// A pending call's future, handed from the plain call to its awaiting half.
type Parked<R> =
    std::cell::RefCell<Option<std::pin::Pin<Box<dyn Future<Output = BuiltinResult<R>>>>>>;

/// Creates the Lua function `name` from a Rust function that completes at once or gives a
/// future: a call that completes at once costs a plain call (no future boxed for mlua, no
/// coroutine machinery: a third of an async call's cost); only a pending one goes on to an
/// async function, which yields the calling coroutine until the future completes. Where the
/// caller cannot yield, the function is refused before it starts, whether or not it would
/// have completed at once: the same call behaves the same whatever the timing.
pub fn ready_or_async_function<F, Fut, R>(
    lua: &Lua,
    name: &'static str,
    f: F,
) -> mlua::Result<Function>
where
    F: Fn(&Lua, Args) -> BuiltinResult<Started<R, Fut>> + 'static,
    Fut: Future<Output = BuiltinResult<R>> + 'static,
    R: IntoLuaMulti + 'static,
{
    let (fail, _) = protocol(lua)?;
    let pending = LightUserData(std::ptr::addr_of!(PENDING_MARKER) as *mut _);
    let raw = lua.create_function(move |lua, values: MultiValue| {
        crate::vm::ensure_open()?;
        match f(lua, Args::new(name, values)) {
            Ok(Started::Ready(values)) => finish(lua, name, fail, Ok(values)),
            Ok(Started::Pending(future)) => {
                let parked: Parked<R> = std::cell::RefCell::new(Some(Box::pin(future)));
                (pending, lua.create_any_userdata(parked)?).into_lua_multi(lua)
            }
            Err(raised) => finish::<R>(lua, name, fail, Err(raised)),
        }
    })?;
    let awaiting = async_function(lua, name, move |_lua, args| {
        let parked = match args.value(1) {
            mlua::Value::UserData(ud) => ud
                .borrow::<Parked<R>>()
                .ok()
                .and_then(|p| p.borrow_mut().take()),
            _ => None,
        };
        async move {
            match parked {
                Some(future) => future.await,
                None => Err(Raise::msg("internal error: no pending call to await")),
            }
        }
    })?;
    // Called instead of `raw` where the caller cannot yield (inside table.sort, string.gsub,
    // a __tostring...): refused before anything starts, so a call that would have to wait is
    // never begun there (its statement sent, its request made) and then abandoned.
    let cannot_wait = function(lua, name, |_, _| -> BuiltinResult<()> {
        Err(Raise::msg(
            "cannot be called here: it may have to wait, and code run by a C function \
             (table.sort, string.gsub, tostring, a finalizer) cannot; call it outside",
        ))
    })?;
    let wrap: Function = glue(lua, "wrap_ready_or_async")?;
    wrap.call((raw, awaiting, cannot_wait))
}

/// A builtin's future, freed as soon as it completes.
///
/// mlua keeps a finished async call's future until the collector frees the userdata that
/// holds it, and the collector does not see the Rust memory behind it: a loop of 400,000
/// `sleep(0)` calls held 330 MB (a few hundred bytes each) until the next full cycle. Boxed
/// here and dropped on completion, what stays until then is this small shell.
struct Released<F: Future>(Option<std::pin::Pin<Box<F>>>);

impl<F: Future> Released<F> {
    fn new(future: F) -> Self {
        Released(Some(Box::pin(future)))
    }
}

impl<F: Future> Future for Released<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let Some(inner) = self.0.as_mut() else {
            return std::task::Poll::Pending;
        };
        let output = std::task::ready!(inner.as_mut().poll(cx));
        self.0 = None;
        std::task::Poll::Ready(output)
    }
}

fn finish<R: IntoLuaMulti>(
    lua: &Lua,
    name: &str,
    fail: LightUserData,
    result: BuiltinResult<R>,
) -> mlua::Result<MultiValue> {
    match result {
        Ok(values) => values.into_lua_multi(lua),
        Err(Raise::Message(message)) => {
            let text = format!("{}{name}: {message}", caller_position(lua));
            failure(lua, fail, &text)
        }
        Err(Raise::Positioned(message)) => {
            failure(lua, fail, &format!("{}{message}", caller_position(lua)))
        }
        Err(Raise::Value(value)) => (fail, value).into_lua_multi(lua),
        Err(Raise::Lua(e @ mlua::Error::MemoryError(_))) => out_of_memory(lua, e),
        Err(Raise::Lua(e)) => {
            let text = format!("{}{name}: {}", caller_position(lua), error_message(&e));
            failure(lua, fail, &text)
        }
    }
}

/// `(FAIL, text)`, the text copied into a string Lua's allocator counts. (mlua hands a Rust
/// `String` to Lua 5.5 as an external string, which the memory limit never sees: an error
/// message quoting a big string could hold gigabytes outside it.)
pub(crate) fn failure(lua: &Lua, fail: LightUserData, text: &str) -> mlua::Result<MultiValue> {
    match lua.create_string(text) {
        Ok(text) => (fail, text).into_lua_multi(lua),
        Err(e @ mlua::Error::MemoryError(_)) => out_of_memory(lua, e),
        Err(e) => Err(e),
    }
}

/// `"file:line: "` of the innermost Lua frame that is not Assay's own glue, or `""`.
pub fn caller_position(lua: &Lua) -> String {
    for level in 0..32 {
        let found = lua.inspect_stack(level, |frame| {
            let source = frame.source();
            let glue = match source.source.as_deref() {
                Some(name) => {
                    name == INTERNAL_CHUNK || name == STRIPPED_CHUNK || name.contains("__mlua")
                }
                None => false,
            };
            if source.what == "C" || glue {
                return None;
            }
            let line = frame.current_line()?;
            Some(format!(
                "{}:{line}: ",
                source.short_src.as_deref().unwrap_or("?")
            ))
        });
        match found {
            None => break,
            Some(Some(position)) => return position,
            Some(None) => continue,
        }
    }
    String::new()
}

/// The message of an mlua error without mlua's decoration ("runtime error: ", tracebacks).
pub fn error_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => error_message(cause),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::MemoryError(_) => "not enough memory".to_owned(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::WithContext { context, cause } => {
            format!("{context}: {}", error_message(cause))
        }
        other => other.to_string(),
    }
}
