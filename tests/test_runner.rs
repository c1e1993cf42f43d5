//! `assay test` on a folder of test files, and the dogfood in `tests/e2e/`: a check file and
//! a test folder that verify Assay itself.

use std::time::Duration;

use assay_tests::{Run, assay_with_plugin, run, tests_dir};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(60);

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
    Ok(run(cmd, None, TIMEOUT)?)
}

fn names(run: &Run) -> Result<Vec<(String, bool)>, Failed> {
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
            )
        })
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
        Trial::test("test_runner::e2e_dogfood", e2e_dogfood),
    ]
}
