//! Support for the cross-crate tests: finding the built binary and running it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod lines;
pub mod pki;
pub mod sockets;

/// The `assay` binary under test: `$ASSAY_BIN`, else the one built beside this test binary.
pub fn assay_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("ASSAY_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> -> target/<profile>/assay
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    profile_dir.join("assay")
}

/// The lib-path root that plugin builds assemble in cargo's output folder (see
/// `assay_sdk::build`): every plugin of the workspace, the test plugins included.
pub fn built_plugins() -> PathBuf {
    assay_bin()
        .parent()
        .map(|dir| dir.join("assay-lib"))
        .unwrap_or_else(|| PathBuf::from("assay-lib"))
}

/// The repository's `tests/` folder.
///
/// Read at run time (cargo and nextest set it for every test process): a test binary reused
/// from a shared target directory may have been compiled in another checkout of the repository.
pub fn tests_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The Python of the conformance peers (aiohttp, requests, websockets, PyJWT, ...), from
/// `tests/conformance/ensure-python`, which makes its venv on first use; run once per test
/// binary. A Python that cannot be had fails the test with the script's reason: nothing is
/// skipped.
pub fn conformance_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/ensure-python");
        let mut cmd = Command::new("bash");
        cmd.arg(&script);
        let out = run(cmd, None, Duration::from_secs(600))
            .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
        assert_eq!(
            out.code,
            Some(0),
            "ensure-python could not provide the conformance peers' Python:\n{}",
            out.describe()
        );
        PathBuf::from(out.stdout.trim())
    })
}

/// A finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Everything about the run, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "exit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// That the run exited with `code` and printed `stdout` and `stderr` somewhere in each
    /// (empty: anything); else everything about it.
    pub fn expect(&self, code: i32, stdout: &str, stderr: &str) -> Result<(), String> {
        if self.code == Some(code) && self.stdout.contains(stdout) && self.stderr.contains(stderr) {
            Ok(())
        } else {
            Err(format!(
                "expected exit {code}, stdout containing {stdout:?}, stderr containing {stderr:?}\n{}",
                self.describe()
            ))
        }
    }
}

/// Runs `cmd` to completion with `stdin` (closed when `None`), killing it after `timeout`.
pub fn run(mut cmd: Command, stdin: Option<&str>, timeout: Duration) -> Result<Run, String> {
    use std::io::Write;
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    }
    // Reading happens on threads so a chatty child cannot fill a pipe and stall.
    let mut out_pipe = child.stdout.take().ok_or("no stdout pipe")?;
    let mut err_pipe = child.stderr.take().ok_or("no stderr pipe")?;
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out_pipe, &mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err_pipe, &mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Ok(Run {
        code: status.code(),
        stdout,
        stderr,
        elapsed,
    })
}

/// A command for the binary with a clean logging environment.
pub fn assay() -> Command {
    let mut cmd = Command::new(assay_bin());
    cmd.env_remove("ASSAY_LOG")
        .env_remove("ASSAY_LOG_FORMAT")
        .env_remove("ASSAY_LIB_PATH");
    cmd
}

/// `assay` with `ASSAY_LIB_PATH` set to the plugins cargo built, once it is checked that
/// `plugin` is among them (a plugin's own tests say how to build it, instead of failing later
/// with "attempt to index a nil value"). No proxy variables: test servers are on 127.0.0.1.
pub fn assay_with_plugin(plugin: &str) -> Command {
    let plugins = built_plugins();
    assert!(
        plugins
            .join("plugins")
            .join(plugin)
            .join("manifest.yaml")
            .is_file(),
        "the {plugin} plugin is not built in {} (cargo build --release -p assay -p \
         assay-plugin-{plugin})",
        plugins.display()
    );
    let mut cmd = assay();
    cmd.env("ASSAY_LIB_PATH", plugins);
    for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        cmd.env_remove(proxy).env_remove(proxy.to_ascii_lowercase());
    }
    cmd
}
