//! `script` attempts: the file or inline code runs in a fresh sandboxed VM with the global
//! `vars` (what `${name}` gives, read-only) and the files' `env` over the process
//! environment. It passes unless it raises; the message is what it raised. A table it
//! returns holds captures for later checks (string, number or boolean values).

use std::time::Duration;

use mlua::{MultiValue, Table, Value};

use super::{Context, Outcome};
use crate::RunError;
use crate::check::kinds::Script;

/// The script's size limit, as for a script `assay` runs.
const MAX_SCRIPT: u64 = 16 << 20;

pub fn run(name: &str, script: &Script, context: &Context, limit: Duration) -> Outcome {
    match attempt(name, script, context, limit) {
        Ok(captures) => Outcome::pass(captures),
        Err(Problem::Fail(message)) => Outcome::fail(message),
        Err(Problem::Error(message)) => Outcome::error(message),
    }
}

/// Why an attempt did not pass: the script failed, or it could not run at all.
enum Problem {
    Fail(String),
    Error(String),
}

fn attempt(
    name: &str,
    script: &Script,
    context: &Context,
    limit: Duration,
) -> Result<Vec<(String, String)>, Problem> {
    let (source, chunk) = match script {
        Script::File(path) => (
            assay_files::read_capped(path, MAX_SCRIPT)
                .map_err(|e| Problem::Error(e.to_string()))?,
            format!("@{}", path.display()),
        ),
        Script::Inline(code) => (code.clone().into_bytes(), format!("=[check '{name}']")),
    };
    let runtime = context.vm(Some(limit)).map_err(Problem::Error)?;
    let lua = runtime.lua();
    let setup = || -> mlua::Result<()> {
        let vars = lua.create_table()?;
        for (k, v) in &context.values {
            vars.raw_set(k.as_str(), v.as_str())?;
        }
        // Read-only: a script that assigns to it meant a local.
        let guard = lua.create_table()?;
        guard.raw_set("__index", vars)?;
        guard.raw_set(
            "__newindex",
            lua.create_function(|_, (_, key): (Value, Value)| -> mlua::Result<()> {
                Err(mlua::Error::runtime(format!(
                    "vars is read-only (tried to set {})",
                    key.to_string().unwrap_or_default()
                )))
            })?,
        )?;
        let view = lua.create_table()?;
        view.set_metatable(Some(guard))?;
        lua.globals().raw_set("vars", view)
    };
    setup().map_err(|e| Problem::Error(format!("cannot set up the script's VM: {e}")))?;
    let values = runtime
        .eval_chunk(&source, &chunk, MultiValue::new())
        .map_err(|e| match e {
            RunError::Syntax(_) | RunError::Read(_) | RunError::Setup(_) => {
                Problem::Error(e.to_string())
            }
            e => Problem::Fail(e.to_string()),
        })?;
    match values.into_iter().next() {
        Some(Value::Table(t)) => captures(&t).map_err(Problem::Fail),
        _ => Ok(Vec::new()),
    }
}

fn captures(table: &Table) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for pair in table.pairs::<Value, Value>() {
        let (key, value) = pair.map_err(|e| e.to_string())?;
        let Value::String(key) = key else {
            return Err("the returned captures table has a key that is not a string".into());
        };
        let key = key.to_string_lossy();
        let text = match value {
            Value::String(s) => s.to_string_lossy(),
            Value::Integer(i) => i.to_string(),
            Value::Number(n) => crate::builtins::inspect::format_float(n),
            Value::Boolean(b) => b.to_string(),
            other => {
                return Err(format!(
                    "capture '{key}': a string, number or boolean expected, got {}",
                    other.type_name()
                ));
            }
        };
        out.push((key, text));
    }
    out.sort();
    Ok(out)
}
