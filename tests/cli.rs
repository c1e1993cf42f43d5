//! Command-line cases that a suite file cannot express: shebang execution, standard input,
//! usage errors and their exit codes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use assay_tests::{Run, assay, assay_bin, run};
use libtest_mimic::{Failed, Trial};

const TIMEOUT: Duration = Duration::from_secs(30);

fn expect(run: &Run, code: i32, stdout: &str, stderr: &str) -> Result<(), Failed> {
    Ok(run.expect(code, stdout, stderr)?)
}

fn assay_with(args: &[&str], stdin: Option<&str>) -> Result<Run, Failed> {
    let mut cmd = assay();
    cmd.args(args);
    Ok(run(cmd, stdin, TIMEOUT)?)
}

fn version() -> Result<(), Failed> {
    let r = assay_with(&["--version"], None)?;
    expect(&r, 0, &format!("assay {}", env!("CARGO_PKG_VERSION")), "")?;
    expect(&r, 0, "Lua 5.5", "")
}

fn execute_chunk() -> Result<(), Failed> {
    let r = assay_with(&["-e", "print(json.encode({a=1}))"], None)?;
    if r.stdout != "{\"a\":1}\n" {
        return Err(format!("unexpected output\n{}", r.describe()).into());
    }
    expect(&r, 0, "", "")
}

fn shebang_script_with_args() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("s.lua");
    std::fs::write(
        &script,
        "#!/usr/bin/env assay\nassert(arg[1] == 'a' and arg[2] == 'b', 'args')\nlocal x, y = ...\nprint(arg[0], x, y, #arg)\n",
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    let bin_dir = assay_bin()
        .parent()
        .ok_or("binary has no folder")?
        .to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("./s.lua");
    cmd.args(["a", "b"])
        .current_dir(dir.path())
        .env("PATH", path);
    let r = run(cmd, None, TIMEOUT)?;
    expect(&r, 0, "./s.lua\ta\tb\t2", "")
}

fn flags_after_the_script_belong_to_it() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("args.lua");
    std::fs::write(&script, "print(table.concat(arg, ','))\nprint(io ~= nil)")?;
    let r = assay_with(
        &[&script.display().to_string(), "--sandbox", "-e", "x"],
        None,
    )?;
    expect(&r, 0, "--sandbox,-e,x\ntrue", "")
}

fn script_from_stdin() -> Result<(), Failed> {
    let r = assay_with(&["-", "x"], Some("print('from stdin', ...)"))?;
    expect(&r, 0, "from stdin\tx", "")?;
    let r = assay_with(&[], Some("print(40 + 2)"))?;
    expect(&r, 0, "42", "")
}

/// A script starting with a UTF-8 byte-order mark runs, as `lua` runs it (and so does one read
/// from standard input), before a shebang too, keeping line numbers.
fn byte_order_mark_is_skipped() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let plain = dir.path().join("bom.lua");
    std::fs::write(&plain, b"\xEF\xBB\xBFprint('bom ok')\n")?;
    let r = assay_with(&[&plain.display().to_string()], None)?;
    expect(&r, 0, "bom ok", "")?;
    let shebang = dir.path().join("bom_shebang.lua");
    std::fs::write(
        &shebang,
        b"\xEF\xBB\xBF#!/usr/bin/env assay\nprint('line', debug.getinfo(1, 'l').currentline)\n",
    )?;
    let r = assay_with(&[&shebang.display().to_string()], None)?;
    expect(&r, 0, "line\t2", "")?;
    let r = assay_with(&["-"], Some("\u{FEFF}#!shebang\nprint('stdin bom ok')"))?;
    expect(&r, 0, "stdin bom ok", "")
}

/// `arg` and `...` as `lua` sets them: the script at 0, the options before it at -1, -2...; a
/// `-e` chunk sees `arg` but no `...`; with no script, the program is at 0; standard input's
/// script is `-`.
fn arg_as_lua_sets_it() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("s.lua");
    std::fs::write(
        &script,
        "print('script', arg[0], arg[1], arg[2], select('#', ...), ...)",
    )?;
    let path = script.display().to_string();
    let e = "print('e', arg[0], arg[1], arg[-1], arg[-2], arg[-4], select('#', ...))";
    let r = assay_with(&["-e", e, "--memory-limit", "0", &path, "a", "b"], None)?;
    expect(
        &r,
        0,
        &format!("e\t{path}\ta\t0\t--memory-limit\t-e\t0\nscript\t{path}\ta\tb\t2\ta\tb\n"),
        "",
    )?;
    let r = assay_with(
        &[
            "-e",
            "print(#arg, arg[1], arg[2] == arg[2], select('#', ...))",
        ],
        None,
    )?;
    expect(&r, 0, "2\t-e\ttrue\t0", "")?;
    let r = assay_with(
        &["-e", "print(arg[0] == arg[-0], arg[0]:match('assay$'))"],
        None,
    )?;
    expect(&r, 0, "true\tassay", "")?;
    let r = assay_with(&["-", "x"], Some("print(arg[0], arg[1], ...)"))?;
    expect(&r, 0, "-\tx\tx", "")?;
    let r = assay_with(&[], Some("print(arg[0]:match('assay$'), #arg)"))?;
    expect(&r, 0, "assay\t0", "")
}

/// `assay help` is `assay --help`.
fn help_subcommand() -> Result<(), Failed> {
    let r = assay_with(&["help"], None)?;
    expect(&r, 0, "Usage: assay [OPTIONS] [SCRIPT [ARGS...]]", "")?;
    let r = assay_with(&["help", "me"], None)?;
    expect(&r, 2, "", "help:")
}

/// `assay packages --json`: each package of the resolver's fixtures with its verdict, as
/// `require` would give it; a shadowed one names what hides it; `--sandbox` checks as a
/// sandboxed script would load them.
fn packages_listing() -> Result<(), Failed> {
    let fixtures = assay_tests::tests_dir().join("lua/resolver/fixtures");
    let lib_path = format!(
        "{}:{}:{}",
        fixtures.join("lib").display(),
        fixtures.join("lib2").display(),
        assay_tests::built_plugins().display()
    );
    let verdicts = |sandbox: bool| -> Result<serde_json::Value, Failed> {
        let mut args = vec!["packages", "--json", "--lib-path", lib_path.as_str()];
        if sandbox {
            args.push("--sandbox");
        }
        let r = assay_with(&args, None)?;
        expect(&r, 0, "\"packages\"", "")?;
        let listing: serde_json::Value = serde_json::from_str(&r.stdout)?;
        let mut out = serde_json::Map::new();
        for p in listing["packages"].as_array().ok_or("no packages")? {
            let key = format!("{} {}", p["name"].as_str().unwrap_or("?"), p["root"]);
            let reason = p["reason"]
                .as_str()
                .or(p["shadowed_by"].as_str())
                .unwrap_or("");
            out.insert(key, serde_json::json!([p["status"], reason, p["version"]]));
        }
        Ok(serde_json::Value::Object(out))
    };
    let plain = verdicts(false)?;
    let find = |v: &serde_json::Value, name: &str| -> Result<serde_json::Value, Failed> {
        let (_, verdict) = v
            .as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.starts_with(&format!("{name} "))))
            .ok_or_else(|| format!("{name} not listed: {v:#}"))?;
        Ok(verdict.clone())
    };
    let check = |v: &serde_json::Value, name: &str, status: &str, reason: &str| {
        let verdict = find(v, name)?;
        if verdict[0] != status || !verdict[1].as_str().unwrap_or("").contains(reason) {
            return Err(Failed::from(format!("{name}: {verdict} in {v:#}")));
        }
        Ok(())
    };
    check(&plain, "pkg", "usable", "")?;
    check(
        &plain,
        "wants_newer",
        "refused",
        "needs package 'pkg' ^9, but pkg 1.2.0 is installed",
    )?;
    check(
        &plain,
        "needs_unknown",
        "refused",
        "json.parse_fast, which this core does not provide",
    )?;
    check(&plain, "future", "refused", "requires assay >=99")?;
    check(&plain, "needs_fs", "usable", "")?;
    check(&plain, "other", "usable", "")?;
    let shadowed = plain.as_object().map(|m| {
        m.iter()
            .filter(|(k, v)| k.starts_with("pkg ") && v[0] == "shadowed")
            .count()
    });
    if shadowed != Some(1) {
        return Err(format!("lib2's pkg should be shadowed: {plain:#}").into());
    }
    let sandboxed = verdicts(true)?;
    check(
        &sandboxed,
        "needs_fs",
        "refused",
        "fs.read, which is not available in sandbox",
    )?;
    // A package is as usable as its dependencies.
    check(&plain, "wants_needs_fs", "usable", "")?;
    check(
        &sandboxed,
        "wants_needs_fs",
        "refused",
        "needs package 'needs_fs' >=0.1, <0.2, which cannot be used here: package 'needs_fs' \
         needs fs.read, which is not available in sandbox",
    )?;
    check(&sandboxed, "needs_http", "usable", "")
}

/// `--lib-path` (global or a subcommand's) is exported as `ASSAY_LIB_PATH`: a child assay sees
/// the same roots.
fn lib_path_flag_is_exported() -> Result<(), Failed> {
    let child = r#"print(process.run({"/proc/self/exe", "-e", "print(env.get('ASSAY_LIB_PATH'))"}).stdout)"#;
    let r = assay_with(&["--lib-path", "/x/one:/x/two", "-e", child], None)?;
    expect(&r, 0, "/x/one:/x/two\n", "")?;
    let dir = std::env::temp_dir().join(format!("assay-lib-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("export_test.lua");
    std::fs::write(
        &file,
        "test('exported', function() assert.eq(env.get('ASSAY_LIB_PATH'), '/y/lib') end)\n",
    )
    .map_err(|e| e.to_string())?;
    let path = file.to_string_lossy().into_owned();
    let r = assay_with(
        &["test", "--lib-path", "/y/lib", "--format", "tap", &path],
        None,
    );
    let _ = std::fs::remove_dir_all(&dir);
    expect(&r?, 0, "ok 1", "")
}

/// `assay package DIR`: the archive (the same bytes from the same folder) and its index entry.
fn package_writes_a_reproducible_archive() -> Result<(), Failed> {
    let stdlib = assay_tests::tests_dir().join("../stdlib/vault");
    let stdlib = stdlib.display().to_string();
    let mut shas = Vec::new();
    for _ in 0..2 {
        let out = tempfile::tempdir()?;
        let r = assay_with(
            &[
                "package",
                &stdlib,
                "--out",
                &out.path().display().to_string(),
            ],
            None,
        )?;
        expect(&r, 0, "\"file\":\"vault-", "")?;
        let entry: serde_json::Value = serde_json::from_str(r.stdout.trim())?;
        let file = out.path().join(entry["file"].as_str().unwrap_or_default());
        let bytes = std::fs::read(&file)?;
        if entry["size"] != bytes.len() || entry["name"] != "vault" {
            return Err(format!("entry does not describe the archive: {entry}").into());
        }
        if entry["depends"]["apiclient"] != ">=0.1, <0.2" {
            return Err(format!("depends missing: {entry}").into());
        }
        shas.push(entry["sha256"].clone());
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    if shas[0] != shas[1] {
        return Err(format!("two packings differ: {shas:?}").into());
    }
    let r = assay_with(&["package", "/nonexistent/pkg"], None)?;
    expect(
        &r,
        1,
        "",
        "assay: package: /nonexistent/pkg: not a package (manifest.yaml is missing)",
    )
}

/// `scripts/registry.lua`: the same stdlib gives the same registry; a changed package under a
/// published version is refused and the published archive stays as it was.
fn registry_script_is_reproducible_and_append_only() -> Result<(), Failed> {
    let repo = assay_tests::tests_dir().join("..");
    let build = |out: &Path, stdlib: &Path| -> Result<Run, Failed> {
        let mut cmd = assay();
        cmd.current_dir(&repo).args([
            "scripts/registry.lua",
            &out.display().to_string(),
            &stdlib.display().to_string(),
        ]);
        Ok(run(cmd, None, Duration::from_secs(120))?)
    };
    let (a, b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let stdlib = repo.join("stdlib");
    for out in [a.path(), b.path()] {
        expect(&build(out, &stdlib)?, 0, "wrote ", "")?;
    }
    let index = |d: &Path| std::fs::read(d.join("index.json"));
    if index(a.path())? != index(b.path())? {
        return Err("two registries from the same stdlib differ".into());
    }
    let changed = tempfile::tempdir()?;
    let dex = changed.path().join("dex");
    std::fs::create_dir_all(&dex)?;
    for file in ["manifest.yaml", "init.lua"] {
        std::fs::copy(stdlib.join("dex").join(file), dex.join(file))?;
    }
    std::fs::write(dex.join("extra.lua"), "return 1\n")?;
    let before = std::fs::read(a.path().join("dex-0.1.0.tar.gz"))?;
    expect(
        &build(a.path(), changed.path())?,
        1,
        "",
        "dex 0.1.0 is already published with sha256",
    )?;
    if std::fs::read(a.path().join("dex-0.1.0.tar.gz"))? != before
        || index(a.path())? != index(b.path())?
    {
        return Err("a refused publication changed the registry".into());
    }
    Ok(())
}

fn missing_script_is_a_usage_error() -> Result<(), Failed> {
    let r = assay_with(&["/nonexistent/x.lua"], None)?;
    expect(&r, 2, "", "assay: cannot read /nonexistent/x.lua")
}

fn bad_flags_are_usage_errors() -> Result<(), Failed> {
    let r = assay_with(&["--memory-limit", "lots", "-e", "print(1)"], None)?;
    expect(&r, 2, "", "--memory-limit: 'lots' is not a size")?;
    let r = assay_with(&["--no-such-flag"], None)?;
    expect(&r, 2, "", "--no-such-flag")?;
    let mut cmd = assay();
    cmd.env("ASSAY_LOG", "loud").args(["-e", "print(1)"]);
    let r = run(cmd, None, TIMEOUT)?;
    expect(&r, 2, "", "ASSAY_LOG=\"loud\" is not a level")
}

fn os_exit_sets_the_code() -> Result<(), Failed> {
    let r = assay_with(&["-e", "print('bye') os.exit(7)"], None)?;
    expect(&r, 7, "bye", "")
}

fn syntax_error_names_file_and_line() -> Result<(), Failed> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("bad.lua");
    std::fs::write(&script, "local x = 1\nlocal y = = 2\n")?;
    let r = assay_with(&[&script.display().to_string()], None)?;
    expect(&r, 1, "", &format!("{}:2:", script.display()))
}

/// `examples/embed`, built by `cargo build --workspace`, runs a sandboxed chunk with a host global.
fn embed_example() -> Result<(), Failed> {
    let bin = assay_bin().with_file_name("assay-embed-example");
    if !bin.exists() {
        return Err(format!(
            "{} is not built (cargo build --release --workspace)",
            bin.display()
        )
        .into());
    }
    let r = run(Command::new(bin), None, TIMEOUT)?;
    expect(
        &r,
        0,
        "embed-example: {\"retries\":3,\"targets\":[\"a\",\"b\"]}",
        "",
    )
}

/// The README's tour of the builtins is a script that must keep running as written.
fn readme_tour_runs() -> Result<(), Failed> {
    let readme = std::fs::read_to_string(assay_tests::tests_dir().join("../README.md"))?;
    let start = readme
        .find("```lua\n-- json")
        .ok_or("README has no builtins tour")?
        + "```lua\n".len();
    let len = readme[start..].find("```").ok_or("unterminated tour")?;
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("tour.lua");
    std::fs::write(&script, &readme[start..start + len])?;
    let r = assay_with(&[&script.display().to_string()], None)?;
    expect(
        &r,
        0,
        "{\"items\":[],\"n\":1,\"x\":null}\n[]\t{}",
        "INFO  deployed app=web replicas=3",
    )?;
    expect(&r, 0, "id=42\t1\t5\t42\tid\na+b+c\n5\tfalse\n", "")?;
    expect(&r, 0, "a,b", "")
}

/// The README's crypto example runs as written, against the built plugins.
fn readme_crypto_runs() -> Result<(), Failed> {
    let readme = std::fs::read_to_string(assay_tests::tests_dir().join("../README.md"))?;
    let start = readme
        .find("```lua\n-- crypto")
        .ok_or("README has no crypto example")?
        + "```lua\n".len();
    let len = readme[start..].find("```").ok_or("unterminated example")?;
    let mut cmd = assay();
    cmd.env("ASSAY_LIB_PATH", assay_tests::built_plugins())
        .args(["-e", &readme[start..start + len]]);
    let r = run(cmd, None, TIMEOUT)?;
    expect(
        &r,
        0,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
        "",
    )?;
    expect(&r, 0, "deployer\tHS256", "")?;
    // crypto.random is hex unless told otherwise, as the example says
    expect(&r, 0, "64\t32\n", "")
}

/// The README's `process` example runs as written and prints what its comments say.
fn readme_process_runs() -> Result<(), Failed> {
    let readme = std::fs::read_to_string(assay_tests::tests_dir().join("../README.md"))?;
    let start = readme
        .find("```lua\n-- process")
        .ok_or("README has no process example")?
        + "```lua\n".len();
    let len = readme[start..].find("```").ok_or("unterminated example")?;
    let r = assay_with(&["-e", &readme[start..start + len]], None)?;
    expect(&r, 0, "false\t2\t3\n3a6eb0790f39\n15\n", "")
}

/// Runs `script` in `shell` with the completions `assay completions <shell>` prints loaded.
fn in_shell(shell: &str, script: &str) -> Result<Run, Failed> {
    let completions = assay_with(&["completions", shell], None)?;
    expect(&completions, 0, "", "")?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join(format!("assay.{shell}"));
    std::fs::write(&file, &completions.stdout)?;
    let mut cmd = Command::new(shell);
    match shell {
        "zsh" => cmd.arg("-fc"),
        _ => cmd.arg("-c"),
    };
    cmd.arg(script.replace("FILE", &file.display().to_string()));
    cmd.current_dir(dir.path());
    Ok(run(cmd, None, TIMEOUT)?)
}

/// The completion scripts load in real bash, zsh and fish and offer the subcommands, their
/// flags and their values (bash and fish answer without a terminal; zsh is loaded and its
/// function registered).
fn completions_load_in_their_shells() -> Result<(), Failed> {
    let bash = in_shell(
        "bash",
        "source FILE\n\
         t() { COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _assay; echo \"${COMPREPLY[*]}\"; }\n\
         t assay ch; t assay check --fo; t assay check --format ''; t assay completions ''; t assay plugins --",
    )?;
    expect(
        &bash,
        0,
        "check\n--format\ntext json junit tap\nbash zsh fish\n--json --lib-path --help\n",
        "",
    )?;
    let fish = in_shell(
        "fish",
        "source FILE; complete -C 'assay check --fo'; complete -C 'assay test --format '; complete -C 'assay compl'",
    )?;
    expect(&fish, 0, "--format\tReport as text, json, junit or tap", "")?;
    expect(&fish, 0, "junit", "")?;
    expect(&fish, 0, "completions\tPrint shell completions", "")?;
    let zsh = in_shell(
        "zsh",
        "autoload -U compinit && compinit -u -d ./zcompdump && source FILE && print -r -- $_comps[assay]",
    )?;
    expect(&zsh, 0, "_assay", "")
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("cli::version", version),
        Trial::test("cli::execute_chunk", execute_chunk),
        Trial::test("cli::shebang_script_with_args", shebang_script_with_args),
        Trial::test(
            "cli::flags_after_the_script_belong_to_it",
            flags_after_the_script_belong_to_it,
        ),
        Trial::test("cli::script_from_stdin", script_from_stdin),
        Trial::test(
            "cli::byte_order_mark_is_skipped",
            byte_order_mark_is_skipped,
        ),
        Trial::test("cli::arg_as_lua_sets_it", arg_as_lua_sets_it),
        Trial::test("cli::help_subcommand", help_subcommand),
        Trial::test("cli::packages_listing", packages_listing),
        Trial::test("cli::lib_path_flag_is_exported", lib_path_flag_is_exported),
        Trial::test(
            "cli::package_writes_a_reproducible_archive",
            package_writes_a_reproducible_archive,
        ),
        Trial::test(
            "cli::registry_script_is_reproducible_and_append_only",
            registry_script_is_reproducible_and_append_only,
        ),
        Trial::test(
            "cli::missing_script_is_a_usage_error",
            missing_script_is_a_usage_error,
        ),
        Trial::test(
            "cli::bad_flags_are_usage_errors",
            bad_flags_are_usage_errors,
        ),
        Trial::test("cli::os_exit_sets_the_code", os_exit_sets_the_code),
        Trial::test(
            "cli::syntax_error_names_file_and_line",
            syntax_error_names_file_and_line,
        ),
        Trial::test(
            "cli::completions_load_in_their_shells",
            completions_load_in_their_shells,
        ),
        Trial::test("embed::example_runs", embed_example),
        Trial::test("readme::tour_runs", readme_tour_runs),
        Trial::test("readme::crypto_runs", readme_crypto_runs),
        Trial::test("readme::process_runs", readme_process_runs),
    ]
}
