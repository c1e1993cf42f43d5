//! [`Value`]: what crosses between Lua and a plugin.

use std::fmt;

use abi_stable::StableAbi;
use abi_stable::std_types::{RVec, Tuple2};

use crate::callback::Callback;
use crate::object::Object;

/// A Lua value as a plugin sees it. The host converts: sequences become [`Value::Array`], other
/// tables [`Value::Map`], `json.null` [`Value::Null`], strings [`Value::Str`] (bytes: Lua
/// strings need not be UTF-8), functions [`Value::Function`], plugin objects [`Value::Object`].
/// The way back is the same; arrays come back marked as arrays, so `json.encode` keeps `[]`.
#[repr(u8)]
#[derive(StableAbi, Clone, Default)]
pub enum Value {
    #[default]
    Nil,
    /// JSON `null` (`json.null` in Lua): a present value that means "null", unlike `Nil`.
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Bytes),
    Array(List),
    Map(Map),
    Object(Object),
    Function(Callback),
}

impl Value {
    /// Lua's name for the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Array(_) | Value::Map(_) => "table",
            Value::Object(_) => "userdata",
            Value::Function(_) => "function",
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The string's text, when it is a string of valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(b) => b.to_str(),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(b) => Some(b.as_slice()),
            _ => None,
        }
    }

    /// An integer, or a float with an exact integer value (Lua's own rule).
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) => {
                Some(f as i64)
            }
            _ => None,
        }
    }

    pub fn as_float(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            // An empty Lua table is both; as options it is an empty map.
            Value::Array(l) if l.is_empty() => Some(Map::empty_ref()),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&List> {
        match self {
            Value::Array(l) => Some(l),
            // An empty Lua table is both; as a list it is an empty one.
            Value::Map(m) if m.is_empty() => Some(List::empty_ref()),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{:?}", String::from_utf8_lossy(s.as_slice())),
            Value::Array(l) => f.debug_list().entries(l.iter()).finish(),
            Value::Map(m) => f.debug_map().entries(m.iter()).finish(),
            Value::Object(o) => write!(f, "{o:?}"),
            Value::Function(c) => write!(f, "{c:?}"),
        }
    }
}

impl PartialEq for Value {
    /// Structural equality; objects and functions are equal when they are the same one.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) | (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => *a as f64 == *b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => a.as_slice() == b.as_slice(),
            (Value::Map(a), Value::Map(b)) => a.0.as_slice() == b.0.as_slice(),
            (Value::Object(a), Value::Object(b)) => a.same(b),
            (Value::Function(a), Value::Function(b)) => a.id() == b.id(),
            _ => false,
        }
    }
}

macro_rules! from_scalar {
    ($($t:ty => $variant:ident as $as:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(v as $as)
            }
        }
    )*};
}
from_scalar!(bool => Bool as bool, i32 => Int as i64, i64 => Int as i64, u32 => Int as i64,
    f32 => Float as f64, f64 => Float as f64);

impl From<usize> for Value {
    /// Sizes beyond `i64::MAX` (never seen in practice) become floats, as Lua would round them.
    fn from(v: usize) -> Self {
        i64::try_from(v).map_or(Value::Float(v as f64), Value::Int)
    }
}

impl From<u64> for Value {
    /// Like `usize`: beyond `i64::MAX`, a float.
    fn from(v: u64) -> Self {
        i64::try_from(v).map_or(Value::Float(v as f64), Value::Int)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(Bytes::from(v.as_bytes()))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(Bytes::from(v.into_bytes()))
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Str(Bytes::from(v))
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Str(Bytes::from(v))
    }
}

impl From<Bytes> for Value {
    fn from(v: Bytes) -> Self {
        Value::Str(v)
    }
}

impl From<List> for Value {
    fn from(v: List) -> Self {
        Value::Array(v)
    }
}

impl From<Map> for Value {
    fn from(v: Map) -> Self {
        Value::Map(v)
    }
}

impl From<Object> for Value {
    fn from(v: Object) -> Self {
        Value::Object(v)
    }
}

impl From<Callback> for Value {
    fn from(v: Callback) -> Self {
        Value::Function(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

/// A byte string (a Lua string).
#[repr(transparent)]
#[derive(StableAbi, Clone, Default, PartialEq, Eq, Hash)]
pub struct Bytes(RVec<u8>);

impl Bytes {
    pub fn as_slice(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// The text, when the bytes are valid UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(self.0.as_slice()).ok()
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.0.into_vec()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(RVec::from(v))
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(RVec::from_slice(v))
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

/// A Lua sequence.
#[repr(transparent)]
#[derive(StableAbi, Clone, Default, Debug)]
pub struct List(RVec<Value>);

static EMPTY_LIST: List = List(RVec::new());

impl List {
    fn empty_ref() -> &'static List {
        &EMPTY_LIST
    }

    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        List(RVec::with_capacity(n))
    }

    pub fn push(&mut self, v: impl Into<Value>) {
        self.0.push(v.into());
    }

    pub fn as_slice(&self) -> &[Value] {
        self.0.as_slice()
    }

    pub fn into_vec(self) -> Vec<Value> {
        self.0.into_vec()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Value> {
        self.0.as_slice().iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Deref for List {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        self.0.as_slice()
    }
}

impl FromIterator<Value> for List {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        List(iter.into_iter().collect())
    }
}

impl From<Vec<Value>> for List {
    fn from(v: Vec<Value>) -> Self {
        List(RVec::from(v))
    }
}

impl IntoIterator for List {
    type Item = Value;
    type IntoIter = abi_stable::std_types::vec::IntoIter<Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A Lua table that is not a sequence: key/value pairs in the order Lua gave them.
/// Lookups are linear, which suits the small option and record tables plugins receive.
#[repr(transparent)]
#[derive(StableAbi, Clone, Default)]
pub struct Map(RVec<Tuple2<Value, Value>>);

static EMPTY_MAP: Map = Map(RVec::new());

impl Map {
    pub fn new() -> Self {
        Self::default()
    }

    fn empty_ref() -> &'static Map {
        &EMPTY_MAP
    }

    /// The value under string key `key`, if present (and not nil).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|Tuple2(k, _)| k.as_bytes() == Some(key.as_bytes()))
            .map(|Tuple2(_, v)| v)
            .filter(|v| !v.is_nil())
    }

    /// Sets `key` (replacing an existing entry).
    pub fn insert(&mut self, key: impl Into<Value>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|Tuple2(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push(Tuple2(key, value)),
        }
    }

    /// Appends without looking for an existing key (the host uses it; Lua keys are unique).
    pub fn push(&mut self, key: Value, value: Value) {
        self.0.push(Tuple2(key, value));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.0.iter().map(|Tuple2(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn with_capacity(n: usize) -> Self {
        Map(RVec::with_capacity(n))
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl IntoIterator for Map {
    type Item = (Value, Value);
    type IntoIter = std::iter::Map<
        abi_stable::std_types::vec::IntoIter<Tuple2<Value, Value>>,
        fn(Tuple2<Value, Value>) -> (Value, Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().map(|Tuple2(k, v)| (k, v))
    }
}

impl<K: Into<Value>, V: Into<Value>> FromIterator<(K, V)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Map(iter
            .into_iter()
            .map(|(k, v)| Tuple2(k.into(), v.into()))
            .collect())
    }
}
