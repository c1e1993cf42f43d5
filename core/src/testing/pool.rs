//! Running jobs on detached worker threads and waiting for them with a bound: a job that
//! panics, or whose thread stays stuck where nothing can interrupt it, is reported as lost
//! instead of hanging the run. (A scoped thread would have to be joined, and a thread stuck
//! in a `__gc` finalizer that loops never ends: it is left behind, and ends with the process.)

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// How often the waiting thread looks for stuck jobs.
const POLL: Duration = Duration::from_millis(100);

/// Why a job gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lost {
    /// It panicked (a bug), with the panic's message; or its thread could not start.
    Failed(String),
    /// Its thread was found stuck and left behind.
    Stuck,
}

/// Runs `job(i, &slots[i])` for every slot, up to `parallel` at once, each job on a worker
/// thread; returns the results in slot order. A job that panics gives `lost(i, slot,
/// Lost::Failed)`; one whose slot `is_stuck` says is stuck gives `lost(i, slot, Lost::Stuck)`
/// and its thread is replaced by a fresh one.
pub fn run<S, T>(
    slots: Vec<Arc<S>>,
    parallel: usize,
    job: impl Fn(usize, &S) -> T + Send + Sync + 'static,
    is_stuck: impl Fn(&S) -> bool,
    lost: impl Fn(usize, &S, Lost) -> T,
) -> Vec<T>
where
    S: Send + Sync + 'static,
    T: Send + 'static,
{
    let count = slots.len();
    let slots = Arc::new(slots);
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let (sender, results) = mpsc::channel::<(usize, Result<T, String>)>();
    let spawn_worker = || {
        let (slots, next, job, sender) = (slots.clone(), next.clone(), job.clone(), sender.clone());
        std::thread::Builder::new()
            .name("assay-test".into())
            .spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(slot) = slots.get(i) else { break };
                    let result = catch_unwind(AssertUnwindSafe(|| job(i, slot)))
                        .map_err(|panic| panic_message(panic.as_ref()));
                    if sender.send((i, result)).is_err() {
                        break;
                    }
                }
            })
            .map(drop)
    };
    let mut done: Vec<Option<T>> = (0..count).map(|_| None).collect();
    let mut workers = 0;
    for _ in 0..parallel.clamp(1, count.max(1)) {
        match spawn_worker() {
            Ok(()) => workers += 1,
            Err(e) if workers == 0 => {
                let why = Lost::Failed(format!("cannot start a thread: {e}"));
                return (0..count)
                    .map(|i| lost(i, &slots[i], why.clone()))
                    .collect();
            }
            Err(_) => break,
        }
    }
    // `sender` stays here for the replacements of stuck workers; a worker ends only once no
    // job is left, so every job sends its result or is found stuck.
    let mut left = count;
    while left > 0 {
        match results.recv_timeout(POLL) {
            Ok((i, result)) => {
                if done[i].is_none() {
                    done[i] = Some(
                        result.unwrap_or_else(|panic| lost(i, &slots[i], Lost::Failed(panic))),
                    );
                    left -= 1;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                for i in 0..count {
                    if done[i].is_none() && is_stuck(&slots[i]) {
                        done[i] = Some(lost(i, &slots[i], Lost::Stuck));
                        left -= 1;
                        // The stuck thread keeps its place; the other jobs get a new one.
                        let _ = spawn_worker();
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("the sender is held here"),
        }
    }
    done.into_iter().flatten().collect()
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::{Lost, run};

    /// A job that panics and one that never returns are both reported, the others run, and
    /// the wait ends.
    #[test]
    fn lost_jobs_do_not_hang_the_run() {
        let slots: Vec<Arc<AtomicBool>> =
            (0..4).map(|_| Arc::new(AtomicBool::new(false))).collect();
        let started = Instant::now();
        let results = run(
            slots,
            2,
            |i, stuck: &AtomicBool| match i {
                1 => panic!("job one broke"),
                2 => {
                    stuck.store(true, Ordering::SeqCst);
                    loop {
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
                _ => format!("done {i}"),
            },
            |stuck| stuck.load(Ordering::SeqCst),
            |i, _, why| format!("lost {i}: {why:?}"),
        );
        assert_eq!(
            results,
            [
                "done 0".to_owned(),
                format!("lost 1: {:?}", Lost::Failed("job one broke".into())),
                format!("lost 2: {:?}", Lost::Stuck),
                "done 3".to_owned(),
            ]
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
