//! Manifests of Assay packages and plugins, and the one place where version compatibility is decided.
//!
//! A package is a folder on the lib path holding `manifest.yaml` beside its Lua files:
//!
//! ```yaml
//! name: crossplane
//! version: 0.3.1
//! description: Crossplane helpers
//! requires:
//!   assay: ">=0.1, <0.3"
//! depends:
//!   k8s: "^0.2"
//! requires_builtins: [http.client, json]
//! ```
//!
//! Requirements use Cargo's syntax (`0.2` means `^0.2`), decided by [`satisfies`].
//!
//! ```
//! use assay_manifest::PackageManifest;
//! let m = PackageManifest::parse("name: k8s\nversion: 0.1.0\nrequires: {assay: '>=0.1'}\n").unwrap();
//! let core = semver::Version::new(0, 1, 0);
//! assert!(m.check_core(&core).is_ok());
//! ```

mod common;
mod error;
mod flat;
mod package;
mod plugin;
mod project;
mod version;
mod yaml;

pub use common::is_package_name;
pub use error::{Incompatible, ManifestError};
pub use package::{PackageManifest, Requires};
pub use plugin::{AbiMismatch, PluginManifest, default_core_requirement, is_lua_name, quote};
pub use project::{PROJECT_FILE, ProjectManifest, with_dependencies};
pub use version::{parse_requirement, satisfies};

/// The file name every manifest has, in every lib-path root.
pub const MANIFEST_FILE: &str = "manifest.yaml";

/// The largest manifest read. A manifest is a few hundred bytes; the cap keeps a manifest that
/// is a symlink to `/dev/zero`, or a huge file, from costing every start of the binary
/// (manifests are read at start-up) more than a clear refusal.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
