//! Check mode (`assay check`, `assay FILE.yaml`) against a real HTTP server
//! (`conformance/check_peer.py`): retries and backoff, the run's deadline, parallelism,
//! depends_on, captures, secrets in every format, the JUnit and TAP reports read by
//! `junitparser` and `prove`, sandbox refusals, bad files and exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use assay_tests::{Run, assay_with_plugin, conformance_python, run, tests_dir};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(60);

/// The peer server, stopped when dropped.
struct Peer {
    child: Child,
    url: String,
}

impl Peer {
    fn start() -> Result<Peer, Failed> {
        let script = tests_dir().join("conformance/check_peer.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e} (python3 is needed)", script.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .ok_or_else(|| format!("check_peer.py printed {line:?}, not PORT <n>"))?;
        Ok(Peer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real Prometheus (Debian's, from `scripts/services`) on a free loopback port, scraping
/// itself every second; stopped when dropped.
struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start() -> Result<Prometheus, Failed> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: self\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
            ),
        )?;
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start prometheus: {e} (scripts/services install)"))?;
        let server = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        // Ready once its first scrape of itself is stored: `up` has a sample.
        let query = format!("{}/api/v1/query?query=up", server.url);
        for _ in 0..300 {
            let mut ask = Command::new("python3");
            ask.args(["-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())", &query]);
            if let Ok(out) = run(ask, None, Duration::from_secs(5))
                && out.stdout.contains("\"value\"")
            {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("prometheus stored no sample of itself within 30 s".into())
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `files` into a new folder and runs `assay <args>` there.
fn check(files: &[(&str, &str)], args: &[&str]) -> Result<(tempfile::TempDir, Run), Failed> {
    let dir = tempfile::tempdir()?;
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text)?;
    }
    let mut cmd = assay_with_plugin("http");
    cmd.args(args).current_dir(dir.path());
    let out = run(cmd, None, TIMEOUT)?;
    Ok((dir, out))
}

fn json(run: &Run) -> Result<Value, Failed> {
    serde_json::from_str(&run.stdout)
        .map_err(|e| format!("the report is not JSON ({e})\n{}", run.describe()).into())
}

fn exit(run: &Run, code: i32) -> Result<(), Failed> {
    if run.code == Some(code) {
        Ok(())
    } else {
        Err(format!("expected exit {code}\n{}", run.describe()).into())
    }
}

fn case<'a>(report: &'a Value, name: &str) -> Result<&'a Value, Failed> {
    report["checks"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["name"] == name))
        .ok_or_else(|| format!("no check '{name}' in {report}").into())
}

fn flaky_endpoint_passes_after_retries() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let file = format!(
        "checks:\n  - name: flaky\n    type: http\n    url: {}/flaky/a/2\n    retries: 3\n    backoff: 50ms\n    expect: {{json: {{$.ok: true}}}}\n",
        peer.url
    );
    let (_dir, out) = check(&[("c.yaml", &file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 0)?;
    let report = json(&out)?;
    let flaky = case(&report, "flaky")?;
    if flaky["passed"] != true || flaky["attempts"] != 3 || report["passed"] != true {
        return Err(format!("expected a pass on attempt 3: {report}").into());
    }
    // `assay FILE.yaml` is the same command; the text report counts the attempts.
    let again = format!("{}\n", file.replace("/flaky/a/2", "/flaky/b/1"));
    let (_dir, out) = check(&[("c.yaml", &again)], &["c.yaml", "--format", "text"])?;
    exit(&out, 0)?;
    if !out.stdout.contains("✓ flaky") || !out.stdout.contains("2 attempts") {
        return Err(format!("the text report should say 2 attempts\n{}", out.describe()).into());
    }
    Ok(())
}

fn backoff_waits_grow_as_configured() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let file = format!(
        "checks:\n  - name: b\n    type: http\n    url: {}/flaky/grow/3\n    retries: 3\n    backoff: {{initial: 200ms, factor: 2, max: 1s, jitter: false}}\n",
        peer.url
    );
    let (_dir, out) = check(&[("c.yaml", &file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 0)?;
    let mut cmd = Command::new("python3");
    cmd.args([
        "-c",
        "import json, sys, urllib.request; print(json.dumps(json.load(urllib.request.urlopen(sys.argv[1]))))",
        &format!("{}/times/grow", peer.url),
    ]);
    let times: Vec<f64> = serde_json::from_str(&run(cmd, None, TIMEOUT)?.stdout)?;
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let wanted = [0.2, 0.4, 0.8];
    let close = gaps.len() == 3
        && gaps
            .iter()
            .zip(wanted)
            .all(|(gap, want)| *gap >= want && *gap < want + 0.5);
    if !close {
        return Err(format!("gaps {gaps:?}, expected about {wanted:?}").into());
    }
    Ok(())
}

fn the_run_timeout_fails_what_is_left() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let file = format!(
        "timeout: 1s\nchecks:\n  - name: slow\n    type: http\n    url: {}/slow/10\n  - name: never started\n    type: tcp\n    address: 127.0.0.1:1\n",
        peer.url
    );
    let (_dir, out) = check(&[("c.yaml", &file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 1)?;
    let report = json(&out)?;
    let slow = case(&report, "slow")?["message"].as_str().unwrap_or("");
    let left = case(&report, "never started")?["message"]
        .as_str()
        .unwrap_or("");
    if !slow.contains("timed out after 1 s") || !left.contains("before it started") {
        return Err(format!("both must time out: {report}").into());
    }
    if report["duration_ms"].as_u64().unwrap_or(u64::MAX) > 5000 {
        return Err(format!("the run outlived its deadline: {report}").into());
    }
    Ok(())
}

fn parallel_checks_run_at_once() -> Result<(), Failed> {
    let script = "  - {name: NAME, type: script, lua: 'sleep(1)'}\n";
    let mut file = String::from("parallel: 4\nchecks:\n");
    for name in ["a", "b", "c", "d"] {
        file.push_str(&script.replace("NAME", name));
    }
    let (_dir, out) = check(&[("c.yaml", &file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 0)?;
    let took = json(&out)?["duration_ms"].as_u64().unwrap_or(u64::MAX);
    // Four 1-second checks one after another take 4 s.
    if took >= 2000 {
        return Err(format!(
            "four 1 s checks with parallel 4 took {took} ms\n{}",
            out.describe()
        )
        .into());
    }
    Ok(())
}

fn depends_on_skips_and_captures_flow() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let file = format!(
        "vars: {{base: '{}'}}\nparallel: 4\nchecks:\n\
         \x20 - {{name: token, type: http, url: '${{base}}/token', capture: {{token: $.token, n: $.n}}}}\n\
         \x20 - {{name: use it, type: http, url: '${{base}}/needs-token', headers: {{authorization: 'Bearer ${{token}}'}}}}\n\
         \x20 - {{name: in a script, type: script, depends_on: token, lua: 'assert(vars.n == \"7\", vars.n) return {{twice = vars.n * 2}}'}}\n\
         \x20 - {{name: in an expectation, type: http, url: '${{base}}/token', depends_on: in a script, expect: {{json: {{$.token: '${{token}}', $.n: {{'!=': '${{twice}}'}}}}}}}}\n\
         \x20 - {{name: broken, type: http, url: '${{base}}/nowhere'}}\n\
         \x20 - {{name: after broken, type: tcp, address: '127.0.0.1:1', depends_on: [broken]}}\n",
        peer.url
    );
    let (_dir, out) = check(&[("c.yaml", &file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 1)?;
    let report = json(&out)?;
    let passed = |name: &str| case(&report, name).map(|c| c["passed"] == true);
    if !passed("token")?
        || !passed("use it")?
        || !passed("in a script")?
        || !passed("in an expectation")?
    {
        return Err(format!("the captured token must reach the later checks: {report}").into());
    }
    if case(&report, "token")?["captures"]["token"] != "tok-123"
        || case(&report, "in a script")?["captures"]["twice"] != "14"
    {
        return Err(format!("captures are reported: {report}").into());
    }
    let after = case(&report, "after broken")?;
    if after["skipped"] != true
        || !after["message"]
            .as_str()
            .unwrap_or("")
            .contains("'broken' did not pass")
    {
        return Err(format!("a check after a failed one is skipped: {report}").into());
    }
    Ok(())
}

fn secrets_never_appear_in_any_format() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let secret = "hunter2-very-secret";
    let file = format!(
        "vars: {{pw: {secret}}}\nsecrets: [pw]\nchecks:\n  - name: leaks {{pw}}\n    type: http\n    url: {}/echo?status=500\n    headers: {{x-password: '${{pw}}'}}\n",
        peer.url
    );
    for format in ["json", "text", "junit", "tap"] {
        let (_dir, out) = check(
            &[("c.yaml", &file)],
            &["check", "c.yaml", "--format", format, "-v"],
        )?;
        exit(&out, 1)?;
        if out.stdout.contains(secret) || out.stderr.contains(secret) {
            return Err(format!("{format}: the secret shows\n{}", out.describe()).into());
        }
        if !out.stdout.contains("***") {
            return Err(format!(
                "{format}: the masked secret should show as ***\n{}",
                out.describe()
            )
            .into());
        }
    }
    Ok(())
}

/// A secret stays masked when a message quotes it escaped, carries it percent-encoded in a
/// URL, or cuts an excerpt of a body in the middle of it.
fn secrets_masked_when_quoted_encoded_or_cut() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let secret = r#"hunter 2\u{fc}"x\y-very-secret"#;
    let mut file = format!(
        "vars: {{pw: '{secret}', plain: plainsecretvalue42}}\nsecrets: [pw, plain]\nchecks:\n\
         \x20 - {{name: url, type: http, url: 'http://127.0.0.1:1/x?pw=${{pw}}', retries: 0}}\n\
         \x20 - {{name: auth, type: http, url: 'http://u:${{pw}}@127.0.0.1:1/', retries: 0}}\n\
         \x20 - {{name: quoted, type: http, url: '{0}/token', expect: {{body_contains: '${{pw}}'}}}}\n",
        peer.url
    );
    for pad in [95, 100, 105, 110, 115] {
        let filler = "p".repeat(pad);
        file.push_str(&format!(
            "  - {{name: cut{pad}, type: http, url: '{}/echo?status=500', headers: {{x-a: '{filler}${{plain}}'}}}}\n",
            peer.url
        ));
    }
    for format in ["json", "junit"] {
        let (_dir, out) = check(&[("c.yaml", &file)], &["c.yaml", "--format", format, "-v"])?;
        exit(&out, 1)?;
        let shown = format!("{}{}", out.stdout, out.stderr);
        for leak in [
            "hunter",
            "%C3%BC",
            "plainsecr",
            "cretvalue42",
            "very-secret",
        ] {
            if shown.contains(leak) {
                return Err(format!("{format}: {leak:?} shows\n{}", out.describe()).into());
            }
        }
    }
    Ok(())
}

fn junit_and_tap_are_read_by_their_tools() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let file = format!(
        "checks:\n  - {{name: good, type: http, url: '{0}/token'}}\n  - {{name: bad <&>, type: http, url: '{0}/echo'}}\n  - {{name: skipped, type: tcp, address: '127.0.0.1:1', depends_on: 'bad <&>'}}\n  - {{name: broken, type: script, retries: 3, lua: 'local = 1'}}\n",
        peer.url
    );
    let (dir, out) = check(
        &[("c.yaml", &file)],
        &["c.yaml", "--format", "junit", "--output", "out.xml"],
    )?;
    exit(&out, 1)?;
    let mut parse = Command::new(conformance_python());
    parse.args([
        "-c",
        "import sys\nfrom junitparser import JUnitXml\nfor suite in JUnitXml.fromfile(sys.argv[1]):\n  for case in suite:\n    print(case.name, [type(r).__name__ for r in case.result], case._elem.find('properties/property').get('value'))",
    ]);
    parse.arg(dir.path().join("out.xml"));
    let parsed = run(parse, None, TIMEOUT)?;
    let want = "good [] 1\nbad <&> ['Failure'] 1\nskipped ['Skipped'] 0\nbroken ['Error'] 1\n";
    if parsed.stdout != want {
        return Err(format!("junitparser read:\n{}", parsed.describe()).into());
    }
    let (dir, out) = check(
        &[("c.yaml", &file)],
        &["c.yaml", "--format", "tap", "--output", "out.tap"],
    )?;
    exit(&out, 1)?;
    let mut prove = Command::new("prove");
    prove
        .args(["-v", "-e", "cat"])
        .arg(dir.path().join("out.tap"));
    let proved = run(prove, None, TIMEOUT)?;
    let read =
        proved.stdout.contains("Failed test:  2") || proved.stdout.contains("Failed tests:  2");
    if !read
        || proved.stdout.contains("Parse errors")
        || !proved.stdout.contains("ok 3 - skipped # SKIP")
    {
        return Err(format!("prove read:\n{}", proved.describe()).into());
    }
    Ok(())
}

fn script_checks_are_sandboxed() -> Result<(), Failed> {
    let file = "checks:\n  - {name: files, type: script, lua: 'io.open(\"/etc/passwd\")'}\n  - {name: env, type: script, lua: 'assert(env.get(\"FROM_FILE\") == \"yes\")'}\nenv: {FROM_FILE: 'yes'}\n";
    let (_dir, out) = check(&[("c.yaml", file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 1)?;
    let report = json(&out)?;
    let files = case(&report, "files")?;
    if files["passed"] != false
        || !files["message"]
            .as_str()
            .unwrap_or("")
            .contains("not available in sandbox")
    {
        return Err(format!("io must be refused: {report}").into());
    }
    if case(&report, "env")?["passed"] != true {
        return Err(format!("the file's env reaches scripts: {report}").into());
    }
    Ok(())
}

/// What script checks print and log goes to standard error, masked (a captured secret from
/// the moment it is captured), and never into the report on standard output; `-q` quiets
/// their log lines.
fn script_output_is_masked_and_off_the_report() -> Result<(), Failed> {
    let file = r#"secrets: [pw, token]
vars: {pw: hunter2-pw}
checks:
  - name: mint
    type: script
    lua: |
      print("printed " .. vars.pw)
      log.info("logged " .. vars.pw)
      return {token = "minted-token-77"}
  - name: use
    type: script
    depends_on: mint
    lua: |
      print("using " .. vars.token)
      log.warn("warned " .. vars.token)
      error("failed with " .. vars.token)
"#;
    for format in ["json", "tap", "junit"] {
        let (_dir, out) = check(&[("c.yaml", file)], &["c.yaml", "--format", format])?;
        exit(&out, 1)?;
        if format == "json" {
            json(&out)?;
        }
        for secret in ["hunter2-pw", "minted-token-77"] {
            if out.stdout.contains(secret) || out.stderr.contains(secret) {
                return Err(format!("{format}: {secret} shows\n{}", out.describe()).into());
            }
        }
        for line in ["printed ***", "logged ***", "using ***", "warned ***"] {
            if !out.stderr.contains(line) || out.stdout.contains(line) {
                return Err(format!("{line:?} belongs on stderr\n{}", out.describe()).into());
            }
        }
    }
    let (_dir, out) = check(&[("c.yaml", file)], &["c.yaml", "-q", "--format", "json"])?;
    if out.stderr.contains("logged") || out.stderr.contains("warned") {
        return Err(format!("-q quiets the scripts' log lines\n{}", out.describe()).into());
    }
    Ok(())
}

/// A check stuck where no timeout reaches (a `__gc` finalizer that loops runs with hooks
/// off) is given up on and reported; the run goes on and writes its report. A closed
/// standard error (a log shipper gone) costs the log lines, never the run.
fn stuck_checks_and_a_closed_stderr_do_not_hang_the_run() -> Result<(), Failed> {
    let file = "parallel: 2\nchecks:\n  - name: stuck\n    type: script\n    timeout: 1s\n    lua: |\n      setmetatable({}, {__gc = function()\n        local t = os.clock()\n        while true do if os.clock() - t > 0.2 then print('late noise') t = os.clock() end end\n      end})\n  - {name: after, type: script, depends_on: stuck, lua: 'return'}\n  - {name: beside, type: script, lua: 'log.warn(\"a line\")'}\n";
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("c.yaml"), file)?;
    // Standard error is a pipe nobody reads any more: every log line meets EPIPE.
    let (reader, writer) = std::io::pipe()?;
    drop(reader);
    let mut child = assay_with_plugin("http")
        .args(["c.yaml", "-v", "--format", "json", "--output", "out.json"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .stderr(writer)
        .spawn()?;
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            return Err("the run hung".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let report: Value = serde_json::from_slice(&std::fs::read(dir.path().join("out.json"))?)?;
    if status.code() != Some(1) {
        return Err(format!("expected exit 1, got {status}: {report}").into());
    }
    let stuck = case(&report, "stuck")?;
    if stuck["error"] != true
        || !stuck["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("stuck:")
    {
        return Err(format!("the stuck check is an error saying so: {report}").into());
    }
    if case(&report, "after")?["skipped"] != true || case(&report, "beside")?["passed"] != true {
        return Err(format!("the others run or skip as usual: {report}").into());
    }
    // What the abandoned check prints from then on stays out of the report on stdout.
    let (_dir, out) = check(&[("c.yaml", file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 1)?;
    json(&out)?;
    if !out.stderr.contains("late noise") {
        return Err(format!("its prints go to stderr\n{}", out.describe()).into());
    }
    Ok(())
}

/// Judging a response (a regex over a big body) ends with the attempt's time, not when the
/// regex engine is done (a word-boundary pattern over 24 MiB of non-ASCII text takes many
/// seconds).
fn judging_a_body_keeps_the_attempt_timeout() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let file = format!(
        "checks:\n  - name: slow regex\n    type: http\n    url: {}/words/24\n    timeout: 1s\n    retries: 0\n    expect: {{body_matches: '(?:\\b\\w+\\b\\s*){{20}}Z'}}\n",
        peer.url
    );
    let (_dir, out) = check(&[("c.yaml", &file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 1)?;
    let report = json(&out)?;
    let message = case(&report, "slow regex")?["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    if !message.contains("was still running when the attempt's 1 s ran out") {
        return Err(format!("the attempt ends at its limit: {report}").into());
    }
    Ok(())
}

/// Checks running at once each have their own VM and memory limit, so each has its own
/// budget for bodies in flight: three 24 MiB bodies at once under a 48 MiB limit all pass
/// (one budget for the process refused one of them).
fn parallel_checks_each_have_their_own_body_budget() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let mut file = "parallel: 3\nchecks:\n".to_owned();
    for n in 1..=3 {
        file.push_str(&format!(
            "  - {{name: big{n}, type: http, url: '{}/words/24?pause=0.5', retries: 0, expect: {{body_contains: wörld}}}}\n",
            peer.url
        ));
    }
    let (_dir, out) = check(
        &[("c.yaml", &file)],
        &["c.yaml", "--format", "json", "--memory-limit", "48M"],
    )?;
    exit(&out, 0)
}

fn bad_files_exit_2_naming_the_line() -> Result<(), Failed> {
    let cases = [
        (
            "checks:\n  - name: a\n    type: http\n    urll: http://x\n",
            "c.yaml:4: check 'a': unknown key 'urll' (did you mean 'url'?",
        ),
        (
            "checks:\n  - {name: a, type: http, url: x, timeout: 5 minutes}\n",
            "c.yaml:2: check 'a': 'timeout': '5 minutes' is not a duration",
        ),
        (
            "checks:\n  - {name: a, type: smtp}\n",
            "c.yaml:2: check 'a': unknown type 'smtp'",
        ),
        (
            "checks:\n  - {name: a, type: http}\n",
            "c.yaml:2: check 'a': 'url' is missing",
        ),
        (
            "checks:\n  - {name: a, type: http, url: 'http://h/${tb}', capture: {ta: $.a}}\n  - {name: b, type: http, url: 'http://h/${ta}', capture: {tb: $.b}}\n",
            "c.yaml:2: check 'a': its dependencies make a cycle (a -> b -> a;",
        ),
        (
            "secrets: [pasword]\nchecks: [{name: t, type: tcp, address: 'h:1'}]\n",
            "c.yaml:1: secret 'pasword' is not a var",
        ),
    ];
    for (text, message) in cases {
        let (_dir, out) = check(&[("c.yaml", text)], &["c.yaml"])?;
        if out.code != Some(2) || !out.stderr.contains(message) || !out.stdout.is_empty() {
            return Err(format!("expected exit 2 and {message:?}\n{}", out.describe()).into());
        }
    }
    let (_dir, out) = check(&[], &["check", "--parallel", "0", "c.yaml"])?;
    exit(&out, 2)?;
    let (_dir, out) = check(&[], &["check", "missing.yaml"])?;
    exit(&out, 2)
}

fn prometheus_checks_query_a_real_server() -> Result<(), Failed> {
    let server = Prometheus::start()?;
    let file = format!(
        "vars: {{prom: '{}'}}\nchecks:\n\
         \x20 - {{name: up, type: prometheus, url: '${{prom}}', query: 'up{{job=\"self\"}}', expect: {{equals: 1}}}}\n\
         \x20 - {{name: enough, type: prometheus, url: '${{prom}}', query: 'count(up)', expect: {{min: 1, max: 1}}}}\n\
         \x20 - {{name: none, type: prometheus, url: '${{prom}}', query: 'up{{job=\"nope\"}}', expect: {{empty: true}}}}\n\
         \x20 - {{name: too few, type: prometheus, url: '${{prom}}', query: 'sum(up)', expect: {{min: 5}}}}\n\
         \x20 - {{name: bad query, type: prometheus, url: '${{prom}}', query: 'sum(', expect: {{min: 1}}}}\n",
        server.url
    );
    let (_dir, out) = check(&[("c.yaml", &file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 1)?;
    let report = json(&out)?;
    for name in ["up", "enough", "none"] {
        if case(&report, name)?["passed"] != true {
            return Err(format!("'{name}' should pass: {report}").into());
        }
    }
    let too_few = case(&report, "too few")?["message"].as_str().unwrap_or("");
    let bad = case(&report, "bad query")?["message"]
        .as_str()
        .unwrap_or("");
    if !too_few.contains("is 1, expected at least 5") || !bad.contains("Prometheus answered 400") {
        return Err(format!("failures name what was seen: {report}").into());
    }
    Ok(())
}

fn tcp_and_dns_checks() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let port = peer.url.rsplit(':').next().unwrap_or("0");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let file = format!(
        "checks:\n\
         \x20 - {{name: open, type: tcp, host: 127.0.0.1, port: {port}}}\n\
         \x20 - {{name: closed, type: tcp, address: '127.0.0.1:{closed}', timeout: 2s}}\n\
         \x20 - {{name: localhost, type: dns, host: localhost, expect: {{addresses: [127.0.0.1]}}}}\n\
         \x20 - {{name: unknown, type: dns, host: no-such-host.invalid, timeout: 5s}}\n"
    );
    let (_dir, out) = check(&[("c.yaml", &file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 1)?;
    let report = json(&out)?;
    let passed = |name: &str| case(&report, name).map(|c| c["passed"] == true);
    if !passed("open")? || !passed("localhost")? || passed("closed")? || passed("unknown")? {
        return Err(format!("open and localhost pass, closed and unknown fail: {report}").into());
    }
    let closed_message = case(&report, "closed")?["message"].as_str().unwrap_or("");
    if !closed_message.contains(&format!("cannot connect to 127.0.0.1:{closed}")) {
        return Err(format!("the failure names the address: {report}").into());
    }
    Ok(())
}

/// Each running check has a thread; plugin calls from the ninth such thread crashed the
/// process in mimalloc 3's thread set-up (the http plugin's allocator).
fn many_http_checks_on_many_threads() -> Result<(), Failed> {
    let peer = Peer::start()?;
    let mut file = String::from("parallel: 6\nchecks:\n");
    for i in 0..30 {
        file.push_str(&format!(
            "  - {{name: c{i}, type: http, url: '{}/token'}}\n",
            peer.url
        ));
    }
    let (_dir, out) = check(&[("c.yaml", &file)], &["c.yaml", "--format", "json"])?;
    exit(&out, 0)?;
    let report = json(&out)?;
    if report["checks"].as_array().map(Vec::len) != Some(30) {
        return Err(format!("30 checks expected: {report}").into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "check::flaky_endpoint_passes_after_retries",
            flaky_endpoint_passes_after_retries,
        ),
        Trial::test(
            "check::backoff_waits_grow_as_configured",
            backoff_waits_grow_as_configured,
        ),
        Trial::test(
            "check::the_run_timeout_fails_what_is_left",
            the_run_timeout_fails_what_is_left,
        ),
        Trial::test(
            "check::parallel_checks_run_at_once",
            parallel_checks_run_at_once,
        ),
        Trial::test(
            "check::depends_on_skips_and_captures_flow",
            depends_on_skips_and_captures_flow,
        ),
        Trial::test(
            "check::secrets_never_appear_in_any_format",
            secrets_never_appear_in_any_format,
        ),
        Trial::test(
            "check::secrets_masked_when_quoted_encoded_or_cut",
            secrets_masked_when_quoted_encoded_or_cut,
        ),
        Trial::test(
            "check::junit_and_tap_are_read_by_their_tools",
            junit_and_tap_are_read_by_their_tools,
        ),
        Trial::test(
            "check::script_checks_are_sandboxed",
            script_checks_are_sandboxed,
        ),
        Trial::test(
            "check::script_output_is_masked_and_off_the_report",
            script_output_is_masked_and_off_the_report,
        ),
        Trial::test(
            "check::stuck_checks_and_a_closed_stderr_do_not_hang_the_run",
            stuck_checks_and_a_closed_stderr_do_not_hang_the_run,
        ),
        Trial::test(
            "check::judging_a_body_keeps_the_attempt_timeout",
            judging_a_body_keeps_the_attempt_timeout,
        ),
        Trial::test(
            "check::parallel_checks_each_have_their_own_body_budget",
            parallel_checks_each_have_their_own_body_budget,
        ),
        Trial::test(
            "check::bad_files_exit_2_naming_the_line",
            bad_files_exit_2_naming_the_line,
        ),
        Trial::test(
            "check::many_http_checks_on_many_threads",
            many_http_checks_on_many_threads,
        ),
        Trial::test(
            "check::prometheus_checks_query_a_real_server",
            prometheus_checks_query_a_real_server,
        ),
        Trial::test("check::tcp_and_dns_checks", tcp_and_dns_checks),
    ]
}
