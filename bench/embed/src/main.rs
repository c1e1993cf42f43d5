//! Embedded VMs: what one sandboxed [`assay::Runtime`] costs a host that keeps thousands of
//! them in-process (a Kubernetes controller running user hooks, say).
//!
//! Builds `--count` sandboxed VMs one after another (default 1,000), runs the same 5-line
//! check in each, and keeps every VM alive. It reports the time of each build + run (median
//! and 99th percentile) and the memory an idle VM holds: the process's resident set growth
//! over the whole loop divided by the count, and Lua's own accounting of the VM's heap.
//! Warm-up VMs are built and dropped first, so one-time costs (page faults of the code,
//! the allocator's first arenas) are not charged to the measured VMs.
//!
//! Output: a human-readable summary on stderr and one `RESULT key=value ...` line on stdout
//! for `bench/bench.py`. Usage: `assay-bench-embed [--count N] [--warmup N]`.

use std::time::{Duration, Instant};

use assay::Runtime;

/// The check each VM runs: parse a config, check two fields, leave a result.
const CHECK: &str = r#"local config = json.parse('{"replicas": 3, "image": "web:1.2", "ports": [80, 443]}')
assert(config.replicas >= 1, "at least one replica")
assert.eq(config.image, "web:1.2")
local ok = #config.ports == 2
result = ok and "pass" or "fail""#;

fn main() {
    let mut count = 1000;
    let mut warmup = 50;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse::<usize>().ok());
        match (flag.as_str(), value) {
            ("--count", Some(n)) if n > 0 => count = n,
            ("--warmup", Some(n)) => warmup = n,
            _ => {
                eprintln!("usage: assay-bench-embed [--count N] [--warmup N]");
                std::process::exit(2);
            }
        }
    }

    for _ in 0..warmup {
        drop(build_and_check());
    }

    let rss_before = resident_bytes();
    let mut vms = Vec::with_capacity(count);
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        let vm = build_and_check();
        times.push(start.elapsed());
        vms.push(vm);
    }
    let rss_after = resident_bytes();
    let lua_bytes: usize = vms.iter().map(|vm| vm.lua().used_memory()).sum();

    times.sort();
    let median = percentile(&times, 50);
    let p99 = percentile(&times, 99);
    let rss_per_vm = rss_after.saturating_sub(rss_before) as f64 / count as f64;
    let lua_per_vm = lua_bytes as f64 / count as f64;
    eprintln!(
        "{count} sandboxed VMs: build + check median {:.1} us, p99 {:.1} us; \
         idle VM: {:.1} KB resident, {:.1} KB Lua heap",
        micros(median),
        micros(p99),
        rss_per_vm / 1024.0,
        lua_per_vm / 1024.0,
    );
    println!(
        "RESULT count={count} median_us={:.2} p99_us={:.2} rss_kb_per_vm={:.2} \
         lua_kb_per_vm={:.2}",
        micros(median),
        micros(p99),
        rss_per_vm / 1024.0,
        lua_per_vm / 1024.0,
    );
    drop(vms);
}

/// One sandboxed VM, with the check run in it and its result confirmed.
fn build_and_check() -> Runtime {
    let vm = Runtime::builder()
        .sandbox(true)
        .build()
        .unwrap_or_else(|e| fail(&format!("building a VM: {e}")));
    if let Err(e) = vm.run_chunk(CHECK, "=check") {
        fail(&format!("the check failed: {e}"));
    }
    match vm.lua().globals().get::<String>("result") {
        Ok(result) if result == "pass" => vm,
        other => fail(&format!("the check left {other:?}, not \"pass\"")),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("assay-bench-embed: {message}");
    std::process::exit(1);
}

/// The `p`th percentile of sorted `times` (nearest rank).
fn percentile(times: &[Duration], p: usize) -> Duration {
    let rank = (times.len() * p).div_ceil(100).max(1);
    times[rank - 1]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The process's resident set, from `/proc/self/statm` (pages, second field).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm")
        .unwrap_or_else(|e| fail(&format!("reading /proc/self/statm: {e}")));
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| fail("/proc/self/statm has no resident field"));
    // The kernel's page size; 4 KiB on every target this bench runs on.
    pages * 4096
}
