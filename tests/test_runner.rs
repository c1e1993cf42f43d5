//! `assay test` on a folder of test files, and the dogfood in `tests/e2e/`: a check file and
//! a test folder that verify Assay itself.

use std::time::Duration;

use assay_tests::{Run, assay_with_plugin, run, tests_dir};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(60);
/// Long enough for any case here; a run that hangs fails at it.
const RUN_TIMEOUT: Duration = Duration::from_secs(20);

const MATH: &str = r#"
describe("math", function()
  local calls = 0
  before_each(function() calls = calls + 1 end)
  after_each(function() assert.gt(calls, 0) end)
  test("adds", function() assert.eq(1 + 1, 2) end)
  test("fails with a diff", function() assert.eq({a = 1, b = {2}}, {a = 1, b = {3}}) end)
  describe("nested", function()
    test("waits", function() sleep(0.05) assert.gt(calls, 0) end)
  end)
end)
test("raises a table", function() error({code = 1}) end)
"#;

fn assay_test(files: &[(&str, &str)], args: &[&str]) -> Result<Run, Failed> {
    let dir = tempfile::tempdir()?;
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().ok_or("no folder")?)?;
        std::fs::write(path, text)?;
    }
    let mut cmd = assay_with_plugin("http");
    cmd.arg("test").args(args).current_dir(dir.path());
    Ok(run(cmd, None, RUN_TIMEOUT)?)
}

/// The report's cases as (name, passed).
fn names(run: &Run) -> Result<Vec<(String, bool)>, Failed> {
    Ok(cases(run)?
        .into_iter()
        .map(|(name, passed, _)| (name, passed))
        .collect())
}

fn reports_per_case() -> Result<(), Failed> {
    let out = assay_test(
        &[
            ("tests/math_test.lua", MATH),
            ("tests/sub/test_plain.lua", "assert.eq(1, 1)"),
        ],
        &["--format", "json"],
    )?;
    let got = names(&out)?;
    let want = [
        ("math › adds", true),
        ("math › fails with a diff", false),
        ("math › nested › waits", true),
        ("raises a table", false),
        ("tests/sub/test_plain.lua", true),
    ];
    let want: Vec<(String, bool)> = want.iter().map(|(n, p)| ((*n).to_owned(), *p)).collect();
    if out.code != Some(1) || got != want {
        return Err(format!("expected {want:?}, got {got:?}\n{}", out.describe()).into());
    }
    for shown in [
        "math_test.lua:7: assert.eq: tables differ",
        "$.b[1]: expected 3, got 2",
        "error value {\\\"code\\\":1}",
    ] {
        if !out.stdout.contains(shown) {
            return Err(format!("the report should show {shown:?}\n{}", out.describe()).into());
        }
    }
    Ok(())
}

fn filters_and_exit_codes() -> Result<(), Failed> {
    let files = [("tests/math_test.lua", MATH)];
    let out = assay_test(&files, &["--filter", "nested", "--format", "json"])?;
    if out.code != Some(0) || names(&out)? != [("math › nested › waits".to_owned(), true)] {
        return Err(format!("--filter nested runs one case\n{}", out.describe()).into());
    }
    let out = assay_test(&files, &["nowhere"])?;
    if out.code != Some(2) || !out.stderr.contains("nowhere: no such file or folder") {
        return Err(format!("a missing path is a usage error\n{}", out.describe()).into());
    }
    let out = assay_test(&[("tests/readme.md", "")], &[])?;
    if out.code != Some(2) || !out.stderr.contains("no test files") {
        return Err(format!("no test files is a usage error\n{}", out.describe()).into());
    }
    Ok(())
}

/// A test file sees `arg[0]` and requires helpers next to it, as `assay FILE` would; what it
/// prints goes to standard error, leaving the report on standard output parseable.
fn files_run_as_scripts_and_print_aside() -> Result<(), Failed> {
    let test = r#"
local helper = require("helper")
print("printed by a test")
io.write("written by a test\n")
test("sees its file", function() assert.matches(arg[0], "deep_test\\.lua$") end)
test("uses its helper", function() assert.eq(helper.twice(21), 42) end)
"#;
    let out = assay_test(
        &[
            ("tests/sub/deep_test.lua", test),
            (
                "tests/sub/helper.lua",
                "return {twice = function(n) return n * 2 end}",
            ),
        ],
        &["--format", "json"],
    )?;
    let got = names(&out)?;
    let want = [("sees its file", true), ("uses its helper", true)];
    let want: Vec<(String, bool)> = want.iter().map(|(n, p)| ((*n).to_owned(), *p)).collect();
    if out.code != Some(0) || got != want {
        return Err(format!("expected {want:?}, got {got:?}\n{}", out.describe()).into());
    }
    for line in ["printed by a test", "written by a test"] {
        if !out.stderr.contains(line) {
            return Err(format!("{line:?} belongs on stderr\n{}", out.describe()).into());
        }
    }
    Ok(())
}

/// The report's cases as (name, passed, message), for tests that read the messages.
fn cases(run: &Run) -> Result<Vec<(String, bool, String)>, Failed> {
    let report: Value = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("not JSON ({e})\n{}", run.describe()))?;
    Ok(report["tests"]
        .as_array()
        .ok_or_else(|| format!("no tests in {report}"))?
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("").to_owned(),
                c["passed"] == true,
                c["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect())
}

/// Fails unless case `name` is in `got` with `passed` and a message containing `shown`.
fn expect_case(
    got: &[(String, bool, String)],
    name: &str,
    passed: bool,
    shown: &str,
    run: &Run,
) -> Result<(), Failed> {
    match got.iter().find(|(n, _, _)| n == name) {
        Some((_, p, message)) if *p == passed && message.contains(shown) => Ok(()),
        found => Err(format!(
            "expected {name:?} passed={passed} with {shown:?}, found {found:?}\n{}",
            run.describe()
        )
        .into()),
    }
}

/// `os.exit` in a test fails that test (as in Deno) instead of ending the runner: later
/// tests and files still run and the report is written.
fn os_exit_fails_the_test() -> Result<(), Failed> {
    let out = assay_test(
        &[
            ("tests/a_test.lua", r#"test("first", function() end)"#),
            (
                "tests/b_test.lua",
                r#"test("exits", function() os.exit(3) end)
test("exits under pcall", function() pcall(os.exit, true) end)
test("after", function() end)"#,
            ),
            ("tests/c_test.lua", r#"test("never", function() end)"#),
        ],
        &["--format", "json"],
    )?;
    let got = cases(&out)?;
    expect_case(&got, "exits", false, "tried to exit with code 3", &out)?;
    expect_case(
        &got,
        "exits under pcall",
        false,
        "tried to exit with code 0",
        &out,
    )?;
    for name in ["first", "after", "never"] {
        expect_case(&got, name, true, "", &out)?;
    }
    if out.code != Some(1) {
        return Err(format!("a failed test exits 1\n{}", out.describe()).into());
    }
    Ok(())
}

const LOOPS: &str = r#"
test("passes", function() end)
test("fails", function() error("x") end)
test("loops", function() while true do end end)
test("after", function() end)
"#;

/// A file that runs out of time keeps the results of its finished cases; the case that was
/// running fails naming the timeout, and those after it are skipped.
fn timeout_keeps_finished_cases() -> Result<(), Failed> {
    let out = assay_test(
        &[("tests/loop_test.lua", LOOPS)],
        &["--format", "json", "--timeout", "1"],
    )?;
    let got = cases(&out)?;
    expect_case(&got, "passes", true, "", &out)?;
    expect_case(&got, "fails", false, "x", &out)?;
    expect_case(&got, "loops", false, "timed out after 1 s", &out)?;
    expect_case(&got, "after", false, "not run", &out)?;
    if out.code != Some(1) || out.stdout.contains("[assay test]") {
        return Err(format!("the runner's own chunk is no test\n{}", out.describe()).into());
    }
    Ok(())
}

/// Async work a test leaves running fails that test, naming what was left and where it
/// started, and is cancelled: the file ends once its cases are done, with or without a
/// timeout, even with a plugin's server still listening.
fn leaked_async_work_fails_its_test() -> Result<(), Failed> {
    let file = r#"test("starts an interval", function() async.interval(0.5, function() end) end)
test("spawns and forgets", function() async.spawn(sleep, 30) end)
test("cancels its interval", function() async.interval(0.5, function() end):cancel() end)
test("awaits its task", function() async.spawn(sleep, 0.01):await() end)
test("plain", function() assert(1 == 1) end)
test("starts many", function() for i = 1, 1000 do async.interval(1, function() end) end end)
test("starts a server", function() http.server({GET = {["/"] = function() return "x" end}}) end)
test("leaves a process", function() process.spawn({"sleep", "30"}) end)
test("waits for its process", function() process.spawn({"true"}):wait() end)
test("loses a failure", function() async.spawn(error, "boom", 0) sleep(0.01) end)
test("ticks into an error", function() async.interval(0.01, function() error("tick", 0) end) sleep(0.05) end)
"#;
    for timeout in ["60", "0"] {
        let started = std::time::Instant::now();
        let broken = "async.interval(0.1, function() end)\nerror('top level broke', 0)";
        let out = assay_test(
            &[
                ("tests/interval_test.lua", file),
                ("tests/broken_test.lua", broken),
            ],
            &["--format", "json", "--timeout", timeout],
        )?;
        let got = cases(&out)?;
        expect_case(
            &got,
            "tests/broken_test.lua",
            false,
            "top level broke",
            &out,
        )?;
        expect_case(&got, "starts an interval", false, "async.interval", &out)?;
        expect_case(
            &got,
            "starts an interval",
            false,
            "interval_test.lua:1",
            &out,
        )?;
        expect_case(&got, "spawns and forgets", false, "async.spawn", &out)?;
        expect_case(&got, "starts many", false, "and 990 more", &out)?;
        expect_case(
            &got,
            "loses a failure",
            false,
            "nobody awaited them: boom",
            &out,
        )?;
        expect_case(
            &got,
            "ticks into an error",
            false,
            "stopping the interval: tick",
            &out,
        )?;
        expect_case(
            &got,
            "leaves a process",
            false,
            "process.spawn of 'sleep'",
            &out,
        )?;
        let done = [
            "cancels its interval",
            "awaits its task",
            "waits for its process",
            "plain",
        ];
        for name in done {
            expect_case(&got, name, true, "", &out)?;
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("the file should end at once\n{}", out.describe()).into());
        }
    }
    Ok(())
}

/// A file stuck where the VM cannot interrupt it (a `__gc` finalizer that loops) is reported
/// as errored once its time and the grace are up, and the run still ends with its report.
fn stuck_file_is_reported() -> Result<(), Failed> {
    let out = assay_test(
        &[
            (
                "tests/gc_test.lua",
                "setmetatable({}, {__gc = function() while true do end end})",
            ),
            ("tests/ok_test.lua", r#"test("fine", function() end)"#),
            (
                "tests/unhook_test.lua",
                r#"test("first", function() end)
test("unhooks", function() debug.sethook() while true do end end)
test("never reached", function() end)"#,
            ),
        ],
        &["--format", "json", "--timeout", "1", "--parallel", "3"],
    )?;
    let got = cases(&out)?;
    let stuck = "could not be interrupted";
    expect_case(&got, "tests/gc_test.lua", false, stuck, &out)?;
    expect_case(&got, "fine", true, "", &out)?;
    expect_case(&got, "first", true, "", &out)?;
    expect_case(&got, "unhooks", false, stuck, &out)?;
    expect_case(&got, "never reached", false, "not run", &out)?;
    if out.code != Some(1) {
        return Err(format!("a stuck file fails the run\n{}", out.describe()).into());
    }
    Ok(())
}

/// What the runner keeps of a file's cases counts against the VM's memory limit: endless
/// failing cases with big messages end the file with "not enough memory", keeping what came
/// before, instead of growing the process without bound.
fn kept_results_count_against_the_memory_limit() -> Result<(), Failed> {
    let file = r#"
local big = string.rep("x", 60000)
for i = 1, 5000 do test("case " .. i, function() error(big, 0) end) end
"#;
    let out = assay_test(
        &[("tests/big_test.lua", file)],
        &["--format", "json", "--memory-limit", "16M"],
    )?;
    let got = cases(&out)?;
    expect_case(&got, "case 1", false, "xxxx", &out)?;
    let ended = got
        .iter()
        .any(|(_, _, message)| message.starts_with("not enough memory"));
    let skipped = got
        .iter()
        .filter(|(_, _, m)| m.starts_with("not run"))
        .count();
    if !ended || skipped == 0 || got.len() != 5000 {
        return Err(format!("the file should end short of memory\n{}", out.describe()).into());
    }
    Ok(())
}

/// The runner keeps its own copies of what it uses: a test file that replaces globals cannot
/// make a failing test pass or break the runner.
fn globals_cannot_corrupt_the_runner() -> Result<(), Failed> {
    let file = r#"
local raise = error
test("should fail", function() raise("real failure") end)
test("passes", function() end)
describe("group", function() test("inner fails", function() raise({code = 7}) end) end)
getmetatable("").__index = {}
xpcall = function() return true end
pcall = function() return true end
ipairs, pairs, type, tostring, error, getmetatable, next, select = nil
string.find, string.format, string.rep, string.sub = nil
table.insert, table.concat, table.remove = nil
json, time, math = nil
"#;
    let out = assay_test(&[("tests/x_test.lua", file)], &["--format", "json"])?;
    let got = cases(&out)?;
    expect_case(&got, "should fail", false, "real failure", &out)?;
    expect_case(&got, "passes", true, "", &out)?;
    expect_case(&got, "group › inner fails", false, "\"code\":7", &out)?;
    Ok(())
}

/// Names and messages that are not UTF-8 are shown with U+FFFD, not lost.
fn invalid_utf8_is_shown_lossily() -> Result<(), Failed> {
    let file = "test(\"bad \\xff name\", function() error(\"\\xff\\xfe\") end)\n\
                test(\"fine\", function() end)\n";
    let out = assay_test(&[("tests/u_test.lua", file)], &["--format", "json"])?;
    let got = cases(&out)?;
    expect_case(&got, "bad \u{FFFD} name", false, "\u{FFFD}\u{FFFD}", &out)?;
    expect_case(&got, "fine", true, "", &out)?;
    Ok(())
}

/// A `--filter` that matches no case is a usage error naming it; a positive `--timeout`
/// too small to count is still a timeout, not none.
fn filter_matching_nothing_and_tiny_timeout() -> Result<(), Failed> {
    let files = [("tests/math_test.lua", MATH)];
    let out = assay_test(&files, &["--filter", "typo"])?;
    if out.code != Some(2) || !out.stderr.contains("'typo'") {
        return Err(format!("--filter typo matches nothing\n{}", out.describe()).into());
    }
    let files = [(
        "tests/slow_test.lua",
        r#"test("waits", function() sleep(0.5) end)"#,
    )];
    let out = assay_test(&files, &["--format", "json", "--timeout", "1e-12"])?;
    let got = cases(&out)?;
    if out.code != Some(1) || !got.iter().all(|(_, passed, _)| !passed) {
        return Err(format!("--timeout 1e-12 is a (tiny) timeout\n{}", out.describe()).into());
    }
    Ok(())
}

/// The repository's own dogfood: Assay's builtins checked by check mode and by `assay test`.
fn e2e_dogfood() -> Result<(), Failed> {
    let e2e = tests_dir().join("e2e");
    let mut check = assay_with_plugin("http");
    check
        .arg(e2e.join("checks.yaml"))
        .args(["--format", "text", "-q"]);
    let out = run(check, None, TIMEOUT)?;
    if out.code != Some(0) {
        return Err(format!("tests/e2e/checks.yaml\n{}", out.describe()).into());
    }
    let mut test = assay_with_plugin("crypto");
    test.arg("test")
        .arg(e2e.join("tests"))
        .args(["--format", "tap"]);
    let out = run(test, None, TIMEOUT)?;
    if out.code != Some(0) || out.stdout.contains("not ok") {
        return Err(format!("tests/e2e/tests\n{}", out.describe()).into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("test_runner::reports_per_case", reports_per_case),
        Trial::test(
            "test_runner::filters_and_exit_codes",
            filters_and_exit_codes,
        ),
        Trial::test(
            "test_runner::files_run_as_scripts_and_print_aside",
            files_run_as_scripts_and_print_aside,
        ),
        Trial::test(
            "test_runner::os_exit_fails_the_test",
            os_exit_fails_the_test,
        ),
        Trial::test(
            "test_runner::timeout_keeps_finished_cases",
            timeout_keeps_finished_cases,
        ),
        Trial::test(
            "test_runner::leaked_async_work_fails_its_test",
            leaked_async_work_fails_its_test,
        ),
        Trial::test(
            "test_runner::stuck_file_is_reported",
            stuck_file_is_reported,
        ),
        Trial::test(
            "test_runner::globals_cannot_corrupt_the_runner",
            globals_cannot_corrupt_the_runner,
        ),
        Trial::test(
            "test_runner::invalid_utf8_is_shown_lossily",
            invalid_utf8_is_shown_lossily,
        ),
        Trial::test(
            "test_runner::filter_matching_nothing_and_tiny_timeout",
            filter_matching_nothing_and_tiny_timeout,
        ),
        Trial::test(
            "test_runner::kept_results_count_against_the_memory_limit",
            kept_results_count_against_the_memory_limit,
        ),
        Trial::test("test_runner::e2e_dogfood", e2e_dogfood),
    ]
}
