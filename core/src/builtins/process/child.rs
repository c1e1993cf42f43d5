//! A running child and its pipes, served by a thread of their own.
//!
//! The VM's thread may be waiting in a plugin's reactor (a running `http.server`), where the
//! host's own I/O driver is never polled; so children are spawned, read, written, timed out and
//! reaped on one process-wide driver thread with its own tokio runtime. The VM's side waits on
//! [`Shared`]'s `Notify`, whose wake-ups reach it from that thread like any cross-thread wake-up
//! (they end a reactor's wait). A child is terminated when its [`Child`] is dropped before its
//! output has ended (a script's `run` abandoned, a handle closed or collected), and the
//! children still running when the process exits get SIGTERM (`os.exit` included).
use std::cell::RefCell;
use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::{ChildStdin, Command};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::options::{Input, Output, Spec};
use super::output::{Shared, Stream, pump};

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

/// Asks of the driver about one child.
enum Control {
    /// SIGTERM now, SIGKILL after the grace period unless its output has ended.
    Terminate,
}

/// Bytes for a child's stdin, and where to say whether they were written.
type Write = (Vec<u8>, oneshot::Sender<io::Result<()>>);

/// A started child, as the VM's side holds it.
pub struct Child {
    pub pid: u32,
    /// The program as the user named it, for messages.
    pub program: String,
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
    stdin: RefCell<Option<mpsc::Sender<Write>>>,
    target: Target,
}

impl Child {
    /// Spawns `spec` (from this thread, in the driver's context: errors such as a missing
    /// program come back at once). Stdin bytes are taken from `spec`.
    pub fn start(spec: &mut Spec) -> Result<Child, String> {
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
        let mut child = spawned.map_err(|e| spawn_error(spec, &e))?;
        let pid = child.id().unwrap_or_default();
        let target = Target {
            pid: i32::try_from(pid).unwrap_or(0),
            group,
        };
        live::add(target);
        let shared = Arc::new(Shared::default());
        {
            let mut state = shared.lock();
            state.stdout.piped = spec.stdout == Output::Pipe;
            state.stderr.piped = spec.stderr == Output::Pipe;
        }
        let (cap, limit) = (spec.max_output, spec.memory_limit);
        let mut pumps = Vec::new();
        if let Some(out) = child.stdout.take() {
            let task = driver.spawn(pump(out, shared.clone(), Stream::Stdout, cap, limit));
            pumps.push(task.abort_handle());
        }
        if let Some(err) = child.stderr.take() {
            let task = driver.spawn(pump(err, shared.clone(), Stream::Stderr, cap, limit));
            pumps.push(task.abort_handle());
        }
        let mut stdin = None;
        if let Some(pipe) = child.stdin.take() {
            let (tx, rx) = mpsc::channel::<Write>(1);
            driver.spawn(feed(pipe, rx));
            if let Input::Bytes(bytes) = &mut spec.stdin {
                // Written while the output is read; the pipe closes when all is written.
                let (done, _) = oneshot::channel();
                let _ = tx.try_send((std::mem::take(bytes), done));
            } else {
                stdin = Some(tx);
            }
        }
        let (control, orders) = mpsc::unbounded_channel();
        let limits = Limits {
            timeout: spec.timeout,
            grace: spec.kill_grace,
        };
        driver.spawn(supervise(
            child,
            target,
            limits,
            shared.clone(),
            orders,
            pumps,
        ));
        Ok(Child {
            pid,
            program: spec.program.clone(),
            shared,
            control,
            stdin: RefCell::new(stdin),
            target,
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

    /// Waits until it has exited and its output has ended.
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

    /// Whether it has exited (or been lost); its group may live on.
    pub fn exited(&self) -> bool {
        self.shared.lock().exited()
    }

    /// Sends `signal` to the child's group (or to the child, when it shares assay's group),
    /// until its output has ended: an exited child's group may still hold its pipes. False
    /// when nothing was left to signal.
    pub fn signal(&self, signal: i32) -> bool {
        let state = self.shared.lock();
        let reachable = if self.target.group {
            !state.done()
        } else {
            !state.exited()
        };
        drop(state);
        reachable && self.target.signal(signal)
    }

    /// SIGTERM now (from this thread: the process may be exiting, and the driver with it),
    /// SIGKILL after the grace period unless its output has ended; and from now on its output
    /// is drained, so the child cannot block on a full pipe nobody reads.
    pub fn terminate(&self) {
        self.drain();
        if self.signal(libc::SIGTERM) {
            let _ = self.control.send(Control::Terminate);
        }
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
                // The newline that ends a line already given in pieces is not a line itself.
                if stream.in_long_line && stream.unread().first() == Some(&b'\n') {
                    stream.take(1);
                    stream.in_long_line = false;
                }
                let unread = stream.unread();
                if let Some(at) = unread.iter().position(|b| *b == b'\n') {
                    let mut line = stream.take(at + 1);
                    line.pop();
                    stream.in_long_line = false;
                    return Some(Some(line));
                }
                if unread.is_empty() && stream.eof {
                    return Some(None);
                }
                if stream.eof || unread.len() >= cap.max(1) {
                    // A line longer than the bound comes in pieces of `cap` bytes.
                    stream.in_long_line = !stream.eof;
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

/// Why the program did not start, in words that name it. The OS says only "not found"
/// (ENOENT) for a missing program, a missing `#!` interpreter or ELF loader, and a missing
/// `/dev/null`: each is told apart by looking, so the message names what is really missing.
fn spawn_error(spec: &Spec, e: &io::Error) -> String {
    let path = &spec.argv[0];
    let shown = path.to_string_lossy();
    let program = &spec.program;
    let is_file = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file());
    let uses_null = matches!(spec.stdin, Input::Null)
        || matches!(spec.stdout, Output::Null)
        || matches!(spec.stderr, Output::Null);
    match e.kind() {
        io::ErrorKind::NotFound if uses_null && !Path::new("/dev/null").exists() => format!(
            "program '{shown}' cannot be run: /dev/null is missing (a child's unused streams are \
             connected to it)"
        ),
        // The file is there: what is missing is the interpreter its `#!` line names.
        io::ErrorKind::NotFound if shown.contains('/') && is_file(Path::new(path)) => {
            format!(
                "program '{shown}' cannot be run: {}",
                missing_interpreter(Path::new(path))
            )
        }
        io::ErrorKind::NotFound if shown.contains('/') => format!("program '{shown}' not found"),
        io::ErrorKind::NotFound => match find_in_path(spec, path).filter(|p| is_file(p)) {
            Some(found) => format!(
                "program '{program}' ({}) cannot be run: {}",
                found.display(),
                missing_interpreter(&found)
            ),
            None => format!("program '{program}' not found in PATH"),
        },
        io::ErrorKind::PermissionDenied => {
            format!("program '{shown}' cannot be run: permission denied")
        }
        _ => format!("program '{shown}' cannot be run: {}", describe(e)),
    }
}

/// What a program file that exists but cannot be started lacks, from its first bytes.
fn missing_interpreter(path: &Path) -> &'static str {
    let mut head = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head));
    match read {
        Ok(n) if head[..n].starts_with(b"\x7fELF") => {
            "its dynamic loader (ELF interpreter) was not found: it was built for another system"
        }
        _ => "the interpreter on its #! line was not found",
    }
}

/// Where `PATH` lookup finds `name`: in the child's `PATH` (its `env`, else the script's,
/// unless `clear_env`), the first folder holding a file of that name.
fn find_in_path(spec: &Spec, name: &OsStr) -> Option<PathBuf> {
    let from_env = spec
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone());
    let search = match from_env {
        Some(path) => path,
        None if spec.clear_env => return None,
        None => std::env::var_os("PATH")?,
    };
    std::env::split_paths(&search)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The OS message without Rust's " (os error N)".
fn describe(e: &io::Error) -> String {
    crate::builtins::fs::describe(e)
}

/// Whom a signal goes to: the child's process group, or the child alone.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Target {
    pid: i32,
    group: bool,
}

impl Target {
    /// Whether the signal was delivered to someone.
    fn signal(self, signal: i32) -> bool {
        if self.pid <= 0 {
            return false;
        }
        // SAFETY: plain system calls on a pid we started; a group or process already gone
        // gives ESRCH.
        let sent = unsafe {
            if self.group {
                libc::killpg(self.pid, signal)
            } else {
                libc::kill(self.pid, signal)
            }
        };
        sent == 0
    }
}

/// Children whose output has not ended, for the exit of the process.
mod live {
    use std::sync::{Mutex, Once};

    use super::Target;

    static LIVE: Mutex<Vec<Target>> = Mutex::new(Vec::new());

    pub(super) fn add(target: Target) {
        static AT_EXIT: Once = Once::new();
        AT_EXIT.call_once(|| {
            // SAFETY: registers a plain `extern "C"` function.
            unsafe { libc::atexit(at_exit) };
        });
        if let Ok(mut live) = LIVE.lock() {
            live.push(target);
        }
    }

    pub(super) fn remove(target: Target) {
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|t| *t != target);
        }
    }

    /// SIGTERM to every child still running (`os.exit`, an error that ends the script): there
    /// is no time left for a grace period.
    extern "C" fn at_exit() {
        if let Ok(live) = LIVE.try_lock() {
            for target in live.iter() {
                target.signal(libc::SIGTERM);
            }
        }
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

/// A child's time limits.
struct Limits {
    timeout: Option<Duration>,
    grace: Duration,
}

/// `now + d`, or far in the future when that does not fit (a timeout of 1e19 seconds).
fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d).unwrap_or_else(|| far(now))
}

fn far(now: Instant) -> Instant {
    now.checked_add(Duration::from_secs(86_400 * 365 * 30))
        .unwrap_or(now)
}

/// Waits for the child, enforces its timeout and the script's termination, and records how it
/// ended. It stays until the child's output has ended too, so a timeout also covers a
/// grandchild that holds the pipes open; one that left the group (`setsid`) and outlives
/// SIGKILL is given up on a grace period later: its output is cut there.
async fn supervise(
    mut child: tokio::process::Child,
    target: Target,
    limits: Limits,
    shared: Arc<Shared>,
    mut orders: mpsc::UnboundedReceiver<Control>,
    pumps: Vec<AbortHandle>,
) {
    let never = far(Instant::now());
    let mut deadline = limits.timeout.map_or(never, after);
    let (mut kill_at, mut give_up_at) = (never, never);
    let mut orders_open = true;
    let grace = limits.grace;
    let terminate = |kill_at: &mut Instant| {
        target.signal(libc::SIGTERM);
        *kill_at = (*kill_at).min(after(grace));
    };
    loop {
        let exited = shared.lock().exited();
        if exited && shared.lock().done() {
            break;
        }
        let output_ended = shared.until(|s| s.done().then_some(()));
        tokio::select! {
            status = child.wait(), if !exited => {
                let mut state = shared.lock();
                match status {
                    Ok(status) => state.exit = Some(status),
                    Err(e) => state.lost = Some(describe(&e)),
                }
                drop(state);
                shared.changed();
            }
            () = output_ended, if exited => break,
            () = tokio::time::sleep_until(deadline), if deadline < never => {
                deadline = never;
                shared.lock().timed_out = true;
                shared.changed();
                terminate(&mut kill_at);
            }
            () = tokio::time::sleep_until(kill_at), if kill_at < never => {
                kill_at = never;
                target.signal(libc::SIGKILL);
                give_up_at = after(grace.max(Duration::from_millis(200)));
            }
            () = tokio::time::sleep_until(give_up_at), if give_up_at < never && exited => {
                give_up_at = never;
                for pump in &pumps {
                    pump.abort();
                }
                shared.lock().abandon_output();
                shared.changed();
            }
            order = orders.recv(), if orders_open => match order {
                Some(Control::Terminate) => terminate(&mut kill_at),
                None => orders_open = false,
            },
        }
    }
    live::remove(target);
}
