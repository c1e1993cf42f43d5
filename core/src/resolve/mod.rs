//! Where Lua packages come from: the lib path, and the `require` searcher over it.

mod lib_path;
mod requirements;
mod searcher;

pub use lib_path::{LibPath, MODULES_DIR, find_project};
pub use requirements::check as check_requirements;
pub use searcher::{ScriptDir, install};
