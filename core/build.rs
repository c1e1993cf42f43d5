//! Link settings for the `assay` binary.
//!
//! Start-up is a product feature (a Kubernetes hook starts thousands of times), and on Linux
//! most of the gap to a C interpreter is the dynamic loader relocating a position-independent
//! executable: every page of the ~290 KB of relocated pointers is written, one page fault each.
//! So on Linux/glibc the binary is linked as a classic (non-PIE) executable, as Go does by
//! default: measured here, 171 -> 128 page faults and about 0.4 ms less per start. The price is
//! no address randomisation for the binary's own code (libraries, heap and stack keep theirs).
//! Distributions that require PIE build with `ASSAY_PIE=1`, which keeps PIE and packs its
//! relocations (DT_RELR) so the loader at least applies them quickly.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    compile_glue();
    println!("cargo:rerun-if-env-changed=ASSAY_PIE");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os != "linux" || target_env != "gnu" {
        return;
    }
    // Start-up code first, together: the functions `assay -e 'print("hi")'` runs, in the
    // order it runs them (scripts/startup-order writes the list). The kernel maps a binary's
    // pages around each one touched, so code spread over 4 MB made most of them resident.
    // lld takes the list: Rust's own, the default linker on x86_64 Linux since Rust 1.90 (GNU
    // ld does not know the option; other set-ups go without). Names it does not find (code
    // changed since the list was made) are skipped.
    let order = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("startup-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    if order.is_file() && links_with_rust_lld() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    if std::env::var("ASSAY_PIE").is_ok_and(|v| v == "1") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    } else {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

/// Whether the binary is linked by Rust's bundled lld: x86_64 Linux GNU, a toolchain of 1.90 or
/// later, and no linker chosen through RUSTFLAGS.
fn links_with_rust_lld() -> bool {
    let target = std::env::var("TARGET").unwrap_or_default();
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if target != "x86_64-unknown-linux-gnu" || flags.contains("linker") {
        return false;
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let Ok(out) = std::process::Command::new(rustc).arg("-vV").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let minor = text
        .lines()
        .find_map(|l| l.strip_prefix("release: "))
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    minor.is_some_and(|m| m >= 90)
}

/// Compiles `src/builtins/glue.lua` to bytecode (`$OUT_DIR/glue.luac`): every VM loads it at
/// start, and parsing it was a fifth of the instructions of `assay -e 'print("hi")'`. The
/// bytecode is made by the same Lua the binary embeds (this crate's `mlua`, vendored), stripped
/// of debug information (loading its line tables and names was 90K instructions of every
/// start; its frames are known by the stripped source `=?`, see `function::STRIPPED_CHUNK`),
/// and is written empty when
/// cross-compiling, where the host's bytecode may not fit the target: the runtime then parses
/// the source, as it also does if the bytecode is ever refused.
fn compile_glue() {
    const GLUE: &str = "src/builtins/glue.lua";
    println!("cargo:rerun-if-changed={GLUE}");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let cross = std::env::var("HOST").ok() != std::env::var("TARGET").ok();
    let bytecode = if cross {
        Vec::new()
    } else {
        let source = std::fs::read_to_string(GLUE).expect("glue.lua is part of the crate");
        let lua = mlua::Lua::new();
        let function = lua
            .load(&source)
            .set_name("=[assay]")
            .into_function()
            .expect("glue.lua compiles");
        function.dump(true)
    };
    std::fs::write(out.join("glue.luac"), bytecode).expect("OUT_DIR is writable");
}
