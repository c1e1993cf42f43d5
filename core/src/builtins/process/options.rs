//! The arguments of `process.run`, `process.shell` and `process.spawn`, checked before anything
//! starts: a typo in an option is an error naming it, not an option silently ignored.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::time::Duration;

use mlua::{Lua, Table, Value};

use crate::builtins::args::{Args, type_name};
use crate::builtins::function::{BuiltinResult, Raise};

/// The options every function accepts.
const KNOWN: &[&str] = &[
    "env",
    "clear_env",
    "cwd",
    "stdin",
    "stdout",
    "stderr",
    "timeout",
    "kill_grace",
    "check",
    "max_output",
];

/// How long a process has between SIGTERM and SIGKILL when it times out or is closed.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(2);

/// The most output kept per stream when the script sets no `max_output` and has no memory
/// limit; with one, a quarter of it (both streams together then fit in half the limit).
const DEFAULT_MAX_OUTPUT: usize = 64 << 20;

/// Where a child's stdin comes from.
#[derive(Debug, Clone)]
pub enum Input {
    /// `/dev/null` (the default: a job's child never waits on a terminal by surprise).
    Null,
    /// The terminal or whatever assay's own stdin is.
    Inherit,
    /// These bytes, written while the output is read (no deadlock on large output).
    Bytes(Vec<u8>),
    /// A pipe the script writes with `handle:write` (spawn's default).
    Pipe,
}

/// Where a child's stdout or stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Captured (up to `max_output`), returned in the result or read with `handle:lines`.
    Pipe,
    Inherit,
    Null,
}

/// A checked request to run a program.
#[derive(Debug, Clone)]
pub struct Spec {
    pub argv: Vec<OsString>,
    /// What the user called the program, for messages.
    pub program: String,
    pub env: Vec<(OsString, OsString)>,
    pub clear_env: bool,
    pub cwd: Option<PathBuf>,
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
    pub timeout: Option<Duration>,
    pub kill_grace: Duration,
    pub check: bool,
    pub max_output: usize,
    /// The script's memory limit: what all children's held output may not pass together.
    pub memory_limit: Option<usize>,
}

/// Which function the arguments are for: they differ in how the program is named and in
/// spawn's default stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Run,
    Shell,
    Spawn,
}

impl Spec {
    pub fn read(lua: &Lua, args: &Args, kind: Kind) -> BuiltinResult<Spec> {
        args.at_most(2)?;
        let argv = match kind {
            Kind::Shell => {
                let line = args.bytes(1, "cmdline")?;
                vec![
                    "sh".into(),
                    "-c".into(),
                    os(&line.as_bytes(), args, 1, "cmdline")?,
                ]
            }
            Kind::Run | Kind::Spawn => argv(args)?,
        };
        let program = match kind {
            // What the user wrote, for messages (`check`): not "sh".
            Kind::Shell => shortened(&argv[2].to_string_lossy()),
            _ => argv[0].to_string_lossy().into_owned(),
        };
        let opts = match args.value(2) {
            Value::Nil => None,
            Value::Table(t) => Some(t),
            _ => return Err(args.bad(2, "opts", "table or nil")),
        };
        let opts = Opts { table: opts };
        opts.reject_unknown()?;
        let stdin = stdin(lua, &opts, kind)?;
        let memory_limit = crate::vm::memory::limit(lua);
        // More than the limit could never become a Lua string: it is capped there.
        let max_output = match opts.integer("max_output")? {
            None => memory_limit.map_or(DEFAULT_MAX_OUTPUT, |l| l / 4),
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    opts.invalid("max_output", "at least 1 (stdout = \"null\" discards)")
                })?
                .min(memory_limit.unwrap_or(usize::MAX)),
        };
        Ok(Spec {
            argv,
            program,
            env: env(&opts)?,
            clear_env: opts.bool("clear_env")?.unwrap_or(false),
            cwd: cwd(&opts)?,
            stdin,
            stdout: output(&opts, "stdout")?,
            stderr: output(&opts, "stderr")?,
            timeout: opts.seconds("timeout")?.filter(|t| *t != Duration::MAX),
            kill_grace: opts.seconds("kill_grace")?.unwrap_or(DEFAULT_KILL_GRACE),
            check: opts.bool("check")?.unwrap_or(false),
            max_output,
            memory_limit,
        })
    }
}

/// A command line as messages show it: its first 60 characters.
fn shortened(line: &str) -> String {
    match line.char_indices().nth(60) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_owned(),
    }
}

/// Where stdin comes from. For run and shell a string is the input itself (never a mode: the
/// text `"null"` is data); `io.stdin` passes the script's own. Spawn writes with `:write`, so
/// its strings name modes: `"pipe"` (the default), `"null"`, `"inherit"`.
fn stdin(lua: &Lua, opts: &Opts, kind: Kind) -> BuiltinResult<Input> {
    let value = opts.get("stdin")?;
    let own_stdin = match &value {
        Value::UserData(_) => lua
            .globals()
            .raw_get::<Option<Table>>("io")?
            .map(|io| io.raw_get::<Value>("stdin"))
            .transpose()?
            .is_some_and(|stdin| stdin == value),
        _ => false,
    };
    if own_stdin {
        return Ok(Input::Inherit);
    }
    match (kind, value) {
        (Kind::Spawn, Value::Nil) => Ok(Input::Pipe),
        (_, Value::Nil) => Ok(Input::Null),
        (Kind::Spawn, Value::String(s)) => match &*s.as_bytes() {
            b"pipe" => Ok(Input::Pipe),
            b"null" => Ok(Input::Null),
            b"inherit" => Ok(Input::Inherit),
            _ => Err(opts.invalid(
                "stdin",
                "\"pipe\", \"null\", \"inherit\" or io.stdin; write data with handle:write",
            )),
        },
        (_, Value::String(s)) => Ok(Input::Bytes(s.as_bytes().to_vec())),
        (Kind::Spawn, other) => Err(opts.wrong("stdin", "string or io.stdin", &other)),
        (_, other) => Err(opts.wrong("stdin", "string (the input) or io.stdin", &other)),
    }
}

/// `argv`: a non-empty list of strings (numbers allowed, as `tostring` prints them).
fn argv(args: &Args) -> BuiltinResult<Vec<OsString>> {
    let list = match args.value(1) {
        Value::Table(t) => t,
        Value::String(_) => {
            return Err(args.invalid(
                1,
                "argv",
                "a list of strings expected, got a string (process.shell runs a command line)",
            ));
        }
        _ => return Err(args.bad(1, "argv", "list of strings")),
    };
    let len = list.raw_len();
    if len == 0 {
        return Err(args.invalid(1, "argv", "the list is empty: name a program"));
    }
    // `{"echo", nil, "x"}` would silently lose "x".
    for pair in list.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let in_list = matches!(key, Value::Integer(i) if i >= 1 && (i as usize) <= len);
        if !in_list {
            let why = match key {
                Value::Integer(i) => format!("item {i} follows a nil: the list has a hole"),
                _ => "a list expected, it has other keys".to_owned(),
            };
            return Err(args.invalid(1, "argv", why));
        }
    }
    let mut argv = Vec::with_capacity(len);
    for i in 1..=len {
        let item: Value = list.raw_get(i)?;
        let bytes = match &item {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Integer(n) => n.to_string().into_bytes(),
            Value::Number(n) => crate::builtins::inspect::format_float(*n).into_bytes(),
            other => {
                let why = format!("item {i}: string expected, got {}", type_name(other));
                return Err(args.invalid(1, "argv", why));
            }
        };
        argv.push(os(&bytes, args, 1, &format!("argv[{i}]"))?);
    }
    if argv[0].is_empty() {
        return Err(args.invalid(1, "argv", "the program name is empty"));
    }
    Ok(argv)
}

/// An argument for `execve`: any bytes but NUL, which would cut it short.
fn os(bytes: &[u8], args: &Args, pos: usize, what: &str) -> BuiltinResult<OsString> {
    if bytes.contains(&0) {
        return Err(args.invalid(pos, what, "contains a NUL byte"));
    }
    Ok(OsString::from_vec(bytes.to_vec()))
}

fn env(opts: &Opts) -> BuiltinResult<Vec<(OsString, OsString)>> {
    let table = match opts.get("env")? {
        Value::Nil => return Ok(Vec::new()),
        Value::Table(t) => t,
        other => return Err(opts.wrong("env", "table", &other)),
    };
    let mut vars = Vec::new();
    for pair in table.pairs::<Value, Value>() {
        let (name, value) = pair?;
        let Value::String(name) = name else {
            let why = format!("names must be strings, got {}", type_name(&name));
            return Err(opts.invalid("env", why));
        };
        let name = name.as_bytes().to_vec();
        if name.is_empty() || name.contains(&b'=') || name.contains(&0) {
            let shown = String::from_utf8_lossy(&name).into_owned();
            return Err(opts.invalid("env", format!("'{shown}' is not a variable name")));
        }
        let value = match value {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Integer(n) => n.to_string().into_bytes(),
            Value::Number(n) => crate::builtins::inspect::format_float(n).into_bytes(),
            other => {
                let shown = String::from_utf8_lossy(&name).into_owned();
                let why = format!("'{shown}': string expected, got {}", type_name(&other));
                return Err(opts.invalid("env", why));
            }
        };
        if value.contains(&0) {
            let shown = String::from_utf8_lossy(&name).into_owned();
            return Err(opts.invalid("env", format!("'{shown}' contains a NUL byte")));
        }
        vars.push((OsString::from_vec(name), OsString::from_vec(value)));
    }
    // A stable order, so what a child sees does not depend on a table's layout.
    vars.sort();
    Ok(vars)
}

fn cwd(opts: &Opts) -> BuiltinResult<Option<PathBuf>> {
    let Some(dir) = opts.string("cwd")? else {
        return Ok(None);
    };
    let path = PathBuf::from(&dir);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => Ok(Some(path)),
        Ok(_) => Err(opts.invalid("cwd", format!("'{dir}' is not a folder"))),
        Err(e) => Err(opts.invalid(
            "cwd",
            format!("'{dir}': {}", crate::builtins::fs::describe(&e)),
        )),
    }
}

fn output(opts: &Opts, field: &str) -> BuiltinResult<Output> {
    match opts.string(field)?.as_deref() {
        None | Some("pipe") => Ok(Output::Pipe),
        Some("inherit") => Ok(Output::Inherit),
        Some("null") => Ok(Output::Null),
        Some(_) => Err(opts.invalid(field, "\"pipe\", \"inherit\" or \"null\" expected")),
    }
}

/// The options table (argument 2).
struct Opts {
    table: Option<Table>,
}

impl Opts {
    fn get(&self, field: &str) -> BuiltinResult<Value> {
        match &self.table {
            None => Ok(Value::Nil),
            Some(t) => Ok(t.raw_get(field)?),
        }
    }

    fn reject_unknown(&self) -> BuiltinResult<()> {
        let Some(table) = &self.table else {
            return Ok(());
        };
        for pair in table.pairs::<Value, Value>() {
            let (key, _) = pair?;
            let known = match &key {
                Value::String(s) => KNOWN.iter().any(|k| k.as_bytes() == &*s.as_bytes()),
                _ => false,
            };
            if !known {
                let shown = match &key {
                    Value::String(s) => format!("'{}'", s.to_string_lossy()),
                    other => format!("a {} key", type_name(other)),
                };
                return Err(Raise::msg(format!(
                    "bad argument #2 'opts': unknown option {shown} (known: {})",
                    KNOWN.join(", ")
                )));
            }
        }
        Ok(())
    }

    fn wrong(&self, field: &str, expected: &str, got: &Value) -> Raise {
        Raise::msg(format!(
            "bad argument #2 'opts': field '{field}' ({expected} expected, got {})",
            type_name(got)
        ))
    }

    fn invalid(&self, field: &str, why: impl std::fmt::Display) -> Raise {
        Raise::msg(format!("bad argument #2 'opts': field '{field}' ({why})"))
    }

    fn bool(&self, field: &str) -> BuiltinResult<Option<bool>> {
        match self.get(field)? {
            Value::Nil => Ok(None),
            Value::Boolean(b) => Ok(Some(b)),
            other => Err(self.wrong(field, "boolean", &other)),
        }
    }

    fn string(&self, field: &str) -> BuiltinResult<Option<String>> {
        match self.get(field)? {
            Value::Nil => Ok(None),
            Value::String(s) => match s.to_str() {
                Ok(text) => Ok(Some(text.to_owned())),
                Err(_) => Err(self.invalid(field, "not valid UTF-8")),
            },
            other => Err(self.wrong(field, "string", &other)),
        }
    }

    fn integer(&self, field: &str) -> BuiltinResult<Option<i64>> {
        match self.get(field)? {
            Value::Nil => Ok(None),
            Value::Integer(n) => Ok(Some(n)),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(Some(n as i64)),
            Value::Number(_) => Err(self.invalid(field, "an integer expected")),
            other => Err(self.wrong(field, "integer", &other)),
        }
    }

    /// Seconds; `math.huge` is `Duration::MAX` (never).
    fn seconds(&self, field: &str) -> BuiltinResult<Option<Duration>> {
        let n = match self.get(field)? {
            Value::Nil => return Ok(None),
            Value::Integer(n) => n as f64,
            Value::Number(n) => n,
            other => return Err(self.wrong(field, "number", &other)),
        };
        if n == f64::INFINITY {
            return Ok(Some(Duration::MAX));
        }
        Duration::try_from_secs_f64(n).map(Some).map_err(|_| {
            let shown = crate::builtins::inspect::format_float(n);
            self.invalid(field, format!("{shown} is not a duration in seconds"))
        })
    }
}
