//! `opts.output = path`: the response body streamed to a file, never held in memory.
//!
//! The body is written to a temporary file in the same folder (`.<name>.<random>.part`), which
//! is flushed to disk and renamed over `path` once the last byte has arrived: readers see the
//! old file or the whole new one, never half of it. A failure at any point (the connection
//! drops, the server sends less than its `content-length`, the disk fills, the time limit
//! fires, the call is cancelled) removes the temporary file and leaves `path` as it was.
//!
//! As with `curl -o`, the body is written whatever the status: a 404's page lands in the file
//! too, and `resp.ok`/`resp.status` say what it is. `max_body` bounds the file only when given
//! (the body is not in memory, so the memory limit does not bound it); the call's `timeout`
//! (60 s by default) covers the whole download: pass a larger one, or `false`, for large files.

use std::path::{Path, PathBuf};

use assay_sdk::{Error, Result, Value};
use tokio::io::AsyncWriteExt as _;

use super::errors::{self, Context};

/// Writes `response`'s body to `path` (at most `max_body` bytes when given) and returns the
/// response table with `bytes` instead of `body`.
pub(crate) async fn save(
    mut response: reqwest::Response,
    path: &Path,
    max_body: Option<u64>,
    cx: &Context<'_>,
) -> Result<Value> {
    let mut out = super::response::head(&response);
    if let (Some(max), Some(announced)) = (max_body, response.content_length())
        && announced > max
    {
        return Err(too_large(cx, max));
    }
    let mut temp = TempFile::create(path).await?;
    let mut written: u64 = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| errors::describe(&e, cx))?
    {
        written += chunk.len() as u64;
        if max_body.is_some_and(|max| written > max) {
            return Err(too_large(cx, max_body.unwrap_or_default()));
        }
        temp.write(&chunk).await?;
    }
    temp.commit().await?;
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

/// A temporary file beside the target; removed on drop unless committed.
struct TempFile {
    file: Option<tokio::fs::File>,
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl TempFile {
    async fn create(target: &Path) -> Result<TempFile> {
        let shown = target.display();
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
        let mut random = [0u8; 6];
        getrandom_bytes(&mut random);
        let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let temp = dir.join(format!(".{}.{suffix}.part", name.to_string_lossy()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .await
            .map_err(|e| Error::new(format!("output: cannot write {shown}: {e}")))?;
        Ok(TempFile {
            file: Some(file),
            temp,
            target: target.to_path_buf(),
            committed: false,
        })
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::new("output: file closed"))?;
        file.write_all(bytes).await.map_err(|e| self.failed(e))
    }

    /// Flushes the file to disk and renames it over the target.
    async fn commit(mut self) -> Result<()> {
        if let Some(mut file) = self.file.take() {
            file.flush().await.map_err(|e| self.failed(e))?;
            file.sync_all().await.map_err(|e| self.failed(e))?;
        }
        tokio::fs::rename(&self.temp, &self.target)
            .await
            .map_err(|e| self.failed(e))?;
        self.committed = true;
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
        }
    }
}

/// Random bytes for the temporary name (uniqueness, not secrecy: `create_new` refuses a
/// clash); the clock and the address of a local mixed, as `getrandom` is not a dependency.
fn getrandom_bytes(out: &mut [u8]) {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let bits = hasher.finish().to_le_bytes();
    for (slot, byte) in out.iter_mut().zip(bits) {
        *slot = byte;
    }
}
