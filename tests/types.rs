//! `assay types`: the definitions it writes, checked by a real type checker (`emmylua_check`,
//! from crates.io, provided by `tests/conformance/ensure-emmylua`), and its `.luarc.json`.
//!
//! The projects are `tests/types/`: `good.lua` uses every core global, every plugin, a stdlib
//! package and a package of the project's own `lua_modules/` as documented, and must pass with
//! no diagnostic at all; `bad.lua` misuses them, each line marked with the diagnostic it must
//! get (`--! <code> <text>`), and no unmarked line may get one.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use assay_tests::{Run, assay, built_plugins, run, tests_dir};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;

/// emmylua_check, installed on first use when missing; a checker that cannot be had fails
/// the test with the script's reason: nothing is skipped.
fn emmylua_check() -> Result<&'static Path, Failed> {
    static CHECKER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = CHECKER.get_or_init(|| {
        let script = tests_dir().join("conformance/ensure-emmylua");
        let mut cmd = std::process::Command::new("bash");
        cmd.arg(&script);
        let out = run(cmd, None, Duration::from_secs(1800))
            .map_err(|e| format!("{}: {e}", script.display()))?;
        match out.code {
            Some(0) => Ok(PathBuf::from(out.stdout.trim())),
            _ => Err(format!(
                "emmylua_check is missing and ensure-emmylua could not install it:\n{}",
                out.describe()
            )),
        }
    });
    found.as_deref().map_err(|e| Failed::from(e.as_str()))
}

/// The lib path of the tests: the plugins cargo built, then the repository's stdlib.
fn lib_path() -> String {
    format!(
        "{}:{}",
        built_plugins().display(),
        tests_dir().join("../stdlib").display()
    )
}

fn types_in(dir: &Path) -> Result<Run, Failed> {
    let mut cmd = assay();
    cmd.args(["types", "--lib-path", &lib_path()])
        .current_dir(dir);
    Ok(run(cmd, None, Duration::from_secs(60))?)
}

/// A project: `assay.yaml`, `main.lua` from `tests/types/<main>`, a test file, and the
/// `greeting` package in its `lua_modules/`; then `assay types` in it.
fn project(main: &str) -> Result<tempfile::TempDir, Failed> {
    let dir = tempfile::tempdir()?;
    let fixtures = tests_dir().join("types");
    std::fs::write(
        dir.path().join("assay.yaml"),
        "name: typed\nversion: 0.1.0\n",
    )?;
    std::fs::copy(fixtures.join(main), dir.path().join("main.lua"))?;
    std::fs::create_dir_all(dir.path().join("tests"))?;
    std::fs::copy(
        fixtures.join("good_cases.lua"),
        dir.path().join("tests/main_test.lua"),
    )?;
    let package = dir.path().join("lua_modules/greeting");
    std::fs::create_dir_all(&package)?;
    std::fs::copy(fixtures.join("greeting/init.lua"), package.join("init.lua"))?;
    let r = types_in(dir.path())?;
    if r.code != Some(0) {
        return Err(format!("assay types failed:\n{}", r.describe()).into());
    }
    for expected in ["plugins: crypto, db, http, template, ws", "greeting", "k8s"] {
        if !r.stdout.contains(expected) {
            return Err(format!("assay types did not list {expected}:\n{}", r.describe()).into());
        }
    }
    Ok(dir)
}

/// One diagnostic: file name, 1-based line, code, message.
type Diagnostic = (String, u64, String, String);

/// Runs emmylua_check on `dir`: the files it checked and their diagnostics.
fn check(dir: &Path) -> Result<(Vec<String>, Vec<Diagnostic>), Failed> {
    let mut cmd = std::process::Command::new(emmylua_check()?);
    cmd.args(["--output-format", "json", "."]).current_dir(dir);
    let r = run(cmd, None, Duration::from_secs(300))?;
    let start = r
        .stdout
        .find('[')
        .ok_or_else(|| format!("emmylua_check gave no JSON report:\n{}", r.describe()))?;
    let end = r.stdout.rfind(']').unwrap_or(r.stdout.len() - 1);
    let report: Value = serde_json::from_str(&r.stdout[start..=end])
        .map_err(|e| format!("emmylua_check's report: {e}\n{}", r.describe()))?;
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    for entry in report.as_array().ok_or("the report is not a list")? {
        let file = entry["file"].as_str().unwrap_or_default();
        let relative = Path::new(file)
            .strip_prefix(dir.canonicalize()?)
            .or_else(|_| Path::new(file).strip_prefix(dir))
            .map_or_else(|_| file.to_owned(), |p| p.display().to_string());
        for d in entry["diagnostics"].as_array().into_iter().flatten() {
            diagnostics.push((
                relative.clone(),
                d["range"]["start"]["line"].as_u64().unwrap_or(0) + 1,
                d["code"].as_str().unwrap_or_default().to_owned(),
                d["message"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        files.push(relative);
    }
    files.sort();
    Ok((files, diagnostics))
}

fn shown(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|(f, l, c, m)| format!("{f}:{l}: [{c}] {m}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every core global, plugin and package used as documented: no diagnostic at all, and the
/// definitions themselves are library files, not checked as the project's.
fn good_project_passes() -> Result<(), Failed> {
    let dir = project("good.lua")?;
    let (files, diagnostics) = check(dir.path())?;
    if !diagnostics.is_empty() {
        return Err(format!("diagnostics in the good project:\n{}", shown(&diagnostics)).into());
    }
    if files != ["main.lua", "tests/main_test.lua"] {
        return Err(format!("checked files: {files:?}").into());
    }
    Ok(())
}

/// Each misuse in `bad.lua` reported on its line with its code; nothing else reported.
fn misuses_are_reported() -> Result<(), Failed> {
    let dir = project("bad.lua")?;
    let source = std::fs::read_to_string(tests_dir().join("types/bad.lua"))?;
    let (_, diagnostics) = check(dir.path())?;
    let mut expected = Vec::new();
    for (i, line) in source.lines().enumerate() {
        if let Some((_, mark)) = line.split_once("--! ") {
            let (code, text) = mark.split_once(' ').unwrap_or((mark, ""));
            expected.push((i as u64 + 1, code.to_owned(), text.to_owned()));
        }
    }
    if expected.len() < 15 {
        return Err("bad.lua lost its marks".into());
    }
    let mut problems = Vec::new();
    for (line, code, text) in &expected {
        let hit = diagnostics
            .iter()
            .any(|(f, l, c, m)| f == "main.lua" && l == line && c == code && m.contains(text));
        if !hit {
            problems.push(format!("line {line}: no [{code}] containing '{text}'"));
        }
    }
    for d in &diagnostics {
        if !expected
            .iter()
            .any(|(line, _, _)| d.0 == "main.lua" && d.1 == *line)
        {
            problems.push(format!("unexpected: {}", shown(std::slice::from_ref(d))));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}\nall diagnostics:\n{}",
        problems.join("\n"),
        shown(&diagnostics)
    )
    .into())
}

/// Every file under `dir`, with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, Failed> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.strip_prefix(dir)?.to_owned(), std::fs::read(&path)?));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// An existing `.luarc.json` keeps the user's settings; a second run writes the same bytes.
fn luarc_is_merged_and_runs_repeat() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let user = r#"{
  "diagnostics": {"globals": ["ngx"], "disable": ["lowercase-global"]},
  "runtime": {"version": "Lua 5.4", "path": ["src/?.lua"]},
  "workspace": {"library": ["/opt/lua-libs"], "checkThirdParty": false},
  "hint.enable": true
}"#;
    std::fs::write(dir.path().join(".luarc.json"), user)?;
    let r = types_in(dir.path())?;
    if r.code != Some(0) || !r.stdout.contains("updated ./.luarc.json") {
        return Err(format!("assay types:\n{}", r.describe()).into());
    }
    let luarc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(".luarc.json"))?)?;
    let wanted = serde_json::json!({
        "diagnostics": {"globals": ["ngx"], "disable": ["lowercase-global"]},
        "runtime": {"version": "Lua 5.5", "path": ["src/?.lua"]},
        "workspace": {
            "library": ["/opt/lua-libs", ".assay/types"],
            "checkThirdParty": false,
            "ignoreDir": ["lua_modules"]
        },
        "hint.enable": true
    });
    if luarc != wanted {
        return Err(format!("merged .luarc.json: {luarc:#}").into());
    }
    let first = snapshot(dir.path())?;
    let r = types_in(dir.path())?;
    if r.code != Some(0) {
        return Err(format!("second run:\n{}", r.describe()).into());
    }
    let second = snapshot(dir.path())?;
    if first != second {
        let paths = |s: &[(PathBuf, Vec<u8>)]| s.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
        return Err(format!(
            "the second run changed the files: {:?} vs {:?}",
            paths(&first),
            paths(&second)
        )
        .into());
    }
    if !first
        .iter()
        .any(|(p, _)| p == Path::new(".assay/types/plugins/http.lua"))
    {
        return Err("no http definitions written".into());
    }
    Ok(())
}

/// Mistakes are errors naming what is wrong, and nothing is written.
fn mistakes_are_named() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join(".luarc.json"), "{\"workspace\": ")?;
    let r = types_in(dir.path())?;
    if r.code != Some(1) || !r.stderr.contains(".luarc.json: not valid JSON") {
        return Err(format!("a broken .luarc.json:\n{}", r.describe()).into());
    }
    if std::fs::read_to_string(dir.path().join(".luarc.json"))? != "{\"workspace\": " {
        return Err("the broken .luarc.json was changed".into());
    }
    let mut cmd = assay();
    cmd.args(["types", "/nonexistent/folder"]);
    let r = run(cmd, None, Duration::from_secs(30))?;
    if r.code != Some(1) || !r.stderr.contains("/nonexistent/folder: not a folder") {
        return Err(format!("a missing folder:\n{}", r.describe()).into());
    }
    Ok(())
}

/// Every function of every core global and plugin global, as a VM has them, is declared in
/// the definitions (`function <global>.<name>(`, or `---@field <name>` for a value), and so
/// is every check `assert` makes (`core/src/builtins/assert.rs`): a builtin added without its
/// definition fails here.
fn definitions_cover_every_function() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let r = types_in(dir.path())?;
    if r.code != Some(0) {
        return Err(format!("assay types:\n{}", r.describe()).into());
    }
    let mut defs = String::new();
    for (path, bytes) in snapshot(&dir.path().join(".assay/types"))? {
        if path.starts_with("core") || path.starts_with("plugins") {
            defs.push_str(&String::from_utf8(bytes)?);
        }
    }
    let script = r#"
for _, name in ipairs{"json", "yaml", "toml", "base64", "hex", "uuid", "url", "compress",
    "regex", "fs", "env", "log", "process", "time", "async",
    "http", "db", "ws", "crypto", "template"} do
  local t = _G[name]
  local _ = t.x -- fills a lazy global
  for k, v in pairs(t) do print(name, k, type(v)) end
end"#;
    let mut cmd = assay();
    cmd.args(["--lib-path", &lib_path(), "-e", script]);
    let listed = run(cmd, None, Duration::from_secs(60))?;
    if listed.code != Some(0) || listed.stdout.lines().count() < 80 {
        return Err(format!("listing the globals:\n{}", listed.describe()).into());
    }
    let mut missing = Vec::new();
    for line in listed.stdout.lines() {
        let mut words = line.split('\t');
        let (Some(global), Some(key), Some(kind)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let declared = match kind {
            "function" => defs.contains(&format!("function {global}.{key}(")),
            _ => defs.contains(&format!("---@field {key} ")),
        };
        if !declared {
            missing.push(format!("{global}.{key} ({kind})"));
        }
    }
    let assert_source =
        std::fs::read_to_string(tests_dir().join("../core/src/builtins/assert.rs"))?;
    let checks = regex::Regex::new(r#"b"(\w+)" =>"#)?;
    let mut found_checks = 0;
    for caps in checks.captures_iter(&assert_source) {
        found_checks += 1;
        if !defs.contains(&format!("function checks.{}(", &caps[1])) {
            missing.push(format!("assert.{}", &caps[1]));
        }
    }
    if found_checks < 10 {
        return Err("assert.rs no longer lists its checks as b\"name\" =>".into());
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!("not in the definitions: {}", missing.join(", ")).into())
}

/// `assay init` makes a project the checker passes clean, with its definitions already in
/// place; a misspelled `http.gett` added to it is caught.
fn an_init_project_checks_clean_and_catches_a_misspelling() -> Result<(), Failed> {
    let parent = tempfile::tempdir()?;
    let dir = parent.path().join("job");
    let mut cmd = assay();
    cmd.args(["init", "--lib-path", &lib_path()])
        .arg(&dir)
        .env("XDG_DATA_HOME", parent.path().join(".data"));
    let r = run(cmd, None, Duration::from_secs(60))?;
    r.expect(0, "", "created project job")?;
    let (files, diagnostics) = check(&dir)?;
    if !diagnostics.is_empty() {
        return Err(format!("diagnostics in the new project:\n{}", shown(&diagnostics)).into());
    }
    if files != ["app.lua", "main.lua", "tests/main_test.lua"] {
        return Err(format!("checked files: {files:?}").into());
    }
    let main = dir.join("main.lua");
    let mut text = std::fs::read_to_string(&main)?;
    text.push_str("local resp = http.gett(\"http://127.0.0.1:1/\")\n");
    std::fs::write(&main, text)?;
    let (_, diagnostics) = check(&dir)?;
    if !diagnostics
        .iter()
        .any(|(f, _, _, m)| f == "main.lua" && m.contains("gett"))
    {
        return Err(format!("http.gett not reported:\n{}", shown(&diagnostics)).into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("types::good_project_passes", good_project_passes),
        Trial::test(
            "types::an_init_project_checks_clean_and_catches_a_misspelling",
            an_init_project_checks_clean_and_catches_a_misspelling,
        ),
        Trial::test("types::misuses_are_reported", misuses_are_reported),
        Trial::test(
            "types::luarc_is_merged_and_runs_repeat",
            luarc_is_merged_and_runs_repeat,
        ),
        Trial::test("types::mistakes_are_named", mistakes_are_named),
        Trial::test(
            "types::definitions_cover_every_function",
            definitions_cover_every_function,
        ),
    ]
}
