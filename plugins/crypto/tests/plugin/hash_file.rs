//! `crypto.hash_file` against Python's `hashlib` and coreutils' `sha256sum`/`md5sum` on files
//! made here, the constant memory of a large (sparse) file measured from outside the process,
//! and `crypto.equal`.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use assay_plugin_crypto::equal::equal;
use assay_plugin_crypto::hash_file::{CHUNK, hash_file};
use assay_sdk::{Args, Result, Value};

use crate::{call, error, text};

const ALGS: [(&str, &str); 8] = [
    ("md5", "md5"),
    ("sha1", "sha1"),
    ("sha224", "sha224"),
    ("sha256", "sha256"),
    ("sha384", "sha384"),
    ("sha512", "sha512"),
    ("sha3-256", "sha3_256"),
    ("sha3-512", "sha3_512"),
];

/// Runs `crypto.hash_file` with `args` to completion, as the host would on the plugin's runtime.
fn hash_file_of(args: Vec<Value>) -> Result<Value> {
    let runtime = assay_sdk::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(hash_file(Args::from_vec(args)))
}

/// The hex digest of the file by Python's hashlib (read whole: the files here are small).
fn python_digest(path: &Path, python_name: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib, sys; print(hashlib.new(sys.argv[1], open(sys.argv[2], 'rb').read()).hexdigest())",
            python_name,
        ])
        .arg(path)
        .output()
        .expect("python3 is required");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("text")
        .trim()
        .to_owned()
}

/// The digest `tool` (`sha256sum`, `md5sum`) prints for `path`.
fn coreutils_digest(tool: &str, path: &Path) -> String {
    let out = Command::new(tool)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{tool} is required: {e}"));
    assert!(out.status.success(), "{tool} failed");
    let text = String::from_utf8(out.stdout).expect("text");
    text.split_whitespace().next().expect("a digest").to_owned()
}

/// Bytes that repeat only after a long period (a counter through a simple mix).
fn pseudo_random(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn every_algorithm_matches_python_hashlib_around_the_chunk_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pseudo_random(3 * CHUNK + 12_345);
    for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, data.len()] {
        let path = dir.path().join(format!("file-{len}"));
        std::fs::write(&path, &data[..len]).expect("write");
        for (alg, python_name) in ALGS {
            let got = hash_file_of(vec![
                Value::from(path.display().to_string()),
                Value::from(alg),
            ])
            .expect("hash_file");
            assert_eq!(
                text(&got),
                python_digest(&path, python_name),
                "{alg} of {len} bytes"
            );
        }
    }
}

#[test]
fn sha256sum_and_md5sum_agree_and_encodings_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("data.bin");
    let mut file = std::fs::File::create(&path).expect("create");
    for _ in 0..8 {
        file.write_all(&pseudo_random(1 << 20)).expect("write");
    }
    drop(file);
    let arg = Value::from(path.display().to_string());
    let sha256 = hash_file_of(vec![arg.clone()]).expect("default sha256");
    assert_eq!(text(&sha256), coreutils_digest("sha256sum", &path));
    let md5 = hash_file_of(vec![arg.clone(), Value::from("md5")]).expect("md5");
    assert_eq!(text(&md5), coreutils_digest("md5sum", &path));
    let raw = hash_file_of(vec![
        arg.clone(),
        Value::from("sha256"),
        crate::table(vec![("encoding", "raw".into())]),
    ])
    .expect("raw");
    assert_eq!(raw.as_bytes().map(<[u8]>::len), Some(32));
    let b64 =
        hash_file_of(vec![arg, crate::table(vec![("encoding", "base64".into())])]).expect("base64");
    assert_eq!(text(&b64).len(), 44);
}

#[test]
fn errors_name_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing");
    let message = error(hash_file_of(vec![Value::from(
        missing.display().to_string(),
    )]));
    assert!(
        message.starts_with(&format!("cannot read {}: No such file", missing.display())),
        "{message}"
    );
    let message = error(hash_file_of(vec![Value::from(
        dir.path().display().to_string(),
    )]));
    assert_eq!(
        message,
        format!(
            "cannot read {}: it is a directory, not a regular file",
            dir.path().display()
        )
    );
    let message = error(hash_file_of(vec![Value::from("/dev/zero")]));
    assert_eq!(
        message,
        "cannot read /dev/zero: it is a character device, not a regular file"
    );
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    // No writer ever opens the FIFO: it is refused at once instead of waiting for one.
    let message = error(hash_file_of(vec![Value::from(fifo.display().to_string())]));
    assert_eq!(
        message,
        format!(
            "cannot read {}: it is a FIFO, not a regular file",
            fifo.display()
        )
    );
    assert_eq!(
        error(hash_file_of(vec![Value::Int(1)])),
        "bad argument #1 'path' (string expected, got number)"
    );
    assert_eq!(
        error(hash_file_of(vec![Value::from("/x"), Value::from("crc32")])),
        "bad argument #2 'alg' (unknown algorithm 'crc32'; expected sha224, sha256, sha384, sha512, sha3-256, sha3-512, md5 or sha1)"
    );
}

/// A 400 MB file (sparse, made with `truncate`) hashed by the real binary: the digest is
/// `sha256sum`'s, the peak RSS stays far below the file's size (the file is read in chunks and
/// never reaches Lua), and the script's other coroutines run while it is read.
#[test]
fn a_large_file_hashes_in_constant_memory_while_other_tasks_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sparse.img");
    let made = Command::new("truncate")
        .args(["-s", "400M"])
        .arg(&path)
        .status()
        .expect("truncate is required");
    assert!(made.success());
    // A few non-zero bytes, so the digest is not one of an all-zero file by chance.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    file.write_all(b"assay").expect("write");
    drop(file);
    let time = Path::new("/usr/bin/time");
    assert!(
        time.is_file(),
        "/usr/bin/time is not installed (Debian package `time`)"
    );
    let base = assay_tests::assay_with_plugin("crypto");
    let mut cmd = Command::new(time);
    cmd.arg("-v").arg(base.get_program()).args([
        "--memory-limit",
        "16M",
        "-e",
        r#"local task = async.spawn(function() return crypto.hash_file(env.get("FILE")) end)
           local ticks = 0
           while not task:done() do sleep(0.005) ticks = ticks + 1 end
           print(task:await(), ticks)"#,
    ]);
    for (key, value) in base.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd.env("FILE", &path);
    let run = assay_tests::run(cmd, None, Duration::from_secs(120)).expect("run");
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let mut words = run.stdout.split_whitespace();
    let digest = words.next().expect("a digest");
    let ticks: u32 = words.next().and_then(|t| t.parse().ok()).expect("ticks");
    assert_eq!(digest, coreutils_digest("sha256sum", &path));
    assert!(
        ticks > 5,
        "the script's other task did not run while hashing: {ticks}"
    );
    let peak_kib: u64 = run
        .stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no measurement\n{}", run.describe()));
    println!(
        "hash_file of a 400 MB file: peak RSS {} MiB",
        peak_kib / 1024
    );
    assert!(
        peak_kib < 40 * 1024,
        "peak RSS {peak_kib} KiB for a 400 MB file"
    );
}

#[test]
fn equal_compares_bytes() {
    let eq = |a: Value, b: Value| call(equal, vec![a, b]);
    assert!(eq("secret".into(), "secret".into()).expect("equal"));
    assert!(eq("".into(), "".into()).expect("empty"));
    assert!(!eq("secret".into(), "secreT".into()).expect("last byte"));
    assert!(!eq("secret".into(), "secrets".into()).expect("length"));
    assert!(!eq(Value::from(vec![0u8, 1]), Value::from(vec![0u8, 2])).expect("binary"));
    assert!(eq(Value::from(vec![0u8, 255]), Value::from(vec![0u8, 255])).expect("binary"));
    assert_eq!(
        error(eq("a".into(), Value::Int(1))),
        "bad argument #2 'b' (string expected, got number)"
    );
    assert_eq!(
        error(call(equal, vec![])),
        "bad argument #1 'a' (string expected, got no value)"
    );
}
