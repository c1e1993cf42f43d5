//! Body bytes this plugin buffers outside Lua's heap, summed over every request in flight of
//! one script.
//!
//! Each body is bounded on its own (`max_body`, clamped to the script's memory limit), but
//! many at once add up: twenty tasks each reading 60 MB from a slow server would buffer 1.2 GB
//! under a 64 MiB limit, and the process would abort instead of the script getting an error.
//! So every body buffered here (request bodies the client sends, responses it reads, request
//! bodies the server reads) is charged to one count for the script, which a charge may not
//! take past the script's memory limit. "The script" is the Lua thread that made the call
//! (read into a [`Budget`] there, and carried to the tasks that read the bodies): a process
//! running several VMs on threads of their own (check mode, `assay test`, an embedder) gives
//! each its own count, as each has its own limit; VMs taking turns on one thread share one,
//! which only errs on the safe side. Like the limit itself, this is a bound
//! on what one script can make the process hold, not an exact account: a body that reached
//! Lua is counted by the VM instead, and the charge drops once it is handed over.
//!
//! A charge is an RAII [`Charge`]: it is released when dropped, whether the body reached Lua,
//! the request failed or its task was cancelled. [`Buffer`] is a body being read into memory
//! with its charge: every size of its allocation is charged before it is made.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    /// Bytes held by the charges of the scripts on this (Lua) thread. Leaked: a few bytes per
    /// thread that ever called the plugin, so a charge may outlive its thread.
    static IN_FLIGHT: &'static Pool = Box::leak(Box::new(Pool::new()));
}

/// What a script's bodies may hold: its memory limit, and the count its charges share.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    limit: Option<u64>,
    pool: &'static Pool,
}

impl Budget {
    /// The calling script's budget; call it on the Lua thread, during a call.
    pub(crate) fn of_caller() -> Self {
        Self {
            limit: assay_sdk::host::memory_limit(),
            pool: IN_FLIGHT.with(|pool| *pool),
        }
    }

    /// The script's memory limit (`None`: none known).
    pub(crate) fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// No limit, in a count of its own (tests).
    #[cfg(test)]
    pub(crate) fn unlimited() -> Self {
        Self {
            limit: None,
            pool: Box::leak(Box::new(Pool::new())),
        }
    }
}

/// A count of bytes held, shared by charges.
#[derive(Debug)]
pub(crate) struct Pool {
    used: AtomicU64,
}

impl Pool {
    const fn new() -> Self {
        Self {
            used: AtomicU64::new(0),
        }
    }
}

/// Bytes one body holds in a [`Pool`]; released on drop.
pub(crate) struct Charge {
    pool: &'static Pool,
    bytes: u64,
    /// The most the pool may hold after this charge grows (`None`: no memory limit known).
    cap: Option<u64>,
}

impl Charge {
    /// An empty charge against the script's count, which may not grow past its limit.
    pub(crate) fn new(budget: Budget) -> Self {
        Self::in_pool(budget.pool, budget.limit)
    }

    fn in_pool(pool: &'static Pool, cap: Option<u64>) -> Self {
        Self {
            pool,
            bytes: 0,
            cap,
        }
    }

    /// Grows this charge to `total` bytes (a smaller total changes nothing), unless the pool
    /// would then hold more than the cap.
    pub(crate) fn grow_to(&mut self, total: u64) -> Result<(), Exhausted> {
        let Some(more) = total.checked_sub(self.bytes).filter(|&n| n > 0) else {
            return Ok(());
        };
        let cap = self.cap.unwrap_or(u64::MAX);
        self.pool
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(more).filter(|&after| after <= cap)
            })
            .map_err(|used| Exhausted {
                others: used.saturating_sub(self.bytes),
                cap,
            })?;
        self.bytes = total;
        Ok(())
    }
}

impl Charge {
    /// Shrinks this charge to `total` bytes (a larger total changes nothing): a buffer that
    /// gave memory back.
    pub(crate) fn shrink_to(&mut self, total: u64) {
        if let Some(less) = self.bytes.checked_sub(total).filter(|&n| n > 0) {
            self.pool.used.fetch_sub(less, Ordering::AcqRel);
            self.bytes = total;
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.pool.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// The most reserved up front from a length the peer announced: a larger body grows as it
/// arrives (a lying header must not make us allocate, or charge, what never comes).
const MAX_PREALLOCATE: u64 = 1 << 20;

/// A body being read whole: at most `max` bytes, its allocation charged as it grows.
pub(crate) struct Buffer {
    bytes: Vec<u8>,
    charge: Charge,
    max: u64,
    /// The length the peer announced (`content-length`), if any.
    announced: Option<u64>,
}

/// Why a body cannot be buffered.
#[derive(Debug)]
pub(crate) enum Refused {
    /// It is (or announced it will be) longer than `max`.
    TooLarge,
    /// It would take the bytes in flight past the memory limit.
    Exhausted(Exhausted),
}

impl From<Exhausted> for Refused {
    fn from(e: Exhausted) -> Self {
        Refused::Exhausted(e)
    }
}

impl Buffer {
    /// An empty buffer for a body of at most `max` bytes, `announced` long by its peer, read
    /// within `budget`.
    pub(crate) fn new(max: u64, announced: Option<u64>, budget: Budget) -> Result<Self, Refused> {
        if announced.is_some_and(|len| len > max) {
            return Err(Refused::TooLarge);
        }
        let mut charge = Charge::new(budget);
        let reserve = announced.unwrap_or(0).min(MAX_PREALLOCATE);
        charge.grow_to(reserve)?;
        Ok(Self {
            bytes: Vec::with_capacity(usize::try_from(reserve).unwrap_or(0)),
            charge,
            max,
            announced,
        })
    }

    /// Appends `chunk`, growing (and charging) the allocation when it is full.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<(), Refused> {
        let needed = self.bytes.len() as u64 + chunk.len() as u64;
        if needed > self.max {
            return Err(Refused::TooLarge);
        }
        let capacity = self.bytes.capacity() as u64;
        if needed > capacity {
            let grown = grown(capacity, needed, self.announced, self.max);
            self.charge.grow_to(grown)?;
            let more = usize::try_from(grown).unwrap_or(usize::MAX) - self.bytes.len();
            self.bytes.reserve_exact(more);
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The body, and the charge that still holds its bytes (drop it once they are handed on).
    pub(crate) fn finish(self) -> (Vec<u8>, Charge) {
        (self.bytes, self.charge)
    }
}

/// The next capacity of a buffer that must hold `needed` bytes: double, as a Vec grows, but
/// never past the announced length while the body keeps to it, nor past `max`.
fn grown(capacity: u64, needed: u64, announced: Option<u64>, max: u64) -> u64 {
    let ceiling = announced.filter(|&len| needed <= len).unwrap_or(max);
    needed.max(capacity.saturating_mul(2)).min(ceiling).min(max)
}

/// A body that would take the bytes in flight past the memory limit.
#[derive(Debug)]
pub(crate) struct Exhausted {
    /// What other bodies held when this one asked.
    others: u64,
    cap: u64,
}

impl fmt::Display for Exhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cap = assay_sdk::files::describe_size(self.cap);
        if self.others == 0 {
            return write!(f, "the body would pass the script's memory limit of {cap}");
        }
        write!(
            f,
            "the bodies in flight would pass the script's memory limit of {cap} ({:.1} MiB \
             held by other requests; make fewer requests at once or raise --memory-limit)",
            self.others as f64 / f64::from(1u32 << 20),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> &'static Pool {
        Box::leak(Box::new(Pool::new()))
    }

    fn used(pool: &Pool) -> u64 {
        pool.used.load(Ordering::Acquire)
    }

    #[test]
    fn charges_add_up_to_the_cap_and_are_released_on_drop() {
        let pool = pool();
        let mut a = Charge::in_pool(pool, Some(100));
        let mut b = Charge::in_pool(pool, Some(100));
        a.grow_to(60).expect("fits");
        a.grow_to(40).expect("a smaller total is a no-op");
        assert_eq!(used(pool), 60);
        b.grow_to(40).expect("exactly the cap");
        let refused = b.grow_to(41).expect_err("past the cap");
        assert_eq!((refused.others, refused.cap), (60, 100));
        assert_eq!(used(pool), 100, "a refused growth holds nothing more");
        drop(a);
        assert_eq!(used(pool), 40);
        b.grow_to(90).expect("room again");
        b.shrink_to(100);
        assert_eq!(used(pool), 90, "a larger total shrinks nothing");
        b.shrink_to(30);
        assert_eq!(used(pool), 30);
        drop(b);
        assert_eq!(used(pool), 0);
    }

    #[test]
    fn uncapped_charges_count_against_capped_ones() {
        let pool = pool();
        let mut free = Charge::in_pool(pool, None);
        free.grow_to(1 << 40).expect("no cap");
        let mut capped = Charge::in_pool(pool, Some(1 << 30));
        assert!(capped.grow_to(1).is_err());
        drop(free);
        capped.grow_to(1).expect("released");
    }

    #[test]
    fn buffers_double_up_to_the_announced_length_and_the_limit() {
        assert_eq!(grown(1 << 20, (1 << 20) + 1, None, 64 << 20), 2 << 20);
        assert_eq!(
            grown(32 << 20, 40 << 20, Some(40 << 20), 64 << 20),
            40 << 20
        );
        assert_eq!(grown(32 << 20, 33 << 20, None, 40 << 20), 40 << 20);
        // A body longer than it announced grows as if nothing was announced.
        assert_eq!(grown(8, 12, Some(10), 100), 16);
        assert_eq!(grown(0, 5, None, 100), 5);
    }

    #[test]
    fn a_buffer_refuses_past_its_max_and_keeps_its_charge() {
        let mut buffer = Buffer::new(10, None, Budget::unlimited()).expect("empty");
        buffer.push(b"12345678").expect("fits");
        assert!(matches!(buffer.push(b"abc"), Err(Refused::TooLarge)));
        buffer.push(b"90").expect("exactly max");
        let (bytes, charge) = buffer.finish();
        assert_eq!(bytes, b"1234567890");
        assert_eq!(charge.bytes, 10);
        assert!(matches!(
            Buffer::new(10, Some(11), Budget::unlimited()),
            Err(Refused::TooLarge)
        ));
    }

    #[test]
    fn the_message_names_the_limit_and_what_others_hold() {
        let e = Exhausted {
            others: 60 << 20,
            cap: 64 << 20,
        };
        let text = e.to_string();
        assert!(text.contains("memory limit of 64 MiB"), "{text}");
        assert!(text.contains("60.0 MiB held by other requests"), "{text}");
        let alone = Exhausted {
            others: 0,
            cap: 1 << 20,
        }
        .to_string();
        assert_eq!(
            alone,
            "the body would pass the script's memory limit of 1 MiB"
        );
    }
}
