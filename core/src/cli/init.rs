//! `assay init [DIR] [--name NAME]`: a new project that runs and whose test passes as created:
//!
//! ```text
//! assay.yaml            name, version, requires.assay, dependencies: {}
//! main.lua              the entry script: `assay main.lua`
//! app.lua               the project's code, a module main.lua and the tests require
//! tests/main_test.lua   `assay test` runs it
//! .luarc.json, .assay/types/   the editor's and type checker's settings and definitions
//!                       (`assay types` writes them; run it again after installing)
//! Dockerfile            the script on the layered images, its packages from the lock
//! README.md, .gitignore (lua_modules/ and .assay/ are built, not committed)
//! assay.lock            empty: `assay install --locked` works from the start
//! ```
//!
//! A folder that already has an `assay.yaml` is refused; no existing file is ever overwritten
//! (each file is created new, and init stops at the first that exists, naming it, before
//! writing any).

use std::path::Path;

use super::Failure;
use super::spec::Matches;

pub fn run(matches: &Matches) -> Result<u8, Failure> {
    let fail = |message: String| Failure {
        message: format!("assay: init: {message}"),
        code: 1,
    };
    let dir = Path::new(matches.positionals.first().map_or(".", String::as_str));
    let absolute = std::path::absolute(dir).map_err(|e| fail(e.to_string()))?;
    let name = match matches.value("name") {
        Some(n) => n.to_owned(),
        None => folder_name(&absolute),
    };
    if !assay_manifest::is_package_name(&name) {
        return Err(fail(format!(
            "'{name}' is not a project name (lower-case letters, digits, '-' and '_', starting with a letter): pass --name"
        )));
    }
    let core = crate::core_version();
    let files = files(&name, &core);
    if absolute.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
        return Err(fail(format!("{} is not a folder", absolute.display())));
    }
    // Everything checked before anything is written: a file, link or folder in the way of
    // any of them (a dangling link too), or something not a folder where one goes.
    for (path, _) in &files {
        let target = absolute.join(path);
        if target.symlink_metadata().is_ok() {
            return Err(fail(format!(
                "{} exists already: init creates a project in a new or empty folder and overwrites nothing",
                target.display()
            )));
        }
        let mut folder = target.parent();
        while let Some(dir) = folder.filter(|d| d.starts_with(&absolute) && *d != absolute) {
            if dir.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
                return Err(fail(format!(
                    "{} is in the way: it should be a folder",
                    dir.display()
                )));
            }
            folder = dir.parent();
        }
    }
    for (path, text) in &files {
        let target = absolute.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| fail(format!("{}: {e}", parent.display())))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| fail(format!("{}: {e}", target.display())))?;
        std::io::Write::write_all(&mut file, text.as_bytes())
            .map_err(|e| fail(format!("{}: {e}", target.display())))?;
    }
    // The editor's settings and definitions, as `assay types` writes them.
    crate::types::write(&absolute, &super::roots_for(&absolute))
        .map_err(|e| fail(format!("types: {e}")))?;
    eprintln!(
        "created project {name} in {}\n  assay main.lua        run it\n  assay test            run its tests\n  assay install k8s     add a package\n  assay types           editor and type-checker definitions",
        absolute.display()
    );
    Ok(0)
}

/// The folder's name as a project name: lower-cased, other characters as '-'.
fn folder_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    raw.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn files(name: &str, core: &semver::Version) -> Vec<(&'static str, String)> {
    let requirement = format!(">={}.{}", core.major, core.minor);
    let image_tag = format!("{}.{}", core.major, core.minor);
    vec![
        (
            "assay.yaml",
            format!(
                "name: {name}\nversion: 0.1.0\ndescription: \"\"\nrequires:\n  assay: \"{requirement}\"\n# Packages, with Cargo-style requirements: `assay install k8s` adds one.\ndependencies: {{}}\n# Where to install them from, in order (or --registry, or ASSAY_REGISTRY):\n# registries:\n#   - oci://registry.example.org/assay\n"
            ),
        ),
        (
            "main.lua",
            "-- The entry script: `assay main.lua [NAME]`.\nlocal app = require(\"app\")\n\nprint(app.greeting(arg[1] or \"world\"))\n".into(),
        ),
        (
            "app.lua",
            format!(
                "--- {name}: the project's code, required by main.lua and the tests.\nlocal M = {{}}\n\n--- The greeting for `who`.\n---@param who string\n---@return string\nfunction M.greeting(who)\n  if type(who) ~= \"string\" or who == \"\" then\n    error(\"greeting: who must be a non-empty string\", 2)\n  end\n  return \"hello, \" .. who\nend\n\nreturn M\n"
            ),
        ),
        (
            "tests/main_test.lua",
            "-- Run with `assay test` from the project's folder.\nlocal app = require(\"app\")\n\ntest(\"greets by name\", function()\n  assert.eq(app.greeting(\"assay\"), \"hello, assay\")\nend)\n\ntest(\"refuses an empty name\", function()\n  local ok, err = pcall(app.greeting, \"\")\n  assert.eq(ok, false)\n  assert.contains(err, \"non-empty\")\nend)\n".into(),
        ),
        (
            "Dockerfile",
            format!(
                "# The packages come from the lock, installed in a build stage (the full image has the\n# http plugin that fetches them) into the project's lua_modules/, which `require` searches\n# first. The stage runs as the image's user (65532), so its folder is that user's; the\n# runtime takes the packages as root's. Use your registry's full image names.\nARG ASSAY_VERSION={image_tag}\nFROM assay-full:${{ASSAY_VERSION}} AS packages\nCOPY --chown=65532:65532 assay.yaml assay.lock* /tmp/src/\nWORKDIR /tmp/src\nRUN [\"assay\", \"install\", \"--locked\", \"--root\", \"/tmp/src/lua_modules\"]\n\n# The runtime: the full image, or the core with only the plugins and packages the project\n# uses (the images' README shows how). The code and packages belong to root: the user the\n# script runs as reads them and cannot change them.\nFROM assay-full:${{ASSAY_VERSION}}\nCOPY assay.yaml /app/\nCOPY --from=packages --chown=0:0 /tmp/src/lua_modules/ /app/lua_modules/\nCOPY *.lua /app/\nWORKDIR /app\nENTRYPOINT [\"assay\", \"/app/main.lua\"]\n# The base image's labels describe Assay: this image is the project.\nLABEL org.opencontainers.image.title=\"{name}\" org.opencontainers.image.description=\"\" \\\n      org.opencontainers.image.version=\"\" org.opencontainers.image.revision=\"\" \\\n      org.opencontainers.image.source=\"\" org.opencontainers.image.licenses=\"\"\n"
            ),
        ),
        (
            "README.md",
            format!(
                "# {name}\n\nAn Assay project.\n\n```sh\nassay main.lua            # run it\nassay test                # its tests (tests/*_test.lua)\nassay install k8s         # add a package: assay.yaml and assay.lock change, lua_modules/ fills\nassay install --locked    # exactly what assay.lock says (CI, image builds)\nassay types               # definitions for the editor and type checkers (.assay/types)\n```\n\n`require` finds the project's packages in `lua_modules/` first. Commit `assay.lock`;\n`lua_modules/` and `.assay/` are rebuilt from it.\n"
            ),
        ),
        (".gitignore", "/lua_modules/\n/.assay/\n".into()),
        // An empty lock: `assay install --locked` (the Dockerfile's) works before any package.
        (
            crate::install::lock::LOCK_FILE,
            crate::install::lock::Lock::default().render(),
        ),
    ]
}
