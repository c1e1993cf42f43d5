//! One check's attempts on a worker thread: the first, then up to `retries` more, with the
//! waits its `backoff` or `interval` asks for, each attempt cut at its limit and at the
//! run's deadline. The worker says how long it expects to be busy before each attempt and
//! each wait, so the scheduler can tell a check that overran everything (stuck where no
//! timeout reaches) from one that is merely slow.

use std::time::{Duration, Instant};

use super::super::attempt::{self, Context};
use super::super::config::{Check, Wait};
use super::super::duration::show;
use super::{DEFAULT_ATTEMPT_TIMEOUT, Progress, unrun};
use crate::report::{Attempt, Case, Outcome};

/// A check's attempts until one passes, its retries run out or the deadline passes.
pub fn run_check(
    check: &Check,
    context: &Context,
    deadline: Option<Instant>,
    run_timeout: Option<Duration>,
    progress: &Progress,
    worker: &mut attempt::Worker,
    busy_until: &dyn Fn(Instant),
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
                    busy_until(Instant::now() + left);
                    std::thread::sleep(left);
                }
                if !case.message.starts_with(&timed_out()) {
                    case.message = format!("{}; last attempt: {}", timed_out(), case.message);
                }
                break;
            }
            busy_until(Instant::now() + wait);
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
        busy_until(attempt_started + limit);
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
