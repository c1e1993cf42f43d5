//! What `assay check` and `assay test` do with the output of what they run. While checks or
//! tests run, everything written to standard output or error (`print`, `io.write`, log lines,
//! the processes they start, our own progress lines) goes to standard error through a
//! forwarder that masks secrets line by line. Standard output is left to the report alone,
//! so a JSON, JUnit or TAP report stays parseable whatever a test prints, and a secret
//! printed by a script check is `***` in the log as in the report.
//!
//! A line is forwarded when it ends, or at 64 KiB without a newline (so a secret is masked
//! unless a single line longer than that splits it), and whatever is left when the run ends.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::report::Mask;

/// The longest piece held back waiting for its line's end.
const MAX_LINE: usize = 64 << 10;

/// How long [`Console::restore`] waits for the forwarder to pass on what is still in the
/// pipe. A process a test started and left running keeps the pipe open; the forwarder then
/// goes on in the background until it exits.
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Standard output and error diverted through the masking forwarder until dropped or
/// [`Console::restore`]d.
pub struct Console {
    saved: Option<(OwnedFd, OwnedFd)>,
    forwarder: Option<JoinHandle<()>>,
}

impl Console {
    /// Diverts standard output and error to the forwarder, which masks what `mask` holds at
    /// the time each line passes (secrets learned during the run are masked from then on).
    pub fn divert(mask: Arc<Mutex<Mask>>) -> io::Result<Console> {
        flush_buffers();
        let (read, write) = pipe()?;
        let saved_out = dup_or_null(libc::STDOUT_FILENO)?;
        let saved_err = dup_or_null(libc::STDERR_FILENO)?;
        let err_copy = File::from(saved_err.try_clone()?);
        let forwarder = std::thread::Builder::new()
            .name("assay-console".into())
            .spawn(move || forward(File::from(read), err_copy, &mask))?;
        let console = Console {
            saved: Some((saved_out, saved_err)),
            forwarder: Some(forwarder),
        };
        let diverted = redirect(write.as_raw_fd(), libc::STDOUT_FILENO)
            .and_then(|()| redirect(write.as_raw_fd(), libc::STDERR_FILENO));
        // Standard output and error are the pipe's writers now; on failure, dropping the
        // console puts back what was switched.
        drop(write);
        diverted.map(|()| console)
    }

    /// Ends the diversion once what was written meanwhile has been passed on (for up to
    /// [`DRAIN_WAIT`]), and returns the real standard output for the report. Standard output
    /// itself now goes to standard error: a thread left running (a check given up on as
    /// stuck) that prints later cannot mix text into the report. (`None` only for a console
    /// already put back.)
    pub fn restore(mut self) -> Option<File> {
        self.put_back(true)
    }

    /// Puts standard error back; standard output too, unless `keep_out` (then the saved
    /// standard output is returned and descriptor 1 goes to standard error).
    fn put_back(&mut self, keep_out: bool) -> Option<File> {
        let (out, err) = self.saved.take()?;
        flush_buffers();
        // Best effort: if this fails the descriptors stay diverted, which loses nothing.
        let _ = redirect(err.as_raw_fd(), libc::STDERR_FILENO);
        let out = if keep_out {
            let _ = redirect(err.as_raw_fd(), libc::STDOUT_FILENO);
            Some(File::from(out))
        } else {
            let _ = redirect(out.as_raw_fd(), libc::STDOUT_FILENO);
            None
        };
        if let Some(forwarder) = self.forwarder.take() {
            let started = Instant::now();
            while !forwarder.is_finished() && started.elapsed() < DRAIN_WAIT {
                std::thread::sleep(Duration::from_millis(2));
            }
            if forwarder.is_finished() {
                let _ = forwarder.join();
            }
        }
        out
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.put_back(false);
    }
}

/// Passes what comes through the pipe to standard error, masked, until every writer is gone.
fn forward(mut from: File, mut to: File, mask: &Mutex<Mask>) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buffer = vec![0u8; 16 << 10];
    let mut pass_on = |bytes: &[u8]| {
        let masked = mask
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .apply_bytes(bytes);
        // Standard error may be gone (a closed pipe): keep draining so writers never block.
        let _ = to.write_all(&masked);
    };
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        pending.extend_from_slice(&buffer[..n]);
        let cut = match pending.iter().rposition(|&b| b == b'\n') {
            Some(newline) => newline + 1,
            None if pending.len() >= MAX_LINE => pending.len(),
            None => continue,
        };
        pass_on(&pending[..cut]);
        pending.drain(..cut);
    }
    if !pending.is_empty() {
        pass_on(&pending);
    }
}

/// Flushes Rust's and C's standard output buffers (Lua's `print` writes through C's), so
/// nothing written before a switch comes out after it.
fn flush_buffers() {
    let _ = io::stdout().flush();
    // SAFETY: fflush(NULL) flushes every C stream; it takes no pointer from us.
    unsafe {
        libc::fflush(std::ptr::null_mut());
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are open descriptors that only we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A close-on-exec copy of `fd` (children get standard output and error, not our copies).
fn dup(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a descriptor number; the result is checked.
    let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if copy < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor that only we own.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

/// [`dup`], or `/dev/null` when `fd` is closed (`assay check 2>&-`): what would have gone
/// there is dropped, as it would have been.
fn dup_or_null(fd: RawFd) -> io::Result<OwnedFd> {
    match dup(fd) {
        Err(e) if e.raw_os_error() == Some(libc::EBADF) => Ok(OwnedFd::from(
            File::options().write(true).open("/dev/null")?,
        )),
        other => other,
    }
}

/// Makes `target` (1 or 2) refer to what `source` refers to.
fn redirect(source: RawFd, target: RawFd) -> io::Result<()> {
    loop {
        // SAFETY: dup2 on descriptor numbers; `target` is a standard stream we own the use of.
        if unsafe { libc::dup2(source, target) } >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
