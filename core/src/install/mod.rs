//! Lua packages as archives, where they come from, which versions to install, and the verified
//! atomic install into a lib-path root (DESIGN.md's `src/install/`): what `assay package` makes
//! and `assay install`, `update`, `remove`, `search` and `publish` do.

pub mod archive;
pub mod index;
pub mod lock;
pub mod oci;
pub mod plan;
pub mod remote;
pub mod resolve;
pub mod source;
pub mod store;
