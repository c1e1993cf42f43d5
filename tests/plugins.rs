//! The plugin host seen from outside: refusals (one line each, other scripts unaffected), the
//! `assay plugins` listing, laziness (no library mapped by a script that uses none), the `dist/`
//! tree, and the third-party example built from its own Cargo.toml.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use assay_tests::{Run, assay, assay_bin, built_plugins, run, tests_dir};
use libtest_mimic::{Failed, Trial};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Copies built plugin `name` (manifest and library, links followed) into `root/plugins/<as>`.
fn install(root: &Path, name: &str, as_name: &str) -> Result<PathBuf, Failed> {
    let from = built_plugins().join("plugins").join(name);
    let to = root.join("plugins").join(as_name);
    std::fs::create_dir_all(&to)?;
    for entry in std::fs::read_dir(&from)
        .map_err(|e| format!("{}: {e} (build the workspace first)", from.display()))?
    {
        let path = entry?.path();
        let file = path.file_name().ok_or("nameless file")?;
        std::fs::copy(&path, to.join(file)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(to)
}

fn edit_manifest(dir: &Path, from: &str, to: &str) -> Result<(), Failed> {
    let path = dir.join("manifest.yaml");
    let text = std::fs::read_to_string(&path)?;
    if !text.contains(from) {
        return Err(format!("{} has no {from:?}:\n{text}", path.display()).into());
    }
    std::fs::write(&path, text.replacen(from, to, 1))?;
    Ok(())
}

/// Replaces the manifest's `requires.assay` line.
fn require_core(dir: &Path, requirement: &str) -> Result<(), Failed> {
    let path = dir.join("manifest.yaml");
    let text = std::fs::read_to_string(&path)?;
    let edited: Vec<String> = text
        .lines()
        .map(|line| match line.trim_start().starts_with("assay:") {
            true => format!("  assay: \"{requirement}\""),
            false => line.to_owned(),
        })
        .collect();
    if edited.join("\n") == text.trim_end() {
        return Err(format!("{} has no requires.assay line:\n{text}", path.display()).into());
    }
    std::fs::write(&path, edited.join("\n") + "\n")?;
    Ok(())
}

fn library_of(dir: &Path) -> Result<PathBuf, Failed> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "so") {
            return Ok(path);
        }
    }
    Err(format!("no library in {}", dir.display()).into())
}

fn run_with(lib_path: &str, args: &[&str]) -> Result<Run, Failed> {
    let mut cmd = assay();
    cmd.env("ASSAY_LIB_PATH", lib_path).args(args);
    Ok(run(cmd, None, TIMEOUT)?)
}

/// The script fails with exactly the refusal (a few lines: message plus a short traceback).
fn expect_refusal(run: &Run, needle: &str) -> Result<(), Failed> {
    let lines = run.stderr.lines().count();
    if run.code == Some(1) && run.stderr.contains(needle) && lines <= 4 {
        Ok(())
    } else {
        Err(format!(
            "expected exit 1 and a short refusal containing {needle:?}\n{}",
            run.describe()
        )
        .into())
    }
}

fn expect_ok(run: &Run, stdout: &str) -> Result<(), Failed> {
    if run.code == Some(0) && run.stdout.contains(stdout) {
        Ok(())
    } else {
        Err(format!(
            "expected exit 0 and stdout containing {stdout:?}\n{}",
            run.describe()
        )
        .into())
    }
}

fn refused_core_requirement() -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let dir = install(tmp.path(), "probe", "probe")?;
    require_core(&dir, ">=99")?;
    let root = tmp.path().to_str().ok_or("path")?;
    let lib_path = format!("{root}:{}", built_plugins().display());
    expect_refusal(
        &run_with(&lib_path, &["-e", "probe.noop()"])?,
        "(command line):1: `probe` is provided by the plugin 'probe', which was refused: \
         plugin 'probe' 0.1.0 requires assay >=99, but this is assay 0.1.0\n",
    )?;
    // Scripts that do not use it, or use another plugin, are unaffected.
    expect_ok(
        &run_with(&lib_path, &["-e", "print(json.encode({1}))"])?,
        "[1]",
    )?;
    expect_ok(
        &run_with(&lib_path, &["-e", "print(crypto.hash('abc'))"])?,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )
}

/// Spoils a plugin's library file in place.
type Damage = dyn Fn(&Path) -> Result<(), Failed>;

fn refused_broken_libraries() -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let cases: [(&str, &Damage, &str); 4] = [
        (
            "truncated",
            &|lib| {
                let bytes = std::fs::read(lib)?;
                Ok(std::fs::write(lib, &bytes[..bytes.len() / 3])?)
            },
            "truncated",
        ),
        (
            "noise",
            &|lib| Ok(std::fs::write(lib, vec![0x5a; 40_000])?),
            "not a shared library",
        ),
        (
            "empty",
            &|lib| Ok(std::fs::write(lib, b"")?),
            "not a shared library",
        ),
        ("gone", &|lib| Ok(std::fs::remove_file(lib)?), "is missing"),
    ];
    for (name, damage, why) in cases {
        let dir = install(tmp.path(), "probe", name)?;
        edit_manifest(&dir, "name: \"probe\"", &format!("name: {name}"))?;
        edit_manifest(&dir, "[\"probe\"]", &format!("[{name}]"))?;
        damage(
            &library_of(&dir).or_else(|_| Ok::<_, Failed>(dir.join("libassay_plugin_probe.so")))?,
        )?;
        let root = tmp.path().to_str().ok_or("path")?;
        let run = run_with(root, &["-e", &format!("{name}.noop()")])?;
        expect_refusal(&run, &format!("plugin '{name}' 0.1.0: "))?;
        expect_refusal(&run, why)?;
    }
    Ok(())
}

fn refused_abi_and_layout() -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let dir = install(tmp.path(), "probe", "probe")?;
    edit_manifest(&dir, "abi: 1", "abi: 2")?;
    let mismatch = tmp.path().join("plugins/mismatch");
    std::fs::create_dir_all(&mismatch)?;
    let fixture = assay_bin().with_file_name("libassay_plugin_mismatch.so");
    std::fs::copy(&fixture, mismatch.join("libassay_plugin_mismatch.so"))
        .map_err(|e| format!("{}: {e}", fixture.display()))?;
    std::fs::write(
        mismatch.join("manifest.yaml"),
        "name: mismatch\nversion: 0.1.0\nlibrary: libassay_plugin_mismatch.so\nprovides: [mismatch]\nabi: 1\n",
    )?;
    let root = tmp.path().to_str().ok_or("path")?;
    expect_refusal(
        &run_with(root, &["-e", "probe.noop()"])?,
        "plugin 'probe' 0.1.0 was built for plugin ABI 2, but this is assay 0.1.0 with plugin ABI 1",
    )?;
    let mismatched = run_with(root, &["-e", "mismatch.anything()"])?;
    expect_refusal(
        &mismatched,
        "`mismatch` is provided by the plugin 'mismatch', which was refused: plugin 'mismatch' \
         0.1.0: ",
    )?;
    expect_refusal(
        &mismatched,
        "was built with an incompatible Assay SDK (layout mismatch: ",
    )
}

/// A manifest that cannot be read still refuses the plugin by its folder's name.
fn refused_unreadable_manifest() -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("plugins/broken");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("manifest.yaml"), "name: [unclosed\n")?;
    let root = tmp.path().to_str().ok_or("path")?;
    expect_refusal(
        &run_with(root, &["-e", "broken.anything()"])?,
        "`broken` is provided by the plugin 'broken', which was refused: plugin 'broken': ",
    )?;
    expect_refusal(
        &run_with(root, &["-e", "broken.anything()"])?,
        "not a valid manifest",
    )
}

/// A manifest that is a device, a FIFO or a huge file is refused by its folder's name in one
/// line, without reading it: every run reads every manifest at start-up, so before it was
/// bounded a manifest symlinked to /dev/zero made `print(1)` take gigabytes (under `ulimit -v`,
/// an abort) and a FIFO made it hang.
fn refused_manifests_that_are_not_small_files() -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let plugins = tmp.path().join("plugins");
    for name in ["zero", "fifo", "huge"] {
        std::fs::create_dir_all(plugins.join(name))?;
    }
    std::os::unix::fs::symlink("/dev/zero", plugins.join("zero/manifest.yaml"))?;
    let mut mkfifo = Command::new("mkfifo");
    mkfifo.arg(plugins.join("fifo/manifest.yaml"));
    let made = run(mkfifo, None, TIMEOUT)?;
    if made.code != Some(0) {
        return Err(format!("mkfifo failed\n{}", made.describe()).into());
    }
    std::fs::File::create(plugins.join("huge/manifest.yaml"))?.set_len(64 << 20)?;
    let root = tmp.path().to_str().ok_or("path")?;
    // 512 MiB of address space is plenty for `print(1)` and far from what /dev/zero took.
    let mut cmd = Command::new("bash");
    cmd.args(["-c", "ulimit -v 524288 && exec \"$0\" \"$@\""])
        .arg(assay_bin())
        .args(["-e", "print(1)"])
        .env("ASSAY_LIB_PATH", root);
    expect_ok(&run(cmd, None, Duration::from_secs(20))?, "1")?;
    expect_refusal(
        &run_with(root, &["-e", "zero.anything()"])?,
        "plugin 'zero': cannot read ",
    )?;
    expect_refusal(
        &run_with(root, &["-e", "zero.anything()"])?,
        "zero/manifest.yaml: it is a character device, not a regular file",
    )?;
    expect_refusal(
        &run_with(root, &["-e", "fifo.anything()"])?,
        "fifo/manifest.yaml: it is a FIFO, not a regular file",
    )?;
    expect_refusal(
        &run_with(root, &["-e", "huge.anything()"])?,
        "huge/manifest.yaml: larger than 1 MiB",
    )
}

fn listing_shows_compatible_refused_and_shadowed() -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let first = tmp.path().join("first");
    let dir = install(&first, "probe", "old")?;
    edit_manifest(&dir, "name: \"probe\"", "name: old")?;
    edit_manifest(&dir, "[\"probe\"]", "[old]")?;
    require_core(&dir, ">=99")?;
    install(&first, "probe", "probe")?;
    let lib_path = format!("{}:{}", first.display(), built_plugins().display());
    let run = run_with(&lib_path, &["plugins", "--json"])?;
    let text = run.stdout.clone();
    let checks = [
        "\"name\": \"crypto\"",
        "\"status\": \"compatible\"",
        "\"status\": \"refused\"",
        "\"reason\": \"plugin 'old' 0.1.0 requires assay >=99, but this is assay 0.1.0\"",
        "\"status\": \"shadowed\"",
        "\"provides\": [\n        \"crypto\"\n      ]",
    ];
    for needle in checks {
        if !text.contains(needle) {
            return Err(format!(
                "`assay plugins --json` lacks {needle:?}\n{}",
                run.describe()
            )
            .into());
        }
    }
    expect_ok(&run_with(&lib_path, &["plugins"])?, "shadowed by")
}

/// `-v` logs the lib path (naming the roots that do not exist), every plugin found (usable,
/// refused and why, shadowed by which) and every plugin loaded, once; as JSON when the log is
/// JSON; and none of it without `-v`.
fn verbose_shows_lib_path_and_plugins() -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let first = tmp.path().join("first");
    let old = install(&first, "probe", "old")?;
    edit_manifest(&old, "name: \"probe\"", "name: old")?;
    edit_manifest(&old, "[\"probe\"]", "[old]")?;
    require_core(&old, ">=99")?;
    let crypto = install(&first, "crypto", "crypto")?;
    let built = built_plugins();
    let lib_path = format!("{}:/nowhere:{}", first.display(), built.display());
    let script = "crypto.hash('x') crypto.hmac('k', 'x') print('done')";
    let verbose = |format: &str| {
        let mut cmd = assay();
        cmd.env("ASSAY_LIB_PATH", &lib_path)
            .env("ASSAY_LOG_FORMAT", format)
            .args(["-v", "-e", script]);
        run(cmd, None, TIMEOUT)
    };
    let text = verbose("text")?;
    expect_ok(&text, "done")?;
    let library = crypto.join("libassay_plugin_crypto.so");
    let wanted = [
        format!("DEBUG lib path roots={lib_path} missing=/nowhere plugins="),
        format!(
            "DEBUG plugin found name=old version=0.1.0 status=refused reason=\"plugin 'old' \
             0.1.0 requires assay >=99, but this is assay 0.1.0\" provides=old dir={}\n",
            old.display()
        ),
        format!(
            "DEBUG plugin found name=crypto version=0.1.0 status=usable provides=crypto dir={}\n",
            crypto.display()
        ),
        format!(
            "DEBUG plugin found name=crypto version=0.1.0 status=shadowed shadowed_by={} \
             provides=crypto dir={}\n",
            crypto.display(),
            built.join("plugins/crypto").display()
        ),
        format!(
            "DEBUG plugin loaded name=crypto version=0.1.0 library={} ms=",
            library.display()
        ),
    ];
    for line in &wanted {
        if !text.stderr.contains(line.as_str()) {
            return Err(format!("`-v` lacks {line:?}\n{}", text.describe()).into());
        }
    }
    // Two globals' worth of calls, one plugin: loaded once; the probe is found, not loaded.
    let loads = text.stderr.matches("plugin loaded").count();
    if loads != 1 || text.stderr.contains("plugin loaded name=probe") {
        return Err(format!("expected one load, of crypto\n{}", text.describe()).into());
    }
    let json = verbose("json")?;
    expect_ok(&json, "done")?;
    for needle in [
        "\"msg\":\"lib path\"",
        "\"msg\":\"plugin found\"",
        "\"status\":\"refused\"",
        "\"msg\":\"plugin loaded\"",
    ] {
        if !json.stderr.contains(needle) {
            return Err(format!("JSON `-v` lacks {needle}\n{}", json.describe()).into());
        }
    }
    let quiet = run_with(&lib_path, &["-e", script])?;
    expect_ok(&quiet, "done")?;
    if !quiet.stderr.is_empty() {
        return Err(format!("without -v nothing is logged\n{}", quiet.describe()).into());
    }
    Ok(())
}

/// A script that uses no plugin maps no plugin library; the first use of one maps it.
fn unused_plugins_are_not_mapped() -> Result<(), Failed> {
    let lib_path = built_plugins().display().to_string();
    let maps = "for line in io.lines('/proc/self/maps') do \
                if line:find('libassay_plugin', 1, true) then print(line) end end";
    let untouched = run_with(&lib_path, &["-e", &format!("print('hi') {maps}")])?;
    expect_ok(&untouched, "hi")?;
    if untouched.stdout.contains("libassay_plugin") {
        return Err(format!(
            "a plugin was mapped by a script that uses none\n{}",
            untouched.describe()
        )
        .into());
    }
    let touched = run_with(&lib_path, &["-e", &format!("probe.noop() {maps}")])?;
    expect_ok(&touched, "libassay_plugin_probe.so")?;
    if touched.stdout.contains("libassay_plugin_crypto") {
        return Err(format!(
            "crypto was mapped by a script that uses only probe\n{}",
            touched.describe()
        )
        .into());
    }
    Ok(())
}

/// `scripts/dist` assembles a tree whose binary finds its plugins with no variable set.
fn dist_runs_without_variables() -> Result<(), Failed> {
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("dist");
    let profile_dir = assay_bin().parent().ok_or("profile dir")?.to_path_buf();
    let mut dist = Command::new(tests_dir().join("../scripts/dist"));
    dist.arg("--no-build")
        .arg("--out")
        .arg(&out)
        .arg("--profile-dir")
        .arg(&profile_dir);
    let assembled = run(dist, None, TIMEOUT)?;
    if assembled.code != Some(0) {
        return Err(format!("scripts/dist failed\n{}", assembled.describe()).into());
    }
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home)?;
    let mut cmd = Command::new(out.join("bin/assay"));
    cmd.env_remove("ASSAY_LIB_PATH")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", &home)
        .args(["-e", "print(crypto.hash('abc'))"]);
    expect_ok(
        &run(cmd, None, TIMEOUT)?,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )?;
    if out.join("lib/assay/plugins/probe").exists() {
        return Err("the test plugin was shipped in dist/".into());
    }
    Ok(())
}

/// `examples/plugin-hello` builds from its own Cargo.toml and runs as its README says.
fn example_plugin_builds_and_runs() -> Result<(), Failed> {
    let example = tests_dir().join("../examples/plugin-hello");
    let target = assay_bin()
        .parent()
        .and_then(Path::parent)
        .ok_or("target dir")?
        .join("plugin-hello");
    let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    build
        .args(["build", "--release", "--manifest-path"])
        .arg(example.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target);
    let built = run(build, None, Duration::from_secs(900))?;
    if built.code != Some(0) {
        return Err(format!("building the example failed\n{}", built.describe()).into());
    }
    // As the README says: copy the assembled folder into a lib-path root.
    let tmp = tempfile::tempdir()?;
    let from = target.join("release/assay-lib/plugins/hello");
    let to = tmp.path().join("plugins/hello");
    std::fs::create_dir_all(&to)?;
    for entry in std::fs::read_dir(&from)? {
        let path = entry?.path();
        std::fs::copy(&path, to.join(path.file_name().ok_or("name")?))?;
    }
    let mut cmd = assay();
    cmd.env("ASSAY_LIB_PATH", tmp.path())
        .arg(example.join("demo.lua"))
        .current_dir(&example);
    expect_ok(&run(cmd, None, TIMEOUT)?, "hello demo: all good")?;
    // Its definitions travel with the folder, and `assay types` gives them to a project.
    let project = tempfile::tempdir()?;
    let mut cmd = assay();
    cmd.env("ASSAY_LIB_PATH", tmp.path())
        .args(["types"])
        .current_dir(project.path());
    let typed = run(cmd, None, TIMEOUT)?;
    if typed.code != Some(0) || !typed.stdout.contains("plugins: hello") {
        return Err(format!("assay types with the example\n{}", typed.describe()).into());
    }
    let copied = std::fs::read(project.path().join(".assay/types/plugins/hello.lua"))?;
    if copied != std::fs::read(example.join("types.lua"))? {
        return Err("the example's types.lua was not copied as it is".into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "plugins::refused_core_requirement",
            refused_core_requirement,
        ),
        Trial::test(
            "plugins::refused_broken_libraries",
            refused_broken_libraries,
        ),
        Trial::test("plugins::refused_abi_and_layout", refused_abi_and_layout),
        Trial::test(
            "plugins::refused_unreadable_manifest",
            refused_unreadable_manifest,
        ),
        Trial::test(
            "plugins::refused_manifests_that_are_not_small_files",
            refused_manifests_that_are_not_small_files,
        ),
        Trial::test(
            "plugins::listing_shows_compatible_refused_and_shadowed",
            listing_shows_compatible_refused_and_shadowed,
        ),
        Trial::test(
            "plugins::verbose_shows_lib_path_and_plugins",
            verbose_shows_lib_path_and_plugins,
        ),
        Trial::test(
            "plugins::unused_plugins_are_not_mapped",
            unused_plugins_are_not_mapped,
        ),
        Trial::test(
            "plugins::dist_runs_without_variables",
            dist_runs_without_variables,
        ),
        Trial::test(
            "plugins::example_plugin_builds_and_runs",
            example_plugin_builds_and_runs,
        ),
    ]
}
