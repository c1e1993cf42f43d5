//! A package's archive: `<name>-<version>.tar.gz`, made by [`pack`] and checked and unpacked by
//! [`unpack`].
//!
//! **Packing** is reproducible: the same folder gives the same bytes (checked by its sha256),
//! whoever packs it and when. Entries are `<name>/<path>` (the package's folder as it is
//! installed under a lib-path root), sorted by path, with mtime 0, owner 0:0 and no owner
//! names, mode 0644 (0755 for a file with any execute bit, and for folders); gzip without a file
//! name or time. The manifest must be valid and named like the folder's package. Left out: dot
//! files and folders (`.git`, editor files), and `tests/` at the top (a package's tests stay in
//! its repository, as npm packages leave theirs out). A symbolic link, a device or a FIFO in
//! the folder is refused by name: a package is plain files.
//!
//! **Unpacking** trusts nothing in the archive: every entry must be a regular file or a folder
//! under `<name>/` (no absolute path, no `..`, no link of either kind, no device), at most
//! [`Limits`] entries and bytes (counted as they are decompressed, so a small archive cannot
//! expand past them); files are created new inside a folder the caller made, which then renames
//! it into place (see `install`), so a refused or broken archive leaves nothing behind.

use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use assay_manifest::{MANIFEST_FILE, PackageManifest};
use flate2::Compression;
use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

/// Why a folder could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("{0}: not a package ({MANIFEST_FILE} is missing)")]
    NoManifest(PathBuf),
    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("{path}: the manifest names package '{name}', but the folder is '{folder}'")]
    Misnamed {
        path: PathBuf,
        name: String,
        folder: String,
    },
    #[error("{0}: a package holds plain files and folders only (this is a {1})")]
    NotPlain(PathBuf, &'static str),
    #[error("{0}: {1}")]
    Io(PathBuf, io::Error),
}

/// Why an archive was refused.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("not a package archive: {0}")]
    Corrupt(String),
    #[error("entry '{0}' is outside the package's folder '{1}/'")]
    Outside(String, String),
    #[error("entry '{0}' is a {1}: a package holds plain files and folders only")]
    NotPlain(String, &'static str),
    #[error("more than {0} entries")]
    TooManyEntries(usize),
    #[error("more than {0} bytes once unpacked")]
    TooLarge(u64),
    #[error("entry '{0}' appears twice")]
    Duplicate(String),
    #[error("no {MANIFEST_FILE} at the package's top")]
    NoManifest,
    #[error("{0}: {1}")]
    Io(PathBuf, io::Error),
}

/// A packed package.
#[derive(Debug, Clone)]
pub struct Packed {
    pub manifest: PackageManifest,
    /// The archive's bytes (gzip).
    pub bytes: Vec<u8>,
    /// Lower-case hex sha256 of `bytes`.
    pub sha256: String,
    /// `<name>-<version>.tar.gz`.
    pub file_name: String,
}

impl Packed {
    /// The archive's entry for a registry's index.
    pub fn entry(&self) -> super::index::Entry {
        let m = &self.manifest;
        super::index::Entry {
            name: m.name.clone(),
            version: m.version.clone(),
            description: m.description.clone(),
            requires_assay: m.requires.assay.clone(),
            depends: m.depends.clone(),
            sha256: self.sha256.clone(),
            size: self.bytes.len() as u64,
            file: self.file_name.clone(),
        }
    }
}

/// Packs the package in `dir` (see the module docs).
pub fn pack(dir: &Path) -> Result<Packed, PackError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    if !manifest_path.is_file() {
        return Err(PackError::NoManifest(dir.to_owned()));
    }
    let manifest = PackageManifest::read(&manifest_path).map_err(|e| PackError::Manifest {
        path: manifest_path.clone(),
        message: e.to_string(),
    })?;
    let folder = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    if folder != manifest.name {
        return Err(PackError::Misnamed {
            path: manifest_path,
            name: manifest.name.clone(),
            folder,
        });
    }
    let mut files = Vec::new();
    collect(dir, Path::new(""), &mut files)?;
    files.sort();
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut folders_done = std::collections::BTreeSet::new();
    for rel in &files {
        // Each folder once, before its first file.
        let mut parent = PathBuf::new();
        for part in rel.parent().into_iter().flat_map(Path::components) {
            parent.push(part);
            if folders_done.insert(parent.clone()) {
                let mut header = header(tar::EntryType::Directory, 0o755, 0);
                let name = Path::new(&manifest.name).join(&parent);
                tar.append_data(&mut header, name, io::empty())
                    .map_err(|e| PackError::Io(dir.join(&parent), e))?;
            }
        }
        let path = dir.join(rel);
        let data = std::fs::read(&path).map_err(|e| PackError::Io(path.clone(), e))?;
        let executable = std::fs::metadata(&path)
            .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
            .unwrap_or(false);
        let mode = if executable { 0o755 } else { 0o644 };
        let mut header = header(tar::EntryType::Regular, mode, data.len() as u64);
        tar.append_data(
            &mut header,
            Path::new(&manifest.name).join(rel),
            data.as_slice(),
        )
        .map_err(|e| PackError::Io(path.clone(), e))?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| PackError::Io(dir.to_owned(), e))?;
    let bytes = gz.finish().map_err(|e| PackError::Io(dir.to_owned(), e))?;
    let sha256 = hex_sha256(&bytes);
    let file_name = format!("{}-{}.tar.gz", manifest.name, manifest.version);
    Ok(Packed {
        manifest,
        bytes,
        sha256,
        file_name,
    })
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// The package's files under `dir`, relative, left out what the module docs say.
fn collect(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), PackError> {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|e| PackError::Io(dir.clone(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| PackError::Io(dir.clone(), e))?;
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if text.starts_with('.') || (rel.as_os_str().is_empty() && text == "tests") {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| PackError::Io(path.clone(), e))?;
        let child = rel.join(&name);
        if kind.is_dir() {
            collect(root, &child, out)?;
        } else if kind.is_file() {
            out.push(child);
        } else {
            let what = if kind.is_symlink() {
                "symbolic link"
            } else {
                "device, socket or FIFO"
            };
            return Err(PackError::NotPlain(path, what));
        }
    }
    Ok(())
}

/// Lower-case hex sha256 of `bytes`.
pub fn hex_sha256(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The most an archive may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub entries: usize,
    /// Bytes of all files together, once decompressed.
    pub bytes: u64,
}

impl Default for Limits {
    /// 10,000 entries, 64 MiB: far past any Lua package (the whole stdlib is under 2 MiB).
    fn default() -> Self {
        Limits {
            entries: 10_000,
            bytes: 64 << 20,
        }
    }
}

/// Reads at most `left` bytes through, then fails: a bound on what decompression produces.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::other(format!("more than {} bytes once unpacked", self.limit))
        })?;
        Ok(n)
    }
}

/// Unpacks package `name`'s archive into `into` (an empty folder the caller made): the package
/// lands in `into/<name>/`. Nothing is trusted (see the module docs); on an error what was
/// written stays in `into`, for the caller to remove with it.
pub fn unpack(bytes: &[u8], name: &str, into: &Path, limits: Limits) -> Result<(), UnpackError> {
    // The tar stream's own bytes (headers, padding) count too: slack for them over the files.
    let stream_limit = limits
        .bytes
        .saturating_add(1024 * (limits.entries as u64 + 2));
    let reader = Bounded {
        inner: GzDecoder::new(bytes),
        left: stream_limit,
        limit: limits.bytes,
    };
    let mut archive = tar::Archive::new(reader);
    let corrupt = |e: io::Error| {
        if e.to_string().contains("bytes once unpacked") {
            UnpackError::TooLarge(limits.bytes)
        } else {
            UnpackError::Corrupt(e.to_string())
        }
    };
    let mut seen = std::collections::HashSet::new();
    let mut total: u64 = 0;
    let mut has_manifest = false;
    for (count, entry) in archive.entries().map_err(corrupt)?.enumerate() {
        if count >= limits.entries {
            return Err(UnpackError::TooManyEntries(limits.entries));
        }
        let mut entry = entry.map_err(corrupt)?;
        let raw = entry.path_bytes().into_owned();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let rel =
            inside(&text, name).ok_or_else(|| UnpackError::Outside(text.clone(), name.into()))?;
        let kind = entry.header().entry_type();
        let is_dir = kind.is_dir();
        if !is_dir && !kind.is_file() {
            return Err(UnpackError::NotPlain(text, kind_name(kind)));
        }
        if !seen.insert(rel.clone()) {
            return Err(UnpackError::Duplicate(text));
        }
        let target = into.join(name).join(&rel);
        if is_dir {
            std::fs::create_dir_all(&target).map_err(|e| UnpackError::Io(target.clone(), e))?;
            continue;
        }
        let size = entry.header().size().map_err(corrupt)?;
        total = total.saturating_add(size);
        if total > limits.bytes {
            return Err(UnpackError::TooLarge(limits.bytes));
        }
        if rel.as_os_str() == MANIFEST_FILE {
            has_manifest = true;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| UnpackError::Io(parent.to_owned(), e))?;
        }
        let executable = entry
            .header()
            .mode()
            .map(|m| m & 0o111 != 0)
            .unwrap_or(false);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| UnpackError::Io(target.clone(), e))?;
        io::copy(&mut entry, &mut file).map_err(corrupt)?;
        file.flush()
            .map_err(|e| UnpackError::Io(target.clone(), e))?;
        let mode = if executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .map_err(|e| UnpackError::Io(target.clone(), e))?;
    }
    if !has_manifest {
        return Err(UnpackError::NoManifest);
    }
    Ok(())
}

/// The path of an entry below `<name>/`, made only of plain components; None otherwise.
fn inside(path: &str, name: &str) -> Option<PathBuf> {
    let mut parts = Path::new(path).components();
    match parts.next()? {
        Component::Normal(first) if first == name => {}
        _ => return None,
    }
    let mut rel = PathBuf::new();
    for part in parts {
        match part {
            Component::Normal(p) => rel.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!rel.as_os_str().is_empty() || path.ends_with('/')).then_some(rel)
}

fn kind_name(kind: tar::EntryType) -> &'static str {
    match kind {
        tar::EntryType::Symlink => "symbolic link",
        tar::EntryType::Link => "hard link",
        tar::EntryType::Char | tar::EntryType::Block => "device",
        tar::EntryType::Fifo => "FIFO",
        _ => "special entry",
    }
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
