//! JSON parser events straight onto the Lua stack: the decoder of `json.parse`.
//!
//! [`super::to_lua`] builds every value as an mlua `Value`, which takes a reference slot per
//! string and table and a protected call per insertion. On documents of many small records
//! that bookkeeping cost more than the parsing (20,000 records of 7 fields parsed at 0.95×
//! lua-cjson). Here each value is pushed onto the Lua stack with the C API and stored into its
//! table with `lua_rawset`, as lua-cjson does, and three costs of small records are cut:
//! - **table sizes**: an object is created with room for as many entries as the last object
//!   completed at the same depth had (arrays likewise), so a list of records sizes each record
//!   right the first time instead of growing its hash part 1, 2, 4, 8. A wrong guess costs
//!   one resize, as no guess does; the guess is capped so one odd sibling wastes little;
//! - **key strings**: records repeat the same few keys. A small cache keeps the Lua strings of
//!   recent keys in stack slots, found by length and three bytes and confirmed by comparing
//!   the bytes, and pushes a hit with `lua_pushvalue` instead of hashing and interning it;
//! - **UTF-8 checks**: the whole text is validated once up front (fast on long runs of ASCII)
//!   and parsed as `str`, so no string is validated twice; text that is not UTF-8 is parsed
//!   as bytes, which reports the error where serde_json finds it, as before.
//!
//! Safety: none of the C functions used here may raise a Lua error, because the frames they
//! would unwind through are Rust's. They only raise for memory, and the decode runs under a
//! [`Budget`], with the VM's memory limit lifted: mlua's allocator then never fails (it aborts
//! the process on a real out-of-memory, as any Rust allocation does), which is the same
//! reasoning by which mlua itself calls them unprotected when no limit is set. Keys are
//! strings only (never nil or NaN), and the stack is grown with `lua_checkstack`, which
//! reports failure instead of raising.

use std::cell::Cell;
use std::ffi::c_int;
use std::fmt;

use mlua::{Lua, Value, ffi};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::Budget;

/// Cached key strings: a power of two, the stack slots the cache takes.
const KEY_SLOTS: usize = 64;
/// Keys longer than this are not cached (long keys rarely repeat, and comparing costs more).
const MAX_CACHED_KEY: usize = 32;
/// Size guesses are taken from the last sibling up to these many entries.
const MAX_OBJECT_GUESS: u32 = 64;
const MAX_ARRAY_GUESS: u32 = 1024;
/// Nesting levels that keep a size guess (serde_json refuses documents deeper than 128).
const GUESS_DEPTHS: usize = 130;

/// Decodes `text` with serde_json onto the stack of `lua` and returns the value, a JSON
/// syntax error (`Ok(Err)`), or a Lua failure (memory, the nesting the stack cannot hold).
pub fn decode_json(
    lua: &Lua,
    array_marker: &mlua::Table,
    budget: &Budget<'_>,
    text: &[u8],
) -> mlua::Result<Result<Value, serde_json::Error>> {
    let failure = Cell::new(None);
    let mut syntax = None;
    // SAFETY: the closure pushes onto the stack `exec_raw` gave it (growing it with
    // `lua_checkstack` first), calls only functions that cannot raise while the memory limit
    // is lifted (see the module's docs), and leaves exactly the result in slot 1, or nothing.
    let value = unsafe {
        lua.exec_raw::<Value>(array_marker, |state| {
            let stack = Stack::new(state, ffi::lua_gettop(state), budget, &failure);
            let parsed = match std::str::from_utf8(text) {
                Ok(text) => parse(&stack, serde_json::Deserializer::from_str(text)),
                Err(_) => parse(&stack, serde_json::Deserializer::from_slice(text)),
            };
            match parsed {
                Ok(()) => {
                    ffi::lua_replace(state, 1);
                    ffi::lua_settop(state, 1);
                }
                Err(e) => {
                    ffi::lua_settop(state, 0);
                    syntax = Some(e);
                }
            }
        })?
    };
    if let Some(lua_error) = failure.take() {
        return Err(lua_error);
    }
    Ok(syntax.map_or(Ok(value), Err))
}

/// Runs one document through `de`, which must end after it (trailing spaces aside).
fn parse<'de, R: serde_json::de::Read<'de>>(
    stack: &Stack<'_>,
    mut de: serde_json::Deserializer<R>,
) -> Result<(), serde_json::Error> {
    // The key cache's slots, and one for the document's value.
    stack.reserve::<serde_json::Error>(KEY_SLOTS as c_int + 1)?;
    // SAFETY: the slots were just reserved; they start as nil (no key cached).
    unsafe { ffi::lua_settop(stack.state, stack.marker + KEY_SLOTS as c_int) };
    StackSeed(stack).deserialize(&mut de)?;
    de.end()
}

/// The state of one decode: where things are on the stack, the key cache, size guesses.
struct Stack<'a> {
    state: *mut ffi::lua_State,
    /// The slot of the array marker metatable; the key cache's slots follow it.
    marker: c_int,
    budget: &'a Budget<'a>,
    failure: &'a Cell<Option<mlua::Error>>,
    /// Per cache slot, the bytes of the key string held there (none yet: null, 0). They point
    /// into Lua strings anchored in those slots, which the collector neither frees nor moves.
    keys: [Cell<(*const u8, usize)>; KEY_SLOTS],
    depth: Cell<usize>,
    /// Per depth, the number of entries of the last object and array completed there.
    last_object: [Cell<u32>; GUESS_DEPTHS],
    last_array: [Cell<u32>; GUESS_DEPTHS],
}

impl<'a> Stack<'a> {
    /// A decode whose array marker is in slot `marker`; [`parse`] puts the key cache above it.
    fn new(
        state: *mut ffi::lua_State,
        marker: c_int,
        budget: &'a Budget<'a>,
        failure: &'a Cell<Option<mlua::Error>>,
    ) -> Self {
        Self {
            state,
            marker,
            budget,
            failure,
            keys: std::array::from_fn(|_| Cell::new((std::ptr::null(), 0))),
            depth: Cell::new(0),
            last_object: std::array::from_fn(|_| Cell::new(0)),
            last_array: std::array::from_fn(|_| Cell::new(0)),
        }
    }

    fn fail<E: de::Error>(&self, e: mlua::Error) -> E {
        let message = e.to_string();
        self.failure.set(Some(e));
        E::custom(message)
    }

    /// Makes room for `n` more values (nesting is bounded by serde_json; this is a guard).
    fn reserve<E: de::Error>(&self, n: c_int) -> Result<(), E> {
        // SAFETY: `lua_checkstack` reports failure instead of raising.
        match unsafe { ffi::lua_checkstack(self.state, n) } {
            0 => Err(self.fail(mlua::Error::runtime(
                "JSON nesting too deep for the Lua stack",
            ))),
            _ => Ok(()),
        }
    }

    fn push_string<E: de::Error>(&self, bytes: &[u8]) -> Result<(), E> {
        self.budget.string(bytes.len()).map_err(|e| self.fail(e))?;
        // SAFETY: one free slot is always reserved by the caller's container (or the start).
        unsafe { ffi::lua_pushlstring(self.state, bytes.as_ptr().cast(), bytes.len()) };
        Ok(())
    }

    /// Pushes a key string, from the cache when it holds it.
    fn push_key<E: de::Error>(&self, key: &[u8]) -> Result<(), E> {
        let (Some(&first), Some(&last)) = (key.first(), key.last()) else {
            return self.push_string(key);
        };
        if key.len() > MAX_CACHED_KEY {
            return self.push_string(key);
        }
        let mix = key.len() * 31 + usize::from(first) * 7 + usize::from(key[key.len() / 2]) * 3;
        let index = (mix + usize::from(last)) % KEY_SLOTS;
        let slot = self.marker + 1 + index as c_int;
        let (cached, len) = self.keys[index].get();
        if len == key.len() {
            // SAFETY: `cached` points at `len` bytes of the string anchored in `slot`.
            if unsafe { std::slice::from_raw_parts(cached, len) } == key {
                // SAFETY: the caller reserved a slot; `slot` is in the stack.
                unsafe { ffi::lua_pushvalue(self.state, slot) };
                return Ok(());
            }
        }
        self.push_string(key)?;
        // SAFETY: one more reserved slot holds the copy until it replaces the cached string;
        // the string stays on top, and its bytes live as long as it is anchored in `slot`.
        unsafe {
            ffi::lua_pushvalue(self.state, -1);
            ffi::lua_replace(self.state, slot);
            let mut n = 0;
            let bytes = ffi::lua_tolstring(self.state, slot, &mut n);
            self.keys[index].set((bytes.cast(), n));
        }
        Ok(())
    }

    /// Room to create for a container at the current depth, from its last sibling.
    fn guess(&self, siblings: &[Cell<u32>; GUESS_DEPTHS], cap: u32) -> c_int {
        siblings
            .get(self.depth.get())
            .map_or(0, |n| n.get().min(cap) as c_int)
    }

    fn remember(&self, siblings: &[Cell<u32>; GUESS_DEPTHS], entries: usize) {
        if let Some(n) = siblings.get(self.depth.get()) {
            n.set(u32::try_from(entries).unwrap_or(u32::MAX));
        }
    }
}

/// Pushes one value onto the stack.
#[derive(Clone, Copy)]
struct StackSeed<'s>(&'s Stack<'s>);

impl<'de> DeserializeSeed<'de> for StackSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StackSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    // SAFETY (every push below): the enclosing container, or the start, reserved the slot.

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        unsafe { ffi::lua_pushboolean(self.0.state, c_int::from(v)) };
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        unsafe { ffi::lua_pushinteger(self.0.state, v) };
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(v) => unsafe { ffi::lua_pushinteger(self.0.state, v) },
            // Beyond 64 bits signed: the nearest float, as in `to_lua`.
            Err(_) => unsafe { ffi::lua_pushnumber(self.0.state, v as f64) },
        }
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        unsafe { ffi::lua_pushnumber(self.0.state, v) };
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_string(v.as_bytes())
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(), E> {
        self.0.push_string(v)
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        // `json.null`: the NULL light userdata (see `codec::null`).
        unsafe { ffi::lua_pushlightuserdata(self.0.state, std::ptr::null_mut()) };
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let stack = self.0;
        // The array, and one value on top of it at a time.
        stack.reserve(2)?;
        let guess = stack.guess(&stack.last_array, MAX_ARRAY_GUESS);
        unsafe { ffi::lua_createtable(stack.state, guess, 0) };
        stack.depth.set(stack.depth.get() + 1);
        let mut index: ffi::lua_Integer = 0;
        while let Some(()) = seq.next_element_seed(self)? {
            index += 1;
            stack.budget.tick().map_err(|e| stack.fail(e))?;
            // SAFETY: the array is just below the value; an integer key cannot raise.
            unsafe { ffi::lua_rawseti(stack.state, -2, index) };
        }
        stack.depth.set(stack.depth.get() - 1);
        stack.remember(&stack.last_array, index as usize);
        // SAFETY: the marker is a table, so setting it as a metatable cannot raise.
        unsafe {
            ffi::lua_pushvalue(stack.state, stack.marker);
            ffi::lua_setmetatable(stack.state, -2);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let stack = self.0;
        // The object, a key and its value, and the key cache's copy of a new key.
        stack.reserve(4)?;
        let guess = stack.guess(&stack.last_object, MAX_OBJECT_GUESS);
        unsafe { ffi::lua_createtable(stack.state, 0, guess) };
        stack.depth.set(stack.depth.get() + 1);
        let mut entries = 0;
        while let Some(()) = map.next_key_seed(KeySeed(stack))? {
            map.next_value_seed(self)?;
            entries += 1;
            stack.budget.tick().map_err(|e| stack.fail(e))?;
            // SAFETY: object, key, value on top; a string key cannot raise.
            unsafe { ffi::lua_rawset(stack.state, -3) };
        }
        stack.depth.set(stack.depth.get() - 1);
        stack.remember(&stack.last_object, entries);
        Ok(())
    }
}

/// Pushes one object key (JSON keys are strings).
struct KeySeed<'s>(&'s Stack<'s>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_key(v.as_bytes())
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(), E> {
        self.0.push_key(v)
    }
}
