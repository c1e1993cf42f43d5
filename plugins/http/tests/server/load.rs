//! `wrk` on loopback: no socket errors and no failures under load, and a route that raises on
//! exactly every 100th request answers exactly that many 500s.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use crate::{Server, fixtures, require_tool, run_tool};

/// What one wrk run printed.
#[derive(Debug, Default)]
pub struct Wrk {
    pub output: String,
    /// "N requests in ..."
    pub requests: u64,
    /// "Non-2xx or 3xx responses: N" (absent means 0).
    pub non_2xx: u64,
    /// "Socket errors: connect a, read b, write c, timeout d" (absent means all 0).
    pub socket_errors: BTreeMap<String, u64>,
    /// From the statuses script: STATUS lines.
    pub statuses: BTreeMap<u16, u64>,
}

impl Wrk {
    pub fn errors(&self, kind: &str) -> u64 {
        self.socket_errors.get(kind).copied().unwrap_or(0)
    }

    pub fn status(&self, code: u16) -> u64 {
        self.statuses.get(&code).copied().unwrap_or(0)
    }
}

/// Runs `wrk -t1 -c<connections> -d<seconds>s --timeout 10s` on `url`, with the statuses
/// script, and `vars` in its environment.
pub fn wrk(url: &str, connections: u32, seconds: u32, vars: &[(&str, &str)]) -> Wrk {
    let wrk = require_tool("wrk");
    let mut cmd = Command::new(wrk);
    cmd.args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["--timeout", "10s", "-s"])
        .arg(fixtures().join("wrk_statuses.lua"))
        .arg(url);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = run_tool(cmd, Duration::from_secs(u64::from(seconds) + 30));
    assert_eq!(out.code, Some(0), "wrk failed\n{}", out.describe());
    parse(&out.stdout)
}

fn parse(output: &str) -> Wrk {
    let mut wrk = Wrk {
        output: output.to_owned(),
        ..Wrk::default()
    };
    let number = |text: &str| -> u64 {
        text.trim()
            .trim_end_matches(',')
            .parse()
            .unwrap_or_else(|_| panic!("not a count: {text:?} in\n{output}"))
    };
    for line in output.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Socket errors:") {
            for part in rest.split(',') {
                let mut words = part.split_whitespace();
                if let (Some(kind), Some(n)) = (words.next(), words.next()) {
                    wrk.socket_errors.insert(kind.to_owned(), number(n));
                }
            }
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            wrk.non_2xx = number(rest);
        } else if let Some((n, _)) = line.split_once(" requests in ") {
            wrk.requests = number(n);
        } else if let Some(rest) = line.strip_prefix("STATUS ") {
            let mut words = rest.split_whitespace();
            if let (Some(code), Some(n)) = (words.next(), words.next()) {
                let code = u16::try_from(number(code)).expect("a status code");
                wrk.statuses.insert(code, number(n));
            }
        }
    }
    assert!(
        output.contains(" requests in "),
        "unexpected wrk output:\n{output}"
    );
    wrk
}

/// The threads of process `pid` (Linux: `/proc/<pid>/task`).
fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(Iterator::count)
        .unwrap_or(0)
}

#[test]
fn hello_under_load() {
    let mut server = Server::start();
    let run = wrk(&server.url("/hello"), 50, 3, &[]);
    assert!(run.requests > 0, "{}", run.output);
    // The server's I/O runs on the Lua thread (the reactor extension): requests reach their
    // handlers with no hop to another thread, and none is started for them.
    assert_eq!(threads(server.pid()), 1, "{}", server.describe());
    assert!(
        run.socket_errors.is_empty(),
        "socket errors:\n{}",
        run.output
    );
    assert_eq!(run.non_2xx, 0, "{}", run.output);
    assert_eq!(run.status(200), run.requests, "{}", run.output);
    server.stop();
    assert!(
        !server.stderr().contains("ERROR"),
        "the server logged errors\n{}",
        server.describe()
    );
}

#[test]
fn one_percent_errors_counted_exactly() {
    let mut server = Server::start();
    // New requests stop after 1-2 s of the 3 s run: none is in flight when wrk stops, so
    // wrk has seen the answer to every request the server took.
    let run = wrk(&server.url("/flaky"), 50, 3, &[("WRK_SEND_SECONDS", "2")]);
    let (handled, raised) = server.stop();
    let stderr = server.stderr();
    assert!(
        run.socket_errors.is_empty(),
        "socket errors:\n{}",
        run.output
    );
    assert!(
        handled >= 100,
        "too few requests to see an error:\n{}",
        run.output
    );
    assert_eq!(
        raised,
        handled / 100,
        "the route raises on every 100th request"
    );
    assert_eq!(
        run.requests, handled,
        "wrk's count against the server's\n{}",
        run.output
    );
    assert_eq!(
        run.status(500),
        raised,
        "500s against raised errors\n{}",
        run.output
    );
    assert_eq!(run.non_2xx, raised, "{}", run.output);
    assert_eq!(run.status(200), handled - raised, "{}", run.output);
    let logged = stderr.matches("ERROR handler raised an error").count();
    assert_eq!(logged as u64, raised, "one log line per error\n{stderr}");
}
