//! `opts.output = path`: the response body streamed to a file, never held in memory.
//!
//! The body is written to a temporary file in the same folder (`.<name>.<random>.part`), which
//! is flushed to disk and renamed over `path` once the last byte has arrived: readers see the
//! old file or the whole new one, never half of it. A failure at any point (the connection
//! drops, the server sends less than its `content-length`, the disk fills, the time limit
//! fires) removes the temporary file and leaves `path` as it was. A task cancelled with
//! `task:cancel()` does not stop its plugin call today (the host keeps it running), so its
//! download goes on to its end and then replaces `path` whole, as if it had not been cancelled.
//!
//! A target that is a character device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe)
//! is written in place, as `curl -o /dev/null` and `> /dev/null` do, never replaced: renaming
//! a temporary file over `/dev/null` would put a regular file where the device was. There is
//! no temporary file then, so a failure half-way leaves what was written; a FIFO nobody reads
//! is an error at once (`it is a FIFO with no reader`), not a wait. A directory, a block device
//! or a socket is an error naming it.
//!
//! A target that is a symlink is written through, as `fs.write` and `curl -o` do: the file it
//! leads to is replaced (its temporary file beside it) and the link stays a link.
//!
//! The process may also end while a download is under way (`os.exit`, `--timeout`, a failed
//! script): temporary files still open then are removed at exit (an `atexit` hook; only a
//! process killed outright, by SIGKILL or a default SIGTERM, can leave one behind, named
//! `.<name>.<random>.part` beside the target).
//!
//! As with `curl -o`, the body is written whatever the status: a 404's page lands in the file
//! too, and `resp.ok`/`resp.status` say what it is. `max_body` bounds the file only when given
//! (the body is not in memory, so the memory limit does not bound it); the call's `timeout`
//! (60 s by default) covers the whole download: pass a larger one, or `false`, for large files.

use std::path::{Path, PathBuf};

use assay_sdk::{Error, Result, Value};
use tokio::io::AsyncWriteExt as _;

use super::decode::{Body, Plan};
use super::errors::{self, Context};
use crate::budget::Budget;

/// Writes `response`'s body to `path` (at most `max_body` bytes when given) and returns the
/// response table with `bytes` instead of `body`.
pub(crate) async fn save(
    response: reqwest::Response,
    plan: Option<Plan>,
    path: &Path,
    max_body: Option<u64>,
    budget: Budget,
    cx: &Context<'_>,
) -> Result<Value> {
    let mut out = super::response::head(&response);
    let mut body = Body::new(response, plan, budget);
    if let (Some(max), Some(announced)) = (max_body, body.announced())
        && announced > max
    {
        return Err(too_large(cx, max));
    }
    let mut sink = Sink::open(path).await?;
    let mut written: u64 = 0;
    while let Some(chunk) = body.chunk(cx).await? {
        written += chunk.len() as u64;
        if max_body.is_some_and(|max| written > max) {
            return Err(too_large(cx, max_body.unwrap_or_default()));
        }
        sink.write(&chunk).await?;
    }
    sink.finish().await?;
    out.push(
        "bytes".into(),
        Value::Int(i64::try_from(written).unwrap_or(i64::MAX)),
    );
    Ok(Value::Map(out))
}

fn too_large(cx: &Context<'_>, max: u64) -> Error {
    Error::new(format!(
        "the response body from {} is larger than max_body ({max} bytes)",
        errors::authority(cx.url)
    ))
}

/// Bytes gathered before one write: each write of a `tokio::fs::File` is a round trip to a
/// blocking thread, and the body arrives in chunks of a few KiB.
const WRITE_BUFFER: usize = 1 << 20;

/// Where a download goes: a temporary file renamed over the target, or the target itself when
/// it is a character device or a FIFO.
pub(crate) enum Sink {
    Replace(TempFile),
    InPlace {
        file: tokio::fs::File,
        pending: Vec<u8>,
        shown: String,
    },
}

impl Sink {
    pub(crate) async fn open(target: &Path) -> Result<Sink> {
        let shown = target.display().to_string();
        let special = assay_sdk::files::special_for_writing(target).map_err(|e| {
            if e.kind() == std::io::ErrorKind::IsADirectory {
                Error::new(format!("output: {shown} is a directory"))
            } else {
                Error::new(format!("output: cannot write {shown}: {e}"))
            }
        })?;
        Ok(match special {
            Some(file) => Sink::InPlace {
                file: tokio::fs::File::from_std(file),
                pending: Vec::with_capacity(WRITE_BUFFER),
                shown,
            },
            None => Sink::Replace(TempFile::create(target).await?),
        })
    }

    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match self {
            Sink::Replace(temp) => temp.write(bytes).await,
            Sink::InPlace {
                file,
                pending,
                shown,
            } => {
                pending.extend_from_slice(bytes);
                if pending.len() >= WRITE_BUFFER {
                    write_in_place(file, pending, shown).await?;
                }
                Ok(())
            }
        }
    }

    pub(crate) async fn finish(self) -> Result<()> {
        match self {
            Sink::Replace(temp) => temp.commit().await,
            Sink::InPlace {
                mut file,
                mut pending,
                shown,
            } => {
                write_in_place(&mut file, &mut pending, &shown).await?;
                // No fsync: a device or a pipe has nothing to flush to disk.
                file.flush()
                    .await
                    .map_err(|e| Error::new(format!("output: cannot write {shown}: {e}")))
            }
        }
    }
}

async fn write_in_place(
    file: &mut tokio::fs::File,
    pending: &mut Vec<u8>,
    shown: &str,
) -> Result<()> {
    let written = file.write_all(pending).await;
    pending.clear();
    written.map_err(|e| Error::new(format!("output: cannot write {shown}: {e}")))
}

/// A temporary file beside the target; removed on drop unless committed.
pub(crate) struct TempFile {
    file: Option<tokio::fs::File>,
    pending: Vec<u8>,
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl TempFile {
    async fn create(target: &Path) -> Result<TempFile> {
        let shown = target.display();
        let target = &through_links(target).await;
        let name = target
            .file_name()
            .ok_or_else(|| Error::new(format!("output: {shown} does not name a file")))?;
        if tokio::fs::metadata(target).await.is_ok_and(|m| m.is_dir()) {
            return Err(Error::new(format!("output: {shown} is a directory")));
        }
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = dir.join(format!(
            ".{}.{}.part",
            name.to_string_lossy(),
            unique_suffix()
        ));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .await
            .map_err(|e| Error::new(format!("output: cannot write {shown}: {e}")))?;
        at_exit::track(&temp);
        Ok(TempFile {
            file: Some(file),
            pending: Vec::with_capacity(WRITE_BUFFER),
            temp,
            target: target.to_path_buf(),
            committed: false,
        })
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= WRITE_BUFFER {
            self.write_pending().await?;
        }
        Ok(())
    }

    async fn write_pending(&mut self) -> Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::new("output: file closed"))?;
        let written = file.write_all(&self.pending).await;
        self.pending.clear();
        written.map_err(|e| self.failed(e))
    }

    /// Flushes the file to disk and renames it over the target.
    async fn commit(mut self) -> Result<()> {
        self.write_pending().await?;
        if let Some(mut file) = self.file.take() {
            file.flush().await.map_err(|e| self.failed(e))?;
            file.sync_all().await.map_err(|e| self.failed(e))?;
        }
        tokio::fs::rename(&self.temp, &self.target)
            .await
            .map_err(|e| self.failed(e))?;
        self.committed = true;
        at_exit::forget(&self.temp);
        Ok(())
    }

    fn failed(&self, e: std::io::Error) -> Error {
        Error::new(format!(
            "output: cannot write {}: {e}",
            self.target.display()
        ))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            // Synchronously: the runtime may be going away (a cancelled call), and a left-over
            // temporary file is what this type exists to prevent.
            drop(self.file.take());
            let _ = std::fs::remove_file(&self.temp);
            at_exit::forget(&self.temp);
        }
    }
}

/// Temporary files of downloads under way, removed if the process exits first.
mod at_exit {
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, Once};

    static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    static HOOK: Once = Once::new();

    pub(super) fn track(temp: &Path) {
        HOOK.call_once(|| {
            // SAFETY: registers a plain function; plugins are never unloaded, so it stays valid
            // until exit.
            unsafe { libc::atexit(remove_pending) };
        });
        lock().push(temp.to_path_buf());
    }

    pub(super) fn forget(temp: &Path) {
        lock().retain(|p| p != temp);
    }

    fn lock() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
        PENDING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    extern "C" fn remove_pending() {
        // No unwinding out of an atexit hook: a panic here (it has none to raise) is dropped.
        let _ = std::panic::catch_unwind(|| {
            for temp in lock().drain(..) {
                let _ = std::fs::remove_file(temp);
            }
        });
    }
}

/// The path a chain of symlinks at `path` leads to (`path` itself when it is no link; the
/// last link's target when the chain is dangling, so the download creates that file).
async fn through_links(path: &Path) -> PathBuf {
    let mut path = path.to_path_buf();
    // As the kernel's own limit on a chain (ELOOP): a loop is left for the open to refuse.
    for _ in 0..40 {
        match tokio::fs::symlink_metadata(&path).await {
            Ok(meta) if meta.file_type().is_symlink() => {}
            _ => break,
        }
        let Ok(link) = tokio::fs::read_link(&path).await else {
            break;
        };
        path = match path.parent() {
            Some(dir) if link.is_relative() => dir.join(link),
            _ => link,
        };
    }
    path
}

/// 12 hex digits for the temporary name: unique enough that two downloads to one target do
/// not meet (`create_new` refuses a clash rather than share a file), not a secret. std's
/// per-process random hash keys, mixed with the clock.
fn unique_suffix() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}
