//! A running child and its pipes, served by a thread of their own.
//!
//! The VM's thread may be waiting in a plugin's reactor (a running `http.server`), where the
//! host's own I/O driver is never polled; so children are spawned, read, written, timed out and
//! reaped on one process-wide driver thread with its own tokio runtime. The VM's side waits on
//! [`Shared`]'s `Notify`, whose wake-ups reach it from that thread like any cross-thread wake-up
//! (they end a reactor's wait). A child is killed when its [`Child`] is dropped before it has
//! finished (a script's `run` abandoned, a handle closed or collected).
//!
//! Output is held in memory up to `max_output` bytes per stream: while nobody asks for the
//! rest (`spawn` before `wait`), the reader stops and the child blocks on its full pipe, as
//! with any pipe; once the script waits for the end (`run`, `wait`), what does not fit is
//! read and dropped, and the stream is marked truncated, so a child never blocks for good.
//! All children's held output together is bounded too ([`HELD`]): fifty runs at once may not
//! hold fifty times a quarter of the memory limit outside it.

use std::ffi::OsString;
use std::io;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStdin, Command};
use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use super::options::{Input, Output, Spec};

/// Bytes read from a pipe at a time.
const CHUNK: usize = 64 * 1024;

/// Output bytes held by every child of the process (read from their pipes, not yet handed to
/// Lua, where the VM's allocator counts them). A stream may not take it past the memory limit
/// of the script that started it: beyond, a drained stream drops what it reads (truncated) and
/// one the script reads as it goes waits for room.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// Takes `n` bytes of [`HELD`] unless that passes `limit`.
fn hold(n: usize, limit: Option<usize>) -> bool {
    let limit = limit.unwrap_or(usize::MAX);
    HELD.fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
        held.checked_add(n).filter(|after| *after <= limit)
    })
    .is_ok()
}

fn release(n: usize) {
    HELD.fetch_sub(n, Ordering::AcqRel);
}

/// The driver thread's runtime, started by the first child of the process.
fn driver() -> io::Result<Handle> {
    static DRIVER: Mutex<Option<Handle>> = Mutex::new(None);
    let mut driver = DRIVER.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(handle) = &*driver {
        return Ok(handle.clone());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name("assay-process".into())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
    *driver = Some(handle.clone());
    Ok(handle)
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
}

impl Captured {
    fn unread(&self) -> &[u8] {
        &self.data[self.start..]
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
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
    pub exit: Option<ExitStatus>,
    /// Reaping failed (the OS lost the child): the run's end with this message.
    pub lost: Option<String>,
    pub timed_out: bool,
    /// The script waits for the end: output beyond the bound is read and dropped.
    draining: bool,
}

impl State {
    pub fn stream(&mut self, which: Stream) -> &mut Captured {
        match which {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }

    /// Exited (or lost) and every captured stream read to its end.
    pub fn done(&self) -> bool {
        (self.exit.is_some() || self.lost.is_some())
            && (!self.stdout.piped || self.stdout.eof)
            && (!self.stderr.piped || self.stderr.eof)
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

    fn changed(&self) {
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

/// Asks of the driver about one child.
enum Control {
    /// Send this signal now.
    Signal(i32),
    /// SIGTERM now, SIGKILL after the grace period unless it has finished.
    Terminate,
}

/// Bytes for a child's stdin, and where to say whether they were written.
type Write = (Vec<u8>, oneshot::Sender<io::Result<()>>);

/// A started child, as the VM's side holds it.
pub struct Child {
    pub pid: u32,
    pub program: String,
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
    stdin: std::cell::RefCell<Option<mpsc::Sender<Write>>>,
    /// The child leads its own process group (signals reach its whole tree).
    group: bool,
}

impl Child {
    /// Spawns `spec` (on the driver: errors such as a missing program come back at once).
    pub fn start(spec: &Spec) -> Result<Child, String> {
        let driver = driver().map_err(|e| format!("cannot start the process driver: {e}"))?;
        let mut command = Command::new(&spec.argv[0]);
        command.args(&spec.argv[1..]);
        if spec.clear_env {
            command.env_clear();
        }
        command.envs(spec.env.iter().map(|(k, v)| (k, v)));
        if let Some(cwd) = &spec.cwd {
            command.current_dir(cwd);
        }
        // Its own process group, so a timeout ends the whole tree (`sh -c 'a & b'`) — except
        // for a child reading the terminal, which must stay in the foreground group to read it.
        let group = !matches!(spec.stdin, Input::Inherit);
        if group {
            command.process_group(0);
        }
        command.stdin(match spec.stdin {
            Input::Null => Stdio::null(),
            Input::Inherit => Stdio::inherit(),
            Input::Bytes(_) | Input::Pipe => Stdio::piped(),
        });
        command.stdout(stdio(spec.stdout));
        command.stderr(stdio(spec.stderr));
        let spawned = {
            let _context = driver.enter();
            command.spawn()
        };
        let mut child = spawned.map_err(|e| spawn_error(&spec.program, &spec.argv[0], &e))?;
        let pid = child.id().unwrap_or_default();
        let shared = Arc::new(Shared::default());
        {
            let mut state = shared.lock();
            state.stdout.piped = spec.stdout == Output::Pipe;
            state.stderr.piped = spec.stderr == Output::Pipe;
        }
        let (cap, limit) = (spec.max_output, spec.memory_limit);
        if let Some(out) = child.stdout.take() {
            driver.spawn(pump(out, shared.clone(), Stream::Stdout, cap, limit));
        }
        if let Some(err) = child.stderr.take() {
            driver.spawn(pump(err, shared.clone(), Stream::Stderr, cap, limit));
        }
        let mut stdin = None;
        if let Some(pipe) = child.stdin.take() {
            let (tx, rx) = mpsc::channel::<Write>(1);
            driver.spawn(feed(pipe, rx));
            if let Input::Bytes(bytes) = &spec.stdin {
                // Written while the output is read; the pipe closes when all is written.
                let (done, _) = oneshot::channel();
                let _ = tx.try_send((bytes.clone(), done));
            } else {
                stdin = Some(tx);
            }
        }
        let (control, orders) = mpsc::unbounded_channel();
        let target = Target {
            pid: i32::try_from(pid).unwrap_or(0),
            group,
        };
        driver.spawn(supervise(
            child,
            target,
            spec.timeout,
            spec.kill_grace,
            shared.clone(),
            orders,
        ));
        Ok(Child {
            pid,
            program: spec.program.clone(),
            shared,
            control,
            stdin: std::cell::RefCell::new(stdin),
            group,
        })
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// From now on output beyond the bound is dropped rather than held back.
    pub fn drain(&self) {
        self.shared.lock().draining = true;
        self.shared.changed();
    }

    pub async fn finished(&self) {
        self.shared.until(|s| s.done().then_some(())).await;
    }

    /// Writes `bytes` to the child's stdin; an error when it is not a pipe, was closed, or the
    /// child stopped reading (it exited).
    pub async fn write(&self, bytes: Vec<u8>) -> Result<(), String> {
        let Some(stdin) = self.stdin.borrow().clone() else {
            return Err("stdin is closed or not a pipe".into());
        };
        let (done, result) = oneshot::channel();
        stdin
            .send((bytes, done))
            .await
            .map_err(|_| "stdin is closed (the process stopped reading)".to_owned())?;
        match result.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("cannot write to stdin: {}", describe(&e))),
            Err(_) => Err("stdin is closed (the process stopped reading)".into()),
        }
    }

    /// Closes stdin (the child reads end of file); false when it was not open.
    pub fn close_stdin(&self) -> bool {
        self.stdin.borrow_mut().take().is_some()
    }

    /// Whether it has neither exited nor been lost.
    pub fn running(&self) -> bool {
        let state = self.shared.lock();
        state.exit.is_none() && state.lost.is_none()
    }

    /// SIGTERM now, SIGKILL after the grace period unless it has exited.
    pub fn terminate(&self) {
        if self.running() {
            // At once, from this thread: the process may be exiting, and with it the driver.
            self.target().signal(libc::SIGTERM);
            let _ = self.control.send(Control::Terminate);
        }
    }

    fn target(&self) -> Target {
        Target {
            pid: i32::try_from(self.pid).unwrap_or(0),
            group: self.group,
        }
    }

    pub fn signal(&self, signal: i32) {
        let _ = self.control.send(Control::Signal(signal));
    }

    /// The next line of `which` (without its `\n`), or `None` at the end. A line longer than
    /// the output bound comes in pieces of that size.
    pub async fn line(&self, which: Stream, cap: usize) -> Result<Option<Vec<u8>>, String> {
        if !self.shared.lock().stream(which).piped {
            return Err(format!("{} is not a pipe", which.name()));
        }
        let line = self
            .shared
            .until(|s| {
                let stream = s.stream(which);
                let unread = stream.unread();
                if let Some(at) = unread.iter().position(|b| *b == b'\n') {
                    let mut line = stream.take(at + 1);
                    line.pop();
                    return Some(Some(line));
                }
                if unread.is_empty() && stream.eof {
                    return Some(None);
                }
                if stream.eof || unread.len() >= cap.max(1) {
                    return Some(Some(stream.take_all()));
                }
                None
            })
            .await;
        Ok(line)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.terminate();
    }
}

fn stdio(output: Output) -> Stdio {
    match output {
        Output::Pipe => Stdio::piped(),
        Output::Inherit => Stdio::inherit(),
        Output::Null => Stdio::null(),
    }
}

/// Why `program` did not start, in words that name it.
fn spawn_error(program: &str, path: &OsString, e: &io::Error) -> String {
    let shown = path.to_string_lossy();
    match e.kind() {
        io::ErrorKind::NotFound if shown.contains('/') => {
            format!("program '{shown}' not found")
        }
        io::ErrorKind::NotFound => format!("program '{program}' not found in PATH"),
        io::ErrorKind::PermissionDenied => {
            format!("program '{shown}' cannot be run: permission denied")
        }
        _ => format!("program '{shown}' cannot be run: {}", describe(e)),
    }
}

/// The OS message without Rust's " (os error N)".
fn describe(e: &io::Error) -> String {
    crate::builtins::fs::describe(e)
}

/// Whom a signal goes to: the child's process group, or the child alone.
#[derive(Clone, Copy)]
struct Target {
    pid: i32,
    group: bool,
}

impl Target {
    fn signal(self, signal: i32) {
        if self.pid <= 0 {
            return;
        }
        // SAFETY: plain system calls on a pid we started; a group or process already gone
        // gives ESRCH, which is fine.
        unsafe {
            if self.group {
                libc::killpg(self.pid, signal);
            } else {
                libc::kill(self.pid, signal);
            }
        }
    }
}

/// Reads one output pipe into the shared state until its end, holding at most `cap` unread
/// bytes, and no more of [`HELD`] than `limit` allows.
async fn pump(
    mut pipe: impl AsyncRead + Unpin,
    shared: Arc<Shared>,
    which: Stream,
    cap: usize,
    limit: Option<usize>,
) {
    let mut chunk = vec![0u8; CHUNK];
    loop {
        // Room for more, or the script no longer reads as it goes.
        let room = shared
            .until(|s| {
                let draining = s.draining;
                let unread = s.stream(which).unread().len();
                (draining || unread < cap).then(|| {
                    if draining {
                        CHUNK
                    } else {
                        (cap - unread).min(CHUNK)
                    }
                })
            })
            .await;
        let read = pipe.read(&mut chunk[..room.max(1)]).await;
        let n = match read {
            Ok(0) | Err(_) => {
                shared.lock().stream(which).eof = true;
                shared.changed();
                return;
            }
            Ok(n) => n,
        };
        let held_back = {
            let mut state = shared.lock();
            let draining = state.draining;
            let stream = state.stream(which);
            let fits = cap.saturating_sub(stream.unread().len()).min(n);
            if fits > 0 && hold(fits, limit) {
                stream.data.extend_from_slice(&chunk[..fits]);
                stream.truncated |= fits < n;
                false
            } else {
                stream.truncated |= draining || fits == 0;
                // Every child together holds all the script may: wait for room (the script
                // reading, or another child ending), keeping what was read.
                !draining && fits > 0
            }
        };
        if held_back {
            wait_for_room(&shared, which, &chunk[..n], limit).await;
        }
        shared.changed();
    }
}

/// Appends `bytes` to `which` once [`HELD`] has room for them, looking again every 10 ms (room
/// is made by other children too, whose changes this child is not told of); dropped, marked
/// truncated, if the script starts waiting for the end meanwhile.
async fn wait_for_room(shared: &Shared, which: Stream, bytes: &[u8], limit: Option<usize>) {
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let mut state = shared.lock();
        let draining = state.draining;
        let stream = state.stream(which);
        if hold(bytes.len(), limit) {
            stream.data.extend_from_slice(bytes);
            return;
        }
        if draining {
            stream.truncated = true;
            return;
        }
        drop(state);
    }
}

/// Writes what the script sends to the child's stdin; the pipe closes when the sender goes.
async fn feed(mut pipe: ChildStdin, mut writes: mpsc::Receiver<Write>) {
    while let Some((bytes, done)) = writes.recv().await {
        let written = async {
            pipe.write_all(&bytes).await?;
            pipe.flush().await
        }
        .await;
        let failed = written.is_err();
        let _ = done.send(written);
        if failed {
            return;
        }
    }
}

/// Waits for the child, enforces its timeout and the script's kill orders, and records how it
/// ended. It stays until the child's output has ended too, so a timeout also covers a
/// grandchild that holds the pipes open.
async fn supervise(
    mut child: tokio::process::Child,
    target: Target,
    timeout: Option<Duration>,
    grace: Duration,
    shared: Arc<Shared>,
    mut orders: mpsc::UnboundedReceiver<Control>,
) {
    let far = || Instant::now() + Duration::from_secs(86_400 * 365);
    let mut deadline = timeout.map_or_else(far, |t| Instant::now() + t);
    let mut kill_at = far();
    let mut exited = false;
    let mut orders_open = true;
    let terminate = |kill_at: &mut Instant| {
        target.signal(libc::SIGTERM);
        *kill_at = (*kill_at).min(Instant::now() + grace);
    };
    loop {
        if exited && shared.lock().done() {
            return;
        }
        let output_ended = shared.until(|s| s.done().then_some(()));
        tokio::select! {
            status = child.wait(), if !exited => {
                exited = true;
                let mut state = shared.lock();
                match status {
                    Ok(status) => state.exit = Some(status),
                    Err(e) => state.lost = Some(describe(&e)),
                }
                drop(state);
                shared.changed();
            }
            () = output_ended, if exited => return,
            () = tokio::time::sleep_until(deadline) => {
                deadline = far();
                shared.lock().timed_out = true;
                shared.changed();
                terminate(&mut kill_at);
            }
            () = tokio::time::sleep_until(kill_at) => {
                kill_at = far();
                target.signal(libc::SIGKILL);
            }
            order = orders.recv(), if orders_open => match order {
                Some(Control::Signal(signal)) => target.signal(signal),
                Some(Control::Terminate) => terminate(&mut kill_at),
                None => orders_open = false,
            },
        }
    }
}
