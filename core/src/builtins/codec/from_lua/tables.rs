//! How a table is written: as an array or an object, in which key order.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::c_int;

use mlua::ffi;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use super::{Node, StackGuard, key_segment, key_text};
use crate::builtins::codec::Shape;
use crate::builtins::inspect::format_float;

impl Node<'_> {
    fn shape(&self) -> Shape {
        // SAFETY: pushes the metatable (if any) and pops it again.
        unsafe {
            if ffi::lua_getmetatable(self.state, self.index) == 0 {
                return Shape::Unmarked;
            }
            let mt = ffi::lua_topointer(self.state, -1);
            ffi::lua_pop(self.state, 1);
            if mt == self.enc.array_marker {
                Shape::Array
            } else if mt == self.enc.object_marker {
                Shape::Object
            } else {
                Shape::Unmarked
            }
        }
    }

    /// Entry count, and whether the keys are exactly `1..=n` for the table's border `n`.
    fn count_entries(&self) -> (usize, bool) {
        let (state, index) = (self.state, self.index);
        let _guard = StackGuard::new(state);
        // SAFETY: plain traversal; the table is not modified while traversed.
        unsafe {
            let border = ffi::lua_rawlen(state, index) as i64;
            let mut count = 0usize;
            let mut sequence = border > 0;
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, index) != 0 {
                count += 1;
                if sequence {
                    let k = if ffi::lua_isinteger(state, -2) != 0 {
                        ffi::lua_tointeger(state, -2)
                    } else {
                        0
                    };
                    sequence = (1..=border).contains(&k);
                }
                ffi::lua_pop(state, 1);
            }
            (count, sequence && count as i64 == border)
        }
    }

    fn ensure_stack<E: serde::ser::Error>(&self, slots: usize) -> Result<(), E> {
        let ok = c_int::try_from(slots)
            // SAFETY: lua_checkstack reports failure instead of raising.
            .map(|n| unsafe { ffi::lua_checkstack(self.state, n) } != 0)
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            self.enc.out_of_stack.set(true);
            Err(self
                .enc
                .fail("the table is too large or too deep to encode".into()))
        }
    }

    pub(super) fn table<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let enc = self.enc;
        let max_depth = enc.options.max_depth;
        if self.depth >= max_depth {
            return Err(enc.fail(format!("nesting deeper than {max_depth} levels")));
        }
        self.ensure_stack(4)?;
        // SAFETY: reading the table's identity.
        let pointer = unsafe { ffi::lua_topointer(self.state, self.index) };
        if enc.visiting.borrow().contains(&pointer) {
            return Err(enc.fail("cannot encode a table that contains itself".into()));
        }
        enc.visiting.borrow_mut().push(pointer);
        let result = match self.shape() {
            Shape::Array => match self.marked_array_len() {
                Ok(len) => self.array(s, len),
                Err(e) => Err(e),
            },
            Shape::Object => self.object(s),
            Shape::Unmarked => {
                // SAFETY: reading the border of a table.
                let border = unsafe { ffi::lua_rawlen(self.state, self.index) };
                // Only a table with a border can be a sequence; objects skip the extra walk.
                if border > 0 && self.count_entries().1 {
                    self.array(s, border)
                } else {
                    self.object(s)
                }
            }
        };
        enc.visiting.borrow_mut().pop();
        result
    }

    /// The length of a table marked as an array (decoded as one, or `json.array`): its largest
    /// key. Every key must be a positive integer: a marked table with another key would lose
    /// it, so that is an error naming it. A hole (`t[2] = nil` in `{1, 2, 3}`) is written as
    /// null where the length says it belongs, never dropped with what follows it.
    fn marked_array_len<E: serde::ser::Error>(&self) -> Result<usize, E> {
        let (state, index) = (self.state, self.index);
        let _guard = StackGuard::new(state);
        let (mut len, mut count) = (0usize, 0usize);
        // SAFETY: plain traversal, the value popped after each entry; the key is only read.
        unsafe {
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, index) != 0 {
                let key = (ffi::lua_isinteger(state, -2) != 0)
                    .then(|| ffi::lua_tointeger(state, -2))
                    .and_then(|k| usize::try_from(k).ok())
                    .filter(|k| *k > 0);
                let Some(key) = key else {
                    let shown = match ffi::lua_type(state, -2) {
                        ffi::LUA_TSTRING => {
                            format!("{:?}", String::from_utf8_lossy(self.bytes(-2)))
                        }
                        ffi::LUA_TNUMBER if ffi::lua_isinteger(state, -2) != 0 => {
                            ffi::lua_tointeger(state, -2).to_string()
                        }
                        ffi::LUA_TNUMBER => format_float(ffi::lua_tonumber(state, -2)),
                        _ => format!("a {}", self.type_name(-2)),
                    };
                    return Err(self.enc.fail(format!(
                        "a table marked as an array has the key {shown} (only 1, 2, 3, ... \
                         can be written as an array)"
                    )));
                };
                len = len.max(key);
                count += 1;
                ffi::lua_pop(state, 1);
            }
        }
        if is_too_sparse(len, count) {
            return Err(self.enc.fail(format!(
                "a table marked as an array has {count} value(s) but its largest key is {len}: \
                 too sparse to write as an array (holes are written as null; mark it \
                 json.object to write its keys)"
            )));
        }
        Ok(len)
    }

    /// Items `1..=len`, a missing one as null. The length given to the serializer is only a
    /// hint, so it is never more than the entries (some build a container of that capacity).
    fn array<S: Serializer>(&self, s: S, len: usize) -> Result<S::Ok, S::Error> {
        let _outer = StackGuard::new(self.state);
        let datetimes = self.datetime_set();
        let mut seq = s.serialize_seq(None)?;
        for i in 1..=len {
            let _guard = StackGuard::new(self.state);
            let i = i as ffi::lua_Integer;
            // SAFETY: raw reads, two slots at most (room checked in `table`).
            let datetime = unsafe {
                datetimes.is_some_and(|set| {
                    ffi::lua_rawgeti(self.state, set, i);
                    let marked = ffi::lua_toboolean(self.state, -1) != 0;
                    ffi::lua_pop(self.state, 1);
                    marked
                })
            };
            // SAFETY: as above.
            unsafe { ffi::lua_rawgeti(self.state, self.index, i) };
            seq.serialize_element(&self.at_datetime(-1, datetime))
                .inspect_err(|_| self.enc.note(self.depth, format!("[{i}]")))?;
        }
        seq.end()
    }

    /// Pushes the set of this table's keys that held TOML datetimes, if there is one (and the
    /// encoder writes datetimes); its stack slot. The caller's guard pops it.
    fn datetime_set(&self) -> Option<c_int> {
        let registry = self.enc.datetimes_index.get();
        if registry == 0 {
            return None;
        }
        // SAFETY: one raw lookup, one slot (room checked in `table`); popped on a miss.
        unsafe {
            ffi::lua_pushvalue(self.state, self.index);
            if ffi::lua_rawget(self.state, registry) == ffi::LUA_TTABLE {
                Some(ffi::lua_gettop(self.state))
            } else {
                ffi::lua_pop(self.state, 1);
                None
            }
        }
    }

    fn object<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.enc.options.sort_keys
            || self.enc.order_index.get() != 0
            || self.enc.datetimes_index.get() != 0
        {
            return self.arranged_object(s);
        }
        let state = self.state;
        let _guard = StackGuard::new(state);
        let mut map = s.serialize_map(None)?;
        let mut twice = Twice::default();
        // SAFETY: traversal pushes key and value; the value is popped after each entry.
        unsafe {
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, self.index) != 0 {
                let key: Cow<'_, str> = key_text(self, -2)?;
                twice.note(&key, matches!(key, Cow::Owned(_)));
                map.serialize_entry(key.as_ref(), &self.at(-1))
                    .inspect_err(|_| self.enc.note(self.depth, key_segment(&key)))?;
                ffi::lua_pop(state, 1);
            }
        }
        self.check_twice(&twice)?;
        map.end()
    }

    /// Keys in the order their document had them, when the table was decoded and the format
    /// keeps it (see `codec::order`), then the others, in byte order when `sort_keys`: every
    /// entry is laid out on the stack, then emitted in that order.
    fn arranged_object<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let state = self.state;
        let (count, _) = self.count_entries();
        self.ensure_stack(2 * count + 6)?;
        let _guard = StackGuard::new(state);
        let recorded = self.recorded_order();
        let datetimes = self.datetime_set();
        let mut twice = Twice::default();
        // (place in the document, key, stack slot of the value, a datetime when decoded)
        let mut entries: Vec<(usize, Cow<'_, str>, c_int, bool)> = Vec::with_capacity(count);
        // SAFETY: leaves key/value pairs on the stack (room checked above); the guard pops them.
        unsafe {
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, self.index) != 0 {
                let value_index = ffi::lua_gettop(state);
                let key = key_text(self, -2)?;
                twice.note(&key, matches!(key, Cow::Owned(_)));
                let place = recorded.get(key.as_bytes()).copied().unwrap_or(usize::MAX);
                let datetime = datetimes.is_some_and(|set| {
                    ffi::lua_pushvalue(state, -2);
                    ffi::lua_rawget(state, set);
                    let marked = ffi::lua_toboolean(state, -1) != 0;
                    ffi::lua_pop(state, 1);
                    marked
                });
                entries.push((place, key, value_index, datetime));
                ffi::lua_pushvalue(state, -2);
            }
        }
        self.check_twice(&twice)?;
        if self.enc.options.sort_keys {
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        } else {
            // Stable: keys added since decoding keep table order.
            entries.sort_by_key(|entry| entry.0);
        }
        let mut map = s.serialize_map(Some(entries.len()))?;
        for (_, key, value_index, datetime) in &entries {
            map.serialize_entry(key.as_ref(), &self.at_datetime(*value_index, *datetime))
                .inspect_err(|_| self.enc.note(self.depth, key_segment(key)))?;
        }
        map.end()
    }

    /// The place of each key in the document this table was decoded from, if it was and the
    /// encoder keeps order. The key list stays alive while the table does (it is the table's
    /// entry in the order registry), so its strings can be borrowed.
    fn recorded_order<'a>(&self) -> HashMap<&'a [u8], usize> {
        let mut places = HashMap::new();
        let registry = self.enc.order_index.get();
        if registry == 0 {
            return places;
        }
        let state = self.state;
        let _guard = StackGuard::new(state);
        // SAFETY: a raw lookup in the registry table, then raw reads of the key list; every
        // push is popped by the guard (room checked by the caller).
        unsafe {
            ffi::lua_pushvalue(state, self.index);
            if ffi::lua_rawget(state, registry) != ffi::LUA_TTABLE {
                return places;
            }
            let list = ffi::lua_gettop(state);
            let len = ffi::lua_rawlen(state, list);
            places.reserve(len);
            for i in 1..=len {
                if ffi::lua_rawgeti(state, list, i as ffi::lua_Integer) == ffi::LUA_TSTRING {
                    places.entry(self.bytes(-1)).or_insert(i);
                }
                ffi::lua_pop(state, 1);
            }
        }
        places
    }
}

/// lua-cjson's rule for a marked array with holes (`encode_sparse_array`, ratio 2, safe 10):
/// more than twice as long as it has values, and longer than 10, is refused rather than
/// written out as mostly nulls (`json.array({[2^40] = 1})` would be a terabyte of them).
pub fn is_too_sparse(len: usize, count: usize) -> bool {
    len > 10 && len > count.saturating_mul(2)
}

/// Catches a table holding one key twice once written as text: the number `1` and the string
/// `"1"` (or `1.5` and `"1.5"`) would both be written `"1"`, and a reader keeps only one of
/// them. Only number keys are noted as the table is written (rare, and free to skip); when
/// there are some, [`Node::check_twice`] looks for their text among the string keys.
#[derive(Default)]
struct Twice {
    numbers: Vec<String>,
}

impl Twice {
    /// Notes `key` if it is a number's text ([`key_text`] gives those owned, strings
    /// borrowed).
    #[inline]
    fn note(&mut self, key: &str, is_number: bool) {
        if is_number {
            self.numbers.push(key.to_owned());
        }
    }
}

impl Node<'_> {
    fn check_twice<E: serde::ser::Error>(&self, twice: &Twice) -> Result<(), E> {
        if twice.numbers.is_empty() {
            return Ok(());
        }
        self.ensure_stack(3)?;
        let numbers: std::collections::HashSet<&str> =
            twice.numbers.iter().map(String::as_str).collect();
        let state = self.state;
        let _guard = StackGuard::new(state);
        // SAFETY: plain traversal, the value popped after each entry; string keys only read.
        unsafe {
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, self.index) != 0 {
                if ffi::lua_type(state, -2) == ffi::LUA_TSTRING
                    && let Ok(text) = std::str::from_utf8(self.bytes(-2))
                    && numbers.contains(text)
                {
                    return Err(self.enc.fail(format!(
                        "the table has the key {text} twice, as a number and as a string \
                         (both would be written \"{text}\")"
                    )));
                }
                ffi::lua_pop(state, 1);
            }
        }
        Ok(())
    }
}
