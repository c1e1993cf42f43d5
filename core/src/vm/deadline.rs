//! A deadline for a run (`--timeout SECONDS`, `RuntimeBuilder::timeout`; on by default in the
//! sandbox): past it the run ends with "timed out after N s", whatever the script is doing.
//!
//! - **Waiting** (`sleep`, I/O, a server, tasks): the executor stops waiting at the deadline
//!   and drops everything the run started.
//! - **Computing** (`while true do end`): the VM's count hook (`vm::interrupt`) checks the
//!   clock every few thousand instructions (negligible cost) and raises once the deadline has
//!   passed.
//! - **Catching**: a script cannot catch the timeout and go on. Once the deadline has passed,
//!   `pcall`, `xpcall`, `coroutine.resume`/`wrap` and `assert.raises` re-raise it instead of
//!   returning it, so it unwinds to the top however the script nests its handlers.
//! - **Native loops**: Lua's pattern functions (`string.find` and friends) are C that no hook
//!   interrupts and can backtrack for hours on a crafted pattern; under a deadline they are
//!   replaced by Assay's port (`builtins::pattern`), which checks the deadline as it matches.
//!
//! - **Where no hook runs**: Lua runs `__gc` finalizers, and the message handler of an error
//!   raised by a hook, with hooks off. A finalizer that loops cannot be interrupted inside the
//!   VM; [`Deadline::watch`] lets the command line end the process [`GRACE`] after the
//!   deadline if the run is still stuck there (an embedder may do the same from its side).
//!
//! The clock starts when a run starts (`run_file`, `run_chunk`, each REPL entry) and stops
//! when it ends; each run has the whole budget.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long past its deadline a run may stay stuck where no hook runs before the command
/// line ends the process.
pub const GRACE: Duration = Duration::from_secs(2);

/// When the current run passes its deadline (`None` between runs), readable from any thread.
pub type Watch = Arc<Mutex<Option<Instant>>>;

use mlua::Lua;

/// The deadline of the current run, shared by the hook, the glue and the executor.
#[derive(Debug)]
pub struct Deadline {
    budget: Duration,
    at: Cell<Option<Instant>>,
    expired: Cell<bool>,
    watch: Watch,
}

impl Deadline {
    /// The message of the error that ends a run.
    pub fn message(&self) -> String {
        format!("timed out after {}", describe(self.budget))
    }

    /// The configured budget.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The current run's deadline for another thread (a watchdog).
    pub fn watch(&self) -> Watch {
        self.watch.clone()
    }

    /// Starts the clock for a run; returns the instant it ends.
    pub fn start(&self) -> Instant {
        let at = Instant::now() + self.budget;
        self.at.set(Some(at));
        self.expired.set(false);
        self.publish(Some(at));
        at
    }

    /// Stops the clock (the run is over).
    pub fn stop(&self) {
        self.at.set(None);
        self.publish(None);
    }

    /// The state is closing (its finalizers run with hooks off): a watchdog gives it
    /// [`GRACE`] from now.
    pub fn closing(&self) {
        self.publish(Some(Instant::now()));
    }

    fn publish(&self, at: Option<Instant>) {
        let mut shared = self
            .watch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *shared = at;
    }

    /// Whether the current run is past its deadline (checks the clock).
    pub fn expired(&self) -> bool {
        if self.expired.get() {
            return true;
        }
        let past = self.at.get().is_some_and(|at| Instant::now() >= at);
        if past {
            self.expired.set(true);
        }
        past
    }

    /// An error if the deadline has passed: for Rust code that loops (patterns, catchers).
    pub fn check(&self) -> mlua::Result<()> {
        if self.expired() {
            Err(mlua::Error::runtime(self.message()))
        } else {
            Ok(())
        }
    }
}

/// `1.5` -> `1.5 s`, `60` -> `60 s`.
fn describe(budget: Duration) -> String {
    let secs = budget.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{} s", budget.as_secs())
    } else {
        format!("{secs} s")
    }
}

/// Gives `lua` a deadline of `budget` per run: the count hook, the catchers' re-raise, and the
/// interruptible pattern functions. Call before any coroutine is created (threads inherit the
/// hook from the thread that creates them).
pub fn install(lua: &Lua, budget: Duration) -> mlua::Result<Rc<Deadline>> {
    let deadline = Rc::new(Deadline {
        budget,
        at: Cell::new(None),
        expired: Cell::new(false),
        watch: Arc::default(),
    });
    lua.set_app_data(deadline.clone());
    let hook = deadline.clone();
    crate::vm::interrupt::add(
        lua,
        Rc::new(move |_| hook.check().map(|()| mlua::VmState::Continue)),
    )?;
    let interrupt = deadline.clone();
    crate::builtins::pattern::install(lua, Rc::new(move || interrupt.check()))?;
    crate::builtins::function::guard_catchers(lua)?;
    Ok(deadline)
}

/// The VM's deadline, if it has one.
pub fn of(lua: &Lua) -> Option<Rc<Deadline>> {
    lua.app_data_ref::<Rc<Deadline>>().map(|d| d.clone())
}

/// The timeout error if `lua`'s run is past its deadline (nothing otherwise): for Rust code
/// that catches errors and would let a script go on.
pub fn check(lua: &Lua) -> mlua::Result<()> {
    match of(lua) {
        Some(deadline) => deadline.check(),
        None => Ok(()),
    }
}
