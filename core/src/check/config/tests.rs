//! The check file reader's tests: whole files, mistakes at their line, includes.

use super::*;

/// A folder of files for one test.
fn folder(files: &[(&str, &str)]) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("assay-check-config-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

fn load(text: &str) -> Result<Config, String> {
    let dir = folder(&[("c.yaml", text)]);
    Config::load(&[dir.join("c.yaml")], &[]).map_err(|e| {
        let shown = e.to_string();
        shown[shown.find("c.yaml").unwrap_or(0)..].to_owned()
    })
}

#[test]
fn a_whole_file() {
    let config = load(
        "timeout: 60s\nretries: 3\nbackoff: {initial: 100ms, max: 2s}\nparallel: 4\n\
         vars: {base: http://127.0.0.1:1}\nsecrets: [base]\nchecks:\n\
         \x20 - name: up\n    type: http\n    url: ${base}/health\n    expect: {status: [200, 2xx], json: {$.ok: true, $.n: {\">\": 2}}}\n    capture: {token: $.token}\n\
         \x20 - name: next\n    type: http\n    url: ${base}/x\n    headers: {authorization: \"Bearer ${token}\"}\n    depends_on: up\n    retries: 0\n    interval: 1s\n\
         \x20 - name: port\n    type: tcp\n    address: 127.0.0.1:22\n",
    )
    .expect("valid");
    assert_eq!(config.timeout, Some(Duration::from_secs(60)));
    assert_eq!(config.parallel, 4);
    assert_eq!(config.checks.len(), 3);
    assert_eq!(config.checks[0].policy.retries, 3);
    assert_eq!(
        config.checks[0].policy.wait,
        Wait::Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            factor: 2.0,
            jitter: true,
        }
    );
    assert_eq!(config.checks[1].policy.retries, 0);
    assert_eq!(
        config.checks[1].policy.wait,
        Wait::Interval(Duration::from_secs(1))
    );
    assert_eq!(config.checks[1].depends_on, ["up"]);
    assert_eq!(config.checks[2].line, 20);
}

#[test]
fn mistakes_name_file_line_and_field() {
    let cases = [
        (
            "checks:\n  - name: a\n    type: htp\n",
            "c.yaml:2: check 'a': unknown type 'htp' (one of http, prometheus, script, tcp, dns)",
        ),
        (
            "checks:\n  - name: a\n    type: http\n    urll: x\n",
            "c.yaml:4: check 'a': unknown key 'urll' (did you mean 'url'?",
        ),
        (
            "checks:\n  - name: a\n    type: http\n",
            "c.yaml:2: check 'a': 'url' is missing",
        ),
        (
            "timeout: 5 minutes\nchecks: []\n",
            "c.yaml:1: the file: 'timeout': '5 minutes' is not a duration",
        ),
        (
            "retires: 3\nchecks: []\n",
            "c.yaml:1: the file: unknown key 'retires' (did you mean 'retries'?",
        ),
        (
            "checks:\n  - name: a\n    type: tcp\n    address: h:1\n  - name: a\n    type: tcp\n    address: h:1\n",
            "c.yaml:5: check 'a': a second check of that name (the first is at line 2)",
        ),
        (
            "checks:\n  - name: a\n    type: tcp\n    address: h:1\n    depends_on: [b]\n",
            "depends_on 'b', which no check is named",
        ),
        (
            "checks:\n  - {name: a, type: tcp, address: 'h:1', depends_on: b}\n  - {name: b, type: tcp, address: 'h:1', depends_on: a}\n",
            "its dependencies make a cycle (a -> b -> a;",
        ),
        (
            "checks:\n  - {name: a, type: http, url: '${nowhere_var_x}'}\n",
            "'${nowhere_var_x}' is not a var",
        ),
        (
            "checks:\n  - {name: a, type: http, url: x, expect: {status: 999}}\n",
            "'status': '999' is not a status",
        ),
        (
            "checks:\n  - {name: a, type: http, url: x, expect: {json: {items: 1}}}\n",
            "'items' is not a JSON path",
        ),
        (
            "checks:\n  - {name: a, type: http, url: x, backoff: 1s, interval: 1s}\n",
            "'backoff' and 'interval' cannot both be set",
        ),
        (
            "checks:\n  - {name: a, type: script}\n",
            "'file' or 'lua' is missing",
        ),
        (
            "secrets: [a, pasword]\nvars: {a: x}\nchecks: [{name: t, type: tcp, address: 'h:1'}]\n",
            "c.yaml:1: secret 'pasword' is not a var",
        ),
        (
            "checks:\n  - {name: s, type: script, lua: 'return {t = 1}'}\n  - {name: a, type: http, url: '${t}'}\n",
            "check 'a': '${t}' is not a var, a capture of another check or an environment variable (set it in 'vars', with --var t=..., or in the environment; a script check's capture needs depends_on that check)",
        ),
        (
            "checks:\n  - {name: a, type: http, url: 'http://h/${tb}', capture: {ta: $.a}}\n  - {name: b, type: http, url: 'http://h/${ta}', capture: {tb: $.b}}\n",
            "c.yaml:2: check 'a': its dependencies make a cycle (a -> b -> a;",
        ),
        (
            "checks:\n  - {name: a, type: http, url: 'http://h/${ta}', capture: {ta: $.a}}\n",
            "check 'a': '${ta}' is this check's own capture",
        ),
        ("checks: []\n", "c.yaml:1: no checks to run"),
        (
            "timeout: 0s\nchecks: [{name: t, type: tcp, address: 'h:1'}]\n",
            "c.yaml:1: the file: 'timeout': more than 0",
        ),
        (
            "checks:\n  - {name: t, type: tcp, address: 'h:1', backoff: {initial: 1s, factor: .nan}}\n",
            "a finite number expected, got not a number (.nan)",
        ),
        ("", "c.yaml:1: the file is empty"),
        ("vars: {}\n", "c.yaml:1: the file: 'checks' is missing"),
    ];
    for (text, want) in cases {
        let got = load(text).expect_err(text);
        assert!(
            got.contains(want),
            "{text:?}\n  got:  {got}\n  want: {want}"
        );
    }
}

#[test]
fn script_captures_may_be_used_after_the_script() {
    let config = load(
        "secrets: [token]\nchecks:\n  - {name: mint, type: script, lua: 'return {token = \"t\"}'}\n\
         \x20 - {name: wrap, type: tcp, address: 'h:1', depends_on: mint}\n\
         \x20 - {name: use, type: http, url: 'http://h/${token}', depends_on: wrap}\n",
    )
    .expect("a capture of a script check the check runs after");
    assert_eq!(config.secrets[0].name, "token");
}

#[test]
fn includes() {
    let dir = folder(&[
        (
            "main.yaml",
            "vars: {x: main}\ninclude: [more/*.yaml]\nchecks:\n  - {name: a, type: tcp, address: 'h:1'}\n",
        ),
        (
            "more/b.yaml",
            "vars: {x: b, y: b}\nretries: 2\nchecks:\n  - {name: b, type: tcp, address: '${y}:1'}\n",
        ),
        (
            "more/c.yaml",
            "checks:\n  - {name: c, type: tcp, address: 'h:1'}\n",
        ),
        ("bad.yaml", "include: [inc.yaml]\nchecks: []\n"),
        ("inc.yaml", "timeout: 1s\n"),
        ("loop.yaml", "include: [loop.yaml]\nchecks: []\n"),
    ]);
    let config =
        Config::load(&[dir.join("main.yaml")], &[("y".into(), "cli".into())]).expect("valid");
    let names: Vec<&str> = config.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(config.var("x"), Some("main"));
    assert_eq!(config.var("y"), Some("cli"));
    assert_eq!(config.checks[1].policy.retries, 2);
    assert_eq!(config.checks[2].policy.retries, 0);
    let bad = Config::load(&[dir.join("bad.yaml")], &[])
        .expect_err("timeout in include")
        .to_string();
    assert!(
        bad.contains("inc.yaml:1: the file: 'timeout' belongs to the first file"),
        "{bad}"
    );
    let cycle = Config::load(&[dir.join("loop.yaml")], &[])
        .expect_err("cycle")
        .to_string();
    assert!(cycle.contains("included twice"), "{cycle}");
    // A glob that matches the including file means the others; a folder is named so.
    let dir = folder(&[
        (
            "all.yaml",
            "include: ['*.yaml']\nchecks: [{name: a, type: tcp, address: 'h:1'}]\n",
        ),
        (
            "other.yaml",
            "checks: [{name: o, type: tcp, address: 'h:1'}]\n",
        ),
        ("d/dir.yaml", "include: [sub]\nchecks: []\n"),
        ("d/sub/x.yaml", "checks: []\n"),
    ]);
    let all = Config::load(&[dir.join("all.yaml")], &[]).expect("the glob skips itself");
    assert_eq!(all.checks.len(), 2);
    let folder_err = Config::load(&[dir.join("d/dir.yaml")], &[])
        .expect_err("a folder")
        .to_string();
    assert!(
        folder_err.contains("include 'sub': a folder, not a file"),
        "{folder_err}"
    );
}
