//! Rendering: the calls of the `template` global and of an environment object.

use std::io;
use std::path::Path;
use std::sync::Arc;

use assay_sdk::{Args, Error, Methods, Object, ObjectType, Result, Value};
use minijinja::Environment;
use minijinja::value::Value as Jv;

use crate::engine::{self, Settings};
use crate::values;

/// How much a render may do on the script's thread (minijinja fuel: about 5 ms, measured at
/// ~20 ns a step; a 200-line page over 500 rows fits) before it starts again on a thread of
/// its own, where the script goes on meanwhile and its `--timeout` holds.
const INLINE_FUEL: u64 = 250_000;
/// How much a render may do at all: a template that loops without end fails after some
/// seconds instead of spinning for ever (minijinja fuel: about 10^8 steps, or 6 GB made).
const FULL_FUEL: u64 = 100_000_000;

/// The two environments of one set of options: one for the first try of a render on the
/// script's thread, and one for the render on a thread of its own, made the first time a
/// render needs it (most never do).
#[derive(Clone)]
struct Envs {
    inline: Arc<Environment<'static>>,
    full: Arc<std::sync::OnceLock<Environment<'static>>>,
    settings: Arc<Settings>,
    full_fuel: u64,
}

impl Envs {
    /// Fuel also bounds what a render makes (about 64 bytes a step, outputs and every string
    /// in between: `{% set %}` captures, macros, filters): with a memory limit, a render may
    /// make eight times the limit in all (the peak stays below that), and that many steps
    /// (for the default 128 MiB, 16.7 M steps: a few tenths of a second); no more than
    /// `FULL_FUEL` steps either way.
    fn new(settings: &Settings, limit: Option<u64>) -> Envs {
        let full_fuel = limit.map_or(FULL_FUEL, |l| (l / 8).clamp(INLINE_FUEL, FULL_FUEL));
        Envs {
            inline: Arc::new(settings.environment(INLINE_FUEL.min(full_fuel))),
            full: Arc::new(std::sync::OnceLock::new()),
            settings: Arc::new(settings.clone()),
            full_fuel,
        }
    }

    fn full(&self) -> &Environment<'static> {
        self.full
            .get_or_init(|| self.settings.environment(self.full_fuel))
    }
}

/// Renders running on threads of their own at once. Each holds a thread of a bounded pool
/// (Lua filters that render templates that call Lua filters ... would hold them all and wait
/// on each other): past this, a render is refused.
const MAX_THREADED_RENDERS: usize = 64;
static THREADED_RENDERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One threaded render counted while it lives.
struct Counted;

impl Counted {
    fn enter() -> Result<Counted> {
        use std::sync::atomic::Ordering;
        if THREADED_RENDERS.fetch_add(1, Ordering::SeqCst) >= MAX_THREADED_RENDERS {
            THREADED_RENDERS.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::new(format!(
                "more than {MAX_THREADED_RENDERS} renders at once (a Lua filter that renders \
                 templates with Lua filters, without end?)"
            )));
        }
        Ok(Counted)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        THREADED_RENDERS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A kept environment (`template.env`): parsed templates are cached in it.
pub struct Env {
    envs: Envs,
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
    envs: Envs,
    source: Source,
    vars: Jv,
    /// The script's memory limit, which the output may not pass.
    limit: Option<u64>,
    lua_filters: bool,
}

/// `template.render(path, vars, opts)`.
pub async fn file(mut args: Args) -> Result<String> {
    args.at_most(3, 0)?;
    let path = Path::new(args.str(1, "path")?).to_owned();
    let vars = vars(&mut args, 2)?;
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
pub async fn string(mut args: Args) -> Result<String> {
    args.at_most(3, 0)?;
    let src = args.str(1, "src")?.to_owned();
    let vars = vars(&mut args, 2)?;
    let settings = Settings::read(&args.options(3, "opts")?)?;
    Job::new(&settings, Source::Text(src), vars).run().await
}

/// `template.env(opts)`.
pub fn env(args: Args) -> Result<Object> {
    args.at_most(1, 0)?;
    let settings = Settings::read(&args.options(1, "opts")?)?;
    Ok(Object::new(Env {
        envs: Envs::new(&settings, assay_sdk::host::memory_limit()),
        lua_filters: !settings.filters.is_empty(),
    }))
}

/// The variables: a table of names (absent: none), taken from the arguments as they are.
fn vars(args: &mut Args, pos: usize) -> Result<Jv> {
    match args.get(pos) {
        Value::Nil => Ok(Jv::from_pairs(Vec::<(Jv, Jv)>::new())),
        Value::Array(items) if items.is_empty() => Ok(Jv::from_pairs(Vec::<(Jv, Jv)>::new())),
        Value::Map(_) => values::to_template(&args.take(pos), "vars").map_err(Error::new),
        _ => Err(args.bad(pos, "vars", "table of names")),
    }
}

impl Job {
    fn new(settings: &Settings, source: Source, vars: Jv) -> Job {
        let limit = assay_sdk::host::memory_limit();
        Job {
            envs: Envs::new(settings, limit),
            source,
            vars,
            limit,
            lua_filters: !settings.filters.is_empty(),
        }
    }

    /// Renders where it is called; a render that runs long (out of its inline fuel), or one
    /// with Lua filters (which run on the script's thread while it waits), starts again on a
    /// thread of its own. A render has no effect but its output, so starting again is safe.
    async fn run(self) -> Result<String> {
        if !self.lua_filters {
            match self.render(&self.envs.inline) {
                Err(Stop::OutOfFuel) => {}
                done => return done.map_err(Stop::into_error),
            }
        }
        let counted = Counted::enter()?;
        assay_sdk::tokio::task::spawn_blocking(move || {
            let _counted = counted;
            self.render(self.envs.full()).map_err(Stop::into_error)
        })
        .await
        .map_err(|e| Error::new(format!("the render failed: {e}")))?
    }

    fn render(&self, env: &Environment<'static>) -> std::result::Result<String, Stop> {
        let template = match &self.source {
            Source::Name(name) => env.get_template(name),
            Source::Text(text) => env.template_from_named_str("<string>", text),
        }
        .map_err(Stop::Failed)?;
        let mut out = Capped {
            buf: Vec::new(),
            limit: self.limit.unwrap_or(u64::MAX),
            over: false,
        };
        match template.render_captured_to(self.vars.clone(), &mut out) {
            Ok(_) => String::from_utf8(out.buf)
                .map_err(|_| Stop::Message("the template's output is not UTF-8".into())),
            Err(_) if out.over => Err(Stop::Message(format!(
                "the output passes the memory limit of {} MiB (--memory-limit)",
                out.limit >> 20
            ))),
            Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => Err(Stop::OutOfFuel),
            Err(e) => Err(Stop::Failed(e)),
        }
    }
}

/// Why a render stopped.
enum Stop {
    /// It used up its fuel.
    OutOfFuel,
    Failed(minijinja::Error),
    Message(String),
}

impl Stop {
    fn into_error(self) -> Error {
        match self {
            Stop::OutOfFuel => Error::new(
                "the render did more work or made more than one may (minijinja's fuel: steps, \
                 and bytes made against the memory limit): a loop that does not end, or a value too \
                 large?",
            ),
            Stop::Failed(e) => engine::describe(&e),
            Stop::Message(text) => Error::new(text),
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
        m.async_method("render", |this: Arc<Env>, mut args| async move {
            args.at_most(2, 0)?;
            let name = args.str(1, "name")?.to_owned();
            let vars = vars(&mut args, 2)?;
            this.job(Source::Name(name), vars).run().await
        });
        m.async_method("render_string", |this: Arc<Env>, mut args| async move {
            args.at_most(2, 0)?;
            let src = args.str(1, "src")?.to_owned();
            let vars = vars(&mut args, 2)?;
            this.job(Source::Text(src), vars).run().await
        });
    }
}

impl Env {
    fn job(&self, source: Source, vars: Jv) -> Job {
        Job {
            envs: self.envs.clone(),
            source,
            vars,
            limit: assay_sdk::host::memory_limit(),
            lua_filters: self.lua_filters,
        }
    }
}
