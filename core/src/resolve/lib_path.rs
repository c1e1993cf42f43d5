use std::path::{Path, PathBuf};

/// The ordered roots searched for packages (and, later, plugins); first match wins, like PATH.
///
/// `ASSAY_LIB_PATH` is a `:`-separated list of roots (empty entries ignored). When it is
/// unset: the user's data dir (`$XDG_DATA_HOME/assay`, else `~/.local/share/assay`), then
/// `<dir of the assay binary>/../lib/assay`, then `/usr/local/lib/assay`, and last
/// `<dir of the assay binary>/assay-lib` (the root a cargo build assembles beside the binary).
/// A root named twice is searched once, where it first appears: a binary installed as
/// `/usr/local/bin/assay` (the images, a release unpacked in `/usr/local`) has
/// `/usr/local/lib/assay` as both its own root and the system's, and every plugin in it would
/// otherwise be listed twice, shadowing itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LibPath {
    roots: Vec<PathBuf>,
}

impl LibPath {
    /// Roots from a `:`-separated list.
    pub fn parse(list: &str) -> Self {
        Self::from_roots(list.split(':').filter(|s| !s.is_empty()).map(PathBuf::from))
    }

    pub fn from_roots(roots: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut unique: Vec<PathBuf> = Vec::new();
        for root in roots {
            if !unique.contains(&root) {
                unique.push(root);
            }
        }
        Self { roots: unique }
    }

    /// `ASSAY_LIB_PATH` when set, else [`LibPath::defaults`].
    pub fn from_env() -> Self {
        match std::env::var("ASSAY_LIB_PATH") {
            Ok(list) => Self::parse(&list),
            Err(_) => Self::defaults(),
        }
    }

    pub fn defaults() -> Self {
        let bin_dir = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(Path::to_owned));
        Self::defaults_for(bin_dir.as_deref())
    }

    /// The default roots of a binary in `bin_dir`.
    fn defaults_for(bin_dir: Option<&Path>) -> Self {
        let mut roots = Vec::new();
        let data_home = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")));
        if let Some(data) = data_home {
            roots.push(data.join("assay"));
        }
        if let Some(bin_dir) = bin_dir {
            // `<bin>/../lib/assay`, spelled without the `..` where the binary has a parent.
            roots.push(match bin_dir.parent() {
                Some(prefix) => prefix.join("lib/assay"),
                None => bin_dir.join("../lib/assay"),
            });
        }
        roots.push(PathBuf::from("/usr/local/lib/assay"));
        // Last: cargo's output folder, where plugin builds assemble a root beside the binary
        // (`target/release/assay-lib`), so a development build finds the plugins built with it.
        if let Some(bin_dir) = bin_dir {
            roots.push(bin_dir.join("assay-lib"));
        }
        Self::from_roots(roots)
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// These roots with the project's own first: `lua_modules/` beside the nearest
    /// `assay.yaml` in `start` or a folder above it (like `node_modules`), when there is one.
    /// A project's packages win over the same names installed elsewhere.
    pub fn with_project(mut self, start: &Path) -> Self {
        if let Some(project) = find_project(start) {
            let modules = project.join(MODULES_DIR);
            self.roots.retain(|r| r != &modules);
            self.roots.insert(0, modules);
        }
        self
    }
}

/// The folder, beside a project's `assay.yaml`, that `assay install` installs into.
pub const MODULES_DIR: &str = "lua_modules";

/// The folder holding the nearest `assay.yaml`: `start` (made absolute) or the first of its
/// parents that has one.
pub fn find_project(start: &Path) -> Option<PathBuf> {
    let start = std::path::absolute(start).ok()?;
    start
        .ancestors()
        .find(|dir| dir.join(assay_manifest::PROJECT_FILE).is_file())
        .map(Path::to_owned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails by panicking

    use super::*;

    #[test]
    fn parse_skips_empty_entries() {
        let p = LibPath::parse("/a::/b:");
        assert_eq!(p.roots(), [PathBuf::from("/a"), PathBuf::from("/b")]);
    }

    #[test]
    fn a_root_named_twice_is_searched_once_where_it_first_appears() {
        let p = LibPath::parse("/b:/a:/b");
        assert_eq!(p.roots(), [PathBuf::from("/b"), PathBuf::from("/a")]);
    }

    #[test]
    fn a_binary_in_usr_local_bin_has_usr_local_lib_assay_once() {
        let p = LibPath::defaults_for(Some(Path::new("/usr/local/bin")));
        let system = PathBuf::from("/usr/local/lib/assay");
        assert_eq!(p.roots().iter().filter(|r| **r == system).count(), 1);
        assert!(
            p.roots()
                .last()
                .is_some_and(|r| r.ends_with("bin/assay-lib"))
        );
    }

    #[test]
    fn a_project_root_comes_first_found_from_below() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p");
        std::fs::create_dir_all(project.join("src/deep")).unwrap();
        std::fs::write(project.join("assay.yaml"), "name: p\nversion: 0.1.0\n").unwrap();
        let modules = project.join("lua_modules");
        let p = LibPath::parse("/a").with_project(&project.join("src/deep"));
        assert_eq!(p.roots(), [modules.clone(), PathBuf::from("/a")]);
        // listed already: moved first, not doubled
        let listed = format!("/a:{}", modules.display());
        let p = LibPath::parse(&listed).with_project(&project);
        assert_eq!(p.roots(), [modules, PathBuf::from("/a")]);
        // no project above: unchanged
        let p = LibPath::parse("/a").with_project(dir.path());
        assert_eq!(p.roots(), [PathBuf::from("/a")]);
    }

    #[test]
    fn defaults_end_with_the_system_root_then_the_build_output() {
        let p = LibPath::defaults();
        let roots = p.roots();
        assert!(roots.contains(&PathBuf::from("/usr/local/lib/assay")));
        assert!(roots.last().is_some_and(|r| r.ends_with("assay-lib")));
    }
}
