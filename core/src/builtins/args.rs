//! Argument checking for builtins: every complaint names the argument, its position, what was
//! expected and what came, like `json.encode: bad argument #2 'opts' (table expected, got string)`.

use mlua::{Function, MultiValue, Table, Value};

use super::function::{BuiltinResult, Raise};

/// The arguments of one builtin call.
pub struct Args {
    name: &'static str,
    values: Vec<Value>,
}

/// Lua's name for a value's type, as `type()` says it.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        Value::LightUserData(_) | Value::UserData(_) => "userdata",
        Value::Error(_) => "error",
        _ => "value",
    }
}

impl Args {
    pub fn new(name: &'static str, values: MultiValue) -> Self {
        Self {
            name,
            values: values.into_vec(),
        }
    }

    /// The builtin's name, for messages.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The raw value at 1-based `pos` (nil when absent).
    pub fn value(&self, pos: usize) -> Value {
        self.values.get(pos - 1).cloned().unwrap_or(Value::Nil)
    }

    /// The arguments from `pos` on.
    pub fn rest(&self, pos: usize) -> MultiValue {
        self.values.iter().skip(pos - 1).cloned().collect()
    }

    pub fn bad(&self, pos: usize, arg: &str, expected: &str) -> Raise {
        let got = match self.values.get(pos - 1) {
            None => "no value",
            Some(v) => type_name(v),
        };
        Raise::msg(format!(
            "bad argument #{pos} '{arg}' ({expected} expected, got {got})"
        ))
    }

    /// A message about an argument's value rather than its type.
    pub fn invalid(&self, pos: usize, arg: &str, why: impl std::fmt::Display) -> Raise {
        Raise::msg(format!("bad argument #{pos} '{arg}' ({why})"))
    }

    /// A Lua string: bytes, not necessarily UTF-8.
    pub fn bytes(&self, pos: usize, arg: &str) -> BuiltinResult<mlua::LuaString> {
        match self.values.get(pos - 1) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(self.bad(pos, arg, "string")),
        }
    }

    /// A string that must be UTF-8 (paths, patterns, names).
    pub fn string(&self, pos: usize, arg: &str) -> BuiltinResult<String> {
        let s = self.bytes(pos, arg)?;
        match s.to_str() {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => Err(self.invalid(pos, arg, "not valid UTF-8")),
        }
    }

    /// Like [`Args::string`], also accepting a number (as `tostring` would print it).
    pub fn string_like(&self, pos: usize, arg: &str) -> BuiltinResult<String> {
        match self.values.get(pos - 1) {
            Some(Value::Integer(i)) => Ok(i.to_string()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => self.string(pos, arg),
        }
    }

    pub fn opt_string(&self, pos: usize, arg: &str) -> BuiltinResult<Option<String>> {
        match self.values.get(pos - 1) {
            None | Some(Value::Nil) => Ok(None),
            _ => self.string(pos, arg).map(Some),
        }
    }

    pub fn number(&self, pos: usize, arg: &str) -> BuiltinResult<f64> {
        match self.values.get(pos - 1) {
            Some(Value::Integer(i)) => Ok(*i as f64),
            Some(Value::Number(n)) => Ok(*n),
            _ => Err(self.bad(pos, arg, "number")),
        }
    }

    /// An optional integer, read as Lua's `luaL_optinteger` reads one: nil or no value is
    /// `None`; a float with an integral value and a numeric string (`"3"`) convert; `1.5` has
    /// no integer representation.
    pub fn opt_integer(
        &self,
        lua: &mlua::Lua,
        pos: usize,
        arg: &str,
    ) -> BuiltinResult<Option<i64>> {
        let value = self.value(pos);
        if value.is_nil() {
            return Ok(None);
        }
        if let Some(i) = lua.coerce_integer(value.clone())? {
            return Ok(Some(i));
        }
        if lua.coerce_number(value)?.is_some() {
            return Err(self.invalid(pos, arg, "number has no integer representation"));
        }
        Err(self.bad(pos, arg, "number"))
    }

    pub fn opt_number(&self, pos: usize, arg: &str) -> BuiltinResult<Option<f64>> {
        match self.values.get(pos - 1) {
            None | Some(Value::Nil) => Ok(None),
            _ => self.number(pos, arg).map(Some),
        }
    }

    /// A duration in seconds: a finite, non-negative number.
    pub fn seconds(&self, pos: usize, arg: &str) -> BuiltinResult<std::time::Duration> {
        let n = self.number(pos, arg)?;
        std::time::Duration::try_from_secs_f64(n).map_err(|_| {
            let shown = super::inspect::format_float(n);
            self.invalid(pos, arg, format!("{shown} is not a duration in seconds"))
        })
    }

    pub fn table(&self, pos: usize, arg: &str) -> BuiltinResult<Table> {
        match self.values.get(pos - 1) {
            Some(Value::Table(t)) => Ok(t.clone()),
            _ => Err(self.bad(pos, arg, "table")),
        }
    }

    pub fn function(&self, pos: usize, arg: &str) -> BuiltinResult<Function> {
        match self.values.get(pos - 1) {
            Some(Value::Function(f)) => Ok(f.clone()),
            _ => Err(self.bad(pos, arg, "function")),
        }
    }

    /// Refuses arguments past the first `most`: a misplaced option must not be ignored.
    pub fn at_most(&self, most: usize) -> BuiltinResult<()> {
        // Trailing nils are what Lua passes for `f(a, nil)`: harmless.
        let given = self
            .values
            .iter()
            .rposition(|v| !v.is_nil())
            .map_or(0, |i| i + 1);
        if given > most {
            return Err(Raise::msg(format!(
                "bad argument #{} (at most {most} argument{} expected, got {given})",
                most + 1,
                if most == 1 { "" } else { "s" }
            )));
        }
        Ok(())
    }

    /// An options table (nil allowed, meaning all defaults).
    pub fn options(&self, pos: usize) -> BuiltinResult<Options> {
        match self.values.get(pos - 1) {
            None | Some(Value::Nil) => Ok(Options { table: None, pos }),
            Some(Value::Table(t)) => Ok(Options {
                table: Some(t.clone()),
                pos,
            }),
            _ => Err(self.bad(pos, "opts", "table or nil")),
        }
    }
}

/// An options table; each getter names the field when its value has the wrong type.
pub struct Options {
    table: Option<Table>,
    pos: usize,
}

impl Options {
    fn get(&self, field: &str) -> BuiltinResult<Value> {
        match &self.table {
            None => Ok(Value::Nil),
            Some(t) => Ok(t.raw_get(field)?),
        }
    }

    fn wrong(&self, field: &str, expected: &str, got: &Value) -> Raise {
        Raise::msg(format!(
            "bad argument #{} 'opts': field '{field}' ({expected} expected, got {})",
            self.pos,
            type_name(got)
        ))
    }

    /// Refuses any field not in `known`, naming it: a typo must not be silently ignored.
    pub fn only(&self, known: &[&str]) -> BuiltinResult<()> {
        let Some(t) = &self.table else { return Ok(()) };
        for pair in t.pairs::<Value, Value>() {
            let (key, _) = pair?;
            let name = match &key {
                Value::String(s) => s.to_string_lossy(),
                other => format!("[{}]", type_name(other)),
            };
            if !known.contains(&name.as_str()) {
                return Err(Raise::msg(format!(
                    "bad argument #{} 'opts': unknown field '{name}' (known: {})",
                    self.pos,
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// A field's raw value (nil when absent).
    pub fn value(&self, field: &str) -> BuiltinResult<Value> {
        self.get(field)
    }

    /// An integer field within `range`, or `None` when absent.
    pub fn integer_in(
        &self,
        field: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> BuiltinResult<Option<i64>> {
        let n = match self.get(field)? {
            Value::Nil => return Ok(None),
            Value::Integer(i) => i,
            // Any float with an integral value in i64's range, as Lua's `math.tointeger`.
            Value::Number(n)
                if n.fract() == 0.0 && ((i64::MIN as f64)..-(i64::MIN as f64)).contains(&n) =>
            {
                n as i64
            }
            Value::Number(n) if n.fract() == 0.0 => {
                return Err(Raise::msg(format!(
                    "bad argument #{} 'opts': field '{field}' ({} is outside {}..{})",
                    self.pos,
                    super::inspect::format_float(n),
                    range.start(),
                    range.end()
                )));
            }
            Value::Number(_) => {
                return Err(Raise::msg(format!(
                    "bad argument #{} 'opts': field '{field}' (number has no integer representation)",
                    self.pos
                )));
            }
            other => return Err(self.wrong(field, "integer", &other)),
        };
        if !range.contains(&n) {
            return Err(Raise::msg(format!(
                "bad argument #{} 'opts': field '{field}' ({n} is outside {}..{})",
                self.pos,
                range.start(),
                range.end()
            )));
        }
        Ok(Some(n))
    }

    pub fn bool(&self, field: &str, default: bool) -> BuiltinResult<bool> {
        match self.get(field)? {
            Value::Nil => Ok(default),
            Value::Boolean(b) => Ok(b),
            other => Err(self.wrong(field, "boolean", &other)),
        }
    }

    pub fn string(&self, field: &str) -> BuiltinResult<Option<String>> {
        match self.get(field)? {
            Value::Nil => Ok(None),
            Value::String(s) => Ok(Some(s.to_string_lossy())),
            other => Err(self.wrong(field, "string", &other)),
        }
    }
}
