//! Assay: a Lua 5.5 runtime for platform automation, and the host of its native plugins.
//!
//! The binary (`assay`) is a thin command line over this library; embedders build a
//! [`Runtime`] the same way:
//!
//! ```no_run
//! use assay::{LibPath, Runtime};
//! let rt = Runtime::builder()
//!     .sandbox(false)
//!     .memory_limit(64 << 20)
//!     .lib_path(LibPath::parse("/opt/assay/lib"))
//!     .build()?;
//! rt.run_file(std::path::Path::new("job.lua"), &["--dry-run".to_string()])?;
//! # Ok::<(), assay::RunError>(())
//! ```

pub mod builtins;
pub mod check;
pub mod cli;
pub mod install;
pub mod plugin;
pub mod report;
pub mod resolve;
pub mod testing;
pub mod types;
pub mod vm;

pub use resolve::LibPath;
pub use vm::{Report, RunError, Runtime, RuntimeBuilder};

/// The core's version (from Cargo), checked against `requires.assay` of packages and plugins.
pub fn core_version() -> semver::Version {
    semver::Version::parse(env!("CARGO_PKG_VERSION"))
        .unwrap_or_else(|_| semver::Version::new(0, 0, 0))
}

/// Lua's version string of the embedded interpreter, e.g. `Lua 5.5.0`.
pub fn lua_version() -> String {
    let lua = mlua::Lua::new();
    lua.globals()
        .get::<String>("_VERSION")
        .unwrap_or_else(|_| "Lua 5.5".to_string())
}
