//! Rendering: the calls of the `template` global and of an environment object.

use std::io;
use std::path::Path;
use std::sync::Arc;

use assay_sdk::{Args, Error, Methods, Object, ObjectType, Result, Value};
use minijinja::Environment;
use minijinja::value::Value as Jv;

use crate::engine::{self, Settings};
use crate::values;

/// A kept environment (`template.env`): parsed templates are cached in it.
pub struct Env {
    env: Arc<Environment<'static>>,
    lua_filters: bool,
}

/// What to render.
enum Source {
    /// A template the environment loads by name.
    Name(String),
    /// Template text (`render_string`).
    Text(String),
}

/// One render, ready to run.
struct Job {
    env: Arc<Environment<'static>>,
    source: Source,
    vars: Jv,
    /// The script's memory limit, which the output may not pass.
    limit: Option<u64>,
    lua_filters: bool,
}

/// `template.render(path, vars, opts)`.
pub async fn file(args: Args) -> Result<String> {
    args.at_most(3, 0)?;
    let path = Path::new(args.str(1, "path")?);
    let vars = vars(&args, 2)?;
    let mut settings = Settings::read(&args.options(3, "opts")?)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| args.invalid(1, "path", "a template file's path"))?
        .to_owned();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    settings
        .dirs
        .insert(0, dir.unwrap_or(Path::new(".")).to_owned());
    if !path.is_file() {
        return Err(Error::new(format!(
            "{}: no such template file",
            path.display()
        )));
    }
    Job::new(&settings, Source::Name(name), vars).run().await
}

/// `template.render_string(src, vars, opts)`.
pub async fn string(args: Args) -> Result<String> {
    args.at_most(3, 0)?;
    let src = args.str(1, "src")?.to_owned();
    let vars = vars(&args, 2)?;
    let settings = Settings::read(&args.options(3, "opts")?)?;
    Job::new(&settings, Source::Text(src), vars).run().await
}

/// `template.env(opts)`.
pub fn env(args: Args) -> Result<Object> {
    args.at_most(1, 0)?;
    let settings = Settings::read(&args.options(1, "opts")?)?;
    Ok(Object::new(Env {
        env: Arc::new(settings.environment()),
        lua_filters: !settings.filters.is_empty(),
    }))
}

/// The variables: a table of names (absent: none).
fn vars(args: &Args, pos: usize) -> Result<Jv> {
    match args.get(pos) {
        Value::Nil => Ok(Jv::from_pairs(Vec::<(Jv, Jv)>::new())),
        Value::Array(items) if items.is_empty() => Ok(Jv::from_pairs(Vec::<(Jv, Jv)>::new())),
        Value::Map(_) => values::to_template(args.get(pos), "vars").map_err(Error::new),
        _ => Err(args.bad(pos, "vars", "table of names")),
    }
}

impl Job {
    fn new(settings: &Settings, source: Source, vars: Jv) -> Job {
        Job {
            env: Arc::new(settings.environment()),
            source,
            vars,
            limit: assay_sdk::host::memory_limit(),
            lua_filters: !settings.filters.is_empty(),
        }
    }

    /// Renders where it is called, or, with Lua filters, on a thread of its own (the filters
    /// then run on the script's thread while it waits).
    async fn run(self) -> Result<String> {
        if !self.lua_filters {
            return self.render();
        }
        assay_sdk::tokio::task::spawn_blocking(move || self.render())
            .await
            .map_err(|e| Error::new(format!("the render failed: {e}")))?
    }

    fn render(&self) -> Result<String> {
        let template = match &self.source {
            Source::Name(name) => self.env.get_template(name),
            Source::Text(text) => self.env.template_from_named_str("<string>", text),
        }
        .map_err(|e| engine::describe(&e))?;
        let mut out = Capped {
            buf: Vec::new(),
            limit: self.limit.unwrap_or(u64::MAX),
            over: false,
        };
        match template.render_captured_to(self.vars.clone(), &mut out) {
            Ok(_) => String::from_utf8(out.buf)
                .map_err(|_| Error::new("the template's output is not UTF-8")),
            Err(_) if out.over => Err(Error::new(format!(
                "the output passes the memory limit of {} MiB (--memory-limit)",
                out.limit >> 20
            ))),
            Err(e) => Err(engine::describe(&e)),
        }
    }
}

/// The output, refused past the memory limit.
struct Capped {
    buf: Vec<u8>,
    limit: u64,
    over: bool,
}

impl io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() as u64 + data.len() as u64 > self.limit {
            self.over = true;
            return Err(io::Error::other("the output passes the memory limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ObjectType for Env {
    const TYPE_NAME: &'static str = "template.Env";

    fn methods(m: &mut Methods<Self>) {
        m.async_method("render", |this: Arc<Env>, args| async move {
            args.at_most(2, 0)?;
            let name = args.str(1, "name")?.to_owned();
            let vars = vars(&args, 2)?;
            this.job(Source::Name(name), vars).run().await
        });
        m.async_method("render_string", |this: Arc<Env>, args| async move {
            args.at_most(2, 0)?;
            let src = args.str(1, "src")?.to_owned();
            let vars = vars(&args, 2)?;
            this.job(Source::Text(src), vars).run().await
        });
    }
}

impl Env {
    fn job(&self, source: Source, vars: Jv) -> Job {
        Job {
            env: self.env.clone(),
            source,
            vars,
            limit: assay_sdk::host::memory_limit(),
            lua_filters: self.lua_filters,
        }
    }
}
