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

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::attempt::{self, Context};
use super::config::{Check, Config, Wait};
use super::duration::show;
use crate::LibPath;
use crate::report::{Attempt, Case, Outcome, Run};

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
/// what it captured (for `-v`, and to mask captured secrets from then on).
pub type Progress<'a> = dyn Fn(&Check, usize, &Attempt, &[(String, String)]) + Sync + 'a;

/// Runs the checks; `progress` hears of each attempt as it ends.
pub fn run(config: &Config, options: &Options, progress: &Progress) -> Result<Run, String> {
    let started = Instant::now();
    let deadline = config.timeout.map(|t| started + t);
    let selected = select(config, &options.only)?;
    let needs = dependencies(config);
    let parallel = options.parallel.unwrap_or(config.parallel).max(1);
    let mut values: HashMap<String, String> = HashMap::new();
    for (k, v) in &config.env {
        values.insert(k.clone(), v.clone());
    }
    let mut states: Vec<State> = vec![State::Waiting; config.checks.len()];
    let mut cases: Vec<Option<Case>> = vec![None; config.checks.len()];
    let (tx, rx) = mpsc::channel::<(usize, Case)>();
    let (jobs, queue) = mpsc::channel::<(usize, Context)>();
    let queue = std::sync::Mutex::new(queue);
    std::thread::scope(|scope| -> Result<(), String> {
        for n in 0..parallel.min(config.checks.len()) {
            let (tx, queue) = (tx.clone(), &queue);
            let run_timeout = config.timeout;
            std::thread::Builder::new()
                .name(format!("assay-check-{n}"))
                .spawn_scoped(scope, move || {
                    let mut worker = attempt::Worker::default();
                    loop {
                        let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok((i, context)) = job else { break };
                        let case = run_check(
                            &config.checks[i],
                            &context,
                            deadline,
                            run_timeout,
                            progress,
                            &mut worker,
                        );
                        if tx.send((i, case)).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| format!("cannot start a worker thread: {e}"))?;
        }
        let mut running = 0;
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
                if running >= parallel {
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
                running += 1;
                let context = Context {
                    lib_path: options.lib_path.clone(),
                    memory_limit: options.memory_limit,
                    log: options.log,
                    env: config.env.clone(),
                    values: snapshot(config, &values),
                };
                jobs.send((i, context))
                    .map_err(|_| "the worker threads are gone".to_owned())?;
            }
            if running == 0 {
                break;
            }
            let Ok((i, case)) = rx.recv() else { break };
            running -= 1;
            if case.outcome == Outcome::Passed {
                for (name, value) in &case.captures {
                    values.insert(name.clone(), value.clone());
                }
            }
            states[i] = State::Done(case.outcome);
            cases[i] = Some(case);
        }
        // No more jobs: the workers end.
        drop(jobs);
        Ok(())
    })?;
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
    let needs = dependencies(config);
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

/// Each check's dependencies: `depends_on`, and the checks capturing a `${name}` it uses
/// (unless a var gives that name: vars come first).
fn dependencies(config: &Config) -> Vec<Vec<usize>> {
    let index = |name: &str| config.checks.iter().position(|c| c.name == name);
    config
        .checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            let mut needs: Vec<usize> = check.depends_on.iter().filter_map(|d| index(d)).collect();
            for name in check.kind.names() {
                if config.var(name).is_some() {
                    continue;
                }
                for (j, other) in config.checks.iter().enumerate() {
                    if j != i && other.kind.captures().any(|c| c == name) && !needs.contains(&j) {
                        needs.push(j);
                    }
                }
            }
            needs
        })
        .collect()
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

/// A check's attempts until one passes, its retries run out or the deadline passes.
fn run_check(
    check: &Check,
    context: &Context,
    deadline: Option<Instant>,
    run_timeout: Option<Duration>,
    progress: &Progress,
    worker: &mut attempt::Worker,
) -> Case {
    let started = Instant::now();
    let mut case = unrun(check, Outcome::Failed, String::new());
    let timed_out = || {
        format!(
            "timed out after {} (the run's timeout)",
            run_timeout.map(show).unwrap_or_default()
        )
    };
    for n in 0..=check.policy.retries {
        if n > 0 {
            let wait = wait_before(&check.policy.wait, n);
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|left| left <= wait) {
                if let Some(left) = left {
                    std::thread::sleep(left);
                }
                case.message = format!("{}; last attempt: {}", timed_out(), case.message);
                break;
            }
            std::thread::sleep(wait);
        }
        let own = check.policy.timeout.unwrap_or(DEFAULT_ATTEMPT_TIMEOUT);
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            case.message = timed_out();
            break;
        }
        let cut = left.is_some_and(|l| l < own);
        let limit = left.map_or(own, |l| l.min(own));
        let attempt_started = Instant::now();
        let outcome = attempt::run(&check.name, &check.kind, context, limit, worker);
        let mut message = outcome.message;
        if !outcome.passed && cut && deadline.is_some_and(|d| Instant::now() >= d) {
            message = format!("{} ({message})", timed_out());
        }
        let attempt = Attempt {
            passed: outcome.passed,
            message: message.clone(),
            duration: attempt_started.elapsed(),
        };
        progress(check, n as usize + 1, &attempt, &outcome.captures);
        case.attempts.push(attempt);
        if outcome.passed {
            case.outcome = Outcome::Passed;
            case.message.clear();
            case.captures = outcome.captures;
            break;
        }
        case.message = message;
        if outcome.errored {
            case.outcome = Outcome::Error;
            break;
        }
    }
    case.duration = started.elapsed();
    case
}

/// The wait before retry `n` (1 for the first retry).
fn wait_before(wait: &Wait, n: u32) -> Duration {
    match wait {
        Wait::Interval(d) => *d,
        Wait::Backoff {
            initial,
            max,
            factor,
            jitter,
        } => {
            let ceiling = initial.as_secs_f64() * factor.powi(n.saturating_sub(1).min(60) as i32);
            let ceiling = ceiling.min(max.as_secs_f64());
            let share = if *jitter { unit_random() } else { 1.0 };
            Duration::from_secs_f64(ceiling * share)
        }
    }
}

/// A uniform random number in [0, 1) from the OS's generator (jitter needs no more).
fn unit_random() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_within_its_ceiling() {
        let wait = Wait::Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(400),
            factor: 2.0,
            jitter: true,
        };
        for _ in 0..200 {
            assert!(wait_before(&wait, 1) <= Duration::from_millis(100));
            assert!(wait_before(&wait, 2) <= Duration::from_millis(200));
            assert!(wait_before(&wait, 9) <= Duration::from_millis(400));
        }
        let spread: Vec<Duration> = (0..50).map(|_| wait_before(&wait, 3)).collect();
        assert!(spread.iter().any(|d| *d != spread[0]), "jitter varies");
        assert_eq!(
            wait_before(&Wait::Interval(Duration::from_secs(2)), 5),
            Duration::from_secs(2)
        );
    }
}
