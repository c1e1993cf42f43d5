//! Reading a file whose path came from outside: a script's argument, a manifest, an option
//! such as `ca_cert`, the environment.
//!
//! Such a path may name anything: `/dev/zero` (endless), `/dev/stdin` or a FIFO (waits
//! forever for a writer), a symlink to either, a 10 GB log. [`read_regular`] reads only a
//! regular file (after following symlinks) and never more than a cap the caller chooses, so a
//! wrong or hostile path is a clear error instead of a hang or an unbounded allocation.
//!
//! The file is opened non-blocking (opening a FIFO without a writer would block) and its
//! type is checked on the open descriptor, so a path swapped between a check and the open
//! cannot slip through.
//!
//! [`special_for_writing`] is the other direction: a path about to be replaced by an atomic
//! write (temporary file, rename) that names a character device or a FIFO (`/dev/null`,
//! `/dev/stdout`, a named pipe) is written in place instead, as `> /dev/null` and
//! `curl -o /dev/null` do; replacing it would put a regular file where the device was.
//!
//! [`read_capped`] is for the one place a stream is wanted: the script a user names on the
//! command line may be a pipe (`assay <(generate)`); it is still never read past its cap.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why a file could not be read; every message names the path.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}: it is {kind}, not a regular file", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("cannot read {}: larger than {}", path.display(), describe_size(*max))]
    TooLarge { path: PathBuf, max: u64 },
}

impl ReadError {
    /// The underlying I/O error's kind, when there is one (`NotFound` and the like).
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            ReadError::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// Whether the file was larger than the most the caller would read.
    pub fn is_too_large(&self) -> bool {
        matches!(self, ReadError::TooLarge { .. })
    }
}

/// `1048576` -> `1 MiB`, for messages.
pub fn describe_size(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// The whole content of the regular file at `path` (symlinks followed), at most `max` bytes.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let (file, meta) = open(path)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
            kind: kind_of(&meta.file_type()),
        });
    }
    if meta.len() > max {
        return Err(too_large(path, max));
    }
    read_at_most(file, path, max, meta.len())
}

/// The regular file at `path` (symlinks followed), opened for reading in blocking mode, and its
/// metadata: for a caller that streams it (an upload, a digest). A FIFO, a device, a socket or
/// a directory is refused by name without blocking: the type is read from the descriptor
/// opened non-blocking, so the file streamed is the file checked.
pub fn open_regular(path: &Path) -> Result<(File, std::fs::Metadata), ReadError> {
    let (file, meta) = open(path)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
            kind: kind_of(&meta.file_type()),
        });
    }
    set_blocking(&file).map_err(|source| ReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok((file, meta))
}

/// When `path` (symlinks followed by the kernel, so `/dev/stdout` reaches the descriptor it
/// names) is a character device or a FIFO: that file opened for writing, to be written in place
/// (`/dev/null`, a terminal, a pipe). `None` when it is a regular file or does not exist: the
/// caller replaces it atomically. A directory, a block device or a socket is an error naming
/// its type (a block device is never overwritten by a script's write).
///
/// A FIFO is opened without waiting for a reader: with none, the error says so, where a plain
/// open would block the caller (and the runtime with it) until one comes. Once open the file
/// is in blocking mode: a slow reader slows the writer, as with `>`.
pub fn special_for_writing(path: &Path) -> std::io::Result<Option<File>> {
    use std::io::{Error, ErrorKind};
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(None);
    }
    if kind.is_dir() {
        return Err(Error::new(ErrorKind::IsADirectory, "it is a directory"));
    }
    if !kind.is_char_device() && !kind.is_fifo() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "it is {}; only a regular file, a character device or a FIFO is written",
                kind_of(&kind)
            ),
        ));
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ENXIO) && kind.is_fifo() {
                Error::new(ErrorKind::BrokenPipe, "it is a FIFO with no reader")
            } else {
                e
            }
        })?;
    set_blocking(&file)?;
    Ok(Some(file))
}

/// Like [`read_regular`], as UTF-8 text.
pub fn read_regular_text(path: &Path, max: u64) -> Result<String, ReadError> {
    let bytes = read_regular(path, max)?;
    String::from_utf8(bytes).map_err(|_| ReadError::Io {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"),
    })
}

/// The content of `path` whatever its type (a pipe included), at most `max` bytes: for the
/// script a user names on the command line. A directory is refused.
pub fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let (file, meta) = open(path)?;
    // Read with ordinary blocking reads (a FIFO nobody writes to reads as empty).
    set_blocking(&file).map_err(|source| ReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_dir() {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
            kind: "a directory",
        });
    }
    let hint = if meta.is_file() { meta.len() } else { 0 };
    if hint > max {
        return Err(too_large(path, max));
    }
    read_at_most(file, path, max, hint)
}

/// Opens `path` without waiting for a writer (a FIFO would block a plain open), and reads
/// its type from the open descriptor.
fn open(path: &Path) -> Result<(File, std::fs::Metadata), ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    Ok((file, meta))
}

fn set_blocking(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: plain fcntl calls on a descriptor this function's caller owns.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn too_large(path: &Path, max: u64) -> ReadError {
    ReadError::TooLarge {
        path: path.to_owned(),
        max,
    }
}

/// Reads to the end, failing as soon as more than `max` bytes arrive (a file can grow while it
/// is read, and a device has no size). `hint` sizes the buffer; it is never trusted beyond 1 MiB.
fn read_at_most(file: File, path: &Path, max: u64, hint: u64) -> Result<Vec<u8>, ReadError> {
    let reserve = usize::try_from(hint.min(max).min(1 << 20)).unwrap_or(0);
    let mut out = Vec::with_capacity(reserve);
    file.take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
    if out.len() as u64 > max {
        return Err(too_large(path, max));
    }
    Ok(out)
}

fn kind_of(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_within_its_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"hello").expect("write");
        assert_eq!(read_regular(&path, 5).expect("fits"), b"hello");
        let err = read_regular(&path, 4).expect_err("too large");
        assert_eq!(
            err.to_string(),
            format!("cannot read {}: larger than 4 bytes", path.display())
        );
    }

    #[test]
    fn refuses_devices_fifos_and_folders_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read_regular(Path::new("/dev/zero"), 1 << 20).expect_err("device");
        assert!(err.to_string().contains("a character device"), "{err}");
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = read_regular(&fifo, 1 << 20).expect_err("fifo");
        assert!(err.to_string().contains("a FIFO"), "{err}");
        let err = read_regular(dir.path(), 1 << 20).expect_err("folder");
        assert!(matches!(
            err,
            ReadError::NotRegular { .. } | ReadError::Io { .. }
        ));
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
        let err = read_regular(&link, 1 << 20).expect_err("symlink to a device");
        assert!(err.to_string().contains("a character device"), "{err}");
    }

    #[test]
    fn open_regular_refuses_a_fifo_without_blocking_and_streams_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = open_regular(&fifo).expect_err("fifo");
        assert!(err.to_string().contains("it is a FIFO"), "{err}");
        let err = open_regular(Path::new("/dev/null")).expect_err("device");
        assert!(err.to_string().contains("a character device"), "{err}");
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"hello").expect("write");
        let (mut file, meta) = open_regular(&path).expect("regular");
        assert_eq!(meta.len(), 5);
        let mut text = String::new();
        file.read_to_string(&mut text).expect("read");
        assert_eq!(text, "hello");
    }

    #[test]
    fn special_files_are_written_in_place_and_others_replaced() {
        use std::io::Write as _;
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(
            special_for_writing(&dir.path().join("new"))
                .expect("new")
                .is_none()
        );
        let regular = dir.path().join("a.txt");
        std::fs::write(&regular, b"x").expect("write");
        assert!(special_for_writing(&regular).expect("regular").is_none());
        let mut null = special_for_writing(Path::new("/dev/null"))
            .expect("/dev/null")
            .expect("in place");
        null.write_all(b"gone").expect("write");
        let kind = std::fs::metadata("/dev/null").expect("stat").file_type();
        assert!(kind.is_char_device());
        let err = special_for_writing(dir.path()).expect_err("folder");
        assert_eq!(err.to_string(), "it is a directory");
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = special_for_writing(&fifo).expect_err("no reader");
        assert_eq!(err.to_string(), "it is a FIFO with no reader");
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .expect("reader");
        let mut writer = special_for_writing(&fifo).expect("fifo").expect("in place");
        writer.write_all(b"through").expect("write");
        drop(writer);
        let mut got = String::new();
        set_blocking(&reader).expect("blocking");
        (&reader).read_to_string(&mut got).expect("read");
        assert_eq!(got, "through");
    }

    #[test]
    fn capped_reads_stop_at_the_cap_on_endless_input() {
        let err = read_capped(Path::new("/dev/zero"), 1 << 16).expect_err("endless");
        assert!(matches!(err, ReadError::TooLarge { max, .. } if max == 1 << 16));
    }

    #[test]
    fn missing_files_keep_their_kind() {
        let err = read_regular(Path::new("/nonexistent/x"), 10).expect_err("missing");
        assert_eq!(err.io_kind(), Some(std::io::ErrorKind::NotFound));
    }
}
