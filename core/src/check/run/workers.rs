//! The threads checks run on. They are detached, not scoped: a check stuck where no timeout
//! reaches (a script's `__gc` finalizer that never returns runs with the VM's hooks off) must
//! not keep the run, and its report, waiting. The scheduler gives up on such a check once it
//! overruns what its worker said by [`GRACE`], reports it, and starts a new worker in its
//! place; the stuck thread ends with the process. A worker that panics reports its check as
//! an error and goes on with a fresh VM.
//!
//! [`GRACE`]: crate::vm::deadline::GRACE

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::super::attempt::{self, Context};
use super::super::config::Config;
use super::retry::run_check;
use super::{Progress, unrun};
use crate::report::{Case, Outcome};

/// What a worker tells the scheduler.
pub enum Event {
    /// Check `i` is busy (an attempt, or a wait before the next) until about `until`.
    Busy { i: usize, until: Instant },
    /// Check `i` has ended.
    Done { i: usize, case: Case },
}

/// What every worker shares.
struct Shared {
    config: Config,
    progress: Arc<Progress<'static>>,
    deadline: Option<Instant>,
    jobs: Mutex<Receiver<(usize, Context)>>,
    events: Sender<Event>,
}

/// The workers, the queue of checks ready to run, and what they report.
pub struct Pool {
    shared: Arc<Shared>,
    jobs: Sender<(usize, Context)>,
    events: Receiver<Event>,
    spawned: usize,
}

impl Pool {
    /// `count` workers for the checks of `config`.
    pub fn start(
        config: &Config,
        progress: Arc<Progress<'static>>,
        deadline: Option<Instant>,
        count: usize,
    ) -> Result<Pool, String> {
        let (jobs, queue) = mpsc::channel();
        let (events_tx, events) = mpsc::channel();
        let mut pool = Pool {
            shared: Arc::new(Shared {
                config: config.clone(),
                progress,
                deadline,
                jobs: Mutex::new(queue),
                events: events_tx,
            }),
            jobs,
            events,
            spawned: 0,
        };
        for _ in 0..count {
            pool.add_worker()?;
        }
        Ok(pool)
    }

    /// One more worker (in place of a stuck one).
    pub fn add_worker(&mut self) -> Result<(), String> {
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name(format!("assay-check-{}", self.spawned))
            .spawn(move || work(&shared))
            .map_err(|e| format!("cannot start a worker thread: {e}"))?;
        self.spawned += 1;
        Ok(())
    }

    /// Hands check `i` to the next free worker.
    pub fn send(&self, i: usize, context: Context) -> Result<(), String> {
        self.jobs
            .send((i, context))
            .map_err(|_| "the worker threads are gone".to_owned())
    }

    /// The next event, or `None` if `until` comes first.
    pub fn next(&self, until: Option<Instant>) -> Option<Event> {
        match until {
            None => self.events.recv().ok(),
            Some(until) => {
                let wait = until.saturating_duration_since(Instant::now());
                self.events
                    .recv_timeout(wait.max(Duration::from_millis(1)))
                    .ok()
            }
        }
    }
}

fn work(shared: &Shared) {
    let mut worker = attempt::Worker::default();
    loop {
        let job = shared.jobs.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok((i, context)) = job else { break };
        let check = &shared.config.checks[i];
        let busy_until = |until: Instant| {
            let _ = shared.events.send(Event::Busy { i, until });
        };
        let ran = std::panic::catch_unwind(AssertUnwindSafe(|| {
            run_check(
                check,
                &context,
                shared.deadline,
                shared.config.timeout,
                &*shared.progress,
                &mut worker,
                &busy_until,
            )
        }));
        let case = ran.unwrap_or_else(|panic| {
            // What the panicking attempt left behind (its VM, its clients) is not reused.
            worker = attempt::Worker::default();
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            unrun(
                check,
                Outcome::Error,
                format!("the check could not run: its worker failed ({why})"),
            )
        });
        if shared.events.send(Event::Done { i, case }).is_err() {
            break;
        }
    }
}
