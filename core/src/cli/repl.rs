//! The interactive prompt: `assay` with no arguments on a terminal.
//!
//! Each entry is evaluated as an expression when it parses as one (its values are printed),
//! else as statements. An unfinished entry (an open `function`, `do`, string...) continues on
//! the next line. History is kept in `<data dir>/assay/history`.

use std::path::PathBuf;

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use super::Failure;
use crate::Runtime;
use crate::builtins::inspect::inspect;

fn history_file() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data.join("assay").join("history"))
}

/// A syntax error Lua would only raise because the input stopped early.
fn is_incomplete(runtime: &Runtime, code: &str) -> bool {
    let lua = runtime.lua();
    let expr = lua.load(format!("return {code}")).into_function();
    let stmt = lua.load(code).into_function();
    match (expr, stmt) {
        (Ok(_), _) | (_, Ok(_)) => false,
        (
            _,
            Err(mlua::Error::SyntaxError {
                incomplete_input, ..
            }),
        ) => incomplete_input,
        _ => false,
    }
}

pub fn run(runtime: &Runtime) -> Result<(), Failure> {
    let mut editor = DefaultEditor::new()
        .map_err(|e| Failure::usage(format!("cannot start the prompt: {e}")))?;
    let history = history_file();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!(
        "assay {} ({}) — Ctrl-D to exit",
        crate::core_version(),
        crate::lua_version()
    );
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { "> " } else { ">> " };
        match editor.readline(prompt) {
            Ok(line) => {
                if !buffer.is_empty() {
                    buffer.push('\n');
                }
                buffer.push_str(&line);
                if is_incomplete(runtime, &buffer) {
                    continue;
                }
                let entry = std::mem::take(&mut buffer);
                let _ = editor.add_history_entry(entry.as_str());
                match runtime.eval(&entry) {
                    Ok(values) if !values.is_empty() => {
                        let shown: Vec<String> = values.iter().map(inspect).collect();
                        println!("{}", shown.join("\t"));
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("{}", e.report()),
                }
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Failure::usage(format!("prompt: {e}"))),
        }
    }
    if let Some(h) = &history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(h);
    }
    Ok(())
}
