//! Lua values out through serde's `Serialize`, for every format.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;

use mlua::{Table, Value};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::{Markers, Shape, is_null, shape};
use crate::builtins::args::type_name;
use crate::builtins::function::Raise;

/// Nesting deeper than this is refused (it is almost always a mistake, and it bounds recursion).
const MAX_DEPTH: usize = 1000;

#[derive(Debug, Clone, Copy, Default)]
pub struct EncodeOptions {
    /// Emit object keys in byte order (deterministic output) instead of table order.
    pub sort_keys: bool,
}

/// One encoding run: options, cycle detection, and where a failure happened.
pub struct Encoder<'m> {
    markers: &'m Markers,
    options: EncodeOptions,
    visiting: RefCell<Vec<*const c_void>>,
    problem: RefCell<Option<String>>,
    /// Path segments of the failing value, innermost first.
    path: RefCell<Vec<String>>,
    failure: Cell<Option<mlua::Error>>,
}

impl<'m> Encoder<'m> {
    pub fn new(markers: &'m Markers, options: EncodeOptions) -> Self {
        Self {
            markers,
            options,
            visiting: RefCell::new(Vec::new()),
            problem: RefCell::new(None),
            path: RefCell::new(Vec::new()),
            failure: Cell::new(None),
        }
    }

    /// Serializes `value` with `write`, turning any failure into a message that says where.
    pub fn run<T, E: std::fmt::Display>(
        &self,
        value: &Value,
        write: impl FnOnce(&Node<'_, 'm>) -> Result<T, E>,
    ) -> Result<T, Raise> {
        let node = Node {
            enc: self,
            value: value.clone(),
            depth: 0,
        };
        write(&node).map_err(|e| {
            if let Some(lua_error) = self.failure.take() {
                return Raise::Lua(lua_error);
            }
            let message = self.problem.take().unwrap_or_else(|| e.to_string());
            let path = self.path.take();
            if path.is_empty() {
                Raise::Message(message)
            } else {
                let location: String = path.iter().rev().map(String::as_str).collect();
                Raise::Message(format!("{message} (at ${location})"))
            }
        })
    }

    fn fail<E: serde::ser::Error>(&self, message: String) -> E {
        let error = E::custom(&message);
        *self.problem.borrow_mut() = Some(message);
        error
    }

    fn lua_fail<E: serde::ser::Error>(&self, e: mlua::Error) -> E {
        let error = E::custom(e.to_string());
        self.failure.set(Some(e));
        error
    }

    fn note(&self, segment: String) {
        self.path.borrow_mut().push(segment);
    }
}

/// A value being serialized.
pub struct Node<'e, 'm> {
    enc: &'e Encoder<'m>,
    value: Value,
    depth: usize,
}

impl Node<'_, '_> {
    fn child(&self, value: Value) -> Node<'_, '_> {
        Node {
            enc: self.enc,
            value,
            depth: self.depth + 1,
        }
    }
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

impl Serialize for Node<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let enc = self.enc;
        match &self.value {
            Value::Nil => s.serialize_unit(),
            Value::Boolean(b) => s.serialize_bool(*b),
            Value::Integer(i) => s.serialize_i64(*i),
            Value::Number(n) if n.is_finite() => s.serialize_f64(*n),
            Value::Number(n) => Err(enc.fail(format!("cannot encode {n} (not a finite number)"))),
            Value::String(text) => match text.to_str() {
                Ok(text) => s.serialize_str(&text),
                Err(_) => Err(enc.fail(
                    "cannot encode a string that is not valid UTF-8 (base64-encode binary data)"
                        .into(),
                )),
            },
            v if is_null(v) => s.serialize_unit(),
            Value::Table(table) => self.table(table, s),
            other => Err(enc.fail(format!("cannot encode a {} value", type_name(other)))),
        }
    }
}

enum Layout {
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Node<'_, '_> {
    fn table<S: Serializer>(&self, table: &Table, s: S) -> Result<S::Ok, S::Error> {
        let enc = self.enc;
        if self.depth >= MAX_DEPTH {
            return Err(enc.fail(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let pointer = table.to_pointer();
        if enc.visiting.borrow().contains(&pointer) {
            return Err(enc.fail("cannot encode a table that contains itself".into()));
        }
        enc.visiting.borrow_mut().push(pointer);
        let result = self.layout(table).and_then(|layout| self.emit(layout, s));
        enc.visiting.borrow_mut().pop();
        result
    }

    fn layout<E: serde::ser::Error>(&self, table: &Table) -> Result<Layout, E> {
        let enc = self.enc;
        let marked = shape(enc.markers, table);
        if marked == Shape::Array {
            let items = (1..=table.raw_len())
                .map(|i| table.raw_get::<Value>(i))
                .collect::<mlua::Result<Vec<_>>>()
                .map_err(|e| enc.lua_fail(e))?;
            return Ok(Layout::Array(items));
        }
        let mut entries = Vec::new();
        for pair in table.pairs::<Value, Value>() {
            entries.push(pair.map_err(|e| enc.lua_fail(e))?);
        }
        if marked == Shape::Unmarked && !entries.is_empty() && is_sequence(&entries) {
            let mut items = vec![Value::Nil; entries.len()];
            for (key, value) in entries {
                if let Value::Integer(i) = key {
                    items[(i - 1) as usize] = value;
                }
            }
            return Ok(Layout::Array(items));
        }
        let mut fields = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let name = match &key {
                Value::String(k) => match k.to_str() {
                    Ok(k) => k.to_owned(),
                    Err(_) => {
                        return Err(
                            enc.fail("cannot encode a table key that is not valid UTF-8".into())
                        );
                    }
                },
                Value::Integer(i) => i.to_string(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(enc.fail(format!(
                        "cannot encode a table key of type {}",
                        type_name(other)
                    )));
                }
            };
            fields.push((name, value));
        }
        if enc.options.sort_keys {
            fields.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
        Ok(Layout::Object(fields))
    }

    fn emit<S: Serializer>(&self, layout: Layout, s: S) -> Result<S::Ok, S::Error> {
        let enc = self.enc;
        match layout {
            Layout::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for (i, item) in items.into_iter().enumerate() {
                    seq.serialize_element(&self.child(item))
                        .inspect_err(|_| enc.note(format!("[{}]", i + 1)))?;
                }
                seq.end()
            }
            Layout::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(&key, &self.child(value))
                        .inspect_err(|_| enc.note(key_segment(&key)))?;
                }
                map.end()
            }
        }
    }
}

/// Keys exactly `1..=n`: a Lua sequence.
fn is_sequence(entries: &[(Value, Value)]) -> bool {
    let n = entries.len() as i64;
    entries
        .iter()
        .all(|(k, _)| matches!(k, Value::Integer(i) if (1..=n).contains(i)))
}
