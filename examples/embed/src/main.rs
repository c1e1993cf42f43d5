//! Embedding Assay in a Rust program: build a sandboxed runtime with a memory limit, give the
//! script a global of your own, and run a chunk.
//!
//! Run: `cargo run --release -p assay-embed-example`

use assay::{LibPath, Runtime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = Runtime::builder()
        .sandbox(true)
        .memory_limit(16 << 20)
        .lib_path(LibPath::from_env())
        .build()?;

    // The host's own API, next to Assay's builtins.
    let lua = runtime.lua();
    lua.globals().set("host_name", "embed-example")?;

    let script = r#"
        local cfg = yaml.parse("retries: 3\ntargets: [a, b]")
        print(host_name .. ": " .. json.encode(cfg, {sort_keys = true}))
    "#;
    if let Err(e) = runtime.run_chunk(script, "=embedded") {
        eprintln!("{}", e.report());
        std::process::exit(1);
    }
    Ok(())
}
