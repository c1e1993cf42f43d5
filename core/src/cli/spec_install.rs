//! The package manager's subcommands, in the tables of `spec.rs`: install, update, remove,
//! search, publish, init, types.

use super::spec::{Complete, Flag, HELP_FLAG, LIB_PATH, Subcommand, repeated, switch, valued};

const REGISTRY: Flag = repeated(
    "registry",
    "URL",
    "Registry to use (a folder, file://, http(s)://, oci://; repeat for several, tried in order); default: $ASSAY_REGISTRY, then the project's registries",
    Complete::Nothing,
);
const ROOT: Flag = valued(
    "root",
    "DIR",
    "Install into this lib-path root (default: the project's lua_modules/, outside a project the user's data folder)",
    Complete::Dir,
);
const DRY_RUN: Flag = switch("dry-run", None, "Print what would change, change nothing");
const LOCKED: Flag = switch(
    "locked",
    None,
    "Fail instead of changing assay.lock (for CI and image builds)",
);
const QUIET: Flag = switch("quiet", Some('q'), "No progress bar, no summary");

pub const INSTALL: Subcommand = Subcommand {
    name: "install",
    positionals: "[PKG[@REQ]...]",
    arity: (0, None),
    complete: Complete::Nothing,
    summary: "Install Lua packages and their dependencies (a project's, or those named)",
    about: "\
In a project (an assay.yaml here or above): installs its dependencies into lua_modules/ beside
it, adding the packages named (k8s, k8s@^0.2, vault@0.1.3) to its dependencies, and writes
assay.lock (exact versions, sources, sha256). A lock that still fits the project is installed
exactly as it is. Outside a project: installs the packages named into --root, or the user's
data folder. Archives are checked against their sha256 before unpacking and swapped in whole:
a failed or interrupted install leaves the previous packages as they were.",
    flags: &[REGISTRY, ROOT, LOCKED, DRY_RUN, QUIET, LIB_PATH, HELP_FLAG],
};

pub const UPDATE: Subcommand = Subcommand {
    name: "update",
    positionals: "[PKG...]",
    arity: (0, None),
    complete: Complete::Nothing,
    summary: "Move a project's packages to the newest versions its requirements allow",
    about: "\
Resolves the project's dependencies again, letting go of the locked versions of the packages
named (every package without names), installs the result and rewrites assay.lock.",
    flags: &[REGISTRY, ROOT, DRY_RUN, QUIET, LIB_PATH, HELP_FLAG],
};

pub const REMOVE: Subcommand = Subcommand {
    name: "remove",
    positionals: "PKG...",
    arity: (1, None),
    complete: Complete::Nothing,
    summary: "Remove packages (from the project, or from --root)",
    about: "\
In a project (without --root): takes the packages out of its dependencies, removes what nothing
needs any more from lua_modules/ and rewrites assay.lock; no registry is needed. Refused while
another package of the project needs one; --force takes it out of the dependencies anyway (it
stays installed while needed). With --root: removes the packages' folders from that root,
refused while another package there depends on one unless --force.",
    flags: &[
        ROOT,
        switch(
            "force",
            None,
            "Remove even while other packages depend on it",
        ),
        DRY_RUN,
        QUIET,
        HELP_FLAG,
    ],
};

pub const SEARCH: Subcommand = Subcommand {
    name: "search",
    positionals: "[TERM]",
    arity: (0, Some(1)),
    complete: Complete::Nothing,
    summary: "Find packages in the registries by name or description",
    about: "\
Lists the packages whose name or description contains TERM (any case; every package without
TERM): name, newest version, description; with --json, one object per package with every
version.",
    flags: &[
        REGISTRY,
        switch("json", None, "Print JSON"),
        LIB_PATH,
        HELP_FLAG,
    ],
};

pub const PUBLISH: Subcommand = Subcommand {
    name: "publish",
    positionals: "DIR",
    arity: (1, Some(1)),
    complete: Complete::Dir,
    summary: "Pack a Lua package and push it to an OCI registry",
    about: "\
Packs DIR as `assay package` does and pushes it to the OCI registry given by --registry
(oci://host/path, oci+http:// without TLS) as <path>/<name>:<version>, an artifact whose layer
is the archive. Credentials: ASSAY_REGISTRY_USER and ASSAY_REGISTRY_PASSWORD, else Docker's
config.json. A version already published with other bytes is refused.",
    flags: &[REGISTRY, LIB_PATH, HELP_FLAG],
};

pub const INIT: Subcommand = Subcommand {
    name: "init",
    positionals: "[DIR]",
    arity: (0, Some(1)),
    complete: Complete::Dir,
    summary: "Create a project: assay.yaml, main.lua, a test, editor and Docker set-up",
    about: "\
Creates DIR (default: the current folder) as a project named after it: assay.yaml, main.lua,
tests/main_test.lua (run it with `assay test`), .luarc.json wired to the type definitions
(`assay types`), a Dockerfile on the layered images, a README and a .gitignore. Files already
there are never overwritten: init refuses a folder that has an assay.yaml.",
    flags: &[
        valued(
            "name",
            "NAME",
            "The project's name (default: the folder's)",
            Complete::Nothing,
        ),
        LIB_PATH,
        HELP_FLAG,
    ],
};

pub const TYPES: Subcommand = Subcommand {
    name: "types",
    positionals: "[DIR]",
    arity: (0, Some(1)),
    complete: Complete::Dir,
    summary: "Write LuaCATS definitions and .luarc.json for editors and type checkers",
    about: "\
Writes LuaCATS definitions (---@meta files) into DIR/.assay/types (DIR: the current folder by
default) for the core globals, every usable plugin on the lib path and every installed package
(the project's lua_modules first), and makes or updates DIR/.luarc.json (runtime.version
\"Lua 5.5\", .assay/types in workspace.library; other settings are kept), so that
lua-language-server and EmmyLua (emmylua_check) know the whole API. Run it again after
installing or removing packages or plugins.",
    flags: &[LIB_PATH, HELP_FLAG],
};
