//! A template environment built from the options: where templates are found, filters,
//! undefined handling, escaping, and the limits every render runs under.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use assay_sdk::{Callback, Error, Options, Result, Value};
use minijinja::value::{Rest, Value as Jv};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};

use crate::values;

/// The largest template file read.
const MAX_TEMPLATE: u64 = 4 << 20;
/// How much of the offending line an error shows.
const SHOWN_LINE: usize = 200;
/// Nesting of includes, macros and blocks.
const RECURSION_LIMIT: usize = 100;

/// What `opts` can say, for `render`, `render_string` and `env`.
#[derive(Clone)]
pub struct Settings {
    pub dirs: Vec<PathBuf>,
    pub filters: Vec<(String, Callback)>,
    pub strict: bool,
    /// `Some`: escape (or not) whatever the template's name.
    pub autoescape: Option<bool>,
}

impl Settings {
    pub fn read(options: &Options<'_>) -> Result<Settings> {
        options.only(&["dirs", "filters", "strict", "autoescape"])?;
        let dirs = options
            .strings("dirs")?
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect();
        let mut filters = Vec::new();
        if let Some(map) = options.map("filters")? {
            for (name, f) in map.iter() {
                // What the template syntax can name: ASCII letters, digits and `_`, not a
                // digit first.
                let name = name
                    .as_str()
                    .filter(|n| {
                        n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                            && n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    })
                    .ok_or_else(|| options.invalid("filters", "names that are identifiers"))?;
                let Value::Function(f) = f else {
                    return Err(options.invalid("filters", format!("'{name}' is not a function")));
                };
                filters.push((name.to_owned(), f.clone()));
            }
        }
        Ok(Settings {
            dirs,
            filters,
            strict: options.bool("strict")?.unwrap_or(false),
            autoescape: options.bool("autoescape")?,
        })
    }

    /// The environment: templates loaded from `dirs` (in order) by relative name, a render
    /// allowed `fuel` steps (minijinja's fuel: instructions, and bytes made / 64).
    pub fn environment(&self, fuel: u64) -> Environment<'static> {
        let mut env = Environment::new();
        env.set_fuel(Some(fuel));
        // Keeps the template source on errors, for the line they show.
        env.set_debug(true);
        env.set_recursion_limit(RECURSION_LIMIT);
        env.set_undefined_behavior(if self.strict {
            UndefinedBehavior::Strict
        } else {
            UndefinedBehavior::Lenient
        });
        let forced = self.autoescape;
        env.set_auto_escape_callback(move |name| match forced {
            Some(true) => AutoEscape::Html,
            Some(false) => AutoEscape::None,
            None => by_name(name),
        });
        let dirs = Arc::new(self.dirs.clone());
        env.set_loader(move |name| load(&dirs, name));
        crate::filters::add_builtin(&mut env);
        for (name, f) in &self.filters {
            let f = f.clone();
            let label = name.clone();
            env.add_filter(name.clone(), move |value: Jv, rest: Rest<Jv>| {
                call_lua(&label, &f, &value, &rest)
            });
        }
        env
    }
}

/// Jinja2's `select_autoescape()` default: HTML and XML files are escaped.
fn by_name(name: &str) -> AutoEscape {
    let lower = name.to_ascii_lowercase();
    if [".html", ".htm", ".xml"].iter().any(|e| lower.ends_with(e)) {
        AutoEscape::Html
    } else {
        AutoEscape::None
    }
}

/// The template `name` from the first of `dirs` holding it. A name is relative and stays
/// inside its folder: `..` or an absolute path is an error, not a way out.
fn load(dirs: &[PathBuf], name: &str) -> std::result::Result<Option<String>, minijinja::Error> {
    let relative = Path::new(name);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "template name '{name}' leaves the template folders (no '..', no absolute path)"
            ),
        ));
    }
    for dir in dirs {
        let path = dir.join(relative);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let fail = |why: String| minijinja::Error::new(ErrorKind::InvalidOperation, why);
        if !meta.is_file() {
            return Err(fail(format!(
                "template '{name}' ({}) is not a regular file",
                path.display()
            )));
        }
        // A link inside the folder may point out of it: the file must be inside too.
        let inside = match (path.canonicalize(), dir.canonicalize()) {
            (Ok(file), Ok(folder)) => file.starts_with(folder),
            _ => false,
        };
        if !inside {
            return Err(fail(format!(
                "template '{name}' is a link out of its folder {}",
                dir.display()
            )));
        }
        return assay_sdk::files::read_regular_text(&path, MAX_TEMPLATE)
            .map(Some)
            .map_err(|e| fail(format!("template '{name}': {e}")));
    }
    Ok(None)
}

/// A Lua filter: `f(value, args...)`, run on the script's thread while the render waits on
/// its own thread.
fn call_lua(
    name: &str,
    f: &Callback,
    value: &Jv,
    rest: &[Jv],
) -> std::result::Result<Jv, minijinja::Error> {
    let mut args = vec![values::to_lua(value)?];
    for a in rest {
        args.push(values::to_lua(a)?);
    }
    let failed = |why: String| {
        minijinja::Error::new(ErrorKind::InvalidOperation, format!("filter {name}: {why}"))
    };
    let handle = assay_sdk::tokio::runtime::Handle::try_current()
        .map_err(|_| failed("Lua filters run only in a render that can wait".into()))?;
    let results = handle
        .block_on(f.call(args))
        .map_err(|e| failed(e.message().lines().next().unwrap_or_default().to_owned()))?;
    let first = results.into_iter().next().unwrap_or(Value::Nil);
    values::to_template(&first, &format!("filter {name}")).map_err(failed)
}

/// The error a script sees: what went wrong, where (template name and line), and that line.
pub fn describe(e: &minijinja::Error) -> Error {
    // The innermost error that knows its place (an include's, a macro's).
    let mut at: &minijinja::Error = e;
    let mut next = std::error::Error::source(e);
    while let Some(inner) = next {
        if let Some(inner) = inner.downcast_ref::<minijinja::Error>()
            && inner.line().is_some()
        {
            at = inner;
        }
        next = inner.source();
    }
    let what = match at.detail() {
        Some(detail) => format!("{}: {detail}", kind(at.kind())),
        None => kind(at.kind()).to_owned(),
    };
    let mut text = match (at.name(), at.line()) {
        (Some(name), Some(line)) => format!("{name}:{line}: {what}"),
        (Some(name), None) => format!("{name}: {what}"),
        _ => what,
    };
    if let (Some(source), Some(line)) = (at.template_source(), at.line())
        && let Some(code) = source.lines().nth(line.saturating_sub(1))
    {
        // A long line is shown by its start.
        let code = code.trim_end();
        let shown: String = code.chars().take(SHOWN_LINE).collect();
        let more = if shown.len() < code.len() { " ..." } else { "" };
        text.push_str(&format!("\n    {shown}{more}"));
    }
    Error::new(text)
}

fn kind(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::SyntaxError => "syntax error",
        ErrorKind::UndefinedError => "undefined value",
        ErrorKind::TemplateNotFound => "template not found",
        ErrorKind::UnknownFilter => "unknown filter",
        ErrorKind::UnknownTest => "unknown test",
        ErrorKind::UnknownFunction => "unknown function",
        ErrorKind::UnknownMethod => "unknown method",
        ErrorKind::TooManyArguments => "too many arguments",
        ErrorKind::MissingArgument => "missing argument",
        ErrorKind::BadEscape => "bad string escape",
        ErrorKind::InvalidDelimiter => "invalid delimiter",
        ErrorKind::BadSerialization => "cannot serialize",
        ErrorKind::CannotUnpack => "cannot unpack",
        ErrorKind::BadInclude => "bad include",
        ErrorKind::EvalBlock => "bad block",
        ErrorKind::WriteFailure => "output failed",
        ErrorKind::OutOfFuel => "the render did more work than one may (a loop that does not end?)",
        _ => "invalid operation",
    }
}
