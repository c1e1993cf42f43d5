//! `crypto.hash_file(path, alg, opts)`: the digest of a file, read in bounded chunks.
//!
//! The file is read [`CHUNK`] bytes at a time on a blocking thread of the plugin's runtime,
//! so a 5 GB image hashes in constant memory (nothing of it reaches Lua) and the calling
//! coroutine waits while others run, as `sha256sum` would. Only regular files are hashed: a
//! FIFO or a device (`/dev/zero`) would block or never end, and is refused by name, without
//! waiting for a FIFO's writer (`cannot read /tmp/f: it is a FIFO, not a regular file`). When the
//! host drops the call the read stops at the next chunk; a task cancelled with `task:cancel()`
//! does not drop its plugin call today (the host keeps it), so its hash runs to the end, and
//! the process's exit ends it in any case. Errors name the path: `crypto.hash_file: cannot read /x: No such file or
//! directory (os error 2)`.

use std::io::{ErrorKind, Read as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use assay_sdk::{Args, Error, Result, Value};

use crate::encoding::Encoding;
use crate::hash::{Algorithm, alg_and_options};

/// Bytes read per step: large enough that the system calls cost nothing next to the hashing,
/// small enough to be nothing next to the memory limit.
pub const CHUNK: usize = 256 * 1024;

/// `crypto.hash_file(path, alg, opts)`: the arguments are read on the Lua thread, the file on
/// a blocking thread.
pub fn hash_file(args: Args) -> impl Future<Output = Result<Value>> + Send + 'static {
    let read: Result<(PathBuf, Algorithm, Encoding)> = (|| {
        args.at_most(3, 0)?;
        let path = PathBuf::from(args.str(1, "path")?);
        let (alg, opts) = alg_and_options(&args, 2)?;
        Ok((path, alg, Encoding::from_options(&opts)?))
    })();
    async move {
        let (path, alg, encoding) = read?;
        let abandoned = Abandoned::default();
        let flag = abandoned.0.clone();
        let shown = path.display().to_string();
        let digest = assay_sdk::tokio::task::spawn_blocking(move || digest_file(&path, alg, &flag))
            .await
            .map_err(|e| Error::new(format!("cannot hash {shown}: {e}")))??;
        drop(abandoned);
        Ok(encoding.encode(digest))
    }
}

/// Set when the future that waits for the digest is dropped: the reading thread then stops.
#[derive(Default)]
struct Abandoned(Arc<AtomicBool>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The digest of the regular file at `path`, read [`CHUNK`] bytes at a time; stops early
/// (with an error nobody reads) once `abandoned` is set.
pub fn digest_file(
    path: &std::path::Path,
    alg: Algorithm,
    abandoned: &AtomicBool,
) -> Result<Vec<u8>> {
    let shown = path.display();
    let failed = |e: std::io::Error| Error::new(format!("cannot read {shown}: {e}"));
    // Opened without blocking and checked on the descriptor: a FIFO is refused by name
    // instead of waiting for a writer, and the file read is the file checked.
    let (mut file, _) =
        assay_sdk::files::open_regular(path).map_err(|e| Error::new(e.to_string()))?;
    let mut hasher = alg.hasher();
    let mut buffer = vec![0u8; CHUNK];
    loop {
        if abandoned.load(Ordering::Acquire) {
            return Err(Error::new(format!("hashing {shown} was abandoned")));
        }
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(failed(e)),
        }
    }
    Ok(hasher.finish())
}
