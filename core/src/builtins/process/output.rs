//! A child's output and exit as the driver thread records them, and the readers of its pipes.
//!
//! Output is held in memory up to `max_output` bytes per stream. While the script reads as it
//! goes (`spawn`, before `wait`), a full stream stops being read and the child blocks on its
//! pipe, as with any pipe; once the script waits for the end (`run`, `wait`, or the handle is
//! gone), what does not fit is read and dropped and the stream is marked truncated, so a child
//! never blocks for good.
//!
//! All children's held output together is counted too ([`HELD`]): beyond a small share per
//! stream ([`SHARE`]), a stream the script reads as it goes may not take the count past the
//! script's memory limit (it waits for room), so a hundred idle handles cannot hold a hundred
//! times `max_output` outside the limit. A stream being drained is bounded by `max_output`
//! alone: one process's output is never cut because of another's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Notify;

/// Bytes read from a pipe at a time.
const CHUNK: usize = 64 * 1024;

/// What a stream may always hold, whatever the others hold (so a reader always progresses).
const SHARE: usize = 256 * 1024;

/// Output bytes held by every child of the process: read from their pipes, not yet handed to
/// Lua, where the VM's allocator counts them.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// Counts `n` more bytes held; with `limit`, only if the count stays within it.
fn hold(n: usize, limit: Option<usize>) -> bool {
    match limit {
        None => {
            HELD.fetch_add(n, Ordering::AcqRel);
            true
        }
        Some(limit) => HELD
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(n).filter(|after| *after <= limit)
            })
            .is_ok(),
    }
}

fn release(n: usize) {
    HELD.fetch_sub(n, Ordering::AcqRel);
}

/// Which output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// What a stream has delivered and not yet been taken.
#[derive(Debug, Default)]
pub struct Captured {
    data: Vec<u8>,
    /// Where the unread bytes start (lines are taken from the front without moving the rest).
    start: usize,
    pub eof: bool,
    pub truncated: bool,
    pub piped: bool,
    /// `lines` gave the start of a line longer than the bound, and not yet its end.
    pub in_long_line: bool,
}

impl Captured {
    pub fn unread(&self) -> &[u8] {
        &self.data[self.start..]
    }

    pub fn take(&mut self, n: usize) -> Vec<u8> {
        let taken = self.data[self.start..self.start + n].to_vec();
        release(n);
        self.start += n;
        if self.start >= self.data.len() / 2 {
            self.data.drain(..self.start);
            self.start = 0;
        }
        taken
    }

    /// Everything unread.
    pub fn take_all(&mut self) -> Vec<u8> {
        let n = self.unread().len();
        self.take(n)
    }
}

/// What the driver knows of a child.
#[derive(Debug, Default)]
pub struct State {
    pub stdout: Captured,
    pub stderr: Captured,
    pub exit: Option<std::process::ExitStatus>,
    /// Reaping failed (the OS lost the child): the run ends with this message.
    pub lost: Option<String>,
    pub timed_out: bool,
    /// Nobody reads as it goes any more: output beyond the bound is read and dropped.
    pub draining: bool,
}

impl State {
    pub fn stream(&mut self, which: Stream) -> &mut Captured {
        match which {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }

    pub fn exited(&self) -> bool {
        self.exit.is_some() || self.lost.is_some()
    }

    /// Exited (or lost) and every captured stream read to its end.
    pub fn done(&self) -> bool {
        self.exited()
            && (!self.stdout.piped || self.stdout.eof)
            && (!self.stderr.piped || self.stderr.eof)
    }

    /// Gives up on output still to come (a descendant that left the process group holds the
    /// pipes): what was read stays, marked truncated.
    pub fn abandon_output(&mut self) {
        for stream in [&mut self.stdout, &mut self.stderr] {
            if stream.piped && !stream.eof {
                stream.eof = true;
                stream.truncated = true;
            }
        }
    }
}

/// The state both threads share.
#[derive(Debug, Default)]
pub struct Shared {
    state: Mutex<State>,
    /// Signalled at every change of `state`.
    changed: Notify,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let state = self.lock();
        release(state.stdout.unread().len() + state.stderr.unread().len());
    }
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn changed(&self) {
        self.changed.notify_waiters();
    }

    /// Waits until `ready` gives a value, looking at the state after every change.
    pub async fn until<T>(&self, mut ready: impl FnMut(&mut State) -> Option<T>) -> T {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(value) = ready(&mut self.lock()) {
                self.changed();
                return value;
            }
            notified.await;
        }
    }
}

/// Reads one output pipe into the shared state until its end, holding at most `cap` unread
/// bytes (see the module docs for [`HELD`] and `limit`, the script's memory limit).
pub async fn pump(
    mut pipe: impl AsyncRead + Unpin,
    shared: Arc<Shared>,
    which: Stream,
    cap: usize,
    limit: Option<usize>,
) {
    let mut chunk = vec![0u8; CHUNK];
    loop {
        // Room for more, or nobody reads as it goes any more.
        let room = shared
            .until(|s| {
                let draining = s.draining;
                let unread = s.stream(which).unread().len();
                match draining {
                    true => Some(CHUNK),
                    false => (unread < cap).then(|| (cap - unread).min(CHUNK)),
                }
            })
            .await;
        let n = match pipe.read(&mut chunk[..room]).await {
            Ok(0) | Err(_) => {
                shared.lock().stream(which).eof = true;
                shared.changed();
                return;
            }
            Ok(n) => n,
        };
        // Kept, or waiting for the others to make room.
        while !keep(&shared, which, &chunk[..n], cap, limit) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        shared.changed();
    }
}

/// Appends what of `bytes` fits under `cap` (the rest is dropped, marked truncated); false
/// when the script reads as it goes and every child together already holds what `limit`
/// allows (checked again later: room is made by other children too, which this one is not
/// told of).
fn keep(shared: &Shared, which: Stream, bytes: &[u8], cap: usize, limit: Option<usize>) -> bool {
    let mut state = shared.lock();
    let draining = state.draining;
    let stream = state.stream(which);
    let unread = stream.unread().len();
    let fits = cap.saturating_sub(unread).min(bytes.len());
    let counted = if draining || unread + fits <= SHARE {
        hold(fits, None)
    } else {
        hold(fits, limit)
    };
    if !counted {
        return false;
    }
    stream.data.extend_from_slice(&bytes[..fits]);
    stream.truncated |= fits < bytes.len();
    true
}
