//! [`Args`]: the arguments of one call, with checks that name the argument on failure:
//! `crypto.hash: bad argument #1 'data' (string expected, got table)`.

use abi_stable::std_types::RVec;

use crate::callback::Callback;
use crate::error::{Error, Result};
use crate::object::Object;
use crate::value::{Bytes, List, Map, Value};

/// The arguments of a call, numbered from 1 as in Lua. For a method, 1 is the first argument
/// after the object.
pub struct Args {
    values: RVec<Value>,
}

static NIL: Value = Value::Nil;

impl Args {
    pub(crate) fn new(values: RVec<Value>) -> Self {
        Self { values }
    }

    /// Arguments made by hand (for unit tests of plugin functions).
    pub fn from_vec(values: Vec<Value>) -> Self {
        Self {
            values: RVec::from(values),
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value at `pos` (1-based); `Nil` when absent.
    pub fn get(&self, pos: usize) -> &Value {
        pos.checked_sub(1)
            .and_then(|i| self.values.get(i))
            .unwrap_or(&NIL)
    }

    /// Takes the value at `pos` out, leaving `Nil` (avoids copying large strings).
    pub fn take(&mut self, pos: usize) -> Value {
        match pos.checked_sub(1).and_then(|i| self.values.get_mut(i)) {
            Some(v) => std::mem::take(v),
            None => Value::Nil,
        }
    }

    /// All arguments, by value.
    pub fn into_vec(self) -> Vec<Value> {
        self.values.into_vec()
    }

    /// Refuses arguments past the first `most`, with the core builtins' message
    /// (`bad argument #3 (at most 2 arguments expected, got 3)`): a script's mistake such as
    /// `resp:read(2)` must not run as if the extra argument were not there. `skip` leading
    /// arguments are neither counted nor numbered (the `self` of a method). Trailing nils are
    /// what Lua passes for `f(a, nil)`: harmless.
    pub fn at_most(&self, most: usize, skip: usize) -> Result<()> {
        let given = (skip + 1..=self.len())
            .rev()
            .find(|&pos| !self.get(pos).is_nil())
            .map_or(0, |pos| pos - skip);
        if given > most {
            return Err(Error::new(format!(
                "bad argument #{} (at most {most} argument{} expected, got {given})",
                most + 1,
                if most == 1 { "" } else { "s" }
            )));
        }
        Ok(())
    }

    /// An error about the argument's type.
    pub fn bad(&self, pos: usize, name: &str, expected: &str) -> Error {
        let got = match pos.checked_sub(1).and_then(|i| self.values.get(i)) {
            None => "no value",
            Some(v) => v.type_name(),
        };
        Error::new(format!(
            "bad argument #{pos} '{name}' ({expected} expected, got {got})"
        ))
    }

    /// An error about the argument's value.
    pub fn invalid(&self, pos: usize, name: &str, why: impl std::fmt::Display) -> Error {
        Error::new(format!("bad argument #{pos} '{name}' ({why})"))
    }

    /// A string as bytes (numbers are not converted).
    pub fn bytes(&self, pos: usize, name: &str) -> Result<&[u8]> {
        self.get(pos)
            .as_bytes()
            .ok_or_else(|| self.bad(pos, name, "string"))
    }

    /// A string that must be UTF-8 text.
    pub fn str(&self, pos: usize, name: &str) -> Result<&str> {
        let bytes = self.bytes(pos, name)?;
        std::str::from_utf8(bytes).map_err(|_| self.invalid(pos, name, "not valid UTF-8"))
    }

    pub fn opt_str(&self, pos: usize, name: &str) -> Result<Option<&str>> {
        match self.get(pos) {
            Value::Nil => Ok(None),
            _ => self.str(pos, name).map(Some),
        }
    }

    pub fn int(&self, pos: usize, name: &str) -> Result<i64> {
        match self.get(pos) {
            Value::Int(i) => Ok(*i),
            Value::Float(_) => self
                .get(pos)
                .as_int()
                .ok_or_else(|| self.invalid(pos, name, "number has no integer representation")),
            _ => Err(self.bad(pos, name, "integer")),
        }
    }

    pub fn opt_int(&self, pos: usize, name: &str) -> Result<Option<i64>> {
        match self.get(pos) {
            Value::Nil => Ok(None),
            _ => self.int(pos, name).map(Some),
        }
    }

    pub fn float(&self, pos: usize, name: &str) -> Result<f64> {
        self.get(pos)
            .as_float()
            .ok_or_else(|| self.bad(pos, name, "number"))
    }

    pub fn bool(&self, pos: usize, name: &str) -> Result<bool> {
        self.get(pos)
            .as_bool()
            .ok_or_else(|| self.bad(pos, name, "boolean"))
    }

    /// A table that is not a sequence (an empty table counts).
    pub fn map(&self, pos: usize, name: &str) -> Result<&Map> {
        match self.get(pos) {
            Value::Array(list) if !list.is_empty() => {
                Err(self.invalid(pos, name, "table with named keys expected, got a list"))
            }
            v => v.as_map().ok_or_else(|| self.bad(pos, name, "table")),
        }
    }

    /// An options table: `nil` reads as empty.
    pub fn options(&self, pos: usize, name: &str) -> Result<Options<'_>> {
        match self.get(pos) {
            Value::Nil => Ok(Options {
                map: None,
                pos,
                name: name.to_owned(),
            }),
            _ => Ok(Options {
                map: Some(self.map(pos, name)?),
                pos,
                name: name.to_owned(),
            }),
        }
    }

    pub fn list(&self, pos: usize, name: &str) -> Result<&List> {
        self.get(pos)
            .as_list()
            .ok_or_else(|| self.bad(pos, name, "sequence"))
    }

    pub fn callback(&self, pos: usize, name: &str) -> Result<Callback> {
        match self.get(pos) {
            Value::Function(f) => Ok(f.clone()),
            _ => Err(self.bad(pos, name, "function")),
        }
    }

    pub fn object(&self, pos: usize, name: &str) -> Result<&Object> {
        match self.get(pos) {
            Value::Object(o) => Ok(o),
            _ => Err(self.bad(pos, name, "object")),
        }
    }
}

/// A checked view of an options table; every complaint names the option:
/// `bad argument #3 'opts' (field 'alg': string expected, got number)`.
pub struct Options<'a> {
    map: Option<&'a Map>,
    pos: usize,
    name: String,
}

impl<'a> Options<'a> {
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(key))
    }

    fn bad(&self, key: &str, expected: &str, got: &Value) -> Error {
        Error::new(format!(
            "bad argument #{} '{}' (field '{key}': {expected} expected, got {})",
            self.pos,
            self.name,
            got.type_name()
        ))
    }

    /// Refuses option names outside `known`, so a typo (`{encodng = "raw"}`) is an error
    /// instead of a silently ignored option.
    pub fn only(&self, known: &[&str]) -> Result<()> {
        let Some(map) = self.map else {
            return Ok(());
        };
        for (key, _) in map.iter() {
            let name = match key.as_str() {
                Some(name) if known.contains(&name) => continue,
                Some(name) => format!("'{name}'"),
                None => format!("a {} key", key.type_name()),
            };
            return Err(Error::new(format!(
                "bad argument #{} '{}' (unknown option {name}; expected {})",
                self.pos,
                self.name,
                known.join(", ")
            )));
        }
        Ok(())
    }

    /// An error about an option's value.
    pub fn invalid(&self, key: &str, why: impl std::fmt::Display) -> Error {
        Error::new(format!(
            "bad argument #{} '{}' (field '{key}': {why})",
            self.pos, self.name
        ))
    }

    pub fn str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(b)) => b
                .to_str()
                .map(Some)
                .ok_or_else(|| self.invalid(key, "not valid UTF-8")),
            Some(v) => Err(self.bad(key, "string", v)),
        }
    }

    pub fn bytes(&self, key: &str) -> Result<Option<&'a Bytes>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(b)) => Ok(Some(b)),
            Some(v) => Err(self.bad(key, "string", v)),
        }
    }

    /// The option `key` read by `read`, `None` when absent; a value `read` refuses is an
    /// error naming what was `expected`.
    fn typed<T>(
        &self,
        key: &str,
        expected: &str,
        read: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => read(v).map(Some).ok_or_else(|| self.bad(key, expected, v)),
        }
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>> {
        self.typed(key, "integer", Value::as_int)
    }

    pub fn float(&self, key: &str) -> Result<Option<f64>> {
        self.typed(key, "number", Value::as_float)
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        self.typed(key, "boolean", Value::as_bool)
    }

    pub fn map(&self, key: &str) -> Result<Option<&'a Map>> {
        self.typed(key, "table", Value::as_map)
    }

    /// A string, or a sequence of strings (`algs = "RS256"` or `algs = {"RS256", "ES256"}`).
    pub fn strings(&self, key: &str) -> Result<Option<Vec<&'a str>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(_)) => Ok(self.str(key)?.map(|s| vec![s])),
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| self.bad(key, "list of strings", v))
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(v) => Err(self.bad(key, "string or list of strings", v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_arguments_are_refused_and_trailing_nils_ignored() {
        let args = |values: Vec<Value>| Args::from_vec(values);
        assert!(
            args(vec![Value::from("a"), Value::Nil])
                .at_most(1, 0)
                .is_ok()
        );
        assert!(args(vec![]).at_most(0, 0).is_ok());
        let err = args(vec![Value::Int(2)]).at_most(0, 0).expect_err("extra");
        assert_eq!(
            err.message(),
            "bad argument #1 (at most 0 arguments expected, got 1)"
        );
        let err = args(vec![Value::Nil, Value::from("x"), Value::from("y")])
            .at_most(1, 1)
            .expect_err("extra after self");
        assert_eq!(
            err.message(),
            "bad argument #2 (at most 1 argument expected, got 2)"
        );
    }
}
