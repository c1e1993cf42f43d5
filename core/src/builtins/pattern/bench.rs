//! The port against Lua's own C pattern functions in the same VM (vendored Lua 5.5), on the
//! cases of `bench/pattern_bench.lua`. Ignored by default: it means something only in an
//! optimized build, e.g.
//!
//! ```sh
//! CARGO_PROFILE_TEST_OPT_LEVEL=3 CARGO_TARGET_DIR=/tmp/assay-bench \
//!   cargo test -p assay --lib pattern::bench -- --ignored --nocapture
//! ```
//!
//! Three VMs: Lua's C functions, the port alone, and the port as `install` sets it up (with
//! its fast path through the C functions, see `fast.rs`). The port's interrupt check reads
//! the clock as a deadline would. Rounds alternate the three; the ratio per case is the
//! median of the per-round ratios to C (time, so > 1 is slower).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use mlua::{Lua, Variadic};

const SCRIPT: &str = include_str!("../../../../bench/pattern_bench.lua");
const ROUNDS: usize = 5;

/// Which functions a run uses.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Lua's own C functions.
    C,
    /// The port alone.
    Port,
    /// The port with its fast path through the C functions (what `install` gives).
    Installed,
}

/// Microseconds per call of each case, in the script's order.
fn run(mode: Mode) -> Vec<(String, f64)> {
    let lua = Lua::new();
    crate::builtins::function::install(&lua).expect("builtin protocol");
    if mode != Mode::C {
        let deadline = Instant::now() + Duration::from_secs(3600);
        let interrupt = Rc::new(move || {
            if Instant::now() >= deadline {
                Err(mlua::Error::runtime("timed out"))
            } else {
                Ok(())
            }
        });
        super::install_with(&lua, interrupt, mode == Mode::Installed).expect("patterns");
    }
    let printed = Rc::new(RefCell::new(Vec::new()));
    let sink = printed.clone();
    let print = lua
        .create_function(move |_, parts: Variadic<String>| {
            sink.borrow_mut().push(parts.join("\t"));
            Ok(())
        })
        .expect("print");
    lua.globals().set("print", print).expect("print set");
    lua.globals()
        .set("arg", lua.create_sequence_from(["0.2"]).expect("arg"))
        .expect("arg set");
    lua.load(SCRIPT)
        .set_name("=pattern_bench.lua")
        .exec()
        .expect("the benchmark runs");
    let lines = printed.borrow();
    lines
        .iter()
        .filter_map(|line| {
            let (name, us) = line.split_once('\t')?;
            Some((name.to_owned(), us.parse().ok()?))
        })
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[test]
#[ignore = "a benchmark: run it in an optimized build (see the module docs)"]
fn c_against_port() {
    let modes = [Mode::C, Mode::Port, Mode::Installed];
    let mut rounds: Vec<Vec<Vec<(String, f64)>>> = vec![Vec::new(); modes.len()];
    for _ in 0..ROUNDS {
        for (i, mode) in modes.iter().enumerate() {
            rounds[i].push(run(*mode));
        }
    }
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>6} {:>6}",
        "case", "C us", "port us", "inst. us", "port", "inst."
    );
    let mut ratios = [Vec::new(), Vec::new()];
    for (case, (name, _)) in rounds[0][0].iter().enumerate() {
        let times = |m: usize| -> Vec<f64> { rounds[m].iter().map(|r| r[case].1).collect() };
        let ratio = |m: usize| median(times(0).iter().zip(times(m)).map(|(c, x)| x / c).collect());
        let (port, installed) = (ratio(1), ratio(2));
        ratios[0].push(port);
        ratios[1].push(installed);
        println!(
            "{name:<22} {:>9.3} {:>9.3} {:>9.3} {port:>6.2} {installed:>6.2}",
            median(times(0)),
            median(times(1)),
            median(times(2))
        );
    }
    let geomean = |r: &[f64]| (r.iter().map(|r| r.ln()).sum::<f64>() / r.len() as f64).exp();
    println!(
        "geometric mean of the time ratios to C: port alone {:.2}, as installed {:.2}",
        geomean(&ratios[0]),
        geomean(&ratios[1])
    );
}

/// Profiling aid: runs the Lua file in `$ASSAY_PATTERN_PROFILE` on the port alone (Lua's C
/// functions with `ASSAY_PATTERN_C` set), e.g. under `perf record`.
#[test]
#[ignore = "a profiling aid (see its docs)"]
fn profile() {
    let Some(path) = std::env::var_os("ASSAY_PATTERN_PROFILE") else {
        return;
    };
    let mode = if std::env::var_os("ASSAY_PATTERN_C").is_some() {
        Mode::C
    } else {
        Mode::Port
    };
    let lua = Lua::new();
    crate::builtins::function::install(&lua).expect("builtin protocol");
    if mode == Mode::Port {
        super::install_with(&lua, Rc::new(|| Ok(())), false).expect("patterns");
    }
    let code = std::fs::read_to_string(path).expect("the script");
    lua.load(code).exec().expect("the script runs");
}

/// What `install` adds to a VM's start-up (it loads two small glue chunks and makes a dozen
/// functions).
#[test]
#[ignore = "a benchmark: run it in an optimized build (see the module docs)"]
fn install_cost() {
    const RUNS: u32 = 200;
    let mut total = Duration::ZERO;
    for _ in 0..RUNS {
        let lua = Lua::new();
        crate::builtins::function::install(&lua).expect("builtin protocol");
        let started = Instant::now();
        super::install(&lua, Rc::new(|| Ok(()))).expect("patterns");
        total += started.elapsed();
    }
    println!(
        "install: {:.1} us per VM",
        total.as_secs_f64() * 1e6 / f64::from(RUNS)
    );
}
