//! A lib-path root as `assay install` changes it: locked against another install, packages
//! staged beside it and swapped in whole.
//!
//! - **One install at a time:** `<root>/.assay-install.lock` is held (`flock`) for the whole
//!   command; another waits up to a minute, then fails naming the root.
//! - **Nothing half-written:** archives are downloaded and unpacked into
//!   `<root>/.assay-staging-<pid>/` (same file system, so renames are atomic), checked there,
//!   and only when every package of the plan is ready is each swapped into place with one
//!   `renameat2(RENAME_EXCHANGE)`: a reader sees the old folder or the new, never a mix, and the
//!   old one is deleted after. A run killed before the swaps leaves the root as it was (its
//!   staging folder is removed by the next install); killed between two swaps, each package is
//!   whole, old or new, and the lock file still names the old plan.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assay_manifest::{MANIFEST_FILE, PackageManifest};

use super::archive::{self, Limits};
use super::index::Entry;

const LOCK_NAME: &str = ".assay-install.lock";
const STAGING_PREFIX: &str = ".assay-staging-";
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// Why a root could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}: {1}")]
    Io(PathBuf, io::Error),
    #[error("{0}: another assay install has held this root for a minute; try again when it ends")]
    Busy(PathBuf),
    #[error(
        "{name} {version}: the archive's sha256 is {actual}, but the registry says {expected}: refusing to install it"
    )]
    Digest {
        name: String,
        version: String,
        expected: String,
        actual: String,
    },
    #[error("{name} {version}: {message}")]
    Archive {
        name: String,
        version: String,
        message: String,
    },
}

fn io_at(path: &Path) -> impl Fn(io::Error) -> StoreError + '_ {
    move |e| StoreError::Io(path.to_owned(), e)
}

/// A root, held for one command.
pub struct Root {
    dir: PathBuf,
    _lock: File,
}

impl Root {
    /// Opens (and creates) `dir` and takes its install lock; clears what an interrupted
    /// install left.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        let lock_path = dir.join(LOCK_NAME);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_at(&lock_path))?;
        let started = Instant::now();
        loop {
            // SAFETY: flock on a file descriptor this function owns.
            if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                break;
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(StoreError::Io(lock_path, e));
            }
            if started.elapsed() > LOCK_WAIT {
                return Err(StoreError::Busy(dir.to_owned()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let root = Self {
            dir: dir.to_owned(),
            _lock: lock,
        };
        root.clear_staging()?;
        Ok(root)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Staging folders of earlier runs: with the lock held, nobody else is using them.
    fn clear_staging(&self) -> Result<(), StoreError> {
        for item in fs::read_dir(&self.dir).map_err(io_at(&self.dir))? {
            let item = item.map_err(io_at(&self.dir))?;
            if item
                .file_name()
                .to_string_lossy()
                .starts_with(STAGING_PREFIX)
            {
                let path = item.path();
                fs::remove_dir_all(&path).map_err(io_at(&path))?;
            }
        }
        Ok(())
    }

    /// The packages installed in this root.
    pub fn installed(&self) -> BTreeMap<String, PackageManifest> {
        installed(&self.dir)
    }

    /// A new staging folder for this command.
    pub fn stage(&self) -> Result<Staging, StoreError> {
        let dir = self
            .dir
            .join(format!("{STAGING_PREFIX}{}", std::process::id()));
        fs::create_dir(&dir).map_err(io_at(&dir))?;
        let downloads = dir.join("downloads");
        let packages = dir.join("packages");
        for d in [&downloads, &packages] {
            fs::create_dir(d).map_err(io_at(d))?;
        }
        Ok(Staging {
            dir,
            downloads,
            packages,
            ready: Vec::new(),
        })
    }

    /// Removes package `name`'s folder (renamed away first, so it goes at once).
    pub fn remove(&self, name: &str) -> Result<(), StoreError> {
        let target = self.dir.join(name);
        if !target.exists() {
            return Ok(());
        }
        let away = self.dir.join(format!(
            "{STAGING_PREFIX}{}-removed-{name}",
            std::process::id()
        ));
        fs::rename(&target, &away).map_err(io_at(&target))?;
        fs::remove_dir_all(&away).map_err(io_at(&away))
    }
}

/// The packages installed in root `dir`, by name (folders with a readable manifest).
pub fn installed(dir: &Path) -> BTreeMap<String, PackageManifest> {
    let mut found = BTreeMap::new();
    let Ok(items) = fs::read_dir(dir) else {
        return found;
    };
    for item in items.flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "plugins" {
            continue;
        }
        if let Ok(m) = PackageManifest::read(&item.path().join(MANIFEST_FILE)) {
            found.insert(name, m);
        }
    }
    found
}

/// Packages being prepared; removed with what it holds when dropped.
pub struct Staging {
    dir: PathBuf,
    downloads: PathBuf,
    packages: PathBuf,
    ready: Vec<String>,
}

impl Staging {
    /// Where `entry`'s archive is downloaded to.
    pub fn download_path(&self, entry: &Entry) -> PathBuf {
        self.downloads
            .join(format!("{}-{}.tar.gz", entry.name, entry.version))
    }

    /// Checks the downloaded archive of `entry` against its sha256 and size, then unpacks it.
    pub fn add(&mut self, entry: &Entry) -> Result<(), StoreError> {
        let path = self.download_path(entry);
        let bytes = assay_files::read_capped(&path, entry.size.min(Limits::default().bytes))
            .map_err(|e| StoreError::Io(path.clone(), io::Error::other(e.to_string())))?;
        let actual = archive::hex_sha256(&bytes);
        if actual != entry.sha256 {
            return Err(StoreError::Digest {
                name: entry.name.clone(),
                version: entry.version.to_string(),
                expected: entry.sha256.clone(),
                actual,
            });
        }
        let fail = |message: String| StoreError::Archive {
            name: entry.name.clone(),
            version: entry.version.to_string(),
            message,
        };
        archive::unpack(&bytes, &entry.name, &self.packages, Limits::default())
            .map_err(|e| fail(e.to_string()))?;
        let manifest = PackageManifest::read(&self.packages.join(&entry.name).join(MANIFEST_FILE))
            .map_err(|e| fail(e.to_string()))?;
        if manifest.name != entry.name {
            return Err(fail(format!(
                "the archive holds package '{}'",
                manifest.name
            )));
        }
        if manifest.version != entry.version {
            return Err(fail(format!(
                "the archive holds version {}",
                manifest.version
            )));
        }
        self.ready.push(entry.name.clone());
        Ok(())
    }

    /// Swaps every staged package into `root`, one atomic exchange each, then removes the old
    /// folders with the staging folder.
    pub fn commit(self, root: &Root) -> Result<(), StoreError> {
        for name in &self.ready {
            let staged = self.packages.join(name);
            let target = root.dir.join(name);
            swap_in(&staged, &target)?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Puts `staged` at `target`: exchanged with the folder there (which is left at `staged`), or
/// renamed when there is none.
fn swap_in(staged: &Path, target: &Path) -> Result<(), StoreError> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| StoreError::Io(p.to_owned(), io::Error::other("a NUL in the path")))
    };
    let (from, to) = (c(staged)?, c(target)?);
    let flags = if target.exists() {
        libc::RENAME_EXCHANGE
    } else {
        libc::RENAME_NOREPLACE
    };
    // SAFETY: two NUL-terminated paths that live across the call.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if done == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
        return Err(StoreError::Io(target.to_owned(), e));
    }
    // A file system without exchange: the old folder steps aside first (a moment without it).
    if target.exists() {
        let aside = staged.with_extension("old");
        fs::rename(target, &aside).map_err(io_at(target))?;
        fs::rename(staged, target).map_err(io_at(target))?;
        fs::rename(&aside, staged).map_err(io_at(staged))
    } else {
        fs::rename(staged, target).map_err(io_at(target))
    }
}
