//! The port against Lua's own C pattern functions in the same VM (vendored Lua 5.5), on the
//! cases of `bench/pattern_bench.lua`. Ignored by default: it means something only in an
//! optimized build, e.g.
//!
//! ```sh
//! CARGO_PROFILE_TEST_OPT_LEVEL=3 CARGO_TARGET_DIR=/tmp/assay-bench \
//!   cargo test -p assay --lib pattern::bench -- --ignored --nocapture
//! ```
//!
//! Both VMs go through the same call path for everything but the four functions, and the
//! port's interrupt check reads the clock as a deadline would. Rounds alternate C and port;
//! the ratio per case is the median of the per-round ratios (time, so > 1 is slower).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use mlua::{Lua, Variadic};

use super::install;

const SCRIPT: &str = include_str!("../../../../bench/pattern_bench.lua");
const ROUNDS: usize = 5;

/// Microseconds per call of each case, in the script's order.
fn run(port: bool) -> Vec<(String, f64)> {
    let lua = Lua::new();
    crate::builtins::function::install(&lua).expect("builtin protocol");
    if port {
        let deadline = Instant::now() + Duration::from_secs(3600);
        install(
            &lua,
            Rc::new(move || {
                if Instant::now() >= deadline {
                    Err(mlua::Error::runtime("timed out"))
                } else {
                    Ok(())
                }
            }),
        )
        .expect("pattern functions");
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
    let mut c_rounds = Vec::new();
    let mut port_rounds = Vec::new();
    for _ in 0..ROUNDS {
        c_rounds.push(run(false));
        port_rounds.push(run(true));
    }
    println!(
        "{:<24} {:>10} {:>10} {:>7}",
        "case", "C us", "port us", "ratio"
    );
    let mut ratios = Vec::new();
    for (i, (name, _)) in c_rounds[0].iter().enumerate() {
        let c: Vec<f64> = c_rounds.iter().map(|r| r[i].1).collect();
        let port: Vec<f64> = port_rounds.iter().map(|r| r[i].1).collect();
        let ratio = median(c.iter().zip(&port).map(|(c, p)| p / c).collect());
        ratios.push(ratio);
        println!(
            "{name:<24} {:>10.3} {:>10.3} {ratio:>7.2}",
            median(c),
            median(port)
        );
    }
    let geomean = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
    println!("geometric mean of the ratios (port time / C time): {geomean:.2}");
}

/// Profiling aid: runs the script in $ASSAY_PATTERN_PROFILE with the port.
#[test]
#[ignore = "a profiling aid"]
fn profile_port() {
    let Some(path) = std::env::var_os("ASSAY_PATTERN_PROFILE") else {
        return;
    };
    let lua = Lua::new();
    crate::builtins::function::install(&lua).expect("builtin protocol");
    if std::env::var_os("ASSAY_PATTERN_C").is_none() {
        install(&lua, Rc::new(|| Ok(()))).expect("pattern functions");
    }
    let code = std::fs::read_to_string(path).expect("script");
    lua.load(code).exec().expect("runs");
}
