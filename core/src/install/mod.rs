//! Lua packages as archives, and (to come) their sources, resolution and lock file
//! (DESIGN.md's `src/install/`): what `assay package` makes and `assay install` unpacks.

pub mod archive;
pub mod index;
pub mod resolve;
