//! Running the checks of a [`Config`]: up to `parallel` at once, on as many worker threads
//! (a script check that computes does not hold the others up), in file order as far as
//! `depends_on` allows. A check runs once every check it depends on has passed, and is
//! reported skipped when one did not. A check that uses `${name}` that another check
//! captures depends on that check too, without saying so. The run's `timeout` bounds
//! everything: attempts are cut at it, and checks not started by then fail with "timed out".
//!
//! Each check makes its first attempt, then up to `retries` more, waiting between them as its
//! `backoff` (exponential with full jitter, as AWS's architecture blog describes) or
//! `interval` says. An attempt's own limit is the check's `timeout`, else 30 s, and never
//! past the run's deadline.

mod retry;
mod workers;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::attempt::Context;
use super::config::{Check, Config};
use super::duration::show;
use super::{graph, secrets};
use crate::LibPath;
use crate::report::{Attempt, Case, Outcome, Run};
use crate::vm::deadline::GRACE;
use workers::{Event, Pool};

/// An attempt's limit when neither the check nor the run sets one.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Overrides the file's `parallel`.
    pub parallel: Option<usize>,
    /// Only these checks (and what they depend on); all when empty.
    pub only: Vec<String>,
    pub lib_path: LibPath,
    /// Each VM's memory limit (bytes; 0: none).
    pub memory_limit: usize,
    /// The `log` builtin's level and format in script checks (`-v`, `-q`, `ASSAY_LOG`).
    pub log: crate::builtins::log::LogConfig,
}

/// Where a check is.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Waiting,
    Running,
    Done(Outcome),
}

/// Hears of each attempt as it ends: the check, the attempt's number from 1, how it went and
/// what it captured (for `-v`, and to mask captured secrets from then on). Called on the
/// worker threads.
pub type Progress<'a> = dyn Fn(&Check, usize, &Attempt, &[(String, String)]) + Send + Sync + 'a;

/// Runs the checks; `progress` hears of each attempt as it ends.
pub fn run(
    config: &Config,
    options: &Options,
    progress: Arc<Progress<'static>>,
) -> Result<Run, String> {
    let started = Instant::now();
    let deadline = config.timeout.map(|t| started + t);
    let selected = select(config, &options.only)?;
    let needs = graph::dependencies(config);
    let parallel = options.parallel.unwrap_or(config.parallel).max(1);
    let mut values: HashMap<String, String> = HashMap::new();
    for (k, v) in &config.env {
        values.insert(k.clone(), v.clone());
    }
    let mut states: Vec<State> = vec![State::Waiting; config.checks.len()];
    let mut cases: Vec<Option<Case>> = vec![None; config.checks.len()];
    let mut pool = Pool::start(
        config,
        progress,
        deadline,
        parallel.min(config.checks.len()),
    )?;
    // Running checks, with when each will be given up as stuck and when it started.
    let mut watched: HashMap<usize, (Instant, Instant)> = HashMap::new();
    let mut captured_bytes = 0usize;
    loop {
        // Skip what a failed dependency blocks; fail what the deadline left unstarted.
        for i in 0..config.checks.len() {
            if !selected[i] || states[i] != State::Waiting {
                continue;
            }
            let blocked = needs[i]
                .iter()
                .find(|d| matches!(&states[**d], State::Done(o) if *o != Outcome::Passed));
            let case = if let Some(dep) = blocked {
                let dep = &config.checks[*dep].name;
                Some(unrun(
                    &config.checks[i],
                    Outcome::Skipped,
                    format!("skipped: '{dep}' did not pass"),
                ))
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                let limit = config.timeout.map(show).unwrap_or_default();
                Some(unrun(
                    &config.checks[i],
                    Outcome::Failed,
                    format!("timed out after {limit} (the run's timeout) before it started"),
                ))
            } else {
                None
            };
            if let Some(case) = case {
                states[i] = State::Done(case.outcome);
                cases[i] = Some(case);
            }
        }
        // Hand what is ready to the workers, in file order.
        for i in 0..config.checks.len() {
            if watched.len() >= parallel {
                break;
            }
            let ready = selected[i]
                && states[i] == State::Waiting
                && needs[i]
                    .iter()
                    .all(|d| states[*d] == State::Done(Outcome::Passed));
            if !ready {
                continue;
            }
            states[i] = State::Running;
            let own = config.checks[i]
                .policy
                .timeout
                .unwrap_or(DEFAULT_ATTEMPT_TIMEOUT);
            watched.insert(i, (Instant::now() + own + GRACE, Instant::now()));
            let context = Context {
                lib_path: options.lib_path.clone(),
                memory_limit: options.memory_limit,
                log: options.log,
                env: config.env.to_vec(),
                values: snapshot(config, &values),
                mask: secrets::mask(config, values.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            };
            pool.send(i, context)?;
        }
        if watched.is_empty() {
            break;
        }
        match pool.next(watched.values().map(|(give_up, _)| *give_up).min()) {
            Some(Event::Busy { i, until }) => {
                if let Some((give_up, _)) = watched.get_mut(&i) {
                    *give_up = until + GRACE;
                }
            }
            Some(Event::Done { i, mut case }) => {
                if watched.remove(&i).is_none() {
                    continue; // given up on as stuck, and reported so, earlier
                }
                if case.outcome == Outcome::Passed {
                    keep_captures(&mut case, &mut values, &mut captured_bytes);
                }
                states[i] = State::Done(case.outcome);
                cases[i] = Some(case);
            }
            None => {
                let now = Instant::now();
                let stuck: Vec<(usize, Instant)> = watched
                    .iter()
                    .filter(|(_, (give_up, _))| now >= *give_up)
                    .map(|(i, (_, started))| (*i, *started))
                    .collect();
                for (i, started) in stuck {
                    watched.remove(&i);
                    let mut case = unrun(&config.checks[i], Outcome::Error, STUCK.to_owned());
                    case.duration = started.elapsed();
                    states[i] = State::Done(case.outcome);
                    cases[i] = Some(case);
                    pool.add_worker()?;
                }
            }
        }
    }
    // Anything selected that never ran (nothing left could unblock it) is said, not dropped.
    for i in 0..config.checks.len() {
        if selected[i] && cases[i].is_none() {
            cases[i] = Some(unrun(
                &config.checks[i],
                Outcome::Error,
                "did not run: what it waits for never finished".to_owned(),
            ));
        }
    }
    Ok(Run {
        noun: "checks",
        name: config
            .checks
            .first()
            .map(|c| c.file.display().to_string())
            .unwrap_or_default(),
        cases: cases.into_iter().flatten().collect(),
        duration: started.elapsed(),
    })
}

/// The message of a check given up on.
const STUCK: &str = "stuck: it overran its timeout by more than 2 s where no timeout could \
                     stop it (such as a script's __gc finalizer that never returns); abandoned";

/// The most one capture may hold, and all captures of a run together: a capture is a token,
/// an id, a version; every check that runs gets a copy of them all.
pub const MAX_CAPTURE: usize = 1 << 20;
pub const MAX_CAPTURES: usize = 16 << 20;

/// Keeps a passed check's captures for later checks, within [`MAX_CAPTURES`]; past it the
/// check fails, saying why.
fn keep_captures(case: &mut Case, values: &mut HashMap<String, String>, total: &mut usize) {
    if let Some((name, value)) = case.captures.iter().find(|(_, v)| v.len() > MAX_CAPTURE) {
        case.outcome = Outcome::Failed;
        case.message = format!(
            "capture '{name}' is {} bytes; a capture holds at most {} MiB",
            value.len(),
            MAX_CAPTURE >> 20
        );
        case.captures.clear();
        return;
    }
    let size: usize = case.captures.iter().map(|(k, v)| k.len() + v.len()).sum();
    if *total + size > MAX_CAPTURES {
        case.outcome = Outcome::Failed;
        case.message = format!(
            "its captures ({size} bytes) would take the run's captures past {} MiB",
            MAX_CAPTURES >> 20
        );
        case.captures.clear();
        return;
    }
    *total += size;
    for (name, value) in &case.captures {
        values.insert(name.clone(), value.clone());
    }
}

/// What `${name}` gives a check now: `--var`s and vars first, then captures, then env.
fn snapshot(config: &Config, captured: &HashMap<String, String>) -> HashMap<String, String> {
    let mut values = captured.clone();
    for (k, v) in &config.vars {
        values.insert(k.clone(), v.clone());
    }
    values
}

/// Which checks run: all, or those `only` names and what they depend on.
fn select(config: &Config, only: &[String]) -> Result<Vec<bool>, String> {
    if only.is_empty() {
        return Ok(vec![true; config.checks.len()]);
    }
    let needs = graph::dependencies(config);
    let mut selected = vec![false; config.checks.len()];
    let mut todo = Vec::new();
    for name in only {
        let i = config
            .checks
            .iter()
            .position(|c| c.name == *name)
            .ok_or_else(|| format!("--only: no check is named '{name}'"))?;
        todo.push(i);
    }
    while let Some(i) = todo.pop() {
        if !selected[i] {
            selected[i] = true;
            todo.extend(&needs[i]);
        }
    }
    Ok(selected)
}

fn unrun(check: &Check, outcome: Outcome, message: String) -> Case {
    Case {
        name: check.name.clone(),
        group: check.file.display().to_string(),
        outcome,
        message,
        attempts: Vec::new(),
        duration: Duration::ZERO,
        captures: Vec::new(),
    }
}
