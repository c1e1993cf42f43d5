//! The host's timers, known by deadline. When a plugin's reactor runs on the VM's thread
//! (`crate::plugin::reactor`), the thread waits in the plugin's reactor rather than in the
//! executor's, so it must know when the executor's next timer is due: every timer the host
//! sets goes through here ([`sleep_until`]), which keeps its deadline in a per-thread set
//! while it waits.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

thread_local! {
    static DEADLINES: RefCell<BTreeSet<(Instant, u64)>> = const { RefCell::new(BTreeSet::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

/// A registered deadline; dropping it forgets it.
struct Registered((Instant, u64));

impl Registered {
    fn new(deadline: Instant) -> Self {
        let id = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id.wrapping_add(1));
            id
        });
        DEADLINES.with(|d| d.borrow_mut().insert((deadline, id)));
        Registered((deadline, id))
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        DEADLINES.with(|d| d.borrow_mut().remove(&self.0));
    }
}

/// Waits until `deadline`, known to [`next_deadline`] meanwhile.
pub async fn sleep_until(deadline: Instant) {
    let _registered = Registered::new(deadline);
    tokio::time::sleep_until(deadline.into()).await;
}

/// Waits `duration`. A zero duration only yields to the other ready tasks, as
/// `asyncio.sleep(0)` does: the timer wheel counts in whole milliseconds, so a zero-length
/// timer would cost about one (a `sleep(0)` loop of 400,000 iterations took 475 s).
pub async fn sleep(duration: Duration) {
    if duration.is_zero() {
        tokio::task::yield_now().await;
        return;
    }
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(far_future);
    sleep_until(deadline).await;
}

/// `future`'s output, or `None` once `deadline` has passed.
pub async fn timeout_at<F: Future>(deadline: Instant, future: F) -> Option<F::Output> {
    let _registered = Registered::new(deadline);
    tokio::time::timeout_at(deadline.into(), future).await.ok()
}

/// The earliest deadline a timer on this thread waits for.
pub fn next_deadline() -> Option<Instant> {
    DEADLINES.with(|d| d.borrow().first().map(|(at, _)| *at))
}

/// About thirty years from now (what tokio does for a duration too long to add).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_known_while_waited_for() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        assert_eq!(next_deadline(), None);
        let soon = Instant::now() + Duration::from_millis(20);
        let later = soon + Duration::from_secs(60);
        rt.block_on(tokio::task::LocalSet::new().run_until(async {
            let long = tokio::task::spawn_local(sleep_until(later));
            tokio::task::yield_now().await;
            assert_eq!(next_deadline(), Some(later));
            let short = sleep_until(soon);
            let checked = async {
                tokio::task::yield_now().await;
                assert_eq!(next_deadline(), Some(soon));
            };
            tokio::join!(short, checked);
            assert_eq!(
                next_deadline(),
                Some(later),
                "a finished sleep is forgotten"
            );
            long.abort();
            tokio::task::yield_now().await;
            assert_eq!(next_deadline(), None, "an aborted one too");
            assert_eq!(timeout_at(soon, std::future::pending::<()>()).await, None);
        }));
    }
}
