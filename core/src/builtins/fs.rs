//! `fs`: files and folders. Paths are UTF-8 strings; contents are byte strings.
//!
//! `fs.write` is atomic: the data goes to a temporary file in the same folder, is flushed to
//! disk, keeps the old file's permissions, and is renamed over the target (then the folder is
//! flushed too), so a reader sees the old content or the new, never half, even after a crash.
//! `fs.read` reads regular files only, no larger than the memory the script has left.
//! Errors read `fs.read: <path>: <reason>`.
//!
//! `fs.write` on a symlink writes through it, as `echo data > link` and `open(link, "w")` in
//! Python or Node do, and as npm's `write-file-atomic` does: the links are followed to the
//! file they name (created if the chain ends at a name that does not exist yet), and that file
//! is replaced atomically in its own folder; the link stays a link. A dotfile linked into a
//! repository, an `/etc/alternatives` entry or a Kubernetes ConfigMap mount (`app.yaml ->
//! ..data/app.yaml`) thus keeps its layout, where renaming over the path itself would turn the
//! link into a plain file and leave its target stale. ConfigMap and Secret volumes are mounted
//! read-only, so writing to one fails with "Read-only file system", naming the file the link
//! leads to. A hard link is not followed (no one can tell which name is the file): the write
//! gives the path a new file, and other names keep the old content.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use mlua::{Lua, Table};

use super::args::Args;
use super::function::{BuiltinResult, Raise, function};

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set("read", function(lua, "fs.read", read)?)?;
    t.raw_set("write", function(lua, "fs.write", write)?)?;
    t.raw_set("append", function(lua, "fs.append", append)?)?;
    t.raw_set("exists", function(lua, "fs.exists", exists)?)?;
    t.raw_set("list", function(lua, "fs.list", list)?)?;
    t.raw_set("glob", function(lua, "fs.glob", glob_paths)?)?;
    t.raw_set("mkdir", function(lua, "fs.mkdir", mkdir)?)?;
    t.raw_set("remove", function(lua, "fs.remove", remove)?)?;
    t.raw_set("stat", function(lua, "fs.stat", stat)?)?;
    t.raw_set("copy", function(lua, "fs.copy", copy)?)?;
    t.raw_set("rename", function(lua, "fs.rename", rename)?)?;
    t.raw_set("tempdir", function(lua, "fs.tempdir", tempdir)?)?;
    Ok(())
}

fn io_error(path: &Path, e: io::Error) -> Raise {
    Raise::Message(format!("{}: {}", path.display(), describe(&e)))
}

/// The OS message without Rust's " (os error 2)" suffix.
pub(crate) fn describe(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn path(args: &Args, pos: usize, name: &str) -> BuiltinResult<PathBuf> {
    let p = args.string(pos, name)?;
    if p.is_empty() {
        return Err(args.invalid(pos, name, "empty path"));
    }
    Ok(PathBuf::from(p))
}

/// `fs.read(path)`: a regular file's bytes, at most what the VM has left of its memory (a
/// device such as `/dev/zero` never ends, a FIFO may never send: both are refused; read
/// streams with `io.open`).
fn read(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(1)?;
    let p = path(&args, 1, "path")?;
    let data = crate::vm::memory::with_reclaim(lua, assay_files::ReadError::is_too_large, || {
        let room = crate::vm::memory::available(lua).map_or(u64::MAX, |r| r as u64);
        assay_files::read_regular(&p, room)
    })
    .map_err(|e| match e {
        assay_files::ReadError::Io { source, .. } => io_error(&p, source),
        assay_files::ReadError::NotRegular { kind, .. } => Raise::Message(format!(
            "{}: it is {kind}, not a regular file (read streams with io.open)",
            p.display()
        )),
        assay_files::ReadError::TooLarge { max, .. } => Raise::Message(format!(
            "{}: larger than the memory the script has left ({}; raise --memory-limit)",
            p.display(),
            assay_files::describe_size(max)
        )),
    })?;
    Ok(lua.create_string(data)?)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{nanos:x}-{n}", std::process::id())
}

/// The most symlinks followed from one path, as Linux's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

/// `path` with its symlinks followed to the name of a file (existing or not) that is not a
/// link, as opening the path for writing would follow them; a loop is an error.
pub fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_owned();
    for _ in 0..=MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            // A link to a name that does not exist yet: writing creates it, as `>` does.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "too many levels of symbolic links (more than {MAX_LINKS})"
    )))
}

/// Replaces the file `target` with `data` atomically (see the module docs): a temporary file
/// in its folder, renamed over it. A symlink at `target` would be replaced by the file, not
/// written through: pass the path [`follow_links`] gives.
///
/// The atomic replacement is for regular files (and new ones). An existing character device
/// or FIFO (`/dev/null`, a terminal, a named pipe) is written in place, as `> /dev/null` does,
/// never replaced by a regular file; a FIFO with no reader is an error, not a wait. A directory,
/// a block device or a socket is an error naming it (see `assay_files::special_for_writing`).
pub fn write_atomic(target: &Path, data: &[u8]) -> io::Result<()> {
    if let Some(mut special) = assay_files::special_for_writing(target)? {
        return special.write_all(data);
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let temp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        unique_suffix()
    ));
    let existing_mode = fs::metadata(target).ok().map(|m| m.permissions().mode());
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&temp)?;
        file.write_all(data)?;
        if let Some(mode) = existing_mode {
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        file.sync_all()?;
        fs::rename(&temp, target)?;
        // The rename itself survives a crash only once the folder is on disk too.
        fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn write(_: &Lua, args: Args) -> BuiltinResult<()> {
    args.at_most(2)?;
    let p = path(&args, 1, "path")?;
    let data = args.bytes(2, "data")?;
    // A device or FIFO is written through the path as given: resolving `/dev/stdout` gives
    // `/proc/self/fd/1` and then a pipe's `pipe:[N]`, which is no path at all.
    // (Its errors come again, worded for the path, from the same check in `write_atomic`.)
    if let Ok(Some(mut special)) = assay_files::special_for_writing(&p) {
        return special
            .write_all(&data.as_bytes())
            .map_err(|e| io_error(&p, e));
    }
    let target = follow_links(&p).map_err(|e| io_error(&p, e))?;
    write_atomic(&target, &data.as_bytes()).map_err(|e| {
        if target == p {
            io_error(&p, e)
        } else {
            // Say where the link led: that is the file that could not be written.
            Raise::Message(format!(
                "{} (a link to {}): {}",
                p.display(),
                target.display(),
                describe(&e)
            ))
        }
    })
}

fn append(_: &Lua, args: Args) -> BuiltinResult<()> {
    args.at_most(2)?;
    let p = path(&args, 1, "path")?;
    let data = args.bytes(2, "data")?;
    let mut file = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&p)
        .map_err(|e| io_error(&p, e))?;
    file.write_all(&data.as_bytes())
        .map_err(|e| io_error(&p, e))
}

/// False when nothing is there, and when a component of the path is a file (`a.txt/b`, as
/// Python's `os.path.exists`); an error when the answer cannot be known (permission denied on
/// a folder on the way), as Deno's `exists`.
fn exists(_: &Lua, args: Args) -> BuiltinResult<bool> {
    args.at_most(1)?;
    let p = path(&args, 1, "path")?;
    match p.try_exists() {
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Ok(false),
        result => result.map_err(|e| io_error(&p, e)),
    }
}

fn string_list(lua: &Lua, items: Vec<String>) -> BuiltinResult<Table> {
    let list = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, item) in items.into_iter().enumerate() {
        list.raw_seti(i + 1, item)?;
    }
    Ok(list)
}

/// Names in a folder, sorted, without `.` and `..`.
fn list(lua: &Lua, args: Args) -> BuiltinResult<Table> {
    args.at_most(1)?;
    let p = path(&args, 1, "dir")?;
    let mut names = Vec::new();
    for entry in fs::read_dir(&p).map_err(|e| io_error(&p, e))? {
        let entry = entry.map_err(|e| io_error(&p, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    string_list(lua, names)
}

/// Paths matching a shell pattern (`*`, `?`, `[ab]`, `**`), sorted.
fn glob_paths(lua: &Lua, args: Args) -> BuiltinResult<Table> {
    args.at_most(1)?;
    let pattern = args.string(1, "pattern")?;
    let paths = glob::glob(&pattern).map_err(|e| args.invalid(1, "pattern", e))?;
    let mut found = Vec::new();
    for entry in paths {
        let entry = entry.map_err(|e| {
            io_error(
                e.path(),
                io::Error::new(e.error().kind(), e.error().to_string()),
            )
        })?;
        found.push(entry.to_string_lossy().into_owned());
    }
    found.sort();
    string_list(lua, found)
}

fn mkdir(_: &Lua, args: Args) -> BuiltinResult<()> {
    args.at_most(2)?;
    let p = path(&args, 1, "path")?;
    let opts = args.options(2)?;
    opts.only(&["parents"])?;
    let parents = opts.bool("parents", false)?;
    let result = if parents {
        fs::create_dir_all(&p)
    } else {
        fs::create_dir(&p)
    };
    result.map_err(|e| io_error(&p, e))
}

fn remove(_: &Lua, args: Args) -> BuiltinResult<()> {
    args.at_most(2)?;
    let p = path(&args, 1, "path")?;
    let opts = args.options(2)?;
    opts.only(&["recursive"])?;
    let recursive = opts.bool("recursive", false)?;
    let meta = fs::symlink_metadata(&p).map_err(|e| io_error(&p, e))?;
    let result = if !meta.is_dir() {
        fs::remove_file(&p)
    } else if recursive {
        fs::remove_dir_all(&p)
    } else {
        fs::remove_dir(&p)
    };
    result.map_err(|e| match e.kind() {
        io::ErrorKind::DirectoryNotEmpty => Raise::Message(format!(
            "{}: directory not empty (pass {{recursive = true}} to remove it with its contents)",
            p.display()
        )),
        _ => io_error(&p, e),
    })
}

fn stat(lua: &Lua, args: Args) -> BuiltinResult<Table> {
    args.at_most(1)?;
    let p = path(&args, 1, "path")?;
    let meta = fs::metadata(&p).map_err(|e| io_error(&p, e))?;
    let t = lua.create_table()?;
    t.raw_set("size", meta.len())?;
    t.raw_set("is_dir", meta.is_dir())?;
    t.raw_set("is_file", meta.is_file())?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    t.raw_set("mtime", mtime)?;
    t.raw_set("mode", meta.permissions().mode() & 0o7777)?;
    Ok(t)
}

fn copy(_: &Lua, args: Args) -> BuiltinResult<()> {
    args.at_most(2)?;
    let from = path(&args, 1, "src")?;
    let to = path(&args, 2, "dst")?;
    fs::copy(&from, &to).map(|_| ()).map_err(|e| {
        Raise::Message(format!(
            "{} -> {}: {}",
            from.display(),
            to.display(),
            describe(&e)
        ))
    })
}

fn rename(_: &Lua, args: Args) -> BuiltinResult<()> {
    args.at_most(2)?;
    let from = path(&args, 1, "src")?;
    let to = path(&args, 2, "dst")?;
    fs::rename(&from, &to).map_err(|e| {
        Raise::Message(format!(
            "{} -> {}: {}",
            from.display(),
            to.display(),
            describe(&e)
        ))
    })
}

/// A new, empty, private folder under the system temp dir; the script owns (and removes) it.
fn tempdir(_: &Lua, args: Args) -> BuiltinResult<String> {
    args.at_most(0)?;
    let base = std::env::temp_dir();
    for _ in 0..100 {
        let candidate = base.join(format!("assay-{}", unique_suffix()));
        match fs::DirBuilder::new().mode(0o700).create(&candidate) {
            Ok(()) => return Ok(candidate.to_string_lossy().into_owned()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(&candidate, e)),
        }
    }
    Err(Raise::msg(format!(
        "{}: could not create a unique folder",
        base.display()
    )))
}
