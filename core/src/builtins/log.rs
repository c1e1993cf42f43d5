//! `log.debug/info/warn/error(msg, fields)`: one line per call on stderr.
//!
//! Level from `ASSAY_LOG` (`debug`, `info` (default), `warn`, `error`, `off`), overridden by
//! `-v` (debug) and `-q` (errors only). Format from `ASSAY_LOG_FORMAT`:
//!
//! - `text` (default): `2026-11-22T04:28:45.123Z INFO  message key=value`. A line is always one
//!   line: control characters in the message (a newline) are escaped (`\n`); a value or key
//!   that is not a plain word is written as a JSON string; tables as JSON.
//! - `json`: one object per line with `ts`, `level`, `msg` and every field. A field named
//!   like one of those three is kept as `fields.<name>` (`{"msg": "m"}` becomes
//!   `"fields.msg": "m"`, as logrus does): no field is dropped.
//!
//! The runtime's own lines (an interval stopped by an error, a task that failed while nobody
//! awaited it, the error that ends a script) go through [`runtime_failure`], in the same format:
//! in JSON mode they are JSON objects too, with `source: "assay"` and the `traceback`.

use std::io::Write;

use mlua::{Lua, Table, Value};

use super::args::{Args, type_name};
use super::codec::{self, EncodeOptions, Encoder, Limited};
use super::function::{BuiltinResult, Raise, function};
use super::time::timestamp_millis;
use serde_json::value::RawValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Off,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text.trim().to_ascii_lowercase().as_str() {
            "debug" | "trace" => Some(Level::Debug),
            "info" | "" => Some(Level::Info),
            "warn" | "warning" => Some(Level::Warn),
            "error" => Some(Level::Error),
            "off" | "none" => Some(Level::Off),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Off => "OFF",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Where log lines go and which are kept; set once per VM by the runtime builder.
#[derive(Debug, Clone, Copy)]
pub struct LogConfig {
    pub level: Level,
    pub format: Format,
}

impl LogConfig {
    /// From `ASSAY_LOG` and `ASSAY_LOG_FORMAT`; an unknown value is an error naming it.
    pub fn from_env() -> Result<Self, String> {
        let level = match std::env::var("ASSAY_LOG") {
            Ok(v) => Level::parse(&v).ok_or_else(|| {
                format!("ASSAY_LOG={v:?} is not a level (debug, info, warn, error, off)")
            })?,
            Err(_) => Level::Info,
        };
        let format = match std::env::var("ASSAY_LOG_FORMAT").as_deref() {
            Ok("json") => Format::Json,
            Ok("text") | Ok("") | Err(_) => Format::Text,
            Ok(other) => {
                return Err(format!(
                    "ASSAY_LOG_FORMAT={other:?} is not a format (text, json)"
                ));
            }
        };
        Ok(Self { level, format })
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: Level::Info,
            format: Format::Text,
        }
    }
}

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    let levels = [
        ("debug", "log.debug", Level::Debug),
        ("info", "log.info", Level::Info),
        ("warn", "log.warn", Level::Warn),
        ("error", "log.error", Level::Error),
    ];
    for (field, name, level) in levels {
        t.raw_set(
            field,
            function(lua, name, move |lua, a| emit(lua, a, level))?,
        )?;
    }
    Ok(())
}

fn emit(lua: &Lua, args: Args, level: Level) -> BuiltinResult<()> {
    args.at_most(2)?;
    let config = config(lua);
    if level < config.level {
        return Ok(());
    }
    let message = args.string_like(1, "msg")?;
    let fields = match args.value(2) {
        Value::Nil => None,
        Value::Table(t) => Some(t),
        _ => return Err(args.bad(2, "fields", "table or nil")),
    };
    let fields = fields
        .map(|t| field_values(lua, &t))
        .transpose()?
        .unwrap_or_default();
    let line = match config.format {
        Format::Text => text_line(level, &message, &fields),
        Format::Json => json_line(level, &message, fields),
    };
    write_line(&line);
    Ok(())
}

fn write_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    // A closed stderr must not fail the script.
    let _ = stderr.write_all(line.as_bytes());
}

/// A line of the runtime's own (not a script's `log` call), in the VM's log format: in text,
/// `assay: <message>` and the traceback below it, for a person; in JSON, one object with
/// `source: "assay"` and the traceback as a field, for a log pipeline. Never filtered by level:
/// these are failures.
pub fn runtime_failure(lua: &Lua, level: Level, message: &str, traceback: &str) {
    let line = match config(lua).format {
        Format::Text if traceback.is_empty() => format!("assay: {message}\n"),
        Format::Text => format!("assay: {message}\n{traceback}\n"),
        Format::Json => {
            let mut fields = vec![("source".to_owned(), json_string("assay"))];
            if !traceback.is_empty() {
                fields.push(("traceback".to_owned(), json_string(traceback)));
            }
            json_line(level, message, fields)
        }
    };
    write_line(&line);
}

/// The log format a VM was built with.
pub fn format(lua: &Lua) -> Format {
    config(lua).format
}

/// A field's value, as JSON text (written straight from Lua under the memory limit, never
/// through a tree that would cost 32 bytes and more per value outside it).
type Field = Box<RawValue>;

/// Fields as JSON values, sorted by name so lines are stable.
fn field_values(lua: &Lua, table: &Table) -> BuiltinResult<Vec<(String, Field)>> {
    let markers = codec::markers(lua)?;
    // One encoder for every field: its estimate of the line's size adds up across them, so
    // a hundred fields naming one big string are checked against the memory left together.
    let encoder = Encoder::new(
        &markers,
        EncodeOptions {
            sort_keys: true,
            ..EncodeOptions::default()
        },
    );
    let mut out = Vec::new();
    for pair in table.pairs::<Value, Value>() {
        let (key, value) = pair?;
        let key = match key {
            Value::String(s) => s.to_string_lossy(),
            Value::Integer(i) => i.to_string(),
            other => {
                return Err(Raise::Message(format!(
                    "field names must be strings, got a {}",
                    type_name(&other)
                )));
            }
        };
        let mut text = Vec::new();
        let mut limited = Limited::new(&mut text, crate::vm::memory::available(lua));
        let written = encoder.run(lua, &value, |node| {
            serde_json::to_writer(&mut limited, node)
        });
        if limited.exceeded() {
            return Err(Raise::Lua(crate::vm::memory::out_of_memory()));
        }
        written?;
        let text = String::from_utf8(text).map_err(|e| Raise::Message(e.to_string()))?;
        out.push((key, json_text(text)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Text that serde_json wrote, as a raw JSON value.
fn json_text(text: String) -> Field {
    RawValue::from_string(text).unwrap_or_else(|_| json_string(""))
}

fn json_string(text: &str) -> Field {
    json_text(serde_json::Value::from(text).to_string())
}

fn text_line(level: Level, message: &str, fields: &[(String, Field)]) -> String {
    let message = one_line(message);
    let mut line = format!("{} {:<5} {message}", timestamp_millis(), level.label());
    for (key, value) in fields {
        line.push(' ');
        if is_bare(key) {
            line.push_str(key);
        } else {
            line.push_str(&serde_json::Value::from(key.as_str()).to_string());
        }
        line.push('=');
        let text = value.get();
        match serde_json::from_str::<String>(text) {
            Ok(s) if text.starts_with('"') && is_bare(&s) => line.push_str(&s),
            _ => line.push_str(text),
        }
    }
    line.push('\n');
    line
}

/// `text` with its control characters escaped (`\n`, `\r`, `\u{1b}`), so it stays on one line
/// and cannot forge another (a message holding "\n... ERROR ...").
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push('\t'),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A value that needs no quotes in a `key=value` line.
fn is_bare(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '=')
}

fn json_line(level: Level, message: &str, fields: Vec<(String, Field)>) -> String {
    let mut object = std::collections::BTreeMap::new();
    object.insert("ts".to_owned(), json_string(&timestamp_millis()));
    object.insert(
        "level".to_owned(),
        json_string(&level.label().to_ascii_lowercase()),
    );
    object.insert("msg".to_owned(), json_string(message));
    // The line's own names keep their place; a field by such a name is kept beside them as
    // `fields.<name>` (those first, so the rule always holds; a field already named so takes
    // one more prefix).
    let reserved = |key: &str| matches!(key, "ts" | "level" | "msg");
    let (escaped, plain): (Vec<_>, Vec<_>) = fields.into_iter().partition(|(k, _)| reserved(k));
    for (key, value) in escaped.into_iter().chain(plain) {
        let mut key = key;
        while object.contains_key(&key) {
            key = format!("fields.{key}");
        }
        object.insert(key, value);
    }
    let mut line = serde_json::to_string(&object).unwrap_or_default();
    line.push('\n');
    line
}

/// Whether the VM's log keeps lines of `level` (so a caller can skip building them).
pub fn enabled(lua: &Lua, level: Level) -> bool {
    level >= config(lua).level
}

fn config(lua: &Lua) -> LogConfig {
    lua.app_data_ref::<LogConfig>()
        .map(|c| *c)
        .unwrap_or_default()
}

/// A line of the runtime's own (what `-v` shows: the lib path, plugins found and loaded), in
/// the VM's level and format, its fields in the order given.
pub fn runtime(lua: &Lua, level: Level, message: &str, fields: Vec<(&str, serde_json::Value)>) {
    let config = config(lua);
    if level < config.level {
        return;
    }
    let fields: Vec<(String, Field)> = fields
        .into_iter()
        .map(|(key, value)| (key.to_owned(), json_text(value.to_string())))
        .collect();
    let line = match config.format {
        Format::Text => text_line(level, message, &fields),
        Format::Json => json_line(level, message, fields),
    };
    write_line(&line);
}
