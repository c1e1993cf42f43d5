//! Lua values out through serde's `Serialize`, for every format.
//!
//! The walk reads the Lua stack directly (`lua_next`, `lua_rawgeti`, `lua_tolstring` on
//! strings): none of those calls allocates or raises, so no Lua error can unwind through the
//! serializer, and no value takes a reference slot (going through mlua's `Value` for every
//! entry cost half of the encoding time). Strings are borrowed from Lua, not copied.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::ffi::{CStr, c_int, c_void};

use mlua::{Lua, Value, ffi};
use serde::ser::{Serialize, Serializer};

use super::Markers;
use crate::builtins::function::Raise;
use crate::builtins::inspect::format_float;

mod tables;

pub use tables::is_too_sparse;

/// Nesting deeper than this is refused by default (it is almost always a mistake, and it
/// bounds recursion).
pub const MAX_DEPTH: usize = 1000;

#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions {
    /// Emit object keys in byte order (deterministic output) instead of table order.
    pub sort_keys: bool,
    /// Emit a decoded object's keys in the order its document had them (see `codec::order`),
    /// keys added since then after them (sorted when `sort_keys`).
    pub keep_order: bool,
    /// Tables nested deeper than this are refused.
    pub max_depth: usize,
    /// Whether infinities and NaN can be written (YAML and TOML have spellings for them; JSON
    /// has none).
    pub non_finite: bool,
    /// Why null cannot be written, for a format that has none (TOML).
    pub no_null: Option<&'static str>,
    /// Write the strings a decoded TOML document held as datetimes as datetimes again (see
    /// `Markers::datetimes`).
    pub datetimes: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            sort_keys: false,
            keep_order: false,
            max_depth: MAX_DEPTH,
            non_finite: false,
            no_null: None,
            datetimes: false,
        }
    }
}

/// One encoding run: options, cycle detection, and where a failure happened.
pub struct Encoder {
    array_marker: *const c_void,
    object_marker: *const c_void,
    /// The registry of decoded tables' key orders, when `options.keep_order`.
    order: Option<mlua::Table>,
    /// The registry of decoded TOML datetimes, when `options.datetimes`.
    datetimes: Option<mlua::Table>,
    /// Its stack slot during a run (0: none).
    order_index: Cell<c_int>,
    datetimes_index: Cell<c_int>,
    options: EncodeOptions,
    visiting: RefCell<Vec<*const c_void>>,
    problem: RefCell<Option<String>>,
    /// Path segments of the failing value, innermost first.
    path: RefCell<Vec<(usize, String)>>,
    /// Set when the walk stopped for lack of Lua stack space.
    out_of_stack: Cell<bool>,
    /// What the output will take at least (the bytes of every string, key and number on the
    /// way, repeated references counted each time), and what the VM has left for it.
    estimate: Cell<usize>,
    room: Cell<Option<usize>>,
    out_of_memory: Cell<bool>,
}

/// An output that refuses to grow past `room` bytes (the VM's free memory): the encoders'
/// buffers are Rust's, outside Lua's limit, so they are checked as they grow.
pub struct Limited<W> {
    inner: W,
    room: Option<usize>,
    written: usize,
    exceeded: bool,
}

impl<W> Limited<W> {
    pub fn new(inner: W, room: Option<usize>) -> Self {
        Self {
            inner,
            room,
            written: 0,
            exceeded: false,
        }
    }

    /// Whether a write was refused for lack of memory.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    #[inline]
    fn charge(&mut self, bytes: usize) -> bool {
        self.written = self.written.saturating_add(bytes);
        if self.room.is_some_and(|room| self.written > room) {
            self.exceeded = true;
        }
        !self.exceeded
    }
}

impl<W: std::io::Write> std::io::Write for Limited<W> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.charge(buf.len()) {
            return Err(refused());
        }
        self.inner.write(buf)
    }

    /// Serializers write in pieces of a byte or a few (`"`, `:`, `,`): the default
    /// `write_all` loops over `write` out of line, which took a fifth of `json.encode`'s
    /// instructions on small records. One check, then the inner writer's own `write_all`.
    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if !self.charge(buf.len()) {
            return Err(refused());
        }
        self.inner.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cold]
fn refused() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::OutOfMemory, "not enough memory")
}

impl<W: std::fmt::Write> std::fmt::Write for Limited<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if !self.charge(s.len()) {
            return Err(std::fmt::Error);
        }
        self.inner.write_str(s)
    }
}

impl Encoder {
    pub fn new(markers: &Markers, options: EncodeOptions) -> Self {
        Self {
            array_marker: markers.array.to_pointer(),
            object_marker: markers.object.to_pointer(),
            order: options.keep_order.then(|| markers.order.clone()),
            datetimes: options.datetimes.then(|| markers.datetimes.clone()),
            order_index: Cell::new(0),
            datetimes_index: Cell::new(0),
            options,
            visiting: RefCell::new(Vec::new()),
            problem: RefCell::new(None),
            path: RefCell::new(Vec::new()),
            out_of_stack: Cell::new(false),
            estimate: Cell::new(0),
            room: Cell::new(None),
            out_of_memory: Cell::new(false),
        }
    }

    /// Counts `bytes` of output to come; false (and the walk stops) past the VM's free memory.
    fn charge(&self, bytes: usize) -> bool {
        let estimate = self.estimate.get().saturating_add(bytes);
        self.estimate.set(estimate);
        if self.room.get().is_some_and(|room| estimate > room) {
            self.out_of_memory.set(true);
            return false;
        }
        true
    }

    fn out_of_memory<E: serde::ser::Error>(&self) -> E {
        E::custom("not enough memory")
    }

    /// Serializes `value` with `write`, turning any failure into a message that says where.
    /// Output that would not fit in the VM's free memory is a memory error.
    pub fn run<T, E: std::fmt::Display>(
        &self,
        lua: &Lua,
        value: &Value,
        write: impl FnOnce(&Node<'_>) -> Result<T, E>,
    ) -> Result<T, Raise> {
        self.room.set(crate::vm::memory::available(lua));
        // What a previous run noted of failures its serializer caught is not this run's.
        self.problem.take();
        self.path.take();
        let mut outcome = None;
        // SAFETY: the closure only reads the stack slots it pushes or that `exec_raw` gave it,
        // restores the stack top it found, and calls no Lua function that can raise.
        let order = self.order.clone().map_or(Value::Nil, Value::Table);
        let datetimes = self.datetimes.clone().map_or(Value::Nil, Value::Table);
        unsafe {
            lua.exec_raw::<()>((value.clone(), order, datetimes), |state| {
                let top = ffi::lua_gettop(state);
                if self.order.is_some() {
                    self.order_index.set(top - 1);
                }
                if self.datetimes.is_some() {
                    self.datetimes_index.set(top);
                }
                let node = Node {
                    enc: self,
                    state,
                    index: top - 2,
                    depth: 0,
                    datetime: false,
                };
                outcome = Some(write(&node));
                ffi::lua_settop(state, 0);
            })?;
        }
        let result = outcome.ok_or_else(|| Raise::msg("encoding did not run"))?;
        if self.out_of_memory.get() {
            return Err(Raise::Lua(crate::vm::memory::out_of_memory()));
        }
        result.map_err(|e| {
            let message = self.problem.take().unwrap_or_else(|| e.to_string());
            let path = self.path.take();
            if path.is_empty() {
                Raise::Message(message)
            } else {
                let location: String = path.iter().rev().map(|(_, s)| s.as_str()).collect();
                Raise::Message(format!("{message} (at ${location})"))
            }
        })
    }

    fn fail<E: serde::ser::Error>(&self, message: String) -> E {
        let error = E::custom(&message);
        *self.problem.borrow_mut() = Some(message);
        error
    }

    /// Adds the segment of a table at `depth` to the failing value's path, as the error goes
    /// out through it. A segment no deeper than the last one starts a new path: the failure
    /// noted so far was caught (serializers such as TOML's retry a value another way).
    fn note(&self, depth: usize, segment: String) {
        let mut path = self.path.borrow_mut();
        if path.last().is_some_and(|(last, _)| *last <= depth) {
            path.clear();
        }
        path.push((depth, segment));
    }
}

/// A value on the Lua stack, being serialized.
pub struct Node<'e> {
    enc: &'e Encoder,
    state: *mut ffi::lua_State,
    /// Absolute stack index of the value.
    index: c_int,
    depth: usize,
    /// A string here was a TOML datetime when decoded (see `EncodeOptions::datetimes`).
    datetime: bool,
}

fn key_segment(key: &str) -> String {
    let identifier = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        format!(".{key}")
    } else {
        format!("[{key:?}]")
    }
}

/// Restores the stack top when dropped, on every exit path.
struct StackGuard {
    state: *mut ffi::lua_State,
    top: c_int,
}

impl StackGuard {
    fn new(state: *mut ffi::lua_State) -> Self {
        // SAFETY: reading the top of a valid state.
        let top = unsafe { ffi::lua_gettop(state) };
        Self { state, top }
    }
}

impl Drop for StackGuard {
    fn drop(&mut self) {
        // SAFETY: only ever lowers the top back to where it was.
        unsafe { ffi::lua_settop(self.state, self.top) };
    }
}

impl<'e> Node<'e> {
    fn at(&self, index: c_int) -> Node<'e> {
        self.at_datetime(index, false)
    }

    fn at_datetime(&self, index: c_int, datetime: bool) -> Node<'e> {
        Node {
            enc: self.enc,
            state: self.state,
            // SAFETY: `index` names a slot of this state.
            index: unsafe { ffi::lua_absindex(self.state, index) },
            depth: self.depth + 1,
            datetime,
        }
    }

    /// The bytes of the string at `index` (the caller has checked it is a string).
    ///
    /// # Safety
    /// The slot must hold a string, which stays alive while the returned slice is used.
    unsafe fn bytes<'a>(&self, index: c_int) -> &'a [u8] {
        let mut len = 0usize;
        // SAFETY: on a string, lua_tolstring neither converts nor allocates.
        unsafe {
            let ptr = ffi::lua_tolstring(self.state, index, &mut len);
            std::slice::from_raw_parts(ptr.cast::<u8>(), len)
        }
    }

    fn type_name(&self, index: c_int) -> &'static str {
        // SAFETY: lua_typename returns a static C string.
        unsafe {
            let t = ffi::lua_type(self.state, index);
            CStr::from_ptr(ffi::lua_typename(self.state, t))
                .to_str()
                .unwrap_or("value")
        }
    }
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (state, i) = (self.state, self.index);
        // SAFETY: `i` is a live slot; every call below only reads it.
        unsafe {
            let size = match ffi::lua_type(state, i) {
                ffi::LUA_TSTRING => ffi::lua_rawlen(state, i) as usize + 2,
                _ => 4,
            };
            if !self.enc.charge(size) {
                return Err(self.enc.out_of_memory());
            }
            match ffi::lua_type(state, i) {
                ffi::LUA_TNIL | ffi::LUA_TLIGHTUSERDATA
                    if self.enc.options.no_null.is_some()
                        && ffi::lua_touserdata(state, i).is_null() =>
                {
                    Err(self.enc.fail(self.enc.options.no_null.unwrap_or_default().into()))
                }
                ffi::LUA_TNIL => s.serialize_unit(),
                ffi::LUA_TBOOLEAN => s.serialize_bool(ffi::lua_toboolean(state, i) != 0),
                ffi::LUA_TNUMBER if ffi::lua_isinteger(state, i) != 0 => {
                    s.serialize_i64(ffi::lua_tointeger(state, i))
                }
                ffi::LUA_TNUMBER => {
                    let n = ffi::lua_tonumber(state, i);
                    if n.is_finite() || self.enc.options.non_finite {
                        s.serialize_f64(n)
                    } else {
                        Err(self.enc.fail(format!(
                            "cannot encode {} (not a finite number)",
                            format_float(n)
                        )))
                    }
                }
                ffi::LUA_TSTRING => match utf8(self.bytes(i)) {
                    Ok(text) if self.datetime => match text.parse::<toml::value::Datetime>() {
                        Ok(datetime) => datetime.serialize(s),
                        Err(_) => s.serialize_str(text),
                    },
                    Ok(text) => s.serialize_str(text),
                    Err(_) => Err(self.enc.fail(
                        "cannot encode a string that is not valid UTF-8 (base64-encode binary data)"
                            .into(),
                    )),
                },
                ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(state, i).is_null() => {
                    s.serialize_unit()
                }
                ffi::LUA_TTABLE => self.table(s),
                _ => Err(self
                    .enc
                    .fail(format!("cannot encode a {} value", self.type_name(i)))),
            }
        }
    }
}

/// `str::from_utf8`, with a branch-free fast path for short ASCII text: most keys and many
/// values of records are a few ASCII bytes, where the general check's set-up cost more than
/// the check (a sixth of `json.encode`'s instructions on small records).
#[inline]
fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if bytes.len() <= 16 && bytes.iter().fold(0, |all, b| all | b) < 0x80 {
        // SAFETY: every byte is ASCII, which is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes)
}

/// What an object key looks like in the output.
fn key_text<'a, E: serde::ser::Error>(node: &Node<'_>, index: c_int) -> Result<Cow<'a, str>, E> {
    // SAFETY: reads the key slot only.
    unsafe {
        let size = match ffi::lua_type(node.state, index) {
            ffi::LUA_TSTRING => ffi::lua_rawlen(node.state, index) as usize + 3,
            _ => 8,
        };
        if !node.enc.charge(size) {
            return Err(node.enc.out_of_memory());
        }
        match ffi::lua_type(node.state, index) {
            ffi::LUA_TSTRING => match utf8(node.bytes(index)) {
                Ok(k) => Ok(Cow::Borrowed(k)),
                Err(_) => Err(node
                    .enc
                    .fail("cannot encode a table key that is not valid UTF-8".into())),
            },
            ffi::LUA_TNUMBER if ffi::lua_isinteger(node.state, index) != 0 => Ok(Cow::Owned(
                ffi::lua_tointeger(node.state, index).to_string(),
            )),
            ffi::LUA_TNUMBER => Ok(Cow::Owned(format_float(ffi::lua_tonumber(
                node.state, index,
            )))),
            _ => Err(node.enc.fail(format!(
                "cannot encode a table key of type {}",
                node.type_name(index)
            ))),
        }
    }
}
